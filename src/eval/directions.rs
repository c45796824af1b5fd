//! Measuring the KL directions of a model trained on 2-D data, with standard errors: the protocol
//! behind `unigen diverge` and the demo's numbers.
//!
//! Each of `redraws` rounds draws a fresh data sample and a fresh model sample of `samples`
//! points and estimates the three divergences ([`super::divergence`]); the reported value is the
//! mean over the rounds, its standard error their standard deviation over `sqrt(redraws)`. The
//! standard error says how much the draws move the number; it says nothing of the estimator's
//! bias (docs/divergence.md).
//!
//! On ring8 and grid25, whose density is known, the reverse KL is also estimated with the exact
//! data density and only the model's entropy from its sample: the two-sample estimate cannot see
//! how far into the data's tails the model's mass lies (docs/divergence.md), this one can.
//!
//! Models with an encoder also get the likelihood side of the forward KL, with no density
//! estimate of the model: `E_data[log p_data(x) - L_k(x)]` over the test points, where `L_k` is
//! the IWAE bound of the model's `log p(x)`. In expectation it is an upper bound on
//! `KL(p_data || p_model)`, tight as k grows. `log p_data` is exact for ring8 and grid25 (the
//! mixture's density) and the k-NN estimate for a point file.

use burn::tensor::Device;
use rand::seq::index::sample;
use serde::Serialize;

use super::divergence::{self, Divergences};
use super::likelihood::{self, LatentModel};
use super::mean_se;
use crate::data::{DataSource, Split};
use crate::error::Result;
use crate::rng::{Purpose, stream};
use super::EVAL_SEED;
use crate::run::{RunSpec, test_set};

/// How a measurement is made (`unigen diverge`'s options).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Protocol {
    /// Points per sample, data and model alike.
    pub samples: usize,
    /// Independent rounds of fresh samples.
    pub redraws: usize,
    /// Neighbours of the k-NN estimators.
    pub k: usize,
    /// Importance samples of the likelihood side's `L_k`.
    pub iwae_k: usize,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol { samples: 10_000, redraws: 5, k: divergence::K, iwae_k: 100 }
    }
}

/// A mean with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanSe {
    pub mean: f64,
    pub se: f64,
}

impl MeanSe {
    fn of(v: &[f64]) -> Self {
        let (mean, se) = mean_se(v);
        MeanSe { mean, se }
    }
}

/// The likelihood side of the forward KL (models with an encoder).
#[derive(Debug, Clone, Serialize)]
pub struct LikelihoodSide {
    /// `mean(log p_data(x) - L_k(x))` over the test points, with its standard error over them.
    pub forward_kl_bound: MeanSe,
    pub iwae_k: usize,
    pub test_points: usize,
    /// `exact` (the mixture's density) or `k-NN estimate`.
    pub data_density: &'static str,
}

/// The three divergences of one model, over the redraws.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub forward_kl: MeanSe,
    pub reverse_kl: MeanSe,
    pub jsd: MeanSe,
    /// ring8 and grid25: `KL(p_model || p_data)` with the data's exact density
    /// ([`divergence::reverse_kl_exact_data`]), which sees how deep in the data's tails the
    /// model's mass lies.
    pub reverse_kl_exact: Option<MeanSe>,
    /// Each round's two-sample estimates.
    pub rounds: Vec<Divergences>,
    pub likelihood: Option<LikelihoodSide>,
}

/// The data's sample of round `redraw`: fresh draws for ring8 and grid25 (a stream apart from
/// the training and test sets'); for a point file, `n` of its test points chosen at random (all
/// of them, every round, when it holds no more than `n`).
pub fn data_sample(source: &DataSource, n: usize, redraw: usize) -> Result<Vec<f32>> {
    if let Some(toy) = source.toy() {
        return Ok(toy.sample(n, redraw as u64, 2).0);
    }
    Ok(subset(&crate::data::load(source, Split::Test, 0, 0)?.x, n, 2 * redraw as u64 + 1))
}

/// `n` of the points (flattened `[m, 2]`) chosen at random with the divergence stream's `counter`,
/// in their order; all of them when there are no more than `n`.
pub fn subset(points: &[f32], n: usize, counter: u64) -> Vec<f32> {
    let m = points.len() / 2;
    if m <= n {
        return points.to_vec();
    }
    let mut chosen = sample(&mut stream(EVAL_SEED, Purpose::Diverge, counter), m, n).into_vec();
    chosen.sort_unstable();
    chosen.iter().flat_map(|&i| [points[2 * i], points[2 * i + 1]]).collect()
}

/// One measurement of `model`'s sample against `data`'s: the two-sample divergences, and on the
/// mixtures (whose density is known) the exact-density reverse KL. A round of [`measure_samples`],
/// and what training logs at the end of each epoch.
pub fn measure_once(source: &DataSource, data: &[f32], model: &[f32], k: usize) -> Result<(Divergences, Option<f64>)> {
    let two_sample = divergence::divergences(data, model, k)?;
    let exact = source.toy().map(|toy| divergence::reverse_kl_exact_data(toy, model, k)).transpose()?;
    Ok((two_sample, exact))
}

