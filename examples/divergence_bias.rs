//! How far the k-nearest-neighbour divergence estimators (src/eval/divergence.rs) are from the
//! truth, by sample size n and neighbours k: the measurements behind docs/divergence.md.
//!
//! `cargo run --release --example divergence_bias [REPEATS]` (default 10 repeats per cell)
use unigen::data::Toy;
use unigen::eval::divergence::reference::{gaussian, gaussian_kl};
use unigen::eval::divergence::{divergences, kl};

/// Mean and standard deviation of `v`.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (m, (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0).max(1.0)).sqrt())
}

fn main() {
    let repeats: u64 = std::env::args().nth(1).map_or(10, |a| a.parse().expect("REPEATS is a whole number"));
    let i2 = [1.0, 0.0, 1.0];
    // (name, truth, estimate from n points with k neighbours and seed s)
    type Case = (&'static str, f64, Box<dyn Fn(usize, usize, u64) -> f64>);
    let half_ring = |n: usize, s: u64| {
        let (x, m) = Toy::Ring8.sample(2 * n, 100 + s, 0);
        let model: Vec<f32> = x.chunks(2).zip(&m).filter(|(_, m)| **m % 2 == 0).flat_map(|(p, _)| p.to_vec()).collect();
        (Toy::Ring8.sample(n, 200 + s, 0).0, model)
    };
    let cases: Vec<Case> = vec![
        ("same: ring8 vs ring8, KL", 0.0, Box::new(|n, k, s| kl(&Toy::Ring8.sample(n, s, 0).0, &Toy::Ring8.sample(n, s + 1000, 0).0, k).unwrap())),
        ("same: ring8 vs ring8, JSD", 0.0, Box::new(|n, k, s| divergences(&Toy::Ring8.sample(n, s, 0).0, &Toy::Ring8.sample(n, s + 1000, 0).0, k).unwrap().jsd)),
        ("N(0,I) vs N((1,0),I), KL", 0.5, Box::new(move |n, k, s| kl(&gaussian(n, [0.0, 0.0], i2, s), &gaussian(n, [1.0, 0.0], i2, s + 1000), k).unwrap())),
        (
            "N(0,I) vs N(mu,[2 .6;.6 .5]), KL",
            gaussian_kl([0.0, 0.0], i2, [0.5, -0.5], [2.0, 0.6, 0.5]),
            Box::new(move |n, k, s| kl(&gaussian(n, [0.0, 0.0], i2, s), &gaussian(n, [0.5, -0.5], [2.0, 0.6, 0.5], s + 1000), k).unwrap()),
        ),
        (
            "N(mu,[2 .6;.6 .5]) vs N(0,I), KL",
            gaussian_kl([0.5, -0.5], [2.0, 0.6, 0.5], [0.0, 0.0], i2),
            Box::new(move |n, k, s| kl(&gaussian(n, [0.5, -0.5], [2.0, 0.6, 0.5], s + 1000), &gaussian(n, [0.0, 0.0], i2, s), k).unwrap()),
        ),
        ("ring8 vs half its modes, reverse KL", 2f64.ln(), Box::new(move |n, k, s| { let (d, m) = half_ring(n, s); divergences(&d, &m, k).unwrap().reverse_kl })),
        ("ring8 vs half its modes, JSD", 0.75 * (4.0f64 / 3.0).ln(), Box::new(move |n, k, s| { let (d, m) = half_ring(n, s); divergences(&d, &m, k).unwrap().jsd })),
    ];
    println!("estimate - truth, mean ± sd over {repeats} draws (nats)\n");
    let ns = [500, 2500, 10_000];
    let ks = [1, 5, 20];
    print!("{:38} {:>7} {:>4}", "case", "truth", "k");
    for n in ns {
        print!(" {:>17}", format!("n = {n}"));
    }
    println!();
    for (name, truth, estimate) in &cases {
        for k in ks {
            print!("{name:38} {truth:>7.3} {k:>4}");
            for n in ns {
                let errors: Vec<f64> = (0..repeats).map(|s| estimate(n, k, s) - truth).collect();
                let (m, sd) = mean_sd(&errors);
                print!(" {:>17}", format!("{m:+.3} ± {sd:.3}"));
            }
            println!();
        }
    }
}
