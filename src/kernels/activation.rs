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

/// Maxout (Goodfellow et al. 2013) over `x: [n, units·pieces]`: unit `j` is the largest of
/// columns `j·pieces .. (j+1)·pieces`. On the CPU one pass each way ([`ActOps::maxout`]); burn's
/// `max_dim` routes the gradient through a generic scatter, 10% of a PacGAN 2-D GAN step.
pub fn maxout(x: Tensor<2>, pieces: usize) -> Tensor<2> {
    let [n, c] = x.dims();
    assert!((1..=256).contains(&pieces) && c % pieces == 0, "maxout: {c} columns are not units of {pieces} pieces (1 to 256)");
    if covered(&x) {
        return Tensor::from_dispatch(<burn::backend::Dispatch as ActOps>::maxout(x.into_dispatch(), pieces));
    }
    x.reshape([n, c / pieces, pieces]).max_dim(2).reshape([n, c / pieces])
}

/// `act(x)` elementwise as one operation, its gradient `r act'(y)` read off the output `y`: one
/// pass each way where burn's ops for a leaky ReLU took five forward and seven backward. And
/// [`maxout`], whose gradient goes to each unit's largest piece.
#[backend_extension(Flex, Autodiff)]
pub trait ActOps: Backend {
    fn activation(x: FloatTensor<Self>, act: Act) -> FloatTensor<Self>;
    fn maxout(x: FloatTensor<Self>, pieces: usize) -> FloatTensor<Self>;
}

/// Each unit's largest piece (the first of equals, as burn's `max_dim`) and which one it is.
fn maxout_forward(x: &FlexTensor, pieces: usize) -> (FlexTensor, Vec<u8>) {
    let shape = x.layout().shape().clone();
    let x = values(x);
    let units = x.len() / pieces;
    let (mut y, mut arg) = (overwritten(units), vec![0u8; units]);
    // Whole units per chunk, so every chunk of `x` starts at a unit.
    y.par_chunks_mut(CHUNK).zip(arg.par_chunks_mut(CHUNK)).zip(x.par_chunks(CHUNK * pieces)).for_each(|((y, arg), x)| {
        for ((y, arg), p) in y.iter_mut().zip(arg.iter_mut()).zip(x.chunks_exact(pieces)) {
            let (mut best, mut at) = (p[0], 0);
            for (k, &v) in p.iter().enumerate().skip(1) {
                if v > best {
                    (best, at) = (v, k);
                }
            }
            (*y, *arg) = (best, at as u8);
        }
    });
    (flex(y, [shape[0], shape[1] / pieces]), arg)
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

    fn maxout(x: FlexTensor, pieces: usize) -> FlexTensor {
        maxout_forward(&x, pieces).0
    }
}

#[derive(Debug)]
struct MaxoutBackward;

impl Backward<Flex, 1> for MaxoutBackward {
    /// Each unit's largest piece, the pieces per unit, and the input's shape.
    type State = (Vec<u8>, usize, burn::tensor::Shape);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let r = grads.consume::<Flex>(&ops.node);
        let (arg, pieces, shape) = &ops.state;
        let [node] = &ops.parents;
        if let Some(node) = node {
            let r = values(&r);
            let mut dx = vec![0f32; r.len() * pieces];
            dx.par_chunks_mut(CHUNK * pieces).zip(r.par_chunks(CHUNK).zip(arg.par_chunks(CHUNK))).for_each(|(dx, (r, arg))| {
                for ((dx, r), &at) in dx.chunks_exact_mut(*pieces).zip(r).zip(arg) {
                    dx[at as usize] = *r;
                }
            });
            grads.register::<Flex>(node.id, flex(dx, shape.clone()));
        }
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

    fn maxout(x: FloatTensor<Self>, pieces: usize) -> FloatTensor<Self> {
        match MaxoutBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (y, arg) = maxout_forward(x.primitive(), pieces);
                prep.finish((arg, pieces, x.primitive().layout().shape().clone()), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(maxout_forward(x.primitive(), pieces).0),
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
    use crate::testing::{assert_close, t1, t2, to_vec};

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
    fn maxout_is_burns_max_dim() {
        // 3 rows of 4 units of 5 pieces, distinct values, plus a unit whose pieces tie.
        let (units, pieces) = (4, 5);
        let mut xs: Vec<f32> = (0..3 * units * pieces).map(|i| ((i * 7919) % 61) as f32 / 7.0 - 4.0 + i as f32 * 1e-3).collect();
        xs[5..10].copy_from_slice(&[0.5, 2.0, 2.0, -1.0, 2.0]);
        let weights = t2(&(0..3 * units).map(|i| (i as f32).sin()).collect::<Vec<_>>(), [3, units]);
        let run = |f: &dyn Fn(Tensor<2>) -> Tensor<2>| {
            let x = t2(&xs, [3, units * pieces]).require_grad();
            let y = f(x.clone());
            let grads = (y.clone() * weights.clone()).sum().backward();
            (to_vec(y), to_vec(x.grad(&grads).unwrap()))
        };
        let (y, g) = run(&|x| maxout(x, pieces));
        let (y_burn, g_burn) = run(&|x| x.reshape([3, units, pieces]).max_dim(2).reshape([3, units]));
        assert_eq!(y, y_burn);
        assert_eq!(g, g_burn);
        // The tied unit's gradient goes to its first largest piece, and nowhere else.
        assert_eq!(&g[5..10], &[0.0, to_vec(weights)[1], 0.0, 0.0, 0.0]);
    }

    #[test]
    fn tanh_is_burns() {
        same_as_burn(tanh, burn::tensor::activation::tanh, 2e-7);
        // Far out and near 0 the kernel saturates and stays odd, without overflow.
        assert_eq!(to_vec(tanh(t1(&[-1e4, -30.0, 1e-30, 0.0, 30.0, 1e4]))), vec![-1.0, -1.0, 1e-30, 0.0, 1.0, 1.0]);
    }
}
