//! `unigen diverge`: forward KL, reverse KL and JSD between data and model, per run, with standard
//! errors over redraws, and per model and data over seeds when several runs share them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

use unigen::backend::Backend;
use unigen::config::DataKind;
use unigen::data::{DataSource, samples};
use unigen::eval::directions::{self, MeanSe, Measured, Protocol};
use unigen::eval::divergence;
use unigen::runs;
use unigen::train::{RUN_FILE, RunSpec, load_trained};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run directories trained on 2-D data (ring8, grid25, a point file), directories to search
    /// for such runs, or files of model samples in the plane (.npy [n, 2], or two numbers per
    /// line), which need --data.
    #[arg(required = true)]
    pub targets: Vec<PathBuf>,
    /// Sample files only: the data they are compared with (ring8, grid25, or a point file).
    #[arg(long)]
    pub data: Option<String>,
    /// Points per sample, data and model alike.
    #[arg(long, default_value_t = Protocol::default().samples)]
    pub samples: usize,
    /// Rounds of fresh samples; the standard errors are over these.
    #[arg(long, default_value_t = Protocol::default().redraws)]
    pub redraws: usize,
    /// Neighbours of the k-NN estimators.
    #[arg(long, default_value_t = divergence::K)]
    pub k: usize,
    /// Importance samples per test point for the likelihood side (models with an encoder).
    #[arg(long, default_value_t = Protocol::default().iwae_k)]
    pub iwae_k: usize,
}

/// One measured target.
struct Row {
    name: String,
    model: String,
    data: String,
    seed: Option<u64>,
    measured: Measured,
}

/// The runs and sample files named by the targets: a directory without `run.toml` stands for the
/// 2-D runs of generating models below it.
fn expand(targets: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for t in targets {
        if t.is_dir() && !t.join(RUN_FILE).exists() {
            let found: Vec<PathBuf> = runs::find(t)?
                .into_iter()
                .filter(|d| RunSpec::read(d).is_ok_and(|s| s.data.kind() == DataKind::Points2d && s.model.generates()))
                .collect();
            ensure_input!(!found.is_empty(), "{} holds no runs of generating models on 2-D data", t.display());
            out.extend(found);
        } else if !t.exists() {
            let problem = format!("{} does not exist (expected a run directory or a file of sample points)", t.display());
            return Err(std::io::Error::new(std::io::ErrorKind::NotFound, problem).into());
        } else {
            out.push(t.clone());
        }
    }
    Ok(out)
}

fn measure(target: &Path, a: &Args, protocol: &Protocol, device: &burn::tensor::Device) -> anyhow::Result<Row> {
    let name = target.display().to_string();
    if target.join(RUN_FILE).exists() {
        ensure_arg!(a.data.is_none(), "--data is for sample files; the run {} knows its data", target.display());
        let (spec, trained, _) = load_trained(target, device).with_context(|| format!("loading {}", target.display()))?;
        ensure_input!(
            spec.data.kind() == DataKind::Points2d && spec.model.generates(),
            "{} is a {} run on {}: divergences are measured for generating models on 2-D data",
            target.display(),
            spec.model.name(),
            spec.data.label()
        );
        let measured = unigen::train::directions_of(&spec, &trained, protocol, device)?;
        return Ok(Row { name, model: spec.model.name().into(), data: spec.data.name(), seed: Some(spec.seed), measured });
    }
    let Some(data) = &a.data else {
        return Err(super::Usage(format!("{} is a file of samples: say which data they are compared with (--data ring8, grid25 or a point file)", target.display())).into());
    };
    let source = DataSource::resolve(Some(data), None)?;
    ensure_input!(source.kind() == DataKind::Points2d, "--data {data}: divergences are measured on 2-D data (ring8, grid25, a point file)");
    let points = samples::read_points(target)?;
    let measured = directions::measure_samples(&source, protocol, |r| Ok(directions::subset(&points, protocol.samples, 2 * r as u64)))?;
    Ok(Row { name, model: "samples".into(), data: source.name(), seed: None, measured })
}

