//! A multilayer perceptron of any width and depth.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use crate::kernels::{Act, linear};

use crate::config::Activation;

/// `d_in -> hidden[0] -> ... -> hidden[n-1] -> d_out`, the nonlinearity between layers, none after
/// the last.
#[derive(Debug, Clone)]
pub struct MlpConfig {
    pub d_in: usize,
    pub hidden: Vec<usize>,
    pub d_out: usize,
    pub activation: Activation,
}

#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
    #[module(skip)]
    activation: Activation,
}

impl MlpConfig {
    pub fn init(&self, device: &Device) -> Mlp {
        let widths: Vec<usize> = std::iter::once(self.d_in)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.d_out))
            .collect();
        Mlp {
            layers: widths.windows(2).map(|w| LinearConfig::new(w[0], w[1]).init(device)).collect(),
            activation: self.activation,
        }
    }
}

impl Mlp {
    /// `x: [N, d_in] -> [N, d_out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let act = match (i == last, self.activation) {
                (true, _) => Act::Identity,
                (false, Activation::Relu) => Act::Relu,
                (false, Activation::Tanh) => Act::Tanh,
                (false, Activation::LeakyRelu) => Act::LeakyRelu(0.2),
            };
            linear(layer, h, act)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_config() {
        let dev = crate::testing::device();
        let cfg = MlpConfig { d_in: 5, hidden: vec![7, 3], d_out: 2, activation: Activation::Tanh };
        let mlp = cfg.init(&dev);
        assert_eq!(mlp.layers.len(), 3);
        assert_eq!(mlp.forward(Tensor::zeros([4, 5], &dev)).dims(), [4, 2]);
        assert_eq!(mlp.num_params(), 5 * 7 + 7 + 7 * 3 + 3 + 3 * 2 + 2);
    }
}
