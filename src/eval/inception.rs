//! Inception score (Salimans et al. 2016) with the reference classifier:
//! `IS = exp(E_x KL(p(y | x) || p(y)))`, computed on each of `splits` equal parts of the samples;
//! reported as the mean ± (population) standard deviation over the parts, as in the original code.

/// Parts the samples are split into, as in the literature.
pub const SPLITS: usize = 10;

/// `log_probs`: `[n, classes]` log-probabilities, row-major. Returns `(mean, std)` over `splits`.
pub fn inception_score(log_probs: &[f32], classes: usize, splits: usize) -> (f64, f64) {
    let n = log_probs.len() / classes;
    assert!(splits >= 1 && n >= splits, "inception score needs at least one sample per split");
    let part = n / splits;
    let scores: Vec<f64> = (0..splits)
        .map(|s| {
            let rows: Vec<Vec<f64>> = log_probs[s * part * classes..(s + 1) * part * classes]
                .chunks_exact(classes)
                .map(|r| r.iter().map(|&l| l as f64).collect())
                .collect();
            let mut marginal = vec![0f64; classes];
            for r in &rows {
                for (m, &l) in marginal.iter_mut().zip(r) {
                    *m += l.exp() / part as f64;
                }
            }
            // KL(p(y|x) || p(y)); classes with p(y|x) = 0 contribute nothing.
            let kl: f64 = rows
                .iter()
                .map(|r| r.iter().zip(&marginal).filter(|(l, _)| l.is_finite()).map(|(&l, &m)| l.exp() * (l - m.ln())).sum::<f64>())
                .sum::<f64>()
                / part as f64;
            kl.exp()
        })
        .collect();
    let mean = scores.iter().sum::<f64>() / splits as f64;
    let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / splits as f64;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log-probabilities of a classifier that is certain of `labels`.
    fn certain(labels: impl Iterator<Item = usize>) -> Vec<f32> {
        labels.flat_map(|c| (0..10).map(move |j| if j == c { 0.0 } else { f32::NEG_INFINITY })).collect()
    }

    #[test]
    fn a_certain_classifier_on_balanced_classes_scores_ten() {
        let (mean, std) = inception_score(&certain((0..1000).map(|i| i % 10)), 10, SPLITS);
        assert!((mean - 10.0).abs() < 1e-9 && std < 1e-9, "{mean} ± {std}");
    }

    #[test]
    fn one_class_or_no_certainty_scores_one() {
        let (mean, _) = inception_score(&certain(std::iter::repeat_n(3, 1000)), 10, SPLITS);
        assert!((mean - 1.0).abs() < 1e-9, "{mean}");
        let uniform = vec![(0.1f32).ln(); 1000 * 10];
        assert!((inception_score(&uniform, 10, SPLITS).0 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn half_the_classes_score_five() {
        let (mean, _) = inception_score(&certain((0..1000).map(|i| i % 5)), 10, SPLITS);
        assert!((mean - 5.0).abs() < 1e-9, "{mean}");
    }
}
