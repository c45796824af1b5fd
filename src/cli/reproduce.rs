//! `unigen reproduce`: the paper's MNIST tables, resumable, written up in markdown.

use std::path::PathBuf;

use unigen::backend::Backend;
use unigen::data::DataSource;
use unigen::eval::classifier;
use unigen::reproduce::{self, Budget, Plan, Table};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which table: table2 (inception score, conditional accuracy, SVAE accuracy), table3 (test
    /// ELBO), or all.
    #[arg(value_enum)]
    pub table: Table,
    /// Seeds per model (0..N), paired between each baseline and its transferred twin.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// quick: the whole set in under an hour on 2 CPU cores; paper: long runs, DCGAN nets for GANs.
    #[arg(long, value_enum, default_value_t = Budget::Quick)]
    pub budget: Budget,
    /// Directory with the four MNIST IDX files (default: where `--data mnist` looks).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the runs go (default: runs/reproduce-BUDGET); rerunning continues what is there.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The markdown report.
    #[arg(long, value_name = "FILE", default_value = "docs/reproduction.md")]
    pub report: PathBuf,
    /// The reference classifier for the GAN rows (default: $UNIGEN_CLASSIFIER, else the one shipped
    /// with unigen).
    #[arg(long, value_name = "FILE")]
    pub classifier: Option<PathBuf>,
    /// Where each finished run's result is also written, to be committed; a run whose result is
    /// there is skipped, and one made under another protocol or classifier is refused.
    #[arg(long, value_name = "DIR", default_value = "docs/reproduction")]
    pub results: PathBuf,
    /// Runs trained at once, the cores split evenly between them (a run's numbers do not depend
    /// on how many threads it had). Default: the cores, at most 2: on a 2-core machine two
    /// one-thread runs made 1.22-1.25 times the steps of one two-thread run (MLP VAE, AA-VAE,
    /// conv VAE, DCGAN; docs/performance.md); more is not measured.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Train nothing: write the report from the runs finished so far (committed in --results or
    /// in --out), each row saying how many of its seeds are in. A reproduction under way also
    /// rewrites the report after every run.
    #[arg(long)]
    pub report_only: bool,
    /// Write the report, then fail with exit status 4 if it is partial (fewer seed pairs than
    /// planned): for a script that merges a campaign's results and must know they are all in.
    #[arg(long, conflicts_with_all = ["plan", "run"])]
    pub require_complete: bool,
    /// A setting beyond the budget's, `key=value` as in `unigen train --set`, applied to every
    /// model of the rows that reads it, e.g. `--set alpha=0.5` changes the AA runs only, so the
    /// baselines' finished runs are reused (repeatable). The runs it changes are named after it
    /// (`aavae+alpha=0.5-1-data-s0`); a key no model of the rows reads is refused.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Only these rows: the transferred model and the start of the setting, e.g. `--row aavae@1%
    /// --row aavae@10%` (repeatable; all rows without it).
    #[arg(long = "row", value_name = "MODEL@SETTING")]
    pub rows: Vec<String>,
    /// Train nothing: print the campaign as independent commands, one per run not finished yet,
    /// each this command with `--run NAME --jobs 1` (for a Slurm job array or several machines:
    /// docs/scale.md). Each writes its result to --results; `--report-only` merges them.
    #[arg(long, conflicts_with_all = ["report_only", "run"])]
    pub plan: bool,
    /// Only the run of this name (its directory's, e.g. `aavae-1-data-s3`; repeatable): one
    /// line of `--plan`. The report is left to `--report-only`, once the runs are in.
    #[arg(long = "run", value_name = "NAME")]
    pub run: Vec<String>,
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    ensure_arg!(a.seeds >= 1, "--seeds must be at least 1");
    let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(2));
    ensure_arg!(jobs >= 1, "--jobs must be at least 1");
    let mnist = match DataSource::resolve(Some("mnist"), a.data_dir.clone())? {
        DataSource::Mnist { dir } => std::fs::canonicalize(&dir).unwrap_or(dir),
        _ => unreachable!("mnist resolves to MNIST"),
    };
    let device = backend.device()?;
    let rows = reproduce::select(reproduce::rows(a.table), &a.rows)?;
    let needs_classifier = rows.iter().any(|r| r.base.family() == unigen::config::Family::Gan);
    // Loaded first, so a missing classifier stops the command before hours of training.
    let reference = if needs_classifier {
        Some(classifier::reference(a.classifier.as_deref(), &device)?)
    } else {
        None
    };
    let log = |line: &str| say!("{line}");
    let command = std::iter::once("unigen".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
    let plan = Plan {
        mnist,
        out: a.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(format!("reproduce-{}", a.budget.name()))),
        seeds: a.seeds,
        budget: a.budget,
        reference: reference.as_ref(),
        log: &log,
        interrupt: unigen::interrupt::Interrupt::on_signals()?,
        results: Some(a.results.clone()),
        machine: machine(backend),
        jobs,
        commit: reproduce::commit(),
        command,
        // Runs picked by name leave the report to `--report-only`: the processes of one campaign
        // would rewrite it at once.
        report: a.run.is_empty().then(|| a.report.clone()),
        sets: a.sets.clone(),
        only: a.run.clone(),
    };
    if a.plan {
        for name in reproduce::run_names(&plan, &rows)? {
            println!("{} --jobs 1 --run {name}", plan_command());
        }
        return Ok(());
    }
    let started = std::time::Instant::now();
    let finished = match if a.report_only { reproduce::collect(&plan, &rows) } else { reproduce::run(&plan, &rows, &device) } {
        Err(e @ unigen::Error::Interrupted { .. }) => {
            return Err(anyhow::Error::new(e).context("stopped; run the same command again to continue: finished runs are kept, the interrupted one resumes"));
        }
        other => other?,
    };
    let wall = finished.wall_s();
    if !a.run.is_empty() {
        say!("{} finished ({:.0} s); the report: the same command with --report-only instead of --run", a.run.join(", "), started.elapsed().as_secs_f64());
        return Ok(());
    }
    let md = reproduce::report(&plan, &rows, &finished);
    reproduce::save(&a.report, &md)?;
    // Checked after the report is saved (it shows what is in) and before the output, so `--json`
    // still prints one value: the error.
    let (pairs, wanted) = finished.completeness(&rows, plan.seeds);
    if a.require_complete && pairs < wanted {
        return Err(unigen::Error::NotFound(format!(
            "wrote {}, but it is partial: {pairs} of {wanted} seed pairs finished (--require-complete); `--plan` lists the runs left",
            a.report.display()
        ))
        .into());
    }
    super::emit(serde_json::json!({ "report": a.report, "results": finished.pairs.len(), "wall_s": wall }), || println!("{md}"))?;
    say!("report written to {} ({:.0} s this session)", a.report.display(), started.elapsed().as_secs_f64());
    Ok(())
}

/// This command line as `unigen ...` without `--plan` and `--jobs`: each line of a plan adds its
/// own. Arguments are quoted for a POSIX shell where they need it.
fn plan_command() -> String {
    let mut args = std::env::args().skip(1);
    let mut kept = vec!["unigen".to_string()];
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--plan" => {}
            "--jobs" => {
                args.next();
            }
            a if a.starts_with("--jobs=") => {}
            _ => kept.push(shell_quote(&arg)),
        }
    }
    kept.join(" ")
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_=./,:@%+".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The CPU model, its widest vector instructions and the cores used, for the report. The vector
/// width picks `gemm`'s kernels, so two machines of one model name may still round differently.
fn machine(backend: Backend) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let backend = if backend == Backend::Flex { "CPU backend".to_string() } else { format!("{backend:?} backend").to_lowercase() };
    format!("{cpu}, {}, {cores} cores, {backend}", simd())
}

fn simd() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "AVX-512";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return "AVX2";
        }
    }
    std::env::consts::ARCH
}
