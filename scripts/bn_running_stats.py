# Compares a conv VAE encoder's batch-norm running statistics (bn2) with the moments of real
# digits under the same weights: a check of the batch-norm hypothesis of docs/reproduction/README.md
# ("The warm-up row (b), scored"). Needs numpy (in a venv outside the repository).
#
#   python scripts/bn_running_stats.py RUN/best.safetensors [MORE.safetensors ...]
#
# For each checkpoint: the pre-normalisation activations of 1,000 validation digits (the last
# 10,000 training digits, binarised with seed 0), per channel; `shift`, the distance of their mean
# from the running mean in running standard deviations; `var ratio`, their variance over the
# running variance (1 where the running statistics describe real digits).
import gzip, json, struct, sys
import os
import numpy as np

DATA = os.path.join(os.environ.get('MNIST', '../shared/data/mnist'), 'train-images-idx3-ubyte.gz')

def load_st(path):
    b = open(path, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == '__metadata__' or v['dtype'] != 'F32': continue
        s, e = v['data_offsets']
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype=np.float32).reshape(v['shape'])
    return out

def conv(x, w, b):  # x [N,C,H,W], w [O,C,4,4], stride 2, pad 1
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    Ho, Wo = H // 2, W // 2
    cols = np.empty((N, C, 4, 4, Ho, Wo), np.float32)
    for i in range(4):
        for j in range(4):
            cols[:, :, i, j] = xp[:, :, i:i + 2 * Ho:2, j:j + 2 * Wo:2]
    y = np.einsum('ncijhw,ocij->nohw', cols, w, optimize=True)
    return y + b[None, :, None, None]

lrelu = lambda v: np.where(v > 0, v, 0.2 * v)

with gzip.open(DATA) as f:
    imgs = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28).astype(np.float32) / 255
rng = np.random.default_rng(0)
val = imgs[50000:][rng.choice(10000, 1000, replace=False)]
x = (rng.random(val.shape) < val).astype(np.float32)[:, None]

for path in sys.argv[1:]:
    t = load_st(path)
    p = 'model.conv_encoder.'
    a = conv(lrelu(conv(x, t[p + 'down1.weight'], t[p + 'down1.bias'])), t[p + 'down2.weight'], t[p + 'down2.bias'])
    m, v = a.mean((0, 2, 3)), a.var((0, 2, 3))
    rm, rv = t[p + 'bn2.running_mean'], t[p + 'bn2.running_var']
    # How far the running moments put real digits' normalised activations from (0, 1).
    shift = (m - rm) / np.sqrt(rv + 1e-5)
    scale = v / rv
    print(f"{path.split('/')[-2]:60s} |shift| mean {np.abs(shift).mean():.3f} max {np.abs(shift).max():.3f}; var ratio median {np.median(scale):.3f} [{scale.min():.3f}, {scale.max():.3f}]")
