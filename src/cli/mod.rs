//! The command line: clap types here, one file per command. The only home of `anyhow`.
//! Output conventions, shared by every command: results on stdout (one JSON value with
//! `--json`), status lines and progress on stderr (none with `--quiet` or `--json`), errors on
//! stderr with an exit status from [`unigen::error::exit`].

/// A status line on stderr, unless `--quiet` or `--json`.
macro_rules! say {
    ($($t:tt)*) => {
        if $crate::cli::ui().chatty() {
            eprintln!($($t)*)
        }
    };
}

/// Returns a usage error (exit status 2) unless `cond` holds.
macro_rules! ensure_arg {
    ($cond:expr, $($t:tt)*) => {
        if !$cond {
            return Err($crate::cli::Usage(format!($($t)*)).into());
        }
    };
}

/// Refuses an input (a file, a run, a flag's value) unless `cond` holds: exit status 3, like
/// every refused file or setting.
macro_rules! ensure_input {
    ($cond:expr, $($t:tt)*) => {
        if !$cond {
            return Err(unigen::Error::Invalid(format!($($t)*)).into());
        }
    };
}

mod bench;
mod classifier;
mod compare;
mod reproduce;
mod data;
mod demo;
mod diverge;
mod eval;
mod jobs;
mod models;
mod report;
mod runs;
mod sample;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{CommandFactory, Parser, Subcommand};
use serde_json::json;

use unigen::error::exit;

use unigen::backend::Backend;
use unigen::models::ModelKind;

