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
            let split = &log_probs[s * part * classes..(s + 1) * part * classes];
            let marginal = marginal(split, classes);
            let rows: Vec<Vec<f64>> = split.chunks_exact(classes).map(|r| r.iter().map(|&l| l as f64).collect()).collect();
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

/// `p(y) = E_x p(y|x)` over the rows of `log_probs` (`[n, classes]`, row-major).
fn marginal(log_probs: &[f32], classes: usize) -> Vec<f64> {
    let n = (log_probs.len() / classes) as f64;
    let mut marginal = vec![0f64; classes];
    for row in log_probs.chunks_exact(classes) {
        for (m, &l) in marginal.iter_mut().zip(row) {
            *m += (l as f64).exp() / n;
        }
    }
    marginal
}

/// What the score is made of, over all the samples at once. `E_x KL(p(y|x) || p(y))` is exactly
/// `H(y) - E_x H(y|x)`: the entropy of the classes the samples spread over (`ln 10 ≈ 2.303` nats
/// when all ten are equally common; lower when some are rare or missing) minus the classifier's
/// mean uncertainty about a sample (0 for unambiguous digits). So a score below 10 says which of
/// the two it lacks: modes (mode collapse) or clear samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decomposition {
    /// `H(y)` of the marginal `p(y) = E_x p(y|x)`, nats.
    pub class_entropy: f64,
    /// `E_x H(y|x)`, nats.
    pub conditional_entropy: f64,
    /// The fraction of samples the classifier labels as each class (its most probable one).
    pub class_shares: Vec<f64>,
}

impl Decomposition {
    /// `log_probs`: `[n, classes]` log-probabilities, row-major.
    pub fn of(log_probs: &[f32], classes: usize) -> Self {
        let n = log_probs.len() / classes;
        assert!(n > 0 && log_probs.len() == n * classes, "the decomposition needs whole rows of log-probabilities");
        let mut conditional = 0f64;
        for &l in log_probs {
            let (l, p) = (l as f64, (l as f64).exp());
            // 0 · ln 0 = 0.
            if p > 0.0 {
                conditional -= p * l / n as f64;
            }
        }
        let mut counts = vec![0usize; classes];
        for label in crate::host::argmax_rows(log_probs, classes) {
            counts[label as usize] += 1;
        }
        let shares = counts.iter().map(|&c| c as f64 / n as f64).collect();
        let class_entropy = -marginal(log_probs, classes).iter().filter(|&&m| m > 0.0).map(|m| m * m.ln()).sum::<f64>();
        Self { class_entropy, conditional_entropy: conditional, class_shares: shares }
    }

    /// `exp(H(y) - E_x H(y|x))`: the inception score of all the samples as one split.
    pub fn score(&self) -> f64 {
        (self.class_entropy - self.conditional_entropy).exp()
    }
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

    /// The two entropies on constructed sets, and their difference is the one-split score.
    #[test]
    fn the_decomposition_separates_missing_classes_from_unclear_samples() {
        let half = Decomposition::of(&certain((0..1000).map(|i| i % 5)), 10);
        assert!((half.class_entropy - 5f64.ln()).abs() < 1e-9 && half.conditional_entropy.abs() < 1e-12, "{half:?}");
        assert_eq!(half.class_shares, [[0.2; 5], [0.0; 5]].concat());
        // Every sample torn between two classes, all ten classes equally common.
        let torn: Vec<f32> = (0..1000).flat_map(|i| (0..10).map(move |j| if j == i % 10 || j == (i + 1) % 10 { 0.5f32.ln() } else { f32::NEG_INFINITY })).collect();
        let d = Decomposition::of(&torn, 10);
        // (ln 0.5 in f32: within 1e-7.)
        assert!((d.class_entropy - 10f64.ln()).abs() < 1e-7 && (d.conditional_entropy - 2f64.ln()).abs() < 1e-7, "{d:?}");
        assert!((d.score() - 5.0).abs() < 1e-6, "{}", d.score());
        // Rows that are neither certain nor uniform: the identity with the one-split score.
        let mixed: Vec<f32> = (0..300)
            .flat_map(|i| {
                let logits: Vec<f64> = (0..10).map(|j| ((i * 7 + j * 3) % 11) as f64 * 0.4 - (j == i % 4) as u8 as f64).collect();
                let lse = logits.iter().map(|l| l.exp()).sum::<f64>().ln();
                logits.into_iter().map(move |l| (l - lse) as f32)
            })
            .collect();
        let d = Decomposition::of(&mixed, 10);
        assert!((d.score() - inception_score(&mixed, 10, 1).0).abs() < 1e-6, "{} against {}", d.score(), inception_score(&mixed, 10, 1).0);
        assert!((d.class_shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn half_the_classes_score_five() {
        let (mean, _) = inception_score(&certain((0..1000).map(|i| i % 5)), 10, SPLITS);
        assert!((mean - 5.0).abs() < 1e-9, "{mean}");
    }
}
