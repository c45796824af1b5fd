//! `unigen reproduce`: the paper's MNIST tables (docs/spec.md §5) run, scored, and written up beside
//! the paper's numbers.
//!
//! Every row pairs a baseline with the model the unified view transfers a technique to (GAN and
//! IWGAN, VAE and AA-VAE, ...), trained with the same seeds. Each run lives in its own directory
//! under the output directory and leaves `result.json` when scored, so an interrupted
//! reproduction resumes: finished runs are skipped, a run with a checkpoint continues from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::config::{DataKind, Family, NormStats, TrainConfig};
use crate::data::{self, DataSource, Split};
use crate::error::{Error, Result};
use crate::eval::classifier::Reference;
use crate::eval::mean_std;
use crate::eval::{images, likelihood};
use crate::interrupt::Interrupt;
use crate::run::lock::DirLock;
use crate::models::ModelKind;
use crate::atomic::write_atomic;
use crate::train::{self, EVAL_SEED, RunSpec, TrainOptions, balanced_labels};

/// Which of the paper's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    /// Inception score (GAN, IWGAN), conditional accuracy (CGAN, IW-CGAN), SVAE test accuracy.
    Table2,
    /// Test ELBO of VAE, CVAE, SVAE and their adversary-activated versions.
    Table3,
    All,
}

/// How long each model trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// Short runs with MLP GANs: the whole set, three seeds, in under an hour on 2 CPU cores.
    Quick,
    /// Long runs with the DCGAN networks for the GAN rows (the paper states no budget; see
    /// [`Budget::steps`]).
    Paper,
    /// Model selection for the VAE rows: the last 10,000 training digits held out, the validation
    /// ELBO every 250 steps, the best state kept, a stop after 8 scores without improvement (at
    /// most 12,000 steps, 30,000 for the SVAE rows); the best state scored with the ELBO on the
    /// whole test set and L_1000 on its first 1,000 digits. VAE and CVAE rows use the DCGAN-style
    /// convolutional networks (measured nearer the paper's baselines than the MLP); SVAE rows the
    /// MLP (its bound decodes every digit once per class, which costs the convolutional decoder
    /// about 13 times the MLP's time a step). GAN rows as `paper`, from DCGAN's initial weights,
    /// for 30,000 steps.
    Converge,
}

impl Budget {
    /// Optimiser steps per run: the same count at every data fraction, so a 1% run makes many
    /// passes over its small set and a 100% run few. Quick: the whole set, 3 seeds, within an
    /// hour on 2 CPU cores (docs/reproduction.md gives the measured time).
    pub fn steps(self, model: ModelKind) -> u64 {
        let semi = model.semi_supervised();
        let gan = model.family() == Family::Gan;
        match (self, gan, semi) {
            (Budget::Quick, true, _) => 1500,
            (Budget::Quick, false, true) => 600,
            (Budget::Quick, false, false) => 1000,
            (Budget::Paper, true, _) => 20_000,
            (Budget::Paper, false, true) => 30_000,
            (Budget::Paper, false, false) => 60_000,
            // 32 MNIST epochs at batch 64: the unconditional GAN's inception score levels off
            // at about 7.6 from epoch 25 on (7.47 at epoch 21, about 20,000 steps; docs/results.md).
            (Budget::Converge, true, _) => 30_000,
            // The SVAE's unlabelled bound enumerates the classes: about ten VAE steps each.
            (Budget::Converge, false, true) => 30_000,
            // The 100% rows' cap: an AA step with the conv nets takes about 0.5 s on one core, and
            // no run may need more than about 2 hours. 1% and 10% runs stop well before it.
            (Budget::Converge, false, false) => 12_000,
        }
    }

    /// Importance samples of the final test score `L_k` (none: the ELBO alone).
    pub fn test_k(self) -> Option<usize> {
        (self == Budget::Converge).then_some(1000)
    }

    /// The first test digits `L_k` is computed on (the ELBO is always on all of them): `L_1000` on
    /// all 10,000 digits takes about 1.7 hours on one core with the conv decoder (measured), more
    /// than training. The result keeps each score's standard error over the digits.
    pub fn test_k_digits(self) -> Option<usize> {
        (self == Budget::Converge).then_some(1000)
    }

    /// Settings beyond the defaults.
    fn sets(self, model: ModelKind) -> Vec<String> {
        let mut sets = vec!["epoch_eval_size=200".to_string()];
        let gan = model.family() == Family::Gan;
        if self != Budget::Quick && gan {
            sets.extend(["network=dcgan", "latent_dim=100", "batch_size=64"].map(String::from));
        }
        if self == Budget::Converge && gan {
            // DCGAN's initial weights, as the paper's DCGAN: on MNIST, seed 1, they took the
            // unconditional GAN from IS 5.69 to 6.51 after 3 epochs (docs/results.md).
            sets.push("init=dcgan".into());
        }
        if self == Budget::Converge && !gan {
            // validation.jsonl is the curve; epoch-end scores would repeat it every few steps at 1% data.
            sets.extend(["validation=10000", "eval_every=250", "patience=8", "epoch_eval_size=0"].map(String::from));
            if !model.semi_supervised() {
                sets.push("network=dcgan".into());
            }
        }
        sets
    }

    pub fn name(self) -> &'static str {
        match self {
            Budget::Quick => "quick",
            Budget::Paper => "paper",
            Budget::Converge => "converge",
        }
    }
}

/// What a row compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Test ELBO in nats on the 10,000 test digits (binarised once, seeded).
    TestElbo,
    /// Inception score of 10,000 samples with the reference classifier.
    InceptionScore,
    /// Fraction of 10,000 class-conditional samples the classifier labels as their class.
    ConditionalAccuracy,
    /// Accuracy of the SVAE's classifier `q(c|x)` on the 10,000 test digits.
    TestAccuracy,
}

impl Metric {
    fn key(self) -> &'static str {
        match self {
            Metric::TestElbo => "test_elbo",
            Metric::InceptionScore => "inception_score",
            Metric::ConditionalAccuracy => "conditional_accuracy",
            Metric::TestAccuracy => "test_accuracy",
        }
    }
}

/// One row of a paper table: a baseline and its transferred twin in one setting.
#[derive(Debug, Clone)]
pub struct Row {
    pub table: &'static str,
    pub metric: Metric,
    pub base: ModelKind,
    pub transferred: ModelKind,
    /// E.g. "1% data", "10% labels".
    pub setting: String,
    /// `key=value` settings of the setting (`train_fraction=0.01`).
    pub sets: Vec<String>,
    /// The paper's numbers, baseline then transferred.
    pub paper: (f64, f64),
}

fn percent(f: f64) -> String {
    format!("{}%", (f * 100.0).round())
}

