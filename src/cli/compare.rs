//! `unigen compare`: stored `unigen eval` results side by side, never across classifiers.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::Value;

use unigen::eval::classifier::check_same_fingerprint;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// eval.json files, or run directories holding one (written by `unigen eval`).
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
}

/// The columns shown, in order, when any result has them.
const KEYS: [&str; 11] = [
    "test_elbo",
    "test_iwae",
    "inception_score",
    "inception_score_std",
    "frechet_distance",
    "precision",
    "recall",
    "conditional_accuracy",
    "modes_captured",
    "high_quality",
    "mode_kl",
];

pub fn run(a: Args) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for path in &a.results {
        let file = if path.is_dir() { path.join(unigen::runs::EVAL_FILE) } else { path.clone() };
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {} (run `unigen eval` first)", file.display()))?;
        let v: Value = serde_json::from_str(&text).with_context(|| format!("{} is not a unigen eval result", file.display()))?;
        rows.push((path.display().to_string(), v));
    }
    check_same_fingerprint(rows.iter().map(|(name, v)| (name.as_str(), v["classifier_fingerprint"].as_str())))?;
    if super::ui().json {
        let rows: Vec<_> = rows.iter().map(|(name, v)| serde_json::json!({ "result": name, "eval": v })).collect();
        return super::emit(serde_json::json!(rows), || {});
    }
    let keys: Vec<&str> = KEYS.into_iter().filter(|k| rows.iter().any(|(_, v)| v.get(*k).is_some_and(|x| !x.is_null()))).collect();
    println!("| result | {} |", keys.join(" | "));
    println!("|---|{}", "---|".repeat(keys.len()));
    for (name, v) in &rows {
        let cells: Vec<String> = keys.iter().map(|k| v.get(*k).and_then(Value::as_f64).map_or("-".into(), |x| format!("{x:.4}"))).collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    if let Some(fp) = rows.iter().find_map(|(_, v)| v["classifier_fingerprint"].as_str()) {
        println!("\nclassifier fingerprint {fp}");
    }
    Ok(())
}
