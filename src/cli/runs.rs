//! `unigen runs`: the runs under a directory as a table. One unreadable run (or, with `--verify`,
//! one refused checkpoint) does not hide the others: it is shown with its error, and the command
//! then fails (exit status 3) so scripts notice.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

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

/// One run's row, or why it could not be read.
fn row(dir: &Path, verify: bool) -> Result<(Run, Option<String>), unigen::Error> {
    let run = Run::read(dir)?;
    let path = dir.join(CHECKPOINT_FILE);
    let state = if verify && path.exists() { Some(checkpoint::read(&path)?.state_sha256()) } else { None };
    Ok((run, state))
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let dirs = runs::find(&a.dir)?;
    let rows: Vec<(PathBuf, Result<(Run, Option<String>), unigen::Error>)> =
        dirs.iter().map(|d| (d.clone(), row(d, a.verify))).collect();
    let name = |d: &Path| d.strip_prefix(&a.dir).ok().filter(|p| !p.as_os_str().is_empty()).unwrap_or(d).display().to_string();
    let values: Vec<Value> = rows
        .iter()
        .map(|(d, r)| match r {
            Ok((r, state)) => json!({
                "run": name(d), "dir": d, "model": r.spec.model.name(), "data": r.spec.data.label(),
                "seed": r.spec.seed, "epochs_done": r.epochs_done(), "epochs": r.planned_epochs(),
                "step": r.checkpoint_step, "wall_s": r.wall_s(), "examples_per_s": r.examples_per_s(),
                "total_steps": r.total_steps, "stopped_early": r.stopped_early, "headline": r.headline(),
                "evaluated": r.eval.is_some(), "state_sha256": state,
            }),
            Err(e) => json!({ "run": name(d), "dir": d, "error": e.to_string() }),
        })
        .collect();
    super::emit(json!(values), || {
        if rows.is_empty() {
            println!("no runs under {}", a.dir.display());
            return;
        }
        let width = rows.iter().map(|(d, _)| name(d).len()).max().unwrap_or(3).max(3);
        println!("{:<width$}  {:<14} {:<8} {:>4} {:>9} {:>8} {:>9}  headline", "run", "model", "data", "seed", "epochs", "step", "wall");
        for (d, r) in &rows {
            let (r, state) = match r {
                Ok(ok) => ok,
                Err(e) => {
                    println!("{:<width$}  unreadable: {e}", name(d));
                    continue;
                }
            };
            let data = r.spec.data.name();
            let headline = r.headline().map_or("-".into(), |h| h.to_string());
            println!(
                "{:<width$}  {:<14} {:<8} {:>4} {:>9} {:>8} {:>9}  {}",
                name(d),
                r.spec.model.name(),
                data,
                r.spec.seed,
                format!("{}/{}", r.epochs_done(), r.planned_epochs()),
                r.checkpoint_step.map_or("-".into(), |s| s.to_string()),
                r.wall_s().map_or("-".into(), |s| format!("{s:.0} s")),
                headline
            );
            if let Some(s) = state {
                println!("{:<width$}  checkpoint verified, state sha256 {s}", "");
            }
        }
    })?;
    let bad = rows.iter().filter(|(_, r)| r.is_err()).count();
    if bad > 0 {
        return Err(unigen::Error::Invalid(format!("{bad} of {} runs under {} could not be read (shown above)", rows.len(), a.dir.display())).into());
    }
    Ok(())
}
