//! The `unigen` binary as a user runs it.

use std::path::PathBuf;
use std::process::{Command, Output};

fn unigen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unigen"))
        .args(args)
        .env("UNIGEN_DATA", "/nonexistent-unigen-data")
        .env("XDG_CACHE_HOME", "/nonexistent-unigen-cache")
        .output()
        .expect("unigen runs")
}

fn small() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mnist-small").display().to_string()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

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

/// SHA-256 of a run's model tensors, in name order.
fn model_digest(run: &str) -> String {
    use sha2::{Digest, Sha256};
    let loaded = unigen::train::checkpoint::read(&PathBuf::from(run).join("checkpoint.safetensors")).unwrap();
    let mut h = Sha256::new();
    for (name, data) in loaded.tensors() {
        h.update(name.as_bytes());
        h.update(data.as_bytes());
    }
    format!("{:x}", h.finalize())
}

#[test]
fn sigkill_mid_run_then_resume_ends_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let args = |run: &str| -> Vec<String> {
        ["train", "vae", "--data", "ring8", "--out", run, "--quiet", "--set", "hidden=[16]", "--set", "toy_train_size=2048",
         "--set", "epochs=25", "--set", "checkpoint_every=10", "--set", "epoch_eval_size=0"]
            .iter().map(|s| s.to_string()).collect()
    };
    let full = dir.path().join("full").display().to_string();
    let o = unigen(&args(&full).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o));

    let cut = dir.path().join("cut").display().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_unigen")).args(args(&cut)).spawn().unwrap();
    let ckpt = PathBuf::from(&cut).join("checkpoint.safetensors");
    let started = std::time::Instant::now();
    while !ckpt.exists() && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix: no chance to clean up
    child.wait().unwrap();
    let killed_at: u64 = unigen::train::checkpoint::read(&ckpt).unwrap().meta["step"].parse().unwrap();
    assert!(killed_at < 25 * 8, "killed before the end (last checkpoint at step {killed_at})");

    let mut resume = args(&cut);
    resume.push("--resume".into());
    let o = unigen(&resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(model_digest(&full), model_digest(&cut), "killed at step {killed_at}");
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

    let o = unigen(&["eval", &run, "--classifier", &clf_a, "--samples", "200", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in ["inception_score", "inception_score_std", "frechet_distance", "precision", "recall", "conditional_accuracy", "classifier_fingerprint"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["protocol"]["samples"], 200);
    assert_eq!(v["protocol"]["classifier_fingerprint"], v["classifier_fingerprint"]);

    // The same metrics on a file of samples, scored by the other classifier.
    let npy = p("s.npy");
    let o = unigen(&["sample", &run, "--n", "40", "--npy", &npy, "--out", &p("s.png")]);
    assert!(o.status.success(), "{}", text(&o));
    let o = unigen(&["eval", &npy, "--labels", &p("s.labels.npy"), "--classifier", &clf_b, "--data-dir", &small(), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let w: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(w["conditional_accuracy"].is_number(), "{w}");
    assert_ne!(v["classifier_fingerprint"], w["classifier_fingerprint"]);
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
