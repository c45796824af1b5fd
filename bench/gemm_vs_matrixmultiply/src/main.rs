//! One-thread `C = A B` (row-major, m x k times k x n) by `gemm` and by `matrixmultiply`, on the
//! products of the IWAE k = 5 step (784-512-512-50 nets, batch 128: the encoder on 128 rows, the
//! decoder on 640) and 2048^3: GFLOP/s of each (median of 5 blocks of at least 2 GFLOP) and the
//! largest difference between their results. An argument `gemm` or `mm` times only that one.
use std::time::Instant;

fn main() {
    let shapes: Vec<(usize, usize, usize, &str)> = vec![
        (128, 784, 512, "enc fwd 1"), (128, 512, 512, "enc fwd 2"), (640, 50, 512, "dec fwd 1"), (640, 512, 512, "dec fwd 2"), (640, 512, 784, "dec fwd 3"),
        (640, 784, 512, "dec dX 3"), (640, 512, 512, "dec dX 2"), (128, 512, 784, "enc dX 2"),
        (784, 128, 512, "enc dW 1"), (512, 128, 512, "enc dW 2"), (512, 128, 100, "enc dW 3"), (50, 640, 512, "dec dW 1"), (512, 640, 512, "dec dW 2"), (512, 640, 784, "dec dW 3"),
        (2048, 2048, 2048, "big"),
    ];
    let which = std::env::args().nth(1).unwrap_or_default();
    for (m, k, n, name) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1000) as f32) / 1000.0 - 0.5).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104729 % 1000) as f32) / 1000.0 - 0.5).collect();
        let mut c1 = vec![0f32; m * n];
        let mut c2 = vec![0f32; m * n];
        let flop = 2.0 * (m * k * n) as f64;
        let reps = ((2e9 / flop) as usize).max(3);
        let run_gemm = |c: &mut [f32]| unsafe {
            gemm::gemm(m, n, k, c.as_mut_ptr(), 1, n as isize, false, a.as_ptr(), 1, k as isize, b.as_ptr(), 1, n as isize, 0.0, 1.0, false, false, false, gemm::Parallelism::None)
        };
        let run_mm = |c: &mut [f32]| unsafe {
            matrixmultiply::sgemm(m, k, n, 1.0, a.as_ptr(), k as isize, 1, b.as_ptr(), n as isize, 1, 0.0, c.as_mut_ptr(), n as isize, 1)
        };
        let mut g = vec![]; let mut mm = vec![];
        for _ in 0..5 {
            if which != "mm" { let t = Instant::now(); for _ in 0..reps { run_gemm(&mut c1); } g.push(flop * reps as f64 / t.elapsed().as_secs_f64() / 1e9); }
            if which != "gemm" { let t = Instant::now(); for _ in 0..reps { run_mm(&mut c2); } mm.push(flop * reps as f64 / t.elapsed().as_secs_f64() / 1e9); }
        }
        g.sort_by(|x, y| x.partial_cmp(y).unwrap()); mm.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let med = |v: &Vec<f64>| if v.is_empty() { 0.0 } else { v[v.len() / 2] };
        let diff = if which.is_empty() { c1.iter().zip(&c2).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max) } else { 0.0 };
        println!("{name:10} {m:5}x{k:5}x{n:5}  gemm {:6.1}  mm {:6.1}  ratio mm/gemm {:.2}  maxdiff {diff:.2e}", med(&g), med(&mm), med(&mm) / med(&g));
    }
}
