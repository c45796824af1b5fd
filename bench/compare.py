"""unigen vs PyTorch on the same training steps, interleaved in one session.

Usage: python3 bench/compare.py PYTHON_WITH_TORCH [REPS] [WORKLOAD...]
Runs `unigen bench W --json` and `PYTHON bench/torch_steps.py W` alternately, REPS times per
workload, and prints a markdown table: median examples/s of each (over the reps' medians), the
ratio of those medians, and the median of the per-rep ratios (each rep's two runs are back to
back, so this one is the least affected by the shared machine's drifting speed). UNIGEN (default target/release/unigen) picks the binary.
The table starts with the lines a figure needs beside it: the CPU (model, family and model
numbers, SIMD flags), PyTorch's version and the instruction set it runs, the commit, the date.
"""
import json, os, statistics, subprocess, sys, time

py = sys.argv[1]
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
workloads = sys.argv[3:] or ["vae", "iwae5", "mlp_gan", "dcgan", "classifier", "iwae_eval", "iwae_eval_dcgan"]
unigen = os.environ.get("UNIGEN", "target/release/unigen")
steps = {"dcgan": "10", "classifier": "10", "iwae_eval": "10", "iwae_eval_dcgan": "3"}

def machine():
    """What the figures were measured on, from /proc/cpuinfo, PyTorch and git."""
    info = {}
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    simd = [f for f in info.get("flags", "").split() if f in ("fma", "avx", "avx2") or f.startswith("avx512") or f.startswith("amx")]
    torch = subprocess.run([py, "-c", "import torch; print(torch.__version__, torch.backends.cpu.get_cpu_capability())"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return [f"CPU: {info.get('model name', '?')}, family {info.get('cpu family', '?')} model {info.get('model', '?')}, {os.cpu_count()} CPUs; SIMD: {' '.join(simd) or 'none listed'}",
            f"PyTorch {torch or '?'}; unigen binary {unigen}, checkout at {commit or '?'}; {date}"]

def fmt(x):
    """Whole examples/s, or three significant digits below 100 (the evaluations score a few digits a second)."""
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


rows = []
for w in workloads:
    ours, theirs = [], []
    for _ in range(reps):
        n = steps.get(w, "30")
        out = subprocess.run([unigen, "bench", w.replace("_", "-"), "--json", "--steps", n], check=True, capture_output=True, text=True).stdout
        ours.append(json.loads(out)["median_examples_per_s"])
        out = subprocess.run([py, "bench/torch_steps.py", w, "5", n, "3", "2"], check=True, capture_output=True, text=True).stdout
        theirs.append(json.loads(out)["median_examples_per_s"])
        print(f"{w}: unigen {fmt(ours[-1])}, torch {fmt(theirs[-1])} examples/s", file=sys.stderr)
    a, b = statistics.median(ours), statistics.median(theirs)
    paired = statistics.median(x / y for x, y in zip(ours, theirs))
    rows.append(f"| {w} | {fmt(a)} ({', '.join(fmt(x) for x in ours)}) | {fmt(b)} ({', '.join(fmt(x) for x in theirs)}) | {a / b:.2f} | {paired:.2f} |")
print("\n".join(machine()) + "\n")
print("| workload | unigen examples/s (reps) | PyTorch examples/s (reps) | ratio of medians | median paired ratio |")
print("|---|---|---|---|---|")
print("\n".join(rows))
