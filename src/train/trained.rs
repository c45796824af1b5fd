//! A trained model from the training side: loading it from a run, the scores written at the end
//! of each epoch and its pictures, for any model (each model's own are its [`crate::models::Model`]
//! methods).

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::Device;

use super::{CHECKPOINT_FILE, EVAL_SEED, RunSpec, checkpoint};
use crate::config::DataKind;
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::eval::classifier::Reference;
use crate::eval::{directions, divergence, likelihood, modes};
use crate::models::trained::Trained;
use crate::models::vae::reconstruction_picture;
use crate::plot;
use crate::rng::{Purpose, stream};

/// The `n` samples evaluation scores: drawn with the fixed evaluation seed, so `unigen eval`,
/// `reproduce`, the demo and stacked MNIST's epoch-end count score exactly the same draws.
pub fn eval_samples(spec: &RunSpec, trained: &Trained, n: usize, device: &Device) -> Vec<f32> {
    trained.sample(spec, n, &mut stream(EVAL_SEED, Purpose::Sample, 0), device)
}

/// The samples a run's mode coverage is scored on: [`modes::SAMPLES`] of
/// [`eval_samples`].
pub fn coverage_samples(spec: &RunSpec, trained: &Trained, device: &Device) -> Vec<f32> {
    eval_samples(spec, trained, modes::SAMPLES, device)
}

/// The model of a run (its latest checkpoint), its spec and the checkpoint's metadata.
pub fn load_trained(run_dir: &Path, device: &Device) -> Result<(RunSpec, Trained, BTreeMap<String, String>)> {
    load_trained_from(run_dir, CHECKPOINT_FILE, device)
}

/// The model of a run from one of its checkpoint files: `checkpoint.safetensors` (the latest
/// state) or `best.safetensors` (the best-validation state).
pub fn load_trained_from(run_dir: &Path, file: &str, device: &Device) -> Result<(RunSpec, Trained, BTreeMap<String, String>)> {
    let spec = RunSpec::read(run_dir)?;
    let loaded = checkpoint::read(&run_dir.join(file))?;
    let trained = super::trainer(&spec, device, None).load(&loaded)?.trained();
    Ok((spec, trained, loaded.meta))
}

