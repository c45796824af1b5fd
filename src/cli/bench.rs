//! `unigen bench`: steps per second of the real training steps.

use unigen::backend::Backend;
use unigen::bench::{Workload, time};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Workloads to time (default: all).
    #[arg(value_enum)]
    pub workloads: Vec<Workload>,
    /// Untimed steps first.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Steps per timed block.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Timed blocks; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub blocks: usize,
}

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    ensure_arg!(a.steps > 0 && a.blocks > 0, "--steps and --blocks must be at least 1");
    let device = backend.device()?;
    let workloads = if a.workloads.is_empty() { Workload::ALL.to_vec() } else { a.workloads };
    for w in workloads {
        let t = time(w, a.warmup, a.steps, a.blocks, &device)?;
        if super::ui().json {
            println!("{}", serde_json::to_string(&t)?);
        } else {
            let blocks: Vec<String> = t.steps_per_s.iter().map(|r| format!("{r:.2}")).collect();
            println!(
                "{:<11} batch {:>3}  {:>8.2} steps/s  {:>8.0} examples/s  (blocks {})",
                format!("{w:?}").to_lowercase(),
                t.batch,
                t.median_steps_per_s,
                t.median_examples_per_s,
                blocks.join(", ")
            );
        }
    }
    Ok(())
}
