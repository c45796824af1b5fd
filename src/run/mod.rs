//! The run directory: what lives in it and what defines it. One process writes it at a time
//! ([`lock`]); every file in it is replaced whole ([`crate::atomic`]), so readers need no lock.
//!
//! `run.toml` ([`RunSpec`]) holds every setting; `checkpoint.safetensors` ([`checkpoint`]) the
//! networks, optimiser state and step; `metrics.jsonl` ([`metrics`]) a line per epoch;
//! `pictures/KIND_NNN.png` the epoch-end pictures; `divergences.svg` (2-D data) the KL directions
//! by step; with a validation set, `validation.jsonl` (a line per validation score) and
//! `best.safetensors` (the best-validation state); `eval.json` the last `unigen eval`;
//! `.unigen.lock` the writer's lock.

pub mod checkpoint;
pub mod lock;
pub mod metrics;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{DataKind, Family, Likelihood, TrainConfig};
use crate::data::{self, DataSource, Dataset, Split};
use crate::error::{Error, Result};
use crate::kind::ModelKind;
pub use metrics::EpochMetrics;

/// Everything that defines a run; stored as `run.toml` in the run directory and in every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub model: ModelKind,
    pub seed: u64,
    pub data: DataSource,
    pub config: TrainConfig,
}

impl RunSpec {
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("spec serialises")
    }

    pub fn read(run_dir: &Path) -> Result<RunSpec> {
        Ok(Self::read_with_text(run_dir)?.0)
    }

    /// The spec and `run.toml` as written (for showing it).
    pub fn read_with_text(run_dir: &Path) -> Result<(RunSpec, String)> {
        let path = run_dir.join(RUN_FILE);
        if !path.is_file() {
            return Err(Error::NotARun { dir: run_dir.to_path_buf() });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let spec = toml::from_str(&text).map_err(|e| Error::Config { path: path.display().to_string(), problem: e.message().into() })?;
        Ok((spec, text))
    }
}

pub const RUN_FILE: &str = "run.toml";
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
pub const METRICS_FILE: &str = "metrics.jsonl";
/// A 2-D run's divergence curves (`forward_kl`, `reverse_kl`, `jsd` by step), redrawn each epoch.
pub const DIVERGENCES_FILE: &str = "divergences.svg";
/// The epoch-end pictures, `KIND_NNN.png`, in the run directory.
pub const PICTURES_DIR: &str = "pictures";
/// The best-validation state of a run with a validation set: a checkpoint like the others.
pub const BEST_FILE: &str = "best.safetensors";
/// One JSON line per validation score: `step`, `validation_elbo`, `best_step`.
pub const VALIDATION_FILE: &str = "validation.jsonl";
/// The file `unigen eval` writes into a run directory.
pub const EVAL_FILE: &str = "eval.json";

/// The test set as scored: binarised once, with a fixed seed, for Bernoulli models.
pub fn test_set(spec: &RunSpec) -> Result<Dataset> {
    let test = data::load(&spec.data, Split::Test, spec.config.toy_train_size, spec.config.subset_seed)?;
    Ok(match (spec.model.family(), spec.config.likelihood) {
        (Family::Vae, Likelihood::Bernoulli) => data::binarize_test(&test),
        _ => test,
    })
}

/// A run's training set, split: the examples training draws from, and with `validation > 0` the
/// validation examples, as scored (binarised once, with a fixed seed, for Bernoulli models, like
/// the test set). On MNIST the validation examples are the last `validation` training digits;
/// ring8 and grid25 draw their own. Disjoint from each other and from the test set; one read of
/// the training file serves both.
pub fn training_split(spec: &RunSpec) -> Result<(Dataset, Option<Dataset>)> {
    let c = &spec.config;
    let full = data::load(&spec.data, Split::Train, c.toy_train_size, c.subset_seed)?;
    if c.validation == 0 {
        return Ok((full, None));
    }
    let (pool, held_out) = match spec.data.toy() {
        // Split 2: apart from the training (0) and test (1) draws.
        Some(toy) => {
            let (x, labels) = toy.sample(c.validation, c.subset_seed, 2);
            (full, Dataset { x, dim: 2, labels, image_side: None })
        }
        None if c.validation >= full.len() => {
            return Err(Error::Config {
                path: "validation".into(),
                problem: format!("{} examples held out would leave none of the {} training examples to train on", c.validation, full.len()),
            });
        }
        None => {
            let kept = full.len() - c.validation;
            (full.head(kept), full.select(&(kept..full.len()).collect::<Vec<_>>()))
        }
    };
    let held_out = match (spec.model.family(), c.likelihood) {
        (Family::Vae, Likelihood::Bernoulli) => data::binarize_test(&held_out),
        _ => held_out,
    };
    Ok((pool, Some(held_out)))
}

/// The width of one example of `spec`'s data.
pub fn x_dim(spec: &RunSpec) -> usize {
    match spec.data.kind() {
        DataKind::Images => spec.data.channels() * data::idx::SIDE * data::idx::SIDE,
        DataKind::Points2d => 2,
    }
}
