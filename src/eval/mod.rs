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

/// Mean and standard error of the mean of `v` (0 for a single value).
pub fn mean_se(v: &[f64]) -> (f64, f64) {
    let (mean, var) = mean_var(v);
    (mean, (var / v.len() as f64).sqrt())
}