/// The divergences between `source`'s data and the samples `model_sample(round)` gives.
pub fn measure_samples(source: &DataSource, protocol: &Protocol, mut model_sample: impl FnMut(usize) -> Result<Vec<f32>>) -> Result<Measured> {
    let mut rounds = Vec::new();
    let mut exact = Vec::new();
    for r in 0..protocol.redraws.max(1) {
        let (two_sample, reverse_exact) = measure_once(source, &data_sample(source, protocol.samples, r)?, &model_sample(r)?, protocol.k)?;
        rounds.push(two_sample);
        exact.extend(reverse_exact);
    }
    let of = |f: fn(&Divergences) -> f64| MeanSe::of(&rounds.iter().map(f).collect::<Vec<_>>());
    Ok(Measured {
        forward_kl: of(|d| d.forward_kl),
        reverse_kl: of(|d| d.reverse_kl),
        jsd: of(|d| d.jsd),
        reverse_kl_exact: (!exact.is_empty()).then(|| MeanSe::of(&exact)),
        rounds,
        likelihood: None,
    })
}

/// The divergences of a trained model of `spec` (2-D data) that draws `n` points with
/// `sample(n, rng)`, and for a model with an encoder (`latent`) the likelihood side. Conditional
/// models are sampled over their classes in turn; their bound is on `log p(x | c)`, not `log p(x)`,
/// so they have no likelihood side.
pub fn measure(
    spec: &RunSpec,
    sample: impl Fn(usize, &mut rand_chacha::ChaCha8Rng) -> Vec<f32>,
    latent: Option<&dyn LatentModel>,
    protocol: &Protocol,
    device: &Device,
) -> Result<Measured> {
    let mut measured =
        measure_samples(&spec.data, protocol, |r| Ok(sample(protocol.samples, &mut stream(EVAL_SEED, Purpose::Diverge, 2 * r as u64))))?;
    if let Some(m) = latent
        && (m.classes() == 0 || m.has_classifier())
    {
        let test = test_set(spec)?;
        let (_, bounds) = likelihood::per_example(m, &test, protocol.iwae_k, EVAL_SEED, device, |_| {})?;
        let (log_p_data, data_density) = match spec.data.toy() {
            Some(toy) => (toy.log_density(&test.x), "exact"),
            None => (divergence::log_density(&test.x, protocol.k)?, "k-NN estimate"),
        };
        let gaps: Vec<f64> = log_p_data.iter().zip(&bounds).map(|(p, l)| p - l).collect();
        measured.likelihood = Some(LikelihoodSide {
            forward_kl_bound: MeanSe::of(&gaps),
            iwae_k: protocol.iwae_k,
            test_points: test.len(),
            data_density,
        });
    }
    Ok(measured)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataKind, TrainConfig};
    use crate::models::ModelKind;
    use crate::train::{check, initial};

    /// Every model that generates on 2-D data is measured (untrained is enough: the rules, not
    /// the values, are under test); the likelihood side is there exactly for the models with an
    /// encoder whose bound is on `log p(x)`.
    #[test]
    fn every_generating_model_on_2d_data_is_measured_and_only_unconditional_encoders_get_the_bound() {
        let device = burn::tensor::Device::flex();
        let protocol = Protocol { samples: 300, redraws: 2, k: divergence::K, iwae_k: 4 };
        let mut measured = 0;
        for &model in ModelKind::all() {
            let mut config = TrainConfig::default_for(DataKind::Points2d, model);
            config.hidden = vec![8];
            let spec = RunSpec { model, seed: 0, data: DataSource::Ring8, config };
            if !model.generates() || check(&spec).is_err() {
                continue;
            }
            let m = crate::train::directions_of(&spec, &initial(&spec, &device), &protocol, &device).unwrap();
            assert_eq!(m.rounds.len(), 2, "{model:?}");
            assert!(m.forward_kl.mean.is_finite() && m.jsd.mean.is_finite() && m.reverse_kl_exact.is_some_and(|e| e.mean.is_finite()), "{model:?}: {m:?}");
            let with_bound = matches!(
                model,
                ModelKind::Vae | ModelKind::Iwae | ModelKind::Aavae | ModelKind::Svae | ModelKind::Aasvae | ModelKind::Aae | ModelKind::WakeSleep
            );
            assert_eq!(m.likelihood.is_some(), with_bound, "{model:?}");
            measured += 1;
        }
        assert!(measured >= 12, "only {measured} models measured");
    }

    #[test]
    fn a_subset_is_seeded_sorted_and_whole_when_small() {
        let points: Vec<f32> = (0..40).map(|i| i as f32).collect();
        let a = subset(&points, 5, 3);
        assert_eq!(a.len(), 10);
        assert_eq!(a, subset(&points, 5, 3), "the same counter, the same points");
        assert_ne!(a, subset(&points, 5, 4));
        assert!(a.chunks(2).all(|p| p[1] == p[0] + 1.0 && (p[0] as usize).is_multiple_of(2)), "whole points: {a:?}");
        assert!(a.chunks(2).zip(a.chunks(2).skip(1)).all(|(p, q)| p[0] < q[0]), "in order");
        assert_eq!(subset(&points, 20, 0), points);
    }
}
