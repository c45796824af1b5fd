//! Fused CPU kernels for the hot paths of a training step (docs/performance.md).
//!
//! burn's CPU backend runs each tensor op as its own pass over memory, on one thread below
//! matmul sizes, with scalar `libm` calls for `exp`/`log1p`/`tanh`. Three places in a step paid
//! heavily for that: the Bernoulli log-likelihood (`log_sigmoid` forward and backward was ~4 ms
//! of a 27 ms VAE step), Adam (a dozen passes over every parameter, ~5 ms) and a GAN generator's
//! `tanh` output (~3 ms of a 20 ms MLP GAN iteration). Here each is one pass, split across the
//! cores. Every element is computed independently, so the result does not depend on the
//! split: runs stay bit-for-bit reproducible.
//!
//! The layers' glue (`linear_layer`, `conv_layer`, `norm_layer`, `activation`: burn backend
//! extensions and the fused nonlinearities) and Adam's fused step (`adam`) live here too, so the
//! networks in `nets/` call one front door and read as networks.
//!
//! Callers choose these kernels only on the CPU backend ([`crate::backend::is_cpu`]); on GPUs
//! the plain tensor ops stay, and tests check both paths agree.

use rayon::prelude::*;

/// Runs `$body` with `act` (an [`Act`](linear::Act)) and its derivative (read off the output)
/// bound as closures on the variant at hand, so that each activation gets its own compiled,
/// vectorised loops rather than a branch per element. The formulas are `Act::apply` and
/// `Act::derivative`'s.
macro_rules! with_act {
    ($act:expr, |$f:ident, $df:ident| $body:expr) => {{
        use $crate::kernels::linear::Act;
        match $act {
            Act::Identity => { let ($f, $df) = (|v: f32| Act::Identity.apply(v), |y: f32| Act::Identity.derivative(y)); $body }
            Act::Relu => { let ($f, $df) = (|v: f32| Act::Relu.apply(v), |y: f32| Act::Relu.derivative(y)); $body }
            Act::LeakyRelu(slope) => {
                let ($f, $df) = (move |v: f32| Act::LeakyRelu(slope).apply(v), move |y: f32| Act::LeakyRelu(slope).derivative(y));
                $body
            }
            Act::Tanh => { let ($f, $df) = (|v: f32| Act::Tanh.apply(v), |y: f32| Act::Tanh.derivative(y)); $body }
        }
    }};
}

pub mod activation;
pub mod bernoulli_term;
pub mod optimizer;
pub mod conv;
pub mod conv_layer;
mod extension;
pub mod linear;
pub mod linear_layer;
mod matmul;
pub mod norm;
pub mod norm_layer;
pub mod pool;

// The front door the networks call: burn layers run through these kernels (with backward passes
// of their own, as burn backend extensions), bit-for-bit reproducible on the CPU.
pub use activation::leaky_relu;
pub use conv_layer::{conv_transpose2d, conv_transpose2d_channels_last, conv2d, conv2d_channels_last};
pub use linear_layer::{Act, affine, linear};
pub use norm_layer::{batch_norm_act_channels_last, running_updates};
pub use pool::relu_max_pool_channels_last;

/// Elements per parallel task: below about this, splitting costs more than it saves.
const CHUNK: usize = 16 * 1024;

/// Rows of `width` per parallel task over a row-major matrix: whole rows, about [`CHUNK`]
/// elements, at least one row.
fn rows_per_task(width: usize) -> usize {
    CHUNK.div_ceil(width).max(1)
}

/// `log p(x | l)` of Bernoulli pixels with logits `l`, one row of `width` at a time, and its
/// gradient with respect to `l`: `ll_r = sum_j x_j l_j - softplus(l_j)`, `g = x - sigmoid(l)`.
/// `x` may have fewer rows than `logits`, `1/r` as many: each of its rows then serves `r`
/// consecutive rows of logits (the k samples of one digit), and is never copied k times.
pub fn bernoulli_log_likelihood(logits: &[f32], x: &[f32], width: usize) -> (Vec<f32>, Vec<f32>) {
    let mut grad = vec![0f32; logits.len()];
    let ll = bernoulli_rows::<true>(logits, x, width, &mut grad);
    (ll, grad)
}

/// [`bernoulli_log_likelihood`]'s value alone, the same bits, for evaluation: no gradient is
/// computed or stored.
pub fn bernoulli_log_likelihood_value(logits: &[f32], x: &[f32], width: usize) -> Vec<f32> {
    bernoulli_rows::<false>(logits, x, width, &mut [])
}