/// The rows of `table` (docs/spec.md §5).
pub fn rows(table: Table) -> Vec<Row> {
    let mut rows = Vec::new();
    let row = |table, metric, transferred: ModelKind, setting: String, sets: Vec<String>, paper| {
        let base = transferred.baseline().expect("every transferred model has a baseline");
        Row { table, metric, base, transferred, setting, sets, paper }
    };
    if table != Table::Table3 {
        rows.push(row("Table 2 (left)", Metric::InceptionScore, ModelKind::Iwgan, "MNIST".into(), vec![], (8.34, 8.45)));
        rows.push(row("Table 2 (middle)", Metric::ConditionalAccuracy, ModelKind::Iwcgan, "MNIST".into(), vec![], (0.985, 0.987)));
        for (f, paper) in [(0.01, (0.9412, 0.9425)), (0.1, (0.9768, 0.9797))] {
            let sets = vec![format!("label_fraction={f}")];
            rows.push(row("Table 2 (right)", Metric::TestAccuracy, ModelKind::Aasvae, format!("{} labels", percent(f)), sets, paper));
        }
    }
    if table != Table::Table2 {
        let elbo = [
            (ModelKind::Aavae, [(-122.89, -122.15), (-104.49, -103.05), (-92.53, -92.42)]),
            (ModelKind::Aacvae, [(-125.44, -122.88), (-102.63, -101.63), (-93.16, -92.75)]),
        ];
        for (transferred, papers) in elbo {
            for (f, paper) in [0.01, 0.1, 1.0].into_iter().zip(papers) {
                let sets = vec![format!("train_fraction={f}")];
                rows.push(row("Table 3", Metric::TestElbo, transferred, format!("{} data", percent(f)), sets, paper));
            }
        }
        for (f, paper) in [(0.01, (-108.22, -107.61)), (0.1, (-99.44, -98.81))] {
            let sets = vec![format!("label_fraction={f}")];
            rows.push(row("Table 3", Metric::TestElbo, ModelKind::Aasvae, format!("{} labels", percent(f)), sets, paper));
        }
    }
    rows
}

/// The rows picked by `--row MODEL@SETTING` filters (`aavae@1%`: the transferred model's name and
/// the start of the setting's name); all rows without filters. A filter that picks nothing is
/// refused, listing the rows.
pub fn select(rows: Vec<Row>, filters: &[String]) -> Result<Vec<Row>> {
    let picks = |f: &str, r: &Row| {
        let (model, setting) = f.split_once('@').unwrap_or((f, ""));
        r.transferred.name() == model && r.setting.starts_with(setting)
    };
    if let Some(f) = filters.iter().find(|f| !rows.iter().any(|r| picks(f, r))) {
        let all: Vec<String> = rows.iter().map(|r| format!("{}@{}", r.transferred.name(), r.setting.replace(' ', "-"))).collect();
        return Err(Error::Invalid(format!("--row {f}: no row of this table matches; the rows: {}", all.join(", "))));
    }
    // In the table's order, each row once.
    Ok(rows.into_iter().filter(|r| filters.is_empty() || filters.iter().any(|f| picks(f, r))).collect())
}

/// How a run was trained and scored: two results compare only when these agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    pub budget: String,
    /// Every setting that differs from the model's defaults (`key = value`), the row's included.
    pub settings: BTreeMap<String, String>,
    /// Importance samples of the final `L_k` (none: the ELBO alone).
    pub test_k: Option<usize>,
    /// The first test digits `L_k` is computed on (none: all of them).
    #[serde(default)]
    pub test_k_digits: Option<usize>,
}

/// What a finished run leaves in `result.json` and in the committed results directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub model: String,
    pub seed: u64,
    pub setting: String,
    pub steps: u64,
    /// Epochs begun; the last may be cut short by the step budget.
    pub epochs: usize,
    pub train_wall_s: f64,
    pub eval_wall_s: f64,
    /// `test_elbo`, `test_accuracy`, `inception_score`, `conditional_accuracy`, ...
    pub scores: BTreeMap<String, f64>,
    pub classifier_fingerprint: Option<String>,
    /// How it was trained and scored (absent from results written before it was recorded).
    #[serde(default)]
    pub protocol: Option<Protocol>,
    /// The step of the state scored: the best validation score's with model selection.
    #[serde(default)]
    pub scored_step: Option<u64>,
    /// The commit of the code that made it, where git could say.
    #[serde(default)]
    pub commit: Option<String>,
    /// Where it ran (CPU model, cores), and whether subnormal numbers were flushed to zero.
    #[serde(default)]
    pub machine: Option<String>,
}

/// Everything `reproduce` needs besides the rows.
pub struct Plan<'a> {
    pub mnist: PathBuf,
    pub out: PathBuf,
    pub seeds: u64,
    pub budget: Budget,
    pub reference: Option<&'a Reference>,
    /// Printed once per run.
    pub log: &'a (dyn Fn(&str) + Sync),
    /// Stops the run in progress at a step boundary, its checkpoint saved (Ctrl-C in the CLI).
    pub interrupt: Interrupt,
    /// Where each finished run's result is also kept, to be committed (`docs/reproduction`):
    /// a run whose result is there is not trained again, on any machine.
    pub results: Option<PathBuf>,
    /// The machine, recorded with each result.
    pub machine: String,
    /// Runs trained at once, the cores split between them.
    pub jobs: usize,
    /// The commit recorded with each result ([`commit`]).
    pub commit: Option<String>,
    /// The command line, for the report.
    pub command: String,
    /// Where the report is rewritten after every finished run (none: only at the end).
    pub report: Option<PathBuf>,
    /// The user's `key=value` settings, each applied to the models of the rows that read it
    /// (an ablation of the AA models leaves their baselines' runs as they are): [`extra_sets`].
    pub sets: Vec<String>,
    /// Only these runs, by the names of their directories ([`run_names`]); all without. One
    /// campaign spread over machines or a cluster's job array runs one name per process.
    pub only: Vec<String>,
}

/// The key of a `key=value` setting.
fn set_key(set: &str) -> &str {
    set.split('=').next().unwrap_or("").trim()
}

/// The user's settings that `model` reads.
fn extra_sets<'p>(plan: &'p Plan, model: ModelKind) -> Vec<&'p String> {
    let reads = model.settings();
    plan.sets.iter().filter(|s| reads.contains(&set_key(s))).collect()
}

/// Refuses a user setting that no model of `rows` reads (it would be ignored) or that redefines
/// what a row compares.
pub fn check_sets(plan: &Plan, rows: &[Row]) -> Result<()> {
    for set in &plan.sets {
        let key = set_key(set);
        if ["train_fraction", "label_fraction"].contains(&key) {
            return Err(Error::Invalid(format!("--set {set}: `{key}` is what the rows vary; it cannot be set for the whole table")));
        }
        if !rows.iter().any(|r| [r.base, r.transferred].iter().any(|m| m.settings().contains(&key))) {
            return Err(Error::Invalid(format!("--set {set}: no model of these rows reads `{key}`")));
        }
    }
    Ok(())
}

/// The committed result file of one run: `RESULTS/BUDGET/MODEL-SETTING-sSEED.json`.
fn committed_path(results: &Path, plan: &Plan, model: ModelKind, setting: &str, seed: u64) -> PathBuf {
    let name = run_dir(plan, model, setting, seed).file_name().expect("a run directory name").to_string_lossy().into_owned();
    results.join(plan.budget.name()).join(format!("{name}.json"))
}

