//! Run directories read back as records: what `unigen runs` lists and `unigen report` draws.
//! Reading never writes, and a damaged file is an error naming it (a run killed mid-append
//! may leave its last metrics line unfinished: that line alone is skipped).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::train::{CHECKPOINT_FILE, EpochMetrics, METRICS_FILE, PICTURES_DIR, RUN_FILE, RunSpec, checkpoint};

/// The file `unigen eval` writes into a run directory.
pub const EVAL_FILE: &str = "eval.json";

/// One run directory, as far as it got.
#[derive(Debug, Clone)]
pub struct Run {
    pub dir: PathBuf,
    pub spec: RunSpec,
    /// `run.toml` as written, for showing.
    pub spec_text: String,
    /// One entry per finished epoch (`metrics.jsonl`).
    pub epochs: Vec<EpochMetrics>,
    /// `unigen eval`'s result, if the run was scored.
    pub eval: Option<Value>,
    /// The step of the last checkpoint (from its header; the contents are not verified here).
    pub checkpoint_step: Option<u64>,
    /// Epoch-end pictures by kind (`samples`, `reconstructions`, ...), each `(epoch, file)` in order.
    pub pictures: BTreeMap<String, Vec<(usize, PathBuf)>>,
}

/// Score names in the order a run's headline metric is chosen: first the stored evaluation's,
/// then the last epoch's. Each model family has its own natural headline.
const HEADLINES: [&str; 10] = [
    "test_iwae",
    "test_elbo",
    "inception_score",
    "modes_captured",
    "target_accuracy",
    "translated_accuracy",
    "test_accuracy",
    "code_accuracy",
    "cycle_error",
    "jsd",
];

impl Run {
    pub fn read(dir: &Path) -> Result<Run> {
        let (spec, spec_text) = RunSpec::read_with_text(dir)?;
        let epochs = read_metrics(&dir.join(METRICS_FILE))?;
        let eval_path = dir.join(EVAL_FILE);
        let eval = match std::fs::read_to_string(&eval_path) {
            Ok(text) => Some(serde_json::from_str(&text).map_err(|e| Error::Config {
                path: eval_path.display().to_string(),
                problem: format!("not a unigen eval result: {e}"),
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(&eval_path, e)),
        };
        Ok(Run {
            dir: dir.to_path_buf(),
            checkpoint_step: checkpoint::peek_step(&dir.join(CHECKPOINT_FILE)),
            pictures: pictures(&dir.join(PICTURES_DIR)),
            spec,
            spec_text,
            epochs,
            eval,
        })
    }

    /// The run's headline score `(name, value, where from)`: from `eval.json` if scored, else the
    /// last epoch's end-of-epoch scores.
    pub fn headline(&self) -> Option<(&'static str, f64, &'static str)> {
        let from_eval = self.eval.as_ref().and_then(|v| HEADLINES.iter().find_map(|k| v.get(*k)?.as_f64().map(|x| (*k, x, "eval"))));
        from_eval.or_else(|| {
            let last = self.epochs.last()?;
            HEADLINES.iter().find_map(|k| last.scores.get(*k).map(|x| (*k, *x, "last epoch")))
        })
    }

    /// The epochs the run will have when done: `epochs`, or fewer where `max_steps` ends it
    /// (known once the first epoch has finished and given the steps per epoch).
    pub fn planned_epochs(&self) -> usize {
        let c = &self.spec.config;
        match self.epochs.first() {
            Some(first) if c.max_steps > 0 && first.step > 0 => {
                let per_epoch = first.step / first.epoch as u64;
                c.epochs.min(c.max_steps.div_ceil(per_epoch.max(1)) as usize)
            }
            _ => c.epochs,
        }
    }

    /// Wall time of the finished epochs, in seconds.
    pub fn wall_s(&self) -> Option<f64> {
        self.epochs.last().map(|m| m.wall_s)
    }

    /// Training examples per second, averaged over the finished epochs.
    pub fn examples_per_s(&self) -> Option<f64> {
        (!self.epochs.is_empty()).then(|| self.epochs.iter().map(|m| m.examples_per_s).sum::<f64>() / self.epochs.len() as f64)
    }
}

/// Every run directory (one holding `run.toml`) under `root`, `root` included, sorted by path.
/// Symbolic links are not followed, so a link cycle cannot hang the walk.
pub fn find(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if dir.join(RUN_FILE).is_file() {
            found.push(dir.clone());
            continue; // a run's own folders (pictures) hold no runs
        }
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The lines of `metrics.jsonl`; a missing file is a run with no finished epoch. Lines written
/// before the named losses existed get their one loss, `train_loss`, under that name.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochMetrics>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let complete = if text.ends_with('\n') { text.as_str() } else { text.rsplit_once('\n').map_or("", |(done, _)| done) };
    complete
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut m: EpochMetrics = serde_json::from_str(line)
                .map_err(|e| Error::Config { path: format!("{} line {}", path.display(), i + 1), problem: format!("not a metrics line: {e}") })?;
            if m.losses.is_empty() {
                m.losses.insert("train_loss".into(), m.train_loss);
            }
            Ok(m)
        })
        .collect()
}

/// `pictures/KIND_NNN.png` files, grouped by kind and ordered by epoch.
fn pictures(dir: &Path) -> BTreeMap<String, Vec<(usize, PathBuf)>> {
    let mut by_kind: BTreeMap<String, Vec<(usize, PathBuf)>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".png") else { continue };
        let Some((kind, epoch)) = stem.rsplit_once('_') else { continue };
        if let Ok(epoch) = epoch.parse() {
            by_kind.entry(kind.to_string()).or_default().push((epoch, entry.path()));
        }
    }
    by_kind.values_mut().for_each(|v| v.sort());
    by_kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_last_metrics_line_is_skipped_but_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METRICS_FILE);
        let line = r#"{"epoch":1,"step":10,"train_loss":1.5,"losses":{"loss":1.5},"examples_per_s":100.0,"wall_s":2.0,"test_elbo":-3.0}"#;
        std::fs::write(&path, format!("{line}\n{{\"epoch\":2,\"st")).unwrap();
        let read = read_metrics(&path).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].scores["test_elbo"], -3.0);
        std::fs::write(&path, format!("{{\"epoch\":2,\"st\n{line}\n")).unwrap();
        let e = read_metrics(&path).unwrap_err().to_string();
        assert!(e.contains("metrics.jsonl line 1") && e.contains("not a metrics line"), "{e}");
    }

    #[test]
    fn runs_are_found_below_the_root_and_pictures_grouped_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        for run in ["a", "b/c", "b/d"] {
            std::fs::create_dir_all(dir.path().join(run).join("pictures")).unwrap();
            std::fs::write(dir.path().join(run).join(RUN_FILE), "").unwrap();
        }
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        let found: Vec<String> = find(dir.path()).unwrap().iter().map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string()).collect();
        assert_eq!(found, ["a", "b/c", "b/d"]);

        let pics = dir.path().join("a/pictures");
        for f in ["samples_002.png", "samples_010.png", "samples_001.png", "code1_003.png", "notes.txt", "odd.png"] {
            std::fs::write(pics.join(f), "").unwrap();
        }
        let p = pictures(&pics);
        assert_eq!(p.keys().collect::<Vec<_>>(), ["code1", "samples"]);
        assert_eq!(p["samples"].iter().map(|(e, _)| *e).collect::<Vec<_>>(), [1, 2, 10]);
    }
}
