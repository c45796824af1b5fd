//! `unigen train`.

use std::path::PathBuf;

use anyhow::Context;

use unigen::backend::Backend;
use unigen::config::TrainConfig;
use unigen::data::DataSource;
use unigen::models::ModelKind;
use unigen::train::{RunSpec, TrainOptions, train};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model to train.
    #[arg(value_enum)]
    pub model: ModelKind,
    /// Data set: mnist (looked up in $UNIGEN_DATA/mnist, then the user cache), ring8, grid25, or a
    /// file of 2-D points (.npy [n, 2], or .csv/.tsv/.txt/.dat with two numbers per line; every
    /// fifth point is held out for testing).
    #[arg(long, default_value = "mnist", conflicts_with = "data_dir")]
    pub data: Option<String>,
    /// A directory holding the four MNIST IDX files (plain or .gz), instead of --data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A TOML file of settings (unknown keys are refused).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Override one setting, e.g. --set lr=3e-4 --set hidden=[200,200]; repeatable, applied last.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Run directory (default: runs/MODEL-DATA-sSEED).
    #[arg(long, value_name = "RUN_DIR")]
    pub out: Option<PathBuf>,
    /// Seed of the initial weights and of every random draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue the run in --out from its last checkpoint; it ends bit-identical to an
    /// uninterrupted run. Settings come from the run (only --set epochs=N may change).
    #[arg(long)]
    pub resume: bool,
    /// Stop after this many steps, as if killed (for testing resume).
    #[arg(long, hide = true)]
    pub stop_after_steps: Option<u64>,
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    let data = match &a.data_dir {
        // Stored absolute in run.toml, so `eval` and `sample` find the data from any directory.
        Some(dir) => DataSource::Mnist {
            dir: std::fs::canonicalize(dir).with_context(|| format!("--data-dir {}: no such directory", dir.display()))?,
        },
        None => DataSource::resolve(a.data.as_deref(), None)?,
    };
    let out = a.out.clone().unwrap_or_else(|| super::default_run_dir(a.model, &data.name(), a.seed));
    let spec = if a.resume {
        // The run's own settings with any overrides on top: restating them is fine, and
        // `train` refuses a change to any but `epochs`, naming it.
        let mut spec = RunSpec::read(&out).with_context(|| format!("resuming the run in {}", out.display()))?;
        spec.config = spec.config.overridden(a.config.as_deref(), &a.sets)?;
        spec
    } else {
        let config = TrainConfig::resolve(data.kind(), a.model, a.config.as_deref(), &a.sets)?;
        RunSpec { model: a.model, seed: a.seed, data, config }
    };
    let device = backend.device()?.autodiff();
    say!("training {} on {} (seed {}) into {}", spec.model.name(), spec.data.label(), spec.seed, out.display());
    let opts = TrainOptions { resume: a.resume, stop_after_steps: a.stop_after_steps, progress: super::ui().chatty() };
    let outcome = train(&spec, &out, &device, &opts).with_context(|| format!("training in {}", out.display()))?;
    super::emit(serde_json::json!({ "run_dir": out, "steps": outcome.steps, "last_epoch": outcome.last_epoch }), || {
        if let Some(m) = &outcome.last_epoch {
            let scores: Vec<String> = m.scores.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
            say!(
                "done: {} steps; last epoch train loss {:.3} {}; next: unigen eval {}",
                outcome.steps,
                m.train_loss,
                scores.join(", "),
                out.display()
            );
        }
    })
}
