//! A dense layer and its nonlinearity, `y = act(x · w + b)`, in one product and one pass, and
//! its backward pass in one product per gradient (docs/performance.md).
//!
//! With `x: [m, k]`, `w: [k, n]` (burn's `Linear` layout), `r` the incoming gradient and
//! `r' = r ⊙ act'`: `dx = r' · wᵀ`, `dw = xᵀ · r'`, `db = Σ_rows r'`. The transposes are strided
//! views, not copies; the bias is the product's starting value; and `act'` is read off the
//! output `y`, so nothing else is kept for the backward pass. burn runs the same layer as a
//! product, a broadcast add and an activation, each a fresh buffer and a pass over memory, and
//! its backward pass adds a mask, a reduction and a copy of each product's output.

use std::borrow::Cow;

use rayon::prelude::*;

use super::CHUNK;
use super::matmul::{Mat, affine, column_sums, matmul, side_by_side};

/// The nonlinearity after the affine map. Each one's derivative is a function of its output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    Identity,
    Relu,
    /// `x` for `x >= 0`, `slope x` below.
    LeakyRelu(f32),
    /// [`super::tanh_one`], in double precision.
    Tanh,
}

impl Act {
    #[inline]
    pub(crate) fn apply(self, v: f32) -> f32 {
        match self {
            Act::Identity => v,
            Act::Relu => v.max(0.0),
            // Both sides computed and one chosen without a branch: with a branch on the sign of
            // activations (unpredictable), batch norm's leaky-ReLU pass ran about three times
            // slower than its ReLU one. The same values, bit for bit.
            Act::LeakyRelu(slope) => std::hint::select_unpredictable(v >= 0.0, v, slope * v),
            Act::Tanh => super::tanh_one(v),
        }
    }

    /// `act'` where the output is `y`. At a kink (`y = 0`) ReLU and leaky ReLU take 0, as burn's
    /// ReLU does and as unigen's leaky ReLU always has.
    #[inline]
    pub(crate) fn derivative(self, y: f32) -> f32 {
        match self {
            Act::Identity => 1.0,
            Act::Relu => if y > 0.0 { 1.0 } else { 0.0 },
            Act::LeakyRelu(slope) => std::hint::select_unpredictable(y > 0.0, 1.0, std::hint::select_unpredictable(y < 0.0, slope, 0.0)),
            Act::Tanh => 1.0 - y * y,
        }
    }
}

/// `act(x · w + b)` for `x: [m, k]`, `w: [k, n]`, `b: [n]`, row-major.
pub fn forward(x: &[f32], w: &[f32], b: &[f32], act: Act) -> Vec<f32> {
    let n = b.len();
    assert!(n > 0 && w.len().is_multiple_of(n), "layer weight and bias differ in width");
    let k = w.len() / n;
    assert!(k > 0 && x.len().is_multiple_of(k), "layer input and weight differ in width");
    let mut y = affine(Mat::new(x, x.len() / k, k), Mat::new(w, k, n), Some(b));
    if act != Act::Identity {
        y.par_chunks_mut(CHUNK).for_each(|ys| ys.iter_mut().for_each(|v| *v = act.apply(*v)));
    }
    y
}

