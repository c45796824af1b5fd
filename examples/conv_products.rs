//! GFLOP/s of `gemm` on the three products of the DCGAN discriminator's second convolution
//! (batch 64, 64 -> 128 channels, 14x14 -> 7x7, 4x4 filters), one thread, called as
//! `kernels::matmul` calls it (the inner dimension in blocks of at most 512); each the best of 5
//! blocks of 10 calls. PyTorch's twin: bench/conv_products.py (docs/performance.md).
//! `cargo run --release --example conv_products`
use gemm::{Parallelism, gemm};
use unigen::bench::best_per_call;

/// `c = a · b` (m x k by k x n), `a` and `b` given by their column and row strides.
fn call(m: usize, n: usize, k: usize, c: &mut [f32], a: &[f32], (a_cs, a_rs): (isize, isize), b: &[f32], (b_cs, b_rs): (isize, isize), depth: usize) {
    for d0 in (0..k).step_by(depth) {
        let read = d0 > 0;
        // SAFETY: the strides describe in-bounds views of `a` and `b`; `c` is m x n.
        unsafe { gemm(m, n, depth.min(k - d0), c.as_mut_ptr(), 1, n as isize, read, a.as_ptr().offset(d0 as isize * a_cs), a_cs, a_rs, b.as_ptr().offset(d0 as isize * b_rs), b_cs, b_rs, if read { 1.0 } else { 0.0 }, 1.0, false, false, false, Parallelism::None) }
    }
}

fn main() {
    let (rows, k, o) = (3136usize, 1024usize, 128usize);
    let x: Vec<f32> = (0..rows * k).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
    let w: Vec<f32> = (0..o * k).map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5).collect();
    let dy: Vec<f32> = (0..rows * o).map(|i| ((i * 31) % 1000) as f32 / 1000.0 - 0.5).collect();
    let mut y = vec![0f32; rows * o];
    let mut dx = vec![0f32; rows * k];
    let mut dw = vec![0f32; o * k];
    let flops = 2.0 * (rows * k * o) as f64;
    let time = |name: &str, f: &mut dyn FnMut()| {
        let best = best_per_call(5, 10, f);
        println!("{name:40} {:7.2} ms  {:6.1} GFLOP/s", best * 1e3, flops / best / 1e9);
    };
    // forward: y = X · wᵀ
    time("forward X[3136,1024] wT", &mut || call(rows, o, k, &mut y, &x, (1, k as isize), &w, (k as isize, 1), 512));
    // input gradient: Dy · w
    time("input grad Dy[3136,128] w[128,1024]", &mut || call(rows, k, o, &mut dx, &dy, (1, o as isize), &w, (1, k as isize), o));
    // filter gradient: Dyᵀ · X, inner dimension in blocks of 448
    time("filter grad DyT[128,3136] X (448)", &mut || call(o, k, rows, &mut dw, &dy, (o as isize, 1), &x, (1, k as isize), 448));
}
