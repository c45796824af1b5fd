//! InfoGAN (Chen et al. 2016, docs/spec.md §2.8): the generator takes noise `z` and a code `c` (one of
//! [`CATEGORIES`] values and [`CONTINUOUS`] numbers uniform on [-1, 1]); a head `Q(c|x)` that
//! shares the discriminator's body infers the code of a generated image, and both maximise the
//! information bound [`crate::objectives::mutual_information_bound`].
//!
//! The networks are the GAN's: a generator whose input is `[z, c]` (so `latent_dim + CODE` wide)
//! and a discriminator with `CATEGORIES + CONTINUOUS` outputs beside its logit.
//!
//! Settings read (`unigen train infogan`; the loop's own, `epochs` to `max_steps`, apply to
//! every model; any other is refused, `kind.rs`): `latent_dim`, `hidden`, `activation`, `d_activation`, `d_hidden`, `d_channels`, `batch_norm`, `network`, `info_weight`, `init` (burn's or DCGAN's initial weights).

pub mod step;
pub use step::InfoGanTrainer;

use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::trained::{Model, OwnScores, balanced_labels, from_gan_pixels, to_gan_pixels};
use super::{Discriminator, Generator};
use crate::data::Dataset;
use crate::run::RunSpec;
use crate::eval::{EVAL_SEED, matching};
use crate::host::{argmax_rows, host, normals, one_hot, tensor};
use crate::rng::{Purpose, stream};
use crate::{data, plot};

pub const CATEGORIES: usize = 10;
pub const CONTINUOUS: usize = 2;
/// Width of the code `c`.
pub const CODE: usize = CATEGORIES + CONTINUOUS;

/// A batch of codes: the categorical part as labels and one-hot rows, the continuous part.
pub struct Code {
    pub categories: Vec<u8>,
    pub one_hot: Tensor<2>,
    pub continuous: Tensor<2>,
}

impl Code {
    /// Codes with the given categories and continuous parts drawn uniformly on [-1, 1].
    pub fn draw(categories: Vec<u8>, rng: &mut impl Rng, device: &Device) -> Code {
        let n = categories.len();
        let u: Vec<f32> = (0..n * CONTINUOUS).map(|_| rng.random_range(-1.0..1.0)).collect();
        Code::new(categories, u, device)
    }

    /// Codes with both parts given (`continuous`: `n * CONTINUOUS` values, row-major).
    pub fn new(categories: Vec<u8>, continuous: Vec<f32>, device: &Device) -> Code {
        let n = categories.len();
        Code { one_hot: one_hot(&categories, CATEGORIES, device), continuous: tensor(continuous, [n, CONTINUOUS], device), categories }
    }

    /// `[n, CODE]`, as the generator reads it.
    pub fn input(&self) -> Tensor<2> {
        Tensor::cat(vec![self.one_hot.clone(), self.continuous.clone()], 1)
    }
}

/// `G([z, c])` for `n` noise vectors drawn from `rng` and the given codes: `[n, D]`.
pub fn generate(g: &Generator, code: &Code, rng: &mut impl Rng, device: &Device) -> Tensor<2> {
    let n = code.categories.len();
    let d = g.latent_dim() - CODE;
    let z = tensor(normals(rng, n * d), [n, d], device);
    g.forward(Tensor::cat(vec![z, code.input()], 1), None)
}

/// The discriminator's three heads on `x`: the logit `[N]`, Q's categorical logits `[N, CATEGORIES]`
/// and Q's continuous means `[N, CONTINUOUS]`.
pub fn heads(d: &Discriminator, x: Tensor<2>) -> (Tensor<1>, Tensor<2>, Tensor<2>) {
    let out = d.outputs(x, None);
    let n = out.dims()[0];
    (out.clone().narrow(1, 0, 1).reshape([n]), out.clone().narrow(1, 1, CATEGORIES), out.narrow(1, 1 + CATEGORIES, CONTINUOUS))
}

