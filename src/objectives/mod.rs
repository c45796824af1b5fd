//! The shared pieces every objective is assembled from (docs/spec.md §2). Each is written once:
//! models compose them, they never re-derive them.
//!
//! Shapes: `B` examples, `k` samples per example, `D` data dimensions, `d` latent dimensions.
//! Everything is computed from logits and log-variances; no log of a probability is ever taken.

use burn::tensor::Tensor;
use burn::tensor::activation::{log_sigmoid, log_softmax, sigmoid, softmax};

use crate::backend::is_cpu;
use crate::kernels;

const LOG_2PI: f64 = 1.837_877_066_409_345_3; // ln(2 pi)

/// `log N(x; mu, exp(log_var))`, summed over the last dimension. `[N, D] -> [N]`.
pub fn gaussian_log_density(x: Tensor<2>, mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    let d = x.dims()[1] as f64;
    let sq = (x - mu).square() * log_var.clone().neg().exp();
    (sq + log_var).sum_dim(1).squeeze_dim(1).add_scalar(d * LOG_2PI).mul_scalar(-0.5)
}

/// `log N(x; mu, sigma^2 I)` with a fixed `sigma`. `[N, D] -> [N]`.
pub fn gaussian_log_density_fixed(x: Tensor<2>, mu: Tensor<2>, sigma: f64) -> Tensor<1> {
    let d = x.dims()[1] as f64;
    let log_var = 2.0 * sigma.ln();
    (x - mu)
        .square()
        .sum_dim(1)
        .squeeze_dim(1)
        .div_scalar(sigma * sigma)
        .add_scalar(d * (LOG_2PI + log_var))
        .mul_scalar(-0.5)
}

/// `log p(x | z)` for Bernoulli pixels with the given logits: `sum_j x_j l_j - softplus(l_j)`
/// (the negative of BCE with logits). `[N, D] -> [N]`. `x` is data: no gradient flows into it.
/// It may have `N / k` rows, each the data of `k` consecutive rows of logits ([`repeat_rows`]).
/// On the CPU one fused pass computes it ([`bernoulli_log_likelihood_fused`]); elsewhere, tensor ops.
pub fn bernoulli_log_likelihood(logits: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
    if is_cpu(&logits.device()) {
        bernoulli_log_likelihood_fused(logits, x)
    } else {
        bernoulli_log_likelihood_plain(logits, x)
    }
}

/// Each row of `t` `k` times in a row: `[B, W] -> [B k, W]` (`t` itself when `k` is 1).
pub fn repeat_rows(t: Tensor<2>, k: usize) -> Tensor<2> {
    let [b, width] = t.dims();
    if k == 1 { t } else { t.unsqueeze_dim::<3>(1).expand([b, k, width]).reshape([b * k, width]) }
}

/// [`bernoulli_log_likelihood`] as tensor ops, written as `x l + log sigmoid(-l)` (the same
/// value, as `softplus(l) = -log sigmoid(-l)`): burn's `log_sigmoid` is one stable pass, its
/// `softplus` several.
pub fn bernoulli_log_likelihood_plain(logits: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
    let k = logits.dims()[0] / x.dims()[0];
    (repeat_rows(x.detach(), k) * logits.clone() + log_sigmoid(logits.neg())).sum_dim(1).squeeze_dim(1)
}

/// [`bernoulli_log_likelihood`] with its value and its gradient `g = x - sigmoid(l)` from one pass
/// over the CPU tensors ([`kernels::bernoulli_log_likelihood`]), an operation with its own
/// backward pass ([`kernels::bernoulli_term`](mod@kernels::bernoulli_term)).
pub fn bernoulli_log_likelihood_fused(logits: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
    kernels::bernoulli_term::bernoulli_log_likelihood(logits, x)
}

/// `KL(N(mu, exp(log_var)) || N(0, I))` in closed form: `-1/2 sum(1 + log_var - mu^2 - exp(log_var))`.
/// `[B, d] -> [B]`.
pub fn kl_standard_normal(mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    (log_var.clone().add_scalar(1.0) - mu.square() - log_var.exp())
        .sum_dim(1)
        .squeeze_dim(1)
        .mul_scalar(-0.5)
}

/// `log (1/k) sum_i exp(a_i)` along the samples, stably: the max is subtracted first, and
/// detached, since the result does not depend on it. `[B, k] -> [B]`.
pub fn log_mean_exp(a: Tensor<2>) -> Tensor<1> {
    let k = a.dims()[1] as f64;
    let m = a.clone().max_dim(1).detach();
    ((a - m.clone()).exp().sum_dim(1).log() + m).squeeze_dim(1).sub_scalar(k.ln())
}

/// The ELBO with the KL term in closed form, averaged over the k reconstructions:
/// `(1/k) sum_i log p(x | z_i) - KL(q(z|x) || p(z))`. `log_px_z: [B, k], kl: [B] -> [B]`.
pub fn elbo(log_px_z: Tensor<2>, kl: Tensor<1>) -> Tensor<1> {
    log_px_z.mean_dim(1).squeeze_dim(1) - kl
}

