//! The KL directions of the unified view, measured from samples in the plane.
//!
//! Hu et al.'s Lemma 1 and 2: a GAN's generator minimises `KL(p_model || p_data)` minus a JSD
//! term (mode-seeking: sharp samples, missed modes), a VAE the reverse direction,
//! `KL(p_data || p_model)` (mode-covering: every mode, mass between them). Given a sample of
//! each distribution, this module estimates both directions and the Jensen-Shannon divergence,
//! with nothing known about either density.
//!
//! The estimator is the k-nearest-neighbour one of Wang, Kulkarni & Verdú (2009): at each point
//! `x_i` of P's sample (n points), the log density ratio is
//! `log p/q (x_i) ≈ d log(nu_i / rho_i) + log(m / (n - 1))`, with `rho_i` the distance to its
//! k-th neighbour among the other points of P and `nu_i` to its k-th neighbour among Q's m points;
//! `KL(P || Q)` is the mean over P's points. It is consistent (no bias left as n, m grow, k fixed)
//! and adapts its resolution to the data, which a grid cannot: ring8's modes are 0.02 wide on a
//! circle 4 across. The JSD is the same estimator twice, `½ KL(P || M) + ½ KL(Q || M)` with M's
//! sample the two samples pooled (equal sizes, so the pool is a draw from `(P + Q) / 2`).
//!
//! Its bias at finite sizes (docs/divergence.md has the measurements, from
//! `cargo run --release --example divergence_bias`): a few hundredths of a nat for two samples of
//! the same distribution; and it cannot see further than the sample's own spacing: where Q has
//! mass far from any of P's points, the log ratio it sees is `d log(distance / spacing)`, a few
//! nats, where the true one of two narrow Gaussians is hundreds. Read large values as
//! "separated", not as their size.

use crate::error::{Error, Result};

/// Neighbours per estimate. Larger k lowers the variance but raises the bias wherever the density
/// changes over the distance to the k-th neighbour, above all in one sample's tails beyond the
/// other's; docs/divergence.md measures k = 1, 5, 20, and k = 1 was the least biased.
pub const K: usize = 1;

/// Distances below this count as this: duplicate points would otherwise give `log 0`.
pub const MIN_DISTANCE: f64 = 1e-9;

/// The three divergences between data and model, in nats.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Divergences {
    /// `KL(p_data || p_model)`: the VAE's direction; large when the model misses data modes.
    pub forward_kl: f64,
    /// `KL(p_model || p_data)`: the GAN generator's direction; large when the model puts mass
    /// where there are no data.
    pub reverse_kl: f64,
    /// Jensen-Shannon divergence, in [0, ln 2].
    pub jsd: f64,
}

/// A sample of points sorted by their first coordinate, for exact nearest-neighbour queries: a
/// query scans outwards from its own x and stops where the x-gap alone exceeds the k-th distance
/// found so far.
struct Sorted {
    /// `(point, index in the sample)`, by first coordinate.
    by_x: Vec<([f64; 2], usize)>,
}

impl Sorted {
    fn new(points: &[[f64; 2]]) -> Self {
        let mut by_x: Vec<([f64; 2], usize)> = points.iter().copied().zip(0..).collect();
        by_x.sort_by(|a, b| a.0[0].total_cmp(&b.0[0]));
        Sorted { by_x }
    }

    fn len(&self) -> usize {
        self.by_x.len()
    }

    /// The distance from `q` to its `k`-th nearest point, leaving out the point with index `skip`.
    fn kth_distance(&self, q: [f64; 2], k: usize, skip: Option<usize>) -> f64 {
        // The k smallest squared distances so far, ascending.
        let mut best = vec![f64::INFINITY; k];
        let mut consider = |&(p, i): &([f64; 2], usize)| {
            let dx = p[0] - q[0];
            if dx * dx >= best[k - 1] {
                return false;
            }
            if Some(i) != skip {
                let d2 = dx * dx + (p[1] - q[1]).powi(2);
                if d2 < best[k - 1] {
                    let at = best.partition_point(|&b| b <= d2);
                    best.insert(at, d2);
                    best.pop();
                }
            }
            true
        };
        let start = self.by_x.partition_point(|(p, _)| p[0] < q[0]);
        for p in &self.by_x[start..] {
            if !consider(p) {
                break;
            }
        }
        for p in self.by_x[..start].iter().rev() {
            if !consider(p) {
                break;
            }
        }
        best[k - 1].sqrt().max(MIN_DISTANCE)
    }
}

