//! The Bernoulli log-likelihood `log p(x | l)` of a decoder's logits as one operation on the
//! CPU, with its own backward pass: [`super::bernoulli_log_likelihood`] computes the value and
//! the gradient `g = x - sigmoid(l)` in one pass over the tensors' own memory, and the backward
//! pass scales `g`'s rows by the incoming gradient. Entering autodiff through tensor ops instead
//! (`s = sum_j l_j g_j`) copied the logits out and the gradient in, and ran a product, a sum and
//! a broadcast product on one thread; without them the IWAE k = 5 step ran 2-6% faster
//! (docs/performance.md). The gradient has the same bits: each element is `r_i g_ij` either way.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::Tensor;
use burn_flex::FlexTensor;
use rayon::prelude::*;

use super::extension::{flex, values};
use super::matmul::overwritten;

/// `sum_j x_ij l_ij - softplus(l_ij)` for each row `i` of `logits: [N, D]`, with `x: [N / k, D]`
/// (each row of data serving `k` consecutive rows of logits). `x` is data: no gradient flows
/// into it.
#[backend_extension(Flex, Autodiff)]
pub trait BernoulliOps: Backend {
    fn bernoulli_log_likelihood(logits: FloatTensor<Self>, x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The value alone, where no gradient is wanted.
fn value(logits: &FlexTensor, x: &FlexTensor) -> FlexTensor {
    let shape = logits.layout().shape();
    flex(super::bernoulli_log_likelihood_value(&values(logits), &values(x), shape[1]), [shape[0]])
}

impl BernoulliOps for Flex {
    fn bernoulli_log_likelihood(logits: FlexTensor, x: FlexTensor) -> FlexTensor {
        value(&logits, &x)
    }
}

#[derive(Debug)]
struct BernoulliBackward;

impl Backward<Flex, 1> for BernoulliBackward {
    /// `g = x - sigmoid(l)`, the gradient of each row's value with respect to its logits.
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let r = grads.consume::<Flex>(&ops.node);
        let g = &ops.state;
        let [node] = &ops.parents;
        if let Some(node) = node {
            let (r, g_values) = (values(&r), values(g));
            let width = g_values.len() / r.len();
            let rows = super::rows_per_task(width);
            let mut dl = overwritten(g_values.len());
            dl.par_chunks_mut(rows * width).zip(g_values.par_chunks(rows * width)).zip(r.par_chunks(rows)).for_each(|((dl, g), r)| {
                for ((dl, g), r) in dl.chunks_mut(width).zip(g.chunks(width)).zip(r) {
                    dl.iter_mut().zip(g).for_each(|(d, g)| *d = g * r);
                }
            });
            grads.register::<Flex>(node.id, flex(dl, g.layout().shape().clone()));
        }
    }
}

impl<C: CheckpointStrategy> BernoulliOps for Autodiff<Flex, C> {
    fn bernoulli_log_likelihood(logits: FloatTensor<Self>, x: FloatTensor<Self>) -> FloatTensor<Self> {
        let shape = logits.primitive().layout().shape().clone();
        match BernoulliBackward.prepare::<C>([logits.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (ll, g) = super::bernoulli_log_likelihood(&values(logits.primitive()), &values(x.primitive()), shape[1]);
                prep.finish(flex(g, shape.clone()), flex(ll, [shape[0]]))
            }
            OpsKind::UnTracked(prep) => prep.finish(value(logits.primitive(), x.primitive())),
        }
    }
}

/// [`BernoulliOps::bernoulli_log_likelihood`] on CPU tensors, `[N, D] -> [N]`.
pub fn bernoulli_log_likelihood(logits: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
    Tensor::from_dispatch(<burn::backend::Dispatch as BernoulliOps>::bernoulli_log_likelihood(logits.into_dispatch(), x.into_dispatch()))
}