/// The rows of [`bernoulli_log_likelihood`], in parallel chunks of rows; `grad` is filled when
/// `GRAD` (and may be empty otherwise).
fn bernoulli_rows<const GRAD: bool>(logits: &[f32], x: &[f32], width: usize, grad: &mut [f32]) -> Vec<f32> {
    let (n, nx) = (logits.len() / width, x.len() / width);
    assert!(
        logits.len() == n * width && x.len() == nx * width && nx > 0 && n % nx == 0,
        "logits ({} values) and data ({} values) are not whole rows of {width}, the data's rows a divisor of the logits'",
        logits.len(),
        x.len()
    );
    let repeat = n / nx;
    let rows = rows_per_task(width);
    let mut grads: Vec<&mut [f32]> = if GRAD { grad.chunks_mut(rows * width).collect() } else { (0..n.div_ceil(rows)).map(|_| &mut [][..]).collect() };
    logits
        .par_chunks(rows * width)
        .zip(grads.par_iter_mut())
        .enumerate()
        .flat_map_iter(|(chunk, (l, g))| {
            l.chunks(width)
                .enumerate()
                .map(|(i, l)| {
                    let row = chunk * rows + i;
                    let x = &x[row / repeat * width..][..width];
                    let g = if GRAD { &mut g[i * width..][..width] } else { &mut [][..] };
                    bernoulli_row::<GRAD>(l, x, g)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One row of [`bernoulli_log_likelihood`], vectorised (AVX2 when the CPU has it): the
/// per-pixel terms are computed [`SUM_BLOCK`] at a time, each block then added to the row's sum
/// in order.
fn bernoulli_row<const GRAD: bool>(l: &[f32], x: &[f32], g: &mut [f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { bernoulli_row_avx2::<GRAD>(l, x, g) };
    }
    bernoulli_row_portable::<GRAD>(l, x, g)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn bernoulli_row_avx2<const GRAD: bool>(l: &[f32], x: &[f32], g: &mut [f32]) -> f32 {
    bernoulli_row_portable::<GRAD>(l, x, g)
}

/// Pixels whose terms are computed before they are added to the row's sum. The sum adds one term
/// after another (that order fixes the bits), a chain of additions each waiting on the last; done
/// after every block rather than after the whole row, it overlaps the next block's vector work
/// (docs/performance.md, "The Bernoulli term's sum block by block").
const SUM_BLOCK: usize = 64;

/// `softplus(l) = max(l, 0) + ln(1 + e)` and `sigmoid(l)` from one `e = exp(-|l|)`, with
/// `ln(1 + e) = 2 atanh(s)`, `s = e / (2 + e) <= 1/3`, by its odd series (exact to f32 after the
/// s^13 term, and accurate for tiny `e`, where `ln(1 + e)` computed as written is not).
#[inline(always)]
fn bernoulli_row_portable<const GRAD: bool>(l: &[f32], x: &[f32], g: &mut [f32]) -> f32 {
    let n = l.len();
    let mut block = [0f32; SUM_BLOCK];
    // `-0.0`, as `Iterator::sum` starts: the bits of the row's terms summed by `Iterator::sum`.
    let mut sum = -0.0f32;
    for at in (0..n).step_by(SUM_BLOCK) {
        let end = (at + SUM_BLOCK).min(n);
        let (l, x, terms) = (&l[at..end], &x[at..end], &mut block[..end - at]);
        let g = if GRAD { &mut g[at..end] } else { &mut [][..] };
        for i in 0..l.len() {
            let e = exp_nonpositive(-l[i].abs());
            let s = e / (2.0 + e);
            let s2 = s * s;
            let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 / 13.0)))));
            terms[i] = x[i] * l[i] - (l[i].max(0.0) + 2.0 * s * series);
            if GRAD {
                let r = 1.0 / (1.0 + e);
                g[i] = x[i] - if l[i] >= 0.0 { r } else { e * r };
            }
        }
        for t in terms.iter() {
            sum += t;
        }
    }
    sum
}

/// `exp(t)` for `t <= 0`, within 2 ulp, in straight-line code the compiler vectorises (Cephes
/// `expf`: `t = n ln 2 + r`, a degree-5 polynomial on `r`, then `2^n` from its bits). Below -87
/// the result stays at `exp(-87)`, about 1.6e-38, which is 0 to everything it is added to here;
/// a NaN gives that too, and a `t` above 0, outside the contract, gives 1.
#[inline(always)]
fn exp_nonpositive(t: f32) -> f32 {
    let t = t.max(-87.0).min(0.0);
    let n = (t * std::f32::consts::LOG2_E + 0.5).floor();
    let r = t - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1) * r + 5e-1;
    // `t` was clamped to [-87, 0] above (a NaN included), so `n` is a whole number in [-126, 0]
    // and converts exactly. The checked `n as i32` gives the same integer, but its saturation
    // and NaN rule are done lane by lane, one scalar conversion and two comparisons a pixel,
    // which kept this loop from vectorising.
    // SAFETY: `n` is finite and within `i32`'s range, as just said.
    let n = unsafe { n.to_int_unchecked::<i32>() };
    (p * r * r + r + 1.0) * f32::from_bits(((n + 127) as u32) << 23)
}

