//! Batch norm with its activation (`kernels::norm`), one thread, on the DCGAN generator's second
//! batch norm (`[12544, 64]`: batch 64, 14x14, 64 channels): the moments, the forward pass with
//! leaky ReLU, ReLU and none, the backward pass, and a copy of the same size for scale; each the
//! best of 7 blocks of 10 calls, in ns per element (docs/performance.md, "Leaky ReLU without a
//! branch").
//!
//! `cargo run --release --example norm_speed`
use unigen::bench::best_per_call;
use unigen::kernels::{Act, norm};
fn main() {
    let (m, c) = (12544usize, 64usize);
    let x: Vec<f32> = (0..m * c).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let r: Vec<f32> = (0..m * c).map(|i| ((i * 31) % 1000) as f32 / 500.0 - 1.0).collect();
    let (gamma, beta) = (vec![1.1f32; c], vec![0.1f32; c]);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    pool.install(|| {
        let t = |name: &str, f: &mut dyn FnMut()| {
            let best = best_per_call(7, 10, f);
            println!("{name:12} {:7.3} ms  {:5.2} ns/element", best * 1e3, best * 1e9 / (m * c) as f64);
        };
        let (mean, var) = norm::moments(&x, c);
        let s = norm::inv_std(&var, 1e-5);
        t("moments", &mut || { std::hint::black_box(norm::moments(&x, c)); });
        t("fwd leaky", &mut || { std::hint::black_box(norm::forward(&x, &mean, &s, &gamma, &beta, Act::LeakyRelu(0.2))); });
        let (y, xhat) = norm::forward(&x, &mean, &s, &gamma, &beta, Act::LeakyRelu(0.2));
        t("backward", &mut || { std::hint::black_box(norm::backward(&r, &xhat, &y, &s, &gamma, Act::LeakyRelu(0.2), true)); });
        t("fwd ident", &mut || { std::hint::black_box(norm::forward(&x, &mean, &s, &gamma, &beta, Act::Identity)); });
        t("fwd relu", &mut || { std::hint::black_box(norm::forward(&x, &mean, &s, &gamma, &beta, Act::Relu)); });
        t("copy", &mut || { std::hint::black_box(x.clone()); });
    });
}
