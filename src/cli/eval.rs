//! `unigen eval`: scores a run directory, or a file/directory of generated images.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

use unigen::atomic::write_atomic;
use unigen::backend::Backend;
use unigen::config::{DataKind, Likelihood};
use unigen::data::{self, DataSource, Split, TEST_BINARIZE_SEED, samples};
use unigen::eval::classifier::{self, Reference};
use unigen::eval::images::{self, ImageScores};
use unigen::eval::inception::SPLITS;
use unigen::eval::precision_recall::K;
use unigen::eval::directions::Protocol;
use unigen::eval::{likelihood::estimate, modes};
use unigen::rng::{Purpose, stream};
use unigen::runs::EVAL_FILE;
use unigen::run::BEST_FILE;
use unigen::train::{EVAL_SEED, RUN_FILE, balanced_labels, coverage_samples, eval_samples, load_trained_from, test_set};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory written by `unigen train`, or generated images: a .npy array
    /// ([n, 28, 28] or [n, 784]; float in [0, 1] or uint8), an IDX image file, or a directory of 28x28 PNGs.
    pub target: PathBuf,
    /// Importance samples per test example for L_k. 5000 is the standard log-likelihood estimate.
    /// Its time is proportional to k times the test examples scored: time `--n-test 100` first and
    /// multiply by 100 for the 10,000 MNIST test digits; use --k 100 or --n-test for quick looks.
    /// A progress bar shows the digits done.
    #[arg(long, default_value_t = 5000)]
    pub k: usize,
    /// Score only the first N test examples (default: all).
    #[arg(long, value_name = "N")]
    pub n_test: Option<usize>,
    /// Samples drawn from a run for the image metrics (default 10,000), or for the modes of
    /// stacked MNIST (default 26,000, VEEGAN's and PacGAN's).
    #[arg(long)]
    pub samples: Option<usize>,
    /// A GAN-family run: keep each sample scored from F candidates of the generator, drawn in
    /// proportion to the discriminator's density ratio D/(1-D), the IWGAN's weight (1: the
    /// generator's own samples). The protocol in eval.json says so.
    #[arg(long, value_name = "F", default_value_t = 1)]
    pub resample: usize,
    /// The reference classifier file (default: $UNIGEN_CLASSIFIER, else the one shipped with unigen).
    #[arg(long, value_name = "FILE")]
    pub classifier: Option<PathBuf>,
    /// Image files only: the class each image was generated for (.npy or IDX labels), for
    /// conditional accuracy.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// A run trained with a validation set: score its last state rather than its best-validation
    /// one (`best.safetensors`, the default where it exists).
    #[arg(long)]
    pub last: bool,
    /// Image files only: the MNIST directory whose test set is the real data (default: where
    /// `--data mnist` looks).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    ensure_arg!(a.k > 0, "--k must be at least 1");
    if let Some(n) = a.samples {
        ensure_arg!(n >= SPLITS.max(K + 1), "--samples must be at least {}", SPLITS.max(K + 1));
    }
    let started = std::time::Instant::now();
    let (mut result, lines, out_file) = if a.target.join(RUN_FILE).exists() {
        let (result, lines) = eval_run(&a, backend)?;
        (result, lines, a.target.join(EVAL_FILE))
    } else {
        if !a.target.exists() {
            let problem = format!("{} does not exist (expected a run directory or a sample file)", a.target.display());
            return Err(std::io::Error::new(std::io::ErrorKind::NotFound, problem).into());
        }
        let (result, lines) = eval_files(&a, backend)?;
        (result, lines, a.target.with_extension(EVAL_FILE))
    };
    result["eval_wall_s"] = json!(started.elapsed().as_secs_f64());
    let text = serde_json::to_string_pretty(&result)?;
    write_atomic(&out_file, text.as_bytes())?;
    super::emit(result, || {
        println!("{}", lines.join("\n"));
        println!("  (saved to {})", out_file.display());
    })
}

fn load_classifier(a: &Args, device: &burn::tensor::Device) -> anyhow::Result<Reference> {
    Ok(classifier::reference(a.classifier.as_deref(), device)?)
}

