//! The VAE family's step: one Adam update of encoder and decoder on the negative bound.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use super::checkpoint::{self, Part};
use super::{NonFiniteTerm, RunSpec, StepLosses, Trained, Trainer, finite, optimizer, x_dim};
use crate::error::Result;
use crate::host::{normals, tensor};
use crate::models::vae::Bound;
use crate::models::{Vae, VaeConfig};

pub struct VaeTrainer {
    model: Vae,
    optim: ModuleOptimizer,
    bound: Bound,
    k: usize,
    lr: f64,
}

impl VaeTrainer {
    /// A fresh VAE for `spec` on the (already seeded) `device`.
    pub fn new(spec: &RunSpec, device: &Device) -> Self {
        VaeTrainer {
            model: init(spec, device),
            optim: optimizer(&spec.config),
            bound: spec.model.bound(),
            k: spec.config.k,
            lr: spec.config.lr,
        }
    }
}

/// The VAE of `spec` with its initial weights and stable parameter ids.
pub fn init(spec: &RunSpec, device: &Device) -> Vae {
    checkpoint::number_params(VaeConfig::new(x_dim(spec), &spec.config).init(device), 0)
}

impl Trainer for VaeTrainer {
    fn step(mut self, x: Tensor<2>, _labels: &[u8], noise: &mut ChaCha8Rng) -> Result<(Self, StepLosses), NonFiniteTerm> {
        let b = x.dims()[0];
        let d = self.model.latent_dim();
        let eps = tensor(normals(noise, b * self.k * d), [b, self.k, d], &x.device());
        let loss = self.model.loss(x, eps, self.bound);
        let value = finite(&loss.loss, "loss").map_err(|e| {
            // Name the term that broke: the reconstruction, the KL, or their combination.
            finite(&loss.reconstruction, "reconstruction -log p(x|z)")
                .and_then(|_| finite(&loss.kl, "KL(q(z|x) || p(z))"))
                .err()
                .unwrap_or(e)
        })?;
        let grads = GradientsParams::from_grads(loss.loss.backward(), &self.model);
        self.model = self.optim.step(self.lr, self.model, grads);
        Ok((self, vec![("loss", value)]))
    }

    fn parts(&self) -> Vec<Part<'_>> {
        vec![Part::new("model", &self.model, &self.optim)]
    }

    fn load(mut self, loaded: &checkpoint::Loaded) -> Result<Self> {
        loaded.apply("model", &mut self.model)?;
        self.optim = loaded.optimizer("model", self.optim)?;
        Ok(self)
    }

    fn trained(&self) -> Trained {
        use burn::module::Module;
        Trained::Vae(self.model.valid())
    }
}
