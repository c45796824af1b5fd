//! Convolution layers through unigen's im2col kernels ([`crate::kernels::conv`]) on the CPU.
//!
//! burn runs a custom operation with its own backward pass through a backend extension: the
//! trait below is implemented for the CPU backend (the kernels) and for autodiff over it (which
//! records the backward pass). A convolution and a transposed convolution are one operation
//! and its adjoint, so two differentiable functions and one filter gradient cover both layers.
//! The modules stay burn's `Conv2d` / `ConvTranspose2d`, so parameters and checkpoints are
//! unchanged; off the CPU, or for layouts the kernels do not cover (groups, f64), burn's own
//! forward runs.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::{DType, Tensor, TensorData};
use burn_flex::FlexTensor;

use crate::kernels::conv::{self as kernel, Geometry};

/// A convolution ([`kernel::forward`]), its adjoint in the input, which is the transposed
/// convolution ([`kernel::input_grad`]), and the filter gradient they share.
#[backend_extension(Flex, Autodiff)]
pub trait ConvOps: Backend {
    fn conv_im2col(x: FloatTensor<Self>, w: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self>;
    fn conv_im2col_adjoint(y: FloatTensor<Self>, w: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self>;
    fn conv_im2col_filter_grad(x: FloatTensor<Self>, dy: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self>;
}

/// The values of a CPU tensor, contiguous (copied only if they are not).
fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(v) => v.into(),
        None => t.to_contiguous().as_slice::<f32>().expect("contiguous f32 tensor").to_vec().into(),
    }
}

fn flex(values: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl ConvOps for Flex {
    fn conv_im2col(x: FlexTensor, w: FlexTensor, g: Geometry) -> FlexTensor {
        flex(kernel::forward(&g, &values(&x), &values(&w)), [g.n, g.o, g.out[0], g.out[1]])
    }

    fn conv_im2col_adjoint(y: FlexTensor, w: FlexTensor, g: Geometry) -> FlexTensor {
        flex(kernel::input_grad(&g, &values(&y), &values(&w)), [g.n, g.c, g.h, g.w])
    }

    fn conv_im2col_filter_grad(x: FlexTensor, dy: FlexTensor, g: Geometry) -> FlexTensor {
        flex(kernel::filter_grad(&g, &values(&x), &values(&dy)), [g.o, g.c, g.kernel[0], g.kernel[1]])
    }
}

/// The backward pass of the convolution (`adjoint = false`: `y = conv(x, w)`) or of its
/// adjoint (`adjoint = true`: `x = convᵀ(y, w)`). With `r` the incoming gradient:
/// conv: `dx = convᵀ(r)`, `dw = filter_grad(x, r)`; adjoint: `dy = conv(r)`, `dw = filter_grad(r, y)`.
#[derive(Debug)]
struct ConvBackward {
    adjoint: bool,
}

impl<B: Backend + ConvOps> Backward<B, 2> for ConvBackward {
    type State = (NodeId, NodeId, Geometry);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_input, node_w] = ops.parents;
        let r = grads.consume::<B>(&ops.node);
        let (input, w, g) = ops.state;
        let input = checkpointer.retrieve_node_output::<FloatTensor<B>>(input);
        let w = checkpointer.retrieve_node_output::<FloatTensor<B>>(w);
        let (data_grad, filter_grad) = match self.adjoint {
            false => (B::conv_im2col_adjoint as fn(_, _, _) -> _, (input, r.clone())),
            true => (B::conv_im2col as fn(_, _, _) -> _, (r.clone(), input)),
        };
        if let Some(node) = node_w {
            grads.register::<B>(node.id, B::conv_im2col_filter_grad(filter_grad.0, filter_grad.1, g));
        }
        if let Some(node) = node_input {
            grads.register::<B>(node.id, data_grad(r, w, g));
        }
    }
}

