"""What the PyTorch twins share: unigen's networks (src/nets), the GAN step of
src/models/gan/step.rs, and MNIST's training images. Imported by the scripts beside it (running
`python bench/X.py` puts this directory on the import path)."""
import gzip
import struct

import torch
import torch.nn.functional as F
from torch import nn


def mlp(widths, act=nn.ReLU):
    """Linear layers of the given widths with `act` between them (none after the last)."""
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


def dcgan_up(z_dim, out):
    """The DCGAN generator's shape (before any output squashing): a GAN's G, a conv VAE's decoder."""
    return nn.Sequential(nn.Linear(z_dim, 128 * 7 * 7), Reshape(128, 7, 7), nn.BatchNorm2d(128), nn.ReLU(),
                         nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.ConvTranspose2d(64, 1, 4, 2, 1), Reshape(out))


def dcgan_down(out):
    """The DCGAN discriminator's shape: a GAN's D, a conv VAE's encoder."""
    return nn.Sequential(Reshape(1, 28, 28), nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1),
                         nn.BatchNorm2d(128), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(128 * 7 * 7, out))


def gan_step(g, d, opt_g, opt_d, x, z_dim=100):
    """One D update on `x` and fresh samples, then one G update with the non-saturating loss;
    returns both losses as tensors."""
    b = x.shape[0]
    fake = g(torch.randn(b, z_dim)).detach()
    d_loss = F.softplus(-d(x)).mean() + F.softplus(d(fake)).mean()
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = F.softplus(-d(g(torch.randn(b, z_dim)))).mean()
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


def mnist_train_images(mnist_dir):
    """The 60,000 training images, [60000, 784] float pixels in [0, 1]."""
    raw = gzip.open(f"{mnist_dir}/train-images-idx3-ubyte.gz").read()
    n = struct.unpack(">I", raw[4:8])[0]
    return torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, 784).float() / 255.0
