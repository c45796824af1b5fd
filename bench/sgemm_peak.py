"""The machine's single-precision matmul peak as PyTorch reaches it: GFLOP/s of a 2048x2048x2048
product (median of 7), with the threads PyTorch uses for the bench (2 here).
Usage: python3 bench/sgemm_peak.py [THREADS]"""
import statistics, sys, time, torch

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
n = 2048
a, b = torch.randn(n, n), torch.randn(n, n)
a @ b
rates = []
for _ in range(7):
    t = time.perf_counter()
    a @ b
    rates.append(2 * n**3 / (time.perf_counter() - t) / 1e9)
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: {statistics.median(rates):.1f} GFLOP/s (median of 7; {min(rates):.1f}-{max(rates):.1f})")
