//! A trained model in inference mode, whatever its family: the [`Model`] trait that evaluation,
//! pictures and the commands ask of it, and the pixel conventions of the GAN family. Each model
//! implements it beside its networks (`vae.rs`, `gan.rs`, `infogan.rs`, `ada.rs`,
//! `cyclegan.rs`); loading one from a run is the training side's (`train::load_trained`).

use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use super::Vae;
use crate::data::Dataset;
use crate::eval::classifier::Reference;
use crate::host::{normals, one_hot, tensor};
use crate::run::RunSpec;

/// A trained model, boxed: what `train::load_trained` returns.
pub type Trained = Box<dyn Model>;

/// A model's scores of its own on test examples, for the epoch lines and `unigen eval`.
#[derive(Debug, Default)]
pub struct OwnScores {
    /// Written with each epoch (`metrics.jsonl`).
    pub epoch: Vec<(&'static str, f64)>,
    /// Reported by `unigen eval` (`eval.json`).
    pub eval: Vec<(&'static str, f64)>,
    /// How they were measured, for `eval.json`'s protocol.
    pub protocol: Vec<(&'static str, String)>,
    /// `unigen eval`'s lines.
    pub lines: Vec<String>,
}

/// What every trained model can be asked, whatever its family. Each capability has a default, so
/// a model says only what it has.
pub trait Model {
    /// Classes the model is conditioned on (0: unconditional; InfoGAN's categories are not
    /// classes until matched to them).
    fn classes(&self) -> usize {
        0
    }

    /// `n` samples in data space, flattened `[n, D]`, for the given classes (read by conditional
    /// models only): pixels in [0, 1] for images, points for 2-D data. Only models that generate
    /// ([`crate::models::ModelKind::generates`]) are asked.
    fn sample_classes(&self, spec: &RunSpec, n: usize, labels: &[u8], rng: &mut ChaCha8Rng, device: &Device) -> Vec<f32> {
        let _ = (spec, n, labels, rng, device);
        unreachable!("{}: only models that generate are sampled (ModelKind::generates)", spec.model.name())
    }

    /// The discriminator's logits `l(x, c)` of samples in data space (as [`Model::sample_classes`]
    /// gives them, `labels` their classes): for models with a discriminator that judges one
    /// sample at a time, which sampling with its density ratio needs ([`super::resample`]). Asked
    /// of no samples, it says whether the model has one: `Some` of nothing, or `None`.
    fn discriminator_logits(&self, spec: &RunSpec, x: &[f32], labels: &[u8], device: &Device) -> Option<Vec<f32>> {
        let _ = (spec, x, labels, device);
        None
    }

    /// A picture of about `n` samples drawn the model's own way (InfoGAN: a row per category), or
    /// `None` for the usual grid of [`Model::sample_classes`].
    fn sample_grid(&self, spec: &RunSpec, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Option<image::RgbImage> {
        let _ = (spec, n, rng, device);
        None
    }

    /// The encoder and decoder of a model that has them (the VAE family, the AAE, wake-sleep):
    /// test bounds, reconstructions, the codes' scores.
    fn vae(&self) -> Option<&Vae> {
        None
    }

    /// Scores of the model's own on `test` (InfoGAN's code accuracy, ADA's domain accuracies,
    /// CycleGAN's cycle error, an autoencoder's reconstruction and codes); `reference`, the
    /// reference classifier, where `unigen eval` has one.
    fn own_scores(&self, spec: &RunSpec, test: &Dataset, reference: Option<&Reference>, device: &Device) -> OwnScores {
        let _ = (spec, test, reference, device);
        OwnScores::default()
    }

    /// Pictures of the model's own at an epoch's end, besides samples and reconstructions:
    /// `(kind, picture)`, saved as `pictures/KIND_NNN.png`.
    fn own_pictures(&self, spec: &RunSpec, test: &Dataset, device: &Device) -> Vec<(String, image::RgbImage)> {
        let _ = (spec, test, device);
        Vec::new()
    }
}

impl dyn Model {
    /// `n` samples, a conditional model generating the classes in turn (`i % classes`).
    pub fn sample(&self, spec: &RunSpec, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Vec<f32> {
        let labels = balanced_labels(n, self.classes());
        self.sample_classes(spec, n, &labels, rng, device)
    }
}

/// `n` latent draws and, for a conditional model, the one-hot classes: what a decoder or
/// generator is given to sample.
pub fn prior_draws(latent_dim: usize, classes: usize, n: usize, labels: &[u8], rng: &mut ChaCha8Rng, device: &Device) -> (Tensor<2>, Option<Tensor<2>>) {
    let z = tensor(normals(rng, n * latent_dim), [n, latent_dim], device);
    (z, (classes > 0).then(|| one_hot(labels, classes, device)))
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
