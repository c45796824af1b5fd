//! The training loop, readable top to bottom: set up, then one loop over steps in phases
//! (batch, forward, check, backward, step, checkpoint), with evaluation and pictures at the end
//! of each epoch.
//!
//! Reproducibility: the initial weights come from the seeded device; every other random draw
//! (epoch order, binarisation, `eps`) is a function of `(seed, purpose, step)` (see [`crate::rng`]),
//! so a run resumed from a checkpoint continues bit-for-bit like the uninterrupted one.

pub mod checkpoint;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::config::{Likelihood, TrainConfig};
use crate::data::{self, DataSource, Dataset, Split};
use crate::error::{Error, Result};
use crate::eval::likelihood;
use crate::host::{host, normals, tensor};
use crate::models::{ModelKind, Vae, VaeConfig};
use crate::plot;
use crate::rng::{Purpose, stream};

/// Everything that defines a run; stored as `run.toml` in the run directory and in every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub model: ModelKind,
    pub seed: u64,
    pub data: DataSource,
    pub config: TrainConfig,
}

impl RunSpec {
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("spec serialises")
    }

    pub fn read(run_dir: &Path) -> Result<RunSpec> {
        let path = run_dir.join(RUN_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        toml::from_str(&text).map_err(|e| Error::Config { path: path.display().to_string(), problem: e.message().into() })
    }
}

pub const RUN_FILE: &str = "run.toml";
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
pub const METRICS_FILE: &str = "metrics.jsonl";
/// Seed of the noise used to score the test set, fixed so scores of different runs compare.
pub const EVAL_SEED: u64 = 0;

#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Continue the run in the directory from its checkpoint.
    pub resume: bool,
    /// Stop after this global step without finishing (tests use it to imitate a kill).
    pub stop_after_steps: Option<u64>,
    /// Show a progress bar and print a line per epoch.
    pub progress: bool,
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub step: u64,
    /// Mean training loss (negative bound, nats per example) over the epoch.
    pub train_loss: f64,
    /// Test ELBO on the first `epoch_eval_size` test examples (nats), if any were scored.
    pub test_elbo: Option<f64>,
    pub examples_per_s: f64,
    pub wall_s: f64,
}

#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub run_dir: PathBuf,
    pub steps: u64,
    pub last_epoch: Option<EpochMetrics>,
}

/// The training data as the model sees it: subset taken, ready for batching.
pub fn training_set(spec: &RunSpec) -> Result<Dataset> {
    let c = &spec.config;
    let full = data::load(&spec.data, Split::Train, c.toy_train_size, c.subset_seed)?;
    Ok(full.select(&data::balanced_subset(&full.labels, c.train_fraction, c.subset_seed)))
}

/// The test set as scored: binarised once, with a fixed seed, for Bernoulli models.
pub fn test_set(spec: &RunSpec) -> Result<Dataset> {
    let test = data::load(&spec.data, Split::Test, spec.config.toy_train_size, spec.config.subset_seed)?;
    Ok(match spec.config.likelihood {
        Likelihood::Bernoulli => data::binarize_test(&test),
        Likelihood::Gaussian => test,
    })
}

/// A fresh model for `spec` on `device`, with the seeded initial weights and stable parameter ids.
pub fn init_model(spec: &RunSpec, x_dim: usize, device: &Device) -> Vae {
    device.seed(spec.seed);
    checkpoint::number_params(VaeConfig::new(x_dim, &spec.config).init(device))
}

fn optimizer(c: &TrainConfig) -> ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(c.beta1 as f32)
        .with_beta_2(c.beta2 as f32)
        .with_epsilon(c.adam_eps as f32)
        .init()
}

/// Loads the model of a finished or running run for evaluation and sampling (no autodiff).
pub fn load_model(run_dir: &Path, device: &Device) -> Result<(RunSpec, Vae, BTreeMap<String, String>)> {
    let spec = RunSpec::read(run_dir)?;
    let path = run_dir.join(CHECKPOINT_FILE);
    let loaded = checkpoint::read(&path)?;
    let x_dim = match spec.data.kind() {
        crate::config::DataKind::Images => data::idx::SIDE * data::idx::SIDE,
        crate::config::DataKind::Points2d => 2,
    };
    let mut model = init_model(&spec, x_dim, device);
    loaded.apply_model(&path, &mut model)?;
    Ok((spec, model, loaded.meta))
}

