//! Model selection on a validation set: the validation score is taken every `eval_every` steps,
//! the best state so far is kept (`best.safetensors`), and training stops after `patience`
//! evaluations without improvement. The state lives in every checkpoint's metadata, so a resumed
//! run selects exactly as an uninterrupted one.

use std::collections::BTreeMap;

/// What one validation score means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The best score so far: keep this state.
    Improved,
    /// No better than the best; training goes on.
    NoBetter,
    /// `patience` evaluations in a row without improvement: stop here.
    Stop,
}

/// The best score so far and the evaluations since.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// `(step, score)` of the best evaluation so far.
    pub best: Option<(u64, f64)>,
    /// Evaluations since the best one.
    pub since_best: usize,
    /// Evaluations without improvement that stop training (0: never stop early).
    pub patience: usize,
}

impl Selection {
    pub fn new(patience: usize) -> Selection {
        Selection { best: None, since_best: 0, patience }
    }

    /// Takes the score of the state at `step` (higher is better; a non-finite score is never best).
    pub fn observe(&mut self, step: u64, score: f64) -> Verdict {
        if score.is_finite() && self.best.is_none_or(|(_, b)| score > b) {
            self.best = Some((step, score));
            self.since_best = 0;
            return Verdict::Improved;
        }
        self.since_best += 1;
        if self.patience > 0 && self.since_best >= self.patience { Verdict::Stop } else { Verdict::NoBetter }
    }

    /// The state as checkpoint metadata.
    pub fn to_meta(&self, meta: &mut BTreeMap<String, String>) {
        if let Some((step, score)) = self.best {
            meta.insert("best_step".into(), step.to_string());
            // Through JSON (float_roundtrip), so the score comes back bit for bit.
            meta.insert("best_score".into(), serde_json::to_string(&score).expect("a finite score"));
        }
        meta.insert("evals_since_best".into(), self.since_best.to_string());
    }

    /// The state a checkpoint's metadata records (none recorded: a fresh selection).
    pub fn from_meta(patience: usize, meta: &BTreeMap<String, String>) -> Selection {
        let best_step = meta.get("best_step").and_then(|s| s.parse().ok());
        let best_score = meta.get("best_score").and_then(|s| serde_json::from_str::<f64>(s).ok());
        Selection {
            best: best_step.zip(best_score),
            since_best: meta.get("evals_since_best").and_then(|s| s.parse().ok()).unwrap_or(0),
            patience,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A constructed validation curve: rises to its maximum at step 40, then falls with one
    /// smaller bump. The best is the maximum; patience 3 stops at the third evaluation after it.
    #[test]
    fn the_best_is_the_maximum_and_patience_stops_where_it_should() {
        let curve = [(10, -130.0), (20, -125.5), (30, -124.0), (40, -123.25), (50, -123.5), (60, -123.3), (70, -124.0), (80, -122.0)];
        let mut s = Selection::new(3);
        let verdicts: Vec<Verdict> = curve.iter().map(|&(step, score)| s.observe(step, score)).collect();
        use Verdict::*;
        assert_eq!(verdicts[..7], [Improved, Improved, Improved, Improved, NoBetter, NoBetter, Stop]);
        assert_eq!(s.best, Some((80, -122.0)), "observed after the stop, a better score is still taken");
        // Without patience it never stops, and picks the maximum.
        let mut s = Selection::new(0);
        assert!(curve.iter().all(|&(step, score)| s.observe(step, score) != Stop));
        assert_eq!(s.best, Some((80, -122.0)));
        // A NaN is never best.
        let mut s = Selection::new(0);
        assert_eq!(s.observe(1, f64::NAN), NoBetter);
        assert_eq!(s.observe(2, -5.0), Improved);
    }

    #[test]
    fn the_selection_survives_checkpoint_metadata_bit_for_bit() {
        let mut s = Selection::new(4);
        s.observe(7, -123.456_789_012_345_67);
        s.observe(14, -200.0);
        let mut meta = BTreeMap::new();
        s.to_meta(&mut meta);
        let back = Selection::from_meta(4, &meta);
        assert_eq!(back, s);
        assert_eq!(back.best.unwrap().1.to_bits(), (-123.456_789_012_345_67f64).to_bits());
        assert_eq!(Selection::from_meta(2, &BTreeMap::new()), Selection::new(2));
    }
}
