//! Timing unigen's real training steps: the same `Trainer::step` that `unigen train` runs, on
//! fixed random batches, so the figures compare with PyTorch running the identical models
//! (`bench/torch_steps.py`). Workloads and shapes follow the framework bake-off that chose the
//! stack (DEVELOPERS.md): an MLP VAE at batch 128, an MLP GAN and a DCGAN at batch 64, the VAE
//! as an IWAE with k = 5, and the reference classifier's forward pass as the metrics use it.

use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;

use crate::config::{DataKind, Network, TrainConfig};
use crate::data::DataSource;
use crate::data::idx::SIDE;
use crate::eval::classifier::Classifier;
use crate::host::tensor;
use crate::models::ModelKind;
use crate::rng::{Purpose, stream};
use crate::error::{Error, Result};
use crate::train::{RunSpec, Trainer, trainer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// VAE 784-512-512-50 (ReLU, Bernoulli), batch 128, Adam: one step.
    Vae,
    /// The same network trained on L_5 (IWAE, k = 5), batch 128: one step.
    Iwae5,
    /// GAN, G 100-256-512-784, D 784-512-256-1, batch 64: one D step and one G step.
    MlpGan,
    /// GAN with the DCGAN pair (network = dcgan), z of 100, batch 64: one D step and one G step.
    Dcgan,
    /// The reference classifier's forward pass (features and log-probabilities) on 500 images.
    Classifier,
    /// Evaluation: `L_1000` of the VAE's network (784-512-512-50) on 10 digits, as `unigen eval`
    /// computes it (`eval::likelihood::estimate`): 10,000 decoder rows a step.
    IwaeEval,
    /// Evaluation: `L_1000` of the convolutional VAE (network = dcgan, the Table 3 reproduction's)
    /// on 4 digits: 4,000 decoder rows a step.
    IwaeEvalDcgan,
}

impl Workload {
    pub const ALL: [Workload; 7] = [Workload::Vae, Workload::Iwae5, Workload::MlpGan, Workload::Dcgan, Workload::Classifier, Workload::IwaeEval, Workload::IwaeEvalDcgan];

    /// Importance samples of the evaluation workload.
    pub const EVAL_K: usize = 1000;

    pub fn batch(self) -> usize {
        match self {
            Workload::Vae | Workload::Iwae5 => 128,
            Workload::MlpGan | Workload::Dcgan => 64,
            Workload::Classifier => 500,
            Workload::IwaeEval => 10,
            Workload::IwaeEvalDcgan => 4,
        }
    }

    /// The run a training workload comes from (its data is never read: batches are random);
    /// `None` for the classifier, which is not a training run.
    fn spec(self) -> Option<RunSpec> {
        let model = match self {
            Workload::Vae | Workload::IwaeEval | Workload::IwaeEvalDcgan => ModelKind::Vae,
            Workload::Iwae5 => ModelKind::Iwae,
            Workload::MlpGan | Workload::Dcgan => ModelKind::Gan,
            Workload::Classifier => return None,
        };
        let mut config = TrainConfig::default_for(DataKind::Images, model);
        config.batch_size = self.batch();
        match self {
            Workload::Vae | Workload::Iwae5 | Workload::IwaeEval | Workload::IwaeEvalDcgan => config.hidden = vec![512, 512],
            _ => {
                config.latent_dim = 100;
                config.hidden = vec![256, 512];
            }
        }
        if self == Workload::Iwae5 {
            config.k = 5;
        }
        if matches!(self, Workload::Dcgan | Workload::IwaeEvalDcgan) {
            config.network = Network::Dcgan;
        }
        Some(RunSpec { model, seed: 0, data: DataSource::Mnist { dir: "-".into() }, config })
    }
}

/// Steps per second of each timed block, and their median.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub workload: Workload,
    pub batch: usize,
    pub steps_per_s: Vec<f64>,
    pub median_steps_per_s: f64,
    pub median_examples_per_s: f64,
    /// The loss after the last step, as a check that the step computed something.
    pub last_loss: f64,
}