/// `r act'(y)` elementwise: the gradient through an activation, read off its output `y` (the
/// dense layer's, batch norm's and the activation op's backward passes).
pub fn times_derivative(r: &[f32], y: &[f32], act: linear::Act) -> Vec<f32> {
    assert_eq!(r.len(), y.len(), "gradient and output differ in size");
    let mut d = matmul::overwritten(r.len());
    with_act!(act, |_f, df| d.par_chunks_mut(CHUNK).zip(r.par_chunks(CHUNK).zip(y.par_chunks(CHUNK))).for_each(|(d, (r, y))| {
        d.iter_mut().zip(r.iter().zip(y)).for_each(|(d, (r, y))| *d = r * df(*y))
    }));
    d
}

/// `tanh` of every element, in double precision: `(e - 1) / (e + 1)` with `e = exp(2x)`, whose
/// rounding error is far below an `f32` ulp except near 0, where `x - x^3/3` is exact to it.
pub fn tanh(x: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; x.len()];
    out.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(out, x)| {
        out.iter_mut().zip(x).for_each(|(o, &x)| *o = tanh_one(x));
    });
    out
}

/// One element of [`tanh`].
pub fn tanh_one(x: f32) -> f32 {
    let x = x as f64;
    (if x.abs() < 1e-4 {
        x - x * x * x / 3.0
    } else {
        let e = (2.0 * x.clamp(-20.0, 20.0)).exp();
        (e - 1.0) / (e + 1.0)
    }) as f32
}

/// Adam's hyper-parameters and the step count `t` (1 on the first update).
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    pub lr: f32,
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub t: i32,
}

/// One Adam update of `param` in place, with its moments `m`, `v` (zeros before the first).
/// The arithmetic is burn's `Adam` (burn-optim 0.22 `AdaptiveMomentum::transform`) operation for
/// operation, so both give the same bits: `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
/// `p -= lr (m c) / (sqrt(v) + eps sqrt(1 - b2^t))` with `c = sqrt(1 - b2^t) / (1 - b1^t)`; but a
/// moment that turns subnormal is set to 0 ([`flush_subnormal`]: the weights keep their bits).
pub fn adam(s: AdamStep, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    let n = param.len();
    assert!(grad.len() == n && m.len() == n && v.len() == n, "Adam: parameter, gradient and moments differ in size");
    // `powi` as burn calls it, at run time: folded at compile time (when inlined with constant
    // arguments) LLVM rounds it differently, and the update moved by an ulp.
    let powi = |b: f32| std::hint::black_box(b).powi(std::hint::black_box(s.t));
    let bias2_sqrt = (1.0 - powi(s.beta_2)).sqrt();
    let c = AdamCoefficients {
        beta_1: s.beta_1,
        beta_2: s.beta_2,
        f1: 1.0 - s.beta_1,
        f2: 1.0 - s.beta_2,
        factor: bias2_sqrt / (1.0 - powi(s.beta_1)),
        eps: s.epsilon * bias2_sqrt,
        lr: s.lr,
    };
    if n < CHUNK {
        adam_chunk(&c, param, grad, m, v);
    } else {
        param
            .par_chunks_mut(CHUNK)
            .zip(grad.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| adam_chunk(&c, p, g, m, v));
    }
}

struct AdamCoefficients {
    beta_1: f32,
    beta_2: f32,
    f1: f32,
    f2: f32,
    factor: f32,
    eps: f32,
    lr: f32,
}