/// The image scores as JSON keys and printed lines, with their protocol.
fn image_report(s: &ImageScores, reference: &Reference, real: &str, result: &mut Value, protocol: &mut serde_json::Map<String, Value>, lines: &mut Vec<String>) {
    if let Value::Object(m) = serde_json::to_value(s).expect("scores serialise") {
        for (k, v) in m {
            result[k] = v;
        }
    }
    for (k, v) in [
        ("samples", json!(s.n_samples)),
        ("real_data", json!(real)),
        ("inception_splits", json!(SPLITS)),
        ("precision_recall_k", json!(K)),
        ("features", json!(format!("reference classifier, penultimate layer ({} values)", classifier::FEATURES))),
        ("classifier_fingerprint", json!(reference.fingerprint)),
        ("classifier_file", json!(reference.path.display().to_string())),
    ] {
        protocol.insert(k.into(), v);
    }
    lines.push(format!("  {} samples against {} real digits; classifier {}", s.n_samples, s.n_real, reference.short()));
    lines.push(format!("  inception score   {:>8.3} ± {:.3}  ({SPLITS} splits)", s.inception_score, s.inception_score_std));
    let shares = &s.classes.class_shares;
    let share = |pick: fn(f64, f64) -> bool| {
        let c = (0..shares.len()).reduce(|a, b| if pick(shares[b], shares[a]) { b } else { a }).unwrap_or(0);
        format!("{:.1}% (class {c})", 100.0 * shares.get(c).copied().unwrap_or(0.0))
    };
    let even = (shares.len() as f64).ln();
    let (h, u, rarest, commonest) = (s.classes.class_entropy, s.classes.conditional_entropy, share(|a, b| a < b), share(|a, b| a > b));
    lines.push(format!("  classes           H(y) {h:.3} nats (all ten even: {even:.3}), E H(y|x) {u:.3}; labelled {rarest} to {commonest}"));
    lines.push(format!("  Fréchet distance  {:>8.3}", s.frechet_distance));
    lines.push(format!("  precision {:.3}  recall {:.3}  (k = {K})", s.precision, s.recall));
    if let Some(acc) = s.conditional_accuracy {
        lines.push(format!("  conditional accuracy {:.4}", acc));
    }
}

