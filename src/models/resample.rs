//! Sampling with the discriminator's density ratio: the IWGAN's weights at sampling time.
//!
//! The IWGAN weighs each generated sample by `w(x) = D(x) / (1 - D(x)) = exp(l(x))`, the
//! discriminator's estimate of `p_data(x) / p_g(x)` (docs/spec.md §2.4), and trains the generator
//! with them. The same weights can correct the samples instead of the training: draw `factor`
//! candidates from the generator for each sample wanted and keep `n` of them, each kept in
//! proportion to `w`. As `factor` grows and `D` nears the optimal discriminator, the kept samples
//! are drawn from `p_g w / E_{p_g}[w] = p_data` (sampling-importance-resampling; Azadi et al.'s
//! discriminator rejection sampling is the same idea with a rejection step). The draw is without
//! replacement, so no candidate is kept twice; a conditional model's candidates compete only
//! within their class (as its training weights do, [`crate::objectives::importance_weights_within_classes`]).

use burn::tensor::Device;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Vae;
use super::trained::{Model, OwnScores, Trained};
use crate::data::Dataset;
use crate::eval::classifier::Reference;
use crate::run::RunSpec;

/// The indices of `n` of the `log_w.len()` candidates, drawn without replacement, each draw in
/// proportion to `exp(log_w)` among those left: the `n` largest `log_w_i + g_i` with `g_i`
/// standard Gumbel noise (the Gumbel-top-k trick). In ascending order.
pub fn pick(log_w: &[f32], n: usize, rng: &mut impl Rng) -> Vec<usize> {
    assert!(n <= log_w.len(), "{n} picks from {} candidates", log_w.len());
    let mut keys: Vec<(f64, usize)> = log_w
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            // `1 - u` lies in (0, 1]: the log never sees 0.
            let u: f64 = 1.0 - rng.random::<f64>();
            (l as f64 - (-u.ln()).ln(), i)
        })
        .collect();
    // Largest keys first; ties (of measure zero) by index, so the order is total.
    keys.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut picked: Vec<usize> = keys[..n].iter().map(|&(_, i)| i).collect();
    picked.sort_unstable();
    picked
}

/// A trained model whose samples are kept from `factor` candidates each by its discriminator's
/// ratio; everything else is the model's own. Evaluation and pictures take it like any model.
pub struct Resampled {
    model: Trained,
    factor: usize,
}

impl Resampled {
    /// `model`, resampled; given back when it has no discriminator that judges one sample at a
    /// time ([`Model::discriminator_logits`], asked of no samples: nothing is drawn).
    pub fn new(model: Trained, factor: usize, spec: &RunSpec, device: &Device) -> Result<Self, Trained> {
        assert!(factor >= 1, "at least one candidate a sample");
        match model.discriminator_logits(spec, &[], &[], device) {
            Some(_) => Ok(Resampled { model, factor }),
            None => Err(model),
        }
    }
}

impl Model for Resampled {
    fn classes(&self) -> usize {
        self.model.classes()
    }

    /// `factor` candidates of each sample's class, `n` of them kept: each class's candidates
    /// compete for its samples' places in `labels` (one group for an unconditional model).
    fn sample_classes(&self, spec: &RunSpec, n: usize, labels: &[u8], rng: &mut ChaCha8Rng, device: &Device) -> Vec<f32> {
        let f = self.factor;
        let pool_labels: Vec<u8> = labels.iter().copied().cycle().take(f * labels.len()).collect();
        let x = self.model.sample_classes(spec, f * n, &pool_labels, rng, device);
        if f == 1 {
            return x;
        }
        let log_w = self.model.discriminator_logits(spec, &x, &pool_labels, device).expect("checked by Resampled::new");
        let width = x.len() / (f * n);
        let mut out = vec![0f32; n * width];
        let groups: Vec<Option<u8>> = if labels.is_empty() { vec![None] } else { (0..self.classes() as u8).map(Some).collect() };
        for c in groups {
            let slots: Vec<usize> = (0..n).filter(|&i| c.is_none_or(|c| labels[i] == c)).collect();
            let candidates: Vec<usize> = (0..f * n).filter(|&j| c.is_none_or(|c| pool_labels[j] == c)).collect();
            let kept = pick(&candidates.iter().map(|&j| log_w[j]).collect::<Vec<_>>(), slots.len(), rng);
            for (&slot, &k) in slots.iter().zip(&kept) {
                let j = candidates[k];
                out[slot * width..(slot + 1) * width].copy_from_slice(&x[j * width..(j + 1) * width]);
            }
        }
        out
    }

    fn discriminator_logits(&self, spec: &RunSpec, x: &[f32], labels: &[u8], device: &Device) -> Option<Vec<f32>> {
        self.model.discriminator_logits(spec, x, labels, device)
    }

