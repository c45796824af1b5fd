//! The training loop, readable top to bottom: set up, then one loop over steps in phases
//! (batch, one optimisation step, checkpoint), with scores and pictures at the end of each epoch.
//! The loop knows no model family: each implements [`Trainer`] (`vae.rs`: one update on the
//! negative bound; `gan.rs`: discriminator updates, then a generator update), so checkpoints,
//! exact resume and the stop on a non-finite loss are written once.
//!
//! Reproducibility: the initial weights come from the seeded device; every other random draw
//! (epoch order, binarisation, `eps`) is a function of `(seed, purpose, step)` (see [`crate::rng`]),
//! so a run resumed from a checkpoint continues bit-for-bit like the uninterrupted one.

pub mod selection;
mod trained;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use rand::seq::SliceRandom;
use safetensors::tensor::Dtype;

use crate::config::{DataKind, Family, Likelihood, Network};
use crate::data::kmeans::Clusters;
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::host::tensor;
use crate::interrupt::Interrupt;
use crate::atomic::{remove_interrupted_writes, write_atomic};
use crate::run::lock::DirLock;
use crate::run::metrics::{append_line, append_metrics, keep_metrics_until};
use crate::run::{BEST_FILE, VALIDATION_FILE};
use selection::{Selection, Verdict};
pub use crate::backend::seeded;
pub use crate::eval::EVAL_SEED;
pub use crate::objectives::{NonFiniteTerm, finite};
pub use crate::run::{test_set, x_dim};
pub use crate::run::{CHECKPOINT_FILE, DIVERGENCES_FILE, EpochMetrics, METRICS_FILE, PICTURES_DIR, RUN_FILE, RunSpec, checkpoint};
use crate::models::ModelKind;
use crate::models::vae::step::Labelled;
use crate::rng::{Purpose, stream};
pub use crate::models::aae::AaeTrainer;
pub use crate::models::ada::AdaTrainer;
pub use crate::models::cyclegan::CycleGanTrainer;
pub use crate::models::gan::GanTrainer;
pub use crate::models::infogan::InfoGanTrainer;
pub use crate::models::dispatch::{Extra, trainer};
pub use crate::models::step::{Step, StepLosses, Trainer};
pub use crate::models::vae::VaeTrainer;
pub use crate::models::wake_sleep::WakeSleepTrainer;
pub use crate::models::trained::{Model, Trained, balanced_labels, from_gan_pixels, to_gan_pixels};
pub use trained::{coverage_samples, directions_of, eval_samples, epoch_scores, load_trained, load_trained_from, sample_picture};


/// Epoch-end pictures are drawn at most this often (in steps), and after the last step.
pub const PICTURE_STEPS: u64 = 500;
/// The settings `--resume` may change, to extend a run; every other one is the run's own.
pub const EXTENDABLE: [&str; 2] = ["epochs", "max_steps"];

#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Continue the run in the directory from its checkpoint.
    pub resume: bool,
    /// Stop after this global step without finishing (tests use it to imitate a kill).
    pub stop_after_steps: Option<u64>,
    /// Show a progress bar and print a line per epoch.
    pub progress: bool,
    /// Once raised, the loop stops at the next step boundary, saves its checkpoint and returns
    /// [`Error::Interrupted`] (the CLI raises it on Ctrl-C and SIGTERM).
    pub interrupt: Interrupt,
}

#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub run_dir: PathBuf,
    /// The step reached.
    pub steps: u64,
    /// The steps the run makes in all (`epochs`, or fewer where `max_steps` ends it).
    pub total_steps: u64,
    /// The last epoch line written by this call (none if it wrote none).
    pub last_epoch: Option<EpochMetrics>,
    /// A resumed run that had already made all its steps: nothing was trained or written.
    pub already_complete: bool,
    /// Model selection ended training before its last step (`patience`).
    pub stopped_early: bool,
}

