//! CycleGAN's step (Zhu et al. 2017, docs/spec.md §2.8): two GANs between domains A (MNIST) and B (a
//! shifted MNIST, `domain_shift`), whose generators are translators `G_AB`, `G_BA`, tied by the
//! cycle-consistency loss `|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|` and, as in Zhu et al.'s
//! code, the identity loss `|G_BA(a) - a| + |G_AB(b) - b|`: without it the MLP translators close
//! the cycle through images of another digit (measured in docs/results.md). Batches of A and B are drawn independently: the translation is learned from
//! unpaired images.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use crate::models::ada::step::random_batch;
use crate::run::checkpoint::{self, Part};
use crate::models::step::{Step, StepLosses, optimizer};
use crate::models::trained::Trained;
use crate::objectives::{NonFiniteTerm, finite};
use crate::run::{RunSpec, x_dim};
use crate::config::DataKind;
use crate::data::Dataset;
use crate::error::Result;
use super::Translators;
use crate::models::{Discriminator, GanConfig};
use crate::objectives::{GeneratorForm, SampleWeights, cycle_loss, discriminator_loss, generator_loss};

/// The two discriminators, `D_A` on domain A and `D_B` on domain B.
#[derive(Module, Debug)]
pub struct Critics {
    a: Discriminator,
    b: Discriminator,
}

pub struct CycleGanTrainer {
    translators: Translators,
    critics: Critics,
    optim_g: ModuleOptimizer,
    optim_d: ModuleOptimizer,
    /// Domain B's training images, pixels as the model sees them.
    target: Option<Dataset>,
    cycle_weight: f64,
    identity_weight: f64,
    lr: f64,
}

/// Translators `x -> hidden -> x` (tanh output) and the GAN's discriminators, with stable ids.
pub fn init(spec: &RunSpec, device: &Device) -> (Translators, Critics) {
    let mut c = spec.config.clone();
    c.latent_dim = x_dim(spec); // a translator's "latent" input is an image
    let gan = GanConfig::new(x_dim(spec), &c, spec.data.kind() == DataKind::Images, 0);
    let (a_to_b, a) = gan.init(device);
    let (b_to_a, b) = gan.init(device);
    let translators = checkpoint::number_params(Translators { a_to_b, b_to_a }, 0);
    (translators, checkpoint::number_params(Critics { a, b }, checkpoint::DISCRIMINATOR_IDS))
}

/// The cycle loss of `a` and `b` under any pair of maps: `|g_ba(g_ab(a)) - a| + |g_ab(g_ba(b)) - b|`.
pub fn cycle_losses(a: Tensor<2>, b: Tensor<2>, a_to_b: impl Fn(Tensor<2>) -> Tensor<2>, b_to_a: impl Fn(Tensor<2>) -> Tensor<2>) -> Tensor<1> {
    cycle_loss(a.clone(), b_to_a(a_to_b(a))) + cycle_loss(b.clone(), a_to_b(b_to_a(b)))
}

/// The identity loss of `a` and `b` under any pair of maps: `|g_ba(a) - a| + |g_ab(b) - b|`.
pub fn identity_losses(a: Tensor<2>, b: Tensor<2>, a_to_b: impl Fn(Tensor<2>) -> Tensor<2>, b_to_a: impl Fn(Tensor<2>) -> Tensor<2>) -> Tensor<1> {
    cycle_loss(a.clone(), b_to_a(a)) + cycle_loss(b.clone(), a_to_b(b))
}

impl CycleGanTrainer {
    pub fn new(spec: &RunSpec, device: &Device) -> Self {
        let (translators, critics) = crate::backend::seeded(spec.seed, device, || init(spec, device));
        CycleGanTrainer {
            translators,
            critics,
            optim_g: optimizer(&spec.config),
            optim_d: optimizer(&spec.config),
            target: None,
            cycle_weight: spec.config.cycle_weight,
            identity_weight: spec.config.identity_weight,
            lr: spec.config.lr,
        }
    }

    /// Domain B's training images.
    pub fn with_target(mut self, target: Dataset) -> Self {
        self.target = Some(target);
        self
    }
}