#[derive(Parser, Debug)]
#[command(
    name = "unigen",
    version,
    about = "Deep generative models (VAE and GAN families) in one unified design",
    long_about = "unigen trains, samples and evaluates deep generative models built from shared pieces \
                  (ELBO, importance weights, discriminator losses), following Hu et al., \
                  \"On Unifying Deep Generative Models\" (ICLR 2018).",
    after_help = "Start with `unigen demo` (no download needed), then:\n  \
                  unigen data fetch mnist\n  \
                  unigen train vae --data mnist --out runs/vae\n  \
                  unigen eval runs/vae\n  \
                  unigen sample runs/vae --out vae.png\n  \
                  unigen train gan --data mnist --set network=dcgan --out runs/gan\n  \
                  unigen eval runs/gan                 # inception score, Fréchet distance, precision/recall\n  \
                  unigen runs                          # every run under runs/, with its headline metric\n  \
                  unigen report runs/vae runs/iwae     # one HTML page: curves overlaid, samples, configs\n\n\
                  Exit status: 0 success; 1 other failure; 2 bad command line; 3 a file or setting was\n\
                  refused (config, data, checkpoint, checksum); 4 something needed is missing (data, run,\n\
                  classifier); 5 training stopped on a NaN/inf loss; 6 reading or writing failed (disk\n\
                  full, permissions); 7 a download failed; 130/143 training stopped by Ctrl-C/SIGTERM\n\
                  (checkpoint saved).\n\
                  Threads: RAYON_NUM_THREADS=N (default one per core; the same bits on any number).\n\
                  Logging: RUST_LOG=unigen=debug (or info, trace) writes log lines to stderr."
)]
pub struct Cli {
    /// Where tensors live: the pure-Rust CPU backend, or a GPU backend compiled in with a cargo feature.
    #[arg(long, global = true, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// No progress bars or status lines on stderr; results and errors still print.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The result as one JSON value on stdout (errors too: {"error", "causes", "exit_code"}); implies --quiet.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train a model; writes checkpoints, metrics and pictures to a run directory.
    #[command(after_help = "Examples:\n  \
        unigen train vae --data mnist --out runs/vae\n  \
        unigen train iwae --data mnist --set k=5 --set epochs=100 --out runs/iwae5\n  \
        unigen train vae --data-dir ~/mnist --set train_fraction=0.1 --seed 2\n  \
        unigen train iwgan --data ring8 --set epochs=40\n  \
        unigen train gan --data-dir ~/mnist --set generator_form=saturating\n  \
        unigen train iwcgan --data mnist --set network=dcgan --set latent_dim=100\n  \
        unigen train infogan --data mnist --set latent_dim=62\n  \
        unigen train ada --data mnist --set domain_shift=invert     # --set domain_weight=0: source only\n  \
        unigen train cyclegan --data mnist --set domain_shift=thicken\n  \
        unigen train vae --data ring8 --config my.toml\n  \
        unigen train gan --data my-points.csv             # any 2-D points (.npy, or x,y per line)\n  \
        unigen train --out runs/vae --resume              # continue a killed or Ctrl-C'd run exactly\n  \
        unigen train --out runs/vae --resume --set epochs=100   # extend a finished run\n\n\
        Ctrl-C (or SIGTERM) stops at the next step with the checkpoint saved (exit 130/143); a second\n\
        Ctrl-C exits at once. One process writes a run directory at a time; a second is refused.\n\
        Run directory: run.toml (the settings), checkpoint.safetensors (model + optimizer + step),\n\
        metrics.jsonl (one JSON line per epoch), pictures/samples_NNN.png and\n\
        pictures/reconstructions_NNN.png (each epoch; every 500 steps when epochs are shorter);\n\
        on 2-D data divergences.svg (the KL directions by step; see `unigen diverge`); with\n\
        --set validation=N, validation.jsonl and best.safetensors (the state `unigen eval` scores).\n\
        Every setting and its default is listed in the README (\"Configuration\").")]
    Train(train::Args),
    /// Draw samples from a trained run into a PNG (conditional models: one row per class; InfoGAN:
    /// one row per category), and optionally a .npy array. ADA and CycleGAN runs do not sample.
    #[command(after_help = "Examples:\n  unigen sample runs/vae --n 100 --out samples.png\n  \
        unigen sample runs/cgan --n 100 --npy cgan.npy   # also cgan.labels.npy; `unigen eval cgan.npy --labels cgan.labels.npy`")]
    Sample(sample::Args),
    /// Score a run or a file of samples: test ELBO and L_k (models with an encoder); inception
    /// score, Fréchet distance, precision/recall, conditional accuracy (images); mode coverage and the
    /// KL directions (2-D data); each model's own scores (the VAE family's reconstruction and MMD of
    /// its codes to the prior, InfoGAN's code accuracy, ADA's target and source accuracy,
    /// CycleGAN's cycle error and accuracy on translations).
    #[command(after_help = "Examples:\n  \
        unigen eval runs/vae                 # k = 5000, the standard test log-likelihood estimate\n  \
        unigen eval runs/vae --k 100 --json  # faster; one JSON object on stdout\n  \
        unigen eval runs/gan                 # image metrics from 10,000 samples, read off the shipped classifier\n  \
        unigen eval samples.npy --labels samples.labels.npy   # images made elsewhere\n\n\
        The result, with its protocol (samples, seeds, splits, k, classifier fingerprint), is also\n\
        written to RUN_DIR/eval.json (or FILE.eval.json beside a sample file).")]
    Eval(eval::Args),
    /// Time the real training steps (VAE, IWAE k=5, MLP GAN, DCGAN), the classifier's forward pass and the L_1000 evaluation of an MLP and a convolutional VAE (iwae-eval, iwae-eval-dcgan).
    #[command(after_help = "Examples:\n  unigen bench                     # all workloads\n  \
        unigen bench dcgan --steps 20 --json   # one JSON object per workload, a line each, as each ends\n\n\
        python3 bench/compare.py PYTHON_WITH_TORCH runs them alternately with their PyTorch twins\n\
        (bench/torch_steps.py) and prints the ratios; docs/performance.md explains the figures.")]
    Bench(bench::Args),
    /// Stored `unigen eval` results side by side; refuses results scored with different classifiers.
    #[command(after_help = "Example:\n  unigen compare runs/gan-s0 runs/iwgan-s0 samples.eval.json")]
    Compare(compare::Args),
    /// The reference MNIST classifier behind the image metrics (one ships with unigen): show it, or train your own.
    #[command(subcommand)]
    Classifier(classifier::Command),
    /// Run the paper's MNIST tables (Table 2, Table 3) for several seeds and write the report
    /// beside the paper's numbers; rerun the same command to continue an interrupted one.
    #[command(after_help = "Examples:\n  \
        unigen reproduce all                              # quick budget, 3 seeds, docs/reproduction.md\n  \
        unigen reproduce table3 --seeds 5 --data-dir ~/mnist\n  \
        unigen reproduce table2 --budget paper --out runs/paper\n\n\
        Runs go to runs/reproduce-BUDGET/MODEL-SETTING-sSEED, each with result.json once scored.")]
    Reproduce(reproduce::Args),
    /// Run a list of commands (one per line, e.g. `reproduce --plan`'s) N at a time on this
    /// machine, the cores split between them.
    #[command(after_help = "Examples:\n  \
        unigen reproduce table3 --budget converge --seeds 5 --plan > plan.txt\n  \
        unigen jobs plan.txt --jobs 2\n\n\
        Each command runs under `sh -c` with RAYON_NUM_THREADS set to its share of the cores. The\n\
        exit status is 3 if any command failed (each is named with its line), 130/143 after Ctrl-C/SIGTERM.")]
    Jobs(jobs::Args),
    /// Forward KL(data||model), reverse KL(model||data) and JSD of models trained on 2-D data,
    /// estimated from samples with standard errors over redraws, and over seeds when several runs
    /// share a model and data set: the KL directions of the unified view, measured.
    #[command(after_help = "Examples:\n  \
        unigen diverge runs/gan-ring8-s0 runs/vae-ring8-s0\n  \
        unigen diverge runs/issue8                    # every 2-D run below; a table over seeds too\n  \
        unigen diverge samples.npy --data ring8        # points generated elsewhere\n  \
        unigen diverge runs/vae-ring8-s0 --redraws 10 --samples 20000 --json\n\n\
        Models with an encoder also get the likelihood side: the mean of log p_data(x) - L_k(x)\n\
        over the test points, an upper bound on KL(data||model). docs/divergence.md has the\n\
        estimators, their measured bias, and how many samples they need.")]
    Diverge(diverge::Args),
    /// Get and check data sets.
    #[command(subcommand)]
    Data(data::Command),
    /// Train a VAE, an AAVAE, a GAN and an IWGAN on the built-in ring of 8 Gaussians: a picture of
    /// their samples and a table of mode coverage and the measured KL directions (no download).
    Demo(demo::Args),
    /// Every model with its place in the unified formulation: what plays generator, inference
    /// model and discriminator, which KL it minimises, which wake-sleep phase it extends.
    #[command(after_help = "Examples:\n  unigen models\n  unigen models --json | jq '.[] | select(.model == \"infogan\")'")]
    Models(models::Args),
    /// List the runs under a directory: model, data, seed, progress and headline metric.
    #[command(after_help = "Examples:\n  unigen runs                 # everything under ./runs\n  \
        unigen runs runs/issue6 --json | jq '.[] | {run, headline}'")]
    Runs(runs::Args),
    /// One self-contained HTML page for one or more runs: loss and metric curves (runs overlaid),
    /// sample grids per epoch, configs, the evaluation protocol, wall time and throughput.
    #[command(after_help = "Examples:\n  unigen report runs/vae                       # writes runs/vae/report.html\n  \
        unigen report runs/gan-s0 runs/iwgan-s0 --out gan-vs-iwgan.html\n\n\
        The page needs no network: pictures are embedded, charts are inline SVG. It checks itself\n\
        when opened and says so at the bottom (\"report check: ok\").")]
    Report(report::Args),
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  unigen completions bash > ~/.local/share/bash-completion/completions/unigen\n  \
        unigen completions zsh > ~/.zfunc/_unigen\n  \
        unigen completions fish > ~/.config/fish/completions/unigen.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How results and status are shown, from the global flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ui {
    pub quiet: bool,
    pub json: bool,
}