/// The gradients `[dx, dw, db]` of [`forward`] that `wanted` asks for, given its input `x`,
/// output `y: [m, n]`, weight `w` and the gradient `r` of `y`.
pub fn backward(r: &[f32], x: &[f32], y: &[f32], w: &[f32], n: usize, act: Act, wanted: [bool; 3]) -> [Option<Vec<f32>>; 3] {
    let (k, m) = (w.len() / n, y.len() / n);
    assert!(r.len() == y.len() && x.len() == m * k && w.len() == k * n, "layer gradient, input, output and weight differ in shape");
    let r: Cow<[f32]> = match act {
        Act::Identity => r.into(),
        _ => super::times_derivative(r, y, act).into(),
    };
    let [want_x, want_w, want_b] = wanted;
    let (dx, dw) = side_by_side(
        want_x.then_some(|| matmul(Mat::new(&r, m, n), Mat::new(w, k, n).t())),
        want_w.then_some(|| matmul(Mat::new(x, m, k).t(), Mat::new(&r, m, n))),
    );
    let db = want_b.then(|| column_sums(&r, n));
    [dx, dw, db]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, numeric_gradient, pattern};

    /// Leaky ReLU and its derivative, chosen without a branch, give the bits of the branches
    /// they replaced, signed zeros, infinities, NaN and subnormals included.
    #[test]
    fn leaky_relu_without_a_branch_keeps_the_bits_of_the_branches() {
        let slope = 0.2f32;
        let values = [0.0, -0.0, 1.5, -1.5, f32::MIN_POSITIVE / 4.0, -f32::MIN_POSITIVE / 4.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::MAX, -f32::MAX];
        for v in values.into_iter().chain(pattern(1000, 1).into_iter().map(|v| v * 10.0)) {
            let want = if v >= 0.0 { v } else { slope * v };
            assert_eq!(Act::LeakyRelu(slope).apply(v).to_bits(), want.to_bits(), "apply({v:e})");
            let want = if v > 0.0 { 1.0f32 } else if v < 0.0 { slope } else { 0.0 };
            assert_eq!(Act::LeakyRelu(slope).derivative(v).to_bits(), want.to_bits(), "derivative({v:e})");
        }
    }

    /// The layer by its definition, in f64: `act(Σ_j x[i, j] w[j, c] + b[c])`.
    fn definition(x: &[f32], w: &[f32], b: &[f32], act: Act) -> Vec<f32> {
        let (n, k) = (b.len(), w.len() / b.len());
        x.chunks(k)
            .flat_map(|row| (0..n).map(move |c| act.apply((b[c] as f64 + (0..k).map(|j| row[j] as f64 * w[j * n + c] as f64).sum::<f64>()) as f32)))
            .collect()
    }

    #[test]
    fn forward_is_the_definition() {
        let (m, k, n) = (37, 29, 13);
        let (x, w, b) = (pattern(m * k, 1), pattern(k * n, 2), pattern(n, 3));
        for act in [Act::Identity, Act::Relu, Act::LeakyRelu(0.2), Act::Tanh] {
            assert_close(&forward(&x, &w, &b, act), &definition(&x, &w, &b, act), 1e-5);
        }
    }

    /// Each gradient against central differences of `Σ r ⊙ forward(...)`, in f64 by the definition.
    #[test]
    fn gradients_are_the_derivatives() {
        let (m, k, n) = (6, 5, 4);
        let (x, w, b, r) = (pattern(m * k, 4), pattern(k * n, 5), pattern(n, 6), pattern(m * n, 7));
        for act in [Act::Identity, Act::Relu, Act::LeakyRelu(0.2), Act::Tanh] {
            let y = forward(&x, &w, &b, act);
            let [dx, dw, db] = backward(&r, &x, &y, &w, n, act, [true; 3]).map(Option::unwrap);
            let args = [x.clone(), w.clone(), b.clone()];
            let numeric = |which: usize| {
                numeric_gradient(&args, which, 1e-2, |[x, w, b]| definition(x, w, b, act).iter().zip(&r).map(|(y, r)| *y as f64 * *r as f64).sum())
            };
            // Away from the kinks by more than a step moves them (h, as |x|, |w| <= 1).
            let pre = definition(&x, &w, &b, Act::Identity);
            assert!(pre.iter().all(|p| p.abs() > 0.011), "inputs too close to a kink: {pre:?}");
            assert_close(&dx, &numeric(0), 2e-3);
            assert_close(&dw, &numeric(1), 2e-3);
            assert_close(&db, &numeric(2), 2e-3);
        }
        assert_eq!(backward(&r, &x, &forward(&x, &w, &b, Act::Relu), &w, n, Act::Relu, [false, true, false]).map(|g| g.is_some()), [false, true, false]);
    }
}
