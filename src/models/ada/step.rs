//! Adversarial domain adaptation's step (Ganin et al. 2016, docs/spec.md §2.8), written as the unified
//! view reads it: a GAN on features.
//! - the domain discriminator reconstructs `y` (1: source, 0: target) from detached features;
//! - the feature extractor and classifier minimise the source examples' classification loss
//!   plus `domain_weight` times the *reversed* discriminator's loss, `y` flipped on both domains
//!   (the GAN generator's objective, where Ganin et al. reverse the gradient instead).
//!
//! `domain_weight = 0` is the source-only baseline: the same code path, no adaptation.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::run::checkpoint::{self, Part};
use crate::models::step::{Step, StepLosses, optimizer};
use crate::models::trained::Trained;
use crate::objectives::{NonFiniteTerm, finite};
use crate::run::{RunSpec, x_dim};
use crate::data::Dataset;
use crate::error::Result;
use crate::host::{one_hot, tensor};
use crate::models::ada::Ada;
use crate::models::{Discriminator, GanConfig};
use crate::objectives::discriminator_loss;

pub struct AdaTrainer {
    model: Ada,
    optim: ModuleOptimizer,
    /// The domain discriminator on features.
    discriminator: Discriminator,
    optim_d: ModuleOptimizer,
    /// The unlabelled target-domain training images, pixels as the model sees them.
    target: Option<Dataset>,
    domain_weight: f64,
    lr: f64,
}

pub fn init(spec: &RunSpec, device: &Device) -> (Ada, Discriminator) {
    let c = &spec.config;
    let model = checkpoint::number_params(Ada::new(x_dim(spec), spec.data.classes(), c, device), 0);
    let d = GanConfig::new(Ada::feature_dim(c), c, false, 0).discriminator(device);
    (model, checkpoint::number_params(d, checkpoint::DISCRIMINATOR_IDS))
}

/// The feature extractor's adversarial loss: the discriminator's loss with the domains swapped,
/// so minimising it makes source features look like target ones and the reverse.
pub fn domain_confusion_loss(l_source: Tensor<1>, l_target: Tensor<1>) -> Tensor<1> {
    discriminator_loss(l_target, l_source)
}

impl AdaTrainer {
    pub fn new(spec: &RunSpec, device: &Device) -> Self {
        let (model, discriminator) = crate::backend::seeded(spec.seed, device, || init(spec, device));
        AdaTrainer {
            model,
            optim: optimizer(&spec.config),
            discriminator,
            optim_d: optimizer(&spec.config),
            target: None,
            domain_weight: spec.config.domain_weight,
            lr: spec.config.lr,
        }
    }

    /// The target domain's training images (unlabelled: their labels are never read).
    pub fn with_target(mut self, target: Dataset) -> Self {
        self.target = Some(target);
        self
    }
}

/// `b` examples of `data` drawn at random (unpaired with the batch), as a tensor.
pub(crate) fn random_batch(data: &Dataset, b: usize, noise: &mut ChaCha8Rng, device: &Device) -> Tensor<2> {
    let idx: Vec<usize> = (0..b).map(|_| noise.random_range(0..data.len())).collect();
    tensor(data.gather(&idx), [b, data.dim], device)
}

