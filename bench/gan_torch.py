"""PyTorch reference for unigen's GAN training iteration (issue 3 throughput comparison).

The identical networks and iteration as
  unigen train gan --set batch_size=64 --set latent_dim=100 --set hidden=[256,512]            (mlp)
  unigen train gan --set batch_size=64 --set latent_dim=100 --set network=dcgan               (dcgan)
MLP: generator 100-256-512-784 (ReLU, tanh out), discriminator 784-512-256-1 (leaky ReLU 0.2).
DCGAN: generator fc 100 -> 128x7x7, BN, ReLU, convT(128->64, 4, 2, 1), BN, ReLU,
convT(64->1, 4, 2, 1), tanh; discriminator conv(1->64, 4, 2, 1), LReLU, conv(64->128, 4, 2, 1),
BN, LReLU, fc 6272 -> 1.
One iteration: a discriminator step on a real batch (pixels scaled to [-1, 1]) and a detached
fake batch, then a generator step on fresh z (non-saturating loss), both with
Adam(lr 2e-4, betas (0.5, 0.999)), both losses read back every step (as unigen does).

Usage: python bench/gan_torch.py MNIST_DIR mlp|dcgan [EXAMPLES] [THREADS]
Prints examples/s over one pass of EXAMPLES training digits (default 6000).
"""
import gzip, struct, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

mnist, net = sys.argv[1], sys.argv[2]
examples = int(sys.argv[3]) if len(sys.argv) > 3 else 6000
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
torch.manual_seed(0)

raw = gzip.open(f"{mnist}/train-images-idx3-ubyte.gz").read()
n = struct.unpack(">I", raw[4:8])[0]
x_all = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, 784).float() / 255.0 * 2 - 1
x_all = x_all[:examples]


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


if net == "mlp":
    g = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 784), nn.Tanh())
    d = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
else:
    g = nn.Sequential(nn.Linear(100, 128 * 7 * 7), Reshape(128, 7, 7), nn.BatchNorm2d(128), nn.ReLU(),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(), Reshape(784))
    d = nn.Sequential(Reshape(1, 28, 28), nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1),
                      nn.BatchNorm2d(128), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
batch = 64
perm = torch.randperm(examples)
t = time.perf_counter()
steps = examples // batch
for i in range(steps):
    x = x_all[perm[i * batch:(i + 1) * batch]]
    fake = g(torch.randn(batch, 100)).detach()
    lr, lf = d(x), d(fake)
    d_loss = F.softplus(-lr).mean() + F.softplus(lf).mean()
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = F.softplus(-d(g(torch.randn(batch, 100)))).mean()
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    d_loss.item(), g_loss.item()
dt = time.perf_counter() - t
print(f"torch {net}: {steps * batch / dt:.0f} examples/s ({steps} iterations of batch {batch}, {torch.get_num_threads()} threads, d_loss {d_loss.item():.3f} g_loss {g_loss.item():.3f})")
