//! # unigen: deep generative models in one unified design
//!
//! GANs and VAEs minimise KL divergences between an inference distribution and a posterior in
//! opposite directions, and each extends one phase of wake-sleep (Hu et al., "On Unifying Deep
//! Generative Models", ICLR 2018). unigen builds every model from the same pieces
//! ([`objectives`]: the ELBO, importance weights, discriminator losses on `y`), so a technique
//! from one family transfers to the other by flipping a switch.
//!
//! Module map, from the bottom layer up (no module imports one above it; `tests/layers.rs`
//! checks that there is no cycle):
//! - [`error`], [`rng`], [`host`], [`backend`], [`fpenv`], [`kernels`], [`atomic`]: errors,
//!   seeded random streams, host-side numerics, the device, subnormals flushed to zero, fused CPU
//!   kernels (docs/performance.md), files replaced whole.
//! - [`data`]: MNIST IDX files, the 2-D toy mixtures, subsets, binarisation, `data fetch`.
//! - [`objectives`]: the shared terms every objective is assembled from, and the switches
//!   (bound, adversary, sample weights) that make one code path serve several models.
//! - [`kind`]: every model, its family, its switches and the settings it reads;
//!   [`config`]: the settings with their defaults.
//! - [`nets`]: networks (MLP, the DCGAN pair); networks are not models.
//! - [`models`]: networks + objective per model family; a trained model in inference mode.
//! - [`run`]: the run directory: layout, `run.toml`, checkpoints, `metrics.jsonl`, one writer at
//!   a time.
//! - [`eval`]: test bounds, mode coverage, the KL directions, the reference classifier and the
//!   image metrics.
//! - [`train`]: the training loop; [`interrupt`]: Ctrl-C and SIGTERM stop it at a step boundary,
//!   checkpoint saved.
//! - [`runs`]: run directories read back; [`report`]: their self-contained HTML report;
//!   [`plot`]: pictures.
//! - [`reproduce`]: the paper's MNIST tables, run and written up beside its numbers;
//!   [`bench`](mod@bench): timing the real training steps against PyTorch.

pub mod atomic;
pub mod backend;
pub mod bench;
pub mod config;
pub mod data;
pub mod error;
pub mod eval;
pub mod fpenv;
pub mod host;
pub mod interrupt;
pub mod kind;
pub mod kernels;
pub mod models;
pub mod nets;
pub mod objectives;
pub mod plot;
pub mod report;
pub mod reproduce;
pub mod rng;
pub mod run;
pub mod runs;
pub mod side_by_side;
pub mod train;

#[cfg(test)]
pub(crate) mod testing;

pub use error::{Error, Result};
