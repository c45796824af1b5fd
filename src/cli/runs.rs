//! `unigen runs`: the runs under a directory as a table.

use std::path::PathBuf;

use serde_json::json;

use unigen::runs::{self, Run};
use unigen::train::{CHECKPOINT_FILE, checkpoint};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory to search for runs (any depth), or a run directory.
    #[arg(default_value = "runs")]
    pub dir: PathBuf,
    /// Also read every checkpoint whole, check its content hash, and show the SHA-256 of its
    /// training state (weights and optimiser state): equal digests, bit-identical runs.
    #[arg(long)]
    pub verify: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let found: Vec<Run> = runs::find(&a.dir)?.iter().map(|d| Run::read(d)).collect::<Result<_, _>>()?;
    // A damaged checkpoint stops the listing with its error: `--verify` is asked to find it.
    let states: Vec<Option<String>> = found
        .iter()
        .map(|r| -> anyhow::Result<Option<String>> {
            let path = r.dir.join(CHECKPOINT_FILE);
            Ok(if a.verify && path.exists() { Some(checkpoint::read(&path)?.state_sha256()) } else { None })
        })
        .collect::<Result<_, _>>()?;
    let rows: Vec<serde_json::Value> = found
        .iter()
        .zip(&states)
        .map(|(r, state)| {
            json!({
                "state_sha256": state,
                "run": r.name(&a.dir), "dir": r.dir, "model": r.spec.model.name(), "data": r.spec.data.label(),
                "seed": r.spec.seed, "epochs_done": r.epochs.len(), "epochs": r.planned_epochs(),
                "step": r.checkpoint_step, "wall_s": r.wall_s(), "examples_per_s": r.examples_per_s(),
                "headline": r.headline().map(|(k, v, from)| json!({ "metric": k, "value": v, "from": from })),
                "evaluated": r.eval.is_some(),
            })
        })
        .collect();
    super::emit(json!(rows), || {
        if found.is_empty() {
            println!("no runs under {}", a.dir.display());
            return;
        }
        let width = found.iter().map(|r| r.name(&a.dir).len()).max().unwrap_or(3).max(3);
        println!("{:<width$}  {:<14} {:<8} {:>4} {:>9} {:>8} {:>9}  headline", "run", "model", "data", "seed", "epochs", "step", "wall");
        for (r, state) in found.iter().zip(&states) {
            let data = match r.spec.data.toy() {
                Some(t) => t.name().to_string(),
                None => "mnist".to_string(),
            };
            let headline = r.headline().map_or("-".into(), |(k, v, from)| format!("{k} {v:.4} ({from})"));
            println!(
                "{:<width$}  {:<14} {:<8} {:>4} {:>9} {:>8} {:>9}  {}",
                r.name(&a.dir),
                r.spec.model.name(),
                data,
                r.spec.seed,
                format!("{}/{}", r.epochs.len(), r.planned_epochs()),
                r.checkpoint_step.map_or("-".into(), |s| s.to_string()),
                r.wall_s().map_or("-".into(), |s| format!("{s:.0} s")),
                headline
            );
            if let Some(s) = state {
                println!("{:<width$}  checkpoint verified, state sha256 {s}", "");
            }
        }
    })
}
