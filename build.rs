//! Embeds the commit this binary is built from (`UNIGEN_BUILD_COMMIT`), so a result names the
//! code that made it even when the binary outlives its tree: a campaign runs for hours from a
//! frozen copy while the tree moves on. `+dirty` when the code (not the docs) differs from the
//! commit; empty outside a git checkout.

use std::process::Command;

/// What the binary is made from; the docs and results are not.
const CODE: [&str; 5] = ["src", "assets", "build.rs", "Cargo.toml", "Cargo.lock"];

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).map(|head| {
        let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
        status.extend(CODE);
        if git(&status).is_some_and(|s| !s.is_empty()) { format!("{head}+dirty") } else { head }
    });
    println!("cargo:rustc-env=UNIGEN_BUILD_COMMIT={}", commit.unwrap_or_default());
    // Run again when HEAD moves (a commit rewrites the index and the branch's ref) or the code changes.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
    }
    for path in CODE {
        println!("cargo:rerun-if-changed={path}");
    }
}
