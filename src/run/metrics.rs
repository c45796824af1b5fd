//! `metrics.jsonl`: one JSON line per epoch, appended as each ends, kept whole across resumes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub step: u64,
    /// Mean over the epoch of the model's first loss (a VAE's negative bound in nats per
    /// example; a GAN's discriminator loss).
    pub train_loss: f64,
    /// Mean over the epoch of every loss the model reports (`loss`; `d_loss`, `g_loss`).
    /// Absent from runs written before it existed, which still list and report.
    #[serde(default)]
    pub losses: BTreeMap<String, f64>,
    pub examples_per_s: f64,
    pub wall_s: f64,
    /// The line of an epoch that `max_steps` ended before its last step. If the run is later
    /// extended, the epoch's own line follows at its end; this one is kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// End-of-epoch scores: `test_elbo` (VAEs, on `epoch_eval_size` test examples);
    /// `modes_captured`, `modes_any`, `high_quality`, `mode_kl` (2-D data); `stacked_modes`,
    /// `stacked_mode_kl` (stacked MNIST).
    #[serde(flatten)]
    pub scores: BTreeMap<String, f64>,
}

pub fn append_metrics(path: &Path, m: &EpochMetrics) -> Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io(path, e))?;
    let line = serde_json::to_string(m).expect("metrics serialise");
    writeln!(f, "{line}").map_err(|e| Error::io(path, e))
}

/// Keeps the lines of a JSON-lines file (`metrics.jsonl`, `validation.jsonl`) written up to the
/// checkpoint's `step`, the state a resumed run starts from: lines written after it (a kill
/// between the line and the checkpoint) are written again, every earlier one is kept as it is.
/// Nothing is rewritten when nothing is dropped.
pub fn keep_metrics_until(path: &Path, step: u64) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let kept: String = text
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v["step"].as_u64().is_some_and(|s| s <= step)))
        .map(|l| format!("{l}\n"))
        .collect();
    if kept == text {
        return Ok(());
    }
    write_atomic(path, kept.as_bytes())
}

/// Appends one JSON line to `path`.
pub fn append_line(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io(path, e))?;
    writeln!(f, "{value}").map_err(|e| Error::io(path, e))
}

impl EpochMetrics {
    /// Every named loss and score, for a line of text: `d_loss 1.234  g_loss 0.876  jsd 0.012`.
    pub fn summary(&self) -> String {
        let losses = self.losses.iter().map(|(k, v)| format!("{k} {v:.3}"));
        let scores = self.scores.iter().map(|(k, v)| format!("{k} {v:.3}"));
        losses.chain(scores).collect::<Vec<_>>().join("  ")
    }
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
