//! What the tests of the `unigen` binary share: running it as a user would, with no data or
//! classifier found by default, and reading its output.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::process::{Command, Output};

/// `unigen` with `args`, where the default data and classifier locations hold nothing.
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unigen"));
    c.args(args)
        .env("UNIGEN_DATA", "/nonexistent-unigen-data")
        .env("XDG_CACHE_HOME", "/nonexistent-unigen-cache")
        .env("UNIGEN_CLASSIFIER", "/nonexistent-unigen-classifier/lenet.safetensors");
    c
}

pub fn unigen(args: &[&str]) -> Output {
    command(args).output().expect("unigen runs")
}

/// The committed MNIST subset (1,000 training and 500 test digits).
pub fn small() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mnist-small").display().to_string()
}

pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)
}

/// stdout and stderr together.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}