impl Step for AdaTrainer {
    fn step(mut self, x: Tensor<2>, labels: &[u8], noise: &mut ChaCha8Rng) -> Result<(Self, StepLosses), NonFiniteTerm> {
        let (b, device) = (x.dims()[0], x.device());
        let x_t = random_batch(self.target.as_ref().expect("ADA trains with its target domain"), b, noise, &device);
        let (f_s, f_t) = (self.model.features(x), self.model.features(x_t));

        // ---- the domain discriminator: y = 1 on source features, y = 0 on target ones ----
        let d_loss = discriminator_loss(self.discriminator.logits(f_s.clone().detach(), None), self.discriminator.logits(f_t.clone().detach(), None));
        let d_value = finite(&d_loss, "domain discriminator loss")?;
        let grads = GradientsParams::from_grads(d_loss.backward(), &self.discriminator);
        self.discriminator = self.optim_d.step(self.lr, self.discriminator, grads);

        // ---- features and classifier: classify the source, confuse the domains ----
        let c = one_hot(labels, self.model.class_logits(f_s.clone()).dims()[1], &device);
        let class_nll = (log_softmax(self.model.class_logits(f_s.clone()), 1) * c).sum_dim(1).mean().neg();
        let d = self.discriminator.clone().no_grad();
        let confusion = domain_confusion_loss(d.logits(f_s, None), d.logits(f_t, None));
        let losses = vec![
            ("class_nll", finite(&class_nll, "source classification -log p(c|x)")?),
            ("d_loss", d_value),
            ("confusion", finite(&confusion, "domain confusion loss")?),
        ];
        let loss = class_nll + confusion.mul_scalar(self.domain_weight);
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.optim.step(self.lr, self.model, grads);
        Ok((self, losses))
    }

    fn parts(&self) -> Vec<Part<'_>> {
        vec![Part::new("model", &self.model, &self.optim), Part::new("discriminator", &self.discriminator, &self.optim_d)]
    }

    fn load(mut self, loaded: &checkpoint::Loaded) -> Result<Self> {
        self.optim = loaded.restore("model", &mut self.model, self.optim)?;
        self.optim_d = loaded.restore("discriminator", &mut self.discriminator, self.optim_d)?;
        Ok(self)
    }

    fn trained(&self) -> Trained {
        Box::new(self.model.valid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{host, normals};
    use crate::models::ModelKind;

    /// Source features around +1 and target features around -1, a discriminator trained to tell
    /// them apart: one gradient step on the confusion loss moves the features of each domain
    /// towards the other's and makes the discriminator's task harder.
    #[test]
    fn the_confusion_loss_pulls_the_domains_together() {
        let dev = crate::testing::device().autodiff();
        let spec = crate::testing::small_spec(ModelKind::Ada, 4, 2, vec![8, 4]);
        let (_, mut d) = crate::backend::seeded(4, &dev, || init(&spec, &dev));
        let rng = &mut crate::rng::stream(4, crate::rng::Purpose::Eps, 0);
        let around = |centre: f32, rng: &mut ChaCha8Rng| normals(rng, 32 * 4).into_iter().map(|v| centre + 0.2 * v).collect::<Vec<_>>();
        let (source, target) = (around(1.0, rng), around(-1.0, rng));
        let mut optim = optimizer(&spec.config);
        for _ in 0..50 {
            let loss = discriminator_loss(d.logits(tensor(source.clone(), [32, 4], &dev), None), d.logits(tensor(target.clone(), [32, 4], &dev), None));
            let grads = GradientsParams::from_grads(loss.backward(), &d);
            d = optim.step(1e-2, d, grads);
        }
        let d = d.no_grad();
        let (f_s, f_t) = (tensor(source.clone(), [32, 4], &dev).require_grad(), tensor(target.clone(), [32, 4], &dev).require_grad());
        let grads = domain_confusion_loss(d.logits(f_s.clone(), None), d.logits(f_t.clone(), None)).backward();
        let step = |f: &[f32], g: Tensor<2>| f.iter().zip(host(g)).map(|(v, g)| v - 0.5 * g).collect::<Vec<f32>>();
        let (s2, t2) = (step(&source, f_s.grad(&grads).unwrap()), step(&target, f_t.grad(&grads).unwrap()));
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean(&s2) < mean(&source), "source features moved from {} to {}", mean(&source), mean(&s2));
        assert!(mean(&t2) > mean(&target), "target features moved from {} to {}", mean(&target), mean(&t2));
        let d_loss = |s: &[f32], t: &[f32]| {
            discriminator_loss(d.logits(tensor(s.to_vec(), [32, 4], &dev), None), d.logits(tensor(t.to_vec(), [32, 4], &dev), None)).into_scalar::<f32>()
        };
        assert!(d_loss(&s2, &t2) > d_loss(&source, &target), "the discriminator's loss did not grow");
    }
}
