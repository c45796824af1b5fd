//! Adversarial domain adaptation (Ganin et al. 2016, docs/spec.md §2.8): a feature extractor, a label
//! classifier on its features, and (in the trainer) a domain discriminator on the same features.
//! In the unified view the features play the generated `x`, the domain plays `y`.
//!
//! Settings read (`unigen train ada`; the loop's own, `epochs` to `max_steps`, apply to
//! every model; any other is refused, `kind.rs`): `latent_dim`, `hidden`, `activation`, `d_activation`, `domain_shift`, `domain_weight`.

pub mod step;
pub use step::AdaTrainer;

use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::trained::{Model, OwnScores, to_gan_pixels};
use crate::config::TrainConfig;
use crate::data::Dataset;
use crate::data::shift::Shift;
use crate::eval::accuracy;
use crate::run::RunSpec;
use crate::host::{host, tensor};
use crate::nets::{Mlp, MlpConfig};

/// Feature extractor `x -> hidden -> F` (ReLU features, F the last `hidden` width) and classifier
/// `F -> classes`.
#[derive(Module, Debug)]
pub struct Ada {
    features: Mlp,
    classifier: Mlp,
}

impl Ada {
    pub fn new(x_dim: usize, classes: usize, c: &TrainConfig, device: &Device) -> Ada {
        let (body, width) = c.hidden.split_at(c.hidden.len().saturating_sub(1));
        let width = width.first().copied().unwrap_or(c.latent_dim);
        Ada {
            features: MlpConfig::new(x_dim, body.to_vec(), width, c.activation).init(device),
            classifier: MlpConfig::new(width, vec![], classes, c.activation).init(device),
        }
    }

    /// Width of the features.
    pub fn feature_dim(c: &TrainConfig) -> usize {
        c.hidden.last().copied().unwrap_or(c.latent_dim)
    }

    /// `[N, D] -> [N, F]`.
    pub fn features(&self, x: Tensor<2>) -> Tensor<2> {
        relu(self.features.forward(x))
    }

    /// Class logits of features, `[N, F] -> [N, classes]`.
    pub fn class_logits(&self, f: Tensor<2>) -> Tensor<2> {
        self.classifier.forward(f)
    }

    /// The predicted class of each of `x`'s examples (pixels as the model was trained on them).
    pub fn predict(&self, x: &[f32], dim: usize, device: &Device) -> Vec<u8> {
        let n = x.len() / dim;
        let logits = self.class_logits(self.features(tensor(x.to_vec(), [n, dim], device)));
        let classes = logits.dims()[1];
        crate::host::argmax_rows(&host(logits), classes)
    }
}

/// ADA's accuracy on `test` shifted to the target domain, and on `test` itself (the source).
pub fn domain_accuracies(m: &Ada, test: &Dataset, shift: Shift, device: &Device) -> (f64, f64) {
    let on = |d: &Dataset| accuracy(&m.predict(&to_gan_pixels(&d.x), d.dim, device), &d.labels);
    (on(&shift.apply(test)), on(test))
}

/// A trained ADA classifier: scored on the target domain and the source.
impl Model for Ada {
    fn own_scores(&self, spec: &RunSpec, test: &Dataset, _reference: Option<&crate::eval::classifier::Reference>, device: &Device) -> OwnScores {
        if test.is_empty() {
            return OwnScores::default();
        }
        let shift = spec.config.domain_shift;
        let (target, source) = domain_accuracies(self, test, shift, device);
        let scores = vec![("target_accuracy", target), ("source_accuracy", source)];
        OwnScores {
            epoch: scores.clone(),
            eval: scores,
            protocol: vec![("target_domain", format!("MNIST test digits, {shift:?} (domain_shift)"))],
            lines: vec![format!("  target ({shift:?}) accuracy {target:.4}, source accuracy {source:.4} on {} test digits", test.len())],
        }
    }
}
