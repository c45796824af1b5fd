//! InfoGAN (Chen et al. 2016, docs/spec.md §2.8): the generator takes noise `z` and a code `c` (one of
//! [`CATEGORIES`] values and [`CONTINUOUS`] numbers uniform on [-1, 1]); a head `Q(c|x)` that
//! shares the discriminator's body infers the code of a generated image, and both maximise the
//! information bound [`crate::objectives::mutual_information_bound`].
//!
//! The networks are the GAN's: a generator whose input is `[z, c]` (so `latent_dim + CODE` wide)
//! and a discriminator with `CATEGORIES + CONTINUOUS` outputs beside its logit.

use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::{Discriminator, Generator};
use crate::host::{normals, one_hot, tensor};

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
