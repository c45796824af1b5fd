//! The `unigen` binary as a user runs it.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{script, small, text, unigen};

#[test]
fn train_eval_sample_on_real_digits() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run").display().to_string();
    let o = unigen(&[
        "train", "vae", "--data-dir", &small(), "--out", &run, "--quiet",
        "--set", "epochs=1", "--set", "hidden=[32]", "--set", "latent_dim=4", "--set", "batch_size=50",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["eval", &run, "--k", "10", "--n-test", "50", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    for key in ["test_elbo", "test_iwae", "iwae_k", "n_test", "test_reconstruction", "latent_mmd"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["iwae_k"], 10);
    assert_eq!(v["n_test"], 50);
    assert!(v["test_iwae"].as_f64().unwrap() >= v["test_elbo"].as_f64().unwrap());
    assert!(v["protocol"]["binarization"].as_str().unwrap().contains("seed 0"));
    assert!(PathBuf::from(&run).join("eval.json").is_file());
    // One test example: the bounds are defined, MMD is not; it is left out, not a panic.
    let o = unigen(&["eval", &run, "--k", "2", "--n-test", "1", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert!(v["test_elbo"].is_number() && v.get("latent_mmd").is_none(), "{v}");
    let png = dir.path().join("s.png").display().to_string();
    let o = unigen(&["sample", &run, "--n", "16", "--out", &png]);
    assert!(o.status.success(), "{}", text(&o));
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (4 * 30 + 2, 4 * 30 + 2));
}

#[test]
fn missing_data_says_how_to_get_it() {
    let o = unigen(&["train", "vae", "--data", "mnist", "--out", "/tmp/unigen-never"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("unigen data fetch mnist") && t.contains("--data-dir"), "{t}");
    assert!(t.contains("/nonexistent-unigen-data/mnist"), "{t}");
}

#[test]
fn bad_settings_are_refused_with_the_key() {
    let o = unigen(&["train", "vae", "--data", "ring8", "--set", "hiden=[3]", "--out", "/tmp/unigen-never"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("unknown key `hiden`"), "{}", text(&o));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "lr = \"fast\"\n").unwrap();
    let o = unigen(&["train", "vae", "--data", "ring8", "--config", cfg.to_str().unwrap(), "--out", "/tmp/unigen-never"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("c.toml") && t.contains("lr"), "{t}");
}

#[test]
fn settings_the_model_does_not_read_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r").display().to_string();
    for (model, set) in [("gan", "alpha=0.5"), ("gan", "k=5"), ("aae", "generator_form=saturating"), ("vae", "d_steps=3"), ("infogan", "generator_form=saturating")] {
        let o = unigen(&["train", model, "--data", "ring8", "--set", set, "--out", &run]);
        assert_eq!(o.status.code(), Some(3), "{model} {set}: {}", text(&o));
        let key = set.split('=').next().unwrap();
        assert!(text(&o).contains(&format!("`{key}` is not read by {model}")), "{}", text(&o));
        assert!(!PathBuf::from(&run).join("run.toml").exists(), "nothing written for a refused setting");
    }
}

#[test]
fn data_check_validates_and_reports_digests() {
    let o = unigen(&["data", "check", &small()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert_eq!(t.matches("NOT the canonical MNIST digest").count(), 4, "{t}");
    assert!(t.contains("1000 items") && t.contains("500 items"), "{t}");
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(small()).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("t10k-labels-idx1-ubyte.gz"), b"\x1f\x8bjunk").unwrap();
    let o = unigen(&["data", "check", dir.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("t10k-labels-idx1-ubyte.gz"), "{}", text(&o));
}

#[test]
fn help_teaches() {
    let o = unigen(&["train", "--help"]);
    let t = text(&o);
    assert!(o.status.success() && t.contains("--resume") && t.contains("Examples:"), "{t}");
}

#[test]
fn resume_accepts_restated_settings_and_refuses_changed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r").display().to_string();
    let base = ["train", "vae", "--data", "ring8", "--out", &run, "--quiet", "--set", "hidden=[8]", "--set", "toy_train_size=512"];
    let o = unigen(&[&base[..], &["--set", "epochs=1"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&[&base[..], &["--set", "epochs=2", "--resume"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let lines = std::fs::read_to_string(PathBuf::from(&run).join("metrics.jsonl")).unwrap().lines().count();
    assert_eq!(lines, 2, "the resumed run trained its second epoch");
    let o = unigen(&[&base[..], &["--set", "lr=0.5", "--resume"]].concat());
    assert!(!o.status.success());
    assert!(text(&o).contains("these differ: lr"), "{}", text(&o));
    let o = unigen(&["train", "vae", "--data", "ring8", "--out", &run, "--quiet"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--resume"), "{}", text(&o));
}

#[test]
fn sigkills_at_random_moments_then_resumes_end_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    // 8 kills, seed 7: the script fails unless weights, optimiser state and metrics all match.
    let o = Command::new("bash")
        .arg(script("kill_resume.sh"))
        .args([env!("CARGO_BIN_EXE_unigen"), "8", "7"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let kills: usize = out.strip_prefix("ok: ").and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(kills >= 4, "too few kills landed before the run ended: {out}");
}

#[test]
fn a_full_disk_at_a_checkpoint_is_a_clear_error_and_keeps_the_previous_one() {
    // A small tmpfs in a mount namespace of its own; needs root or unprivileged user namespaces.
    let o = Command::new("bash").arg(script("full_disk.sh")).arg(env!("CARGO_BIN_EXE_unigen")).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("writing the checkpoint of step") && t.contains("the previous checkpoint is intact"), "{t}");
}

#[test]
fn exit_statuses_say_what_went_wrong_and_json_errors_parse() {
    let status = |args: &[&str]| unigen(args).status.code();
    assert_eq!(status(&["train", "vae", "--no-such-flag"]), Some(2), "usage");
    assert_eq!(status(&["eval", "somewhere", "--k", "0"]), Some(2), "bad argument value");
    assert_eq!(status(&["train", "vae", "--data", "ring8", "--set", "bogus=1"]), Some(3), "refused setting");
    assert_eq!(status(&["train", "vae", "--data", "mnist"]), Some(4), "data not found");
    assert_eq!(status(&["runs", "/nonexistent-unigen-runs"]), Some(4), "no such directory");
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("nan").display().to_string();
    let o = unigen(&["train", "gan", "--data", "ring8", "--set", "lr=1e12", "--set", "epochs=1", "--out", &run, "-q"]);
    assert_eq!(o.status.code(), Some(5), "non-finite loss: {}", text(&o));

    // A thread count rayon would silently ignore (and use every core) is refused, naming it.
    let threads = |value: &str| common::command(&["models"]).env("RAYON_NUM_THREADS", value).output().unwrap();
    for bad in ["two", "-1", " 2", "1.5"] {
        let o = threads(bad);
        assert!(o.status.code() == Some(2) && text(&o).contains("RAYON_NUM_THREADS"), "{bad:?}: {}", text(&o));
    }
    for good in ["1", "0", ""] {
        assert!(threads(good).status.success(), "{good}: {}", text(&threads(good)));
    }

    let o = unigen(&["--json", "train", "vae", "--data", "ring8", "--set", "bogus=1"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object on stdout");
    assert_eq!(v["exit_code"], 3);
    assert!(v["error"].as_str().unwrap().contains("unknown key `bogus`"), "{v}");
}

#[test]
fn every_subcommand_has_help_examples_and_completions_are_generated() {
    for cmd in [
        "train", "sample", "eval", "bench", "compare", "reproduce", "jobs", "demo", "diverge", "models", "runs", "report", "completions",
        "data fetch", "data check", "classifier train", "classifier show",
    ] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let o = unigen(&args);
        assert!(o.status.success() && text(&o).contains("Example"), "`unigen {cmd} --help` has no examples:\n{}", text(&o));
    }
    for shell in ["bash", "zsh", "fish"] {
        let o = unigen(&["completions", shell]);
        let t = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success() && t.contains("unigen") && t.contains("report") && t.len() > 1000, "{shell}: {}", text(&o));
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_unigen"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take()); // like `| head -c 16`
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked") && o.status.code() != Some(101), "{err}");
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("UNIGEN_CHROMIUM").map_or(PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(path.is_file(), "{} not found: the report test needs headless Chromium (apt-get install chromium; .ci/run installs it)", path.display());
    path
}

/// Runs headless Chromium on `page` with a fresh profile; `extra` says what to produce.
fn browse(page: &std::path::Path, extra: &[String]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--virtual-time-budget=10000"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

#[test]
fn runs_are_listed_and_the_report_draws_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    let vae = root.join("vae").display().to_string();
    let gan = root.join("gan").display().to_string();
    let o = unigen(&["train", "vae", "--data-dir", &small(), "--out", &vae, "-q", "--set", "epochs=2", "--set", "hidden=[32]",
                     "--set", "latent_dim=4", "--set", "batch_size=50"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["eval", &vae, "--k", "5", "--n-test", "20", "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["train", "gan", "--data", "ring8", "--out", &gan, "-q", "--set", "epochs=3", "--set", "toy_train_size=2048"]);
    assert!(o.status.success(), "{}", text(&o));

    // `unigen runs`: a table, and the same as JSON with the headline metric of each run.
    let o = unigen(&["runs", &root.display().to_string(), "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).expect("a JSON array");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0]["run"].as_str(), rows[0]["model"].as_str(), rows[0]["epochs_done"].as_u64()), (Some("gan"), Some("gan"), Some(3)));
    assert_eq!(rows[1]["headline"]["metric"], "test_iwae", "scored runs headline their evaluation: {rows:?}");
    assert_eq!(rows[1]["headline"]["from"], "eval");
    let table = text(&unigen(&["runs", &root.display().to_string()]));
    assert!(table.contains("vae") && table.contains("ring8") && table.contains("test_iwae"), "{table}");

    // The report: self-contained, then drawn by a real browser.
    let page = dir.path().join("report.html");
    let o = unigen(&["report", &vae, &gan, "--out", &page.display().to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    let external = html.replace("http://www.w3.org/2000/svg", "");
    assert!(!external.contains("http://") && !external.contains("https://") && !html.contains("<script src") && !html.contains("<link"), "external references");
    assert!(html.contains("classifier fingerprint") || html.contains("Evaluation"), "the VAE's evaluation is shown");
    assert!(html.contains("[config]") || html.contains("latent_dim"), "the config is shown");
    for chart in ["loss: loss", "loss: d_loss", "score: test_elbo", "score: modes_captured", "score: jsd", "speed: examples/s"] {
        assert!(html.contains(&format!("aria-label=\"{chart}\"")), "no chart {chart}");
    }

    let dom = browse(&page, &["--dump-dom".into()]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(dom_text.contains("data-check=\"ok\""), "the page's own check did not pass:\n{}", &dom_text[dom_text.len().saturating_sub(2000)..]);

    let shot = dir.path().join("shot.png");
    let o = browse(&page, &["--window-size=1200,1600".into(), format!("--screenshot={}", shot.display())]);
    let img = image::open(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {}", text(&o))).to_rgb8();
    let inked = img.pixels().filter(|p| p.0.iter().any(|&c| c < 200)).count();
    let colours: std::collections::BTreeSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    let share = inked as f64 / img.pixels().len() as f64;
    assert!(share > 0.005 && colours.len() > 50, "the screenshot looks blank: {share:.4} inked, {} colours", colours.len());

    // --verify reads each checkpoint whole: a changed one is shown with its error, the other
    // runs still listed, and the command fails.
    let ckpt = root.join("gan/checkpoint.safetensors");
    let mut bytes = std::fs::read(&ckpt).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x40;
    std::fs::write(&ckpt, bytes).unwrap();
    let o = unigen(&["runs", &root.display().to_string(), "--verify"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(3), "{t}");
    assert!(t.contains("gan  unreadable") && t.contains("content hash mismatch") && t.contains("checkpoint verified"), "{t}");
}

#[test]
fn classifier_metrics_on_a_run_and_on_sample_files_and_no_mixed_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let (clf_a, clf_b, run) = (p("a.safetensors"), p("b.safetensors"), p("cgan"));
    for (clf, seed) in [(&clf_a, "0"), (&clf_b, "1")] {
        let o = unigen(&["classifier", "train", "--data-dir", &small(), "--epochs", "2", "--seed", seed, "--out", clf]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("fingerprint"), "{}", text(&o));
    }
    let o = unigen(&[
        "train", "cgan", "--data-dir", &small(), "--out", &run, "--quiet",
        "--set", "epochs=1", "--set", "hidden=[32]", "--set", "latent_dim=4", "--set", "batch_size=50",
    ]);
    assert!(o.status.success(), "{}", text(&o));

    // Without a classifier a GAN on images has nothing to score: say how to get one.
    let o = unigen(&["eval", &run]);
    assert!(!o.status.success() && text(&o).contains("unigen classifier train"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(4), "a missing classifier is something missing: {}", text(&o));

    let o = unigen(&["eval", &run, "--classifier", &clf_a, "--samples", "200", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in ["inception_score", "inception_score_std", "frechet_distance", "precision", "recall", "conditional_accuracy", "classifier_fingerprint"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["protocol"]["samples"], 200);
    assert_eq!(v["protocol"]["classifier_fingerprint"], v["classifier_fingerprint"]);
    // Samples kept by the discriminator's ratio: still every class, and the protocol says so.
    let o = unigen(&["eval", &run, "--classifier", &clf_a, "--samples", "200", "--resample", "3", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r["conditional_accuracy"].is_number() && r["protocol"]["resample"] == 3, "{r}");
    assert_ne!(r["frechet_distance"], v["frechet_distance"]);

    // The same metrics on a file of samples, scored by the other classifier.
    let npy = p("s.npy");
    let o = unigen(&["sample", &run, "--n", "40", "--npy", &npy, "--out", &p("s.png")]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["eval", &npy, "--labels", &p("s.labels.npy"), "--classifier", &clf_b, "--data-dir", &small(), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let w: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(w["conditional_accuracy"].is_number(), "{w}");
    assert_ne!(v["classifier_fingerprint"], w["classifier_fingerprint"]);
    let o = unigen(&["eval", &npy, "--resample", "3", "--classifier", &clf_b, "--data-dir", &small()]);
    assert!(o.status.code() == Some(2) && text(&o).contains("--resample is for run directories"), "{}", text(&o));
    let o = unigen(&["compare", &run, &p("s.eval.json")]);
    assert!(!o.status.success() && text(&o).contains("not comparable"), "{}", text(&o));
    let o = unigen(&["compare", &run]);
    assert!(o.status.success() && text(&o).contains("inception_score"), "{}", text(&o));
}

#[test]
fn semi_supervised_runs_report_accuracy_and_refuse_bad_fractions() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("svae").display().to_string();
    let o = unigen(&[
        "train", "svae", "--data-dir", &small(), "--out", &run, "--quiet", "--set", "epochs=1",
        "--set", "hidden=[32]", "--set", "latent_dim=4", "--set", "batch_size=50", "--set", "label_fraction=0.1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["eval", &run, "--k", "2", "--n-test", "50", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let acc = v["test_accuracy"].as_f64().expect("test_accuracy");
    assert!((0.0..=1.0).contains(&acc), "{v}");
    assert!(v["test_iwae"].as_f64().unwrap() >= v["test_elbo"].as_f64().unwrap(), "{v}");

    let o = unigen(&["train", "svae", "--data-dir", &small(), "--set", "label_fraction=1", "--out", &run]);
    assert!(!o.status.success() && text(&o).contains("`label_fraction` must be in (0, 1)"), "{}", text(&o));
    // The GAN rows of a reproduction need the reference classifier: refused before any training.
    let o = unigen(&["reproduce", "table2", "--data-dir", &small(), "--out", &dir.path().join("r").display().to_string()]);
    assert!(!o.status.success() && text(&o).contains("unigen classifier train"), "{}", text(&o));
    assert!(!dir.path().join("r").exists(), "nothing trained");
}

#[test]
fn models_lists_every_model_with_its_place_in_the_formulation() {
    let o = unigen(&["models", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["model"].as_str().unwrap()).collect();
    for m in ["vae", "iwae", "gan", "iwgan", "aavae", "svae", "infogan", "aae", "wake_sleep", "ada", "cyclegan"] {
        assert!(names.contains(&m), "{m} missing from {names:?}");
    }
    for r in &rows {
        for key in ["description", "generator", "inference", "discriminator", "kl", "wake_sleep_phase"] {
            assert!(!r[key].as_str().unwrap_or("").is_empty(), "{key} of {}", r["model"]);
        }
    }
}

#[test]
fn models_that_need_images_or_do_not_generate_say_so() {
    let o = unigen(&["train", "cyclegan", "--data", "ring8", "--out", "/tmp/unigen-never"]);
    assert!(!o.status.success() && text(&o).contains("cyclegan is defined on images"), "{}", text(&o));
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("ada").display().to_string();
    let o = unigen(&["train", "ada", "--data-dir", &small(), "--out", &run, "--quiet", "--set", "max_steps=2", "--set", "hidden=[8]"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["sample", &run]);
    assert!(!o.status.success() && text(&o).contains("does not generate samples"), "{}", text(&o));
    // Asked to resample, it is refused before anything is sampled (exit 3), not a panic.
    let o = unigen(&["sample", &run, "--resample", "2"]);
    assert!(o.status.code() == Some(3) && text(&o).contains("no discriminator"), "{}", text(&o));
    let o = unigen(&["eval", &run, "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["target_accuracy"].is_number() && v["source_accuracy"].is_number(), "{v}");
}

#[test]
fn aae_eval_reports_its_code_scores_with_the_prior_vs_prior_reference() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("aae").display().to_string();
    let o = unigen(&["train", "aae", "--data-dir", &small(), "--out", &run, "--quiet", "--set", "max_steps=2", "--set", "hidden=[8]", "--set", "latent_dim=4"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["eval", &run, "--json", "--k", "2", "--n-test", "50"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in ["test_reconstruction", "latent_mmd", "latent_mmd_prior_vs_prior"] {
        assert!(v[key].is_number(), "{key} in {v}");
    }
}

#[test]
fn quiet_json_and_rust_log_shape_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let args = |run: &str| -> Vec<String> {
        ["train", "vae", "--data", "ring8", "--out", run, "--set", "epochs=2", "--set", "toy_train_size=512", "--set", "checkpoint_every=3"]
            .iter().map(|s| s.to_string()).collect()
    };
    let quiet = dir.path().join("q").display().to_string();
    let mut a = args(&quiet);
    a.push("--quiet".into());
    let o = unigen(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(), "--quiet printed: {}", text(&o));

    let json = dir.path().join("j").display().to_string();
    let mut a = args(&json);
    a.push("--json".into());
    let o = unigen(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success() && o.stderr.is_empty(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!((v["steps"].as_u64(), v["last_epoch"]["epoch"].as_u64()), (Some(4), Some(2)), "{v}");

    let logged = dir.path().join("l").display().to_string();
    let mut a = args(&logged);
    a.push("-q".into());
    let o = Command::new(env!("CARGO_BIN_EXE_unigen")).args(&a).env("RUST_LOG", "unigen=debug").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.contains("checkpoint written") && err.contains("training"), "{err}");
}

#[test]
fn a_point_file_trains_and_diverge_measures_runs_and_sample_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    // 2,000 points of grid25 as a user's CSV, with a header and a comment.
    let (x, _) = unigen::data::Toy::Grid25.sample(2000, 7, 0);
    let csv: String = x.chunks(2).map(|q| format!("{},{}\n", q[0], q[1])).collect();
    std::fs::write(p("pts.csv"), format!("x,y\n# grid25, seed 7\n{csv}")).unwrap();
    for model in ["gan", "vae"] {
        let o = unigen(&["train", model, "--data", &p("pts.csv"), "--set", "epochs=2", "--set", "hidden=[32,32]", "--out", &p(model), "-q"]);
        assert!(o.status.success(), "{}", text(&o));
        let metrics = std::fs::read_to_string(dir.path().join(model).join("metrics.jsonl")).unwrap();
        assert!(metrics.contains("\"forward_kl\"") && metrics.contains("\"jsd\"") && !metrics.contains("modes_captured"), "{metrics}");
        assert!(dir.path().join(model).join("divergences.svg").is_file());
    }
    let run_toml = std::fs::read_to_string(dir.path().join("vae/run.toml")).unwrap();
    assert!(run_toml.contains("name = \"points\"") && run_toml.contains(&p("pts.csv")), "{run_toml}");

    // The runs below a directory; a VAE gets the likelihood side with the k-NN data density.
    let o = unigen(&["diverge", dir.path().to_str().unwrap(), "--samples", "300", "--redraws", "3", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{v}");
    for r in runs {
        let d = &r["divergences"];
        assert_eq!(d["rounds"].as_array().unwrap().len(), 3);
        for key in ["forward_kl", "reverse_kl", "jsd"] {
            assert!(d[key]["mean"].is_number() && d[key]["se"].as_f64().unwrap() >= 0.0, "{key}: {d}");
        }
        let likelihood = &d["likelihood"];
        assert_eq!(likelihood.is_null(), r["model"] == "gan", "{r}");
    }
    assert_eq!(runs.iter().find(|r| r["model"] == "vae").unwrap()["divergences"]["likelihood"]["data_density"], "k-NN estimate");
    assert_eq!(v["protocol"]["redraws"], 3);
    // A VAE has no discriminator to resample with: refused, naming the run.
    let o = unigen(&["sample", &p("vae"), "--resample", "4"]);
    assert!(o.status.code() == Some(3) && text(&o).contains("no discriminator") && text(&o).contains(&p("vae")), "{}", text(&o));
    // `unigen eval` records them too (default protocol), and no mode coverage: a file has no modes.
    let o = unigen(&["eval", &p("gan"), "--json"]);
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert!(e["jsd"].is_number() && e["forward_kl_se"].is_number() && e.get("modes_captured").is_none(), "{e}");
    assert!(e.get("reverse_kl_exact").is_none(), "a point file's density is not known: {e}");
    let o = unigen(&["train", "gan", "--data", "ring8", "--set", "epochs=1", "--set", "toy_train_size=1024", "--set", "hidden=[16]", "--out", &p("ring"), "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["eval", &p("ring"), "--json"]);
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert!(e["reverse_kl_exact"].is_number() && e["reverse_kl_exact_se"].is_number() && e["modes_captured"].is_number(), "{e}");

    // Samples made elsewhere, against the same data; a sample file needs --data.
    let o = unigen(&["sample", &p("gan"), "--n", "400", "--npy", &p("s.npy"), "--out", &p("s.png")]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["diverge", &p("s.npy"), "--data", &p("pts.csv"), "--samples", "300", "--redraws", "2"]);
    assert!(o.status.success() && text(&o).contains("KL(data||model)"), "{}", text(&o));
    let o = unigen(&["diverge", &p("s.npy")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--data"), "{}", text(&o));

    // Bad point files are refused, naming the file and line.
    std::fs::write(p("bad.csv"), "1,2\n3,4,5\n").unwrap();
    let o = unigen(&["train", "gan", "--data", &p("bad.csv"), "--out", &p("never"), "-q"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("bad.csv") && text(&o).contains("line 2"), "{}", text(&o));
}

/// `reproduce --jobs 2` trains two runs at once and gets exactly the numbers of one at a time; the
/// report grows from the finished runs (`--report-only`); `--set` changes only the models that
/// read the key, and their runs are named after it.
#[test]
fn reproduce_runs_side_by_side_with_the_numbers_of_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let tiny = ["--set", "max_steps=2", "--set", "hidden=[8]", "--set", "latent_dim=2", "--set", "batch_size=5"];
    let reproduce = |jobs: &str, extra: &[&str]| {
        let mut args = vec!["reproduce", "table3", "--budget", "quick", "--seeds", "1", "--data-dir"];
        let (small, out, results, report) = (small(), p(&format!("o{jobs}")), p(&format!("r{jobs}")), p(&format!("m{jobs}.md")));
        args.extend([small.as_str(), "--jobs", jobs, "--out", &out, "--results", &results, "--report", &report, "-q"]);
        args.extend(tiny);
        args.extend(extra);
        unigen(&args)
    };
    let scores = |results: &str| -> Vec<(String, serde_json::Value)> {
        let mut files: Vec<_> = std::fs::read_dir(dir.path().join(results).join("quick")).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files.iter().map(|f| {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            (f.file_name().unwrap().to_string_lossy().into_owned(), v["scores"].clone())
        }).collect()
    };
    for jobs in ["1", "2"] {
        let o = reproduce(jobs, &[]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let (one, two) = (scores("r1"), scores("r2"));
    assert_eq!(one.len(), 16, "8 rows, 2 models, 1 seed: {one:?}");
    assert_eq!(one, two, "--jobs 2 changed a score");
    // Every run, on the command's thread or a job's pool, flushed subnormals to zero.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    for results in ["r1", "r2"] {
        for f in std::fs::read_dir(dir.path().join(results).join("quick")).unwrap() {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(f.unwrap().path()).unwrap()).unwrap();
            assert!(v["machine"].as_str().unwrap().ends_with(", subnormals flushed to zero"), "{results}: {v}");
        }
    }
    let report = std::fs::read_to_string(p("m2.md")).unwrap();
    assert!(report.contains("| SVAE / AASVAE | 10% labels |") && !report.contains("Partial:"), "{report}");

    // The report of a campaign under way: one run's result removed.
    let missing = dir.path().join("r2/quick").join(&two[0].0);
    std::fs::remove_file(&missing).unwrap();
    std::fs::remove_dir_all(dir.path().join("o2")).unwrap();
    let o = reproduce("2", &["--report-only"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!missing.exists(), "--report-only trained nothing");
    let report = std::fs::read_to_string(p("m2.md")).unwrap();
    assert!(report.contains("Partial: 7 of 8 seed pairs finished") && report.contains("pending (0 of 1 seeds)"), "{report}");

    // An AA-only setting: the baselines' results are reused, the AA runs are new and named after it.
    let o = reproduce("1", &["--set", "alpha=0.5"]);
    assert!(o.status.success(), "{}", text(&o));
    let names: Vec<String> = scores("r1").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 16 + 8, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("aavae+") && n.ends_with("+alpha=0.5-1-data-s0.json")), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("vae+") && n.contains("alpha")), "{names:?}");
    // A key no model of the table reads would be ignored: refused, exit 3.
    let o = reproduce("1", &["--set", "generator_form=saturating"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("no model of these rows reads `generator_form`"), "{}", text(&o));
}

/// `reproduce --plan` writes the campaign as one shell command per run; run as separate processes
/// at once (a job array's tasks, sharing the output directory), each commits its own result, and
/// `--report-only` merges them into one report.
#[test]
fn a_plan_s_commands_run_apart_and_merge_into_one_report() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let (small, out, results, report) = (small(), p("o"), p("r"), p("m.md"));
    let base = [
        "reproduce", "table3", "--budget", "quick", "--seeds", "2", "--row", "aavae@1%", "--data-dir", &small, "--out", &out, "--results", &results,
        "--report", &report, "--set", "max_steps=2", "--set", "hidden=[8]", "--set", "latent_dim=2", "--set", "batch_size=5", "-q",
    ];
    let plan = |more: &[&str]| unigen(&[&base[..], more].concat());
    let o = plan(&["--plan", "--jobs", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 4, "2 models x 2 seeds: {lines:?}");
    for l in &lines {
        assert!(l.starts_with("unigen reproduce table3 ") && l.contains(" 'hidden=[8]' ") && l.contains(" --jobs 1 --run "), "{l}");
        assert!(!l.contains("--plan") && !l.contains("--jobs 2"), "{l}");
    }
    // `unigen` on the PATH, as on a cluster's nodes; three of the four commands at once.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_unigen"), bin.join("unigen")).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let children: Vec<_> = lines[..3]
        .iter()
        .map(|l| {
            let mut sh = std::process::Command::new("sh");
            sh.args(["-c", l]).env("PATH", &path).env("UNIGEN_DATA", "/nonexistent-unigen-data").env("XDG_CACHE_HOME", "/nonexistent-unigen-cache");
            sh.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    assert!(!std::path::Path::new(&report).exists(), "runs picked by name leave the report alone");
    // A merging script asks for every result: the partial report is written, and the status says
    // it is partial (4, as anything missing).
    let o = plan(&["--report-only", "--require-complete"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("partial: 1 of 2 seed pairs finished (--require-complete)"), "{}", text(&o));
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(md.contains("Partial: 1 of 2 seed pairs finished"), "{md}");
    let o = plan(&["--report-only"]);
    assert!(o.status.success(), "{}", text(&o));
    // The plan now holds the one run left; an unknown name is refused, listing the runs.
    let o = plan(&["--plan"]);
    let left = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(left.lines().count(), 1, "{left}");
    assert!(lines[3].ends_with(left.trim().rsplit(' ').next().unwrap()), "{left}");
    let o = plan(&["--run", "gan-1-data-s9"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("no run of these rows has this name") && text(&o).contains("-1-data-s1"), "{}", text(&o));
}

/// `unigen jobs` runs every line of a list, two at a time with one thread each, and names the
/// lines that failed (exit status 3); comments and blank lines are skipped.
#[test]
fn jobs_runs_a_list_two_at_a_time_and_names_the_lines_that_failed() {
    let dir = tempfile::tempdir().unwrap();
    let f = |name: &str| dir.path().join(name).display().to_string();
    let list = format!(
        "# a sweep\necho one > {}\n\nexit 7\necho $RAYON_NUM_THREADS > {}\nsleep 0.2; echo three > {}\n",
        f("1"),
        f("threads"),
        f("3")
    );
    std::fs::write(f("list.txt"), list).unwrap();
    let o = unigen(&["jobs", &f("list.txt"), "--jobs", "2"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("1 of 4 commands failed: line 4 (exit status: 7)"), "{}", text(&o));
    for (file, want) in [("1", "one"), ("3", "three")] {
        assert_eq!(std::fs::read_to_string(f(file)).unwrap().trim(), want);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(std::fs::read_to_string(f("threads")).unwrap().trim(), (cores / 2).max(1).to_string());
    std::fs::write(f("empty.txt"), "# nothing\n\n").unwrap();
    let o = unigen(&["jobs", &f("empty.txt")]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("empty.txt: no commands in it"), "{}", text(&o));
}

/// Stacked MNIST: a GAN trains on three-channel images (the DCGAN pair by default), draws them
/// in colour, and is scored by the modes its samples reach, each channel read by the shipped
/// classifier, at each epoch's end as by `unigen eval`; models other than gan and iwgan are
/// refused, and a classifier that cannot be read stops training before its first step.
#[test]
fn stacked_mnist_trains_a_gan_and_counts_its_modes() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("st").display().to_string();
    let small = small();
    let args = ["train", "iwgan", "--data", "stacked-mnist", "--data-dir", &small, "--set", "max_steps=3", "--set", "epoch_eval_size=300", "--out", &run, "-q"];
    let o = unigen(&args);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("/nonexistent-unigen-classifier/lenet.safetensors"), "{}", text(&o));
    assert!(!dir.path().join("st/checkpoint.safetensors").exists(), "refused before training");
    let o = common::command(&args).env_remove("UNIGEN_CLASSIFIER").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let toml = std::fs::read_to_string(dir.path().join("st/run.toml")).unwrap();
    assert!(toml.contains("network = \"dcgan\"") && toml.contains("stacked_mnist"), "{toml}");
    let metrics = std::fs::read_to_string(dir.path().join("st/metrics.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    let picture = image::open(dir.path().join("st/pictures/samples_001.png")).unwrap().to_rgb8();
    assert!(picture.pixels().any(|p| p[0] != p[1] || p[1] != p[2]), "the samples are drawn in colour");
    let o = common::command(&["eval", &run, "--samples", "300", "--json"]).env_remove("UNIGEN_CLASSIFIER").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let modes = v["stacked_modes"].as_u64().unwrap();
    assert!((1..=300).contains(&modes), "{v}");
    assert!(v["stacked_mode_kl"].as_f64().unwrap() <= 1000f64.ln() + 1e-9, "{v}");
    assert_eq!(v["protocol"]["samples"], 300);
    assert_eq!(v["classifier_fingerprint"].as_str(), Some(unigen::eval::classifier::SHIPPED_FINGERPRINT), "{v}");
    // The epoch's count drew the same samples from the same weights.
    assert_eq!((last["stacked_modes"].as_f64(), last["stacked_mode_kl"].as_f64()), (Some(modes as f64), v["stacked_mode_kl"].as_f64()), "{last}");
    let o = unigen(&["train", "vae", "--data", "stacked-mnist", "--data-dir", &small, "--out", &dir.path().join("v").display().to_string()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("stacked-mnist is the mode-collapse benchmark of gan and iwgan"), "{}", text(&o));
}

/// Without `--classifier` or $UNIGEN_CLASSIFIER the image metrics use the classifier shipped with
/// unigen: every user's scores come from the same weights.
#[test]
fn the_shipped_classifier_is_the_default() {
    let o = common::command(&["classifier", "show", "--json"]).env_remove("UNIGEN_CLASSIFIER").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["fingerprint"].as_str(), Some(unigen::eval::classifier::SHIPPED_FINGERPRINT), "{v}");
    assert!(v["file"].as_str().unwrap().contains("shipped with unigen"), "{v}");
    // A file named explicitly is used instead, and a missing one is an error, not a fallback.
    let o = common::command(&["classifier", "show", "--classifier", "/nonexistent/lenet.safetensors"]).env_remove("UNIGEN_CLASSIFIER").output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("no classifier at /nonexistent/lenet.safetensors"), "{}", text(&o));
}