/// Flattened `[n, 2]` coordinates as points in f64.
fn points(x: &[f32]) -> Vec<[f64; 2]> {
    x.chunks_exact(2).map(|p| [p[0] as f64, p[1] as f64]).collect()
}

/// The estimate of `log p(x_i) / q(x_i)` at each point of P's sample: `2 log(nu_i / rho_i) +
/// log(m / (n - 1))`, the plane's dimension being 2. `q` may hold P's points themselves (the
/// pooled sample of the JSD): `q_offset` is then the index of P's first point in it, and each
/// point leaves itself out there too.
fn log_ratios(p: &[[f64; 2]], p_sorted: &Sorted, q: &Sorted, q_offset: Option<usize>, k: usize) -> Vec<f64> {
    let n = p.len() as f64;
    let m = (q.len() - q_offset.is_some() as usize) as f64;
    p.iter()
        .enumerate()
        .map(|(i, &x)| {
            let rho = p_sorted.kth_distance(x, k, Some(i));
            let nu = q.kth_distance(x, k, q_offset.map(|o| o + i));
            2.0 * (nu / rho).ln() + (m / (n - 1.0)).ln()
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn check_sizes(what: &str, x: &[f32], k: usize) -> Result<()> {
    if !x.len().is_multiple_of(2) || x.len() / 2 <= k {
        return Err(Error::Invalid(format!(
            "estimating divergences with k = {k} needs at least {} points (x, y pairs) from the {what}; got {} values",
            k + 1,
            x.len()
        )));
    }
    if let Some(v) = x.iter().find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!("the {what} holds a non-finite coordinate ({v})")));
    }
    Ok(())
}

/// `KL(P || Q)` from a sample of each (flattened `[n, 2]`, `[m, 2]`), with `k` neighbours.
pub fn kl(p: &[f32], q: &[f32], k: usize) -> Result<f64> {
    check_sizes("first sample", p, k)?;
    check_sizes("second sample", q, k)?;
    let (p, q) = (points(p), points(q));
    Ok(mean(&log_ratios(&p, &Sorted::new(&p), &Sorted::new(&q), None, k)))
}

/// Forward and reverse KL and the JSD between `data` and `model` samples (flattened `[n, 2]`),
/// with `k` neighbours. The JSD uses the first `min(n, m)` points of each, so that the pooled
/// sample is one of the even mixture.
///
/// ```
/// use unigen::data::toy::Toy;
/// use unigen::eval::divergence::divergences;
///
/// // Two independent samples of ring8: every divergence is near 0.
/// let (data, _) = Toy::Ring8.sample(4000, 1, 0);
/// let (model, _) = Toy::Ring8.sample(4000, 2, 0);
/// let d = divergences(&data, &model, 1)?;
/// assert!(d.forward_kl.abs() < 0.1 && d.reverse_kl.abs() < 0.1 && d.jsd < 0.05);
/// # Ok::<(), unigen::Error>(())
/// ```
pub fn divergences(data: &[f32], model: &[f32], k: usize) -> Result<Divergences> {
    check_sizes("data sample", data, k)?;
    check_sizes("model sample", model, k)?;
    let (p, q) = (points(data), points(model));
    let (ps, qs) = (Sorted::new(&p), Sorted::new(&q));
    let forward_kl = mean(&log_ratios(&p, &ps, &qs, None, k));
    let reverse_kl = mean(&log_ratios(&q, &qs, &ps, None, k));
    let n = p.len().min(q.len());
    let (p, q) = (&p[..n], &q[..n]);
    let (ps, qs) = (Sorted::new(p), Sorted::new(q));
    let pool = Sorted::new(&[p, q].concat());
    let jsd = 0.5 * mean(&log_ratios(p, &ps, &pool, Some(0), k)) + 0.5 * mean(&log_ratios(q, &qs, &pool, Some(n), k));
    Ok(Divergences { forward_kl, reverse_kl, jsd })
}

/// `ψ(n)` for a whole number `n >= 1`: `-γ + sum_{j < n} 1/j`.
fn digamma(n: usize) -> f64 {
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    -EULER_GAMMA + (1..n).map(|j| 1.0 / j as f64).sum::<f64>()
}

