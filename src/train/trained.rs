//! A trained model in inference mode: loading it from a run, sampling it, drawing it, and the
//! scores written at the end of each epoch.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::{Device, Tensor};

pub use crate::models::trained::{Trained, balanced_labels, from_gan_pixels, to_gan_pixels};
use crate::models::cyclegan::Translators;
use super::{CHECKPOINT_FILE, EVAL_SEED, RunSpec, checkpoint};
use crate::config::DataKind;
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::data::shift::Shift;
use crate::host::argmax_rows;
use crate::eval::{accuracy, directions, divergence, likelihood, matching, mmd, modes};
use crate::host::{host, normals, tensor};
use crate::models::ada::Ada;
use crate::models::infogan::{self, CATEGORIES, CONTINUOUS, Code};
use crate::models::{Discriminator, Generator, Vae};
use crate::plot;
use crate::rng::{Purpose, stream};

/// The samples a run's mode coverage is scored on: [`modes::SAMPLES`] draws with the fixed
/// evaluation seed, so `unigen eval` and the demo score exactly the same points.
pub fn coverage_samples(spec: &RunSpec, trained: &Trained, device: &Device) -> Vec<f32> {
    trained.sample(spec, modes::SAMPLES, &mut stream(EVAL_SEED, Purpose::Sample, 0), device)
}

/// The model of a run (its latest checkpoint), its spec and the checkpoint's metadata.
pub fn load_trained(run_dir: &Path, device: &Device) -> Result<(RunSpec, Trained, BTreeMap<String, String>)> {
    let spec = RunSpec::read(run_dir)?;
    let loaded = checkpoint::read(&run_dir.join(CHECKPOINT_FILE))?;
    let trained = super::with_trainer!(&spec, device, |t| t.load(&loaded)?.trained());
    Ok((spec, trained, loaded.meta))
}

