//! Run directories that never lose or mix work, tried with real processes: a `max_steps` run
//! resumed and extended, two writers at once, Ctrl-C and SIGTERM, resume flags that contradict
//! the run, and the exit statuses and messages of the commands that read runs.
//! docs/reliability.md lists each fault with the test that shows it.

mod common;

use std::path::Path;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use common::{command, small, text, unigen};

/// A small VAE on ring8: 16 steps an epoch, about a second in all.
const TINY: [&str; 12] = [
    "train", "vae", "--data", "ring8", "--set", "hidden=[16]", "--set", "toy_train_size=1024", "--set", "batch_size=64", "--set",
    "epoch_eval_size=256",
];

/// A VAE on ring8 whose epochs are long enough (1,024 steps, a few seconds) to be signalled mid-way.
const LONG: [&str; 10] = ["train", "vae", "--data", "ring8", "--set", "toy_train_size=65536", "--set", "batch_size=64", "--set", "epochs=2"];

fn args<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    [base, more].concat()
}

fn spawn(args: &[&str]) -> Child {
    command(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("unigen starts")
}

/// Waits until `ready` holds, for at most a minute.
fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `child` holds the run's lock (it has written its name there): it is training, its
/// signal handlers in place.
fn wait_training(run: &str, child: &Child) {
    let (lock, pid) = (Path::new(run).join(".unigen.lock"), format!("pid {}:", child.id()));
    wait_until("the lock", || std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&pid)));
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: sends a signal to a child process this test started and has not yet waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

fn metrics(run: &str) -> String {
    std::fs::read_to_string(Path::new(run).join("metrics.jsonl")).unwrap_or_default()
}

/// The metrics lines without their timings, which differ between any two runs.
fn untimed(lines: &str) -> Vec<String> {
    lines
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let m = v.as_object_mut().unwrap();
            m.remove("examples_per_s");
            m.remove("wall_s");
            // A score added after the fixtures were written: their lines lack it.
            m.remove("modes_any");
            v.to_string()
        })
        .collect()
}

