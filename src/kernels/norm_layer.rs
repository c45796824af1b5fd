//! Batch norm's training pass. On the CPU, batch norm and the nonlinearity after it are one
//! operation with its own backward pass ([`crate::kernels::norm`]): built from burn's tensor ops
//! the layer took about ten passes over the activations each way. Elsewhere the layer is built
//! from plain reductions: burn's `batch_norm_train` swaps the batch and channel axes and copies
//! the activation to get each channel's statistics, forward and backward (9-12 ms for a
//! 64x64x14x14 batch on the CPU, against 4.3-4.5 ms from `mean_dim` over the other axes,
//! `examples/ops.rs`). The module is burn's `BatchNorm`, so its parameters, running statistics
//! and checkpoints are unchanged.

use std::cell::Cell;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Flex, backend_extension};
use burn::nn::BatchNorm;
use burn::tensor::Tensor;
use burn_flex::FlexTensor;

use super::activation::activate;
use super::extension::{covered, flex, recorded, register, values};
use super::linear::Act;
use super::norm;

/// `act(γ (x - μ) σ⁻¹ + β)` on `x: [m, c]` (channels last), with the per-channel `μ` and `σ⁻¹`
/// of [`Norm`]; and the batch's moments of `x`, `[2, c]` (mean, biased variance), which carry
/// no gradient.
#[backend_extension(Flex, Autodiff)]
pub trait NormOps: Backend {
    fn norm_act(x: FloatTensor<Self>, gamma: FloatTensor<Self>, beta: FloatTensor<Self>, norm: Norm) -> FloatTensor<Self>;
    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The moments a batch norm layer normalises with, and the nonlinearity after it.
#[derive(Debug, Clone)]
pub struct Norm {
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    /// The batch's own moments (training), through which every row's gradient reaches every
    /// other; otherwise the running ones, constants.
    batch: bool,
    act: Act,
}

fn moments(x: &FlexTensor) -> FlexTensor {
    let c = x.layout().shape()[1];
    let (mean, var) = norm::moments(&values(x), c);
    flex([mean, var].concat(), [2, c])
}

/// The layer's output, and `x̂`, which its backward pass reuses.
fn layer_forward(x: &FlexTensor, gamma: &FlexTensor, beta: &FlexTensor, n: &Norm) -> (FlexTensor, Vec<f32>) {
    let (y, xhat) = norm::forward(&values(x), &n.mean, &n.inv_std, &values(gamma), &values(beta), n.act);
    (flex(y, [x.layout().shape()[0], n.mean.len()]), xhat)
}

impl NormOps for Flex {
    fn norm_act(x: FlexTensor, gamma: FlexTensor, beta: FlexTensor, norm: Norm) -> FlexTensor {
        layer_forward(&x, &gamma, &beta, &norm).0
    }

    fn channel_moments(x: FlexTensor) -> FlexTensor {
        moments(&x)
    }
}

/// The backward pass keeps γ's node, `x̂`, the output (`act'` is read off it) and the moments.
#[derive(Debug, Clone)]
struct Saved {
    gamma: NodeId,
    xhat: Vec<f32>,
    y: FlexTensor,
    norm: Norm,
}

#[derive(Debug)]
struct NormBackward;

impl Backward<Flex, 3> for NormBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let r = grads.consume::<Flex>(&ops.node);
        let gamma = checkpointer.retrieve_node_output::<FlexTensor>(ops.state.gamma);
        let Saved { xhat, y, norm: n, .. } = &ops.state;
        let c = n.mean.len();
        let [dx, dgamma, dbeta] = norm::backward(&values(&r), xhat, &values(y), &n.inv_std, &values(&gamma), n.act, n.batch);
        register(grads, &ops, [(Some(dx), vec![xhat.len() / c, c]), (Some(dgamma), vec![c]), (Some(dbeta), vec![c])]);
    }
}

impl<C: CheckpointStrategy> NormOps for Autodiff<Flex, C> {
    fn norm_act(x: FloatTensor<Self>, gamma: FloatTensor<Self>, beta: FloatTensor<Self>, n: Norm) -> FloatTensor<Self> {
        recorded::<C, _, _>(
            NormBackward,
            [x, gamma, beta],
            |x, gamma, beta| {
                let (y, xhat) = layer_forward(x, gamma, beta, &n);
                (y.clone(), (xhat, y, n))
            },
            |gamma, (xhat, y, norm)| Saved { gamma, xhat, y, norm },
        )
    }

    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as AutodiffBackend>::from_inner(moments(x.primitive()))
    }
}