/// The training data as the model sees it: the `train_fraction` subset, ready for batching. For
/// semi-supervised models the batches are its unlabelled part, and its labelled examples (a
/// class-balanced `label_fraction`, seeded by `subset_seed`) come apart, with the weight of their
/// classification term.
pub fn training_data(spec: &RunSpec) -> Result<(Dataset, Option<Labelled>)> {
    // Without its validation part, which only model selection reads.
    training_subset(spec, crate::run::training_split(spec)?.0)
}

/// [`training_data`] from the training pool already read.
fn training_subset(spec: &RunSpec, full: Dataset) -> Result<(Dataset, Option<Labelled>)> {
    let c = &spec.config;
    let subset = full.select(&data::balanced_subset(&full.labels, c.train_fraction, c.subset_seed));
    if !spec.model.semi_supervised() {
        return Ok((subset, None));
    }
    let labelled = data::labelled_subset(&subset.labels, c.label_fraction, c.subset_seed);
    let mut is_labelled = vec![false; subset.len()];
    labelled.iter().for_each(|&i| is_labelled[i] = true);
    let rest: Vec<usize> = (0..subset.len()).filter(|&i| !is_labelled[i]).collect();
    let class_weight = c.class_weight * subset.len() as f64 / labelled.len() as f64;
    Ok((subset.select(&rest), Some(Labelled { data: subset.select(&labelled), class_weight })))
}

/// A training batch as the model sees it: binarised afresh for Bernoulli VAEs, pixels scaled to
/// [-1, 1] for GANs (docs/spec.md §3), points as they are.
fn prepare(spec: &RunSpec, x: Vec<f32>, step: u64) -> Vec<f32> {
    match (spec.model.family(), spec.data.kind(), spec.config.likelihood) {
        (Family::Vae, _, Likelihood::Bernoulli) => data::binarize(&x, &mut stream(spec.seed, Purpose::Binarize, step)),
        (Family::Gan, DataKind::Images, _) => to_gan_pixels(&x),
        _ => x,
    }
}

/// Trains `spec` in `run_dir`, from scratch or (with `resume`) from its checkpoint.
/// Safe to call from several threads at once (see [`seeded`]).
///
/// ```
/// use unigen::config::TrainConfig;
/// use unigen::data::{DataKind, DataSource};
/// use unigen::models::ModelKind;
/// use unigen::train::{RunSpec, TrainOptions, train};
///
/// // A small VAE on the built-in ring of 8 Gaussians: one epoch of 8 steps.
/// let sets = ["hidden=[16]", "toy_train_size=512", "batch_size=64", "epochs=1"].map(String::from);
/// let config = TrainConfig::resolve(DataKind::Points2d, ModelKind::Vae, None, &sets)?;
/// let spec = RunSpec { model: ModelKind::Vae, seed: 0, data: DataSource::Ring8, config };
/// let dir = std::env::temp_dir().join(format!("unigen-doc-train-{}", std::process::id()));
/// let device = unigen::backend::Backend::Flex.device()?.autodiff();
/// let outcome = train(&spec, &dir, &device, &TrainOptions::default())?;
/// assert_eq!(outcome.steps, 8);
/// assert!(outcome.last_epoch.unwrap().scores["test_elbo"].is_finite());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), unigen::Error>(())
/// ```
pub fn train(spec: &RunSpec, run_dir: &Path, device: &Device, opts: &TrainOptions) -> Result<TrainOutcome> {
    check(spec)?;
    let (pool, validation) = crate::run::training_split(spec)?;
    let (mut train_set, labelled) = training_subset(spec, pool)?;
    if train_set.len() < spec.config.batch_size {
        return Err(Error::Config {
            path: "batch_size".into(),
            problem: format!("{} exceeds the {} training examples", spec.config.batch_size, train_set.len()),
        });
    }
    if spec.config.clusters > train_set.len() {
        return Err(Error::Config { path: "clusters".into(), problem: format!("{} clusters of {} training examples", spec.config.clusters, train_set.len()) });
    }
    // One writer at a time, held until training returns. Taken after the checks of the settings
    // against the data (so a bad setting leaves no directory behind) and before any costly set-up
    // (k-means), so that a second process is refused at once; then clean up after a killed one.
    let _lock = DirLock::acquire(run_dir)?;
    remove_interrupted_writes(run_dir);
    let resuming = run_dir.join(CHECKPOINT_FILE).exists();
    if resuming && !opts.resume {
        return Err(Error::Invalid(format!(
            "{} already holds a run; pass --resume to continue it, or choose another --out",
            run_dir.display()
        )));
    }
    let shifted = matches!(spec.model, ModelKind::Ada | ModelKind::Cyclegan).then(|| {
        let b = spec.config.domain_shift.apply(&train_set);
        Dataset { x: to_gan_pixels(&b.x), ..b }
    });
    // A GAN conditioned on clusters of its data learns them as its examples' classes.
    let cluster_shares = match spec.config.clusters {
        0 => None,
        k => {
            let clusters = clusters_of(spec, &train_set, k, run_dir, resuming, device, opts.progress)?;
            let shares = clusters.shares();
            train_set.labels = clusters.assignment;
            Some(shares)
        }
    };
    let trainer = trainer(spec, device, Some(Extra { shifted, labelled, cluster_shares }));
    train_with(trainer, train_set, validation, spec, run_dir, device, opts)
}