/// The protocol of a run of `spec` under `budget`: its settings away from the defaults, and the
/// final score's `k`. A default changed after results were committed counts here at the value
/// those results were made with, so that a committed protocol keeps its meaning: `norm_stats`
/// was `all` until 2026-12-02 (and counts only where the nets have batch norm, the
/// convolutional ones: [`TrainConfig::changed_keys`]).
fn protocol_of(budget: Budget, spec: &RunSpec) -> Protocol {
    let defaults = TrainConfig { norm_stats: NormStats::All, ..TrainConfig::for_data(&spec.data, spec.model) };
    let table = toml::Table::try_from(&spec.config).expect("config serialises");
    let settings = defaults.changed_keys(&spec.config, spec.model).into_iter().map(|k| (k.clone(), table[&k].to_string())).collect();
    Protocol { budget: budget.name().into(), settings, test_k: budget.test_k(), test_k_digits: budget.test_k_digits() }
}

/// A stored result, if it was made under `protocol` (and, for scores read off the classifier, by
/// `reference`); any other is refused, naming the file and what differs.
fn read_result(path: &Path, protocol: &Protocol, reference: Option<&Reference>) -> Result<RunResult> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let result: RunResult = serde_json::from_str(&text).map_err(|e| Error::Invalid(format!("{}: not a reproduce result: {e}; delete it to rerun", path.display())))?;
    match &result.protocol {
        Some(p) if p == protocol => {}
        other => {
            let found = other.as_ref().map_or("none recorded".to_string(), |p| format!("{p:?}"));
            return Err(Error::Invalid(format!(
                "{}: made under another protocol ({found}; this run's is {protocol:?}): its scores do not compare; delete it to rerun",
                path.display()
            )));
        }
    }
    if let (Some(found), Some(r)) = (&result.classifier_fingerprint, reference)
        && *found != r.fingerprint
    {
        return Err(Error::Invalid(format!(
            "{}: scored with classifier {found:.12}, this reproduction uses {:.12}: the scores do not compare; delete it to rerun",
            path.display(),
            r.fingerprint
        )));
    }
    Ok(result)
}

/// The commit this binary was built from (`build.rs`), marked `+dirty` when its code differed
/// from it; `None` when it was built outside a git checkout. Not the tree's: a campaign runs for
/// hours from a frozen copy of the binary while the tree moves on. (Until 2026-11-30 this read
/// the tree's HEAD when the campaign started, which named the binary's commit only when the two
/// agreed; docs/reproduction/README.md lists the results that differ.)
pub fn commit() -> Option<String> {
    Some(env!("UNIGEN_BUILD_COMMIT").to_string()).filter(|c| !c.is_empty())
}

/// The run directory of one model, setting and seed.
fn run_dir(plan: &Plan, model: ModelKind, setting: &str, seed: u64) -> PathBuf {
    let slug = |s: &str, keep: &[char]| s.chars().map(|c| if c.is_ascii_alphanumeric() || keep.contains(&c) { c } else { '-' }).collect::<String>();
    // The user's settings that change this model's runs are in the name: `aavae+alpha=0.5-1-data-s0`.
    let extra: String = extra_sets(plan, model).iter().map(|s| format!("+{}", slug(&s.replace(' ', ""), &['=', '_', '.']))).collect();
    plan.out.join(format!("{}{extra}-{}-s{seed}", model.name(), slug(setting, &[]).replace("--", "-")))
}

/// The spec of one run: the model's defaults, the budget's settings, the row's, and exactly the
/// budget's steps (`max_steps`, which ends the run, mid-epoch if need be; `epochs` is only an
/// upper bound that it never reaches, as an epoch has at least one step).
fn run_spec(plan: &Plan, model: ModelKind, row_sets: &[String], seed: u64) -> Result<RunSpec> {
    let data = DataSource::Mnist { dir: plan.mnist.clone() };
    let mut sets = plan.budget.sets(model);
    sets.extend_from_slice(row_sets);
    let extra = extra_sets(plan, model);
    sets.extend(extra.iter().map(|s| s.to_string()));
    let config = TrainConfig::resolve(DataKind::Images, model, None, &sets)?;
    let mut spec = RunSpec { model, seed, data, config };
    let given = |key: &str| extra.iter().any(|s| set_key(s) == key);
    if !given("max_steps") {
        spec.config.max_steps = plan.budget.steps(model);
    }
    if !given("epochs") {
        spec.config.epochs = spec.config.max_steps as usize;
    }
    Ok(spec)
}

/// The result of a run that has finished: committed (on any machine), or in its run directory
/// (then committed too, with `commit`). One made under another protocol or classifier is refused.
fn finished(plan: &Plan, row: &Row, model: ModelKind, seed: u64, commit: bool) -> Result<Option<RunResult>> {
    let protocol = protocol_of(plan.budget, &run_spec(plan, model, &row.sets, seed)?);
    let committed = plan.results.as_ref().map(|r| committed_path(r, plan, model, &row.setting, seed));
    if let Some(path) = committed.as_ref().filter(|p| p.exists()) {
        return read_result(path, &protocol, plan.reference).map(Some);
    }
    let result_path = run_dir(plan, model, &row.setting, seed).join("result.json");
    if !result_path.exists() {
        return Ok(None);
    }
    let result = read_result(&result_path, &protocol, plan.reference)?;
    if let Some(path) = committed.as_ref().filter(|_| commit) {
        save_result(path, &result)?;
    }
    Ok(Some(result))
}

/// The finished runs of a campaign's rows, read from the committed results and run directories.
#[derive(Debug, Default)]
pub struct Finished {
    /// For each row, the results of the seeds whose two runs have both finished: baselines and
    /// transferred models, in seed order. These make the tables.
    pub pairs: Vec<(Vec<RunResult>, Vec<RunResult>)>,
    /// The finished runs whose seed's other run has not finished, each with its row's index:
    /// measured but in no table yet, so the report lists them apart.
    pub waiting: Vec<(usize, RunResult)>,
}

impl Finished {
    /// The training and scoring wall time of every distinct run, in seconds (runs shared between
    /// rows count once).
    pub fn wall_s(&self) -> f64 {
        let mut seen = std::collections::BTreeSet::new();
        self.pairs
            .iter()
            .flat_map(|(b, t)| b.iter().chain(t))
            .chain(self.waiting.iter().map(|(_, r)| r))
            .filter(|r| seen.insert((r.model.clone(), r.setting.clone(), r.seed)))
            .map(|r| r.train_wall_s + r.eval_wall_s)
            .sum()
    }

    /// Seed pairs finished and planned (rows x seeds): a report is complete when they are equal.
    pub fn completeness(&self, rows: &[Row], seeds: u64) -> (usize, usize) {
        (self.pairs.iter().map(|(b, _)| b.len()).sum(), rows.len() * seeds as usize)
    }
}

/// Every row's finished runs, training and writing nothing: what a report of a campaign under
/// way shows (its runs commit their own results).
pub fn collect(plan: &Plan, rows: &[Row]) -> Result<Finished> {
    check_sets(plan, rows)?;
    let mut out = Finished::default();
    for (i, row) in rows.iter().enumerate() {
        let mut pair = (Vec::new(), Vec::new());
        for seed in 0..plan.seeds {
            match (finished(plan, row, row.base, seed, false)?, finished(plan, row, row.transferred, seed, false)?) {
                (Some(b), Some(t)) => {
                    pair.0.push(b);
                    pair.1.push(t);
                }
                (Some(r), None) | (None, Some(r)) => out.waiting.push((i, r)),
                (None, None) => {}
            }
        }
        out.pairs.push(pair);
    }
    Ok(out)
}

