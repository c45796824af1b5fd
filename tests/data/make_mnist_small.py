"""Regenerates tests/data/mnist-small from the full MNIST files (run from the repo root).

Usage: python3 tests/data/make_mnist_small.py [MNIST_DIR]   (default ../shared/data/mnist)
"""
import gzip, struct, sys

src = (sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mnist").rstrip("/") + "/"
dst = "tests/data/mnist-small/"
for split, n in [("train", 1000), ("t10k", 500)]:
    img = gzip.open(src + f"{split}-images-idx3-ubyte.gz").read()
    lab = gzip.open(src + f"{split}-labels-idx1-ubyte.gz").read()
    out_img = struct.pack(">IIII", 0x803, n, 28, 28) + img[16:16 + n * 784]
    out_lab = struct.pack(">II", 0x801, n) + lab[8:8 + n]
    # mtime=0 keeps the files byte-stable across regenerations
    with open(dst + f"{split}-images-idx3-ubyte.gz", "wb") as f:
        f.write(gzip.compress(out_img, 9, mtime=0))
    with open(dst + f"{split}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(gzip.compress(out_lab, 9, mtime=0))
