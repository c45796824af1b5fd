//! `unigen train`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use unigen::backend::Backend;
use unigen::config::TrainConfig;
use unigen::data::DataSource;
use unigen::interrupt::Interrupt;
use unigen::models::ModelKind;
use unigen::train::{RunSpec, TrainOptions, train};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model to train (with --resume, taken from the run: give it or leave it out).
    #[arg(value_enum, required_unless_present = "resume")]
    pub model: Option<ModelKind>,
    /// Data set: mnist (looked up in $UNIGEN_DATA/mnist, then the user cache; the default),
    /// stacked-mnist (three MNIST digits as three channels, 1,000 modes; gan and iwgan), ring8,
    /// grid25, ring8-pacgan and grid25-pacgan (PacGAN's mixtures, trained by PacGAN's protocol
    /// unless settings say otherwise), or a file of 2-D points (.npy [n, 2], or .csv/.tsv/.txt/.dat with two numbers per
    /// line; every fifth point is held out for testing).
    #[arg(long)]
    pub data: Option<String>,
    /// A directory holding the four MNIST IDX files (plain or .gz), for mnist (the default) or
    /// stacked-mnist.
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
    /// Seed of the initial weights and of every random draw (default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue the run in --out from its last checkpoint; it ends bit-identical to an
    /// uninterrupted run. Model, data, seed and settings come from the run's run.toml: a flag
    /// that contradicts them is refused; --set epochs=N and --set max_steps=N extend the run.
    #[arg(long)]
    pub resume: bool,
    /// Stop after this many steps, as if killed (for testing resume).
    #[arg(long, hide = true)]
    pub stop_after_steps: Option<u64>,
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    let (spec, out) = if a.resume {
        let out = match (&a.out, a.model) {
            (Some(out), _) => out.clone(),
            // The default directory of the model, data and seed given.
            (None, Some(model)) => {
                let data = a.data.as_deref().unwrap_or("mnist");
                let name = Path::new(data).file_stem().map_or(data.into(), |s| s.to_string_lossy().into_owned());
                super::default_run_dir(model, &name, a.seed.unwrap_or(0))
            }
            (None, None) => return Err(super::Usage("--resume needs the run: --out RUN_DIR (or the model, for its default directory)".into()).into()),
        };
        (resumed_spec(&a, &out)?, out)
    } else {
        let model = a.model.expect("clap requires the model without --resume");
        // A data directory is stored absolute in run.toml, so `eval` and `sample` find the data
        // from any directory.
        let dir = a.data_dir.as_deref().map(canonical_dir).transpose()?;
        let data = DataSource::resolve(Some(a.data.as_deref().unwrap_or("mnist")), dir)?;
        let seed = a.seed.unwrap_or(0);
        let out = a.out.clone().unwrap_or_else(|| super::default_run_dir(model, &data.name(), seed));
        let defaults = TrainConfig::for_data(&data, model);
        let config = defaults.overridden(model, data.kind(), a.config.as_deref(), &a.sets)?;
        // A point file is read whole: a drawn training set's size would do nothing.
        if let DataSource::Points { file } = &data
            && config.toy_train_size != defaults.toy_train_size
        {
            let problem = format!("`toy_train_size` sizes the drawn training set of ring8 and grid25; {} is used whole", file.display());
            return Err(unigen::Error::Config { path: "toy_train_size".into(), problem }.into());
        }
        (RunSpec { model, seed, data, config }, out)
    };
    let device = backend.device()?.autodiff();
    // Ctrl-C / SIGTERM: the loop stops at the next step boundary with its checkpoint saved.
    let interrupt = Interrupt::on_signals().context("installing the Ctrl-C handler")?;
    let opts = TrainOptions { resume: a.resume, stop_after_steps: a.stop_after_steps, progress: super::ui().chatty(), interrupt };
    let outcome = match train(&spec, &out, &device, &opts) {
        Err(e @ unigen::Error::Interrupted { .. }) => {
            return Err(anyhow::Error::new(e).context(format!("stopped; continue with: unigen train --out {} --resume", out.display())));
        }
        other => other.with_context(|| format!("training in {}", out.display()))?,
    };
    super::emit(
        serde_json::json!({ "run_dir": out, "steps": outcome.steps, "total_steps": outcome.total_steps,
                            "already_complete": outcome.already_complete, "stopped_early": outcome.stopped_early,
                            "last_epoch": outcome.last_epoch }),
        || {
            let early = if outcome.stopped_early { " (stopped early: no better validation ELBO in `patience` scores)" } else { "" };
            if let Some(m) = &outcome.last_epoch {
                say!("done: {} steps{early}; last epoch {}; next: unigen eval {}", outcome.steps, m.summary(), out.display());
            } else if outcome.stopped_early && !outcome.already_complete {
                say!("done: {} steps{early}; next: unigen eval {} (scores the best-validation state)", outcome.steps, out.display());
            }
        },
    )
}

fn canonical_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::canonicalize(dir).with_context(|| format!("--data-dir {}: no such directory", dir.display()))
}

/// The spec of the run in `out` as its run.toml records it, with `--set` / `--config` on top
/// (`train` refuses a change to any setting but `epochs` and `max_steps`). A model, data or seed
/// flag may restate the run's own but not contradict it.
fn resumed_spec(a: &Args, out: &Path) -> anyhow::Result<RunSpec> {
    let mut spec = RunSpec::read(out).with_context(|| format!("resuming the run in {}", out.display()))?;
    let conflict = |flag: &'static str, given: String, recorded: String| unigen::Error::ResumeConflict {
        dir: out.to_path_buf(),
        file: unigen::train::RUN_FILE,
        flag,
        given,
        recorded,
    };
    if let Some(model) = a.model.filter(|m| *m != spec.model) {
        return Err(conflict("the model", model.name().into(), spec.model.name().into()).into());
    }
    if let Some(seed) = a.seed.filter(|s| *s != spec.seed) {
        return Err(conflict("--seed", seed.to_string(), spec.seed.to_string()).into());
    }
    let given = match (&a.data, &a.data_dir) {
        (name, Some(dir)) => Some(("--data-dir", dir.display().to_string(), DataSource::resolve(Some(name.as_deref().unwrap_or("mnist")), Some(canonical_dir(dir)?))?)),
        // `--data mnist` names the data set, wherever its files are.
        (Some(name), None) if name == "mnist" && matches!(spec.data, DataSource::Mnist { .. }) => None,
        (Some(name), None) if name == "mnist" => return Err(conflict("--data", name.clone(), spec.data.label()).into()),
        (Some(name), None) => Some(("--data", name.clone(), DataSource::resolve(Some(name), None)?)),
        (None, None) => None,
    };
    if let Some((flag, text, _)) = given.filter(|(_, _, d)| *d != spec.data) {
        return Err(conflict(flag, text, spec.data.label()).into());
    }
    spec.config = spec.config.overridden(spec.model, spec.data.kind(), a.config.as_deref(), &a.sets)?;
    Ok(spec)
}