/// `act(bn(x))` for `x: [N, H, W, C]` (networks that keep activations channels last). In
/// training (an autodiff device and `bn` not frozen) with the batch's statistics, the biased
/// variance, and the running statistics updated as burn does; otherwise with the running ones.
pub fn batch_norm_act_channels_last(bn: &BatchNorm, x: Tensor<4>, act: Act) -> Tensor<4> {
    if !covered(&x) {
        return activate(batch_norm_channels_last(bn, x), act);
    }
    let [n, h, w, c] = x.dims();
    let x = x.reshape([n * h * w, c]);
    let batch = training(bn, &x);
    let (mean, var) = if batch {
        let m = crate::host::host(Tensor::<2>::from_dispatch(<burn::backend::Dispatch as NormOps>::channel_moments(x.clone().into_dispatch())));
        let (mean, var) = m.split_at(c);
        update_running(bn, mean, var);
        (mean.to_vec(), var.to_vec())
    } else {
        (crate::host::host(bn.running_mean.value()), crate::host::host(bn.running_var.value()))
    };
    let norm = Norm { inv_std: norm::inv_std(&var, bn.epsilon as f32), mean, batch, act };
    let y = <burn::backend::Dispatch as NormOps>::norm_act(x.into_dispatch(), bn.gamma.val().into_dispatch(), bn.beta.val().into_dispatch(), norm);
    Tensor::<2>::from_dispatch(y).reshape([n, h, w, c])
}

thread_local! {
    /// Off inside [`running_updates`]`(false, ..)` on this thread.
    static UPDATE_RUNNING: Cell<bool> = const { Cell::new(true) };
}

/// `f()`, its training passes updating batch norm's running statistics (`on`, burn's behaviour)
/// or leaving them as they are. Either way a training pass normalises with its own batch's
/// statistics; the running ones are what evaluation normalises with, so passes over data that
/// evaluation will not see (an adversary-activated VAE's generated samples, `norm_stats = real`)
/// can be kept out of them. Scoped to this thread, as a training step is.
pub fn running_updates<R>(on: bool, f: impl FnOnce() -> R) -> R {
    /// Restores the setting on the way out, a panic included.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            UPDATE_RUNNING.set(self.0);
        }
    }
    let _restore = Restore(UPDATE_RUNNING.replace(on));
    f()
}

/// `running ← (1 - momentum) running + momentum batch`, burn's update, with the batch's moments
/// on the host (none inside `running_updates(false, ..)`).
fn update_running(bn: &BatchNorm, mean: &[f32], var: &[f32]) {
    if !UPDATE_RUNNING.get() {
        return;
    }
    let m = bn.momentum;
    for (running, batch) in [(&bn.running_mean, mean), (&bn.running_var, var)] {
        let device = running.value_sync().device();
        let batch = crate::host::tensor(batch.to_vec(), [batch.len()], &device);
        running.update(running.value_sync().mul_scalar(1.0 - m).add(batch.mul_scalar(m)).detach());
    }
}

/// `bn` applied to `x: [N, H, W, C]` from burn's tensor ops, where the fused kernel does not
/// apply (off the CPU). In training (an autodiff device and `bn` not frozen), with the batch's
/// statistics, the biased variance, and the running statistics updated as burn does; otherwise
/// burn's own inference pass.
fn batch_norm_channels_last(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    if !training(bn, &x) {
        return bn.forward(x.permute([0, 3, 1, 2])).permute([0, 2, 3, 1]);
    }
    let [n, h, w, c] = x.dims();
    // Each channel is a column of the `[N·H·W, C]` matrix.
    train_pass(bn, x, |t| t.reshape([n * h * w, c]).mean_dim(0).reshape([1, 1, 1, c]), [1, 1, 1, c])
}

fn training<const D: usize>(bn: &BatchNorm, x: &Tensor<D>) -> bool {
    x.device().is_autodiff() && bn.training.is_enabled()
}

