//! Batch norm and the nonlinearity after it as one pass each way, on `[m, c]` activations
//! stored channels last (each channel a column): `y = act(γ x̂ + β)` with
//! `x̂ = (x - μ) / sqrt(σ² + ε)`. Built from burn's tensor ops the same layer took about ten
//! passes over the activations forward and as many backward (docs/performance.md).
//!
//! The per-channel sums are accumulated in f64 over fixed blocks of rows, added in block order:
//! the result does not depend on the number of threads.

use rayon::prelude::*;

use super::linear::Act;
use super::matmul::overwritten;

/// Rows per parallel block of the per-channel sums.
const BLOCK_ROWS: usize = 256;

/// Per-column sums over `rows` rows, in f64: `f(row, acc)` adds a row's terms to the `c`
/// accumulators.
fn column_sums(rows: usize, c: usize, f: impl Fn(usize, &mut [f64]) + Sync) -> Vec<f64> {
    let partial: Vec<Vec<f64>> = (0..rows.div_ceil(BLOCK_ROWS))
        .into_par_iter()
        .map(|b| {
            let mut acc = vec![0f64; c];
            for r in b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(rows) {
                f(r, &mut acc);
            }
            acc
        })
        .collect();
    let mut total = vec![0f64; c];
    for p in partial {
        total.iter_mut().zip(p).for_each(|(t, p)| *t += p);
    }
    total
}

/// Each channel's mean and biased variance over the rows of `x: [m, c]` (two passes, in f64).
pub fn moments(x: &[f32], c: usize) -> (Vec<f32>, Vec<f32>) {
    let m = x.len() / c;
    assert!(m > 0 && m * c == x.len(), "batch norm input is not [rows, {c}]");
    let mean: Vec<f64> = column_sums(m, c, |r, acc| acc.iter_mut().zip(&x[r * c..(r + 1) * c]).for_each(|(a, v)| *a += *v as f64))
        .into_iter()
        .map(|s| s / m as f64)
        .collect();
    let var = column_sums(m, c, |r, acc| {
        acc.iter_mut().zip(&x[r * c..(r + 1) * c]).zip(&mean).for_each(|((a, v), mu)| *a += (*v as f64 - mu) * (*v as f64 - mu))
    });
    (mean.iter().map(|&v| v as f32).collect(), var.iter().map(|&v| (v / m as f64) as f32).collect())
}

/// `1 / sqrt(σ² + ε)` per channel.
pub fn inv_std(var: &[f32], epsilon: f32) -> Vec<f32> {
    var.iter().map(|v| 1.0 / (v + epsilon).sqrt()).collect()
}

/// `(y, x̂)` for `x: [m, c]` with the moments `mean` and `inv_std` per channel.
pub fn forward(x: &[f32], mean: &[f32], inv_std: &[f32], gamma: &[f32], beta: &[f32], act: Act) -> (Vec<f32>, Vec<f32>) {
    let c = mean.len();
    let (mut y, mut xhat) = (overwritten(x.len()), overwritten(x.len()));
    let rows = BLOCK_ROWS * c;
    with_act!(act, |f, _df| {
        y.par_chunks_mut(rows).zip(xhat.par_chunks_mut(rows)).zip(x.par_chunks(rows)).for_each(|((y, xhat), x)| {
            for ((y, xhat), x) in y.chunks_exact_mut(c).zip(xhat.chunks_exact_mut(c)).zip(x.chunks_exact(c)) {
                for (((((y, h), x), mu), s), (g, b)) in y.iter_mut().zip(xhat.iter_mut()).zip(x).zip(mean).zip(inv_std).zip(gamma.iter().zip(beta)) {
                    *h = (x - mu) * s;
                    *y = f(*h * g + b);
                }
            }
        })
    });
    (y, xhat)
}

