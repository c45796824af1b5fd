"""Writes reference.json: two random 6x6 covariance matrices and means, with the trace of the
matrix square root of their product and their Frechet distance as scipy computes them
(scipy.linalg.sqrtm, the general matrix square root, independent of unigen's symmetric route).

Usage (from the repo root, numpy and scipy installed): python3 tests/data/frechet/make_reference.py
"""
import json

import numpy as np
import scipy
import scipy.linalg

rng = np.random.default_rng(20261121)
d = 6
a = rng.normal(size=(d, d))
b = rng.normal(size=(d, d)) * 0.5
sigma1 = a @ a.T + 0.1 * np.eye(d)
sigma2 = b @ b.T + 0.3 * np.eye(d)
mu1 = rng.normal(size=d)
mu2 = rng.normal(size=d)
covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
trace = float(np.trace(covmean).real)
fd = float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1) + np.trace(sigma2) - 2 * trace)
out = {
    "produced_by": f"tests/data/frechet/make_reference.py, numpy {np.__version__}, scipy {scipy.__version__}",
    "sigma1": sigma1.tolist(),
    "sigma2": sigma2.tolist(),
    "mu1": mu1.tolist(),
    "mu2": mu2.tolist(),
    "trace_sqrtm": trace,
    "frechet_distance": fd,
}
with open("tests/data/frechet/reference.json", "w") as f:
    json.dump(out, f, indent=1)
print(trace, fd)