/// The training pass, with `per_channel` the mean over all but the channel axis, kept as
/// `channel_shape`.
fn train_pass(bn: &BatchNorm, x: Tensor<4>, per_channel: impl Fn(Tensor<4>) -> Tensor<4>, channel_shape: [usize; 4]) -> Tensor<4> {
    let c = bn.gamma.dims()[0];
    let mean = per_channel(x.clone());
    let centered = x - mean.clone();
    let var = per_channel(centered.clone() * centered.clone());
    let scale = var.clone().add_scalar(bn.epsilon).sqrt().recip() * bn.gamma.val().reshape(channel_shape);
    let y = centered * scale + bn.beta.val().reshape(channel_shape);

    let m = bn.momentum;
    let update = |running: &burn::module::RunningState<Tensor<1>>, batch: Tensor<4>| {
        if !UPDATE_RUNNING.get() {
            return;
        }
        let device = batch.device();
        let r = running.value_sync().to_device(&device).mul_scalar(1.0 - m).add(batch.detach().reshape([c]).mul_scalar(m));
        running.update(r.detach());
    };
    update(&bn.running_mean, mean);
    update(&bn.running_var, var);
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::nn::BatchNormConfig;
    use crate::testing::{assert_close, to_vec};
    use crate::kernels::activation::activate;

    /// Output, gradients (input, gamma, beta) and running statistics agree with burn's
    /// `BatchNorm::forward` on a fixed batch; in inference mode the tensor-op paths are burn's
    /// pass itself, and the fused one (variant 3) agrees with it.
    #[test]
    fn batch_norm_is_burns() {
        let dev = crate::testing::device();
        let (n, c, h, w) = (5, 3, 4, 2);
        let v: Vec<f32> = (0..n * c * h * w).map(|i| ((i * 37) % 23) as f32 / 7.0 - 1.5 + (i % 3) as f32).collect();
        let weights: Vec<f32> = (0..n * c * h * w).map(|i| ((i * 11) % 13) as f32 / 13.0 - 0.4).collect();
        // 0: burn's; 2: unigen's channels last (through permutes); 3: the fused kernel,
        // channels last.
        let ours = |variant: u8, bn: &BatchNorm, x: Tensor<4>| match variant {
            2 => batch_norm_channels_last(bn, x.permute([0, 2, 3, 1])).permute([0, 3, 1, 2]),
            3 => batch_norm_act_channels_last(bn, x.permute([0, 2, 3, 1]), Act::Identity).permute([0, 3, 1, 2]),
            _ => bn.forward(x),
        };
        let run = |variant: u8| {
            let bn = BatchNormConfig::new(c).init(&dev);
            let x = crate::host::tensor(v.clone(), [n, c, h, w], &dev).require_grad();
            let y = ours(variant, &bn, x.clone());
            let grads = (y.clone() * crate::host::tensor(weights.clone(), [n, c, h, w], &dev)).sum().backward();
            let g = |p: &burn::module::Param<Tensor<1>>| to_vec(p.grad(&grads).expect("parameter gradient"));
            let out = (to_vec(y), to_vec(x.grad(&grads).unwrap()), g(&bn.gamma), g(&bn.beta));
            let bn = bn.valid();
            let stats = (to_vec(bn.running_mean.value()), to_vec(bn.running_var.value()));
            let x = crate::host::tensor(v.clone(), [n, c, h, w], &dev.clone().inner());
            (out, stats, to_vec(ours(variant, &bn, x.clone())), to_vec(bn.forward(x)))
        };
        let burn = run(0);
        for (variant, ours) in [(2, run(2)), (3, run(3))] {
            assert_close(&ours.0.0, &burn.0.0, 1e-5);
            assert_close(&ours.0.1, &burn.0.1, 1e-4);
            assert_close(&ours.0.2, &burn.0.2, 1e-5);
            assert_close(&ours.0.3, &burn.0.3, 1e-5);
            assert_close(&ours.1.0, &burn.1.0, 1e-6);
            assert_close(&ours.1.1, &burn.1.1, 1e-6);
            assert!(ours.1.0.iter().any(|m| m.abs() > 0.01), "the running mean moved");
            if variant < 3 {
                assert_eq!(ours.2, ours.3, "inference is burn's pass");
            } else {
                assert_close(&ours.2, &ours.3, 1e-5);
            }
        }
    }

    /// The fused layer with its nonlinearity against burn's ops (batch norm, then the
    /// activation), in training and in inference, with gradients; and a frozen layer on an
    /// autodiff device normalises with its running statistics and passes gradients through them
    /// as constants.
    #[test]
    fn the_fused_layer_is_batch_norm_then_the_activation() {
        let dev = crate::testing::device();
        let (n, h, w, c) = (4, 3, 3, 5);
        let v: Vec<f32> = (0..n * h * w * c).map(|i| ((i * 37) % 29) as f32 / 9.0 - 1.2 + (i % 5) as f32 * 0.3).collect();
        let weights: Vec<f32> = (0..n * h * w * c).map(|i| ((i * 11) % 17) as f32 / 17.0 - 0.4).collect();
        for act in [Act::Relu, Act::LeakyRelu(0.2)] {
            for frozen in [false, true] {
                let run = |fused: bool| {
                    let mut bn = BatchNormConfig::new(c).init(&dev);
                    if frozen {
                        // Running statistics away from the batch's, so using the wrong ones shows.
                        bn.running_mean = burn::module::RunningState::new(crate::host::tensor(vec![0.5, -0.2, 0.1, 0.0, 0.3], [c], &dev));
                        bn.running_var = burn::module::RunningState::new(crate::host::tensor(vec![2.0, 0.5, 1.5, 1.0, 3.0], [c], &dev));
                        bn = bn.freeze();
                    }
                    let x = crate::host::tensor(v.clone(), [n, h, w, c], &dev).require_grad();
                    let y = if fused { batch_norm_act_channels_last(&bn, x.clone(), act) } else { activate(burns_channels_last(&bn, x.clone()), act) };
                    let grads = (y.clone() * crate::host::tensor(weights.clone(), [n, h, w, c], &dev)).sum().backward();
                    // A frozen layer's parameters have no gradient.
                    let g = |p: &burn::module::Param<Tensor<1>>| p.grad(&grads).map(to_vec).unwrap_or_default();
                    (to_vec(y), to_vec(x.grad(&grads).unwrap()), g(&bn.gamma), g(&bn.beta), to_vec(bn.running_var.value()))
                };
                let (ours, burns) = (run(true), run(false));
                assert_close(&ours.0, &burns.0, 1e-5);
                assert_close(&ours.1, &burns.1, 1e-4);
                assert_close(&ours.2, &burns.2, 1e-5);
                assert_close(&ours.3, &burns.3, 1e-5);
                assert_eq!(ours.2.is_empty(), frozen);
                assert_close(&ours.4, &burns.4, 1e-6);
                assert!(ours.0.contains(&0.0) == (act == Act::Relu), "{act:?} cuts the negatives");
            }
        }
    }

    /// Inside `running_updates(false, ..)` a training pass is the same pass (output and
    /// gradient) but leaves the running statistics as they were, on both paths; outside, and
    /// after a panic inside, they move again.
    #[test]
    fn running_updates_off_leaves_the_running_statistics_alone() {
        let dev = crate::testing::device();
        let (n, h, w, c) = (4, 3, 3, 5);
        let v: Vec<f32> = (0..n * h * w * c).map(|i| ((i * 37) % 29) as f32 / 9.0 - 1.2).collect();
        for fused in [true, false] {
            let pass = |bn: &BatchNorm| {
                let x = crate::host::tensor(v.clone(), [n, h, w, c], &dev).require_grad();
                let y = if fused { batch_norm_act_channels_last(bn, x.clone(), Act::Relu) } else { batch_norm_channels_last(bn, x.clone()) };
                let grads = y.clone().sum().backward();
                (to_vec(y), to_vec(x.grad(&grads).unwrap()))
            };
            let stats = |bn: &BatchNorm| (to_vec(bn.running_mean.value_sync()), to_vec(bn.running_var.value_sync()));
            let bn = BatchNormConfig::new(c).init(&dev);
            let fresh = stats(&bn);
            let off = running_updates(false, || pass(&bn));
            assert_eq!(stats(&bn), fresh, "fused {fused}: no update inside");
            let on = pass(&bn);
            assert_eq!(off, on, "fused {fused}: the same pass either way");
            let moved = stats(&bn);
            assert_ne!(moved, fresh, "fused {fused}: updated outside");
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| running_updates(false, || panic!("inside"))));
            assert!(panicked.is_err());
            pass(&bn);
            assert_ne!(stats(&bn), moved, "fused {fused}: updates resume after a panic inside");
        }
    }

    /// burn's own layer on channels-last activations: its training pass with the batch's
    /// statistics, or (frozen) its inference pass with the running ones.
    fn burns_channels_last(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
        bn.forward(x.permute([0, 3, 1, 2])).permute([0, 2, 3, 1])
    }
}