/// The Kozachenko-Leonenko estimate of `log p(x_i)` at each point of a sample of p (flattened
/// `[n, 2]`): `ψ(k) - ψ(n) - log π - 2 log rho_i`; minus its mean is the estimator of p's entropy.
/// For data whose density is not known (a user's point file).
pub fn log_density(x: &[f32], k: usize) -> Result<Vec<f64>> {
    check_sizes("sample", x, k)?;
    let p = points(x);
    let sorted = Sorted::new(&p);
    let c = digamma(k) - digamma(p.len()) - std::f64::consts::PI.ln();
    Ok(p.iter().enumerate().map(|(i, &x)| c - 2.0 * sorted.kth_distance(x, k, Some(i)).ln()).collect())
}

/// `KL(p_model || p_data)` where the data's density is known (ring8, grid25): `mean_j (log
/// q̂(y_j) - log p_data(y_j))` over the model's sample, with `log q̂` the Kozachenko-Leonenko
/// estimate ([`log_density`]) and `log p_data` exact. Where the model puts mass far out in the
/// data's tails it sees the tails' true depth (hundreds of nats between ring8's modes), which the
/// two-sample estimate cannot.
pub fn reverse_kl_exact_data(toy: crate::data::Toy, model: &[f32], k: usize) -> Result<f64> {
    let log_q = log_density(model, k)?;
    Ok(mean(&log_q.iter().zip(toy.log_density(model)).map(|(q, p)| q - p).collect::<Vec<_>>()))
}

/// Gaussians in the plane, whose divergences are known in closed form: the references the
/// estimators are checked against (tests, `examples/divergence_bias.rs`).
pub mod reference {
    use crate::rng::{Purpose, stream};
    use rand_distr::{Distribution, StandardNormal};

    /// `n` draws of a 2-D Gaussian with mean `mu` and covariance `[[a, b], [b, c]]`.
    pub fn gaussian(n: usize, mu: [f64; 2], cov: [f64; 3], seed: u64) -> Vec<f32> {
        let [a, b, c] = cov;
        // Cholesky factor of the covariance.
        let (l11, l21) = (a.sqrt(), b / a.sqrt());
        let l22 = (c - l21 * l21).sqrt();
        let mut rng = stream(seed, Purpose::Toy, 99);
        (0..n)
            .flat_map(|_| {
                let (e1, e2): (f64, f64) = (StandardNormal.sample(&mut rng), StandardNormal.sample(&mut rng));
                [(mu[0] + l11 * e1) as f32, (mu[1] + l21 * e1 + l22 * e2) as f32]
            })
            .collect()
    }

    /// KL(N(mu_p, P) || N(mu_q, Q)) in closed form, 2-D.
    pub fn gaussian_kl(mu_p: [f64; 2], p: [f64; 3], mu_q: [f64; 2], q: [f64; 3]) -> f64 {
        let det = |s: [f64; 3]| s[0] * s[2] - s[1] * s[1];
        let inv = |s: [f64; 3]| [s[2] / det(s), -s[1] / det(s), s[0] / det(s)];
        let qi = inv(q);
        let trace = qi[0] * p[0] + 2.0 * qi[1] * p[1] + qi[2] * p[2];
        let d = [mu_q[0] - mu_p[0], mu_q[1] - mu_p[1]];
        let maha = qi[0] * d[0] * d[0] + 2.0 * qi[1] * d[0] * d[1] + qi[2] * d[1] * d[1];
        0.5 * (trace + maha - 2.0 + (det(q) / det(p)).ln())
    }

}

#[cfg(test)]
mod tests {
    use super::reference::{gaussian, gaussian_kl};
    use super::*;
    use crate::data::Toy;