/// The `k` k-means clusters of the training examples, seeded by the run's seed, formed once at
/// the run's start and kept in its [`CLUSTERS_FILE`]: a resumed run reads them back, so it trains
/// on the clusters it began with even where k-means would now round otherwise (another machine's
/// vector width, another build), and does not spend the clustering's time again.
fn clusters_of(spec: &RunSpec, train_set: &Dataset, k: usize, run_dir: &Path, resuming: bool, device: &Device, progress: bool) -> Result<Clusters> {
    let path = run_dir.join(CLUSTERS_FILE);
    // A run begun before the file existed has none: its clusters are formed again, as then.
    if resuming && path.exists() {
        let clusters = read_clusters(&path, spec, train_set.len(), k)?;
        if progress {
            eprintln!("clusters: {k} clusters of {} examples, read from {}", train_set.len(), path.display());
        }
        return Ok(clusters);
    }
    let started = Instant::now();
    let clusters = data::kmeans::kmeans(&train_set.x, train_set.dim, k, &mut stream(spec.seed, Purpose::Clusters, 0), &device.clone().inner());
    // How well the clusters match the labels the model is not given.
    let purity = crate::eval::matching::purity(&clusters.assignment, &train_set.labels, k);
    let sizes = clusters.sizes();
    let (smallest, largest) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    tracing::info!(k, iterations = clusters.iterations, purity, smallest, largest, "k-means clusters");
    if progress {
        eprintln!(
            "k-means: {k} clusters of {} examples ({smallest} to {largest} each) after {} iterations, {:.1} s; purity against the labels {purity:.3}",
            train_set.len(),
            clusters.iterations,
            started.elapsed().as_secs_f64()
        );
    }
    let meta = clusters_meta(spec, train_set.len(), k);
    let assignment = (Dtype::U8, vec![clusters.assignment.len()], clusters.assignment.clone());
    checkpoint::save_tensors(&path, [(ASSIGNMENT.to_string(), assignment)].into(), &meta, CLUSTERS_FORMAT)?;
    Ok(clusters)
}

/// The file of a clustered run's clusters (`clusters = K`): each training example's cluster.
pub const CLUSTERS_FILE: &str = "clusters.safetensors";
const CLUSTERS_FORMAT: &str = "unigen-clusters/1";
const ASSIGNMENT: &str = "clusters.assignment";

/// What a clusters file must say to belong to this run.
fn clusters_meta(spec: &RunSpec, examples: usize, k: usize) -> BTreeMap<String, String> {
    [("clusters", k.to_string()), ("examples", examples.to_string()), ("seed", spec.seed.to_string()), ("data", spec.data.name())]
        .map(|(key, v)| (key.to_string(), v))
        .into()
}