/// `[dx, dγ, dβ]` of [`forward`] given the gradient `r` of `y`, its `x̂` and `y`. With batch
/// moments (`batch`), μ and σ depend on every row:
/// `dx = γ σ⁻¹ (dz - mean(dz) - x̂ mean(dz x̂))` with `dz = r act'(y)`; with fixed (running)
/// moments, `dx = γ σ⁻¹ dz`.
pub fn backward(r: &[f32], xhat: &[f32], y: &[f32], inv_std: &[f32], gamma: &[f32], act: Act, batch: bool) -> [Vec<f32>; 3] {
    let c = inv_std.len();
    let m = r.len() / c;
    let rows = BLOCK_ROWS * c;
    let dz = super::times_derivative(r, y, act);
    // Σ dz (dβ) and Σ dz x̂ (dγ) per channel, in one pass: `[dβ | dγ]`.
    let sums = column_sums(m, 2 * c, |i, acc| {
        let (db, dg) = acc.split_at_mut(c);
        for (((b, g), d), h) in db.iter_mut().zip(dg.iter_mut()).zip(&dz[i * c..(i + 1) * c]).zip(&xhat[i * c..(i + 1) * c]) {
            *b += *d as f64;
            *g += *d as f64 * *h as f64;
        }
    });
    let (dbeta, dgamma) = sums.split_at(c);
    let scale: Vec<f32> = gamma.iter().zip(inv_std).map(|(g, s)| g * s).collect();
    let per_row = |sum: &[f64]| -> Vec<f32> { sum.iter().map(|&s| if batch { (s / m as f64) as f32 } else { 0.0 }).collect() };
    let (shift, slope) = (per_row(dbeta), per_row(dgamma));
    let mut dx = dz;
    dx.par_chunks_mut(rows).zip(xhat.par_chunks(rows)).for_each(|(d, h)| {
        for (d, h) in d.chunks_exact_mut(c).zip(h.chunks_exact(c)) {
            for ((((d, h), s), sh), sl) in d.iter_mut().zip(h).zip(&scale).zip(&shift).zip(&slope) {
                *d = s * (*d - sh - h * sl);
            }
        }
    });
    [dx, dgamma.iter().map(|&v| v as f32).collect(), dbeta.iter().map(|&v| v as f32).collect()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, numeric_gradient, pattern};

    /// The layer by its definition, in f64 (batch moments).
    fn definition(x: &[f32], gamma: &[f32], beta: &[f32], eps: f64, act: Act) -> Vec<f32> {
        let c = gamma.len();
        let m = x.len() / c;
        let mean: Vec<f64> = (0..c).map(|j| (0..m).map(|i| x[i * c + j] as f64).sum::<f64>() / m as f64).collect();
        let var: Vec<f64> = (0..c).map(|j| (0..m).map(|i| (x[i * c + j] as f64 - mean[j]).powi(2)).sum::<f64>() / m as f64).collect();
        (0..m * c).map(|k| act.apply((((x[k] as f64 - mean[k % c]) / (var[k % c] + eps).sqrt()) * gamma[k % c] as f64 + beta[k % c] as f64) as f32)).collect()
    }

    #[test]
    fn forward_is_the_definition_and_the_moments_are_exact() {
        let (m, c) = (600, 5); // more rows than a block: the blocks' sums are combined
        let (x, gamma, beta) = (pattern(m * c, 1).iter().enumerate().map(|(i, v)| v * 3.0 + (i % c) as f32).collect::<Vec<_>>(), pattern(c, 2), pattern(c, 3));
        let (mean, var) = moments(&x, c);
        assert_close(&mean, &(0..c).map(|j| (0..m).map(|i| x[i * c + j] as f64).sum::<f64>() as f32 / m as f32).collect::<Vec<_>>(), 1e-6);
        for act in [Act::Identity, Act::Relu, Act::LeakyRelu(0.2)] {
            let (y, _) = forward(&x, &mean, &inv_std(&var, 1e-5), &gamma, &beta, act);
            assert_close(&y, &definition(&x, &gamma, &beta, 1e-5, act), 1e-5);
        }
    }

    /// Each gradient against central differences of `Σ r ⊙ layer(...)` by the definition, with
    /// batch moments; with fixed moments, `dx` is `γ σ⁻¹ act'` times `r`.
    #[test]
    fn gradients_are_the_derivatives() {
        let (m, c, eps) = (7, 3, 1e-5);
        let (x, gamma, beta, r) = (pattern(m * c, 4), pattern(c, 5).iter().map(|g| g + 1.5).collect::<Vec<_>>(), pattern(c, 6), pattern(m * c, 7));
        for act in [Act::Identity, Act::Relu, Act::LeakyRelu(0.2)] {
            let (mean, var) = moments(&x, c);
            let s = inv_std(&var, eps as f32);
            let (y, xhat) = forward(&x, &mean, &s, &gamma, &beta, act);
            let [dx, dgamma, dbeta] = backward(&r, &xhat, &y, &s, &gamma, act, true);
            let args = [x.clone(), gamma.clone(), beta.clone()];
            let numeric = |which: usize| {
                numeric_gradient(&args, which, 1e-3, |[x, g, b]| definition(x, g, b, eps, act).iter().zip(&r).map(|(y, r)| *y as f64 * *r as f64).sum())
            };
            // Away from the kinks by more than a step moves them.
            let pre = definition(&x, &gamma, &beta, eps, Act::Identity);
            assert!(pre.iter().all(|p| p.abs() > 0.02), "inputs too close to a kink: {pre:?}");
            assert_close(&dx, &numeric(0), 3e-3);
            assert_close(&dgamma, &numeric(1), 3e-3);
            assert_close(&dbeta, &numeric(2), 3e-3);
            let [dx_fixed, ..] = backward(&r, &xhat, &y, &s, &gamma, act, false);
            let want: Vec<f32> = (0..m * c).map(|k| gamma[k % c] * s[k % c] * r[k] * act.derivative(y[k])).collect();
            assert_close(&dx_fixed, &want, 1e-6);
        }
    }

    #[test]
    fn the_sums_do_not_depend_on_the_threads() {
        let (m, c) = (1000, 8);
        let x = pattern(m * c, 9);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| moments(&x, c));
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap().install(|| moments(&x, c));
        assert_eq!(one, four);
    }
}