/// The importance-weighted bound `L_k = log (1/k) sum_i w_i` (Burda et al. 2016) from the log
/// weights `log w_i = log p(x, z_i) - log q(z_i | x)`. `[B, k] -> [B]`. With k = 1 it is the
/// single-sample ELBO.
pub fn iwae_bound(log_w: Tensor<2>) -> Tensor<1> {
    log_mean_exp(log_w)
}

/// Normalised importance weights `w~ = softmax(stop_gradient(log w))` over the k samples
/// (dimension 1). The weights carry no gradient: they only rescale the samples' own gradients.
/// IWAE's gradient and IWGAN's generator update (docs/spec.md §2.4) both use them.
pub fn importance_weights(log_w: Tensor<2>) -> Tensor<2> {
    softmax(log_w.detach(), 1)
}

/// [`importance_weights`] of a conditional generator's B samples, normalised within each class:
/// `w~_i = exp(l_i) / sum_{j: c_j = c_i} exp(l_j) * n_{c_i} / B`. Each class keeps its share
/// `n_c / B` of the update, as with uniform weights; only the samples of one class compete.
/// (`exp(l)` estimates `p_data(x | c) / p_g(x | c)`, a ratio between densities of the same class;
/// normalised over the whole batch instead, the classes the discriminator rejects get almost no
/// gradient, and an IW-CGAN trained that way collapsed.) `l: [B]`, `classes: [B, C]` one-hot.
pub fn importance_weights_within_classes(l: Tensor<1>, classes: Tensor<2>) -> Tensor<1> {
    let b = l.dims()[0];
    let l = l.detach().reshape([b, 1]);
    let e = (l.clone() - l.max().reshape([1, 1])).exp(); // [B, 1], the largest is 1: no overflow
    let per_class = classes.clone().transpose().matmul(e.clone()); // [C, 1]: sum of e in each class
    let counts = classes.clone().sum_dim(0).transpose(); // [C, 1]: n_c
    let total = classes.clone().matmul(per_class); // [B, 1]
    let share = classes.matmul(counts).div_scalar(b as f32); // [B, 1]: n_{c_i} / B
    (e / total * share).reshape([b])
}

/// Kish's effective sample size of weights `w`, `(sum w)^2 / sum w^2`, as a share of their
/// number: 1 for equal weights, `1/n` when one weight holds everything. It says how many of an
/// importance-weighted batch's samples its update really learns from.
pub fn effective_sample_share(w: &[f32]) -> f64 {
    let (sum, sq) = w.iter().fold((0.0f64, 0.0f64), |(s, q), &v| (s + v as f64, q + (v as f64).powi(2)));
    if sq == 0.0 { 0.0 } else { sum * sum / sq / w.len() as f64 }
}

/// Kish's share of the weights `softmax(beta l)` over each group of `l` (the batch, or each class of
/// a conditional generator's batch), averaged over the groups. It grows as `beta` falls, to 1 at
/// `beta = 0` (its logarithm's derivative in `beta` is `2 (E_beta[l] - E_2beta[l]) <= 0`).
pub fn tempered_share(groups: &[Vec<f32>], beta: f64) -> f64 {
    // In f32 as the weights are: at beta = 1 these are the weights themselves, bit for bit.
    let share = |l: &[f32]| {
        let top = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let w: Vec<f32> = l.iter().map(|&v| ((v - top) * beta as f32).exp()).collect();
        effective_sample_share(&w)
    };
    groups.iter().map(|g| share(g)).sum::<f64>() / groups.len().max(1) as f64
}

/// The largest exponent `beta` in [0, 1] whose weights `exp(beta l)` rest on at least `floor` of
/// their group ([`tempered_share`]): 1 (the IWGAN's own weights) while they do, less when the
/// discriminator's logits spread so far that the update would follow a few samples. 0 means
/// uniform weights, the GAN's; it is returned only when no positive exponent reaches the floor
/// (a floor of 1 with unequal logits). Bisection to 2^-30 of the exponent on the host, from the
/// logits alone: deterministic, like the rest of a CPU run.
pub fn exponent_for_share(groups: &[Vec<f32>], floor: f64) -> f64 {
    if floor <= 0.0 || tempered_share(groups, 1.0) >= floor {
        return 1.0;
    }
    // Only uniform weights rest on the whole batch (at tiny exponents the f32 weights round to
    // equal ones, which the bisection would take for it).
    if floor >= 1.0 {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64); // share(lo) >= floor > share(hi)
    for _ in 0..30 {
        let mid = 0.5 * (lo + hi);
        if tempered_share(groups, mid) >= floor { lo = mid } else { hi = mid }
    }
    lo
}