/// A run's clusters as its start saved them, checked (content hash, and that they are this
/// run's: clusters, examples, seed, data); the centres are not kept.
fn read_clusters(path: &Path, spec: &RunSpec, examples: usize, k: usize) -> Result<Clusters> {
    let bad = |problem: String| Error::Checkpoint { path: path.to_path_buf(), problem: format!("{problem}; remove the file to form the clusters again") };
    let loaded = checkpoint::read_as(path, CLUSTERS_FORMAT).map_err(|e| match e {
        Error::Checkpoint { problem, .. } => bad(problem),
        other => other,
    })?;
    for (key, want) in clusters_meta(spec, examples, k) {
        let have = loaded.meta.get(&key).map(String::as_str).unwrap_or("nothing");
        if have != want {
            return Err(bad(format!("its `{key}` is {have}, this run's {want}")));
        }
    }
    let assignment = loaded.tensor(ASSIGNMENT).and_then(|t| t.try_to_vec::<u8>().ok()).ok_or_else(|| bad(format!("no `{ASSIGNMENT}` of bytes")))?;
    if assignment.len() != examples || assignment.iter().any(|&c| c as usize >= k) {
        return Err(bad(format!("`{ASSIGNMENT}` is not one cluster below {k} for each of {examples} examples")));
    }
    Ok(Clusters { k, centres: Vec::new(), assignment, iterations: 0 })
}

/// Settings that are valid alone but not together with the model or data.
pub fn check(spec: &RunSpec) -> Result<()> {
    let c = &spec.config;
    let images_only = matches!(spec.model, ModelKind::Infogan | ModelKind::Ada | ModelKind::Cyclegan);
    if images_only && spec.data.kind() != DataKind::Images {
        return Err(Error::Config {
            path: "--data".into(),
            problem: format!("{} is defined on images (MNIST), not {}", spec.model.name(), spec.data.label()),
        });
    }
    if matches!(spec.data, crate::data::DataSource::StackedMnist { .. }) && !matches!(spec.model, ModelKind::Gan | ModelKind::Iwgan) {
        return Err(Error::Config {
            path: "--data".into(),
            problem: format!("stacked-mnist is the mode-collapse benchmark of gan and iwgan; {} is not run on it", spec.model.name()),
        });
    }
    let mlp_only = matches!(spec.model, ModelKind::WakeSleep | ModelKind::Ada | ModelKind::Cyclegan);
    if mlp_only && c.network != Network::Mlp {
        return Err(Error::Config { path: "network".into(), problem: format!("{} has MLP networks only", spec.model.name()) });
    }
    if c.validation > 0 && matches!(spec.data, crate::data::DataSource::Points { .. }) {
        return Err(Error::Config {
            path: "validation".into(),
            problem: "a point file holds out every fifth point for testing and has no validation split".into(),
        });
    }
    let conv_vae = spec.model.family() == Family::Vae && c.likelihood == Likelihood::Gaussian && c.learn_variance;
    if c.network == Network::Dcgan && (spec.data.kind() != DataKind::Images || conv_vae) {
        return Err(Error::Config {
            path: "network".into(),
            problem: format!(
                "`dcgan` is for images (and, in VAEs, a Bernoulli or fixed-variance Gaussian decoder), not {} on {}",
                spec.model.name(),
                spec.data.label()
            ),
        });
    }
    Ok(())
}

/// The model of `spec` as a run initialises it, before any training, in inference mode.
pub fn initial(spec: &RunSpec, device: &Device) -> Trained {
    trainer(spec, device, None).trained()
}

