//! CycleGAN's networks (Zhu et al. 2017, docs/spec.md §2.8): two translators between domain A
//! (MNIST) and domain B (a shifted MNIST), each a GAN generator whose input is an image. Their
//! step is in `train/cyclegan.rs`.

use burn::module::Module;
use burn::tensor::Tensor;

use super::Generator;

/// The two translators, one module (one optimiser: their parameters are disjoint).
#[derive(Module, Debug)]
pub struct Translators {
    pub a_to_b: Generator,
    pub b_to_a: Generator,
}

impl Translators {
    pub fn a_to_b(&self, a: Tensor<2>) -> Tensor<2> {
        self.a_to_b.forward(a, None)
    }

    pub fn b_to_a(&self, b: Tensor<2>) -> Tensor<2> {
        self.b_to_a.forward(b, None)
    }
}