impl Ui {
    /// Status lines and progress bars are shown.
    pub fn chatty(self) -> bool {
        !self.quiet && !self.json
    }
}

static UI: OnceLock<Ui> = OnceLock::new();

pub fn ui() -> Ui {
    UI.get().copied().unwrap_or_default()
}

/// Prints a command's result: `value` as one JSON line with `--json`, else the human text.
pub fn emit(value: serde_json::Value, human: impl FnOnce()) -> anyhow::Result<()> {
    if ui().json {
        println!("{}", serde_json::to_string(&value)?);
    } else {
        human();
    }
    Ok(())
}

/// A bad argument value: exit status 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The exit status of a failed command: the kind of the first library error in the chain.
fn exit_code(e: &anyhow::Error) -> u8 {
    e.chain()
        .find_map(|c| {
            c.downcast_ref::<unigen::Error>()
                .map(unigen::Error::exit_code)
                .or_else(|| c.downcast_ref::<Usage>().map(|_| exit::USAGE))
                .or_else(|| c.downcast_ref::<std::io::Error>().map(exit::of_io))
        })
        .unwrap_or(exit::FAILURE)
}

/// Parses the command line, runs it, and turns errors into an exit code with the whole chain printed.
pub fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    UI.set(Ui { quiet: cli.quiet, json: cli.json }).expect("set once");
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match threads_setting().and_then(|()| run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit_code(&e);
            if ui().json {
                let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
                println!("{}", json!({ "error": e.to_string(), "causes": causes, "exit_code": code }));
            }
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(code)
        }
    }
}

