"""PyTorch twins of `unigen bench`'s workloads: the same networks, batch sizes, losses and
optimisers as unigen's training steps (src/bench.rs), on 8 fixed batches of Bernoulli(1/2)
pixels, every loss read back (as unigen does for its NaN check).

Usage: python bench/torch_steps.py WORKLOAD [WARMUP STEPS BLOCKS THREADS]
WORKLOAD: vae | iwae5 | mlp_gan | dcgan | classifier | iwae_eval | iwae_eval_dcgan. Prints one JSON object like
`unigen bench --json`: steps per second of each timed block and the median.
"""
import json, math, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

from twins import Reshape, dcgan_down, dcgan_up, gan_step, mlp

work = sys.argv[1]
warmup, steps, blocks, threads = (int(a) for a in (sys.argv[2:6] + ["5", "30", "3", "2"][len(sys.argv) - 2:]))
torch.set_num_threads(threads)
torch.manual_seed(0)


batch = {"vae": 128, "iwae5": 128, "mlp_gan": 64, "dcgan": 64, "classifier": 500, "iwae_eval": 10, "iwae_eval_dcgan": 4}[work]
gan = work in ("mlp_gan", "dcgan")
pool = [torch.bernoulli(torch.full((batch, 784), 0.5)) * (2 if gan else 1) - (1 if gan else 0) for _ in range(8)]



if work in ("vae", "iwae5", "iwae_eval", "iwae_eval_dcgan"):
    k = {"vae": 1, "iwae5": 5, "iwae_eval": 1000, "iwae_eval_dcgan": 1000}[work]
    if work == "iwae_eval_dcgan":
        # The Table 3 reproduction's convolutional VAE, batch norm in inference mode.
        enc, dec = dcgan_down(100).eval(), dcgan_up(50, 784).eval()
    else:
        enc, dec = mlp([784, 512, 512, 100], nn.ReLU), mlp([50, 512, 512, 784], nn.ReLU)

    def bound(x):
        """The batch's mean ELBO (k = 1, KL in closed form) or L_k."""
        h = enc(x)
        mu, lv = h[:, :50], h[:, 50:]
        eps = torch.randn(k, batch, 50)
        z = mu + eps * torch.exp(0.5 * lv)
        logits = dec(z.reshape(k * batch, 50)).reshape(k, batch, 784)
        log_px = -F.binary_cross_entropy_with_logits(logits, x.expand(k, batch, 784), reduction="none").sum(2)
        if k == 1:
            kl = -0.5 * (1 + lv - mu * mu - lv.exp()).sum(1)
            return (log_px.mean(0) - kl).mean()
        log_pz = -0.5 * (z * z + math.log(2 * math.pi)).sum(2)
        log_qz = -0.5 * (eps * eps + lv + math.log(2 * math.pi)).sum(2)
        return (torch.logsumexp(log_px + log_pz - log_qz, 0) - math.log(k)).mean()

    if work.startswith("iwae_eval"):
        # L_1000 on a few digits, as `unigen eval` computes it: no gradient.
        @torch.no_grad()
        def step(i):
            return float(bound(pool[i % 8]))
    else:
        opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)

        def step(i):
            loss = -bound(pool[i % 8])
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.item()
elif gan:
    if work == "mlp_gan":
        g = nn.Sequential(mlp([100, 256, 512, 784], nn.ReLU), nn.Tanh())
        d = mlp([784, 512, 256, 1], lambda: nn.LeakyReLU(0.2))
    else:
        g, d = nn.Sequential(dcgan_up(100, 784), nn.Tanh()), dcgan_down(1)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(i):
        d_loss, g_loss = gan_step(g, d, opt_g, opt_d, pool[i % 8])
        g_loss.item()
        return d_loss.item()
else:
    net = nn.Sequential(Reshape(1, 28, 28), nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(64 * 7 * 7, 128), nn.ReLU())
    head = nn.Linear(128, 10)

    @torch.no_grad()
    def step(i):
        f = net(pool[i % 8])
        log_p = F.log_softmax(head(f), 1)
        return float(log_p[0, 0])

last = float("nan")
for i in range(warmup):
    last = step(i)
rates = []
for _ in range(blocks):
    t = time.perf_counter()
    for i in range(steps):
        last = step(i)
    rates.append(steps / (time.perf_counter() - t))
med = statistics.median(rates)
print(json.dumps({"workload": work, "batch": batch, "steps_per_s": rates, "median_steps_per_s": med,
                  "median_examples_per_s": med * batch, "last_loss": last, "threads": torch.get_num_threads()}))
