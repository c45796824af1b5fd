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
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::Tensor;
use burn_flex::FlexTensor;

use super::extension::{bias, covered, flex, recorded, register, values};
use super::matmul::side_by_side;

use crate::kernels::conv::{self as kernel, Geometry};

/// A convolution plus bias, and its adjoint in the input plus a bias over the input's
/// channels, which is the transposed convolution.
#[backend_extension(Flex, Autodiff)]
pub trait ConvOps: Backend {
    fn conv_im2col(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self>;
    fn conv_im2col_adjoint(y: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self>;
}

fn input_shape(g: &Geometry) -> [usize; 4] {
    if g.channels_last { [g.n, g.h, g.w, g.c] } else { [g.n, g.c, g.h, g.w] }
}

fn filter_shape(g: &Geometry) -> Vec<usize> {
    vec![g.o, g.c, g.kernel[0], g.kernel[1]]
}

fn output_shape(g: &Geometry) -> [usize; 4] {
    if g.channels_last { [g.n, g.out[0], g.out[1], g.o] } else { [g.n, g.o, g.out[0], g.out[1]] }
}

/// The convolution's forward pass: its output, and `patches(x)`, which its backward pass reuses.
fn conv_forward(x: &FlexTensor, w: &FlexTensor, b: &FlexTensor, g: Geometry) -> (FlexTensor, FlexTensor) {
    let patches = kernel::patches(&g, &values(x));
    let y = kernel::forward_from(&g, &patches, &values(w), Some(&values(b)));
    (flex(y, output_shape(&g)), flex(patches, [g.n * g.positions(), g.taps()]))
}

/// The adjoint's forward pass: its output, and `outputs_last(y)`, which its backward pass reuses.
fn adjoint_forward(y: &FlexTensor, w: &FlexTensor, b: &FlexTensor, g: Geometry) -> (FlexTensor, FlexTensor) {
    let y_values = values(y);
    let y_last = kernel::outputs_last(&g, &y_values);
    let x = flex(kernel::adjoint_from(&g, &y_last, &values(w), Some(&values(b))), input_shape(&g));
    let reuse = match y_last {
        std::borrow::Cow::Borrowed(_) => y.clone(), // `y` is already laid out so
        std::borrow::Cow::Owned(y_last) => flex(y_last, [g.n * g.positions(), g.o]),
    };
    (x, reuse)
}

impl ConvOps for Flex {
    fn conv_im2col(x: FlexTensor, w: FlexTensor, b: FlexTensor, g: Geometry) -> FlexTensor {
        conv_forward(&x, &w, &b, g).0
    }

    fn conv_im2col_adjoint(y: FlexTensor, w: FlexTensor, b: FlexTensor, g: Geometry) -> FlexTensor {
        adjoint_forward(&y, &w, &b, g).0
    }
}

/// What the backward pass of either operation keeps from its forward pass: the filter's node
/// and the one piece of the forward computation that the filter gradient needs again.
#[derive(Debug, Clone)]
struct Saved {
    w: NodeId,
    g: Geometry,
    /// conv: `patches(x)`; adjoint: `outputs_last(y)`.
    reuse: FlexTensor,
}

/// `y = conv(x, w) + b`. With `r` the incoming gradient: `dx = convᵀ(r)`,
/// `dw = filter_grad(patches(x), r)`, `db = Σ r` per output channel.
#[derive(Debug)]
struct ConvBackward;

/// `x = convᵀ(y, w) + b`. With `r` the incoming gradient: `dy = conv(r)`,
/// `dw = filter_grad(patches(r), y)`, `db = Σ r` per input channel.
#[derive(Debug)]
struct AdjointBackward;

/// The incoming gradient and the filter of a backward pass.
fn unpack(ops: &Ops<Saved, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) -> (FlexTensor, FlexTensor) {
    (grads.consume::<Flex>(&ops.node), checkpointer.retrieve_node_output::<FlexTensor>(ops.state.w))
}

impl Backward<Flex, 3> for ConvBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let (r, w) = unpack(&ops, grads, checkpointer);
        let [node_x, node_w, node_b] = &ops.parents;
        let Saved { g, reuse: patches, .. } = &ops.state;
        let r = values(&r);
        let r_last = kernel::outputs_last(g, &r);
        let db = node_b.as_ref().map(|_| kernel::channel_sums(&r, g.o, g.positions(), g.channels_last));
        let (dw, dx) = side_by_side(
            node_w.as_ref().map(|_| || kernel::filter_grad_from(g, &values(patches), &r_last)),
            node_x.as_ref().map(|_| || kernel::adjoint_from(g, &r_last, &values(&w), None)),
        );
        register(grads, &ops, [(dx, input_shape(g).to_vec()), (dw, filter_shape(g)), (db, vec![g.o])]);
    }
}