/// The M2 unlabelled bound from the labelled ones (docs/spec.md §2.7): with the class unobserved, its
/// bounds are averaged under `q(c|x)` and the entropy of `q(c|x)` is added,
/// `sum_c q(c|x) B(x, c) + H(q(c|x)) = sum_c q(c|x) (B(x, c) - log q(c|x))`.
/// `log_q: [B, C]` (log-probabilities), `b: [B, C]` -> `[B]`.
pub fn marginal_bound(log_q: Tensor<2>, b: Tensor<2>) -> Tensor<1> {
    (log_q.clone().exp() * (b - log_q)).sum_dim(1).squeeze_dim(1)
}

/// The adversary's weights of examples (docs/spec.md §2.6): `w(x) = stop_gradient(q^r(y=0|x)) =
/// stop_gradient(D(x))` from the discriminator's logits, `[N] -> [N]`. A generated sample counts
/// as far as it fools D; a real example the more clearly D finds it real.
pub fn adversary_weights(logits: Tensor<1>) -> Tensor<1> {
    sigmoid(logits.detach())
}

/// `(1/B) sum_i w_i b_i`: a batch's bounds weighted by the adversary (`[B], [B] -> []`). With the
/// VAE's perfect discriminator, `w = 1` on real examples and the generated ones' term vanishes.
pub fn weighted_mean(b: Tensor<1>, w: Tensor<1>) -> Tensor<1> {
    (w * b).mean()
}

/// InfoGAN's variational lower bound on the mutual information `I(c; x)` between a generated
/// sample and its code (Chen et al. 2016, eq. 5), per sample: `log Q(c|x) + H(c)`. The code is
/// a categorical part (one-hot `[B, K]`, uniform) and a continuous part (`[B, M]`, uniform on
/// [-1, 1]); `Q` gives logits for the first (`[B, K]`) and the mean of a unit-variance Gaussian for
/// the second (`[B, M]`). With `H(c) = ln K + M ln 2` the bound is largest, `ln K + M (ln 2 -
/// ln(2 pi) / 2)`, exactly when `Q` recovers the code. `-> [B]`.
pub fn mutual_information_bound(q_logits: Tensor<2>, categorical: Tensor<2>, q_mean: Tensor<2>, continuous: Tensor<2>) -> Tensor<1> {
    let [_, k] = categorical.dims();
    let m = continuous.dims()[1];
    let log_q_cat = (log_softmax(q_logits, 1) * categorical).sum_dim(1).squeeze_dim(1);
    let log_q_cont = gaussian_log_density_fixed(continuous, q_mean, 1.0);
    (log_q_cat + log_q_cont).add_scalar((k as f64).ln() + m as f64 * 2f64.ln())
}

/// CycleGAN's cycle-consistency loss (Zhu et al. 2017): the L1 distance between examples and
/// their round trips through both translators, per pixel, averaged. `[B, D], [B, D] -> []`.
pub fn cycle_loss(x: Tensor<2>, round_trip: Tensor<2>) -> Tensor<1> {
    (x - round_trip).abs().mean()
}

/// `-log q_phi(y | x)` for discriminator logits `l` (`D(x) = sigmoid(l)`): for `y = 1`
/// `softplus(-l) = -log sigmoid(l)`, for `y = 0` `softplus(l) = -log sigmoid(-l)`. `[N] -> [N]`.
pub fn y_nll(logits: Tensor<1>, y: bool) -> Tensor<1> {
    let signed = if y { logits } else { logits.neg() };
    log_sigmoid(signed).neg()
}

/// The discriminator's loss: reconstruct `y = 1` on data and `y = 0` on generated samples,
/// `E_data[-log D(x)] + E_g[-log(1 - D(x))]` (docs/spec.md §2.3). `[B], [B'] -> []`.
pub fn discriminator_loss(l_real: Tensor<1>, l_fake: Tensor<1>) -> Tensor<1> {
    y_nll(l_real, true).mean() + y_nll(l_fake, false).mean()
}

/// The generator's two classic objectives on the logits of its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeneratorForm {
    /// `min E[log(1 - D(G(z)))]`: the original minimax form, whose gradient vanishes early on.
    Saturating,
    /// `max E[log D(G(z))]` = `max E[log q^r(y | x)]` over generated x: the reversed
    /// discriminator's reconstruction of `y`, the default.
    NonSaturating,
}

/// How the generator's samples are weighted in its update (docs/spec.md §2.4): the transfer from VAEs
/// to GANs is this one switch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleWeights {
    /// Every sample counts `1/B`: the GAN.
    Uniform,
    /// `w~_i = softmax(stop_gradient(beta l))_i` over the batch, the normalised importance weights
    /// `(D(x_i) / (1 - D(x_i)))^beta = exp(beta l_i)`. `beta = 1`: the IWGAN's; below 1 they are
    /// tempered towards uniform, which they reach at 0 ([`exponent_for_share`]).
    Importance { exponent: f32 },
}

