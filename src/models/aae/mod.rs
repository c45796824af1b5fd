//! The adversarial autoencoder's step (Makhzani et al. 2016, docs/spec.md §2.8): reconstruct `x` from a
//! code `z ~ q(z|x)`, and instead of the VAE's `KL(q(z|x) || p(z))` let a discriminator on `z`
//! tell prior draws (`y = 1`) from posterior codes (`y = 0`) while the encoder, as a GAN's
//! generator, makes its codes pass for prior draws.
//!
//! As in the paper, each step has two phases with updates of their own: reconstruction (encoder
//! and decoder), then regularisation (the discriminator, then the encoder as its generator).
//! Summed into one Adam update, the adversarial term's gradient is lost beside the
//! reconstruction's hundreds of nats; with an Adam of its own it takes steps of its own size.
//! The discriminator takes `d_steps` updates per step (5 by default for the AAE): with one it
//! trails the encoder, and the codes drift away from the prior as fast as it follows them.
//!
//! Settings read (`unigen train aae`; the loop's own, `epochs` to `max_steps`, apply to
//! every model; any other is refused, `kind.rs`): `latent_dim`, `hidden`, `activation`, `network`, `likelihood`, `learn_variance`, `gaussian_std`, `d_steps`, `d_activation`; model selection: `validation`, `eval_every`, `patience`.

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
use crate::config::Network;
use crate::error::Result;
use crate::host::{normals, tensor};
use crate::models::{Discriminator, GanConfig, Vae};
use crate::objectives::{GeneratorForm, SampleWeights, discriminator_loss, generator_loss};

pub struct AaeTrainer {
    model: Vae,
    optim: ModuleOptimizer,
    /// The regularisation phase's optimiser (it updates only the encoder).
    optim_reg: ModuleOptimizer,
    /// `D_phi(z)`, on codes.
    discriminator: Discriminator,
    optim_d: ModuleOptimizer,
    d_steps: usize,
    lr: f64,
}

/// The discriminator on codes: an MLP `latent_dim -> hidden -> 1`, whatever the image networks.
pub fn init_discriminator(spec: &RunSpec, device: &Device) -> Discriminator {
    let mut c = spec.config.clone();
    c.network = Network::Mlp;
    let d = GanConfig::new(c.latent_dim, &c, false, 0).discriminator(device);
    checkpoint::number_params(d, checkpoint::DISCRIMINATOR_IDS)
}

/// The discriminator's loss on codes: prior draws are `y = 1`, the encoder's codes `y = 0`.
pub fn code_discriminator_loss(d: &Discriminator, z_prior: Tensor<2>, z_posterior: Tensor<2>) -> Tensor<1> {
    discriminator_loss(d.logits(z_prior, None), d.logits(z_posterior, None))
}

impl AaeTrainer {
    pub fn new(spec: &RunSpec, device: &Device) -> Self {
        let (model, discriminator) = crate::backend::seeded(spec.seed, device, || (vae::init(spec, device), init_discriminator(spec, device)));
        AaeTrainer {
            model,
            optim: optimizer(&spec.config),
            optim_reg: optimizer(&spec.config),
            discriminator,
            optim_d: optimizer(&spec.config),
            d_steps: spec.config.d_steps,
            lr: spec.config.lr,
        }
    }

    /// One update of the discriminator on codes; returns its loss.
    fn discriminator_step(&mut self, z_prior: Tensor<2>, z_posterior: Tensor<2>) -> std::result::Result<f64, NonFiniteTerm> {
        let loss = code_discriminator_loss(&self.discriminator, z_prior, z_posterior.detach());
        let value = finite(&loss, "code discriminator loss")?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.discriminator);
        self.discriminator = self.optim_d.step(self.lr, self.discriminator.clone(), grads);
        Ok(value)
    }
}

