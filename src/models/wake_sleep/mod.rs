//! The wake-sleep algorithm (Hinton et al. 1995, docs/spec.md §2.8) for a Helmholtz machine with a
//! Gaussian latent: the VAE's networks, trained without the reparameterisation trick.
//! - wake: on data, `z ~ q_lambda(z|x)` (no gradient through the draw), the generative model
//!   maximises `log p_theta(x|z)` (the prior is fixed);
//! - sleep: on dreams `z ~ p(z)`, `x ~ p_theta(x|z)`, the recognition model maximises
//!   `log q_lambda(z|x)`.
//!
//! Each phase's loss reaches only its own networks, so one Adam over both (per-parameter
//! moments) is two Adams, one per phase.
//!
//! Settings read (`unigen train wake_sleep`; the loop's own, `epochs` to `max_steps`, apply to
//! every model; any other is refused, `kind.rs`): `latent_dim`, `hidden`, `activation`, `likelihood`, `learn_variance`, `gaussian_std`; model selection: `validation`, `eval_every`, `patience`.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use crate::run::checkpoint::{self, Part};
use crate::models::step::{Step, StepLosses, optimizer};
use crate::models::trained::Trained;
use crate::models::vae::step as vae;
use crate::objectives::{NonFiniteTerm, finite};
use crate::run::RunSpec;
use crate::error::Result;
use crate::host::{normals, tensor};
use crate::models::Vae;
use crate::objectives::gaussian_log_density;

pub struct WakeSleepTrainer {
    model: Vae,
    optim: ModuleOptimizer,
    lr: f64,
}

/// The wake phase's loss, `-mean log p_theta(x|z)` with `z = mu + sigma * eps` from the
/// recognition model, held fixed: it trains the generative model only.
pub fn wake_loss(model: &Vae, x: Tensor<2>, eps: Tensor<2>) -> Tensor<1> {
    let (mu, log_var) = model.encode(x.clone(), None);
    let z = (mu + log_var.mul_scalar(0.5).exp() * eps).detach();
    model.log_px_z(x, z, None).mean().neg()
}

/// The sleep phase's loss, `-mean log q_lambda(z|x)` on `n` dreams `(z, x) ~ p_theta`: it trains
/// the recognition model only.
pub fn sleep_loss(model: &Vae, n: usize, noise: &mut ChaCha8Rng, device: &Device) -> Tensor<1> {
    let (z, x) = model.dream(n, &[], noise, device);
    let (mu, log_var) = model.encode(x, None);
    gaussian_log_density(z.detach(), mu, log_var).mean().neg()
}

impl WakeSleepTrainer {
    pub fn new(spec: &RunSpec, device: &Device) -> Self {
        WakeSleepTrainer { model: crate::backend::seeded(spec.seed, device, || vae::init(spec, device)), optim: optimizer(&spec.config), lr: spec.config.lr }
    }
}

impl Step for WakeSleepTrainer {
    fn step(mut self, x: Tensor<2>, _labels: &[u8], noise: &mut ChaCha8Rng) -> Result<(Self, StepLosses), NonFiniteTerm> {
        let (b, device) = (x.dims()[0], x.device());
        let d = self.model.latent_dim();
        let wake = wake_loss(&self.model, x, tensor(normals(noise, b * d), [b, d], &device));
        let sleep = sleep_loss(&self.model, b, noise, &device);
        let losses = vec![("wake", finite(&wake, "wake -log p(x|z)")?), ("sleep", finite(&sleep, "sleep -log q(z|x)")?)];
        let grads = GradientsParams::from_grads((wake + sleep).backward(), &self.model);
        self.model = self.optim.step(self.lr, self.model, grads);
        Ok((self, losses))
    }

    fn parts(&self) -> Vec<Part<'_>> {
        vec![Part::new("model", &self.model, &self.optim)]
    }

    fn load(mut self, loaded: &checkpoint::Loaded) -> Result<Self> {
        self.optim = loaded.restore("model", &mut self.model, self.optim)?;
        Ok(self)
    }

    fn trained(&self) -> Trained {
        Box::new(self.model.valid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::host;
    use crate::models::ModelKind;

    /// One Adam update on the wake loss alone changes what the generative model outputs and
    /// leaves the recognition model's outputs bit for bit; the sleep loss alone, the reverse.
    #[test]
    fn each_phase_trains_only_its_own_networks() {
        let dev = crate::testing::device().autodiff();
        let spec = crate::testing::small_spec(ModelKind::WakeSleep, 2, 3, vec![16]);
        let model = crate::backend::seeded(2, &dev, || vae::init(&spec, &dev));
        let rng = &mut crate::rng::stream(2, crate::rng::Purpose::Eps, 0);
        let x = tensor(normals(rng, 8 * 784).into_iter().map(|v| (v > 0.0) as u8 as f32).collect(), [8, 784], &dev);
        let z = tensor(normals(rng, 8 * 3), [8, 3], &dev);
        // What each network computes, on fixed inputs.
        let outputs = |m: &Vae| {
            let m = m.valid();
            let (mu, _) = m.encode(x.clone().inner(), None);
            (host(mu), host(m.decode_mean(z.clone().inner(), None)))
        };
        let before = outputs(&model);
        let update = |loss: Tensor<1>, m: Vae| {
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            optimizer(&spec.config).step(1e-2, m, grads)
        };
        let after_wake = outputs(&update(wake_loss(&model, x.clone(), tensor(normals(rng, 8 * 3), [8, 3], &dev)), model.clone()));
        let after_sleep = outputs(&update(sleep_loss(&model, 8, rng, &dev), model.clone()));
        assert_eq!(after_wake.0, before.0, "the wake phase changed the recognition model");
        assert_ne!(after_wake.1, before.1, "the wake phase did not train the generative model");
        assert_eq!(after_sleep.1, before.1, "the sleep phase changed the generative model");
        assert_ne!(after_sleep.0, before.0, "the sleep phase did not train the recognition model");
    }
}
