//! Nonlinearities, written for speed on burn's CPU backend with burn's values (docs/performance.md).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn_flex::FlexTensor;
use rayon::prelude::*;

use super::CHUNK;
use super::extension::{covered, flex, values};
use super::matmul::overwritten;

use crate::backend::is_cpu;
use crate::host::{host, tensor, with_gradient_of};
use crate::kernels;
use crate::kernels::linear::Act;

/// `act(x)` from tensor ops (where no fused kernel applies).
pub fn activate<const D: usize>(x: Tensor<D>, act: Act) -> Tensor<D> {
    match act {
        Act::Identity => x,
        Act::Relu => relu(x),
        Act::LeakyRelu(slope) => leaky_relu(x, slope as f64),
        Act::Tanh => tanh(x),
    }
}

/// Leaky ReLU `x` for `x >= 0`, `slope x` below. On the CPU one pass each way ([`ActOps`]);
/// elsewhere as `relu(x) - slope relu(-x)`: the same values bit for bit (`x - 0` and
/// `0 - slope (-x)` are exact), through ReLU's cheap gradient. burn's own `leaky_relu`
/// differentiates through a masked select, 16x slower on the CPU.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    if covered(&x) {
        return Tensor::from_dispatch(<burn::backend::Dispatch as ActOps>::activation(x.into_dispatch(), Act::LeakyRelu(slope as f32)));
    }
    relu(x.clone()) - relu(x.neg()).mul_scalar(slope)
}

/// `act(x)` elementwise as one operation, its gradient `r act'(y)` read off the output `y`: one
/// pass each way where burn's ops for a leaky ReLU took five forward and seven backward.
#[backend_extension(Flex, Autodiff)]
pub trait ActOps: Backend {
    fn activation(x: FloatTensor<Self>, act: Act) -> FloatTensor<Self>;
}

fn apply(x: &FlexTensor, act: Act) -> FlexTensor {
    let x_values = values(x);
    let mut y = overwritten(x_values.len());
    with_act!(act, |f, _df| y.par_chunks_mut(CHUNK).zip(x_values.par_chunks(CHUNK)).for_each(|(y, x)| y.iter_mut().zip(x).for_each(|(y, x)| *y = f(*x))));
    flex(y, x.layout().shape().clone())
}

impl ActOps for Flex {
    fn activation(x: FlexTensor, act: Act) -> FlexTensor {
        apply(&x, act)
    }
}

#[derive(Debug)]
struct ActBackward;

impl Backward<Flex, 1> for ActBackward {
    /// The output, and the activation.
    type State = (FlexTensor, Act);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let r = grads.consume::<Flex>(&ops.node);
        let (y, act) = &ops.state;
        let [node] = &ops.parents;
        if let Some(node) = node {
            let dx = kernels::times_derivative(&values(&r), &values(y), *act);
            grads.register::<Flex>(node.id, flex(dx, y.layout().shape().clone()));
        }
    }
}

impl<C: CheckpointStrategy> ActOps for Autodiff<Flex, C> {
    fn activation(x: FloatTensor<Self>, act: Act) -> FloatTensor<Self> {
        match ActBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let y = apply(x.primitive(), act);
                prep.finish((y.clone(), act), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(apply(x.primitive(), act)),
        }
    }
}

/// `tanh(x)`. On the CPU its values come from one pass of [`kernels::tanh`] and its gradient
/// `1 - tanh^2` enters through `s = x (1 - tanh^2)` ([`with_gradient_of`]): burn's `tanh` calls
/// libm's scalar `tanhf` at ~17 ns an element.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !is_cpu(&x.device()) {
        return burn::tensor::activation::tanh(x);
    }
    let t: Tensor<D> = tensor(kernels::tanh(&host(x.clone().detach())), x.dims(), &x.device());
    let s = x * (t.clone() * t.clone()).neg().add_scalar(1.0);
    with_gradient_of(t, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, t1, to_vec};

    /// Values and gradients of `f` and of burn's version at points on both sides of 0 (and away
    /// from the kink of the leaky ReLU, where the one-sided gradients differ).
    fn same_as_burn(f: fn(Tensor<1>) -> Tensor<1>, burn: fn(Tensor<1>) -> Tensor<1>, tol: f32) {
        let xs: Vec<f32> = (0..4001).map(|i| (i as f32 - 2000.0) / 97.0).filter(|x| *x != 0.0).collect();
        let weights = t1(&xs.iter().map(|x| x.sin()).collect::<Vec<_>>());
        let run = |g: fn(Tensor<1>) -> Tensor<1>| {
            let x = t1(&xs).require_grad();
            let y = g(x.clone());
            let grads = (y.clone() * weights.clone()).sum().backward();
            (to_vec(y), to_vec(x.grad(&grads).unwrap()))
        };
        let ((y, g), (y_burn, g_burn)) = (run(f), run(burn));
        assert_close(&y, &y_burn, tol);
        assert_close(&g, &g_burn, tol);
    }

    #[test]
    fn leaky_relu_is_burns() {
        same_as_burn(|x| leaky_relu(x, 0.2), |x| burn::tensor::activation::leaky_relu(x, 0.2), 0.0);
    }

    #[test]
    fn tanh_is_burns() {
        same_as_burn(tanh, burn::tensor::activation::tanh, 2e-7);
        // Far out and near 0 the kernel saturates and stays odd, without overflow.
        assert_eq!(to_vec(tanh(t1(&[-1e4, -30.0, 1e-30, 0.0, 30.0, 1e4]))), vec![-1.0, -1.0, 1e-30, 0.0, 1.0, 1.0]);
    }
}
