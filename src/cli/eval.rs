//! `unigen eval`.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;

use unigen::backend::Backend;
use unigen::config::Likelihood;
use unigen::data::TEST_BINARIZE_SEED;
use unigen::eval::likelihood::estimate;
use unigen::train::{EVAL_SEED, checkpoint::write_atomic, load_model, test_set};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory written by `unigen train`.
    pub run_dir: PathBuf,
    /// Importance samples per test example for L_k. 5000 is the standard log-likelihood estimate;
    /// on 2 CPU cores it takes about 35 minutes for the 10,000 MNIST test digits and the default
    /// 784-500-500-50 VAE, so use --k 100 or --n-test for quick looks.
    #[arg(long, default_value_t = 5000)]
    pub k: usize,
    /// Score only the first N test examples (default: all).
    #[arg(long, value_name = "N")]
    pub n_test: Option<usize>,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    anyhow::ensure!(a.k > 0, "--k must be at least 1");
    let device = backend.device()?;
    let (spec, model, meta) = load_model(&a.run_dir, &device).with_context(|| format!("loading {}", a.run_dir.display()))?;
    let test = test_set(&spec)?;
    let test = test.head(a.n_test.unwrap_or(test.len()));
    let bar = if a.json { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(test.len() as u64) };
    let started = std::time::Instant::now();
    let est = estimate(&model, &test, a.k, EVAL_SEED, &device, |done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let binarization = match spec.config.likelihood {
        Likelihood::Bernoulli => format!("fixed stochastic binarisation of the test set, seed {TEST_BINARIZE_SEED}"),
        Likelihood::Gaussian => "none (continuous data)".to_string(),
    };
    let result = json!({
        "model": spec.model.name(),
        "data": spec.data.label(),
        "test_elbo": est.elbo,
        "test_elbo_se": est.elbo_se,
        "test_iwae": est.iwae,
        "test_iwae_se": est.iwae_se,
        "iwae_k": est.k,
        "n_test": est.n,
        "step": meta.get("step").and_then(|s| s.parse::<u64>().ok()),
        "protocol": {
            "binarization": binarization,
            "k": est.k,
            "noise_seed": EVAL_SEED,
            "n_test": est.n,
            "elbo": "closed-form KL, reconstruction averaged over the k samples",
        },
        "eval_wall_s": started.elapsed().as_secs_f64(),
    });
    let text = serde_json::to_string_pretty(&result)?;
    write_atomic(&a.run_dir.join("eval.json"), text.as_bytes())?;
    if a.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        println!("{} on {} ({} test examples, {binarization})", spec.model.name(), spec.data.label(), est.n);
        println!("  test ELBO         {:>10.3} ± {:.3} nats", est.elbo, est.elbo_se);
        println!("  test L_k, k={:<5} {:>10.3} ± {:.3} nats", est.k, est.iwae, est.iwae_se);
    }
    Ok(())
}
