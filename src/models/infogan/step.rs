//! InfoGAN's step (docs/spec.md §2.8): the GAN's step with a code in the generator's input, and the
//! information bound added to both losses. D and Q (one body, two heads) learn on data and
//! detached samples; the generator learns through the frozen D and Q.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::run::checkpoint::{self, Part};
use crate::models::step::{Step, StepLosses, optimizer};
use crate::models::trained::Trained;
use crate::objectives::{NonFiniteTerm, finite};
use crate::run::{RunSpec, x_dim};
use crate::config::DataKind;
use crate::error::Result;
use crate::models::infogan::{self, CATEGORIES, CODE, CONTINUOUS, Code};
use crate::models::{Discriminator, GanConfig, Generator};
use crate::objectives::{GeneratorForm, SampleWeights, discriminator_loss, generator_loss, mutual_information_bound};

pub struct InfoGanTrainer {
    generator: Generator,
    discriminator: Discriminator,
    optim_g: ModuleOptimizer,
    optim_d: ModuleOptimizer,
    info_weight: f64,
    lr: f64,
}

/// The generator (input `[z, c]`) and the discriminator with Q's outputs, with stable ids.
pub fn init(spec: &RunSpec, device: &Device) -> (Generator, Discriminator) {
    let mut c = spec.config.clone();
    c.latent_dim += CODE;
    let images = spec.data.kind() == DataKind::Images;
    let (g, d) = GanConfig::new(x_dim(spec), &c, images, 0).with_extra_outputs(CATEGORIES + CONTINUOUS).init(device);
    crate::models::gan::step::initial_weights(spec, g, d)
}

impl InfoGanTrainer {
    pub fn new(spec: &RunSpec, device: &Device) -> Self {
        let (generator, discriminator) = crate::backend::seeded(spec.seed, device, || init(spec, device));
        InfoGanTrainer {
            generator,
            discriminator,
            optim_g: optimizer(&spec.config),
            optim_d: optimizer(&spec.config),
            info_weight: spec.config.info_weight,
            lr: spec.config.lr,
        }
    }
}

/// `b` codes with uniformly drawn categories.
fn codes(b: usize, noise: &mut ChaCha8Rng, device: &Device) -> Code {
    let categories = (0..b).map(|_| noise.random_range(0..CATEGORIES as u8)).collect();
    Code::draw(categories, noise, device)
}

impl Step for InfoGanTrainer {
    fn step(mut self, x: burn::tensor::Tensor<2>, _labels: &[u8], noise: &mut ChaCha8Rng) -> Result<(Self, StepLosses), NonFiniteTerm> {
        let (b, device) = (x.dims()[0], x.device());
        // ---- D and Q: y = 1 on data, y = 0 on samples; Q recovers the samples' codes ----
        let code = codes(b, noise, &device);
        let x_f = infogan::generate(&self.generator, &code, noise, &device).detach();
        let l_real = self.discriminator.logits(x, None);
        let (l_fake, q_logits, q_mean) = infogan::heads(&self.discriminator, x_f);
        let info = mutual_information_bound(q_logits, code.one_hot, q_mean, code.continuous).mean();
        let d_loss = discriminator_loss(l_real, l_fake);
        let info_value = finite(&info, "information bound")?;
        let loss = d_loss.clone() - info.mul_scalar(self.info_weight);
        let d_value = finite(&d_loss, "discriminator loss")?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.discriminator);
        self.discriminator = self.optim_d.step(self.lr, self.discriminator, grads);

        // ---- generator: fool D and make its code recoverable ----
        let code = codes(b, noise, &device);
        let x_f = infogan::generate(&self.generator, &code, noise, &device);
        let (l_fake, q_logits, q_mean) = infogan::heads(&self.discriminator.clone().no_grad(), x_f);
        let g_loss = generator_loss(l_fake, GeneratorForm::NonSaturating, SampleWeights::Uniform, None);
        let g_value = finite(&g_loss, "generator loss")?;
        let info = mutual_information_bound(q_logits, code.one_hot, q_mean, code.continuous).mean();
        let loss = g_loss - info.mul_scalar(self.info_weight);
        finite(&loss, "generator loss with the information bound")?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.generator);
        self.generator = self.optim_g.step(self.lr, self.generator, grads);
        Ok((self, vec![("d_loss", d_value), ("g_loss", g_value), ("info", info_value)]))
    }

    fn parts(&self) -> Vec<Part<'_>> {
        vec![Part::new("generator", &self.generator, &self.optim_g), Part::new("discriminator", &self.discriminator, &self.optim_d)]
    }

    fn load(mut self, loaded: &checkpoint::Loaded) -> Result<Self> {
        self.optim_g = loaded.restore("generator", &mut self.generator, self.optim_g)?;
        self.optim_d = loaded.restore("discriminator", &mut self.discriminator, self.optim_d)?;
        Ok(self)
    }

    fn trained(&self) -> Trained {
        Box::new(crate::models::infogan::InfoGan { generator: self.generator.valid(), discriminator: self.discriminator.valid() })
    }
}
