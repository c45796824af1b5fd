//! `gemm` 0.19's own two-thread split against one block of output rows per thread, each a
//! one-thread call, on the MLP's products (docs/performance.md, "Products split into row
//! blocks"); also checks that both give the one-thread call's bits.
//!
//! `cargo run --release --example gemm_threads`
use gemm::{Parallelism, gemm};
use std::time::Instant;

/// Row-major `c = a · b`, `a` m x k, `b` k x n.
fn call(m: usize, n: usize, k: usize, c: &mut [f32], a: &[f32], b: &[f32], par: Parallelism) {
    // SAFETY: the slices hold m x k, k x n and m x n row-major values (asserted by the caller).
    unsafe { gemm(m, n, k, c.as_mut_ptr(), 1, n as isize, false, a.as_ptr(), 1, k as isize, b.as_ptr(), 1, n as isize, 0.0, 1.0, false, false, false, par) }
}

fn main() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    pool.install(|| {
        for (m, k, n) in [(100usize, 784usize, 500usize), (100, 500, 500), (100, 500, 100), (100, 50, 500), (784, 100, 500), (500, 100, 500), (500, 100, 784), (1000, 500, 784), (1000, 50, 500)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5).collect();
            let (mut one, mut two, mut split) = (vec![0f32; m * n], vec![0f32; m * n], vec![0f32; m * n]);
            let time = |f: &mut dyn FnMut()| {
                f();
                let t = Instant::now();
                for _ in 0..300 {
                    f();
                }
                t.elapsed().as_secs_f64() / 300.0
            };
            let t_one = time(&mut || call(m, n, k, &mut one, &a, &b, Parallelism::None));
            let t_two = time(&mut || call(m, n, k, &mut two, &a, &b, Parallelism::Rayon(2)));
            let h = m / 2;
            let t_split = time(&mut || {
                let (top, bottom) = split.split_at_mut(h * n);
                let (a0, a1) = a.split_at(h * k);
                rayon::join(|| call(h, n, k, top, a0, &b, Parallelism::None), || call(m - h, n, k, bottom, a1, &b, Parallelism::None));
            });
            let same = |x: &[f32]| x.iter().zip(&one).all(|(x, y)| x.to_bits() == y.to_bits());
            println!(
                "{m}x{k}x{n}: one thread {:.3} ms; gemm's two threads {:.3} ms ({:.2}x); two row blocks {:.3} ms ({:.2}x); bits as one thread: {}, {}",
                t_one * 1e3, t_two * 1e3, t_one / t_two, t_split * 1e3, t_one / t_split, same(&two), same(&split)
            );
        }
    });
}