/// The SHA-256 of the run's training state (weights and optimiser state), checkpoint verified.
fn state(run: &str) -> String {
    let o = unigen(&["runs", run, "--verify", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v[0]["state_sha256"].as_str().expect("a verified checkpoint").to_string()
}

fn listed(run: &str) -> serde_json::Value {
    let o = unigen(&["runs", run, "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()[0].clone()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
}

#[test]
fn a_max_steps_run_resumed_keeps_every_line_says_it_is_complete_and_extends_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (run, full) = (dir.path().join("r").display().to_string(), dir.path().join("full").display().to_string());
    ok(&unigen(&args(&TINY, &["--set", "epochs=2", "--set", "max_steps=5", "--out", &run, "-q"])));
    let first = metrics(&run);
    assert_eq!(first.lines().count(), 1, "one line for the 5 steps: {first}");
    assert!(first.contains("\"partial\":true") && first.contains("\"step\":5"), "{first}");

    // Resumed as it is: finished, so nothing is trained, nothing is lost, and it says so.
    let o = unigen(&["train", "--out", &run, "--resume"]);
    ok(&o);
    assert!(text(&o).contains("already complete at step 5; nothing to do"), "{}", text(&o));
    assert!(!text(&o).contains("training vae"), "no fresh-run banner: {}", text(&o));
    assert_eq!(metrics(&run), first, "metrics.jsonl untouched");

    // Extended to two whole epochs: the partial line stays, each epoch's line follows once.
    ok(&unigen(&["train", "--out", &run, "--resume", "--set", "max_steps=0", "-q"]));
    let extended = metrics(&run);
    assert!(extended.starts_with(&first), "the earlier line is kept byte for byte:\n{extended}");
    let steps: Vec<u64> = extended.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, [5, 16, 32], "{extended}");
    let row = listed(&run);
    assert_eq!((row["epochs_done"].as_u64(), row["epochs"].as_u64()), (Some(2), Some(2)), "{row}");

    // ... and ends where an uninterrupted run does: same state, same epoch lines (means included).
    ok(&unigen(&args(&TINY, &["--set", "epochs=2", "--out", &full, "-q"])));
    assert_eq!(state(&run), state(&full));
    assert_eq!(untimed(&extended)[1..], untimed(&metrics(&full))[..]);
}

/// The lock is taken before the costly set-up: a second writer on a directory in use is refused
/// before it clusters the data (`clusters = K` runs k-means first, and says so on stderr).
#[test]
fn a_locked_run_directory_is_refused_before_the_clusters_are_formed() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r");
    let _held = unigen::run::lock::DirLock::acquire(&run).unwrap();
    let run = run.display().to_string();
    let o = unigen(&["train", "gan", "--data", "ring8", "--set", "clusters=8", "--set", "toy_train_size=1024", "--out", &run]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(3), "{t}");
    assert!(t.contains("in use by another") && !t.contains("k-means"), "refused before k-means: {t}");
}

#[test]
fn two_writers_on_one_run_directory_one_is_refused_and_a_killed_holder_blocks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r").display().to_string();
    let both = args(&LONG, &["--out", &run, "-q"]);
    let mut a = spawn(&both);
    let mut b = spawn(&both);
    // Whichever takes the lock second is refused at once, naming the directory and the holder.
    let (mut winner, loser) = loop {
        if a.try_wait().unwrap().is_some() {
            break (b, a);
        }
        if b.try_wait().unwrap().is_some() {
            break (a, b);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let refused = loser.wait_with_output().unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    let t = text(&refused);
    assert!(t.contains("in use by another unigen process") && t.contains(&run) && t.contains(&format!("pid {}", winner.id())), "{t}");

    // Readers keep working while it trains.
    wait_training(&run, &winner);
    let o = unigen(&["runs", &run]);
    ok(&o);
    // A third writer, a resume, is refused too.
    let o = unigen(&["train", "--out", &run, "--resume"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // Killed outright, the holder leaves no lock that blocks.
    winner.kill().unwrap();
    winner.wait().unwrap();
    let o = unigen(&["train", "--out", &run, "--resume", "--set", "max_steps=1", "-q"]);
    assert!(o.status.success(), "the lock went with the killed process: {}", text(&o));
    let once: Vec<u64> = untimed(&metrics(&run)).iter().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["epoch"].as_u64().unwrap()).collect();
    let mut unique = once.clone();
    unique.dedup();
    assert_eq!(once, unique, "no epoch written twice");
}

#[test]
fn ctrl_c_saves_a_checkpoint_says_how_to_resume_and_the_resumed_run_ends_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let (run, full) = (p("r"), p("full"));
    let child = spawn(&args(&LONG, &["--out", &run]));
    wait_training(&run, &child);
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("interrupted by SIGINT") && t.contains(&format!("unigen train --out {run} --resume")), "{t}");
    let step = listed(&run)["step"].as_u64().expect("a checkpoint was saved");
    assert!(step > 0 && step < 2048, "stopped at step {step}");
    assert!(t.contains(&format!("checkpoint of step {step} is saved")), "{t}");

    ok(&unigen(&["train", "--out", &run, "--resume", "-q"]));
    ok(&unigen(&args(&LONG, &["--out", &full, "-q"])));
    assert_eq!(state(&run), state(&full), "resumed after Ctrl-C, the run ends bit-identical");
    assert_eq!(untimed(&metrics(&run)), untimed(&metrics(&full)));

    // SIGTERM does the same with its own status; a second signal ends the process at once.
    let term = p("term");
    let child = spawn(&args(&LONG, &["--out", &term]));
    wait_training(&term, &child);
    signal(&child, libc::SIGTERM);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", text(&o));
    assert!(text(&o).contains("interrupted by SIGTERM"), "{}", text(&o));
    let child = spawn(&["train", "--out", &term, "--resume"]);
    wait_training(&term, &child);
    // Two different signals are both delivered (two of one kind may merge into one), by any of
    // the process's threads, in either order: whichever is handled second exits at once, with
    // its own status, before any checkpoint is written.
    signal(&child, libc::SIGINT);
    signal(&child, libc::SIGTERM);
    let o = child.wait_with_output().unwrap();
    assert!(matches!(o.status.code(), Some(130 | 143)), "{}", text(&o));
    assert!(!text(&o).contains("is saved"), "the second signal exits at once: {}", text(&o));
}

#[test]
fn resume_takes_model_data_and_seed_from_the_run_and_refuses_flags_that_contradict_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r").display().to_string();
    let net = ["--set", "hidden=[16]", "--set", "latent_dim=4", "--set", "batch_size=50"];
    ok(&unigen(&args(&["train", "vae", "--data-dir", &small(), "--out", &run, "-q", "--set", "epochs=1"], &net)));

    // The README's own command: no data flag needed (UNIGEN_DATA points nowhere here).
    let o = unigen(&["train", "vae", "--out", &run, "--resume", "--set", "epochs=2", "-q"]);
    ok(&o);
    assert_eq!(listed(&run)["epochs_done"], 2);

    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().display().to_string();
    for (flags, names) in [
        (vec!["train", "gan"], ["the model gan", "vae"]),
        (vec!["train", "--seed", "5"], ["--seed 5", "records 0"]),
        (vec!["train", "--data-dir", &empty], ["--data-dir", &small()]),
        (vec!["train", "--data", "ring8"], ["--data ring8", "mnist"]),
    ] {
        let o = unigen(&args(&flags, &["--out", &run, "--resume"]));
        assert_eq!(o.status.code(), Some(3), "{flags:?}: {}", text(&o));
        let t = text(&o);
        assert!(names.iter().all(|n| t.contains(n)) && t.contains("run.toml"), "{flags:?}: {t}");
    }
    // Restating the run's own is fine.
    for data in [&["--data", "mnist"][..], &[]] {
        let o = unigen(&[&["train", "vae", "--out", &run, "--resume", "--seed", "0", "--data-dir", &small()][..], data].concat());
        ok(&o);
        assert!(text(&o).contains("already complete at step 40"), "{}", text(&o));
    }
}