impl Step for CycleGanTrainer {
    fn step(mut self, a: Tensor<2>, _labels: &[u8], noise: &mut ChaCha8Rng) -> Result<(Self, StepLosses), NonFiniteTerm> {
        let (n, device) = (a.dims()[0], a.device());
        let b = random_batch(self.target.as_ref().expect("CycleGAN trains with its domain B"), n, noise, &device);

        // ---- discriminators: real vs translated, in each domain ----
        let t = &self.translators;
        let (fake_b, fake_a) = (t.a_to_b(a.clone()).detach(), t.b_to_a(b.clone()).detach());
        let d_loss = discriminator_loss(self.critics.b.logits(b.clone(), None), self.critics.b.logits(fake_b, None))
            + discriminator_loss(self.critics.a.logits(a.clone(), None), self.critics.a.logits(fake_a, None));
        let d_value = finite(&d_loss, "discriminator losses")?;
        let grads = GradientsParams::from_grads(d_loss.backward(), &self.critics);
        self.critics = self.optim_d.step(self.lr, self.critics, grads);

        // ---- translators: fool both discriminators, come back where they started, and leave
        // images already in their output domain alone ----
        let critics = self.critics.clone().no_grad();
        let t = &self.translators;
        let g = |l| generator_loss(l, GeneratorForm::NonSaturating, SampleWeights::Uniform, None);
        let gan = g(critics.b.logits(t.a_to_b(a.clone()), None)) + g(critics.a.logits(t.b_to_a(b.clone()), None));
        let cycle = cycle_losses(a.clone(), b.clone(), |x| t.a_to_b(x), |x| t.b_to_a(x));
        let mut losses = vec![("d_loss", d_value), ("g_loss", finite(&gan, "translators' GAN losses")?), ("cycle", finite(&cycle, "cycle loss")?)];
        let mut loss = gan + cycle.mul_scalar(self.cycle_weight);
        if self.identity_weight > 0.0 {
            let identity = identity_losses(a, b, |x| t.a_to_b(x), |x| t.b_to_a(x));
            losses.push(("identity", finite(&identity, "identity loss")?));
            loss = loss + identity.mul_scalar(self.identity_weight);
        }
        let grads = GradientsParams::from_grads(loss.backward(), &self.translators);
        self.translators = self.optim_g.step(self.lr, self.translators, grads);
        Ok((self, losses))
    }

    fn parts(&self) -> Vec<Part<'_>> {
        vec![Part::new("generator", &self.translators, &self.optim_g), Part::new("discriminator", &self.critics, &self.optim_d)]
    }

    fn load(mut self, loaded: &checkpoint::Loaded) -> Result<Self> {
        self.optim_g = loaded.restore("generator", &mut self.translators, self.optim_g)?;
        self.optim_d = loaded.restore("discriminator", &mut self.critics, self.optim_d)?;
        Ok(self)
    }

    fn trained(&self) -> Trained {
        Box::new(self.translators.valid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{t2, to_vec};

    /// Inverting an image in [-1, 1] is its own inverse: the cycle loss of that pair of maps is 0;
    /// paired with the identity instead it is not. The identity loss is 0 for identity maps only.
    #[test]
    fn the_cycle_loss_is_zero_for_inverse_maps() {
        let a = t2(&[0.5, -1.0, 0.25, 1.0], [2, 2]);
        let b = t2(&[-0.3, 0.9, 0.0, -0.6], [2, 2]);
        let invert = |x: Tensor<2>| x.neg();
        assert_eq!(to_vec(cycle_losses(a.clone(), b.clone(), invert, invert)), vec![0.0]);
        let loss = to_vec(cycle_losses(a.clone(), b.clone(), invert, |x| x))[0];
        assert!((loss - (2.0 * 2.75 / 4.0 + 2.0 * 1.8 / 4.0)).abs() < 1e-6, "{loss}");
        assert_eq!(to_vec(identity_losses(a.clone(), b.clone(), |x| x, |x| x)), vec![0.0]);
        let loss = to_vec(identity_losses(a, b, invert, |x| x))[0];
        assert!((loss - 2.0 * 1.8 / 4.0).abs() < 1e-6, "{loss}");
    }
}
