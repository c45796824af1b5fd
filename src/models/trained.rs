//! A trained model in inference mode: what every model can do once trained, whatever its family
//! (its classes, its samples), and the pixel conventions of the GAN family. Loading one from a run
//! and its scores are the training side's (`train/trained.rs`).

use burn::tensor::Device;
use rand_chacha::ChaCha8Rng;

use super::ada::Ada;
use super::cyclegan::Translators;
use super::infogan::{self, CATEGORIES, Code};
use super::{Discriminator, Generator, Vae};
use crate::data::DataKind;
use crate::host::{host, normals, one_hot, tensor};
use crate::run::{RunSpec, x_dim};

/// A model ready to sample and score (no autodiff).
pub enum Trained {
    /// The VAE family, and the adversarial autoencoder and Helmholtz machine (the same networks).
    Vae(Vae),
    Gan { generator: Generator, discriminator: Discriminator },
    /// The generator reads `[z, c]`; the discriminator's extra outputs are Q's.
    InfoGan { generator: Generator, discriminator: Discriminator },
    Ada(Ada),
    CycleGan(Translators),
}

impl Trained {
    /// Classes the model is conditioned on (0: unconditional; InfoGAN's categories are not
    /// classes until matched to them).
    pub fn classes(&self) -> usize {
        match self {
            Trained::Vae(m) => m.classes(),
            Trained::Gan { generator, .. } => generator.classes(),
            _ => 0,
        }
    }

    /// `n` samples in data space, flattened `[n, D]`: pixels in [0, 1] for images (a VAE's decoder
    /// mean, a GAN's output mapped back from [-1, 1]), points as drawn for 2-D data.
    /// A conditional model generates the classes in turn (`i % classes`), so the classes are balanced.
    pub fn sample(&self, spec: &RunSpec, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Vec<f32> {
        let labels = balanced_labels(n, self.classes());
        self.sample_classes(spec, n, &labels, rng, device)
    }

    /// [`Trained::sample`] with the class of each sample given (read by conditional models only).
    /// InfoGAN's categories take turns too; its continuous codes are drawn uniformly.
    /// Models that do not generate (ADA, CycleGAN: see [`crate::models::ModelKind::generates`]) have no samples.
    pub fn sample_classes(&self, spec: &RunSpec, n: usize, labels: &[u8], rng: &mut ChaCha8Rng, device: &Device) -> Vec<f32> {
        let images = spec.data.kind() == DataKind::Images;
        if let Trained::InfoGan { generator, .. } = self {
            let code = Code::draw(balanced_labels(n, CATEGORIES), rng, device);
            return from_gan_pixels(host(infogan::generate(generator, &code, rng, device)));
        }
        let d = match self {
            Trained::Vae(m) => m.latent_dim(),
            Trained::Gan { generator, .. } => generator.latent_dim(),
            _ => unreachable!("only generative models are sampled (ModelKind::generates)"),
        };
        let z = tensor(normals(rng, n * d), [n, d], device);
        let c = (self.classes() > 0).then(|| one_hot(labels, self.classes(), device));
        match self {
            Trained::Vae(m) if images => host(m.decode_mean(z, c)),
            Trained::Vae(m) => {
                let w = x_dim(spec);
                host(m.decode_sample(z, c, tensor(normals(rng, n * w), [n, w], device)))
            }
            Trained::Gan { generator, .. } => {
                let x = host(generator.forward(z, c));
                if images { from_gan_pixels(x) } else { x }
            }
            _ => unreachable!(),
        }
    }
}

/// Pixels in [0, 1] as GAN-family models see them, in [-1, 1] (docs/spec.md §3).
pub fn to_gan_pixels(x: &[f32]) -> Vec<f32> {
    x.iter().map(|p| 2.0 * p - 1.0).collect()
}

/// A GAN-family model's pixels mapped back to [0, 1].
pub fn from_gan_pixels(x: Vec<f32>) -> Vec<f32> {
    x.into_iter().map(|v| (v + 1.0) / 2.0).collect()
}

/// `n` classes taking turns (`i % classes`); none for an unconditional model (`classes = 0`).
pub fn balanced_labels(n: usize, classes: usize) -> Vec<u8> {
    if classes == 0 { Vec::new() } else { (0..n).map(|i| (i % classes) as u8).collect() }
}
