"""PyTorch reference for unigen's VAE training step (issue 2 throughput comparison).

The identical model and step as `unigen train vae --data-dir DIR` with default settings:
encoder 784-500-500-100 (mean and log-variance of a 50-d z), decoder 50-500-500-784, ReLU,
Bernoulli likelihood from logits, closed-form KL, batch 100, Adam(lr 1e-3, betas (0.9, 0.999),
eps 1e-8), each batch dynamically binarised, the loss read back every step (as unigen does
for its NaN check and progress bar).

Usage: python bench/vae_torch.py MNIST_DIR [EPOCHS] [THREADS] [flush]
Prints one line per epoch: examples/s over the epoch's training steps and the epoch's mean
loss (the number unigen writes as train_loss in metrics.jsonl). `flush` sets
torch.set_flush_denormal(True), the mode unigen runs in (subnormal numbers flushed to zero);
PyTorch's default computes on them.
"""
import sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

from twins import mlp, mnist_train_images

mnist = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
torch.manual_seed(0)
if len(sys.argv) > 4:
    assert sys.argv[4] == "flush", f"the fourth argument can only be 'flush', not {sys.argv[4]!r}"
    assert torch.set_flush_denormal(True), "this CPU cannot flush subnormals"

x_all = mnist_train_images(mnist)
n = x_all.shape[0]


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = mlp([784, 500, 500, 100])
        self.dec = mlp([50, 500, 500, 784])

    def loss(self, x):
        h = self.enc(x)
        mu, lv = h[:, :50], h[:, 50:]
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
        logits = self.dec(z)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = -0.5 * (1 + lv - mu * mu - lv.exp()).sum(1)
        return (rec + kl).mean()


model = Vae()
opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
batch = 100
for epoch in range(epochs):
    perm = torch.randperm(n)
    t = time.perf_counter()
    total = 0.0
    for i in range(n // batch):
        x = torch.bernoulli(x_all[perm[i * batch:(i + 1) * batch]])
        loss = model.loss(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    dt = time.perf_counter() - t
    mean = total / (n // batch)
    print(f"torch epoch {epoch + 1}: {n // batch * batch / dt:.0f} examples/s (mean loss {mean:.2f}, {torch.get_num_threads()} threads)")
