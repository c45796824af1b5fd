"""PyTorch's twin of examples/conv_products.rs: GFLOP/s of the DCGAN discriminator's second
convolution (batch 64, 64 -> 128 channels, 14x14 -> 7x7, 4x4 filters) on one thread, its three
products as matrix products (`x @ w.T`, `dy @ w`, `dy.T @ x`) and as `nn.Conv2d` forward and
forward plus backward; each the best of 5 blocks of 10 calls (docs/performance.md).
Usage: python3 bench/conv_products.py   (with a Python that has torch)"""
import time, torch
torch.set_num_threads(1)
def best(f, reps=10, rounds=5):
    f(); b = 1e9
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps): f()
        b = min(b, (time.perf_counter() - t) / reps)
    return b
fl = 2 * 3136 * 1024 * 128
x, w, dy = torch.randn(3136, 1024), torch.randn(128, 1024), torch.randn(3136, 128)
for name, f in [("mm forward X wT", lambda: x @ w.T), ("mm input grad Dy w", lambda: dy @ w), ("mm filter grad DyT X", lambda: dy.T @ x)]:
    t = best(f); print(f"{name:32} {t*1e3:7.2f} ms {fl/t/1e9:6.1f} GFLOP/s")
conv = torch.nn.Conv2d(64, 128, 4, 2, 1)
inp = torch.randn(64, 64, 14, 14, requires_grad=True)
with torch.no_grad():
    t = best(lambda: conv(inp)); print(f"{'conv forward':32} {t*1e3:7.2f} ms {fl/t/1e9:6.1f} GFLOP/s")
g = torch.randn(64, 128, 7, 7)
def fb():
    conv.zero_grad(); inp.grad = None
    conv(inp).backward(g)
t = best(fb); print(f"{'conv forward+backward':32} {t*1e3:7.2f} ms {3*fl/t/1e9:6.1f} GFLOP/s")
