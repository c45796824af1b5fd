//! Adam, as burn's `Adam` computes it, with the per-parameter update fused into one pass on the
//! CPU backend ([`crate::kernels::adam`]). Same state type as burn's, so checkpoints written
//! with either load into the other; on GPUs it is burn's `Adam` unchanged.

use burn::optim::{AdaptiveMomentumState, Adam as PlainAdam, AdamConfig, AdamState, LearningRate, Optimizer};
use burn::tensor::{Device, Tensor, TensorData};

use crate::backend::is_cpu;
use crate::host::host;
use crate::kernels::{self, AdamStep};

#[derive(Clone)]
pub struct Adam {
    plain: PlainAdam,
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
}

impl Adam {
    pub fn new(beta_1: f32, beta_2: f32, epsilon: f32) -> Self {
        let plain = AdamConfig::new().with_beta_1(beta_1).with_beta_2(beta_2).with_epsilon(epsilon).build();
        Adam { plain, beta_1, beta_2, epsilon }
    }
}

impl Optimizer for Adam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let device = tensor.device();
        if !is_cpu(&device) {
            return self.plain.step(lr, tensor, grad, state);
        }
        let shape = tensor.shape();
        let n = shape.num_elements();
        let (t, m, v) = match state {
            Some(s) => (s.momentum.time + 1, host(s.momentum.moment_1), host(s.momentum.moment_2)),
            None => (1, vec![0.0; n], vec![0.0; n]),
        };
        let (mut p, g, mut m, mut v) = (host(tensor), host(grad), m, v);
        let s = AdamStep { lr: lr as f32, beta_1: self.beta_1, beta_2: self.beta_2, epsilon: self.epsilon, t: t as i32 };
        kernels::adam(s, &mut p, &g, &mut m, &mut v);
        let back = |x: Vec<f32>| Tensor::from_data(TensorData::new(x, shape.clone()), &device);
        let state = AdamState::new(AdaptiveMomentumState::new(t, back(m), back(v)));
        (back(p), Some(state))
    }

    fn to_device<const D: usize>(state: AdamState<D>, device: &Device) -> AdamState<D> {
        PlainAdam::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::{GradientsParams, ModuleOptimizer};
    use burn::module::Module;
    use crate::nets::{Mlp, MlpConfig};
    use crate::testing::module_values as weights;

    /// Three steps of burn's Adam and of the fused one from the same weights and gradients give
    /// the same weights, bit for bit.
    #[test]
    fn fused_adam_is_burns_adam_bit_for_bit() {
        let dev = crate::testing::device();
        let net: Mlp = crate::backend::seeded(5, &dev, || {
            MlpConfig::new(300, vec![200], 90, crate::config::Activation::Relu).init(&dev)
        });
        let x = crate::host::tensor((0..64 * 300).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect(), [64, 300], &dev);
        let run = |mut optim: ModuleOptimizer| {
            let mut net = net.clone();
            for _ in 0..3 {
                let loss = net.forward(x.clone()).tanh().sum();
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(2e-3, net, grads);
            }
            weights(&net)
        };
        let (b1, b2, eps) = (0.5, 0.99, 1e-8);
        let plain = run(AdamConfig::new().with_beta_1(b1).with_beta_2(b2).with_epsilon(eps).init());
        let fused = run(ModuleOptimizer::from(Adam::new(b1, b2, eps)));
        assert_eq!(plain.len(), net.num_params());
        assert!(plain.iter().zip(&fused).all(|(a, b)| a.to_bits() == b.to_bits()), "weights differ");
    }
}