fn cell(e: &MeanSe) -> String {
    format!("{:.3} ± {:.3}", e.mean, e.se)
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    ensure_arg!(a.k >= 1, "--k must be at least 1");
    ensure_arg!(a.samples > a.k, "--samples must be more than --k ({})", a.k);
    ensure_arg!(a.redraws >= 1, "--redraws must be at least 1");
    ensure_arg!(a.iwae_k >= 1, "--iwae-k must be at least 1");
    let protocol = Protocol { samples: a.samples, redraws: a.redraws, k: a.k, iwae_k: a.iwae_k };
    let device = backend.device()?;
    let targets = expand(&a.targets)?;
    let mut rows = Vec::new();
    for t in &targets {
        say!("measuring {}", t.display());
        rows.push(measure(t, &a, &protocol, &device)?);
    }
    // Runs of one model on one data set, over their seeds.
    let mut groups: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.seed.is_some()) {
        groups.entry((r.data.clone(), r.model.clone())).or_default().push(r);
    }
    groups.retain(|_, rs| rs.len() > 1);
    // (JSON key, column header, the value of a measurement)
    let columns: [(&str, &str, fn(&Measured) -> Option<MeanSe>); 5] = [
        ("forward_kl", "KL(data||model)", |m| Some(m.forward_kl)),
        ("reverse_kl", "KL(model||data)", |m| Some(m.reverse_kl)),
        ("reverse_kl_exact", "exact p_data", |m| m.reverse_kl_exact),
        ("jsd", "JSD", |m| Some(m.jsd)),
        ("forward_kl_bound", "bound (IWAE)", |m| m.likelihood.as_ref().map(|l| l.forward_kl_bound)),
    ];
    // Mean and standard deviation over the runs of their mean values.
    let over_seeds = |rs: &[&Row], f: fn(&Measured) -> Option<MeanSe>| -> Option<(f64, f64)> {
        let v: Option<Vec<f64>> = rs.iter().map(|r| f(&r.measured).map(|e| e.mean)).collect();
        v.map(|v| unigen::eval::mean_std(&v))
    };
    let values = |cells: Vec<String>| format!("{:>16}  {:>16}  {:>18}  {:>15}  {:>16}", cells[0], cells[1], cells[2], cells[3], cells[4]);
    let headers = || values(columns.iter().map(|c| c.1.to_string()).collect());

    let json_rows: Vec<Value> = rows
        .iter()
        .map(|r| json!({ "target": r.name, "model": r.model, "data": r.data, "seed": r.seed, "divergences": r.measured }))
        .collect();
    let json_groups: Vec<Value> = groups
        .iter()
        .map(|((data, model), rs)| {
            let mut g = json!({ "model": model, "data": data, "seeds": rs.iter().map(|r| r.seed).collect::<Vec<_>>() });
            for (key, _, f) in columns {
                if let Some((mean, std)) = over_seeds(rs, f) {
                    g[key] = json!({ "mean": mean, "std": std });
                }
            }
            g
        })
        .collect();
    let value = json!({ "protocol": protocol, "estimator": "k-nearest-neighbour (Wang, Kulkarni & Verdú 2009); JSD against the pooled sample", "runs": json_rows, "over_seeds": json_groups });
    super::emit(value, || {
        println!(
            "divergences in nats: mean ± standard error over {} redraws of {} data and {} model points (k-NN estimators, k = {})",
            protocol.redraws, protocol.samples, protocol.samples, protocol.k
        );
        let widest = |f: fn(&Row) -> usize, least: usize| rows.iter().map(f).max().unwrap_or(0).max(least);
        let (width, mw, dw) = (widest(|r| r.name.len(), 6), widest(|r| r.model.len(), 8), widest(|r| r.data.len(), 8));
        println!("\n{:<width$}  {:<mw$} {:<dw$} {:>4}  {}", "target", "model", "data", "seed", headers());
        for r in &rows {
            let cells = columns.iter().map(|c| c.2(&r.measured).map_or("-".into(), |e| cell(&e))).collect();
            let seed = r.seed.map_or("-".into(), |s| s.to_string());
            println!("{:<width$}  {:<mw$} {:<dw$} {:>4}  {}", r.name, r.model, r.data, seed, values(cells));
        }
        if !groups.is_empty() {
            println!("\nper data and model, over runs (seeds): mean ± standard deviation of the runs' values");
            println!("{:<dw$} {:<mw$} {:>5}  {}", "data", "model", "runs", headers());
            for ((data, model), rs) in &groups {
                let cells = columns.iter().map(|c| over_seeds(rs, c.2).map_or("-".into(), |(m, s)| format!("{m:.3} ± {s:.3}"))).collect();
                println!("{:<dw$} {:<mw$} {:>5}  {}", data, model, rs.len(), values(cells));
            }
        }
        println!("\nKL(data||model), KL(model||data), JSD: two-sample k-NN estimates; they cannot see past the");
        println!("samples' spacing, so read large values as \"separated\" (docs/divergence.md).");
        if rows.iter().any(|r| r.measured.reverse_kl_exact.is_some()) {
            println!("exact p_data: KL(model||data) from the mixture's exact density and the model sample's entropy;");
            println!("it sees how deep in the data's tails the model's mass lies.");
        }
        if rows.iter().any(|r| r.measured.likelihood.is_some()) {
            println!("bound (IWAE): mean of log p_data(x) - L_k(x) over the test points (k = {}), an upper bound on", protocol.iwae_k);
            println!("KL(data||model) from the model's own likelihood (log p_data exact for ring8/grid25, k-NN for a point file).");
        }
    })
}