fn eval_run(a: &Args, backend: Backend) -> anyhow::Result<(Value, Vec<String>)> {
    ensure_arg!(
        a.labels.is_none() && a.data_dir.is_none(),
        "--labels and --data-dir are for sample files; a run directory knows its model and data"
    );
    let device = backend.device()?;
    // The best-validation state where the run has one (model selection), unless --last.
    let best = !a.last && a.target.join(BEST_FILE).is_file();
    let file = if best { BEST_FILE } else { unigen::run::CHECKPOINT_FILE };
    let (spec, trained, meta) = load_trained_from(&a.target, file, &device).with_context(|| format!("loading {}", a.target.display()))?;
    let trained = super::resampled(trained, a.resample, &spec, &a.target, &device)?;
    let mut result = json!({
        "model": spec.model.name(),
        "data": spec.data.label(),
        "step": meta.get("step").and_then(|s| s.parse::<u64>().ok()),
    });
    let mut protocol = serde_json::Map::new();
    let step = meta.get("step").cloned().unwrap_or_default();
    let which = if best {
        let score = meta.get("validation_elbo").and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
        result["checkpoint"] = json!({ "file": BEST_FILE, "selected_by": "validation ELBO", "validation_elbo": score });
        format!("the best-validation state ({BEST_FILE}, step {step}, validation ELBO {score:.3}; --last for the last)")
    } else {
        result["checkpoint"] = json!({ "file": file });
        format!("the last state (step {step})")
    };
    let mut lines = vec![format!("{} on {}, {which}", spec.model.name(), spec.data.label())];
    if a.resample > 1 {
        let how = format!("each sample kept from {} of the generator's, drawn without replacement in proportion to D/(1-D)", a.resample);
        lines.push(format!("  samples resampled by the discriminator: {how}"));
        protocol.insert("resample".into(), json!(a.resample));
        protocol.insert("resampling".into(), json!(how));
    }

    // ---- test bounds: models with an encoder ----
    if let Some(model) = trained.vae() {
        let test = test_set(&spec)?;
        let test = test.head(a.n_test.unwrap_or(test.len()));
        let bar = if !super::ui().chatty() { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(test.len() as u64) };
        bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} test examples (L_k)  eta {eta}").expect("valid template"));
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
        protocol.insert("bound_of".into(), json!(match (model.classes(), model.has_classifier()) {
            (0, _) => "log p(x)",
            (_, false) => "log p(x | c), the true label given",
            (_, true) => "log p(x), the label summed over under q(c|x) (ELBO) or enumerated (L_k)",
        }));
        if model.has_classifier() {
            let acc = unigen::eval::likelihood::accuracy(model, &test, &device);
            result["test_accuracy"] = json!(acc);
            lines.push(format!("  test accuracy of q(c|x) {acc:.4} on {} digits", test.len()));
        }
        lines.push(format!("  {} test examples, {binarization}", est.n));
        lines.push(format!("  test ELBO         {:>10.3} ± {:.3} nats", est.elbo, est.elbo_se));
        lines.push(format!("  test L_k, k={:<5} {:>10.3} ± {:.3} nats", est.k, est.iwae, est.iwae_se));
    }

    // ---- each model's own scores (its `Model::own_scores`), on the same test examples ----
    let test = test_set(&spec)?;
    let test = test.head(a.n_test.unwrap_or(test.len()));
    let image_model = spec.data.kind() == DataKind::Images;
    // The reference classifier, where the model's own scores or the image metrics read it.
    let mut reference = if image_model && (spec.model.generates() || spec.model == unigen::models::ModelKind::Cyclegan) {
        Some(load_classifier(a, &device))
    } else {
        None
    };
    let own = trained.own_scores(&spec, &test, reference.as_ref().and_then(|r| r.as_ref().ok()), &device);
    result["n_test"] = json!(test.len());
    for (k, v) in &own.eval {
        result[*k] = json!(v);
    }
    for (k, v) in &own.protocol {
        protocol.insert(k.to_string(), json!(v));
    }
    lines.extend(own.lines);
    // An autoencoder's MMD beside that of two prior samples of the same size: the floor it is read against.
    if let Some(m) = trained.vae()
        && result.get("latent_mmd").is_some()
    {
        let n = test.len() * m.latent_dim();
        let prior_vs_prior = unigen::eval::mmd::mmd2(
            &unigen::host::normals(&mut stream(EVAL_SEED, Purpose::Eval, 1), n),
            &unigen::host::normals(&mut stream(EVAL_SEED, Purpose::Eval, 2), n),
            m.latent_dim(),
        );
        result["latent_mmd_prior_vs_prior"] = json!(prior_vs_prior);
        lines.push(format!("  (MMD^2 of two prior samples of the same size: {prior_vs_prior:.5})"));
    }

    // ---- stacked MNIST: the modes the samples reach, each channel read by the classifier ----
    let stacked = matches!(spec.data, unigen::data::DataSource::StackedMnist { .. });
    if stacked {
        let reference = reference.take().expect("loaded above for generating models on images")?;
        let n = a.samples.unwrap_or(unigen::data::stacked::SAMPLES);
        let fake = eval_samples(&spec, &trained, n, &device);
        let c = modes::stacked_coverage(&reference, &fake, &device);
        result["stacked_modes"] = json!(c.modes);
        result["stacked_mode_kl"] = json!(c.mode_kl);
        result["classifier_fingerprint"] = json!(reference.fingerprint);
        protocol.insert("samples".into(), json!(n));
        protocol.insert("sample_seed".into(), json!(EVAL_SEED));
        protocol.insert("modes".into(), json!("the classifier's digit in each channel, as a 3-digit number (1,000 modes)"));
        lines.push(format!(
            "  modes reached {}/1000, KL(modes || uniform) {:.3} ({n} samples; classifier {})",
            c.modes,
            c.mode_kl,
            reference.short()
        ));
    }
    // ---- image metrics: any generative model on MNIST, read off the reference classifier ----
    if image_model && spec.model.generates() && !stacked {
        match reference.expect("loaded above for generating models on images") {
            Ok(reference) => {
                let real = data::load(&spec.data, Split::Test, 0, 0)?;
                let n = a.samples.unwrap_or(images::SAMPLES);
                let fake = eval_samples(&spec, &trained, n, &device);
                let labels = balanced_labels(n, trained.classes()); // the classes `sample` generated
                let s = images::score(&reference, &real.x, &fake, (!labels.is_empty()).then_some(&labels[..]), &device);
                protocol.insert("sample_seed".into(), json!(EVAL_SEED));
                if !labels.is_empty() {
                    protocol.insert("sample_classes".into(), json!("balanced: sample i is generated for class i mod 10"));
                }
                image_report(&s, &reference, "MNIST test set", &mut result, &mut protocol, &mut lines);
            }
            // A VAE still has its bounds; a GAN has nothing to report without the classifier.
            Err(e) if trained.vae().is_some() => lines.push(format!("  (image metrics skipped: {e})")),
            Err(e) => return Err(e),
        }
    }

    // ---- mode coverage: any model on 2-D data ----
    if let Some(toy) = spec.data.toy() {
        let c = modes::coverage(toy, &coverage_samples(&spec, &trained, &device));
        result["modes_captured"] = json!(c.modes_captured);
        result["modes_any"] = json!(c.modes_any);
        result["high_quality"] = json!(c.high_quality);
        result["mode_kl"] = if c.mode_kl.is_finite() { json!(c.mode_kl) } else { Value::Null };
        protocol.insert("coverage_samples".into(), json!(modes::SAMPLES));
        protocol.insert("coverage_seed".into(), json!(EVAL_SEED));
        protocol.insert("high_quality_radius".into(), json!("3 std of the nearest mode"));
        protocol.insert("capture_share".into(), json!(modes::CAPTURE_SHARE));
        lines.push(format!(
            "  modes captured {}/{} ({} with any high-quality sample), high-quality samples {:.1}%, KL(modes || uniform) {:.3} ({} samples)",
            c.modes_captured,
            c.modes,
            c.modes_any,
            100.0 * c.high_quality,
            c.mode_kl,
            modes::SAMPLES
        ));
    }
    // ---- the KL directions: any generating model on 2-D data ----
    if spec.data.kind() == DataKind::Points2d && spec.model.generates() {
        let d = unigen::train::directions_of(&spec, &trained, &Protocol::default(), &device)?;
        lines.push(format!(
            "  KL(data||model) {:.3} ± {:.3}, KL(model||data) {:.3} ± {:.3}, JSD {:.4} ± {:.4} (k-NN; `unigen diverge` for more)",
            d.forward_kl.mean, d.forward_kl.se, d.reverse_kl.mean, d.reverse_kl.se, d.jsd.mean, d.jsd.se
        ));
        if let Some(e) = d.reverse_kl_exact {
            lines.push(format!("  KL(model||data) with the mixture's exact density {:.2} ± {:.2}", e.mean, e.se));
        }
        let estimates = [("forward_kl", Some(d.forward_kl)), ("reverse_kl", Some(d.reverse_kl)), ("jsd", Some(d.jsd)), ("reverse_kl_exact", d.reverse_kl_exact)];
        for (key, e) in estimates.into_iter().filter_map(|(k, e)| Some((k, e?))) {
            result[key] = json!(e.mean);
            result[format!("{key}_se")] = json!(e.se);
        }
        protocol.insert("divergences".into(), json!(Protocol::default()));
    }
    result["protocol"] = Value::Object(protocol);
    Ok((result, lines))
}

