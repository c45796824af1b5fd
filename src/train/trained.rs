//! A trained model in inference mode: loading it from a run, sampling it, drawing it, and the
//! scores written at the end of each epoch.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::Device;
use rand_chacha::ChaCha8Rng;

use super::{CHECKPOINT_FILE, EVAL_SEED, RunSpec, checkpoint, gan, vae, x_dim};
use crate::config::{DataKind, Family};
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::eval::{likelihood, modes};
use crate::host::{host, normals, one_hot, tensor};
use crate::models::{Discriminator, Generator, Vae};
use crate::plot;
use crate::rng::{Purpose, stream};

/// A model ready to sample and score (no autodiff).
pub enum Trained {
    Vae(Vae),
    Gan { generator: Generator, discriminator: Discriminator },
}

impl Trained {
    pub fn latent_dim(&self) -> usize {
        match self {
            Trained::Vae(m) => m.latent_dim(),
            Trained::Gan { generator, .. } => generator.latent_dim(),
        }
    }

    /// Classes the model is conditioned on (0: unconditional).
    pub fn classes(&self) -> usize {
        match self {
            Trained::Vae(m) => m.classes(),
            Trained::Gan { generator, .. } => generator.classes(),
        }
    }

    /// `n` samples in data space, flattened `[n, D]`: pixels in [0, 1] for images (a VAE's decoder
    /// mean, a GAN's output mapped back from [-1, 1]), points as drawn for 2-D data.
    /// A conditional model generates the classes in turn (`i % classes`), so the classes are balanced.
    pub fn sample(&self, spec: &RunSpec, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Vec<f32> {
        let labels = balanced_labels(n, self.classes());
        self.sample_classes(spec, n, &labels, rng, device)
    }

    /// [`Trained::sample`] with the class of each sample given (read by conditional models only).
    pub fn sample_classes(&self, spec: &RunSpec, n: usize, labels: &[u8], rng: &mut ChaCha8Rng, device: &Device) -> Vec<f32> {
        let d = self.latent_dim();
        let z = tensor(normals(rng, n * d), [n, d], device);
        let images = spec.data.kind() == DataKind::Images;
        let c = (self.classes() > 0).then(|| one_hot(labels, self.classes(), device));
        match self {
            Trained::Vae(m) if images => host(m.decode_mean(z, c)),
            Trained::Vae(m) => {
                let w = x_dim(spec);
                host(m.decode_sample(z, c, tensor(normals(rng, n * w), [n, w], device)))
            }
            Trained::Gan { generator, .. } => {
                let x = host(generator.forward(z, c));
                if images { x.into_iter().map(|v| (v + 1.0) / 2.0).collect() } else { x }
            }
        }
    }
}

/// `n` classes taking turns (`i % classes`); none for an unconditional model (`classes = 0`).
pub fn balanced_labels(n: usize, classes: usize) -> Vec<u8> {
    if classes == 0 { Vec::new() } else { (0..n).map(|i| (i % classes) as u8).collect() }
}

/// The samples a run's mode coverage is scored on: [`modes::SAMPLES`] draws with the fixed
/// evaluation seed, so `unigen eval` and the demo score exactly the same points.
pub fn coverage_samples(spec: &RunSpec, trained: &Trained, device: &Device) -> Vec<f32> {
    trained.sample(spec, modes::SAMPLES, &mut stream(EVAL_SEED, Purpose::Sample, 0), device)
}

/// The model of a run (its latest checkpoint), its spec and the checkpoint's metadata.
pub fn load_trained(run_dir: &Path, device: &Device) -> Result<(RunSpec, Trained, BTreeMap<String, String>)> {
    let spec = RunSpec::read(run_dir)?;
    let loaded = checkpoint::read(&run_dir.join(CHECKPOINT_FILE))?;
    let trained = match spec.model.family() {
        Family::Vae => {
            let mut m = vae::init(&spec, device);
            loaded.apply("model", &mut m)?;
            Trained::Vae(m)
        }
        Family::Gan => {
            let (mut generator, mut discriminator) = gan::init(&spec, device);
            loaded.apply("generator", &mut generator)?;
            loaded.apply("discriminator", &mut discriminator)?;
            Trained::Gan { generator, discriminator }
        }
    };
    Ok((spec, trained, loaded.meta))
}

/// The scores written with each epoch: the test ELBO of VAEs (on `eval_set`), the test accuracy
/// of SVAE's classifier, and mode coverage on 2-D data (from [`modes::SAMPLES`] samples).
/// Undefined scores are left out.
pub fn epoch_scores(spec: &RunSpec, trained: &Trained, eval_set: &Dataset, epoch: usize, device: &Device) -> Result<BTreeMap<String, f64>> {
    let mut scores = BTreeMap::new();
    if let Trained::Vae(m) = trained
        && !eval_set.is_empty()
    {
        scores.insert("test_elbo".into(), likelihood::estimate(m, eval_set, 1, EVAL_SEED, device, |_| {})?.elbo);
        if m.has_classifier() {
            scores.insert("test_accuracy".into(), likelihood::accuracy(m, eval_set, device));
        }
    }
    if let Some(toy) = spec.data.toy() {
        let x = trained.sample(spec, modes::SAMPLES, &mut stream(spec.seed, Purpose::Sample, epoch as u64), device);
        let c = modes::coverage(toy, &x);
        scores.insert("modes_captured".into(), c.modes_captured as f64);
        scores.insert("high_quality".into(), c.high_quality);
        scores.insert("mode_kl".into(), c.mode_kl);
    }
    scores.retain(|_, v| v.is_finite());
    Ok(scores)
}

/// Samples (and, for VAEs on images, reconstructions) of one epoch, as PNG in `RUN_DIR/pictures`.
pub(super) fn draw_epoch(spec: &RunSpec, trained: &Trained, test: &Dataset, run_dir: &Path, epoch: usize, device: &Device) -> Result<()> {
    let dir = run_dir.join("pictures");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let n = if test.image_side.is_some() { 64 } else { 2000 };
    plot::save_png(&sample_picture(spec, trained, n, epoch as u64, device), &dir.join(format!("samples_{epoch:03}.png")))?;
    if let (Trained::Vae(m), Some(_)) = (trained, test.image_side) {
        plot::save_png(&reconstruction_picture(m, test, device), &dir.join(format!("reconstructions_{epoch:03}.png")))?;
    }
    Ok(())
}

/// `n` draws from the model: a grid for images, a scatter over the test data for points.
/// Conditional models on images draw one row per class (`n` rounded up to whole rows).
pub fn sample_picture(spec: &RunSpec, trained: &Trained, n: usize, counter: u64, device: &Device) -> image::RgbImage {
    let rng = &mut stream(spec.seed, Purpose::Sample, counter);
    let classes = trained.classes();
    if classes > 0 && spec.data.toy().is_none() {
        let per_row = n.div_ceil(classes);
        let labels: Vec<u8> = (0..classes * per_row).map(|i| (i / per_row) as u8).collect();
        let x = trained.sample_classes(spec, labels.len(), &labels, rng, device);
        return plot::image_grid(&x, data::idx::SIDE, per_row);
    }
    let x = trained.sample(spec, n, rng, device);
    match spec.data.toy() {
        None => plot::image_grid(&x, data::idx::SIDE, (n as f64).sqrt().ceil() as usize),
        Some(toy) => {
            let (real, _) = toy.sample(n, data::TOY_TEST_SEED, 1);
            plot::scatter(&[(&real, [170, 170, 170]), (&x, [200, 30, 30])], 5.5, 400)
        }
    }
}

/// Test images (odd rows) above their reconstructions from the posterior mean (even rows).
pub fn reconstruction_picture(model: &Vae, test: &Dataset, device: &Device) -> image::RgbImage {
    let n = test.len().min(32);
    let x = test.head(n);
    let xt = tensor(x.x.clone(), [n, x.dim], device);
    let c = likelihood::condition(model, xt.clone(), &x.labels);
    let (mu, _) = model.encode(xt, c.clone());
    let rec = host(model.decode_mean(mu, c));
    let mut rows = Vec::with_capacity(2 * x.x.len());
    for r in 0..n.div_ceil(8) {
        let span = r * 8 * x.dim..((r + 1) * 8).min(n) * x.dim;
        rows.extend_from_slice(&x.x[span.clone()]);
        rows.extend_from_slice(&rec[span]);
    }
    plot::image_grid(&rows, data::idx::SIDE, 8)
}