/// Trains (or resumes, or skips) one run and scores it.
fn run_one(plan: &Plan, row: &Row, model: ModelKind, seed: u64, device: &Device) -> Result<RunResult> {
    if let Some(result) = finished(plan, row, model, seed, true)? {
        return Ok(result);
    }
    let dir = run_dir(plan, model, &row.setting, seed);
    let spec = run_spec(plan, model, &row.sets, seed)?;
    let protocol = protocol_of(plan.budget, &spec);
    let committed = plan.results.as_ref().map(|r| committed_path(r, plan, model, &row.setting, seed));
    let result_path = dir.join("result.json");
    (plan.log)(&format!("training {} ({}, seed {seed}, {} steps) in {}", model.name(), row.setting, spec.config.max_steps, dir.display()));
    let resume = dir.join(train::CHECKPOINT_FILE).exists();
    let opts = TrainOptions { resume, interrupt: plan.interrupt.clone(), ..Default::default() };
    let outcome = train::train(&spec, &dir, &device.clone().autodiff(), &opts)?;
    let started = Instant::now();
    // With model selection, the best-validation state is the one scored.
    let file = if dir.join(crate::run::BEST_FILE).is_file() { crate::run::BEST_FILE } else { train::CHECKPOINT_FILE };
    let (_, trained, meta) = train::load_trained_from(&dir, file, device)?;
    let mut scores = BTreeMap::new();
    let mut fingerprint = None;
    // The paper's tables hold VAE-family rows (scored by their bounds) and GAN rows (by images).
    match trained.vae() {
        Some(m) => {
            let test = train::test_set(&spec)?;
            let elbo = likelihood::estimate(m, &test, 1, EVAL_SEED, device, |_| {})?;
            scores.extend([("test_elbo".into(), elbo.elbo), ("test_elbo_se".into(), elbo.elbo_se)]);
            if let Some(k) = plan.budget.test_k() {
                let first = plan.budget.test_k_digits().map(|n| test.head(n));
                let l_k = likelihood::estimate(m, first.as_ref().unwrap_or(&test), k, EVAL_SEED, device, |_| {})?;
                scores.extend([("test_iwae".into(), l_k.iwae), ("test_iwae_se".into(), l_k.iwae_se)]);
            }
            if m.has_classifier() {
                scores.insert("test_accuracy".into(), likelihood::accuracy(m, &test, device));
            }
        }
        None => {
            let reference = plan.reference.ok_or_else(|| Error::NotFound("the GAN rows need the reference classifier".into()))?;
            let real = data::load(&spec.data, Split::Test, 0, 0)?;
            let n = images::SAMPLES;
            let fake = train::eval_samples(&spec, &trained, n, device);
            let labels = balanced_labels(n, trained.classes());
            let s = images::score(reference, &real.x, &fake, (!labels.is_empty()).then_some(&labels[..]), device);
            scores.extend(
                [
                    ("inception_score", s.inception_score),
                    ("frechet_distance", s.frechet_distance),
                    ("precision", s.precision),
                    ("recall", s.recall),
                    ("class_entropy", s.classes.class_entropy),
                    ("conditional_entropy", s.classes.conditional_entropy),
                ]
                .map(|(k, v)| (k.to_string(), v)),
            );
            if let Some(a) = s.conditional_accuracy {
                scores.insert("conditional_accuracy".into(), a);
            }
            fingerprint = Some(reference.fingerprint.clone());
        }
    }
    // From the file, not this call: a run resumed after it finished (killed while scoring)
    // writes no line of its own.
    let epochs = crate::runs::read_metrics(&dir.join(train::METRICS_FILE))?;
    let last = epochs.last();
    let result = RunResult {
        model: model.name().into(),
        seed,
        setting: row.setting.clone(),
        steps: outcome.steps,
        epochs: last.map_or(0, |m| m.epoch),
        train_wall_s: last.map_or(0.0, |m| m.wall_s),
        eval_wall_s: started.elapsed().as_secs_f64(),
        scores,
        classifier_fingerprint: fingerprint,
        protocol: Some(protocol),
        scored_step: meta.get("step").and_then(|s| s.parse().ok()),
        commit: plan.commit.clone(),
        // Read on the thread that trained: the arithmetic mode is per thread (`fpenv`).
        machine: Some(if crate::fpenv::flushes_subnormals() { format!("{}, subnormals flushed to zero", plan.machine) } else { plan.machine.clone() }),
    };
    save_result(&result_path, &result)?;
    if let Some(path) = &committed {
        save_result(path, &result)?;
    }
    Ok(result)
}

/// Writes a result atomically, its directory made if need be.
fn save_result(path: &Path, result: &RunResult) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    write_atomic(path, serde_json::to_string_pretty(result).expect("result serialises").as_bytes())
}

/// Trains the rows' runs that have not finished, then returns every finished run of the rows
/// (this process's and any other's). Runs shared between rows (the SVAE runs serve Table 2 and
/// Table 3) train once.
///
/// With `plan.jobs` above 1, that many runs train at once, each on its own thread pool of
/// `cores / jobs` threads: a run's numbers do not depend on its thread count (the kernels sum in
/// a fixed order), only its speed. Rows at full data go last, so complete rows land early. The
/// first failure stops the taking of new runs; the runs under way finish and keep their results.
pub fn run(plan: &Plan, rows: &[Row], device: &Device) -> Result<Finished> {
    check_sets(plan, rows)?;
    // One whole reproduction per output directory at a time; runs picked by name (a job array's)
    // share it, each locking its own directory.
    let _lock = if plan.only.is_empty() { Some(DirLock::acquire(&plan.out)?) } else { None };
    let mut queue = queue(plan, rows);
    if !plan.only.is_empty() {
        let name = |q: &Queued| q.0.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(missing) = plan.only.iter().find(|o| !queue.iter().any(|q| name(q) == **o)) {
            let all: Vec<String> = queue.iter().map(name).collect();
            return Err(Error::Invalid(format!("--run {missing}: no run of these rows has this name; the runs: {}", all.join(", "))));
        }
        queue.retain(|q| plan.only.contains(&name(q)));
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    // Each failed run's error, by directory; the lock also keeps report writers one at a time.
    let errors = std::sync::Mutex::new(BTreeMap::<PathBuf, Error>::new());
    let jobs = plan.jobs.clamp(1, queue.len().max(1));
    let threads = (std::thread::available_parallelism().map_or(1, |n| n.get()) / jobs).max(1);
    let worker = || {
        use std::sync::atomic::Ordering::SeqCst;
        while !failed.load(SeqCst) {
            let Some((dir, row, model, seed)) = queue.get(next.fetch_add(1, SeqCst)) else { break };
            let result = if jobs == 1 {
                run_one(plan, row, *model, *seed, device)
            } else {
                match crate::fpenv::pool().num_threads(threads).build() {
                    Ok(pool) => pool.install(|| run_one(plan, row, *model, *seed, device)),
                    Err(e) => Err(Error::Invalid(format!("cannot start a pool of {threads} threads: {e}"))),
                }
            };
            failed.fetch_or(result.is_err(), SeqCst);
            let mut errors = errors.lock().expect("no worker panics holding it");
            match result {
                Err(e) => {
                    errors.insert(dir.clone(), e);
                }
                // The report grows run by run (under the lock: one writer at a time).
                Ok(_) => {
                    if let Some(path) = &plan.report {
                        let written = collect(plan, rows).and_then(|f| save(path, &report(plan, rows, &f)));
                        if let Err(e) = written {
                            (plan.log)(&format!("could not update the report {}: {e}", path.display()));
                        }
                    }
                }
            }
        }
    };
    if jobs == 1 {
        // On the calling thread: the command's, a worker of its pool.
        worker();
    } else {
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(worker);
            }
        });
    }
    let mut errors = errors.into_inner().expect("no worker panicked holding it");
    // The first failure in the campaign's order is the one reported.
    if let Some(e) = queue.iter().find_map(|q| errors.remove(&q.0)) {
        return Err(e);
    }
    // Every row's finished pairs, these runs' and any others' (a campaign spread over processes).
    collect(plan, rows)
}

