//! How far the k-nearest-neighbour divergence estimators (src/eval/divergence.rs) are from the
//! truth, by sample size n and neighbours k: the measurements behind docs/divergence.md.
//!
//! `cargo run --release --example divergence_bias [REPEATS] [CASE_FILTER]` (default 10 repeats
//! per cell; a filter keeps the cases whose name contains it)
use unigen::data::Toy;
use unigen::eval::divergence::reference::{gaussian, gaussian_kl};
use unigen::eval::divergence::{divergences, kl, reverse_kl_exact_data};
use unigen::eval::mean_std;

fn main() {
    let repeats: u64 = std::env::args().nth(1).map_or(10, |a| a.parse().expect("REPEATS is a whole number"));
    let filter = std::env::args().nth(2).unwrap_or_default();
    // ring8 with each point's offset from its mode scaled by `blur` (std 0.02 * blur).
    let blurred = |n: usize, s: u64, blur: f32| {
        let (x, m) = Toy::Ring8.sample(n, s, 0);
        let c = Toy::Ring8.centres();
        x.chunks(2).zip(&m).flat_map(|(p, &m)| [c[m as usize][0] + blur * (p[0] - c[m as usize][0]), c[m as usize][1] + blur * (p[1] - c[m as usize][1])]).collect::<Vec<f32>>()
    };
    // KL(N(0, a^2 I) || N(0, b^2 I)) in the plane; the modes are far enough apart to add nothing.
    let iso_kl = |a: f64, b: f64| (a * a) / (b * b) - 1.0 + 2.0 * (b / a).ln();
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
        ("ring8 vs ring8 blurred x5, forward KL", iso_kl(1.0, 5.0), Box::new(move |n, k, s| kl(&blurred(n, s, 1.0), &blurred(n, s + 1000, 5.0), k).unwrap())),
        ("ring8 vs ring8 blurred x5, reverse KL", iso_kl(5.0, 1.0), Box::new(move |n, k, s| kl(&blurred(n, s + 1000, 5.0), &blurred(n, s, 1.0), k).unwrap())),
        ("ring8 vs ring8 blurred x5, reverse KL, exact p_data", iso_kl(5.0, 1.0), Box::new(move |n, k, s| reverse_kl_exact_data(Toy::Ring8, &blurred(n, s + 1000, 5.0), k).unwrap())),
        ("ring8 vs half its modes, reverse KL, exact p_data", 2f64.ln(), Box::new(move |n, k, s| reverse_kl_exact_data(Toy::Ring8, &half_ring(n, s).1, k).unwrap())),
        ("same: ring8 vs ring8, reverse KL, exact p_data", 0.0, Box::new(move |n, k, s| reverse_kl_exact_data(Toy::Ring8, &Toy::Ring8.sample(n, s, 0).0, k).unwrap())),
    ];
    let cases: Vec<Case> = cases.into_iter().filter(|c| c.0.contains(&filter)).collect();
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
                let (m, sd) = mean_std(&errors);
                print!(" {:>17}", format!("{m:+.3} ± {sd:.3}"));
            }
            println!();
        }
    }
}
