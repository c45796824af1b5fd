//! `unigen sample`.

use std::path::PathBuf;

use anyhow::Context;

use unigen::backend::Backend;
use unigen::config::DataKind;
use unigen::data::{idx::SIDE, samples::npy_bytes};
use unigen::rng::{Purpose, stream};
use unigen::atomic::write_atomic;
use unigen::train::{balanced_labels, load_trained, sample_picture};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory written by `unigen train`.
    pub run_dir: PathBuf,
    /// Number of samples (conditional models on images: rounded up to one row per class).
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Output PNG (default: RUN_DIR/samples.png).
    #[arg(long, value_name = "FILE.png")]
    pub out: Option<PathBuf>,
    /// Also write the samples as a NumPy array ([n, 28, 28] float32 pixels in [0, 1], or [n, 2]
    /// points) that `unigen eval` reads; conditional models also write FILE.labels.npy.
    #[arg(long, value_name = "FILE.npy")]
    pub npy: Option<PathBuf>,
    /// Seed of the latent draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep each sample from F candidates of the generator, drawn in proportion to the
    /// discriminator's density ratio D/(1-D), the IWGAN's weight (GAN-family runs; 1: the
    /// generator's own samples).
    #[arg(long, value_name = "F", default_value_t = 1)]
    pub resample: usize,
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    ensure_arg!(a.n > 0, "--n must be at least 1");
    let device = backend.device()?;
    let (mut spec, model, _) = load_trained(&a.run_dir, &device).with_context(|| format!("loading {}", a.run_dir.display()))?;
    let model = super::resampled(model, a.resample, &spec, &a.run_dir, &device)?;
    ensure_input!(
        spec.model.generates(),
        "{} is a {} run: it does not generate samples (see `unigen eval {}` for its scores and {}/pictures for its pictures)",
        a.run_dir.display(),
        spec.model.name(),
        a.run_dir.display(),
        a.run_dir.display()
    );
    spec.seed = a.seed;
    let out = a.out.unwrap_or_else(|| a.run_dir.join("samples.png"));
    unigen::plot::save_png(&sample_picture(&spec, &model, a.n, u64::MAX, &device)?, &out)?;
    let mut written = vec![out];
    if let Some(npy) = a.npy {
        let x = model.sample(&spec, a.n, &mut stream(a.seed, Purpose::Sample, u64::MAX - 1), &device);
        let labels = balanced_labels(a.n, model.classes()); // the classes `sample` generated
        let shape: Vec<u64> = if spec.data.kind() == DataKind::Points2d { vec![a.n as u64, 2] } else { vec![a.n as u64, SIDE as u64, SIDE as u64] };
        write_atomic(&npy, &npy_bytes(&x, &shape))?;
        written.push(npy.clone());
        if !labels.is_empty() {
            let path = npy.with_extension("labels.npy");
            write_atomic(&path, &npy_bytes(&labels, &[a.n as u64]))?;
            written.push(path);
        }
    }
    super::emit(serde_json::json!({ "files": written }), || written.iter().for_each(|p| println!("{}", p.display())))
}
