//! Models: networks plus an objective assembled from [`crate::objectives`].

pub mod aae;
pub mod ada;
pub mod cyclegan;
pub mod dispatch;
pub mod gan;
pub mod infogan;
pub mod resample;
pub mod step;
pub mod trained;
pub mod unified;
pub mod vae;
pub mod wake_sleep;

use burn::tensor::Tensor;

pub use crate::kind::ModelKind;
pub use crate::objectives::Adversary;
pub use gan::{Discriminator, GanConfig, Generator};
pub use vae::{Vae, VaeConfig};

/// `[a, c]`, or `a` alone without a condition: how every conditional network sees its class.
pub(crate) fn with_condition(a: Tensor<2>, c: Option<Tensor<2>>) -> Tensor<2> {
    match c {
        Some(c) => Tensor::cat(vec![a, c], 1),
        None => a,
    }
}