impl Step for AaeTrainer {
    fn step(mut self, x: Tensor<2>, _labels: &[u8], noise: &mut ChaCha8Rng) -> Result<(Self, StepLosses), NonFiniteTerm> {
        let (b, device) = (x.dims()[0], x.device());
        let d = self.model.latent_dim();
        let code = |model: &Vae, noise: &mut ChaCha8Rng| {
            let (mu, log_var) = model.encode(x.clone(), None);
            mu + log_var.mul_scalar(0.5).exp() * tensor(normals(noise, b * d), [b, d], &device)
        };
        // ---- reconstruction: z = mu + sigma * eps from the encoder, decoded back to x ----
        let z = code(&self.model, noise);
        let reconstruction = self.model.log_px_z(x.clone(), z, None).mean().neg();
        let rec = finite(&reconstruction, "reconstruction -log p(x|z)")?;
        let grads = GradientsParams::from_grads(reconstruction.backward(), &self.model);
        self.model = self.optim.step(self.lr, self.model, grads);

        // ---- regularisation: D tells prior draws from codes (`d_steps` times), then the
        // encoder fools it ----
        let (mut z, mut d_loss) = (code(&self.model, noise), 0.0);
        for i in 0..self.d_steps {
            if i > 0 {
                z = code(&self.model, noise);
            }
            d_loss = self.discriminator_step(tensor(normals(noise, b * d), [b, d], &device), z.clone())?;
        }
        let d = self.discriminator.clone().no_grad();
        let adversarial = generator_loss(d.logits(z, None), GeneratorForm::NonSaturating, SampleWeights::Uniform, None);
        let adv = finite(&adversarial, "encoder adversarial loss")?;
        let grads = GradientsParams::from_grads(adversarial.backward(), &self.model);
        self.model = self.optim_reg.step(self.lr, self.model, grads);
        Ok((self, vec![("reconstruction", rec), ("d_loss", d_loss), ("g_loss", adv)]))
    }

    fn parts(&self) -> Vec<Part<'_>> {
        vec![
            Part::new("model", &self.model, &self.optim),
            // The regularisation phase's moments; the model's tensors are saved once, above.
            Part { name: "regularisation", tensors: Vec::new(), optimizer: Some(&self.optim_reg) },
            Part::new("discriminator", &self.discriminator, &self.optim_d),
        ]
    }

    fn load(mut self, loaded: &checkpoint::Loaded) -> Result<Self> {
        self.optim = loaded.restore("model", &mut self.model, self.optim)?;
        self.optim_reg = loaded.optimizer("regularisation", self.optim_reg)?;
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
    use crate::models::ModelKind;

    /// Trained on prior draws against codes far from the prior, through the step's own update,
    /// the discriminator calls prior draws real (`D > 1/2`) and such codes generated (`D < 1/2`):
    /// the labels are the right way round.
    #[test]
    fn the_code_discriminator_calls_prior_draws_real_and_posterior_codes_generated() {
        let dev = crate::testing::device().autodiff();
        let spec = crate::testing::small_spec(ModelKind::Aae, 1, 2, vec![16]);
        let mut t = AaeTrainer::new(&spec, &dev);
        let rng = &mut crate::rng::stream(1, crate::rng::Purpose::Eps, 0);
        let codes_at = |centre: f32, rng: &mut ChaCha8Rng| tensor(normals(rng, 64 * 2).into_iter().map(|v| v * 0.3 + centre).collect(), [64, 2], &dev);
        for _ in 0..100 {
            let (prior, posterior) = (tensor(normals(rng, 128), [64, 2], &dev), codes_at(4.0, rng));
            t.discriminator_step(prior, posterior).unwrap();
        }
        let d = t.discriminator.valid();
        let inner = dev.clone().inner();
        let mean_logit = |z: Vec<f32>| d.logits(tensor(z, [64, 2], &inner), None).mean().into_scalar::<f32>();
        let at_prior = mean_logit(normals(rng, 128));
        let at_posterior = mean_logit(crate::host::host(codes_at(4.0, rng)));
        assert!(at_prior > 0.0, "logit on prior draws {at_prior}");
        assert!(at_posterior < 0.0, "logit on posterior codes {at_posterior}");
    }
}
