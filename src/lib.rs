//! # unigen: deep generative models in one unified design
//!
//! GANs and VAEs minimise KL divergences between an inference distribution and a posterior in
//! opposite directions, and each extends one phase of wake-sleep (Hu et al., "On Unifying Deep
//! Generative Models", ICLR 2018). unigen builds every model from the same pieces
//! ([`objectives`]: the ELBO, importance weights, discriminator losses on `y`), so a technique
//! from one family transfers to the other by flipping a switch.
//!
//! Module map:
//! - [`data`]: MNIST IDX files, the 2-D toy mixtures, subsets, binarisation, `data fetch`.
//! - [`nets`]: networks (MLP, the DCGAN pair); networks are not models.
//! - [`objectives`]: the shared terms every objective is assembled from.
//! - [`models`]: networks + objective, one file per model family.
//! - [`train`]: the training loop and atomic checkpoints; [`lock`]: one writer per run directory;
//!   [`interrupt`]: Ctrl-C and SIGTERM stop training at a step boundary, checkpoint saved.
//! - [`eval`]: test bounds, mode coverage, the reference classifier and the image metrics.
//! - [`kernels`]: fused CPU kernels for the hot paths (docs/performance.md).
//! - [`reproduce`]: the paper's MNIST tables, run and written up beside its numbers.
//! - [`bench`]: timing the real training steps against PyTorch.
//! - [`runs`]: run directories read back; [`report`]: their self-contained HTML report.
//! - [`config`]: hyper-parameters with their defaults; [`error`]: the error type.

pub mod backend;
pub mod bench;
pub mod config;
pub mod data;
pub mod error;
pub mod eval;
pub mod host;
pub mod interrupt;
pub mod kernels;
pub mod lock;
pub mod models;
pub mod nets;
pub mod objectives;
pub mod plot;
pub mod report;
pub mod reproduce;
pub mod rng;
pub mod runs;
pub mod train;

#[cfg(test)]
pub(crate) mod testing;

pub use error::{Error, Result};
