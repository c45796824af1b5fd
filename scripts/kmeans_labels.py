#!/usr/bin/env python3
"""Issue 23 item 5, a probe of self-conditioning: k-means clusters of MNIST's training images
(pixels in [0, 1], k-means++ from numpy's generator seeded 0, at most 30 Lloyd iterations), written
as the training label file of a copy of the data directory, so the conditional recipe
(`MODEL=cgan MNIST=OUT scripts/gan_recipe.sh ...`) trains on clusters instead of digits. Prints the
clusters' purity against the digit labels and their sizes. unigen reads labels 0-9, so K <= 10.

    /path/to/python-with-numpy scripts/kmeans_labels.py MNIST_DIR K OUT_DIR
"""
import gzip, os, shutil, struct, sys

import numpy as np

src, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if not 1 <= k <= 10:
    sys.exit(f"K = {k}: unigen's MNIST labels are 0-9, so K must be 1-10")
with gzip.open(f"{src}/train-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255
with gzip.open(f"{src}/train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)
rng = np.random.default_rng(0)
# k-means++: each next centre drawn in proportion to the squared distance to the nearest so far.
c = [x[rng.integers(len(x))]]
d2 = ((x - c[0]) ** 2).sum(1)
for _ in range(k - 1):
    i = rng.choice(len(x), p=d2 / d2.sum())
    c.append(x[i])
    d2 = np.minimum(d2, ((x - x[i]) ** 2).sum(1))
c = np.stack(c)
xx = (x ** 2).sum(1)
for it in range(30):
    a = (xx[:, None] - 2 * x @ c.T + (c ** 2).sum(1)[None]).argmin(1)
    new = np.stack([x[a == j].mean(0) if (a == j).any() else c[j] for j in range(k)])
    if np.allclose(new, c):
        break
    c = new
purity = sum(np.bincount(y[a == j]).max() for j in range(k) if (a == j).any()) / len(y)
print("k", k, "iterations", it, "purity", round(purity, 3), "sizes", np.bincount(a, minlength=k))
os.makedirs(out, exist_ok=True)
for name in ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
    shutil.copy(f"{src}/{name}", out)
with gzip.open(f"{out}/train-labels-idx1-ubyte.gz", "wb") as f:
    f.write(struct.pack(">II", 2049, len(a)) + a.astype(np.uint8).tobytes())