impl SampleWeights {
    /// The IWGAN's weights, `exp(l)` itself.
    pub const IMPORTANCE: SampleWeights = SampleWeights::Importance { exponent: 1.0 };
}

/// The term of the objective that became NaN or infinite, and its value.
#[derive(Debug, Clone)]
pub struct NonFiniteTerm {
    pub term: &'static str,
    pub value: f64,
}

/// A loss's value on the host, or the term that is not finite.
pub fn finite(loss: &Tensor<1>, term: &'static str) -> std::result::Result<f64, NonFiniteTerm> {
    let value = loss.clone().into_scalar::<f32>() as f64;
    if value.is_finite() { Ok(value) } else { Err(NonFiniteTerm { term, value }) }
}

/// Which bound on `log p(x)` training maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `E_q[log p(x|z)] - KL(q || p)`, KL in closed form, the expectation averaged over k samples.
    Elbo,
    /// `L_k = log (1/k) sum_i w_i`.
    Iwae,
}

/// Which discriminator weights a VAE-family model's examples (docs/spec.md §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adversary {
    /// The VAE's degenerate discriminator: weight 1 on every real example, 0 on every generated
    /// sample, so generated samples never train the model (and need not be drawn).
    Perfect,
    /// A discriminator `D_phi` trained as in a GAN; examples weigh `stop_gradient(D(x))`.
    Learned,
}

