//! Run directories read back as records: what `unigen runs` lists and `unigen report` draws.
//! Reading never writes, and a damaged file is an error naming it (a run killed mid-append
//! may leave its last metrics line unfinished: that line alone is skipped).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::run::{CHECKPOINT_FILE, EpochMetrics, METRICS_FILE, PICTURES_DIR, RUN_FILE, RunSpec, checkpoint};

pub use crate::run::EVAL_FILE;
pub use crate::run::metrics::read_metrics;

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
    /// The steps the run makes in all, and per epoch, as its last checkpoint records them
    /// (absent from checkpoints written before these keys existed).
    pub total_steps: Option<u64>,
    pub steps_per_epoch: Option<u64>,
    /// Model selection stopped the run before its last step (`patience`).
    pub stopped_early: bool,
    /// Epoch-end pictures by kind (`samples`, `reconstructions`, ...), each `(epoch, file)` in order.
    pub pictures: BTreeMap<String, Vec<(usize, PathBuf)>>,
}

/// A run's headline score: which, its value, where it comes from (`eval` or `last epoch`) and on
/// how many examples or samples it was measured, so a partial evaluation is never shown as a
/// full one.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Headline {
    pub metric: &'static str,
    pub value: f64,
    pub from: &'static str,
    pub measured_on: Option<String>,
}

impl std::fmt::Display for Headline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:.4} ({}", self.metric, self.value, self.from)?;
        if let Some(on) = &self.measured_on {
            write!(f, "; {on}")?;
        }
        write!(f, ")")
    }
}

/// Score names in the order a run's headline metric is chosen: first the stored evaluation's,
/// then the last epoch's. Each model family has its own natural headline.
const HEADLINES: [&str; 12] = [
    "test_iwae",
    "test_elbo",
    "val_elbo",
    "inception_score",
    "stacked_modes",
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
        let meta = checkpoint::peek_meta(&dir.join(CHECKPOINT_FILE)).unwrap_or_default();
        let number = |k: &str| meta.get(k).and_then(|v| v.parse().ok());
        Ok(Run {
            dir: dir.to_path_buf(),
            checkpoint_step: number("step"),
            total_steps: number("total_steps"),
            steps_per_epoch: number("steps_per_epoch"),
            stopped_early: meta.contains_key("stopped_early"),
            pictures: pictures(&dir.join(PICTURES_DIR)),
            spec,
            spec_text,
            epochs,
            eval,
        })
    }

    /// The run's headline score: from `eval.json` if scored, else the last epoch's end-of-epoch
    /// scores; with the size of what it was measured on.
    pub fn headline(&self) -> Option<Headline> {
        let from_eval = self.eval.as_ref().and_then(|v| {
            HEADLINES.iter().find_map(|k| {
                let value = v.get(*k)?.as_f64()?;
                Some(Headline { metric: k, value, from: "eval", measured_on: eval_size(k, v) })
            })
        });
        from_eval.or_else(|| {
            let last = self.epochs.last()?;
            HEADLINES.iter().find_map(|k| {
                let value = *last.scores.get(*k)?;
                Some(Headline { metric: k, value, from: "last epoch", measured_on: self.epoch_size(k) })
            })
        })
    }

    /// What an end-of-epoch score is measured on (see [`crate::train::epoch_scores`]): model
    /// samples for mode coverage and the divergences, else the first test examples.
    fn epoch_size(&self, metric: &str) -> Option<String> {
        match metric {
            "modes_captured" | "jsd" => Some(format!("{} samples", crate::eval::modes::SAMPLES)),
            "stacked_modes" => Some(format!("{} samples", self.spec.config.epoch_eval_size)),
            _ if self.spec.config.validation > 0 => Some(format!("up to {} validation examples", self.spec.config.epoch_eval_size)),
            _ => Some(format!("up to {} test examples", self.spec.config.epoch_eval_size)),
        }
    }

    /// The epochs the run will have when done: `epochs`, or fewer where `max_steps` ends it.
    /// Exact once a checkpoint records the steps per epoch; before, estimated from the first
    /// whole epoch's line.
    pub fn planned_epochs(&self) -> usize {
        if self.stopped_early {
            return self.epochs_done();
        }
        let c = &self.spec.config;
        if let (Some(total), Some(per_epoch)) = (self.total_steps, self.steps_per_epoch) {
            return total.div_ceil(per_epoch.max(1)) as usize;
        }
        match self.epochs.iter().find(|m| !m.partial) {
            Some(first) if c.max_steps > 0 && first.step > 0 => {
                let per_epoch = first.step / first.epoch as u64;
                c.epochs.min(c.max_steps.div_ceil(per_epoch.max(1)) as usize)
            }
            _ => c.epochs,
        }
    }

    /// The epochs finished: whole epochs, and a last one that `max_steps` ended early once the run
    /// is done (a partial line kept from before an extension does not count twice).
    pub fn epochs_done(&self) -> usize {
        self.epochs.iter().filter(|m| !m.partial || Some(m.step) == self.total_steps).count()
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

/// What an `eval.json` score was measured on: `k` and the test examples for the bounds, the
/// sample count for the image and 2-D scores. `None` for results written before these were kept.
pub fn eval_size(metric: &str, eval: &Value) -> Option<String> {
    let get = |path: &[&str]| path.iter().try_fold(eval, |v, k| v.get(*k)).and_then(Value::as_u64);
    match metric {
        "test_iwae" => Some(format!("k {}, {} test examples", get(&["iwae_k"])?, get(&["n_test"])?)),
        "inception_score" | "frechet_distance" | "precision" | "recall" | "conditional_accuracy" | "stacked_modes" | "stacked_mode_kl" => {
            Some(format!("{} samples", get(&["protocol", "samples"])?))
        }
        "modes_captured" | "modes_any" | "high_quality" | "mode_kl" => Some(format!("{} samples", get(&["protocol", "coverage_samples"])?)),
        "forward_kl" | "reverse_kl" | "jsd" | "reverse_kl_exact" => {
            Some(format!("{} samples", get(&["protocol", "divergences", "samples"])?))
        }
        _ => Some(format!("{} test examples", get(&["n_test"])?)),
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
