//! What unigen's own CPU layers (convolutions, dense layers) share to plug into burn: burn 0.22
//! runs an operation with its own backward pass through a backend extension, a trait
//! implemented for the CPU backend (the kernels) and for autodiff over it, which records the
//! backward pass. Each layer is an operation on `[input, weight, bias]`.

use std::borrow::Cow;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::{DType, Tensor, TensorData};
use burn_flex::FlexTensor;

/// Whether unigen's kernels take tensors like `x`: on the CPU, in f32.
pub(super) fn covered<const D: usize>(x: &Tensor<D>) -> bool {
    x.dtype() == DType::F32 && crate::backend::is_cpu(&x.device())
}

/// A layer's bias, or zeros (a constant) for a layer without one.
pub(super) fn bias<const D: usize>(b: Option<Tensor<1>>, channels: usize, x: &Tensor<D>) -> Tensor<1> {
    b.unwrap_or_else(|| Tensor::zeros([channels], &x.device()))
}

/// The values of a CPU tensor, contiguous (copied only if they are not).
pub(super) fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(v) => v.into(),
        None => t.to_contiguous().as_slice::<f32>().expect("contiguous f32 tensor").to_vec().into(),
    }
}

pub(super) fn flex(values: Vec<f32>, shape: impl Into<burn::tensor::Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `forward` on the CPU tensors of `[input, w, b]`, recorded with `backward` when any of them
/// needs a gradient. `forward` also returns what the backward pass reuses; `state` makes the
/// backward pass's state from that and the weight's node (checkpointed, as burn's own ops do).
pub(super) fn recorded<C: CheckpointStrategy, BO: Backward<Flex, 3>, R>(
    backward: BO,
    [input, w, b]: [FloatTensor<Autodiff<Flex, C>>; 3],
    forward: impl FnOnce(&FlexTensor, &FlexTensor, &FlexTensor) -> (FlexTensor, R),
    state: impl FnOnce(NodeId, R) -> BO::State,
) -> FloatTensor<Autodiff<Flex, C>> {
    let prepared = backward.prepare::<C>([input.node(), w.node(), b.node()]).compute_bound().stateful();
    let (out, reuse) = forward(input.primitive(), w.primitive(), b.primitive());
    match prepared {
        OpsKind::Tracked(mut prep) => {
            let w = prep.checkpoint(&w);
            prep.finish(state(w, reuse), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

/// Registers each of a three-input operation's gradients, with its shape, for the inputs that
/// asked for one (`None`: not computed).
pub(super) fn register<S>(grads: &mut Gradients, ops: &Ops<S, 3>, each: [(Option<Vec<f32>>, Vec<usize>); 3]) {
    for (node, (grad, shape)) in ops.parents.iter().zip(each) {
        if let (Some(node), Some(grad)) = (node, grad) {
            grads.register::<Flex>(node.id, flex(grad, shape));
        }
    }
}
