//! GAN and IWGAN (SPEC §2.3, §2.4): generator `p_theta(x | z)`, discriminator
//! `D_phi(x) = q_phi(y = 1 | x) = sigmoid(l(x))`.
//!
//! The objectives are [`crate::objectives::discriminator_loss`] and
//! [`crate::objectives::generator_loss`]; GAN and IWGAN differ only in its `SampleWeights`.

use burn::module::Module;
use burn::tensor::activation::tanh;
use burn::tensor::{Device, Tensor};

use crate::config::TrainConfig;
use crate::nets::{Mlp, MlpConfig};

#[derive(Debug, Clone)]
pub struct GanConfig {
    pub generator: MlpConfig,
    pub discriminator: MlpConfig,
    /// Squash the generator's output into (-1, 1), where image pixels are scaled for GANs.
    pub tanh_output: bool,
}

impl GanConfig {
    /// Generator `latent_dim -> hidden -> x_dim`; discriminator `x_dim -> reversed hidden -> 1`.
    pub fn new(x_dim: usize, c: &TrainConfig, images: bool) -> Self {
        GanConfig {
            generator: MlpConfig { d_in: c.latent_dim, hidden: c.hidden.clone(), d_out: x_dim, activation: c.activation },
            discriminator: MlpConfig {
                d_in: x_dim,
                hidden: c.hidden.iter().rev().copied().collect(),
                d_out: 1,
                activation: c.d_activation,
            },
            tanh_output: images,
        }
    }

    pub fn init(&self, device: &Device) -> (Generator, Discriminator) {
        (
            Generator { net: self.generator.init(device), tanh_output: self.tanh_output, latent_dim: self.generator.d_in },
            Discriminator { net: self.discriminator.init(device) },
        )
    }
}

#[derive(Module, Debug)]
pub struct Generator {
    net: Mlp,
    #[module(skip)]
    tanh_output: bool,
    #[module(skip)]
    latent_dim: usize,
}

impl Generator {
    /// `z: [N, d] -> x: [N, D]`.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        let x = self.net.forward(z);
        if self.tanh_output { tanh(x) } else { x }
    }

    pub fn latent_dim(&self) -> usize {
        self.latent_dim
    }
}

#[derive(Module, Debug)]
pub struct Discriminator {
    net: Mlp,
}

impl Discriminator {
    /// The logits `l(x)` of `D(x) = sigmoid(l(x))`: `[N, D] -> [N]`.
    pub fn logits(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        self.net.forward(x).reshape([n])
    }
}