/// Runs `warmup` steps, then `blocks` timed blocks of `steps` steps each, on 8 fixed batches of
/// Bernoulli(1/2) pixels (scaled to [-1, 1] for GANs). `device` is the plain (non-autodiff) device.
pub fn time(w: Workload, warmup: usize, steps: usize, blocks: usize, device: &Device) -> Result<Timing> {
    let b = w.batch();
    let gan = matches!(w, Workload::MlpGan | Workload::Dcgan);
    let pool: Vec<Vec<f32>> = (0..8u64)
        .map(|i| {
            let mut rng = stream(0, Purpose::Binarize, i);
            (0..b * SIDE * SIDE)
                .map(|_| {
                    let bit = rand::Rng::random_bool(&mut rng, 0.5) as u8 as f32;
                    if gan { 2.0 * bit - 1.0 } else { bit }
                })
                .collect()
        })
        .collect();
    let mut step: Box<dyn FnMut(usize) -> Result<f64>> = match w {
        Workload::Classifier => {
            let model = crate::backend::seeded(0, device, || Classifier::new(device));
            Box::new(move |i| {
                Ok(model.classify(&pool[i % 8], device).log_probs[0] as f64)
            })
        }
        Workload::IwaeEval | Workload::IwaeEvalDcgan => {
            let spec = w.spec().expect("a VAE");
            let vae = crate::backend::seeded(0, device, || crate::models::VaeConfig::new(SIDE * SIDE, &spec.config, 0, false).init(device));
            let sets: Vec<crate::data::Dataset> = pool
                .into_iter()
                .map(|x| crate::data::Dataset { x, dim: SIDE * SIDE, labels: vec![0; b], image_side: Some(SIDE) })
                .collect();
            Box::new(move |i| Ok(crate::eval::likelihood::estimate(&vae, &sets[i % 8], Workload::EVAL_K, 0, device, |_| {})?.iwae))
        }
        _ => {
            let spec = w.spec().expect("a training workload");
            let ad = device.clone().autodiff();
            let mut trainer: Option<Box<dyn Trainer>> = Some(trainer(&spec, &ad, None));
            Box::new(move |i| {
                let x = tensor(pool[i % 8].clone(), [b, SIDE * SIDE], &ad);
                let (t, loss) = trainer
                    .take()
                    .expect("trainer present")
                    .step(x, &[], &mut stream(0, Purpose::Eps, i as u64))
                    .map_err(|e| Error::NonFinite { step: i as u64, epoch: 0, term: e.term.into(), value: e.value })?;
                trainer = Some(t);
                Ok(loss[0].1)
            })
        }
    };
    let mut last_loss = f64::NAN;
    for i in 0..warmup {
        last_loss = step(i)?;
    }
    let mut steps_per_s = Vec::with_capacity(blocks);
    for _ in 0..blocks {
        let started = Instant::now();
        for i in 0..steps {
            last_loss = step(i)?;
        }
        steps_per_s.push(steps as f64 / started.elapsed().as_secs_f64());
    }
    let mut sorted = steps_per_s.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    Ok(Timing { workload: w, batch: b, steps_per_s, median_steps_per_s: median, median_examples_per_s: median * b as f64, last_loss })
}

/// Seconds per call of `f`, the best of `blocks` timed blocks of `calls` calls each, after one
/// untimed call (caches, lazy setup): the op-level timer of the examples behind
/// docs/performance.md. The best block, not the mean, since other work only ever slows a block.
pub fn best_per_call(blocks: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..blocks.max(1))
        .map(|_| {
            let started = Instant::now();
            for _ in 0..calls {
                f();
            }
            started.elapsed().as_secs_f64() / calls.max(1) as f64
        })
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_per_call_warms_up_once_then_times_every_block() {
        let mut calls = 0;
        let t = best_per_call(3, 4, || calls += 1);
        assert_eq!(calls, 1 + 3 * 4);
        assert!(t.is_finite() && t >= 0.0, "{t}");
    }

    #[test]
    fn every_workload_steps_and_reports() {
        let dev = crate::testing::device();
        for w in Workload::ALL {
            let t = time(w, 1, 1, 1, &dev).unwrap();
            assert_eq!(t.steps_per_s.len(), 1);
            assert!(t.median_steps_per_s > 0.0 && t.last_loss.is_finite(), "{w:?}: {t:?}");
        }
    }
}
