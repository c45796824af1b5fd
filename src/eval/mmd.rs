//! Maximum mean discrepancy (Gretton et al. 2012) between two samples, with a Gaussian kernel:
//! how far an adversarial autoencoder's aggregated posterior `q(z)` is from its prior `p(z)`.

/// The unbiased estimate of MMD^2 between samples `a` and `b` of `dim`-dimensional points
/// (row-major), kernel `exp(-|x - y|^2 / (2 dim))`: the bandwidth scales with the dimension, as
/// squared distances between standard normal draws grow like `2 dim`. About 0 (either sign) for
/// samples of one distribution; larger the further apart they are.
pub fn mmd2(a: &[f32], b: &[f32], dim: usize) -> f64 {
    let (n, m) = (a.len() / dim, b.len() / dim);
    assert!(n >= 2 && m >= 2, "MMD needs at least two points on each side");
    let k = |x: &[f32], y: &[f32]| {
        let d2: f64 = x.iter().zip(y).map(|(p, q)| ((p - q) as f64).powi(2)).sum();
        (-d2 / (2.0 * dim as f64)).exp()
    };
    let within = |s: &[f32], len: usize| {
        let mut sum = 0.0;
        for i in 0..len {
            for j in i + 1..len {
                sum += k(&s[i * dim..(i + 1) * dim], &s[j * dim..(j + 1) * dim]);
            }
        }
        2.0 * sum / (len * (len - 1)) as f64
    };
    let mut cross = 0.0;
    for i in 0..n {
        for j in 0..m {
            cross += k(&a[i * dim..(i + 1) * dim], &b[j * dim..(j + 1) * dim]);
        }
    }
    within(a, n) + within(b, m) - 2.0 * cross / (n * m) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::normals;
    use crate::rng::{Purpose, stream};

    #[test]
    fn near_zero_for_one_distribution_and_large_for_a_shifted_one() {
        let dim = 8;
        let a = normals(&mut stream(1, Purpose::Eval, 0), 500 * dim);
        let b = normals(&mut stream(2, Purpose::Eval, 0), 500 * dim);
        let same = mmd2(&a, &b, dim);
        let shifted: Vec<f32> = b.iter().map(|v| v + 1.0).collect();
        let far = mmd2(&a, &shifted, dim);
        let narrow: Vec<f32> = b.iter().map(|v| v * 0.3).collect();
        assert!(same.abs() < 0.01, "same distribution: {same}");
        assert!(far > 0.2, "shifted by 1 in every dimension: {far}");
        assert!(mmd2(&a, &narrow, dim) > 0.05, "a posterior squeezed to 0.3 of the prior's spread");
    }
}