/// `RAYON_NUM_THREADS` sets how many threads every command uses, but rayon silently takes every
/// core when it cannot read the value (`RAYON_NUM_THREADS=two`): refused instead, exit 2. Read as
/// rayon reads it; 0, like an empty value, means one thread per core.
fn threads_setting() -> anyhow::Result<()> {
    let value = match std::env::var("RAYON_NUM_THREADS") {
        Ok(v) if !v.is_empty() && v.parse::<usize>().is_err() => format!("{v:?}"),
        Err(std::env::VarError::NotUnicode(v)) => format!("{v:?}"),
        _ => return Ok(()),
    };
    Err(Usage(format!("RAYON_NUM_THREADS={value} is not a number of threads (a whole number; 0 or unset: one per core)")).into())
}

/// Rust ignores SIGPIPE, so `unigen models | head` would panic on the closed pipe; a command-line
/// tool should end quietly instead, as `cat` does.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: resets one signal's disposition to the default, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(a) => train::run(a, cli.backend),
        Command::Sample(a) => sample::run(a, cli.backend),
        Command::Eval(a) => eval::run(a, cli.backend),
        Command::Data(c) => data::run(c),
        Command::Compare(a) => compare::run(a),
        Command::Bench(a) => bench::run(a, cli.backend),
        Command::Classifier(c) => classifier::run(c, cli.backend),
        Command::Demo(a) => demo::run(a, cli.backend),
        Command::Diverge(a) => diverge::run(a, cli.backend),
        Command::Reproduce(a) => reproduce::run(a, cli.backend),
        Command::Jobs(a) => jobs::run(a),
        Command::Models(a) => models::run(a),
        Command::Runs(a) => runs::run(a),
        Command::Report(a) => report::run(a),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "unigen", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// The default run directory for a model, data set and seed.
pub fn default_run_dir(model: ModelKind, data: &str, seed: u64) -> PathBuf {
    PathBuf::from("runs").join(format!("{}-{data}-s{seed}", model.name()))
}

/// `trained`, its samples kept from `factor` candidates each by its discriminator's density ratio
/// (`--resample`, [`unigen::models::resample`]); at 1, the model itself. A model without a
/// discriminator that judges one sample is refused, naming the run.
pub fn resampled(trained: unigen::train::Trained, factor: usize, spec: &unigen::run::RunSpec, run_dir: &std::path::Path, device: &burn::tensor::Device) -> anyhow::Result<unigen::train::Trained> {
    ensure_arg!(factor >= 1, "--resample must be at least 1 (1: the generator's own samples)");
    if factor == 1 {
        return Ok(trained);
    }
    match unigen::models::resample::Resampled::new(trained, factor, spec, device) {
        Ok(r) => Ok(Box::new(r)),
        Err(_) => Err(unigen::Error::Invalid(format!(
            "--resample {factor}: {} is a {} run, which has no discriminator that judges one sample at a time \
             (GAN, IWGAN, CGAN and IW-CGAN have one, unless packed, pack > 1, or conditioned on clusters)",
            run_dir.display(),
            spec.model.name()
        ))
        .into()),
    }
}