/// The scores written with each epoch: for the VAE family the test ELBO, reconstruction and MMD
/// of the codes to the prior (on `eval_set`), and SVAE's classifier accuracy; each other model's
/// own scores; on 2-D data, mode coverage (ring8, grid25) and the divergences between the test
/// points and [`modes::SAMPLES`] samples (`forward_kl`, `reverse_kl`, `jsd`, and on the mixtures
/// `reverse_kl_exact`, with their exact density). Undefined scores are left out.
pub fn epoch_scores(spec: &RunSpec, trained: &Trained, eval_set: &Dataset, epoch: usize, device: &Device) -> Result<BTreeMap<String, f64>> {
    let mut scores = BTreeMap::new();
    if let Trained::Vae(m) = trained
        && !eval_set.is_empty()
    {
        scores.insert("test_elbo".into(), likelihood::estimate(m, eval_set, 1, EVAL_SEED, device, |_| {})?.elbo);
        if m.has_classifier() {
            scores.insert("test_accuracy".into(), likelihood::accuracy(m, eval_set, device));
        }
        if let Some((reconstruction, mmd2)) = code_scores(m, eval_set, device) {
            scores.insert("test_reconstruction".into(), reconstruction);
            scores.insert("latent_mmd".into(), mmd2);
        }
    }
    match trained {
        Trained::InfoGan { discriminator, .. } if !eval_set.is_empty() => {
            scores.insert("code_accuracy".into(), code_accuracy(discriminator, &to_gan_pixels(&eval_set.x), &eval_set.labels, device));
        }
        Trained::Ada(m) if !eval_set.is_empty() => {
            let (target, source) = domain_accuracies(m, eval_set, spec.config.domain_shift, device);
            scores.insert("target_accuracy".into(), target);
            scores.insert("source_accuracy".into(), source);
        }
        Trained::CycleGan(t) if !eval_set.is_empty() => {
            scores.insert("cycle_error".into(), cycle_errors(t, eval_set, spec.config.domain_shift, device).0);
        }
        _ => {}
    }
    if spec.data.kind() == DataKind::Points2d && spec.model.generates() {
        let x = trained.sample(spec, modes::SAMPLES, &mut stream(spec.seed, Purpose::Sample, epoch as u64), device);
        if let Some(toy) = spec.data.toy() {
            let c = modes::coverage(toy, &x);
            scores.insert("modes_captured".into(), c.modes_captured as f64);
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
    scores.retain(|_, v| v.is_finite());
    Ok(scores)
}

/// ADA's accuracy on `test` shifted to the target domain, and on `test` itself (the source).
pub fn domain_accuracies(m: &Ada, test: &Dataset, shift: Shift, device: &Device) -> (f64, f64) {
    let on = |d: &Dataset| accuracy(&m.predict(&to_gan_pixels(&d.x), d.dim, device), &d.labels);
    (on(&shift.apply(test)), on(test))
}

/// CycleGAN's mean round-trip error per pixel (pixels in [0, 1]) on `test` (domain A) and on
/// `test` shifted (domain B): `|G_BA(G_AB(a)) - a|`, `|G_AB(G_BA(b)) - b|`.
pub fn cycle_errors(t: &Translators, test: &Dataset, shift: Shift, device: &Device) -> (f64, f64) {
    let error = |d: &Dataset, there: &dyn Fn(Tensor<2>) -> Tensor<2>, back: &dyn Fn(Tensor<2>) -> Tensor<2>| {
        let round_trip = from_gan_pixels(host(back(there(tensor(to_gan_pixels(&d.x), [d.len(), d.dim], device)))));
        d.x.iter().zip(&round_trip).map(|(p, q)| (p - q).abs() as f64).sum::<f64>() / round_trip.len().max(1) as f64
    };
    let (a_to_b, b_to_a) = (|x| t.a_to_b(x), |x| t.b_to_a(x));
    (error(test, &a_to_b, &b_to_a), error(&shift.apply(test), &b_to_a, &a_to_b))
}

/// InfoGAN's categorical code as a digit classifier: Q's most likely category for each image
/// (pixels in [-1, 1]), matched one-to-one to the digits (Hungarian) to agree most.
pub fn code_accuracy(d: &Discriminator, x: &[f32], labels: &[u8], device: &Device) -> f64 {
    let n = labels.len();
    let (_, q_logits, _) = infogan::heads(d, tensor(x.to_vec(), [n, x.len() / n], device));
    matching::matched_accuracy(&argmax_rows(&host(q_logits), CATEGORIES), labels, CATEGORIES)
}

/// An autoencoder's codes on `test`: the reconstruction error `-log p(x | z = mu(x))` in nats per
/// example, and MMD^2 between the aggregated posterior (one `z ~ q(z|x)` per example) and as
/// many prior draws ([`mmd::mmd2`]). Any model of the VAE family: the VAE's KL term and the
/// AAE's discriminator on `z` are two ways to make the second number small. `None` for fewer
/// than two examples, where MMD is undefined.
pub fn code_scores(m: &Vae, test: &Dataset, device: &Device) -> Option<(f64, f64)> {
    let (n, d) = (test.len(), m.latent_dim());
    if n < 2 {
        return None;
    }
    let x = tensor(test.x.clone(), [n, test.dim], device);
    let c = likelihood::condition(m, x.clone(), &test.labels);
    let (mu, log_var) = m.encode(x.clone(), c.clone());
    let reconstruction = -(m.log_px_z(x, mu.clone(), c).mean().into_scalar::<f32>() as f64);
    let rng = &mut stream(EVAL_SEED, Purpose::Eval, 0);
    let z = host(mu + log_var.mul_scalar(0.5).exp() * tensor(normals(rng, n * d), [n, d], device));
    Some((reconstruction, mmd::mmd2(&z, &normals(rng, n * d), d)))
}

/// Samples (and, for VAEs on images, reconstructions) of one epoch, as PNG in `RUN_DIR/pictures`;
/// InfoGAN adds its continuous-code sweeps, CycleGAN draws translations, ADA draws nothing.
pub(super) fn draw_epoch(spec: &RunSpec, trained: &Trained, test: &Dataset, run_dir: &Path, epoch: usize, device: &Device) -> Result<()> {
    let dir = run_dir.join(super::PICTURES_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    match trained {
        Trained::Ada(_) => return Ok(()),
        Trained::CycleGan(t) => return plot::save_png(&translation_picture(spec, t, test, device), &dir.join(format!("translations_{epoch:03}.png"))),
        Trained::InfoGan { generator, .. } => {
            for k in 0..CONTINUOUS {
                plot::save_png(&code_sweep_picture(generator, k, device), &dir.join(format!("code{}_{epoch:03}.png", k + 1)))?;
            }
        }
        _ => {}
    }
    let n = if test.image_side.is_some() { 64 } else { 2000 };
    plot::save_png(&sample_picture(spec, trained, n, epoch as u64, device)?, &dir.join(format!("samples_{epoch:03}.png")))?;
    if let (Trained::Vae(m), Some(_)) = (trained, test.image_side) {
        plot::save_png(&reconstruction_picture(m, test, device), &dir.join(format!("reconstructions_{epoch:03}.png")))?;
    }
    Ok(())
}

/// `n` draws from the model: a grid for images, a scatter over (`n` points of) the test data for
/// points. Conditional models on images draw one row per class (`n` rounded up to whole rows).
pub fn sample_picture(spec: &RunSpec, trained: &Trained, n: usize, counter: u64, device: &Device) -> Result<image::RgbImage> {
    let rng = &mut stream(spec.seed, Purpose::Sample, counter);
    if let Trained::InfoGan { generator, .. } = trained {
        // One row per category, the continuous codes drawn at random.
        let per_row = n.div_ceil(CATEGORIES);
        let code = Code::draw((0..CATEGORIES * per_row).map(|i| (i / per_row) as u8).collect(), rng, device);
        return Ok(plot::image_grid(&from_gan_pixels(host(infogan::generate(generator, &code, rng, device))), data::idx::SIDE, per_row));
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
        DataKind::Images => Ok(plot::image_grid(&x, data::idx::SIDE, (n as f64).sqrt().ceil() as usize)),
        DataKind::Points2d => {
            let real = super::test_set(spec)?.head(n).x;
            Ok(plot::scatter(&[(&real, [170, 170, 170]), (&x, [200, 30, 30])], plot::extent_around(&real), 400))
        }
    }
}

/// One row per category, continuous code `k` swept from -2 to 2 along the row (the other at 0),
/// one noise vector for the whole picture: what the code alone changes.
pub fn code_sweep_picture(g: &Generator, k: usize, device: &Device) -> image::RgbImage {
    const STEPS: usize = 9;
    let mut categories = Vec::new();
    let mut continuous = Vec::new();
    for c in 0..CATEGORIES {
        for j in 0..STEPS {
            categories.push(c as u8);
            let v = -2.0 + 4.0 * j as f32 / (STEPS - 1) as f32;
            continuous.extend((0..CONTINUOUS).map(|i| if i == k { v } else { 0.0 }));
        }
    }
    let n = categories.len();
    let code = Code::new(categories, continuous, device);
    let z_dim = g.latent_dim() - infogan::CODE;
    let z = normals(&mut stream(EVAL_SEED, Purpose::Sample, 1), z_dim);
    let z = tensor(z.repeat(n), [n, z_dim], device);
    let x = g.forward(burn::tensor::Tensor::cat(vec![z, code.input()], 1), None);
    plot::image_grid(&from_gan_pixels(host(x)), data::idx::SIDE, STEPS)
}

/// Rows of 8 test digits: A, G_AB(A), G_BA(G_AB(A)), then B, G_BA(B), G_AB(G_BA(B)).
pub fn translation_picture(spec: &RunSpec, t: &Translators, test: &Dataset, device: &Device) -> image::RgbImage {
    let a = test.head(8);
    let b = spec.config.domain_shift.apply(&a);
    let as_tensor = |d: &Dataset| tensor(to_gan_pixels(&d.x), [d.len(), d.dim], device);
    let (a, b) = (as_tensor(&a), as_tensor(&b));
    let (ab, ba) = (t.a_to_b(a.clone()), t.b_to_a(b.clone()));
    let rows = vec![a, ab.clone(), t.b_to_a(ab), b, ba.clone(), t.a_to_b(ba)];
    plot::image_grid(&from_gan_pixels(host(burn::tensor::Tensor::cat(rows, 0))), data::idx::SIDE, 8)
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