#[test]
fn commands_that_read_runs_say_what_is_wrong_with_the_documented_status_and_show_sample_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let (vae, gan) = (p("vae"), p("gan"));
    let net = ["--set", "hidden=[16]", "--set", "latent_dim=4", "--set", "batch_size=50", "--set", "epochs=1", "--set", "max_steps=8"];

    // The progress line counts the epochs max_steps allows; a GAN's losses are named.
    let o = unigen(&args(&["train", "gan", "--data-dir", &small(), "--out", &gan], &net));
    ok(&o);
    let t = text(&o);
    assert!(t.contains("8 steps, 1 epoch of 20"), "{t}");
    assert!(t.contains("d_loss") && t.contains("g_loss") && !t.contains("train loss"), "{t}");

    // A missing classifier is something missing (4), not a refused input.
    let o = unigen(&["eval", &gan]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));

    // Not a run: said once, with the status of something missing.
    for target in [dir.path().display().to_string(), concat!(env!("CARGO_MANIFEST_DIR"), "/README.md").to_string()] {
        let o = unigen(&["sample", &target]);
        assert_eq!(o.status.code(), Some(4), "{}", text(&o));
        let t = text(&o);
        assert!(t.contains("is not a run directory") && !t.contains("os error"), "{t}");
    }

    // Divergences of a run on images: a refused input.
    ok(&unigen(&args(&["train", "vae", "--data-dir", &small(), "--out", &vae, "-q"], &net)));
    let o = unigen(&["diverge", &vae]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // Partial evaluations say so wherever their scores are shown.
    let copy = p("vae-copy");
    ok(&unigen(&["eval", &vae, "--k", "10", "--n-test", "50", "-q"]));
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(Path::new(&vae).join("eval.json"), Path::new(&copy).join("eval.json")).unwrap();
    ok(&unigen(&["eval", &vae, "--k", "10", "--n-test", "100", "-q"]));
    let o = unigen(&["runs", &vae]);
    ok(&o);
    assert!(text(&o).contains("k 10, 100 test examples"), "{}", text(&o));
    let o = unigen(&["compare", &vae, &copy]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("n_test 100") && text(&o).contains("n_test 50") && text(&o).contains("--mixed-protocols"), "{}", text(&o));
    let o = unigen(&["compare", &vae, &copy, "--mixed-protocols"]);
    ok(&o);
    assert!(text(&o).contains("n_test (differs!)"), "{}", text(&o));
    let o = unigen(&["report", &vae, "--out", &p("report.html")]);
    ok(&o);
    let html = std::fs::read_to_string(p("report.html")).unwrap();
    assert!(html.contains("k 10, 100 test examples"), "the report's headline shows the sample size");
}

#[test]
fn a_failed_fetch_shows_every_mirror_suggests_data_dir_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cache/unigen/mnist");
    // Nothing listens on these loopback ports: each mirror fails with its own error.
    let (a, b) = ("http://127.0.0.1:9/", "http://127.0.0.1:7/");
    let o = unigen(&["data", "fetch", "mnist", "--dir", target.to_str().unwrap(), "--mirror", a, "--mirror", b]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains(&format!("{a}train-images")) && t.contains(&format!("{b}train-images")), "{t}");
    assert!(t.contains("--data-dir"), "{t}");
    assert!(!dir.path().join("cache").exists(), "no empty cache directory left behind");
}

/// Copies a committed run directory into `to`.
fn copy_run(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(from).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
    }
}

