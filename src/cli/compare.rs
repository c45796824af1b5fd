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
    /// Show results measured on different numbers of test examples, k or samples side by side
    /// (marked); without it they are refused, as results of different classifiers always are.
    #[arg(long)]
    pub mixed_protocols: bool,
}

/// What a score's value depends on besides the model: test examples, importance samples and
/// generated samples. Results that differ in one are not comparable.
const PROTOCOL: [(&str, &[&str]); 3] = [("n_test", &["n_test"]), ("k", &["iwae_k"]), ("samples", &["protocol", "samples"])];

fn protocol_value(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_u64)
}

/// The columns shown, in order, when any result has them.
const KEYS: [&str; 14] = [
    "test_elbo",
    "test_iwae",
    "inception_score",
    "inception_score_std",
    "class_entropy",
    "conditional_entropy",
    "frechet_distance",
    "precision",
    "recall",
    "conditional_accuracy",
    "modes_captured",
    "modes_any",
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
    // The protocol columns any result has, and whether the results disagree on one.
    let sizes: Vec<(&str, &[&str])> = PROTOCOL.into_iter().filter(|(_, p)| rows.iter().any(|(_, v)| protocol_value(v, p).is_some())).collect();
    let mixed: Vec<&str> = sizes
        .iter()
        .filter(|(_, p)| {
            let seen: std::collections::BTreeSet<_> = rows.iter().filter_map(|(_, v)| protocol_value(v, p)).collect();
            seen.len() > 1
        })
        .map(|(name, _)| *name)
        .collect();
    if !mixed.is_empty() && !a.mixed_protocols {
        let detail: Vec<String> = rows
            .iter()
            .map(|(name, v)| {
                let cells: Vec<String> = sizes.iter().filter(|(n, _)| mixed.contains(n)).map(|(n, p)| format!("{n} {}", protocol_value(v, p).map_or("-".into(), |x| x.to_string()))).collect();
                format!("{name}: {}", cells.join(", "))
            })
            .collect();
        return Err(unigen::Error::Invalid(format!(
            "these results were measured differently ({}), so their scores are not comparable: re-run `unigen eval` with the same \
             --n-test, --k and --samples, or pass --mixed-protocols to show them side by side, marked",
            detail.join("; ")
        ))
        .into());
    }
    if super::ui().json {
        let rows: Vec<_> = rows.iter().map(|(name, v)| serde_json::json!({ "result": name, "eval": v })).collect();
        return super::emit(serde_json::json!(rows), || {});
    }
    let keys: Vec<&str> = KEYS.into_iter().filter(|k| rows.iter().any(|(_, v)| v.get(*k).is_some_and(|x| !x.is_null()))).collect();
    let size_names: Vec<String> = sizes.iter().map(|(n, _)| if mixed.contains(n) { format!("{n} (differs!)") } else { n.to_string() }).collect();
    println!("| result | {} |", keys.iter().map(|k| k.to_string()).chain(size_names).collect::<Vec<_>>().join(" | "));
    println!("|---|{}", "---|".repeat(keys.len() + sizes.len()));
    for (name, v) in &rows {
        let cells = keys.iter().map(|k| v.get(*k).and_then(Value::as_f64).map_or("-".into(), |x| format!("{x:.4}")));
        let size_cells = sizes.iter().map(|(_, p)| protocol_value(v, p).map_or("-".into(), |x| x.to_string()));
        println!("| {name} | {} |", cells.chain(size_cells).collect::<Vec<_>>().join(" | "));
    }
    if let Some(fp) = rows.iter().find_map(|(_, v)| v["classifier_fingerprint"].as_str()) {
        println!("\nclassifier fingerprint {fp}");
    }
    Ok(())
}
