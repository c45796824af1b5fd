//! `unigen demo`: the README's main job. Trains a VAE, a GAN and an IWGAN on the built-in ring of
//! 8 Gaussians (no download) and shows data beside each model's samples, with mode coverage.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use unigen::backend::Backend;
use unigen::config::TrainConfig;
use unigen::data::{DataSource, TOY_TEST_SEED, Toy};
use unigen::eval::{likelihood::estimate, modes};
use unigen::models::ModelKind;
use unigen::plot;
use unigen::train::{EVAL_SEED, RunSpec, TrainOptions, Trained, coverage_samples, load_trained, test_set, train};

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  unigen demo                    # about 2 minutes on 2 cores; unigen-demo/demo.png\n  \
    unigen demo --out /tmp/demo --seed 1 --json")]
pub struct Args {
    /// Output directory (the three runs and demo.png go here).
    #[arg(long, default_value = "unigen-demo")]
    pub out: PathBuf,
    /// Seed of the three runs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The models shown, with their epochs (20,000 points each): the VAE needs longer to place its
/// mass on the thin modes.
const MODELS: [(ModelKind, usize); 3] = [(ModelKind::Vae, 100), (ModelKind::Gan, 40), (ModelKind::Iwgan, 40)];

pub fn run(a: Args, backend: Backend) -> anyhow::Result<()> {
    let toy = Toy::Ring8;
    let device = backend.device()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    say!("unigen demo: VAE, GAN and IWGAN learn a ring of 8 Gaussians (radius 2, std 0.02), trained side by side");
    let started = Instant::now();
    let specs: Vec<(RunSpec, PathBuf)> = MODELS
        .iter()
        .map(|&(model, epochs)| {
            let data = DataSource::Ring8;
            let mut config = TrainConfig::default_for(data.kind(), model);
            config.epochs = epochs;
            (RunSpec { model, seed: a.seed, data, config }, a.out.join(format!("{}-ring8", model.name())))
        })
        .collect();
    // Three trainings on threads: each uses about one core, so together they fill the machine.
    let steps: u64 = std::thread::scope(|s| -> anyhow::Result<u64> {
        let handles: Vec<_> = specs
            .iter()
            .map(|(spec, dir)| {
                let device = device.clone().autodiff();
                s.spawn(move || -> anyhow::Result<u64> {
                    if dir.exists() {
                        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
                    }
                    let out = train(spec, dir, &device, &TrainOptions::default()).with_context(|| format!("training {}", spec.model.name()))?;
                    Ok(out.steps)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("training thread panicked")).sum()
    })?;
    let secs = started.elapsed().as_secs_f64();

    // ---- samples, coverage, and the VAE's bound ----
    let (real, _) = toy.sample(modes::SAMPLES, TOY_TEST_SEED, 1);
    let mut panels = vec![plot::scatter(&[(&real, [40, 40, 160])], 3.0, 300)];
    let mut rows = vec![("data".to_string(), modes::coverage(toy, &real))];
    let mut elbo = None;
    for (spec, dir) in &specs {
        let (_, trained, _) = load_trained(dir, &device)?;
        let x = coverage_samples(spec, &trained, &device);
        panels.push(plot::scatter(&[(&x, [200, 30, 30])], 3.0, 300));
        rows.push((spec.model.name().to_uppercase(), modes::coverage(toy, &x)));
        if let Trained::Vae(m) = &trained {
            elbo = Some(estimate(m, &test_set(spec)?, 100, EVAL_SEED, &device, |_| {})?);
        }
    }
    let png = a.out.join("demo.png");
    plot::save_png(&plot::side_by_side(&panels), &png)?;

    if super::ui().json {
        let table: Vec<_> = rows.iter().map(|(name, c)| serde_json::json!({ "model": name, "coverage": c })).collect();
        let elbo = elbo.map(|e| serde_json::json!({ "test_elbo": e.elbo, "test_iwae": e.iwae, "k": e.k }));
        return super::emit(serde_json::json!({ "steps": steps, "wall_s": secs, "picture": png, "coverage": table, "vae": elbo }), || {});
    }
    println!("unigen demo: {steps} steps of three models in {secs:.0} s");
    println!("  picture: {} (left to right: data, VAE, GAN, IWGAN; {} points each)", png.display(), modes::SAMPLES);
    println!();
    println!("  {:<8} {:>15} {:>14} {:>22}", "", "modes captured", "high-quality", "KL(modes || uniform)");
    for (name, c) in &rows {
        println!("  {:<8} {:>12}/{:<2} {:>13.1}% {:>22.3}", name, c.modes_captured, c.modes, 100.0 * c.high_quality, c.mode_kl);
    }
    if let Some(e) = elbo {
        println!("\n  VAE test ELBO {:.3} nats, IWAE bound (k=100) {:.3} nats on 10,000 test points", e.elbo, e.iwae);
    }
    println!("\n  high-quality = within 3 std of the nearest mode centre; a mode is captured when it gets at");
    println!("  least {:.0}% of its fair share of samples. The VAE minimises KL(data || model), which punishes", 100.0 * modes::CAPTURE_SHARE);
    println!("  missing a mode more than mass between modes; the GAN's generator minimises the reverse");
    println!("  direction, which rewards sharp samples. IWGAN reweights the GAN's samples by D/(1-D),");
    println!("  the importance weights of the VAE side.");
    Ok(())
}
