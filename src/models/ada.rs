//! Adversarial domain adaptation (Ganin et al. 2016, docs/spec.md §2.8): a feature extractor, a label
//! classifier on its features, and (in the trainer) a domain discriminator on the same features.
//! In the unified view the features play the generated `x`, the domain plays `y`.

use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::config::TrainConfig;
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
            features: MlpConfig { d_in: x_dim, hidden: body.to_vec(), d_out: width, activation: c.activation }.init(device),
            classifier: MlpConfig { d_in: width, hidden: vec![], d_out: classes, activation: c.activation }.init(device),
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