/// The update over one chunk, with AVX2 when the CPU has it: plain IEEE operations (no fused
/// multiply-add), so the vector and scalar code give the same bits.
fn adam_chunk(c: &AdamCoefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { adam_chunk_avx2(c, p, g, m, v) };
    }
    adam_chunk_portable(c, p, g, m, v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn adam_chunk_avx2(c: &AdamCoefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_chunk_portable(c, p, g, m, v)
}

/// `x`, or 0 where `x` is subnormal (nonzero, below `f32::MIN_POSITIVE`, about 1.2e-38).
///
/// Why Adam needs it: a weight whose gradient is exactly 0 step after step (the first layer's
/// weights from pixels that are almost always blank in MNIST) keeps a first moment that decays by
/// `beta_1` each step and turns subnormal after about 800 steps at 0.9 (130 at 0.5). x86 CPUs run
/// arithmetic on subnormal numbers in microcode, many times slower: the MLP VAE's training fell
/// from 13,500 to 3,900 examples/s by its third epoch on MNIST. The step it changes,
/// `m c / (sqrt(v) + eps)` times the learning rate, is below 1e-30: a weight keeps its bits
/// unless it is itself below about 1e-22 (docs/performance.md).
#[inline(always)]
fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

#[inline(always)]
fn adam_chunk_portable(c: &AdamCoefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        // On the first update the moments are 0: `0 * beta + x` is `x`, burn's first step.
        m[i] = flush_subnormal(m[i] * c.beta_1 + g[i] * c.f1);
        v[i] = flush_subnormal(v[i] * c.beta_2 + g[i] * g[i] * c.f2);
        p[i] -= m[i] * c.factor / (v[i].sqrt() + c.eps) * c.lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bernoulli_terms_match_the_formula_by_hand() {
        // Two rows of two: logits far on both sides of 0, at 0, and small.
        let l = [-30.0f32, 0.0, 2.0, 30.0];
        let x = [0.0f32, 1.0, 1.0, 0.0];
        let (ll, g) = bernoulli_log_likelihood(&l, &x, 2);
        let softplus = |l: f64| l.max(0.0) + (-l.abs()).exp().ln_1p();
        let sigmoid = |l: f64| 1.0 / (1.0 + (-l).exp());
        let want: Vec<f64> = l.iter().zip(&x).map(|(&l, &x)| x as f64 * l as f64 - softplus(l as f64)).collect();
        assert!((ll[0] as f64 - (want[0] + want[1])).abs() < 1e-6, "{ll:?} vs {want:?}");
        assert!((ll[1] as f64 - (want[2] + want[3])).abs() < 1e-5, "{ll:?} vs {want:?}");
        for i in 0..4 {
            assert!((g[i] as f64 - (x[i] as f64 - sigmoid(l[i] as f64))).abs() < 1e-7, "grad {i}: {g:?}");
        }
    }

    /// Data rows serving several rows of logits give the bits of the data copied out row by row;
    /// the value alone gives the bits of the value with its gradient.
    #[test]
    fn bernoulli_rows_read_in_place_and_the_value_alone_keep_their_bits() {
        let (k, width) = (5, 784);
        let x: Vec<f32> = (0..3 * width).map(|i| ((i * 31) % 7 < 3) as u8 as f32).collect();
        let l: Vec<f32> = (0..3 * k * width).map(|i| ((i * 7919) % 4001) as f32 / 100.0 - 20.0).collect();
        let copied: Vec<f32> = x.chunks(width).flat_map(|row| std::iter::repeat_n(row, k).flatten().copied()).collect();
        let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let (ll, g) = bernoulli_log_likelihood(&l, &copied, width);
        let (ll_in_place, g_in_place) = bernoulli_log_likelihood(&l, &x, width);
        assert_eq!((bits(&ll_in_place), bits(&g_in_place)), (bits(&ll), bits(&g)));
        assert_eq!(bits(&bernoulli_log_likelihood_value(&l, &x, width)), bits(&ll));
        assert!(ll.chunks(k).any(|s| s.iter().any(|v| v != &s[0])), "the samples' logits differ, so a mix-up would show");
    }

    /// A row's value is its terms added in order, one after another, from the first pixel: the
    /// bits of `terms.iter().sum()`, however the kernel blocks its work.
    #[test]
    fn bernoulli_rows_sum_their_terms_in_order() {
        for width in [1, SUM_BLOCK - 1, SUM_BLOCK, SUM_BLOCK + 1, 784] {
            let x: Vec<f32> = (0..width).map(|i| ((i * 31) % 7 < 3) as u8 as f32).collect();
            let l: Vec<f32> = (0..width).map(|i| ((i * 7919) % 4001) as f32 / 100.0 - 20.0).collect();
            let got = bernoulli_row::<false>(&l, &x, &mut []);
            let each: Vec<f32> = (0..width).map(|i| bernoulli_row::<false>(&l[i..i + 1], &x[i..i + 1], &mut [])).collect();
            assert_eq!(got.to_bits(), each.iter().sum::<f32>().to_bits(), "width {width}");
            // Reversed, the same terms give other bits: the test can tell the order.
            if width == 784 {
                assert_ne!(got.to_bits(), each.iter().rev().sum::<f32>().to_bits());
            }
        }
    }

    #[test]
    fn exp_is_within_2_ulp_over_its_range() {
        let mut worst = 0f64;
        for i in 0..=870_000 {
            let t = -(i as f32) / 10_000.0;
            let (got, want) = (exp_nonpositive(t) as f64, (t as f64).exp());
            worst = worst.max((got - want).abs() / want);
        }
        assert!(worst < 2.0 * f32::EPSILON as f64, "worst relative error {worst:e}");
    }

    #[test]
    fn adam_sets_subnormal_moments_to_zero_and_keeps_the_weights_bits() {
        // A weight whose gradient stays 0: its first moment 1.3e-38 decays to 1.17e-38, below
        // f32's smallest normal. The update that IEEE arithmetic would make is far below the
        // weight's last bit, so the flushed update gives the same weight.
        let s = AdamStep { lr: 1e-3, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-8, t: 900 };
        let (mut p, mut m, mut v) = (vec![0.01f32, -0.3], vec![1.3e-38f32, 2e-3], vec![1e-9f32, 1e-6]);
        let ieee_m = 1.3e-38f32 * 0.9;
        assert!(ieee_m != 0.0 && ieee_m < f32::MIN_POSITIVE, "the test needs a subnormal moment");
        adam(s, &mut p, &[0.0, 0.0], &mut m, &mut v);
        assert_eq!(m[0], 0.0, "a subnormal first moment is set to 0");
        assert_eq!(p[0].to_bits(), 0.01f32.to_bits(), "the weight keeps its bits");
        // A normal moment is untouched: 2e-3 * 0.9, and the weight moves.
        assert_eq!(m[1].to_bits(), (2e-3f32 * 0.9).to_bits());
        assert!(p[1] < -0.3);
        // Moments that were already subnormal (a checkpoint written before the flush) too.
        let (mut p, mut m, mut v) = (vec![0.5f32], vec![1e-39f32], vec![1e-40f32]);
        adam(s, &mut p, &[0.0], &mut m, &mut v);
        assert_eq!((m[0], v[0], p[0].to_bits()), (0.0, 0.0, 0.5f32.to_bits()));
    }

    #[test]
    fn kernels_do_not_depend_on_the_split() {
        // 70 rows of 784: several chunks, whose size rows do not divide, so the row grouping is
        // exercised; the one-row calls below take the sequential route.
        let n = 70 * 784;
        assert!(n > 3 * CHUNK);
        let l: Vec<f32> = (0..n).map(|i| ((i * 7919) % 2001) as f32 / 100.0 - 10.0).collect();
        let x: Vec<f32> = (0..n).map(|i| (i % 3 == 0) as u8 as f32).collect();
        let (ll, g) = bernoulli_log_likelihood(&l, &x, 784);
        assert_eq!(ll.len(), n / 784);
        for r in [0, 20, ll.len() - 1] {
            let (one, g1) = bernoulli_log_likelihood(&l[r * 784..(r + 1) * 784], &x[r * 784..(r + 1) * 784], 784);
            assert_eq!(one[0].to_bits(), ll[r].to_bits(), "row {r}");
            assert_eq!(g1, g[r * 784..(r + 1) * 784]);
        }
        let s = AdamStep { lr: 1e-3, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-8, t: 3 };
        let (mut p, mut m, mut v) = (l.clone(), x.clone(), x.iter().map(|a| a * 0.5).collect::<Vec<_>>());
        adam(s, &mut p, &g, &mut m, &mut v);
        let (mut p1, mut m1, mut v1) = (l[..100].to_vec(), x[..100].to_vec(), x[..100].iter().map(|a| a * 0.5).collect::<Vec<_>>());
        adam(s, &mut p1, &g[..100], &mut m1, &mut v1);
        let bits = |a: &[f32]| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p[..100]), bits(&p1), "weights");
        assert_eq!(bits(&m[..100]), bits(&m1), "first moments");
        assert_eq!(bits(&v[..100]), bits(&v1), "second moments");
    }
}
