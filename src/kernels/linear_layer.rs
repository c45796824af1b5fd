//! Dense layers with their nonlinearity through unigen's kernel ([`crate::kernels::linear`](mod@crate::kernels::linear)) on
//! the CPU: `act(x · w + b)` as one operation with its own backward pass. The module stays
//! burn's `Linear`, so parameters and checkpoints are unchanged; off the CPU, burn's `forward`
//! and the activation run as separate ops.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn_flex::FlexTensor;

use super::activation::activate;
use super::extension::{bias, covered, flex, recorded, register, values};
pub use crate::kernels::linear::Act;
use crate::kernels::linear::{backward, forward};

/// `act(x · w + b)` for `x: [m, k]`, `w: [k, n]`, `b: [n]`.
#[backend_extension(Flex, Autodiff)]
pub trait LinearOps: Backend {
    fn linear_act(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, act: Act) -> FloatTensor<Self>;
}

fn layer_forward(x: &FlexTensor, w: &FlexTensor, b: &FlexTensor, act: Act) -> FlexTensor {
    let (m, n) = (x.layout().shape()[0], b.layout().shape()[0]);
    flex(forward(&values(x), &values(w), &values(b), act), [m, n])
}

impl LinearOps for Flex {
    fn linear_act(x: FlexTensor, w: FlexTensor, b: FlexTensor, act: Act) -> FlexTensor {
        layer_forward(&x, &w, &b, act)
    }
}

/// The backward pass keeps the weight's node, the input and the output (`act'` is read off it).
#[derive(Debug, Clone)]
struct Saved {
    w: NodeId,
    x: FlexTensor,
    y: FlexTensor,
    act: Act,
}

#[derive(Debug)]
struct LinearBackward;

impl Backward<Flex, 3> for LinearBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let r = grads.consume::<Flex>(&ops.node);
        let w = checkpointer.retrieve_node_output::<FlexTensor>(ops.state.w);
        let Saved { x, y, act, .. } = &ops.state;
        let ([m, k], n) = ([x.layout().shape()[0], x.layout().shape()[1]], y.layout().shape()[1]);
        let wanted = ops.parents.each_ref().map(Option::is_some);
        let [dx, dw, db] = backward(&values(&r), &values(x), &values(y), &values(&w), n, *act, wanted);
        register(grads, &ops, [(dx, vec![m, k]), (dw, vec![k, n]), (db, vec![n])]);
    }
}

impl<C: CheckpointStrategy> LinearOps for Autodiff<Flex, C> {
    fn linear_act(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, act: Act) -> FloatTensor<Self> {
        recorded::<C, _, _>(
            LinearBackward,
            [x, w, b],
            |x, w, b| {
                let y = layer_forward(x, w, b, act);
                (y.clone(), (x.clone(), y))
            },
            |w, (x, y)| Saved { w, x, y, act },
        )
    }
}

/// `act(layer.forward(x))`, in one operation on the CPU.
pub fn linear(layer: &Linear, x: Tensor<2>, act: Act) -> Tensor<2> {
    affine(x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()), act)
}

/// `act(x · w + b)` for `x: [m, k]`, `w: [k, n]` and `b: [n]` (none: zeros), in one operation on
/// the CPU: [`linear`] on a weight that is not a whole layer's. Every product then goes through
/// unigen's kernel, which sums the same terms in the same blocks on every CPU (burn's `matmul`
/// lets `gemm` size them from the cache; docs/performance.md, "Determinism").
pub fn affine(x: Tensor<2>, w: Tensor<2>, b: Option<Tensor<1>>, act: Act) -> Tensor<2> {
    if !covered(&x) {
        return activate(burn::tensor::module::linear(x, w, b), act);
    }
    let b = bias(b, w.dims()[1], &x);
    Tensor::from_dispatch(<burn::backend::Dispatch as LinearOps>::linear_act(x.into_dispatch(), w.into_dispatch(), b.into_dispatch(), act))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;
    use crate::testing::{assert_close, pattern, to_vec};

    /// A product of more than 512 terms on some of a weight's rows, as the SVAE's encoder takes
    /// them, is the kernel's bit for bit: summed in the blocks that no CPU chooses
    /// (`kernels::matmul`'s tests), not in those burn's `matmul` lets `gemm` size from the cache
    /// (through burn's `matmul` this fails with `gemm` patched to blocks of 1,024, as on the Xeon).
    #[test]
    fn affine_on_a_weights_rows_is_the_kernels_product() {
        let dev = crate::testing::device();
        let (m, k, n) = (128, 784, 100);
        let (x, w) = (pattern(m * k, 1), pattern((k + 10) * n, 2));
        let rows = crate::host::tensor(w.clone(), [k + 10, n], &dev).narrow(0, 0, k);
        let ours = to_vec(affine(crate::host::tensor(x.clone(), [m, k], &dev), rows, None, Act::Identity));
        let kernel = forward(&x, &w[..k * n], &vec![0.0; n], Act::Identity);
        assert!(ours.iter().zip(&kernel).all(|(o, k)| o.to_bits() == k.to_bits()));
    }

    /// Output and the gradients of input, weight and bias against burn's layer and activation,
    /// on a fixed input and a fixed weighting of the output.
    #[test]
    fn layer_matches_burns_forward_and_gradients() {
        let dev = crate::testing::device();
        let (m, k, n) = (9, 31, 17);
        for bias in [true, false] {
            let layer = crate::backend::seeded(0, &dev, || LinearConfig::new(k, n).with_bias(bias).init(&dev));
            for act in [Act::Identity, Act::Relu, Act::LeakyRelu(0.2), Act::Tanh] {
                let run = |ours: bool| {
                    let x = crate::host::tensor(pattern(m * k, 1), [m, k], &dev).require_grad();
                    let y = if ours {
                        linear(&layer, x.clone(), act)
                    } else {
                        let h = layer.forward(x.clone());
                        match act {
                            Act::Identity => h,
                            Act::Relu => burn::tensor::activation::relu(h),
                            Act::LeakyRelu(s) => burn::tensor::activation::leaky_relu(h, s as f64),
                            Act::Tanh => burn::tensor::activation::tanh(h),
                        }
                    };
                    let weighting = crate::host::tensor(pattern(m * n, 2), [m, n], &dev);
                    let grads = (y.clone() * weighting).sum().backward();
                    let mut out = vec![to_vec(y), to_vec(x.grad(&grads).unwrap()), to_vec(layer.weight.val().grad(&grads).unwrap())];
                    out.extend(layer.bias.as_ref().map(|b| to_vec(b.val().grad(&grads).unwrap())));
                    out
                };
                let (ours, burns) = (run(true), run(false));
                assert_eq!(ours.len(), burns.len());
                for (o, b) in ours.iter().zip(&burns) {
                    assert_close(o, b, 1e-5);
                }
            }
        }
    }
}