/// Trains `spec` in `run_dir`, from scratch or (with `resume`) from its checkpoint.
pub fn train(spec: &RunSpec, run_dir: &Path, device: &Device, opts: &TrainOptions) -> Result<TrainOutcome> {
    // ---- set-up: data, directories, model, optimiser ----
    let c = &spec.config;
    let train_set = training_set(spec)?;
    let eval_set = test_set(spec)?.head(c.epoch_eval_size);
    if train_set.len() < c.batch_size {
        return Err(Error::Config {
            path: "batch_size".into(),
            problem: format!("{} exceeds the {} training examples", c.batch_size, train_set.len()),
        });
    }
    let steps_per_epoch = (train_set.len() / c.batch_size) as u64;
    let total_steps = steps_per_epoch * c.epochs as u64;
    let ckpt_path = run_dir.join(CHECKPOINT_FILE);
    std::fs::create_dir_all(run_dir).map_err(|e| Error::io(run_dir, e))?;
    if !opts.resume && ckpt_path.exists() {
        return Err(Error::Invalid(format!(
            "{} already holds a run; pass --resume to continue it, or choose another --out",
            run_dir.display()
        )));
    }

    let mut model = init_model(spec, train_set.dim, device);
    let mut optim = optimizer(c);
    let mut step = 0u64;
    let mut epoch_sum = 0f64; // running sum of the epoch's losses, restored on resume
    let mut wall_before = 0f64;
    if opts.resume {
        let loaded = checkpoint::read(&ckpt_path)?;
        let saved: RunSpec = toml::from_str(loaded.meta.get("spec").map(String::as_str).unwrap_or(""))
            .map_err(|e| Error::Checkpoint { path: ckpt_path.clone(), problem: format!("run spec: {}", e.message()) })?;
        let mut comparable = spec.clone();
        comparable.config.epochs = saved.config.epochs;
        if comparable != saved {
            return Err(Error::Invalid(format!(
                "{}: --resume must use the run's own settings (only `epochs` may change); \
                 the checkpoint was made with:\n{}",
                ckpt_path.display(),
                saved.to_toml()
            )));
        }
        loaded.apply_model(&ckpt_path, &mut model)?;
        optim = loaded.optimizer(&ckpt_path, optim)?;
        let num = |k: &str| loaded.meta.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        step = num("step") as u64;
        epoch_sum = num("epoch_loss_sum");
        wall_before = num("wall_s");
        truncate_metrics(&run_dir.join(METRICS_FILE), (step / steps_per_epoch) as usize)?;
    } else {
        let _ = std::fs::remove_file(run_dir.join(METRICS_FILE));
    }
    checkpoint::write_atomic(&run_dir.join(RUN_FILE), spec.to_toml().as_bytes())?;

    let bar = progress_bar(opts.progress, total_steps, step);
    let started = Instant::now();
    let mut epoch_started = Instant::now();
    let mut epoch_steps_timed = 0u64;
    let mut last_epoch = None;
    let d = c.latent_dim;
    let bound = spec.model.bound();
    let mut order: Option<(u64, Vec<usize>)> = None;

    while step < total_steps {
        let epoch = step / steps_per_epoch;
        let in_epoch = (step % steps_per_epoch) as usize;

        // ---- batch: this epoch's order, binarised afresh each step ----
        if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut perm: Vec<usize> = (0..train_set.len()).collect();
            perm.shuffle(&mut stream(spec.seed, Purpose::Shuffle, epoch));
            order = Some((epoch, perm));
        }
        let perm = &order.as_ref().unwrap().1;
        let mut x = train_set.gather(&perm[in_epoch * c.batch_size..(in_epoch + 1) * c.batch_size]);
        if c.likelihood == Likelihood::Bernoulli {
            x = data::binarize(&x, &mut stream(spec.seed, Purpose::Binarize, step));
        }
        let x = tensor(x, [c.batch_size, train_set.dim], device);
        let eps = tensor(normals(&mut stream(spec.seed, Purpose::Eps, step), c.batch_size * c.k * d), [c.batch_size, c.k, d], device);

        // ---- forward, and stop on a non-finite loss before it touches the weights ----
        let loss = model.loss(x, eps, bound);
        let value = loss.loss.clone().into_scalar::<f32>() as f64;
        if !value.is_finite() {
            let rec = loss.reconstruction.into_scalar::<f32>() as f64;
            let kl = loss.kl.into_scalar::<f32>() as f64;
            let (term, value) = if !rec.is_finite() {
                ("reconstruction -log p(x|z)", rec)
            } else if !kl.is_finite() {
                ("KL(q(z|x) || p(z))", kl)
            } else {
                ("loss", value)
            };
            bar.abandon();
            return Err(Error::NonFinite { step, epoch: epoch as usize + 1, term: term.into(), value });
        }

        tracing::debug!(step, loss = value, "train step");

        // ---- backward and optimiser step ----
        let grads = GradientsParams::from_grads(loss.loss.backward(), &model);
        model = optim.step(c.lr, model, grads);
        step += 1;
        epoch_sum += value;
        epoch_steps_timed += 1;
        bar.set_position(step);
        if opts.progress {
            let rate = (epoch_steps_timed * c.batch_size as u64) as f64 / epoch_started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("epoch {}/{}  loss {value:.2}  {rate:.0} examples/s", epoch + 1, c.epochs));
        }

        let epoch_done = step % steps_per_epoch == 0;
        // ---- end of epoch: score, draw, log ----
        if epoch_done {
            let secs = epoch_started.elapsed().as_secs_f64();
            let examples_per_s = (epoch_steps_timed * c.batch_size as u64) as f64 / secs.max(1e-9);
            let test_elbo = if eval_set.is_empty() {
                None
            } else {
                let est = likelihood::estimate(&model.valid(), &eval_set, 1, EVAL_SEED, &device.clone().inner(), |_| {})?;
                Some(est.elbo)
            };
            let m = EpochMetrics {
                epoch: epoch as usize + 1,
                step,
                train_loss: epoch_sum / steps_per_epoch as f64,
                test_elbo,
                examples_per_s,
                wall_s: wall_before + started.elapsed().as_secs_f64(),
            };
            draw_epoch(spec, &model.valid(), &eval_set, run_dir, m.epoch, &device.clone().inner())?;
            append_metrics(&run_dir.join(METRICS_FILE), &m)?;
            if opts.progress {
                bar.println(format!(
                    "epoch {:>3}  train loss {:>9.3}  test ELBO {:>9}  {:>7.0} ex/s",
                    m.epoch,
                    m.train_loss,
                    m.test_elbo.map_or("-".into(), |v| format!("{v:.3}")),
                    m.examples_per_s
                ));
            }
            last_epoch = Some(m);
            epoch_sum = 0.0;
            epoch_steps_timed = 0;
        }

        // ---- checkpoint ----
        if epoch_done || (c.checkpoint_every > 0 && step % c.checkpoint_every == 0) {
            let mut meta = BTreeMap::new();
            meta.insert("step".into(), step.to_string());
            meta.insert("epoch_loss_sum".into(), epoch_sum.to_string());
            meta.insert("wall_s".into(), (wall_before + started.elapsed().as_secs_f64()).to_string());
            meta.insert("spec".into(), spec.to_toml());
            checkpoint::save(&ckpt_path, &model, &optim, &meta)?;
        }
        if epoch_done {
            epoch_started = Instant::now();
        }
        if opts.stop_after_steps == Some(step) {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(TrainOutcome { run_dir: run_dir.to_path_buf(), steps: step, last_epoch })
}