impl Backward<Flex, 3> for AdjointBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let (r, w) = unpack(&ops, grads, checkpointer);
        let [node_y, node_w, node_b] = &ops.parents;
        let Saved { g, reuse: y_last, .. } = &ops.state;
        let r = values(&r);
        let patches = kernel::patches(g, &r);
        let db = node_b.as_ref().map(|_| kernel::channel_sums(&r, g.c, g.h * g.w, g.channels_last));
        let (dw, dy) = side_by_side(
            node_w.as_ref().map(|_| || kernel::filter_grad_from(g, &patches, &values(y_last))),
            node_y.as_ref().map(|_| || kernel::forward_from(g, &patches, &values(&w), None)),
        );
        register(grads, &ops, [(dy, output_shape(g).to_vec()), (dw, filter_shape(g)), (db, vec![g.c])]);
    }
}

impl<C: CheckpointStrategy> ConvOps for Autodiff<Flex, C> {
    fn conv_im2col(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self> {
        recorded::<C, _, _>(ConvBackward, [x, w, b], |x, w, b| conv_forward(x, w, b, g), |w, reuse| Saved { w, g, reuse })
    }

    fn conv_im2col_adjoint(y: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, g: Geometry) -> FloatTensor<Self> {
        recorded::<C, _, _>(AdjointBackward, [y, w, b], |y, w, b| adjoint_forward(y, w, b, g), |w, reuse| Saved { w, g, reuse })
    }
}


/// `layer.forward(x)` for `x: [N, C, H, W]`, through the im2col kernels where they apply.
pub fn conv2d(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv2d_in(layer, x, false)
}

/// [`conv2d`] with activations `[N, H, W, C]` in and out: the products' own layout, so that
/// a network that keeps it between layers never transposes (docs/performance.md).
pub fn conv2d_channels_last(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv2d_in(layer, x, true)
}

/// `layer.forward(x)` for `x: [N, C, H, W]` through the im2col kernels where they apply: the
/// adjoint of the convolution from the output's shape back to the input's.
pub fn conv_transpose2d(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    conv_transpose2d_in(layer, x, false)
}

/// [`conv_transpose2d`] with activations `[N, H, W, C]` in and out.
pub fn conv_transpose2d_channels_last(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    conv_transpose2d_in(layer, x, true)
}

/// burn's layer, which takes `[N, C, H, W]`, on activations laid out as `channels_last` says.
fn burns(forward: impl FnOnce(Tensor<4>) -> Tensor<4>, x: Tensor<4>, channels_last: bool) -> Tensor<4> {
    match channels_last {
        true => forward(x.permute([0, 3, 1, 2])).permute([0, 2, 3, 1]),
        false => forward(x),
    }
}

/// `[N, C, H, W]` dimensions of `x`.
fn nchw(x: &Tensor<4>, channels_last: bool) -> [usize; 4] {
    let [n, a, b, c] = x.dims();
    if channels_last { [n, c, a, b] } else { [n, a, b, c] }
}

fn conv2d_in(layer: &Conv2d, x: Tensor<4>, channels_last: bool) -> Tensor<4> {
    let w = layer.weight.val();
    let ([n, c, h, wd], [o, _, kh, kw]) = (nchw(&x, channels_last), w.dims());
    let padding = match layer.padding {
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => Some([top, left]),
        PaddingConfig2d::Valid => Some([0, 0]),
        _ => None, // asymmetric, or `Same` (burn works it out)
    };
    let Some(padding) = padding.filter(|_| layer.groups == 1 && covered(&x)) else {
        return burns(|x| layer.forward(x), x, channels_last);
    };
    let (stride, dilation) = (layer.stride, layer.dilation);
    let side = |axis: usize, size: usize| (size + 2 * padding[axis] - dilation[axis] * ([kh, kw][axis] - 1) - 1) / stride[axis] + 1;
    let out = [side(0, h), side(1, wd)];
    let g = Geometry { n, c, h, w: wd, o, kernel: [kh, kw], stride, padding, dilation, out, channels_last };
    let b = bias(layer.bias.as_ref().map(|b| b.val()), o, &x);
    Tensor::from_dispatch(<burn::backend::Dispatch as ConvOps>::conv_im2col(x.into_dispatch(), w.into_dispatch(), b.into_dispatch(), g))
}

fn conv_transpose2d_in(layer: &ConvTranspose2d, x: Tensor<4>, channels_last: bool) -> Tensor<4> {
    let w = layer.weight.val();
    let ([n, c_in, h, wd], [_, c_out, kh, kw]) = (nchw(&x, channels_last), w.dims());
    if layer.groups != 1 || !covered(&x) {
        return burns(|x| layer.forward(x), x, channels_last);
    }
    let (stride, dilation, padding, extra) = (layer.stride, layer.dilation, layer.padding, layer.padding_out);
    let side = |axis: usize, size: usize| (size - 1) * stride[axis] + dilation[axis] * ([kh, kw][axis] - 1) + extra[axis] + 1 - 2 * padding[axis];
    let (kernel, out) = ([kh, kw], [h, wd]);
    let g = Geometry { n, c: c_out, h: side(0, h), w: side(1, wd), o: c_in, kernel, stride, padding, dilation, out, channels_last };
    let b = bias(layer.bias.as_ref().map(|b| b.val()), c_out, &x);
    Tensor::from_dispatch(<burn::backend::Dispatch as ConvOps>::conv_im2col_adjoint(x.into_dispatch(), w.into_dispatch(), b.into_dispatch(), g))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
    use crate::testing::{assert_close, pattern as values, to_vec};

    /// Which layer runs: burn's, or unigen's with either layout (channels-last through
    /// permutes, so every variant sees `[N, C, H, W]`).
    #[derive(Clone, Copy, PartialEq)]
    enum Variant {
        Burns,
        Ours,
        OursChannelsLast,
    }

    fn run_variant(v: Variant, x: Tensor<4>, burns: impl Fn(Tensor<4>) -> Tensor<4>, ours: impl Fn(Tensor<4>, bool) -> Tensor<4>) -> Tensor<4> {
        match v {
            Variant::Burns => burns(x),
            Variant::Ours => ours(x, false),
            Variant::OursChannelsLast => ours(x.permute([0, 2, 3, 1]), true).permute([0, 3, 1, 2]),
        }
    }

    /// Output and the gradients of input, filter and bias of both of unigen's variants against
    /// burn's `forward`, on a fixed input and a fixed weighting of the output.
    fn check(input: [usize; 4], layer_out: impl Fn(Variant, Tensor<4>) -> (Tensor<4>, Vec<Tensor<4>>, Option<Tensor<1>>)) {
        let dev = crate::testing::device();
        let run = |variant: Variant| {
            let x = crate::host::tensor(values(input.iter().product(), 1), input, &dev).require_grad();
            let (y, ws, b) = layer_out(variant, x.clone());
            let weighting = crate::host::tensor(values(y.dims().iter().product(), 2), y.dims(), &dev);
            let grads = (y.clone() * weighting).sum().backward();
            let mut out = vec![to_vec(y), to_vec(x.grad(&grads).expect("input gradient"))];
            out.extend(ws.iter().map(|w| to_vec(w.grad(&grads).expect("filter gradient"))));
            out.extend(b.map(|b| to_vec(b.grad(&grads).expect("bias gradient"))));
            out
        };
        let burns = run(Variant::Burns);
        for ours in [run(Variant::Ours), run(Variant::OursChannelsLast)] {
            assert_eq!(ours.len(), burns.len());
            for (o, b) in ours.iter().zip(&burns) {
                assert_close(o, b, 1e-5);
            }
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
            let layer = crate::backend::seeded(0, &dev, || config.init(&dev));
            check(input, |variant, x| {
                let y = run_variant(variant, x, |x| layer.forward(x), |x, last| if last { conv2d_channels_last(&layer, x) } else { conv2d(&layer, x) });
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
            let layer = crate::backend::seeded(0, &dev, || config.init(&dev));
            check(input, |variant, x| {
                let y = run_variant(variant, x, |x| layer.forward(x), |x, last| {
                    if last { conv_transpose2d_channels_last(&layer, x) } else { conv_transpose2d(&layer, x) }
                });
                (y, vec![layer.weight.val()], layer.bias.as_ref().map(|b| b.val()))
            });
        }
    }
}
