//! Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017):
//! `||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})`.
//!
//! `Tr((S_1 S_2)^{1/2})` is computed as `Tr((S_1^{1/2} S_2 S_1^{1/2})^{1/2})`: the two matrices are
//! similar, and the second is symmetric positive semi-definite, so only symmetric
//! eigendecompositions are needed (no general matrix square root, no complex parts to drop).
//! Features are accumulated in f64.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Mean and covariance of a feature set.
#[derive(Debug, Clone)]
pub struct Gaussian {
    pub mean: DVector<f64>,
    pub cov: DMatrix<f64>,
}

/// Fits mean and unbiased covariance to `n` feature vectors of width `dim` (row-major).
pub fn fit(features: &[f32], dim: usize) -> Gaussian {
    let n = features.len() / dim;
    assert!(n >= 2 && features.len() == n * dim, "need at least 2 feature vectors of width {dim}, got {} values", features.len());
    let x = DMatrix::from_row_iterator(n, dim, features.iter().map(|&v| v as f64));
    let mean = x.row_mean().transpose();
    let centred = DMatrix::from_fn(n, dim, |i, j| x[(i, j)] - mean[j]);
    let cov = centred.transpose() * &centred / (n as f64 - 1.0);
    Gaussian { mean, cov }
}

/// The symmetric square root of a symmetric positive semi-definite matrix; eigenvalues that
/// rounding pushed below zero are taken as zero.
fn sqrt_psd(m: &DMatrix<f64>) -> DMatrix<f64> {
    let eig = SymmetricEigen::new((m + m.transpose()) / 2.0);
    let roots = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eig.eigenvectors * DMatrix::from_diagonal(&roots) * eig.eigenvectors.transpose()
}

/// `Tr((S_1 S_2)^{1/2})` for covariance matrices.
pub fn trace_sqrt_product(s1: &DMatrix<f64>, s2: &DMatrix<f64>) -> f64 {
    let r1 = sqrt_psd(s1);
    let inner = &r1 * s2 * &r1;
    SymmetricEigen::new((&inner + inner.transpose()) / 2.0).eigenvalues.iter().map(|l| l.max(0.0).sqrt()).sum()
}

pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> f64 {
    let d = &a.mean - &b.mean;
    let value = d.dot(&d) + a.cov.trace() + b.cov.trace() - 2.0 * trace_sqrt_product(&a.cov, &b.cov);
    // Exactly equal sets can come out a hair below zero.
    value.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_feature_sets_are_at_distance_zero() {
        let mut rng = crate::rng::stream(3, crate::rng::Purpose::Eval, 0);
        let f = crate::host::normals(&mut rng, 500 * 8);
        let g = fit(&f, 8);
        assert!(frechet_distance(&g, &g) < 1e-9, "{}", frechet_distance(&g, &g));
    }

    #[test]
    fn distance_between_gaussians_by_hand() {
        // Means 0 and (3, 4), covariances I and 4I in 2-D: 25 + (2 + 8 - 2 * 2 * 2) = 27.
        let a = Gaussian { mean: DVector::zeros(2), cov: DMatrix::identity(2, 2) };
        let b = Gaussian { mean: DVector::from_vec(vec![3.0, 4.0]), cov: DMatrix::identity(2, 2) * 4.0 };
        assert!((frechet_distance(&a, &b) - 27.0).abs() < 1e-12);
    }

    #[test]
    fn fit_recovers_mean_and_covariance() {
        let g = fit(&[1.0, 2.0, 3.0, 6.0], 2);
        assert_eq!(g.mean.as_slice(), &[2.0, 4.0]);
        // Unbiased: var of (1, 3) = 2, of (2, 6) = 8, cov = 4.
        assert_eq!(g.cov.as_slice(), &[2.0, 4.0, 4.0, 8.0]);
    }

    /// Reference values from scipy (see tests/data/frechet/make_reference.py, which wrote the file).
    #[test]
    fn matches_scipy_on_committed_matrices() {
        let text = include_str!("../../tests/data/frechet/reference.json");
        let r: serde_json::Value = serde_json::from_str(text).unwrap();
        let matrix = |key: &str| {
            let rows: Vec<Vec<f64>> = serde_json::from_value(r[key].clone()).unwrap();
            DMatrix::from_row_iterator(rows.len(), rows.len(), rows.into_iter().flatten())
        };
        let vector = |key: &str| DVector::from_vec(serde_json::from_value::<Vec<f64>>(r[key].clone()).unwrap());
        let (s1, s2) = (matrix("sigma1"), matrix("sigma2"));
        let trace = trace_sqrt_product(&s1, &s2);
        let want = r["trace_sqrtm"].as_f64().unwrap();
        assert!((trace - want).abs() < 1e-9 * want.abs(), "Tr sqrtm(S1 S2): {trace} vs scipy {want}");
        let fd = frechet_distance(&Gaussian { mean: vector("mu1"), cov: s1 }, &Gaussian { mean: vector("mu2"), cov: s2 });
        let want = r["frechet_distance"].as_f64().unwrap();
        assert!((fd - want).abs() < 1e-9 * want.abs(), "Fréchet distance: {fd} vs scipy {want}");
    }
}