/// The scores written with each epoch: for the VAE family the test ELBO, reconstruction and MMD
/// of the codes to the prior (on `eval_set`), and SVAE's classifier accuracy; each other model's
/// own scores; on 2-D data, mode coverage (ring8, grid25) and the divergences between the test
/// points and [`modes::SAMPLES`] samples (`forward_kl`, `reverse_kl`, `jsd`, and on the mixtures
/// `reverse_kl_exact`, with their exact density); on stacked MNIST, with `reference` the
/// classifier, the modes reached by `epoch_eval_size` samples and their KL to uniform. Undefined
/// scores are left out.
pub fn epoch_scores(
    spec: &RunSpec,
    trained: &Trained,
    eval_set: &Dataset,
    reference: Option<&Reference>,
    epoch: usize,
    device: &Device,
) -> Result<BTreeMap<String, f64>> {
    let mut scores = BTreeMap::new();
    if !eval_set.is_empty() {
        if let Some(m) = trained.vae() {
            scores.insert("test_elbo".into(), likelihood::estimate(m, eval_set, 1, EVAL_SEED, device, |_| {})?.elbo);
            if m.has_classifier() {
                scores.insert("test_accuracy".into(), likelihood::accuracy(m, eval_set, device));
            }
        }
        scores.extend(trained.own_scores(spec, eval_set, None, device).epoch.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
    if spec.data.kind() == DataKind::Points2d && spec.model.generates() {
        let x = trained.sample(spec, modes::SAMPLES, &mut stream(spec.seed, Purpose::Sample, epoch as u64), device);
        if let Some(toy) = spec.data.toy() {
            let c = modes::coverage(toy, &x);
            scores.insert("modes_captured".into(), c.modes_captured as f64);
            scores.insert("modes_any".into(), c.modes_any as f64);
            scores.insert("high_quality".into(), c.high_quality);
            scores.insert("mode_kl".into(), c.mode_kl);
        }
        // The same test points every epoch, so the curves follow the model, not the data's draw.
        if eval_set.len() > divergence::K {
            let (d, exact) = directions::measure_once(&spec.data, &eval_set.x, &x, divergence::K)?;
            scores.insert("forward_kl".into(), d.forward_kl);
            scores.insert("reverse_kl".into(), d.reverse_kl);
            scores.insert("jsd".into(), d.jsd);
            if let Some(exact) = exact {
                scores.insert("reverse_kl_exact".into(), exact);
            }
        }
    }
    if let Some(reference) = reference {
        // The same draws every epoch, as PacGAN's fixed test codes, and `unigen eval`'s: the last
        // epoch's count is the evaluation's, at this sample size.
        let c = modes::stacked_coverage(reference, &eval_samples(spec, trained, spec.config.epoch_eval_size, device), device);
        scores.insert("stacked_modes".into(), c.modes as f64);
        scores.insert("stacked_mode_kl".into(), c.mode_kl);
    }
    scores.retain(|_, v| v.is_finite());
    Ok(scores)
}

/// Samples (and, for VAEs on images, reconstructions) of one epoch, as PNG in `RUN_DIR/pictures`;
/// InfoGAN adds its continuous-code sweeps, CycleGAN draws translations, ADA draws nothing.
pub(super) fn draw_epoch(spec: &RunSpec, trained: &Trained, test: &Dataset, run_dir: &Path, epoch: usize, device: &Device) -> Result<()> {
    let dir = run_dir.join(super::PICTURES_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    for (kind, picture) in trained.own_pictures(spec, test, device) {
        plot::save_png(&picture, &dir.join(format!("{kind}_{epoch:03}.png")))?;
    }
    if !spec.model.generates() {
        return Ok(());
    }
    let n = if test.image_side.is_some() { 64 } else { 2000 };
    plot::save_png(&sample_picture(spec, trained, n, epoch as u64, device)?, &dir.join(format!("samples_{epoch:03}.png")))?;
    if let (Some(m), Some(_)) = (trained.vae(), test.image_side) {
        plot::save_png(&reconstruction_picture(m, test, device), &dir.join(format!("reconstructions_{epoch:03}.png")))?;
    }
    Ok(())
}

/// `n` draws from the model: a grid for images, a scatter over (`n` points of) the test data for
/// points. Conditional models on images draw one row per class (`n` rounded up to whole rows).
pub fn sample_picture(spec: &RunSpec, trained: &Trained, n: usize, counter: u64, device: &Device) -> Result<image::RgbImage> {
    let rng = &mut stream(spec.seed, Purpose::Sample, counter);
    if let Some(picture) = trained.sample_grid(spec, n, rng, device) {
        return Ok(picture);
    }
    let classes = trained.classes();
    if classes > 0 && spec.data.kind() == DataKind::Images {
        let per_row = n.div_ceil(classes);
        let labels: Vec<u8> = (0..classes * per_row).map(|i| (i / per_row) as u8).collect();
        let x = trained.sample_classes(spec, labels.len(), &labels, rng, device);
        return Ok(plot::image_grid(&x, data::idx::SIDE, per_row));
    }
    let x = trained.sample(spec, n, rng, device);
    match spec.data.kind() {
        DataKind::Images if spec.data.channels() == 3 => Ok(plot::color_grid(&x, data::idx::SIDE, (n as f64).sqrt().ceil() as usize)),
        DataKind::Images => Ok(plot::image_grid(&x, data::idx::SIDE, (n as f64).sqrt().ceil() as usize)),
        DataKind::Points2d => {
            let real = super::test_set(spec)?.head(n).x;
            Ok(plot::scatter(&[(&real, [170, 170, 170]), (&x, [200, 30, 30])], plot::extent_around(&real), 400))
        }
    }
}

/// The KL directions of a trained model of `spec` on 2-D data ([`directions::measure`]), with the
/// likelihood side where it has an encoder.
pub fn directions_of(spec: &RunSpec, trained: &Trained, protocol: &directions::Protocol, device: &Device) -> Result<directions::Measured> {
    let latent = trained.vae().map(|m| m as &dyn likelihood::LatentModel);
    directions::measure(spec, |n, rng| trained.sample(spec, n, rng, device), latent, protocol, device)
}