    #[test]
    fn nearest_neighbours_are_exact() {
        let x: Vec<[f64; 2]> = points(&gaussian(700, [0.0, 0.0], [1.0, 0.3, 0.5], 1));
        let sorted = Sorted::new(&x);
        for (i, &q) in x.iter().enumerate().step_by(7) {
            let mut d: Vec<f64> = x.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, p)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()).collect();
            d.sort_by(f64::total_cmp);
            for k in [1, 3, 5, 20] {
                assert_eq!(sorted.kth_distance(q, k, Some(i)), d[k - 1].max(MIN_DISTANCE), "point {i}, k {k}");
            }
        }
    }

    #[test]
    fn two_samples_of_one_distribution_are_about_zero_apart() {
        let ring = |split| Toy::Ring8.sample(5000, 3, split).0;
        let g = |seed| gaussian(5000, [1.0, -1.0], [2.0, 0.5, 1.0], seed);
        for (name, a, b) in [("ring8", ring(10), ring(11)), ("gaussian", g(1), g(2))] {
            let d = divergences(&a, &b, K).unwrap();
            assert!(d.forward_kl.abs() < 0.06 && d.reverse_kl.abs() < 0.06 && d.jsd.abs() < 0.02, "{name}: {d:?}");
        }
    }

    /// Tolerance: 0.06 nats plus 5% at n = 5000 (docs/divergence.md: errors of -0.01 to -0.04,
    /// standard deviation up to 0.06).
    #[test]
    fn kl_between_gaussians_matches_the_closed_form() {
        let cases = [
            ([0.0, 0.0], [1.0, 0.0, 1.0], [1.0, 0.0], [1.0, 0.0, 1.0]),
            ([0.5, -0.5], [2.0, 0.6, 0.5], [0.0, 0.0], [1.0, 0.0, 1.0]),
            ([0.0, 0.0], [0.3, 0.0, 0.3], [0.0, 0.0], [1.0, 0.0, 1.0]),
        ];
        for (i, (mp, p, mq, q)) in cases.into_iter().enumerate() {
            let (a, b) = (gaussian(5000, mp, p, 10 + i as u64), gaussian(5000, mq, q, 20 + i as u64));
            let (got, want) = (kl(&a, &b, K).unwrap(), gaussian_kl(mp, p, mq, q));
            assert!((got - want).abs() < 0.06 + 0.05 * want, "case {i}: estimated {got:.4}, closed form {want:.4}");
        }
    }

    /// The estimator's known bias: where P's sample reaches into the tails of a narrower Q, it
    /// sees Q's sample spacing, not Q's vanishing density, and underestimates (docs/divergence.md).
    #[test]
    fn kl_into_a_narrower_distribution_is_underestimated_within_a_known_margin() {
        let (mp, p, mq, q) = ([0.0, 0.0], [1.0, 0.0, 1.0], [0.5, -0.5], [2.0, 0.6, 0.5]);
        let (got, want) = (kl(&gaussian(5000, mp, p, 1), &gaussian(5000, mq, q, 2), K).unwrap(), gaussian_kl(mp, p, mq, q));
        assert!(got < want && got > 0.65 * want, "estimated {got:.4}, closed form {want:.4}");
    }

    /// JSD of two Gaussians against the integral of its definition on a fine grid.
    #[test]
    fn jsd_between_gaussians_matches_numerical_integration() {
        let density = |x: [f64; 2], mu: [f64; 2], s: f64| (-((x[0] - mu[0]).powi(2) + (x[1] - mu[1]).powi(2)) / (2.0 * s * s)).exp() / (std::f64::consts::TAU * s * s);
        let (mp, mq, s) = ([0.0, 0.0], [1.5, 0.0], 1.0);
        let h = 0.02;
        let mut integral = 0.0;
        for i in -400..=550 {
            for j in -400..=400 {
                let x = [i as f64 * h, j as f64 * h];
                let (p, q) = (density(x, mp, s), density(x, mq, s));
                let m = 0.5 * (p + q);
                if m > 0.0 {
                    integral += 0.5 * (if p > 0.0 { p * (p / m).ln() } else { 0.0 } + if q > 0.0 { q * (q / m).ln() } else { 0.0 }) * h * h;
                }
            }
        }
        let d = divergences(&gaussian(5000, mp, [1.0, 0.0, 1.0], 5), &gaussian(5000, mq, [1.0, 0.0, 1.0], 6), K).unwrap();
        assert!((d.jsd - integral).abs() < 0.02, "JSD estimated {:.4}, integrated {integral:.4}", d.jsd);
        // The closed-form KL of equal-variance Gaussians, |mu_p - mu_q|^2 / 2, both ways.
        assert!((d.forward_kl - 1.125).abs() < 0.12 && (d.reverse_kl - 1.125).abs() < 0.12, "{d:?}");
    }

    /// Data on all 8 modes of the ring, a model on every other one: the model misses half the
    /// data (forward KL large), but each of its points sits where data are, twice as dense
    /// (reverse KL = ln 2). The JSD of these separated modes is exactly (ln 4/3) * 3/4.
    #[test]
    fn a_model_covering_half_the_modes_has_the_mode_seeking_asymmetry() {
        let (x, modes) = Toy::Ring8.sample(8000, 4, 0);
        let (data, rest): (Vec<_>, Vec<_>) = x.chunks(2).zip(&modes).enumerate().partition(|(i, _)| i % 2 == 0);
        let data: Vec<f32> = data.into_iter().flat_map(|(_, (p, _))| p.to_vec()).collect();
        let model: Vec<f32> = rest.into_iter().filter(|(_, (_, m))| *m % 2 == 0).flat_map(|(_, (p, _))| p.to_vec()).collect();
        let d = divergences(&data, &model, K).unwrap();
        assert!(d.forward_kl > 2.0, "{d:?}");
        assert!((d.reverse_kl - 2f64.ln()).abs() < 0.1, "{d:?}");
        assert!(d.forward_kl > 3.0 * d.reverse_kl, "{d:?}");
        assert!((d.jsd - 0.75 * (4.0f64 / 3.0).ln()).abs() < 0.03, "{d:?}");
    }

    /// A model that blurs ring8's modes five-fold: the two-sample estimate sees a few nats, the
    /// exact data density the true 20.8 (docs/divergence.md measures both).
    #[test]
    fn the_reverse_kl_with_the_exact_data_density_sees_the_tails() {
        let (x, m) = Toy::Ring8.sample(5000, 6, 0);
        let c = Toy::Ring8.centres();
        let blurred: Vec<f32> = x.chunks(2).zip(&m).flat_map(|(p, &m)| [0, 1].map(|i| c[m as usize][i] + 5.0 * (p[i] - c[m as usize][i]))).collect();
        let truth = 24.0 + 2.0 * (0.2f64).ln();
        let exact = reverse_kl_exact_data(Toy::Ring8, &blurred, K).unwrap();
        assert!((exact - truth).abs() < 1.0, "exact-density estimate {exact:.3}, truth {truth:.3}");
        let two_sample = kl(&blurred, &Toy::Ring8.sample(5000, 7, 0).0, K).unwrap();
        assert!(two_sample < 6.0, "the two-sample estimate saturates: {two_sample:.3}");
        let same = reverse_kl_exact_data(Toy::Ring8, &Toy::Ring8.sample(5000, 8, 0).0, K).unwrap();
        assert!(same.abs() < 0.06, "{same}");
    }

    #[test]
    fn the_entropy_of_a_gaussian_is_recovered() {
        // H(N(0, Σ)) = 1 + ln(2π) + ½ ln det Σ in 2-D.
        let x = gaussian(5000, [0.0, 0.0], [2.0, 0.5, 1.0], 8);
        let h = -mean(&log_density(&x, K).unwrap());
        let want = 1.0 + std::f64::consts::TAU.ln() + 0.5 * (2.0f64 - 0.25).ln();
        assert!((h - want).abs() < 0.05, "entropy estimated {h:.4}, closed form {want:.4}");
    }

    #[test]
    fn too_few_or_non_finite_points_are_refused() {
        let e = divergences(&[0.0; 2], &[0.0; 100], K).unwrap_err().to_string();
        assert!(e.contains("data sample") && e.contains("at least 2 points"), "{e}");
        let e = kl(&[0.0; 100], &[0.0; 5], K).unwrap_err().to_string();
        assert!(e.contains("second sample") && e.contains("got 5 values"), "{e}");
        let mut x = gaussian(50, [0.0, 0.0], [1.0, 0.0, 1.0], 1);
        x[7] = f32::NAN;
        let e = divergences(&gaussian(50, [0.0, 0.0], [1.0, 0.0, 1.0], 2), &x, K).unwrap_err().to_string();
        assert!(e.contains("model sample") && e.contains("non-finite"), "{e}");
        // Duplicates are floored, not infinite.
        assert!(divergences(&[0.5; 40], &gaussian(20, [0.0, 0.0], [1.0, 0.0, 1.0], 3), K).unwrap().forward_kl.is_finite());
    }
}
