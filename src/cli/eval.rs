//! `unigen eval`.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::{Value, json};

use unigen::backend::Backend;
use unigen::config::Likelihood;
use unigen::data::TEST_BINARIZE_SEED;
use unigen::eval::{likelihood::estimate, modes};
use unigen::train::{EVAL_SEED, Trained, checkpoint::write_atomic, coverage_samples, load_trained, test_set};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory written by `unigen train`.
    pub run_dir: PathBuf,
    /// Importance samples per test example for L_k. 5000 is the standard log-likelihood estimate;
    /// on 2 CPU cores it takes about 35 minutes for the 10,000 MNIST test digits and the default
    /// 784-500-500-50 VAE (41 s measured for 200 digits), so use --k 100 or --n-test for quick looks.
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
    let (spec, trained, meta) = load_trained(&a.run_dir, &device).with_context(|| format!("loading {}", a.run_dir.display()))?;
    let started = std::time::Instant::now();
    let mut result = json!({
        "model": spec.model.name(),
        "data": spec.data.label(),
        "step": meta.get("step").and_then(|s| s.parse::<u64>().ok()),
    });
    let mut protocol = serde_json::Map::new();
    let mut lines = vec![format!("{} on {}", spec.model.name(), spec.data.label())];

    // ---- test bounds: models with an encoder ----
    if let Trained::Vae(model) = &trained {
        let test = test_set(&spec)?;
        let test = test.head(a.n_test.unwrap_or(test.len()));
        let bar = if a.json { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(test.len() as u64) };
        let est = estimate(model, &test, a.k, EVAL_SEED, &device, |done| bar.set_position(done as u64))?;
        bar.finish_and_clear();
        let binarization = match spec.config.likelihood {
            Likelihood::Bernoulli => format!("fixed stochastic binarisation of the test set, seed {TEST_BINARIZE_SEED}"),
            Likelihood::Gaussian => "none (continuous data)".to_string(),
        };
        for (k, v) in [
            ("test_elbo", json!(est.elbo)),
            ("test_elbo_se", json!(est.elbo_se)),
            ("test_iwae", json!(est.iwae)),
            ("test_iwae_se", json!(est.iwae_se)),
            ("iwae_k", json!(est.k)),
            ("n_test", json!(est.n)),
        ] {
            result[k] = v;
        }
        protocol.insert("binarization".into(), json!(binarization));
        protocol.insert("k".into(), json!(est.k));
        protocol.insert("noise_seed".into(), json!(EVAL_SEED));
        protocol.insert("n_test".into(), json!(est.n));
        protocol.insert("elbo".into(), json!("closed-form KL, reconstruction averaged over the k samples"));
        lines.push(format!("  {} test examples, {binarization}", est.n));
        lines.push(format!("  test ELBO         {:>10.3} ± {:.3} nats", est.elbo, est.elbo_se));
        lines.push(format!("  test L_k, k={:<5} {:>10.3} ± {:.3} nats", est.k, est.iwae, est.iwae_se));
    }

    // ---- mode coverage: any model on 2-D data ----
    if let Some(toy) = spec.data.toy() {
        let c = modes::coverage(toy, &coverage_samples(&spec, &trained, &device));
        result["modes_captured"] = json!(c.modes_captured);
        result["high_quality"] = json!(c.high_quality);
        result["mode_kl"] = if c.mode_kl.is_finite() { json!(c.mode_kl) } else { Value::Null };
        protocol.insert("coverage_samples".into(), json!(modes::SAMPLES));
        protocol.insert("coverage_seed".into(), json!(EVAL_SEED));
        protocol.insert("high_quality_radius".into(), json!("3 std of the nearest mode"));
        protocol.insert("capture_share".into(), json!(modes::CAPTURE_SHARE));
        lines.push(format!(
            "  modes captured {}/{}, high-quality samples {:.1}%, KL(modes || uniform) {:.3} ({} samples)",
            c.modes_captured,
            c.modes,
            100.0 * c.high_quality,
            c.mode_kl,
            modes::SAMPLES
        ));
    }
    anyhow::ensure!(
        !protocol.is_empty(),
        "no metric is available yet for a {} on images: the classifier-based scores (inception score, \
         Fréchet distance) are not implemented yet; `unigen sample {}` draws its samples",
        spec.model.name(),
        a.run_dir.display()
    );
    result["protocol"] = Value::Object(protocol);
    result["eval_wall_s"] = json!(started.elapsed().as_secs_f64());

    let text = serde_json::to_string_pretty(&result)?;
    write_atomic(&a.run_dir.join("eval.json"), text.as_bytes())?;
    if a.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        println!("{}", lines.join("\n"));
    }
    Ok(())
}
