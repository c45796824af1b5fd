//! How much of a VAE's or AA-VAE's score lies in batch norm's running statistics: the validation
//! and test ELBO of a run's best state as saved, and again after its running statistics are
//! re-estimated with the weights held fixed (issue 22's batch-norm check, docs/reproduction/README.md).
//!
//! `cargo run --release --example recalibrate_norm -- RUN_DIR [real|mixed] [BATCHES]`
//!
//! `real`: BATCHES (default 300) batches of 100 training digits of the run's subset pass through
//! encoder and decoder in training mode, so the running statistics follow real digits alone
//! (momentum 0.1: the last few dozen batches carry them). `mixed`: each real batch is followed by
//! the passes an adversary-activated step adds (the decoder draws B = 100 digits, which then pass
//! through encoder and decoder), so they follow what an AA run's statistics follow.
use std::path::PathBuf;

use anyhow::Context;
use burn::module::Module;
use rand::Rng;
use unigen::backend::Backend;
use unigen::data::Dataset;
use unigen::eval::likelihood::estimate;
use unigen::host::{normals, tensor};
use unigen::models::Vae;
use unigen::rng::{Purpose, stream};
use unigen::train::{EVAL_SEED, RunSpec, test_set, training_data};

const B: usize = 100;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().context("usage: recalibrate_norm RUN_DIR [real|mixed] [BATCHES]")?);
    let mixed = match args.next().as_deref() {
        None | Some("real") => false,
        Some("mixed") => true,
        Some(other) => anyhow::bail!("the mode is `real` or `mixed`, not `{other}`"),
    };
    let batches: usize = args.next().map_or(Ok(300), |b| b.parse()).context("BATCHES is a whole number")?;

    let spec = RunSpec::read(&dir)?;
    let loaded = unigen::run::checkpoint::read(&dir.join(unigen::run::BEST_FILE))?;
    let device = Backend::Flex.device()?;
    let train_device = device.clone().autodiff();
    let mut model = unigen::models::vae::step::init(&spec, &train_device);
    loaded.apply("model", &mut model)?;
    anyhow::ensure!(model.classes() == 0, "{}: an unconditional model (vae, aavae) only", dir.display());
    let validation = unigen::run::training_split(&spec)?.1.context("the run has no validation set")?;
    let test = test_set(&spec)?;
    let elbo = |m: &Vae, data: &Dataset| -> anyhow::Result<f64> { Ok(estimate(m, data, 1, EVAL_SEED, &device, |_| {})?.elbo) };
    let scores = |m: &Vae| -> anyhow::Result<[f64; 2]> {
        let m = m.valid();
        Ok([elbo(&m, &validation)?, elbo(&m, &test)?])
    };

    let before = scores(&model)?;
    let (train, _) = training_data(&spec)?;
    let rng = &mut stream(1, Purpose::Sample, 0);
    let d = model.latent_dim();
    // Without gradients (no graph is kept, and the passes take no memory beyond their own), still
    // in training mode on the autodiff device; the clone shares the model's running statistics.
    let forward = model.clone().no_grad();
    for _ in 0..batches {
        let idx: Vec<usize> = (0..B).map(|_| rng.random_range(0..train.len())).collect();
        let x = tensor(unigen::data::binarize(&train.gather(&idx), rng), [B, train.dim], &train_device);
        forward.terms(x, None, tensor(normals(rng, B * d), [B, 1, d], &train_device));
        if mixed {
            let x_f = forward.generate(B, &[], rng, &train_device);
            forward.terms(x_f, None, tensor(normals(rng, B * d), [B, 1, d], &train_device));
        }
    }
    let after = scores(&model)?;

    let recorded = loaded.meta.get("validation_elbo").cloned().unwrap_or_default();
    let step = loaded.meta.get("step").cloned().unwrap_or_default();
    println!("{} ({}, best state at step {step}; validation ELBO recorded in training {recorded})", dir.display(), spec.model.name());
    println!("statistics re-estimated on {batches} batches of {B} ({})", if mixed { format!("real digits, each batch followed by {B} generated") } else { "real training digits".to_string() });
    println!("                     saved    re-estimated   change");
    for (name, b, a) in [("validation ELBO", before[0], after[0]), ("test ELBO (10k)", before[1], after[1])] {
        println!("{name:<16} {b:>10.3} {a:>14.3} {:>+8.3}", a - b);
    }
    Ok(())
}
