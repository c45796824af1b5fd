//! Evaluation (docs/spec.md §4): test bounds, mode coverage, and the image metrics read off the reference
//! classifier (inception score, Fréchet distance, precision/recall, conditional accuracy), and the
//! divergences between data and model on 2-D data.

pub mod classifier;
pub mod directions;
pub mod divergence;
pub mod frechet;
pub mod images;
pub mod inception;
pub mod precision_recall;
pub mod likelihood;
pub mod matching;
pub mod mmd;
pub mod modes;

/// Seed of the noise used to score the test set, fixed so scores of different runs compare.
pub const EVAL_SEED: u64 = 0;


/// The fraction of `labels` that `predicted` matches.
pub fn accuracy(predicted: &[u8], labels: &[u8]) -> f64 {
    predicted.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / labels.len().max(1) as f64
}

/// Mean and sample variance (n - 1 in the denominator; 0 for a single value).
fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var)
}

/// Mean and sample standard deviation (0 for a single value).
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let (mean, var) = mean_var(v);
    (mean, var.sqrt())
}

/// The mean of `v` with its two-sided 95% interval from Student's t with `n - 1` degrees of
/// freedom, `(mean, low, high)`: how paired differences over seeds are reported. `None` for
/// fewer than two values.
pub fn t_interval95(v: &[f64]) -> Option<(f64, f64, f64)> {
    /// `t_{0.975}` for 1 to 30 degrees of freedom.
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
        2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    let df = v.len().checked_sub(1).filter(|&d| d > 0)?;
    // Past 30 degrees of freedom, 1.96 + 2.4 / df is within 0.003 of the quantile.
    let t = T.get(df - 1).copied().unwrap_or(1.96 + 2.4 / df as f64);
    let (mean, se) = mean_se(v);
    Some((mean, mean - t * se, mean + t * se))
}

/// Mean and standard error of the mean of `v` (0 for a single value).
pub fn mean_se(v: &[f64]) -> (f64, f64) {
    let (mean, var) = mean_var(v);
    (mean, (var / v.len() as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand: 1..5 has mean 3, standard deviation sqrt(2.5), standard error
    /// sqrt(0.5) = 0.70711, and t(4) = 2.776, so 3 ± 1.96293.
    #[test]
    fn the_t_interval_of_a_hand_worked_case() {
        let (m, lo, hi) = t_interval95(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(m, 3.0);
        assert!((lo - (3.0 - 1.962_93)).abs() < 1e-5 && (hi - (3.0 + 1.962_93)).abs() < 1e-5, "{lo} {hi}");
        assert!(t_interval95(&[4.0]).is_none());
        // Large samples approach the normal's 1.96.
        let (_, lo, hi) = t_interval95(&(0..200).map(|i| (i % 2) as f64).collect::<Vec<_>>()).unwrap();
        let se = (0.25f64 * 200.0 / 199.0 / 200.0).sqrt();
        assert!(((hi - lo) / 2.0 / se - 1.972).abs() < 0.001, "{}", (hi - lo) / 2.0 / se);
    }
}
