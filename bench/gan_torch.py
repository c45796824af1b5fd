"""A PyTorch twin of `unigen train gan --set network=dcgan` on MNIST, for checking unigen's
unconditional GAN curve against an independent implementation (issue 23).

The same networks (bench/torch_steps.py's DCGAN pair), DCGAN's initial weights (every weight of a
linear map or convolution from N(0, 0.02^2), batch norm's scale from N(1, 0.02^2), biases 0),
latent 100, batch 64, Adam 2e-4 with beta1 0.5, the non-saturating generator loss, pixels in
[-1, 1], one D update then one G update per batch, a fresh shuffle every epoch. After each epoch
it writes 10,000 samples (G in inference mode: batch norm's running statistics, as unigen
samples) to OUT/samples-eN.npy, pixels in [0, 1], for `unigen eval OUT/samples-eN.npy`.

Usage: python gan_torch.py MNIST_DIR OUT_DIR SEED EPOCHS   (torch threads: TORCH_THREADS, default 1)
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

mnist, out, seed, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
torch.manual_seed(seed)
os.makedirs(out, exist_ok=True)


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


g = nn.Sequential(nn.Linear(100, 128 * 7 * 7), Reshape(128, 7, 7), nn.BatchNorm2d(128), nn.ReLU(),
                  nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                  nn.ConvTranspose2d(64, 1, 4, 2, 1), Reshape(784), nn.Tanh())
d = nn.Sequential(Reshape(1, 28, 28), nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1),
                  nn.BatchNorm2d(128), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
for m in list(g.modules()) + list(d.modules()):
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)

with gzip.open(os.path.join(mnist, "train-images-idx3-ubyte.gz")) as f:
    x_all = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
x_all = torch.from_numpy(x_all * 2 - 1)
opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
batch, n = 64, x_all.shape[0]
for epoch in range(1, epochs + 1):
    start = time.time()
    g.train()
    d.train()
    order = torch.randperm(n)
    for i in range(0, n - batch + 1, batch):
        x = x_all[order[i:i + batch]]
        fake = g(torch.randn(batch, 100)).detach()
        d_loss = F.softplus(-d(x)).mean() + F.softplus(d(fake)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-d(g(torch.randn(batch, 100)))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    g.eval()
    with torch.no_grad():
        samples = torch.cat([g(torch.randn(1000, 100)) for _ in range(10)])
    np.save(os.path.join(out, f"samples-e{epoch}.npy"), ((samples + 1) / 2).clamp(0, 1).numpy())
    print(f"epoch {epoch}: d_loss {d_loss.item():.3f}, g_loss {g_loss.item():.3f}, {time.time() - start:.0f} s", flush=True)
