//! `gemm` 0.19's own two-thread split against one block of output rows, or of output columns,
//! per thread, each a one-thread call, on the MLP's products (docs/performance.md, "Products
//! split into row blocks"); also checks that each gives the one-thread call's bits.
//! (`kernels::matmul::product` picks between the two splits; column blocks pack only their share
//! of `b`.)
//!
//! `cargo run --release --example gemm_threads`
use gemm::{Parallelism, gemm};
use unigen::bench::best_per_call;

/// Row-major `c = a · b`, `a` m x k, `b` k x n.
fn call(m: usize, n: usize, k: usize, c: &mut [f32], a: &[f32], b: &[f32], par: Parallelism) {
    // SAFETY: the slices hold m x k, k x n and m x n row-major values (asserted by the caller).
    unsafe { gemm(m, n, k, c.as_mut_ptr(), 1, n as isize, false, a.as_ptr(), 1, k as isize, b.as_ptr(), 1, n as isize, 0.0, 1.0, false, false, false, par) }
}

/// Columns `j0..j1` of row-major `c = a · b` (`c` m x n at `c_addr`), one thread.
fn columns(m: usize, n: usize, k: usize, c_addr: usize, a: &[f32], b: &[f32], (j0, j1): (usize, usize)) {
    // SAFETY: `c_addr` points at m x n values and the blocks' columns do not overlap; `a` and `b`
    // hold m x k and k x n values.
    unsafe {
        let c = (c_addr as *mut f32).add(j0);
        gemm(m, j1 - j0, k, c, 1, n as isize, false, a.as_ptr(), 1, k as isize, b.as_ptr().add(j0), 1, n as isize, 0.0, 1.0, false, false, false, Parallelism::None)
    }
}

fn main() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    pool.install(|| {
        for (m, k, n) in [(100usize, 784usize, 500usize), (100, 500, 500), (100, 500, 100), (100, 50, 500), (784, 100, 500), (500, 100, 500), (500, 100, 784), (1000, 500, 784), (1000, 50, 500)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5).collect();
            let (mut one, mut two, mut split, mut cols) = (vec![0f32; m * n], vec![0f32; m * n], vec![0f32; m * n], vec![0f32; m * n]);
            let time = |f: &mut dyn FnMut()| best_per_call(1, 300, f);
            let t_one = time(&mut || call(m, n, k, &mut one, &a, &b, Parallelism::None));
            let t_two = time(&mut || call(m, n, k, &mut two, &a, &b, Parallelism::Rayon(2)));
            let h = m / 2;
            let t_split = time(&mut || {
                let (top, bottom) = split.split_at_mut(h * n);
                let (a0, a1) = a.split_at(h * k);
                rayon::join(|| call(h, n, k, top, a0, &b, Parallelism::None), || call(m - h, n, k, bottom, a1, &b, Parallelism::None));
            });
            let w = n / 2;
            let t_cols = time(&mut || {
                let c = cols.as_mut_ptr() as usize;
                rayon::join(|| columns(m, n, k, c, &a, &b, (0, w)), || columns(m, n, k, c, &a, &b, (w, n)));
            });
            let same = |x: &[f32]| x.iter().zip(&one).all(|(x, y)| x.to_bits() == y.to_bits());
            println!(
                "{m}x{k}x{n}: one thread {:.3} ms; gemm's two threads {:.3} ms ({:.2}x); two row blocks {:.3} ms ({:.2}x); two column blocks {:.3} ms ({:.2}x); bits as one thread: {}, {}, {}",
                t_one * 1e3, t_two * 1e3, t_one / t_two, t_split * 1e3, t_one / t_split, t_cols * 1e3, t_one / t_cols, same(&two), same(&split), same(&cols)
            );
        }
    });
}