/// InfoGAN's categorical code as a digit classifier: Q's most likely category for each image
/// (pixels in [-1, 1]), matched one-to-one to the digits (Hungarian) to agree most.
pub fn code_accuracy(d: &Discriminator, x: &[f32], labels: &[u8], device: &Device) -> f64 {
    let n = labels.len();
    let (_, q_logits, _) = heads(d, tensor(x.to_vec(), [n, x.len() / n], device));
    matching::matched_accuracy(&argmax_rows(&host(q_logits), CATEGORIES), labels, CATEGORIES)
}

/// One row per category, continuous code `k` swept from -2 to 2 along the row (the other at 0),
/// one noise vector for the whole picture: what the code alone changes.
pub fn code_sweep_picture(g: &Generator, k: usize, device: &Device) -> image::RgbImage {
    const STEPS: usize = 9;
    let mut categories = Vec::new();
    let mut continuous = Vec::new();
    for c in 0..CATEGORIES {
        for j in 0..STEPS {
            categories.push(c as u8);
            let v = -2.0 + 4.0 * j as f32 / (STEPS - 1) as f32;
            continuous.extend((0..CONTINUOUS).map(|i| if i == k { v } else { 0.0 }));
        }
    }
    let n = categories.len();
    let code = Code::new(categories, continuous, device);
    let z_dim = g.latent_dim() - CODE;
    let z = normals(&mut stream(EVAL_SEED, Purpose::Sample, 1), z_dim);
    let z = tensor(z.repeat(n), [n, z_dim], device);
    let x = g.forward(burn::tensor::Tensor::cat(vec![z, code.input()], 1), None);
    plot::image_grid(&from_gan_pixels(host(x)), data::idx::SIDE, STEPS)
}

/// A trained InfoGAN: the generator reads `[z, code]`; the discriminator's extra outputs are Q's.
pub struct InfoGan {
    pub generator: Generator,
    pub discriminator: Discriminator,
}

impl Model for InfoGan {
    /// The categories take turns; the continuous codes are drawn uniformly.
    fn sample_classes(&self, _spec: &RunSpec, n: usize, _labels: &[u8], rng: &mut rand_chacha::ChaCha8Rng, device: &Device) -> Vec<f32> {
        let code = Code::draw(balanced_labels(n, CATEGORIES), rng, device);
        from_gan_pixels(host(generate(&self.generator, &code, rng, device)))
    }

    /// One row per category, the continuous codes drawn at random.
    fn sample_grid(&self, _spec: &RunSpec, n: usize, rng: &mut rand_chacha::ChaCha8Rng, device: &Device) -> Option<image::RgbImage> {
        let per_row = n.div_ceil(CATEGORIES);
        let code = Code::draw((0..CATEGORIES * per_row).map(|i| (i / per_row) as u8).collect(), rng, device);
        let x = from_gan_pixels(host(generate(&self.generator, &code, rng, device)));
        Some(crate::plot::image_grid(&x, crate::data::idx::SIDE, per_row))
    }

    fn own_scores(&self, _spec: &RunSpec, test: &Dataset, _reference: Option<&crate::eval::classifier::Reference>, device: &Device) -> OwnScores {
        if test.is_empty() {
            return OwnScores::default();
        }
        let acc = code_accuracy(&self.discriminator, &to_gan_pixels(&test.x), &test.labels, device);
        OwnScores {
            epoch: vec![("code_accuracy", acc)],
            eval: vec![("code_accuracy", acc)],
            protocol: vec![("code_accuracy", "Q's most likely category on each test digit, categories matched one-to-one to digits (Hungarian)".into())],
            lines: vec![format!("  categorical code as a digit label: accuracy {acc:.4} on {} test digits (best matching)", test.len())],
        }
    }

    /// A sweep of each continuous code.
    fn own_pictures(&self, _spec: &RunSpec, _test: &Dataset, device: &Device) -> Vec<(String, image::RgbImage)> {
        (0..CONTINUOUS).map(|k| (format!("code{}", k + 1), code_sweep_picture(&self.generator, k, device))).collect()
    }
}