    fn sample_grid(&self, spec: &RunSpec, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Option<image::RgbImage> {
        self.model.sample_grid(spec, n, rng, device)
    }

    fn vae(&self) -> Option<&Vae> {
        self.model.vae()
    }

    fn own_scores(&self, spec: &RunSpec, test: &Dataset, reference: Option<&Reference>, device: &Device) -> OwnScores {
        self.model.own_scores(spec, test, reference, device)
    }

    fn own_pictures(&self, spec: &RunSpec, test: &Dataset, device: &Device) -> Vec<(String, image::RgbImage)> {
        self.model.own_pictures(spec, test, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    /// Without replacement, and in proportion to `exp(log_w)`: of two candidates whose weights are
    /// 3 : 1, a single pick takes the first 3/4 of the time; picking both takes both.
    #[test]
    fn picks_follow_the_weights_without_replacement() {
        let log_w = [3f32.ln(), 0.0];
        let trials = 20_000;
        let first = (0..trials).filter(|&t| pick(&log_w, 1, &mut stream(t, Purpose::Sample, 0)) == [0]).count();
        let share = first as f64 / trials as f64;
        assert!((share - 0.75).abs() < 0.015, "share of the heavier candidate {share}");
        assert_eq!(pick(&log_w, 2, &mut stream(0, Purpose::Sample, 0)), [0, 1]);
        // Three picks of five distinct indices, whatever the weights.
        let picked = pick(&[5.0, -5.0, 0.0, 9.0, 1.0], 3, &mut stream(1, Purpose::Sample, 0));
        assert_eq!(picked.len(), 3);
        assert!(picked.windows(2).all(|w| w[0] < w[1]), "{picked:?}");
        // A far heavier candidate is always among the picks.
        assert!((0..200).all(|t| pick(&[30.0, 0.0, 0.0, 0.0], 2, &mut stream(t, Purpose::Sample, 0)).contains(&0)));
    }

    /// A stand-in model: one number a sample, `x = 10 c + e` with `e ~ N(0, 1)` (`c` its class, 0
    /// unconditional), and a discriminator whose logit is `e`: its ratio `exp(e)` tilts `N(0, 1)`
    /// into `N(1, 1)`, the distribution resampling should approach.
    struct Tilted {
        classes: usize,
        discriminator: bool,
    }

    impl Model for Tilted {
        fn classes(&self) -> usize {
            self.classes
        }
        fn sample_classes(&self, _: &RunSpec, n: usize, labels: &[u8], rng: &mut ChaCha8Rng, _: &Device) -> Vec<f32> {
            let e = crate::host::normals(rng, n);
            (0..n).map(|i| 10.0 * labels.get(i).copied().unwrap_or(0) as f32 + e[i]).collect()
        }
        fn discriminator_logits(&self, _: &RunSpec, x: &[f32], _: &[u8], _: &Device) -> Option<Vec<f32>> {
            self.discriminator.then(|| x.iter().map(|v| v - 10.0 * (v / 10.0).round()).collect())
        }
    }

    fn spec() -> RunSpec {
        crate::testing::small_spec(crate::models::ModelKind::Gan, 0, 2, vec![4])
    }

    fn mean(x: &[f32]) -> f64 {
        x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64
    }

    /// The kept samples move towards `p_g exp(l)`: the mean from 0 towards 1 as the candidates
    /// grow (without replacement and from finitely many, it stays below 1); one candidate a
    /// sample is the model's own draw, bit for bit.
    #[test]
    fn resampling_tilts_the_samples_by_the_ratio() {
        let dev = crate::testing::device();
        let spec = spec();
        let n = 4000;
        let draw = |factor| {
            let r = Resampled::new(Box::new(Tilted { classes: 0, discriminator: true }), factor, &spec, &dev).ok().unwrap();
            r.sample_classes(&spec, n, &[], &mut stream(5, Purpose::Sample, 0), &dev)
        };
        let own = Tilted { classes: 0, discriminator: true }.sample_classes(&spec, n, &[], &mut stream(5, Purpose::Sample, 0), &dev);
        assert_eq!(draw(1), own);
        let (m1, m4, m32) = (mean(&draw(1)), mean(&draw(4)), mean(&draw(32)));
        assert!(m1.abs() < 0.06, "{m1}");
        assert!(m4 > 0.4 && m4 < m32 && m32 < 1.0, "means with 4 and 32 candidates: {m4} {m32}");
        assert!(m32 > 0.8, "{m32}");
    }

    /// A conditional model's samples keep the classes asked for, in their places, and each class
    /// is tilted on its own.
    #[test]
    fn resampling_keeps_each_sample_s_class() {
        let dev = crate::testing::device();
        let spec = spec();
        let labels: Vec<u8> = (0..3000).map(|i| ((i * 7) % 3) as u8).collect();
        let r = Resampled::new(Box::new(Tilted { classes: 3, discriminator: true }), 8, &spec, &dev).ok().unwrap();
        let x = r.sample_classes(&spec, labels.len(), &labels, &mut stream(2, Purpose::Sample, 0), &dev);
        assert!(x.iter().zip(&labels).all(|(&v, &c)| (v / 10.0).round() as u8 == c));
        for c in 0..3u8 {
            let e: Vec<f32> = x.iter().zip(&labels).filter(|(_, l)| **l == c).map(|(&v, _)| v - 10.0 * c as f32).collect();
            assert!(mean(&e) > 0.6, "class {c}: {}", mean(&e));
        }
    }

    /// No discriminator, no resampling: the model is given back.
    #[test]
    fn a_model_without_a_discriminator_is_given_back() {
        let dev = crate::testing::device();
        assert!(Resampled::new(Box::new(Tilted { classes: 0, discriminator: false }), 4, &spec(), &dev).is_err());
    }
}