impl<B: Backend + ConvOps, C: CheckpointStrategy> ConvOps for Autodiff<B, C> {
    fn conv_im2col(x: FloatTensor<Self>, w: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self> {
        tracked::<B, C>(ConvBackward { adjoint: false }, x, w, g, B::conv_im2col)
    }

    fn conv_im2col_adjoint(y: FloatTensor<Self>, w: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self> {
        tracked::<B, C>(ConvBackward { adjoint: true }, y, w, g, B::conv_im2col_adjoint)
    }

    /// Only ever called inside a backward pass, on plain tensors: not differentiable itself.
    fn conv_im2col_filter_grad(x: FloatTensor<Self>, dy: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::conv_im2col_filter_grad(x.into_primitive(), dy.into_primitive(), g))
    }
}

/// `op(input, w)` on the inner backend, recorded for the backward pass when either needs a gradient.
fn tracked<B: Backend + ConvOps, C: CheckpointStrategy>(
    backward: ConvBackward,
    input: FloatTensor<Autodiff<B, C>>,
    w: FloatTensor<Autodiff<B, C>>,
    g: Geometry,
    op: fn(FloatTensor<B>, FloatTensor<B>, Geometry) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    match backward.prepare::<C>([input.node(), w.node()]).compute_bound().stateful() {
        OpsKind::Tracked(mut prep) => {
            let state = (prep.checkpoint(&input), prep.checkpoint(&w), g);
            prep.finish(state, op(input.into_primitive(), w.into_primitive(), g))
        }
        OpsKind::UnTracked(prep) => prep.finish(op(input.into_primitive(), w.into_primitive(), g)),
    }
}

/// Whether the kernels cover this layer and these values: CPU, f32, one group.
fn covered(x: &Tensor<4>, groups: usize) -> bool {
    groups == 1 && x.dtype() == DType::F32 && crate::backend::is_cpu(&x.device())
}

/// `layer.forward(x)` through the im2col kernels where they apply.
pub fn conv2d(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let w = layer.weight.val();
    let ([n, c, h, wd], [o, _, kh, kw]) = (x.dims(), w.dims());
    let (top, left, bottom, right) = match layer.padding {
        PaddingConfig2d::Explicit(top, left, bottom, right) => (top, left, bottom, right),
        PaddingConfig2d::Valid => (0, 0, 0, 0),
        _ => return layer.forward(x),
    };
    if !covered(&x, layer.groups) || top != bottom || left != right {
        return layer.forward(x);
    }
    let (stride, dilation, padding) = (layer.stride, layer.dilation, [top, left]);
    let side = |axis: usize, size: usize| (size + 2 * padding[axis] - dilation[axis] * ([kh, kw][axis] - 1) - 1) / stride[axis] + 1;
    let g = Geometry { n, c, h, w: wd, o, kernel: [kh, kw], stride, padding, dilation, out: [side(0, h), side(1, wd)] };
    let y = Tensor::from_dispatch(<burn::backend::Dispatch as ConvOps>::conv_im2col(x.into_dispatch(), w.into_dispatch(), g));
    match &layer.bias {
        Some(b) => y + b.val().reshape([1, o, 1, 1]),
        None => y,
    }
}

/// `layer.forward(x)` through the im2col kernels where they apply: the adjoint of the
/// convolution from the output's shape back to the input's.
pub fn conv_transpose2d(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let w = layer.weight.val();
    let ([n, c_in, h, wd], [_, c_out, kh, kw]) = (x.dims(), w.dims());
    if !covered(&x, layer.groups) {
        return layer.forward(x);
    }
    let (stride, dilation, padding, extra) = (layer.stride, layer.dilation, layer.padding, layer.padding_out);
    let side = |axis: usize, size: usize| (size - 1) * stride[axis] + dilation[axis] * ([kh, kw][axis] - 1) + extra[axis] + 1 - 2 * padding[axis];
    let g = Geometry { n, c: c_out, h: side(0, h), w: side(1, wd), o: c_in, kernel: [kh, kw], stride, padding, dilation, out: [h, wd] };
    let y = Tensor::from_dispatch(<burn::backend::Dispatch as ConvOps>::conv_im2col_adjoint(x.into_dispatch(), w.into_dispatch(), g));
    match &layer.bias {
        Some(b) => y + b.val().reshape([1, c_out, 1, 1]),
        None => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
    use crate::testing::{assert_close, to_vec};

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| (((i + seed) * 37) % 29) as f32 / 14.0 - 1.0).collect()
    }

    /// Output and the gradients of input, filter and bias of `ours` against burn's `forward`,
    /// on a fixed input and a fixed weighting of the output.
    fn check(input: [usize; 4], layer_out: impl Fn(bool, Tensor<4>) -> (Tensor<4>, Vec<Tensor<4>>, Option<Tensor<1>>)) {
        let dev = crate::testing::device();
        let run = |ours: bool| {
            let x = crate::host::tensor(values(input.iter().product(), 1), input, &dev).require_grad();
            let (y, ws, b) = layer_out(ours, x.clone());
            let weighting = crate::host::tensor(values(y.dims().iter().product(), 2), y.dims(), &dev);
            let grads = (y.clone() * weighting).sum().backward();
            let mut out = vec![to_vec(y), to_vec(x.grad(&grads).expect("input gradient"))];
            out.extend(ws.iter().map(|w| to_vec(w.grad(&grads).expect("filter gradient"))));
            out.extend(b.map(|b| to_vec(b.grad(&grads).expect("bias gradient"))));
            out
        };
        let (ours, burns) = (run(true), run(false));
        assert_eq!(ours.len(), burns.len());
        for (o, b) in ours.iter().zip(&burns) {
            assert_close(o, b, 1e-5);
        }
    }

    #[test]
    fn convolution_matches_burns_forward_and_gradients() {
        let dev = crate::testing::device();
        // Strided, padded, dilated, non-square: every index path of im2col / col2im.
        for (config, input) in [
            (Conv2dConfig::new([3, 4], [4, 3]).with_stride([2, 1]).with_padding(PaddingConfig2d::Explicit(1, 2, 1, 2)).with_dilation([1, 2]), [2, 3, 9, 8]),
            (Conv2dConfig::new([1, 5], [4, 4]).with_stride([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)), [3, 1, 8, 8]),
            (Conv2dConfig::new([2, 3], [3, 3]).with_bias(false), [2, 2, 5, 6]),
        ] {
            let layer = config.init(&dev);
            check(input, |ours, x| {
                let y = if ours { conv2d(&layer, x) } else { layer.forward(x) };
                (y, vec![layer.weight.val()], layer.bias.as_ref().map(|b| b.val()))
            });
        }
    }

    #[test]
    fn transposed_convolution_matches_burns_forward_and_gradients() {
        let dev = crate::testing::device();
        for (config, input) in [
            (ConvTranspose2dConfig::new([4, 3], [4, 4]).with_stride([2, 2]).with_padding([1, 1]), [2, 4, 4, 4]),
            (ConvTranspose2dConfig::new([3, 2], [3, 4]).with_stride([2, 3]).with_padding([1, 0]).with_padding_out([1, 2]).with_dilation([2, 1]), [2, 3, 5, 4]),
            (ConvTranspose2dConfig::new([2, 1], [4, 4]).with_stride([2, 2]).with_padding([1, 1]).with_bias(false), [3, 2, 7, 7]),
        ] {
            let layer = config.init(&dev);
            check(input, |ours, x| {
                let y = if ours { conv_transpose2d(&layer, x) } else { layer.forward(x) };
                (y, vec![layer.weight.val()], layer.bias.as_ref().map(|b| b.val()))
            });
        }
    }
}