fn eval_files(a: &Args, backend: Backend) -> anyhow::Result<(Value, Vec<String>)> {
    ensure_arg!(a.resample == 1, "--resample is for run directories (it needs the run's discriminator); {} is a sample file", a.target.display());
    let device = backend.device()?;
    let fake = samples::read_images(&a.target)?;
    let labels = a.labels.as_deref().map(samples::read_labels).transpose()?;
    let n = fake.len() / (data::idx::SIDE * data::idx::SIDE);
    if let Some(l) = &labels {
        ensure_input!(l.len() == n, "{} has {} labels for {n} images in {}", a.labels.as_deref().map_or(Path::new(""), |p| p).display(), l.len(), a.target.display());
    }
    ensure_input!(n >= SPLITS.max(K + 1), "{} holds {n} images; the metrics need at least {}", a.target.display(), SPLITS.max(K + 1));
    let reference = load_classifier(a, &device)?;
    let source = DataSource::resolve(Some("mnist"), a.data_dir.clone())?;
    let real = data::load(&source, Split::Test, 0, 0)?;
    let s = images::score(&reference, &real.x, &fake, labels.as_deref(), &device);
    let mut result = json!({ "samples_file": a.target.display().to_string() });
    let mut protocol = serde_json::Map::new();
    let mut lines = vec![format!("samples in {}", a.target.display())];
    image_report(&s, &reference, &format!("MNIST test set ({})", source.label()), &mut result, &mut protocol, &mut lines);
    result["protocol"] = Value::Object(protocol);
    Ok((result, lines))
}
