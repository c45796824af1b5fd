"""A PyTorch twin of `unigen train gan --set network=dcgan` on MNIST, for checking unigen's
unconditional GAN curve against an independent implementation (issue 23).

The same networks (the DCGAN pair of bench/twins.py), DCGAN's initial weights (every weight of a
linear map or convolution from N(0, 0.02^2), batch norm's scale from N(1, 0.02^2), biases 0),
latent 100, batch 64, Adam 2e-4 with beta1 0.5, the non-saturating generator loss, pixels in
[-1, 1], one D update then one G update per batch, a fresh shuffle every epoch. After each epoch
it writes 10,000 samples (G in inference mode: batch norm's running statistics, as unigen
samples) to OUT/samples-eN.npy, pixels in [0, 1], for `unigen eval OUT/samples-eN.npy`.

Usage: python gan_torch.py MNIST_DIR OUT_DIR SEED EPOCHS   (torch threads: TORCH_THREADS, default 1)
"""
import os
import sys
import time

import numpy as np
import torch
from torch import nn

from twins import dcgan_down, dcgan_up, gan_step, mnist_train_images

mnist, out, seed, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
torch.manual_seed(seed)
os.makedirs(out, exist_ok=True)


g, d = nn.Sequential(dcgan_up(100, 784), nn.Tanh()), dcgan_down(1)
for m in list(g.modules()) + list(d.modules()):
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)

x_all = mnist_train_images(mnist) * 2 - 1
opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
batch, n = 64, x_all.shape[0]
for epoch in range(1, epochs + 1):
    start = time.time()
    g.train()
    d.train()
    order = torch.randperm(n)
    for i in range(0, n - batch + 1, batch):
        d_loss, g_loss = gan_step(g, d, opt_g, opt_d, x_all[order[i:i + batch]])
    g.eval()
    with torch.no_grad():
        samples = torch.cat([g(torch.randn(1000, 100)) for _ in range(10)])
    np.save(os.path.join(out, f"samples-e{epoch}.npy"), ((samples + 1) / 2).clamp(0, 1).numpy())
    print(f"epoch {epoch}: d_loss {d_loss.item():.3f}, g_loss {g_loss.item():.3f}, {time.time() - start:.0f} s", flush=True)
