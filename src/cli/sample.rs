//! `unigen sample`.

use std::path::PathBuf;

use anyhow::Context;

use unigen::backend::Backend;
use unigen::train::{load_trained, sample_picture};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory written by `unigen train`.
    pub run_dir: PathBuf,
    /// Number of samples.
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Output PNG (default: RUN_DIR/samples.png).
    #[arg(long, value_name = "FILE.png")]
    pub out: Option<PathBuf>,
    /// Seed of the latent draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    anyhow::ensure!(a.n > 0, "--n must be at least 1");
    let device = backend.device()?;
    let (spec, model, _) = load_trained(&a.run_dir, &device).with_context(|| format!("loading {}", a.run_dir.display()))?;
    let out = a.out.unwrap_or_else(|| a.run_dir.join("samples.png"));
    let mut spec = spec;
    spec.seed = a.seed;
    let img = sample_picture(&spec, &model, a.n, u64::MAX, &device);
    unigen::plot::save_png(&img, &out)?;
    println!("{}", out.display());
    Ok(())
}