fn progress_bar(show: bool, total: u64, pos: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total).with_position(pos);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} step {pos}/{len}  {msg}  eta {eta}")
            .expect("valid template"),
    );
    bar
}

fn append_metrics(path: &Path, m: &EpochMetrics) -> Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io(path, e))?;
    let line = serde_json::to_string(m).expect("metrics serialise");
    writeln!(f, "{line}").map_err(|e| Error::io(path, e))
}

/// Keeps the metric lines of the first `epochs` epochs: a resumed run rewrites the rest.
fn truncate_metrics(path: &Path, epochs: usize) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let kept: String = text
        .lines()
        .filter(|l| serde_json::from_str::<EpochMetrics>(l).is_ok_and(|m| m.epoch <= epochs))
        .map(|l| format!("{l}\n"))
        .collect();
    checkpoint::write_atomic(path, kept.as_bytes())
}

/// Samples (and, for images, reconstructions) of one epoch, as PNG in `RUN_DIR/pictures`.
fn draw_epoch(spec: &RunSpec, model: &Vae, test: &Dataset, run_dir: &Path, epoch: usize, device: &Device) -> Result<()> {
    let dir = run_dir.join("pictures");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let n = if test.image_side.is_some() { 64 } else { 2000 };
    plot::save_png(&sample_picture(spec, model, n, epoch as u64, device), &dir.join(format!("samples_{epoch:03}.png")))?;
    if test.image_side.is_some() {
        plot::save_png(&reconstruction_picture(model, test, device), &dir.join(format!("reconstructions_{epoch:03}.png")))?;
    }
    Ok(())
}

/// `n` draws from the model: a grid of decoder means for images, a scatter over the test data
/// for points.
pub fn sample_picture(spec: &RunSpec, model: &Vae, n: usize, counter: u64, device: &Device) -> image::RgbImage {
    let d = model.latent_dim();
    let mut rng = stream(spec.seed, Purpose::Sample, counter);
    let z = tensor(normals(&mut rng, n * d), [n, d], device);
    match spec.data.toy() {
        None => {
            let x = host(model.decode_mean(z));
            plot::image_grid(&x, data::idx::SIDE, (n as f64).sqrt().ceil() as usize)
        }
        Some(toy) => {
            let noise = tensor(normals(&mut rng, n * 2), [n, 2], device);
            let x = host(model.decode_sample(z, noise));
            let (real, _) = toy.sample(n, data::TOY_TEST_SEED, 1);
            plot::scatter(&[(&real, [170, 170, 170]), (&x, [200, 30, 30])], 5.5, 400)
        }
    }
}

/// Test images (odd rows) above their reconstructions from the posterior mean (even rows).
pub fn reconstruction_picture(model: &Vae, test: &Dataset, device: &Device) -> image::RgbImage {
    let n = test.len().min(32);
    let x = test.head(n);
    let (mu, _) = model.encode(tensor(x.x.clone(), [n, x.dim], device));
    let rec = host(model.decode_mean(mu));
    let mut rows = Vec::with_capacity(2 * x.x.len());
    for r in 0..n.div_ceil(8) {
        let span = r * 8 * x.dim..((r + 1) * 8).min(n) * x.dim;
        rows.extend_from_slice(&x.x[span.clone()]);
        rows.extend_from_slice(&rec[span]);
    }
    plot::image_grid(&rows, data::idx::SIDE, 8)
}