/// A run to make: its directory, its row, model and seed.
type Queued<'r> = (PathBuf, &'r Row, ModelKind, u64);

/// Every distinct run of `rows` once (runs shared between rows train once), keyed by directory,
/// in the campaign's order: rows at full data last, so complete rows land early.
fn queue<'r>(plan: &Plan, rows: &'r [Row]) -> Vec<Queued<'r>> {
    let mut queue: Vec<Queued> = Vec::new();
    for row in rows {
        for seed in 0..plan.seeds {
            for model in [row.base, row.transferred] {
                let dir = run_dir(plan, model, &row.setting, seed);
                if !queue.iter().any(|q| q.0 == dir) {
                    queue.push((dir, row, model, seed));
                }
            }
        }
    }
    queue.sort_by_key(|q| q.1.sets.iter().any(|s| s == "train_fraction=1"));
    queue
}

/// The names of the campaign's runs not finished yet (committed or in their directory), in its
/// order: what `--plan` turns into one command each, for `--run NAME`.
pub fn run_names(plan: &Plan, rows: &[Row]) -> Result<Vec<String>> {
    check_sets(plan, rows)?;
    let mut names = Vec::new();
    for (dir, row, model, seed) in queue(plan, rows) {
        if finished(plan, row, model, seed, false)?.is_none() {
            names.push(dir.file_name().expect("a run directory name").to_string_lossy().into_owned());
        }
    }
    Ok(names)
}

/// The markdown report: one table per paper table, our mean ± std over seeds beside the paper's
/// numbers, the improvement (transferred - baseline, paired by seed) and whether its sign agrees.
/// A campaign under way reports what it has: each row says how many of its seeds are in, and
/// the runs waiting for their partner are listed after the tables.
pub fn report(plan: &Plan, rows: &[Row], finished: &Finished) -> String {
    let (results, waiting) = (&finished.pairs, &finished.waiting);
    let wall = |r: &RunResult| r.train_wall_s + r.eval_wall_s;
    let wall_s = finished.wall_s();
    let mut md = String::new();
    let _ = writeln!(md, "# Reproduction of Hu et al. (2018), MNIST\n");
    if plan.budget == Budget::Quick {
        let _ = writeln!(
            md,
            "**A smoke test, not a reproduction.** The `quick` budget stops every run after a fixed, small number of \
             steps, far from convergence, so these numbers can neither support nor refute the paper's; \
             `--budget converge` trains to the best validation ELBO.\n"
        );
    }
    let (pairs, wanted) = finished.completeness(rows, plan.seeds);
    if pairs < wanted {
        let _ = writeln!(md, "**Partial: {pairs} of {wanted} seed pairs finished.** Rows with fewer seeds than planned are partial.\n");
    }
    let _ = writeln!(
        md,
        "Written by `{}` on {} ({}); the runs' training and scoring took {:.0} min of wall time in all.\n",
        plan.command,
        today(),
        plan.machine,
        wall_s / 60.0
    );
    let lk = match (plan.budget.test_k(), plan.budget.test_k_digits()) {
        (Some(k), Some(n)) => format!(" `L_{k}`: the importance-weighted bound with {k} samples on the first {n} test digits."),
        (Some(k), None) => format!(" `L_{k}`: the importance-weighted bound with {k} samples on all test digits."),
        _ => String::new(),
    };
    let _ = writeln!(
        md,
        "Budget `{}`; seeds 0 to {}; each improvement is transferred minus baseline, paired by seed, mean ± sample \
         std, with a 95% Student-t interval. Test ELBO: closed-form KL, one sample, all the test digits (10,000 on MNIST) binarised \
         once (seed fixed).{lk} SVAE bounds marginalise the label; CVAE bounds are on log p(x|c) with the true label. \
         Steps: the mean over the row's runs of the steps trained and, in brackets, of the step of the state scored \
         (the best validation score's, with model selection). Minutes: training and scoring wall time per run.\n",
        plan.budget.name(),
        plan.seeds - 1
    );
    if !plan.sets.is_empty() {
        let _ = writeln!(md, "Settings beyond the budget's, each applied to the models that read it: `{}`.\n", plan.sets.join("`, `"));
    }
    if let Some(r) = plan.reference {
        let _ = writeln!(md, "Reference classifier fingerprint (inception score, conditional accuracy): `{}`\n", r.fingerprint);
    }
    let mut current = "";
    let (mut agree, mut reported) = (0, 0);
    let with_lk = |row: &Row| row.metric == Metric::TestElbo && plan.budget.test_k().is_some();
    for (row, (base, tr)) in rows.iter().zip(results) {
        if row.table != current {
            current = row.table;
            let extra = if with_lk(row) { " L_k: ours / Δ (paired) |" } else { "" };
            let _ = writeln!(md, "\n## {current}: {}\n", row.metric.key());
            let _ = writeln!(md, "| models | setting | paper | paper Δ | ours (mean ± std) | ours Δ (paired: mean ± std [95% t interval]) | seeds with Δ > 0 | sign agrees |{extra} steps (state scored) | min / run |");
            let _ = writeln!(md, "|---|---|---|---|---|---|---|---|{}---|---|", if extra.is_empty() { "" } else { "---|" });
        }
        let models = format!("{} / {}", row.base.name().to_uppercase(), row.transferred.name().to_uppercase());
        let paper_delta = row.paper.1 - row.paper.0;
        let digits = if row.metric == Metric::TestElbo { 2 } else { 4 };
        let paper = format!("{:.d$} / {:.d$} | {paper_delta:+.d$}", row.paper.0, row.paper.1, d = digits);
        if base.is_empty() {
            let cells = if with_lk(row) { 6 } else { 5 };
            let _ = writeln!(md, "| {models} | {} | {paper} | pending (0 of {} seeds) |{}", row.setting, plan.seeds, " |".repeat(cells));
            continue;
        }
        let ((bm, bs), (tm, ts), deltas) = paired(base, tr, row.metric.key());
        let (dm, ds) = mean_std(&deltas);
        let pm = |m: f64, s: f64, signed: bool, d: usize| mean_std_cell(m, s, deltas.len(), signed, d);
        let same_sign = dm.signum() == paper_delta.signum();
        reported += 1;
        agree += same_sign as usize;
        let interval = crate::eval::t_interval95(&deltas).map_or(String::new(), |(_, lo, hi)| format!(" [{lo:+.digits$}, {hi:+.digits$}]"));
        let lk = if with_lk(row) {
            let ((lb, _), (lt, _), d) = paired(base, tr, "test_iwae");
            let (dm, ds) = mean_std(&d);
            format!(" {lb:.2} / {lt:.2}; {} |", pm(dm, ds, true, 2))
        } else {
            String::new()
        };
        let mean = |rs: &[RunResult], f: &dyn Fn(&RunResult) -> f64| rs.iter().map(f).sum::<f64>() / rs.len() as f64;
        let steps = |rs: &[RunResult]| {
            let (trained, scored) = (mean(rs, &|r| r.steps as f64), mean(rs, &|r| r.scored_step.unwrap_or(r.steps) as f64));
            if trained == scored { format!("{trained:.0}") } else { format!("{trained:.0} ({scored:.0})") }
        };
        let minutes = (mean(base, &wall) + mean(tr, &wall)) / 2.0 / 60.0;
        let _ = writeln!(
            md,
            "| {models} | {}{} | {paper} | {} / {} | {}{interval} | {}/{} | {} |{lk} {} / {} | {minutes:.1} |",
            row.setting,
            if base.len() < plan.seeds as usize { format!(" ({} of {} seeds)", base.len(), plan.seeds) } else { String::new() },
            pm(bm, bs, false, digits),
            pm(tm, ts, false, digits),
            pm(dm, ds, true, digits),
            deltas.iter().filter(|d| **d > 0.0).count(),
            deltas.len(),
            if same_sign { "yes" } else { "**no**" },
            steps(base),
            steps(tr),
        );
    }
    let _ = writeln!(md, "\nThe improvement's sign agrees with the paper in {agree} of the {reported} rows with results ({} rows planned).", rows.len());
    md.push_str(&other_scores(rows, results));
    // Runs that model selection did not stop: the step cap did, so their best state may still
    // have been improving. (GAN rows train a fixed number of steps by design.)
    let capped: std::collections::BTreeSet<String> = results
        .iter()
        .flat_map(|(b, t)| b.iter().chain(t))
        .filter(|r| {
            let model = ModelKind::all().iter().copied().find(|m| m.name() == r.model);
            plan.budget == Budget::Converge && model.is_some_and(|m| m.family() != Family::Gan && r.steps >= plan.budget.steps(m))
        })
        .map(|r| format!("{} ({}, seed {}: best state at step {})", r.model, r.setting, r.seed, r.scored_step.unwrap_or(r.steps)))
        .collect();
    if !capped.is_empty() {
        let _ = writeln!(
            md,
            "\n{} run(s) reached the step cap before patience stopped them, so their best state may still have been improving: {}.",
            capped.len(),
            capped.into_iter().collect::<Vec<_>>().join("; ")
        );
    }
    if !waiting.is_empty() {
        let _ = writeln!(md, "\nFinished, waiting for the other run of their seed (so in no row above yet):\n");
        for (i, r) in waiting {
            let score = |key: &str| r.scores.get(key).map_or("-".to_string(), |v| format!("{v:.4}"));
            let key = rows[*i].metric.key();
            let lk = r.scores.get("test_iwae").map_or(String::new(), |v| format!(", test_iwae {v:.2}"));
            let scored = r.scored_step.map_or(String::new(), |s| format!(" (state of step {s})"));
            let _ = writeln!(md, "- {} ({}, seed {}): {key} {}{lk}; {} steps{scored}, {:.1} min", r.model, r.setting, r.seed, score(key), r.steps, wall(r) / 60.0);
        }
    }
    md
}