/// The generator's loss on the logits of its B samples: `sum_i w_i loss_i`, `[B] -> []`.
/// `classes` (`[B, C]` one-hot) for a conditional generator: importance weights are then
/// normalised within each class.
pub fn generator_loss(l_fake: Tensor<1>, form: GeneratorForm, weights: SampleWeights, classes: Option<Tensor<2>>) -> Tensor<1> {
    let per_sample = match form {
        GeneratorForm::NonSaturating => y_nll(l_fake.clone(), true),
        // log(1 - D) = -softplus(l): minimised directly.
        GeneratorForm::Saturating => y_nll(l_fake.clone(), false).neg(),
    };
    match weights {
        SampleWeights::Uniform => per_sample.mean(),
        SampleWeights::Importance { exponent } => {
            let b = l_fake.dims()[0];
            // The untempered weights use the logits as they are (no product, the same bits).
            let l = if exponent == 1.0 { l_fake } else { l_fake.mul_scalar(exponent) };
            let w = match classes {
                Some(c) => importance_weights_within_classes(l, c),
                None => importance_weights(l.reshape([1, b])).reshape([b]),
            };
            (w * per_sample).sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, t1, t2, to_vec};
    use crate::host::tensor;

    #[test]
    fn m2_unlabelled_bound_by_hand() {
        // q(c|x) = (1/4, 3/4), B(x, c) = (-10, -20): sum_c q B = -17.5, and
        // H(q) = (1/4) ln 4 + (3/4) ln (4/3) = 0.562335; the bound is -16.937665.
        let log_q = t2(&[0.25f32.ln(), 0.75f32.ln()], [1, 2]);
        let b = t2(&[-10.0, -20.0], [1, 2]);
        assert_close(&to_vec(marginal_bound(log_q, b)), &[-16.937_665], 1e-5);
        // A certain classifier leaves the labelled bound of its class, with no entropy.
        let sure = t2(&[0.0, -80.0], [1, 2]);
        assert_close(&to_vec(marginal_bound(sure, t2(&[-10.0, -20.0], [1, 2]))), &[-10.0], 1e-5);
    }

    /// The bound is largest, `ln K + M (ln 2 - ln(2 pi)/2)`, for a Q that recovers the code
    /// exactly, and lower for a Q that is unsure, wrong about the class, or off on the continuous code.
    #[test]
    fn the_information_bound_is_maximal_for_a_q_that_recovers_the_code() {
        let (k, m) = (10usize, 2usize);
        let labels = [3u8, 7, 0, 9];
        let cat = crate::host::one_hot(&labels, k, &crate::testing::device());
        let cont = t2(&[0.5, -0.25, 0.9, 0.0, -1.0, 0.3, 0.1, 0.7], [4, m]);
        let sure = |shift: usize| {
            let l: Vec<f32> = (0..4 * k).map(|i| if i % k == (labels[i / k] as usize + shift) % k { 60.0 } else { 0.0 }).collect();
            t2(&l, [4, k])
        };
        let max = (k as f32).ln() + m as f32 * (2f32.ln() - 0.5 * LOG_2PI as f32);
        let exact = to_vec(mutual_information_bound(sure(0), cat.clone(), cont.clone(), cont.clone()));
        assert_close(&exact, &[max; 4], 1e-4);
        let mean = |v: Vec<f32>| v.iter().sum::<f32>() / v.len() as f32;
        let unsure = mean(to_vec(mutual_information_bound(t2(&[0.0; 40], [4, k]), cat.clone(), cont.clone(), cont.clone())));
        let wrong = mean(to_vec(mutual_information_bound(sure(1), cat.clone(), cont.clone(), cont.clone())));
        let off = mean(to_vec(mutual_information_bound(sure(0), cat, cont.clone(), cont.add_scalar(0.3))));
        // An unsure Q loses exactly H(c_cat) = ln K; a wrong one far more; an offset mean 0.3^2 / 2 per dimension.
        assert!((max - unsure - (k as f32).ln()).abs() < 1e-4, "unsure {unsure}");
        assert!(wrong < unsure, "wrong {wrong}");
        assert!((max - off - 0.09).abs() < 1e-4, "off {off}");
    }

    #[test]
    fn kl_of_the_prior_to_itself_is_zero() {
        let zeros = t2(&[0.0; 6], [2, 3]);
        assert_close(&to_vec(kl_standard_normal(zeros.clone(), zeros)), &[0.0, 0.0], 1e-7);
    }

    #[test]
    fn kl_by_hand() {
        // One dimension, mu = 1, var = e: KL = 0.5 (e + 1 - 1 - 1) = (e - 1) / 2.
        let kl = to_vec(kl_standard_normal(t2(&[1.0], [1, 1]), t2(&[1.0], [1, 1])));
        assert_close(&kl, &[((1f64.exp() - 1.0) / 2.0) as f32], 1e-6);
    }

    #[test]
    fn kl_closed_form_matches_monte_carlo() {
        // E_q[log q(z) - log p(z)] estimated from 200k draws of z = mu + sigma * eps.
        use rand_distr::{Distribution, StandardNormal};
        let (mu, lv) = ([0.7f32, -1.2, 0.1], [-0.5f32, 0.8, 0.0]);
        let n = 200_000;
        let mut rng = crate::rng::stream(1, crate::rng::Purpose::Eps, 0);
        let mut acc = 0f64;
        for _ in 0..n {
            for j in 0..3 {
                let e: f64 = StandardNormal.sample(&mut rng);
                let z = mu[j] as f64 + (0.5 * lv[j] as f64).exp() * e;
                let log_q = -0.5 * (LOG_2PI + lv[j] as f64 + e * e);
                let log_p = -0.5 * (LOG_2PI + z * z);
                acc += log_q - log_p;
            }
        }
        let mc = acc / n as f64;
        let closed = to_vec(kl_standard_normal(t2(&mu, [1, 3]), t2(&lv, [1, 3])))[0] as f64;
        assert!((mc - closed).abs() < 0.01, "closed form {closed} vs Monte Carlo {mc}");
    }

    #[test]
    fn bernoulli_likelihood_by_hand_and_stable() {
        for f in [bernoulli_log_likelihood_plain, bernoulli_log_likelihood_fused] {
            // x = 1, l = 0: log sigmoid(0) = -ln 2. x = 0, l = 2: log(1 - sigmoid(2)) = -softplus(2).
            let ll = to_vec(f(t2(&[0.0, 2.0], [1, 2]), t2(&[1.0, 0.0], [1, 2])));
            let want = -(2f64.ln()) - (1.0 + 2f64.exp()).ln();
            assert_close(&ll, &[want as f32], 1e-6);
            // Huge logits stay finite (a log of a probability would give -inf here).
            let ll = to_vec(f(t2(&[-200.0, 200.0], [1, 2]), t2(&[1.0, 0.0], [1, 2])));
            assert_close(&ll, &[-400.0], 1e-3);
        }
    }

    /// The fused CPU path gives the tensor ops' value and gradient (with respect to the logits,
    /// through a weighted sum over rows) on a batch of MNIST-sized rows.
    #[test]
    fn fused_bernoulli_likelihood_matches_the_tensor_ops() {
        let (n, d) = (6, 784);
        let l: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 4001) as f32 / 100.0 - 20.0).collect();
        let x: Vec<f32> = (0..n * d).map(|i| ((i * 31) % 5 < 2) as u8 as f32).collect();
        let row_weights = t1(&[1.0, -2.0, 0.5, 3.0, 0.0, 1.5]);
        let run = |f: fn(Tensor<2>, Tensor<2>) -> Tensor<1>| {
            let logits = t2(&l, [n, d]).require_grad();
            // Logits inside a graph, as a decoder's are, not a leaf.
            let ll = f(logits.clone().mul_scalar(1.0), t2(&x, [n, d]));
            let grads = (ll.clone() * row_weights.clone()).sum().backward();
            (to_vec(ll), to_vec(logits.grad(&grads).expect("logits have a gradient")))
        };
        let (ll_plain, g_plain) = run(bernoulli_log_likelihood_plain);
        let (ll_fused, g_fused) = run(bernoulli_log_likelihood_fused);
        assert_close(&ll_fused, &ll_plain, 1e-5);
        assert_close(&g_fused, &g_plain, 1e-6);
        assert!(g_plain.iter().any(|&g| g.abs() > 0.1), "the gradient is not trivially 0");
    }

    /// Data of `N / k` rows, each serving `k` rows of logits, gives what the data repeated gives:
    /// value and gradient, fused and as tensor ops, with autodiff and without.
    #[test]
    fn bernoulli_likelihood_reads_repeated_rows_in_place() {
        let (b, k, d) = (2, 3, 5);
        let l: Vec<f32> = (0..b * k * d).map(|i| ((i * 37) % 23) as f32 / 3.0 - 4.0).collect();
        let x: Vec<f32> = (0..b * d).map(|i| (i % 3 == 0) as u8 as f32).collect();
        let repeated: Vec<f32> = x.chunks(d).flat_map(|row| std::iter::repeat_n(row, k).flatten().copied()).collect();
        for f in [bernoulli_log_likelihood_plain, bernoulli_log_likelihood_fused] {
            let grad = |x: &[f32], rows| {
                let logits = t2(&l, [b * k, d]).require_grad();
                let ll = f(logits.clone().mul_scalar(1.0), t2(x, [rows, d]));
                let g = logits.grad(&ll.clone().sum().backward()).expect("logits have a gradient");
                (to_vec(ll), to_vec(g))
            };
            assert_eq!(grad(&x, b), grad(&repeated, b * k));
            let plain = burn::tensor::Device::flex();
            let value = |x: &[f32], rows| to_vec(f(tensor(l.clone(), [b * k, d], &plain), tensor(x.to_vec(), [rows, d], &plain)));
            assert_eq!(value(&x, b), value(&repeated, b * k));
            assert_eq!(value(&x, b), grad(&x, b).0, "the value without autodiff");
        }
    }

    #[test]
    fn gaussian_densities_agree() {
        let x = t2(&[0.5, -1.0], [1, 2]);
        let mu = t2(&[0.0, 0.0], [1, 2]);
        let lv = t2(&[0.0, 0.0], [1, 2]);
        let want = -0.5 * (2.0 * LOG_2PI + 0.25 + 1.0);
        assert_close(&to_vec(gaussian_log_density(x.clone(), mu.clone(), lv)), &[want as f32], 1e-6);
        assert_close(&to_vec(gaussian_log_density_fixed(x, mu, 1.0)), &[want as f32], 1e-6);
    }

    #[test]
    fn log_mean_exp_is_stable_and_exact() {
        let a = t2(&[1000.0, 1000.0, -1000.0, 0.0, 0.0, (3f32).ln()], [2, 3]);
        let got = to_vec(log_mean_exp(a));
        assert!((got[0] - (1000.0 + (2f32 / 3.0).ln())).abs() < 1e-3, "{got:?}");
        assert_close(&got[1..], &[(5f32 / 3.0).ln()], 1e-6);
    }

    #[test]
    fn iwae_with_one_sample_is_the_elbo() {
        let log_w = t2(&[-3.5, -80.25], [2, 1]);
        assert_close(&to_vec(iwae_bound(log_w)), &[-3.5, -80.25], 1e-6);
        // And elbo() with k = 1 is log p(x|z) - KL.
        let e = elbo(t2(&[-3.0, -5.0], [2, 1]), t1(&[0.5, 1.0]));
        assert_close(&to_vec(e), &[-3.5, -6.0], 1e-6);
    }

    #[test]
    fn discriminator_losses_by_hand() {
        // l = 0: D = 1/2, each term is ln 2. l = ln 3: D = 3/4.
        let l = t1(&[0.0, (3f32).ln()]);
        assert_close(&to_vec(y_nll(l.clone(), true)), &[2f32.ln(), (4f32 / 3.0).ln()], 1e-6);
        assert_close(&to_vec(y_nll(l, false)), &[2f32.ln(), 4f32.ln()], 1e-6);
        let d = discriminator_loss(t1(&[0.0, 0.0]), t1(&[0.0]));
        assert_close(&to_vec(d), &[2.0 * 2f32.ln()], 1e-6);
        // Stable far out: a probability-based formula gives inf or NaN here.
        assert_close(&to_vec(y_nll(t1(&[-300.0, 300.0]), true)), &[300.0, 0.0], 1e-6);
    }

    #[test]
    fn generator_forms_by_hand() {
        let l = t1(&[0.0, (3f32).ln()]);
        let ns = generator_loss(l.clone(), GeneratorForm::NonSaturating, SampleWeights::Uniform, None);
        assert_close(&to_vec(ns), &[(2f32.ln() + (4f32 / 3.0).ln()) / 2.0], 1e-6);
        let sat = generator_loss(l, GeneratorForm::Saturating, SampleWeights::Uniform, None);
        assert_close(&to_vec(sat), &[-(2f32.ln() + 4f32.ln()) / 2.0], 1e-6);
    }

    /// d loss / d logits of the generator loss, for given logits and weighting.
    fn generator_grad(l: &[f32], weights: SampleWeights) -> Vec<f32> {
        let dev = crate::testing::device();
        let logits = Tensor::<1>::from_floats(l, &dev).require_grad();
        let grads = generator_loss(logits.clone(), GeneratorForm::NonSaturating, weights, None).backward();
        to_vec(logits.grad(&grads).unwrap())
    }

    /// The mechanism behind a starved importance-weighted update: the spread of the logits sets
    /// the effective sample size. Logits of std 0.12 keep nearly every sample; a std of 6 leaves
    /// a fifth of a batch of 64 (an unbounded discriminator's logits can spread that far);
    /// normalised within each class, a class the discriminator rejects keeps its share.
    #[test]
    fn the_logits_spread_sets_the_effective_sample_size() {
        let dev = crate::testing::device();
        let spread = |s: f32| -> Vec<f32> { (0..64).map(|i| s * ((i as f32 * 0.61).sin() * 1.7)).collect() };
        let share = |l: Vec<f32>| effective_sample_share(&to_vec(importance_weights(t2(&l, [1, 64]))));
        assert!(share(spread(0.1)) > 0.98, "{}", share(spread(0.1)));
        assert!(share(spread(5.0)) < 0.25, "{}", share(spread(5.0)));
        assert_eq!(effective_sample_share(&[0.25; 4]), 1.0);
        assert!((effective_sample_share(&[1.0, 0.0, 0.0, 0.0]) - 0.25).abs() < 1e-12);
        // Two classes, the second's logits 6 lower: batch-wide, its 32 samples share ~0.2% of the
        // update; within classes, half of it, as with uniform weights.
        let l: Vec<f32> = (0..64).map(|i| if i < 32 { 0.0 } else { -6.0 }).collect();
        let classes = crate::host::one_hot(&(0..64).map(|i| (i >= 32) as u8).collect::<Vec<_>>(), 2, &dev);
        let batch = to_vec(importance_weights(t2(&l, [1, 64])));
        let within = to_vec(importance_weights_within_classes(t1(&l), classes));
        let second = |w: &[f32]| w[32..].iter().sum::<f32>();
        assert!(second(&batch) < 0.003 && (second(&within) - 0.5).abs() < 1e-5, "{} {}", second(&batch), second(&within));
    }

    /// The floor on the weights' share: untouched weights while they reach it, otherwise the
    /// largest exponent that does (the least tempering), uniform only for a floor of 1; within
    /// classes, the mean of the classes' shares.
    #[test]
    fn the_exponent_is_the_least_tempering_that_reaches_the_floor() {
        let spread: Vec<f32> = (0..64).map(|i| 5.0 * ((i as f32 * 0.61).sin() * 1.7)).collect();
        let batch = [spread.clone()];
        assert_eq!(exponent_for_share(&batch, 0.0), 1.0);
        let own = tempered_share(&batch, 1.0);
        assert!(own < 0.25, "{own}");
        assert_eq!(exponent_for_share(&batch, own), 1.0, "weights at the floor are left as they are");
        let beta = exponent_for_share(&batch, 0.5);
        assert!(beta > 0.0 && beta < 1.0, "{beta}");
        assert!(tempered_share(&batch, beta) >= 0.5 && tempered_share(&batch, beta + 1e-6) < 0.5, "{beta}");
        // The share grows as the exponent falls, to 1 at 0.
        let shares: Vec<f64> = (0..=10).map(|i| tempered_share(&batch, 1.0 - i as f64 / 10.0)).collect();
        assert!(shares.windows(2).all(|w| w[1] >= w[0]) && shares[10] == 1.0, "{shares:?}");
        assert_eq!(exponent_for_share(&batch, 1.0), 0.0, "a floor of 1 is the GAN's uniform weights");
        assert_eq!(exponent_for_share(&[vec![0.3; 8]], 1.0), 1.0, "equal logits are uniform already");
        // Two classes: one spread, one flat; their mean share is what the floor bounds.
        let classes = [spread[..32].to_vec(), vec![0.0; 32]];
        let beta = exponent_for_share(&classes, 0.8);
        assert!(tempered_share(&classes, beta) >= 0.8 && tempered_share(&[classes[0].clone()], beta) < 0.8, "{beta}");
    }

    #[test]
    fn importance_weights_at_equal_logits_give_exactly_the_gan_gradient() {
        // Equal logits make w~ uniform: IWGAN's update must then be the non-saturating GAN's,
        // bit for bit, since it is the same code path with the weights switched.
        let l = [0.7f32; 5];
        assert_eq!(generator_grad(&l, SampleWeights::IMPORTANCE), generator_grad(&l, SampleWeights::Uniform));
    }

    #[test]
    fn iwgan_gradient_is_the_weighted_sample_gradient() {
        // d/dl_i [sum_j w~_j softplus(-l_j)] with w~ treated as constant is -w~_i sigmoid(-l_i):
        // no term flows through the softmax.
        let l = [-1.0f32, 0.5, 2.0];
        let z: f32 = l.iter().map(|v| v.exp()).sum();
        let want: Vec<f32> = l.iter().map(|&v| -(v.exp() / z) / (1.0 + v.exp())).collect();
        assert_close(&generator_grad(&l, SampleWeights::IMPORTANCE), &want, 1e-6);
        // Uniform: -sigmoid(-l_i) / B.
        let want: Vec<f32> = l.iter().map(|&v| -1.0 / 3.0 / (1.0 + v.exp())).collect();
        assert_close(&generator_grad(&l, SampleWeights::Uniform), &want, 1e-6);
    }

    #[test]
    fn importance_weights_normalise_and_carry_no_gradient() {
        let dev = crate::testing::device();
        let log_w = Tensor::<2>::from_floats([[0.0, (3f32).ln()]], &dev).require_grad();
        let w = importance_weights(log_w.clone());
        assert_close(&to_vec(w.clone().reshape([2])), &[0.25, 0.75], 1e-6);
        let grads = (w * log_w.clone()).sum().backward();
        // d/dlog_w of sum(w~ * log_w) with w~ constant is w~ itself: no term through the softmax.
        assert_close(&to_vec(log_w.grad(&grads).unwrap().reshape([2])), &[0.25, 0.75], 1e-6);
    }

    #[test]
    fn class_wise_importance_weights_by_hand() {
        let dev = crate::testing::device();
        // Classes 0, 0, 1, 2: logits ln 1, ln 3 in class 0; the others alone in their class.
        let l = t1(&[0.0, (3f32).ln(), 5.0, -7.0]);
        let c = crate::host::one_hot(&[0, 0, 1, 2], 3, &dev);
        let w = to_vec(importance_weights_within_classes(l, c.clone()));
        // Class 0 keeps 2/4 of the weight, split 1:3; single samples keep 1/4 whatever their logit.
        assert_close(&w, &[0.125, 0.375, 0.25, 0.25], 1e-6);
        // Equal logits: every sample 1/B, as for uniform weights.
        assert_close(&to_vec(importance_weights_within_classes(t1(&[2.0; 4]), c)), &[0.25; 4], 1e-6);
    }

    /// Each class's sum of `exp(l)` adds its terms in batch order, at any batch size, so the sums
    /// do not depend on the CPU's cache or SIMD width: the one-hot matrix's transpose (a
    /// column-major view) times a column goes through `gemm`'s matrix-vector code, one chain over
    /// the whole batch, not its matrix-matrix code, which cuts sums of more than 512 terms into
    /// blocks sized from the cache. The one-hot factors make every product exact, so a fused
    /// multiply-add and a multiply then add give the same sum. 1,000 samples, past that 512; with
    /// and without autodiff.
    #[test]
    fn class_sums_add_in_batch_order_at_any_batch_size() {
        let (b, c) = (1000, 10);
        let l: Vec<f32> = (0..b).map(|i| 3.0 * (i as f32 * 0.37).sin() + (i % 7) as f32 * 0.1).collect();
        let labels: Vec<u8> = (0..b).map(|i| ((i * 7 + i / 13) % c) as u8).collect();
        for dev in [crate::testing::device(), crate::testing::device().autodiff()] {
            let lt = tensor(l.clone(), [b], &dev);
            let w = to_vec(importance_weights_within_classes(lt.clone(), crate::host::one_hot(&labels, c, &dev)));
            // The function's own `exp(l - max l)`, then the sums in batch order, on the host.
            let lt = lt.reshape([b, 1]);
            let e = to_vec((lt.clone() - lt.max().reshape([1, 1])).exp());
            let (mut sum, mut n) = (vec![0f32; c], vec![0usize; c]);
            for (&k, &v) in labels.iter().zip(&e) {
                sum[k as usize] += v;
                n[k as usize] += 1;
            }
            for (i, &k) in labels.iter().enumerate() {
                let k = k as usize;
                let want = e[i] / sum[k] * (n[k] as f32 / b as f32);
                assert_eq!(w[i].to_bits(), want.to_bits(), "sample {i} of class {k}: {} against {want}", w[i]);
            }
        }
    }

    #[test]
    fn class_wise_weights_carry_no_gradient() {
        let dev = crate::testing::device().autodiff();
        let l = crate::host::tensor(vec![0.3f32, -1.0, 2.0, 0.5], [4], &dev).require_grad();
        let c = crate::host::one_hot(&[0, 0, 1, 1], 2, &dev);
        let w = importance_weights_within_classes(l.clone(), c);
        // The loss is the weights alone: with a stopped gradient, l gets none from it.
        let loss = (w * l.clone().detach()).sum() + l.clone().mul_scalar(0.0).sum();
        let g = l.grad(&loss.backward()).expect("l is a leaf");
        assert!(g.into_data().iter::<f32>().all(|v| v == 0.0));
    }
}