#[test]
fn runs_written_before_the_restructure_list_evaluate_and_resume_bit_identically() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/main-2026-11-30");
    let dir = tempfile::tempdir().unwrap();
    // Their state digests at step 20, as recorded when they were written (tests/data/main-2026-11-30).
    for (model, digest) in [
        ("vae", "f6a8881325b11ffeb978363c0a4ba80a087344cff83c9d7b92db9cc5b22421df"),
        ("gan", "ef9e7ef070364222859460d3cd01c6c77c128b6d1d58f9607d1b84b579f4b7f6"),
    ] {
        let run = dir.path().join(model);
        copy_run(&fixtures.join(model), &run);
        let run = run.display().to_string();
        assert_eq!(state(&run), digest, "{model}: the old checkpoint reads back whole");
        assert_eq!(listed(&run)["epochs_done"], 1);
        ok(&unigen(&["eval", &run, "--k", "10", "-q"]));
        ok(&unigen(&["report", &run, "-q"]));

        // The same run made by today's code, to step 20 and uninterrupted.
        let made = |name: &str, more: &[&str]| {
            let out = dir.path().join(name).display().to_string();
            let base = ["train", model, "--data", "ring8", "--set", "hidden=[16]", "--set", "toy_train_size=1024", "--set", "batch_size=64"];
            let rest = ["--set", "epochs=2", "--set", "checkpoint_every=10", "--set", "epoch_eval_size=256", "-q", "--out", &out];
            ok(&unigen(&[&base[..], &rest[..], more].concat()));
            out
        };
        let (twenty, full) = (made(&format!("{model}-20"), &["--stop-after-steps", "20"]), made(&format!("{model}-full"), &[]));
        let fixture_metrics = untimed(&metrics(&fixtures.join(model).display().to_string()));
        ok(&unigen(&["train", "--out", &run, "--resume", "-q"]));
        if state(&twenty) == digest {
            // Today's code reaches the fixture's weights: the products round as on the fixture's
            // machine, so the resumed run must end exactly where an uninterrupted one does.
            assert_eq!(state(&run), state(&full), "{model}: resumed from the old checkpoint, bit-identical");
            // The reported losses are sums whose order follows the vector width (an AVX2 CPU
            // and an AVX-512 one reach the same weights here but report losses a few ulps
            // apart), and the resumed run keeps the fixture's first epoch and partial sums.
            if untimed(&metrics(&twenty)) == fixture_metrics {
                assert_eq!(untimed(&metrics(&run)), untimed(&metrics(&full)), "{model}");
            } else {
                eprintln!("{model}: this CPU reports the fixture's losses in other last bits; checked the weights only");
            }
        } else {
            // Another kind of CPU rounds differently: the old checkpoint must still resume the
            // same way every time.
            let again = dir.path().join(format!("{model}-again"));
            copy_run(&fixtures.join(model), &again);
            let again = again.display().to_string();
            ok(&unigen(&["train", "--out", &again, "--resume", "-q"]));
            assert_eq!(state(&run), state(&again), "{model}: resuming the old checkpoint is deterministic");
            eprintln!("{model}: this CPU's arithmetic differs from the fixture's machine; checked determinism only");
        }
    }
}

#[test]
fn eval_scores_the_best_validation_state_unless_told_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r").display().to_string();
    let sets = ["--set", "validation=200", "--set", "epochs=3", "--set", "hidden=[16]", "--set", "latent_dim=4", "--set", "batch_size=50"];
    ok(&unigen(&args(&["train", "vae", "--data-dir", &small(), "--out", &run, "-q"], &sets)));
    let scored = |extra: &[&str]| {
        let o = unigen(&args(&["eval", &run, "--k", "5", "--n-test", "50", "--json"], extra));
        ok(&o);
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let best = scored(&[]);
    assert_eq!(best["checkpoint"]["file"], "best.safetensors", "{best}");
    assert!(best["checkpoint"]["validation_elbo"].is_number(), "{best}");
    let last = scored(&["--last"]);
    assert_eq!(last["checkpoint"]["file"], "checkpoint.safetensors", "{last}");
    assert_eq!(last["step"], 48, "800 training digits left, 16 steps an epoch");
    // Selection needs a validation set, and a model with a bound to select on.
    let o = unigen(&["train", "vae", "--data", "ring8", "--set", "patience=2", "--out", &dir.path().join("p").display().to_string()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("set `validation` too"), "{}", text(&o));
    let o = unigen(&["train", "gan", "--data", "ring8", "--set", "validation=100", "--out", &dir.path().join("g").display().to_string()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("`validation` is not read by gan"), "{}", text(&o));
}