/// The loop, run while [`train`] holds the run directory's lock. `validation`: the examples model
/// selection scores ([`crate::run::training_split`]).
fn train_with(
    mut trainer: Box<dyn Trainer>,
    train_set: Dataset,
    validation: Option<Dataset>,
    spec: &RunSpec,
    run_dir: &Path,
    device: &Device,
    opts: &TrainOptions,
) -> Result<TrainOutcome> {
    // ---- set-up: data, directories, state to resume ----
    let c = &spec.config;
    // With a validation set the epoch-end scores are taken on it (as `val_*`): the test set is
    // left to the final score.
    let eval_set = match &validation {
        Some(v) => v.head(c.epoch_eval_size),
        None => test_set(spec)?.head(c.epoch_eval_size),
    };
    // Stacked MNIST's modes are counted at each epoch's end, as in PacGAN's code; the classifier
    // that reads them is loaded (its fingerprint checked) before the first step, not after an epoch.
    let reference = (matches!(spec.data, data::DataSource::StackedMnist { .. }) && c.epoch_eval_size > 0)
        .then(|| crate::eval::classifier::reference(None, &device.clone().inner()))
        .transpose()?;
    let mut selection = Selection::new(c.patience);
    let mut stopped_early = false;
    let steps_per_epoch = (train_set.len() / c.batch_size) as u64;
    let total_steps = match c.max_steps {
        0 => steps_per_epoch * c.epochs as u64,
        max => max.min(steps_per_epoch * c.epochs as u64),
    };
    let ckpt_path = run_dir.join(CHECKPOINT_FILE);

    let mut step = 0u64;
    // Running sums of the epoch's losses, restored on resume so the epoch's means are exact.
    let mut epoch_sums: BTreeMap<String, f64> = BTreeMap::new();
    let mut wall_before = 0f64;
    // A run killed before its first checkpoint has nothing to lose: resuming it starts afresh.
    if opts.resume && ckpt_path.exists() {
        let loaded = checkpoint::read(&ckpt_path)?;
        let saved: RunSpec = toml::from_str(loaded.meta.get("spec").map(String::as_str).unwrap_or(""))
            .map_err(|e| Error::Checkpoint { path: ckpt_path.clone(), problem: format!("run spec: {}", e.message()) })?;
        let changed: Vec<String> = [("model", spec.model != saved.model), ("seed", spec.seed != saved.seed), ("data", spec.data != saved.data)]
            .into_iter()
            .filter(|(_, differs)| *differs)
            .map(|(name, _)| name.to_string())
            .chain(saved.config.changed_keys(&spec.config, spec.model).into_iter().filter(|k| !EXTENDABLE.contains(&k.as_str())))
            .collect();
        if !changed.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: --resume keeps the run's settings (in {}); only `epochs` and `max_steps` may change, but these differ: {}",
                ckpt_path.display(),
                run_dir.join(RUN_FILE).display(),
                changed.join(", ")
            )));
        }
        trainer = trainer.load(&loaded)?;
        let num = |k: &str| loaded.meta.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        step = num("step") as u64;
        wall_before = num("wall_s");
        epoch_sums = serde_json::from_str(loaded.meta.get("epoch_loss_sums").map(String::as_str).unwrap_or("{}"))
            .map_err(|e| Error::Checkpoint { path: ckpt_path.clone(), problem: format!("epoch_loss_sums: {e}") })?;
        selection = Selection::from_meta(c.patience, &loaded.meta);
        if loaded.meta.contains_key("stopped_early") {
            if opts.progress {
                eprintln!("{} stopped early at step {step} (patience); nothing to do", run_dir.display());
            }
            return Ok(TrainOutcome { run_dir: run_dir.to_path_buf(), steps: step, total_steps, last_epoch: None, already_complete: true, stopped_early: true });
        }
        if step >= total_steps {
            // Nothing to do, and nothing to touch: run.toml and metrics.jsonl stay as they are.
            if opts.progress {
                eprintln!(
                    "{} is already complete at step {step}; nothing to do (extend it with --set epochs=N or --set max_steps=N)",
                    run_dir.display()
                );
            }
            return Ok(TrainOutcome { run_dir: run_dir.to_path_buf(), steps: step, total_steps, last_epoch: None, already_complete: true, stopped_early: false });
        }
        keep_metrics_until(&run_dir.join(METRICS_FILE), step)?;
        keep_metrics_until(&run_dir.join(VALIDATION_FILE), step)?;
        tracing::info!(step, checkpoint = %ckpt_path.display(), "resuming");
    } else {
        for file in [METRICS_FILE, VALIDATION_FILE, BEST_FILE] {
            let _ = std::fs::remove_file(run_dir.join(file));
        }
    }
    write_atomic(&run_dir.join(RUN_FILE), spec.to_toml().as_bytes())?;

    let epochs_planned = total_steps.div_ceil(steps_per_epoch);
    tracing::info!(model = spec.model.name(), examples = train_set.len(), steps_per_epoch, total_steps, run_dir = %run_dir.display(), "training");
    if opts.progress {
        let what = format!("{} on {} (seed {})", spec.model.name(), spec.data.label(), spec.seed);
        match step {
            0 => eprintln!(
                "training {what} into {}: {total_steps} steps, {epochs_planned} epoch{} of {steps_per_epoch}",
                run_dir.display(),
                if epochs_planned == 1 { "" } else { "s" }
            ),
            _ => eprintln!("resuming {what} in {} at step {step} of {total_steps}", run_dir.display()),
        }
    }
    let bar = progress_bar(opts.progress, total_steps, step);
    let started = Instant::now();
    let mut epoch_started = Instant::now();
    let mut epoch_steps_timed = 0u64;
    let mut last_epoch = None;
    let mut order: Option<(u64, Vec<usize>)> = None;

    while step < total_steps {
        let epoch = step / steps_per_epoch;
        let in_epoch = (step % steps_per_epoch) as usize;

        // ---- batch: this epoch's order, prepared afresh each step ----
        if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut perm: Vec<usize> = (0..train_set.len()).collect();
            perm.shuffle(&mut stream(spec.seed, Purpose::Shuffle, epoch));
            order = Some((epoch, perm));
        }
        let perm = &order.as_ref().unwrap().1;
        let batch = &perm[in_epoch * c.batch_size..(in_epoch + 1) * c.batch_size];
        let labels: Vec<u8> = batch.iter().map(|&i| train_set.labels[i]).collect();
        let x = tensor(prepare(spec, train_set.gather(batch), step), [c.batch_size, train_set.dim], device);

        // ---- one optimisation step; a non-finite loss stops the run before it touches the weights ----
        let losses;
        (trainer, losses) = match trainer.step(x, &labels, &mut stream(spec.seed, Purpose::Eps, step)) {
            Ok(done) => done,
            Err(NonFiniteTerm { term, value }) => {
                bar.abandon();
                return Err(Error::NonFinite { step, epoch: epoch as usize + 1, term: term.into(), value });
            }
        };
        tracing::debug!(step, ?losses, "train step");
        step += 1;
        for (name, value) in &losses {
            *epoch_sums.entry(name.to_string()).or_default() += value;
        }
        epoch_steps_timed += 1;
        bar.set_position(step);
        if opts.progress {
            let rate = (epoch_steps_timed * c.batch_size as u64) as f64 / epoch_started.elapsed().as_secs_f64().max(1e-9);
            let shown: Vec<String> = losses.iter().map(|(n, v)| format!("{n} {v:.3}")).collect();
            bar.set_message(format!("epoch {}/{epochs_planned}  {}  {rate:.0} examples/s", epoch + 1, shown.join("  ")));
        }

        // An epoch ends after its last step, or early where `max_steps` ends the run.
        let partial = !step.is_multiple_of(steps_per_epoch) && step == total_steps;
        let epoch_done = step.is_multiple_of(steps_per_epoch) || partial;
        let steps_in_epoch = step - epoch * steps_per_epoch;
        // ---- end of epoch: score, draw, log ----
        if epoch_done {
            let secs = epoch_started.elapsed().as_secs_f64();
            let trained = trainer.trained();
            let means: BTreeMap<String, f64> = epoch_sums.iter().map(|(k, v)| (k.clone(), v / steps_in_epoch as f64)).collect();
            let m = EpochMetrics {
                epoch: epoch as usize + 1,
                step,
                train_loss: means.get(losses[0].0).copied().unwrap_or(f64::NAN),
                losses: means,
                examples_per_s: (epoch_steps_timed * c.batch_size as u64) as f64 / secs.max(1e-9),
                wall_s: wall_before + started.elapsed().as_secs_f64(),
                partial,
                scores: epoch_scores(spec, &trained, &eval_set, reference.as_ref(), epoch as usize + 1, &device.clone().inner())?
                    .into_iter()
                    .map(|(k, v)| match (&validation, k.strip_prefix("test_")) {
                        (Some(_), Some(rest)) => (format!("val_{rest}"), v),
                        _ => (k, v),
                    })
                    .collect(),
            };
            // Pictures at most every PICTURE_STEPS steps and at the end: a run on 1% of MNIST has
            // epochs of 5 steps, and a picture per epoch would fill the disk.
            if (m.epoch as u64).is_multiple_of(PICTURE_STEPS.div_ceil(steps_per_epoch)) || step == total_steps {
                trained::draw_epoch(spec, &trained, &eval_set, run_dir, m.epoch, &device.clone().inner())?;
            }
            append_metrics(&run_dir.join(METRICS_FILE), &m)?;
            if m.scores.contains_key("jsd") {
                draw_divergences(run_dir)?;
            }
            if opts.progress {
                bar.println(format!("epoch {:>3}{}  {}  {:>7.0} ex/s", m.epoch, if partial { " (partial)" } else { "" }, m.summary(), m.examples_per_s));
            }
            last_epoch = Some(m);
            // A partial epoch's sums stay: if the run is extended, the epoch's own line averages
            // over all of its steps.
            if !partial {
                epoch_sums.clear();
            }
            epoch_steps_timed = 0;
        }

        // ---- model selection: the validation bound every `eval_every` steps (or epoch), the best
        // state kept, a stop after `patience` scores without improvement ----
        let validate = validation.is_some() && (if c.eval_every > 0 { step.is_multiple_of(c.eval_every) } else { epoch_done } || step == total_steps);
        if let (true, Some(val)) = (validate, &validation) {
            let trained = trainer.trained();
            let model = trained.vae().expect("selection is scoped to models with an encoder");
            let score = crate::eval::likelihood::estimate(model, val, 1, EVAL_SEED, &device.clone().inner(), |_| {})?.elbo;
            let verdict = selection.observe(step, score);
            if verdict == Verdict::Improved {
                let mut meta = BTreeMap::from([("step".into(), step.to_string()), ("spec".into(), spec.to_toml())]);
                meta.insert("validation_elbo".into(), serde_json::to_string(&score).expect("a number"));
                checkpoint::save(&run_dir.join(BEST_FILE), &trainer.parts(), &meta)?;
            }
            let best_step = selection.best.map(|(s, _)| s);
            append_line(&run_dir.join(VALIDATION_FILE), &serde_json::json!({ "step": step, "validation_elbo": score, "best_step": best_step }))?;
            if opts.progress {
                bar.println(format!("step {step:>7}  validation ELBO {score:.3}{}", if verdict == Verdict::Improved { "  (best so far)" } else { "" }));
            }
            stopped_early = verdict == Verdict::Stop;
        }

        // ---- checkpoint: at epoch ends, every `checkpoint_every` steps, at validation scores, and
        // on an interrupt ----
        let interrupted = opts.interrupt.raised().filter(|_| step < total_steps);
        if epoch_done || (c.checkpoint_every > 0 && step.is_multiple_of(c.checkpoint_every)) || validate || interrupted.is_some() {
            let mut meta = BTreeMap::new();
            meta.insert("step".into(), step.to_string());
            meta.insert("total_steps".into(), total_steps.to_string());
            meta.insert("steps_per_epoch".into(), steps_per_epoch.to_string());
            meta.insert("epoch_loss_sums".into(), serde_json::to_string(&epoch_sums).expect("sums serialise"));
            meta.insert("wall_s".into(), (wall_before + started.elapsed().as_secs_f64()).to_string());
            meta.insert("spec".into(), spec.to_toml());
            if validation.is_some() {
                selection.to_meta(&mut meta);
            }
            if stopped_early {
                meta.insert("stopped_early".into(), step.to_string());
            }
            checkpoint::save(&ckpt_path, &trainer.parts(), &meta).map_err(|e| match e {
                // Say what survived: the rename never happened, so the previous checkpoint is whole.
                Error::Io { path, cause } => Error::CheckpointWrite { path, step, cause },
                other => other,
            })?;
            tracing::debug!(step, path = %ckpt_path.display(), "checkpoint written");
        }
        if epoch_done {
            epoch_started = Instant::now();
        }
        if let Some(signal) = interrupted {
            bar.abandon();
            return Err(Error::Interrupted { signal, step, total: total_steps, dir: run_dir.to_path_buf() });
        }
        if stopped_early {
            if opts.progress {
                let best = selection.best.map_or(String::new(), |(s, v)| format!("; the best, {v:.3} at step {s}, is in {BEST_FILE}"));
                bar.println(format!("stopping early at step {step}: no better validation ELBO in {} scores{best}", c.patience));
            }
            break;
        }
        if opts.stop_after_steps == Some(step) {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(TrainOutcome { run_dir: run_dir.to_path_buf(), steps: step, total_steps, last_epoch, already_complete: false, stopped_early })
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

/// A 2-D run's divergence curves so far (every epoch in `metrics.jsonl`, from before a resume
/// too) as `divergences.svg` in the run directory: the training dynamics of the KL directions.
fn draw_divergences(run_dir: &Path) -> Result<()> {
    let epochs = crate::run::metrics::read_metrics(&run_dir.join(METRICS_FILE))?;
    let curve = |key: &str| epochs.iter().filter_map(|m| Some((m.step as f64, *m.scores.get(key)?))).collect();
    let mut charts = vec![("divergences (nats)", vec![("forward KL", curve("forward_kl")), ("reverse KL", curve("reverse_kl")), ("JSD", curve("jsd"))])];
    // The mixtures' reverse KL with their exact density reaches hundreds of nats where a model
    // blurs between modes: a chart of its own, so it does not flatten the others.
    let exact: crate::report::Series = curve("reverse_kl_exact");
    if !exact.is_empty() {
        charts.push(("reverse KL, exact data density (nats)", vec![("reverse KL", exact)]));
    }
    let svg = crate::report::chart_file(&charts);
    write_atomic(&run_dir.join(DIVERGENCES_FILE), svg.as_bytes())
}


#[cfg(test)]
mod tests {
    use super::*;

    /// The epoch's running loss sums are stored in a checkpoint as JSON; a resumed run's epoch
    /// means are exact only if every f64 comes back bit for bit (serde_json's default parser
    /// can be one ulp off; the `float_roundtrip` feature is exact).
    #[test]
    fn epoch_sums_survive_the_checkpoint_metadata_bit_for_bit() {
        let mut sums = BTreeMap::new();
        let mut x = 3.58925773948431f64;
        for i in 0..2000 {
            x = (x * 1.000123 + 0.1).fract() * 10f64.powi(i % 9 - 3);
            sums.insert(format!("{i:04}"), x);
        }
        let back: BTreeMap<String, f64> = serde_json::from_str(&serde_json::to_string(&sums).unwrap()).unwrap();
        let off: Vec<_> = sums.iter().filter(|(k, v)| back[*k].to_bits() != v.to_bits()).collect();
        assert!(off.is_empty(), "{} of {} sums changed, e.g. {:?}", off.len(), sums.len(), off.first());
    }
}
