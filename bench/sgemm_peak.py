"""The machine's single-precision matmul peak as PyTorch reaches it: GFLOP/s of a 2048x2048x2048
product (median of 7), with the threads PyTorch uses for the bench (2 here); with `shapes`, also
the MLP VAE's products that `cargo run --release --example ops` times for burn-flex's `gemm`
(mean of 100 each).
Usage: python3 bench/sgemm_peak.py [THREADS] [shapes]"""
import statistics, sys, time, torch

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
if len(sys.argv) > 2:
    assert sys.argv[2] == "shapes", f"the second argument can only be 'shapes', not {sys.argv[2]!r}"
    for m, k, n in [(128, 784, 512), (128, 512, 512), (128, 512, 100), (128, 50, 512), (784, 128, 512), (512, 128, 512)]:
        a, b = torch.randn(m, k), torch.randn(k, n)
        a @ b
        t = time.perf_counter()
        for _ in range(100):
            a @ b
        dt = (time.perf_counter() - t) / 100
        print(f"matmul {m}x{k}x{n}: {dt * 1e3:.3f} ms, {2 * m * k * n / dt / 1e9:.1f} GFLOP/s")
n = 2048
a, b = torch.randn(n, n), torch.randn(n, n)
a @ b
rates = []
for _ in range(7):
    t = time.perf_counter()
    a @ b
    rates.append(2 * n**3 / (time.perf_counter() - t) / 1e9)
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: {statistics.median(rates):.1f} GFLOP/s (median of 7; {min(rates):.1f}-{max(rates):.1f})")