/// `mean ± std` over `n` seeds with `d` decimals (`signed`: a leading `+` on positive means). A
/// spread over one seed would read as exactly 0: below two seeds only the mean is shown.
fn mean_std_cell(m: f64, s: f64, n: usize, signed: bool, d: usize) -> String {
    let mean = if signed { format!("{m:+.d$}") } else { format!("{m:.d$}") };
    if n > 1 { format!("{mean} ± {s:.d$}") } else { mean }
}

/// A row's score `key` paired by seed: the baseline's and the transferred model's (mean, std), and
/// each seed's difference, transferred minus baseline. NaN where a run lacks the score.
fn paired(base: &[RunResult], tr: &[RunResult], key: &str) -> ((f64, f64), (f64, f64), Vec<f64>) {
    let vals = |rs: &[RunResult]| rs.iter().map(|r| r.scores.get(key).copied().unwrap_or(f64::NAN)).collect::<Vec<_>>();
    let (b, t) = (vals(base), vals(tr));
    let deltas = b.iter().zip(&t).map(|(b, t)| t - b).collect();
    (mean_std(&b), mean_std(&t), deltas)
}

/// The GAN rows' scores besides the row's own, paired by seed as the rows are: what the paper
/// does not report but a reader weighing its claim needs (sample quality, coverage, and which part
/// of the inception score moved). Empty when no row has them.
fn other_scores(rows: &[Row], results: &[(Vec<RunResult>, Vec<RunResult>)]) -> String {
    const OTHER: [(&str, &str); 5] = [
        ("frechet_distance", "Fréchet distance (lower is closer to real digits)"),
        ("precision", "precision (share of samples among real digits' neighbours)"),
        ("recall", "recall (share of real digits among the samples' neighbours)"),
        ("class_entropy", "H(y), nats: the classes' spread (2.303 when all ten are even)"),
        ("conditional_entropy", "E H(y|x), nats: the classifier's doubt about a sample"),
    ];
    let mut md = String::new();
    for (row, (base, tr)) in rows.iter().zip(results) {
        for (key, what) in OTHER {
            let ((bm, bs), (tm, ts), deltas) = paired(base, tr, key);
            if deltas.is_empty() || deltas.iter().any(|d| d.is_nan()) {
                continue;
            }
            if md.is_empty() {
                md.push_str("\n## Other scores of the GAN rows, paired the same way\n\n");
                md.push_str("| models | setting | score | ours (mean ± std) | ours Δ (paired: mean ± std [95% t interval]) | seeds with Δ > 0 |\n|---|---|---|---|---|---|\n");
            }
            let (dm, ds) = mean_std(&deltas);
            let interval = crate::eval::t_interval95(&deltas).map_or(String::new(), |(_, lo, hi)| format!(" [{lo:+.4}, {hi:+.4}]"));
            let pm = |m: f64, s: f64, signed: bool| mean_std_cell(m, s, deltas.len(), signed, 4);
            let _ = writeln!(
                md,
                "| {} / {} | {} | {what} | {} / {} | {}{interval} | {}/{} |",
                row.base.name().to_uppercase(),
                row.transferred.name().to_uppercase(),
                row.setting,
                pm(bm, bs, false),
                pm(tm, ts, false),
                pm(dm, ds, true),
                deltas.iter().filter(|d| **d > 0.0).count(),
                deltas.len(),
            );
        }
    }
    md
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Writes `text` to `path` atomically, creating its directory.
pub fn save(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finished run with these scores: 3,000 steps, its best state at step 1,250, a minute of
    /// training and one of scoring.
    fn finished(model: ModelKind, seed: u64, setting: &str, scores: &[(&str, f64)]) -> RunResult {
        RunResult {
            model: model.name().into(),
            seed,
            setting: setting.into(),
            steps: 3000,
            epochs: 600,
            train_wall_s: 60.0,
            eval_wall_s: 60.0,
            scores: scores.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
            classifier_fingerprint: None,
            protocol: None,
            scored_step: Some(1250),
            commit: None,
            machine: None,
        }
    }

    /// Inside a git checkout the binary names a commit of it: 12 hex digits that git knows.
    #[test]
    fn results_name_the_commit_the_binary_was_built_from() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let git = |args: &[&str]| std::process::Command::new("git").current_dir(dir).args(args).output().ok().filter(|o| o.status.success());
        if git(&["rev-parse", "HEAD"]).is_none() {
            return; // a source tree without git: nothing to name
        }
        let commit = commit().expect("built inside a git checkout");
        let hash = commit.trim_end_matches("+dirty");
        assert!(hash.len() == 12 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{commit}");
        assert!(git(&["cat-file", "-e", &format!("{hash}^{{commit}}")]).is_some(), "{commit} is not a commit of this checkout");
    }

    #[test]
    fn every_row_of_the_paper_is_there_once() {
        let all = rows(Table::All);
        assert_eq!(all.len(), 4 + 8);
        assert_eq!(rows(Table::Table2).len() + rows(Table::Table3).len(), all.len());
        // Every improvement in the paper is positive (higher is better for all four metrics).
        assert!(all.iter().all(|r| r.paper.1 > r.paper.0));
        assert!(all.iter().all(|r| r.transferred.baseline() == Some(r.base)));
        }

    #[test]
    fn rows_are_picked_by_model_and_the_start_of_the_setting() {
        let picked = select(rows(Table::Table3), &["aavae@1%".into(), "aavae@10%".into()]).unwrap();
        let names: Vec<String> = picked.iter().map(|r| format!("{} {}", r.transferred.name(), r.setting)).collect();
        assert_eq!(names, ["aavae 1% data", "aavae 10% data"]);
        assert_eq!(select(rows(Table::Table3), &["aasvae".into()]).unwrap().len(), 2);
        assert_eq!(select(rows(Table::Table3), &[]).unwrap().len(), 8);
        let e = select(rows(Table::Table3), &["aavae@2%".into()]).unwrap_err().to_string();
        assert!(e.contains("--row aavae@2%") && e.contains("aavae@10%-data"), "{e}");
    }

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
        assert_eq!(mean_std(&[4.0]), (4.0, 0.0));
    }

    #[test]
    fn the_date_is_a_civil_date() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"), "{d}");
    }


    /// A plan over a directory with no MNIST: any run it tried to train would fail.
    fn plan<'a>(results: &Path, log: &'a (dyn Fn(&str) + Sync)) -> Plan<'a> {
        Plan {
            mnist: "/nonexistent-unigen-mnist".into(),
            out: results.join("runs"),
            seeds: 1,
            budget: Budget::Converge,
            reference: None,
            log,
            interrupt: Interrupt::new(),
            results: Some(results.to_path_buf()),
            machine: "test".into(),
            jobs: 1,
            commit: None,
            command: "unigen reproduce".into(),
            report: None,
            sets: vec![],
            only: vec![],
        }
    }

    #[test]
    fn a_committed_result_is_reused_and_one_of_another_protocol_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let log = |_: &str| {};
        let plan = plan(dir.path(), &log);
        let row = &rows(Table::Table3)[0];
        let spec = run_spec(&plan, row.base, &row.sets, 0).unwrap();
        let protocol = protocol_of(plan.budget, &spec);
        // The converge protocol: model selection on 10,000 held-out digits, scored with L_1000.
        assert_eq!(protocol.settings["validation"], "10000");
        assert_eq!(protocol.settings["train_fraction"], "0.01");
        assert_eq!((protocol.test_k, protocol.test_k_digits), (Some(1000), Some(1000)));
        // The VAE and CVAE rows with the convolutional networks, the SVAE rows with the MLP.
        assert!(protocol.settings["network"].contains("dcgan"), "{protocol:?}");
        let svae = rows(Table::Table3).into_iter().find(|r| r.base.semi_supervised()).unwrap();
        let svae = protocol_of(plan.budget, &run_spec(&plan, svae.base, &svae.sets, 0).unwrap());
        assert!(!svae.settings.contains_key("network"), "{svae:?}");
        // Table 2's GANs: the DCGAN pair from DCGAN's initial weights.
        let gan = rows(Table::Table2).into_iter().find(|r| r.base.family() == Family::Gan).unwrap();
        let gan = protocol_of(plan.budget, &run_spec(&plan, gan.base, &gan.sets, 0).unwrap());
        assert_eq!((gan.settings["network"].as_str(), gan.settings["init"].as_str()), ("\"dcgan\"", "\"dcgan\""), "{gan:?}");
        let result = RunResult {
            steps: 1234,
            protocol: Some(protocol.clone()),
            scored_step: Some(1000),
            ..finished(row.base, 0, &row.setting, &[("test_elbo", -100.0)])
        };
        let path = committed_path(dir.path(), &plan, row.base, &row.setting, 0);
        assert!(path.starts_with(dir.path().join("converge")), "{}", path.display());
        save_result(&path, &result).unwrap();
        // Reused as it is: no training (there is no MNIST here to train on).
        let back = run_one(&plan, row, row.base, 0, &crate::testing::device()).unwrap();
        assert_eq!((back.steps, back.scores["test_elbo"]), (1234, -100.0));
        // Made under another protocol: refused, naming the file.
        let mut other = result.clone();
        other.protocol.as_mut().unwrap().settings.insert("patience".into(), "3".into());
        save_result(&path, &other).unwrap();
        let e = run_one(&plan, row, row.base, 0, &crate::testing::device()).unwrap_err().to_string();
        assert!(e.contains("another protocol") && e.contains(&path.display().to_string()), "{e}");
        // A result from before protocols were recorded is refused too.
        let mut old = result;
        old.protocol = None;
        save_result(&path, &old).unwrap();
        assert!(run_one(&plan, row, row.base, 0, &crate::testing::device()).unwrap_err().to_string().contains("none recorded"));
    }

    /// The conv AA models' default `norm_stats` changed from `all` to `real`: a run under the new
    /// default names it in its protocol (so a result made before does not pass for one), one
    /// with `--set norm_stats=all` does not (so the results made before are its results).
    #[test]
    fn a_protocol_keeps_its_meaning_when_a_default_changes() {
        let dir = tempfile::tempdir().unwrap();
        let log = |_: &str| {};
        let protocol = |sets: &[&str], aa: bool| {
            let plan = Plan { sets: sets.iter().map(|s| s.to_string()).collect(), ..plan(dir.path(), &log) };
            let row = &rows(Table::Table3)[0];
            let model = if aa { row.transferred } else { row.base };
            (protocol_of(plan.budget, &run_spec(&plan, model, &row.sets, 0).unwrap()), run_dir(&plan, model, &row.setting, 0))
        };
        let (aa, aa_dir) = protocol(&[], true);
        assert_eq!(aa.settings.get("norm_stats").map(String::as_str), Some("\"real\""), "{aa:?}");
        assert!(aa_dir.ends_with("aavae-1-data-s0"), "{}", aa_dir.display());
        let (before, before_dir) = protocol(&["norm_stats=all"], true);
        assert!(!before.settings.contains_key("norm_stats"), "{before:?}");
        assert!(before_dir.ends_with("aavae+norm_stats=all-1-data-s0"), "{}", before_dir.display());
        // Models that do not read it, and nets without batch norm, never name it.
        assert!(!protocol(&[], false).0.settings.contains_key("norm_stats"));
        assert!(!protocol(&["network=mlp"], true).0.settings.contains_key("norm_stats"));
    }

    #[test]
    fn a_quick_report_says_it_is_not_a_reproduction() {
        let dir = tempfile::tempdir().unwrap();
        let log = |_: &str| {};
        let mut p = plan(dir.path(), &log);
        let quick = |p: &Plan| report(p, &[], &Finished::default());
        assert!(!quick(&p).contains("not a reproduction"));
        p.budget = Budget::Quick;
        assert!(quick(&p).contains("A smoke test, not a reproduction"));
    }

    #[test]
    fn the_report_gives_each_paired_difference_its_t_interval_and_the_state_scored() {
        let dir = tempfile::tempdir().unwrap();
        let log = |_: &str| {};
        let mut p = plan(dir.path(), &log);
        p.seeds = 5;
        let row = rows(Table::Table3)[0].clone();
        let result = |model: ModelKind, seed: u64, elbo: f64| finished(model, seed, &row.setting, &[("test_elbo", elbo), ("test_iwae", elbo + 10.0)]);
        // Paired differences 1, 2, 3, 4, 5: mean 3, 95% t interval 3 ± 1.96.
        let base: Vec<RunResult> = (0..5).map(|s| result(row.base, s, -130.0)).collect();
        let tr: Vec<RunResult> = (0..5).map(|s| result(row.transferred, s, -130.0 + (s + 1) as f64)).collect();
        let pairs = |pairs: Vec<(Vec<RunResult>, Vec<RunResult>)>| Finished { pairs, waiting: vec![] };
        let md = report(&p, std::slice::from_ref(&row), &pairs(vec![(base.clone(), tr.clone())]));
        assert!(md.contains("+3.00 ± 1.58 [+1.04, +4.96]"), "{md}");
        assert!(md.contains("| 5/5 |") && md.contains("3000 (1250) / 3000 (1250)"), "{md}");
        // The L_1000 column: means and the paired difference.
        assert!(md.contains("| -120.00 / -117.00; +3.00 ± 1.58 |"), "{md}");
        assert!(!md.contains("Partial:"), "{md}");
        assert!(!md.contains("reached the step cap"), "{md}");
        // A run that trained to the cap: named, with the step of its best state.
        let mut capped = tr.clone();
        capped[2].steps = Budget::Converge.steps(row.transferred);
        capped[2].scored_step = Some(11_500);
        let md = report(&p, std::slice::from_ref(&row), &pairs(vec![(base.clone(), capped)]));
        assert!(md.contains("1 run(s) reached the step cap") && md.contains("aavae (1% data, seed 2: best state at step 11500)"), "{md}");

        // A campaign under way: two seeds of the first row, none of the second.
        let second = rows(Table::Table3)[1].clone();
        let partial = Finished { pairs: vec![(base[..2].to_vec(), tr[..2].to_vec()), (vec![], vec![])], waiting: vec![(0, base[2].clone())] };
        let md = report(&p, &[row, second], &partial);
        assert!(md.contains("Partial: 2 of 10 seed pairs finished"), "{md}");
        // Seed 2's baseline finished alone: listed, with its score, and its time counted.
        assert!(md.contains("- vae (1% data, seed 2): test_elbo -130.0000, test_iwae -120.00; 3000 steps (state of step 1250), 2.0 min"), "{md}");
        // Four paired runs and the waiting one, 2 minutes each.
        assert!(md.contains("took 10 min of wall time"), "{md}");
        assert!(md.contains("1% data (2 of 5 seeds)") && md.contains("| 2/2 |"), "{md}");
        assert!(md.contains("| 10% data | -104.49 / -103.05 | +1.44 | pending (0 of 5 seeds) |"), "{md}");
        assert!(md.contains("in 1 of the 1 rows with results (2 rows planned)"), "{md}");
        // One seed: means alone, no spread of 0.
        let md = report(&p, &[rows(Table::Table3)[0].clone()], &pairs(vec![(base[..1].to_vec(), tr[..1].to_vec())]));
        assert!(md.contains("| -130.00 / -129.00 | +1.00 | 1/1 |") && md.contains("; +1.00 |"), "{md}");
        // Every line of the table has the header's number of cells.
        let cells = |l: &str| l.matches('|').count();
        let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
        assert!(table.iter().all(|l| cells(l) == cells(table[0])), "{md}");
    }

    /// The GAN rows' other scores get their own paired table; rows without them add nothing.
    #[test]
    fn the_gan_rows_other_scores_are_paired_too() {
        let row = rows(Table::Table2)[0].clone();
        let result = |model: ModelKind, seed: u64, fd: f64| finished(model, seed, &row.setting, &[("inception_score", 7.5), ("frechet_distance", fd), ("recall", 0.8)]);
        // Fréchet distances 60 against 61, 62, 63: differences 1, 2, 3.
        let base: Vec<RunResult> = (0..3).map(|s| result(row.base, s, 60.0)).collect();
        let tr: Vec<RunResult> = (0..3).map(|s| result(row.transferred, s, 61.0 + s as f64)).collect();
        let md = other_scores(std::slice::from_ref(&row), &[(base.clone(), tr)]);
        assert!(md.contains("| GAN / IWGAN | MNIST | Fréchet distance") && md.contains("| 60.0000 ± 0.0000 / 62.0000 ± 1.0000 | +2.0000 ± 1.0000 [-0.4843, +4.4843] | 3/3 |"), "{md}");
        assert!(md.contains("| recall") && md.contains("+0.0000 ± 0.0000"), "{md}");
        assert!(!md.contains("precision"), "a score no run has is left out: {md}");
        let elbo_only = BTreeMap::from([("test_elbo".to_string(), -100.0)]);
        let plain: Vec<RunResult> = base.into_iter().map(|r| RunResult { scores: elbo_only.clone(), ..r }).collect();
        assert_eq!(other_scores(&[row], &[(plain.clone(), plain)]), "");
    }

    /// With one seed in a row, its other scores show the means alone: a sample spread of one value
    /// would print as an exact 0.
    #[test]
    fn one_seeds_other_scores_show_no_spread() {
        let row = rows(Table::Table2)[0].clone();
        let result = |model: ModelKind, fd: f64| finished(model, 0, &row.setting, &[("inception_score", 7.5), ("frechet_distance", fd)]);
        let md = other_scores(std::slice::from_ref(&row), &[(vec![result(row.base, 58.0)], vec![result(row.transferred, 73.0)])]);
        assert!(md.contains("| 58.0000 / 73.0000 | +15.0000 | 1/1 |"), "{md}");
        assert!(md.lines().filter(|l| l.starts_with("| GAN")).all(|l| !l.contains('±')), "{md}");
    }
}
