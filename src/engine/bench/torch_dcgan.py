"""The benchmark's DCGAN in PyTorch, mirroring src/engine/bench/dcgan.ts step for step.

Usage: torch_dcgan.py SIZE WARMUP STEPS  -> prints one JSON line {"img_s": ..., "ms_step": ...}.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(2)
torch.manual_seed(1)


def build(size):
    ups = int(math.log2(size // 4))
    chans = [64 * 2 ** (ups - 1 - i) for i in range(ups)]
    g_layers = [nn.Unflatten(1, (chans[0], 4, 4))]
    for i, c in enumerate(chans):
        out = chans[i + 1] if i + 1 < len(chans) else 3
        g_layers += [nn.BatchNorm2d(c, eps=1e-5), nn.ReLU(),
                     nn.ConvTranspose2d(c, out, 4, 2, 1, bias=(out == 3))]
    g = nn.Sequential(nn.Linear(100, 16 * chans[0]), *g_layers, nn.Tanh())
    dch = [3] + chans[::-1]
    d_layers = []
    for i in range(len(dch) - 1):
        d_layers += [nn.Conv2d(dch[i], dch[i + 1], 4, 2, 1), nn.LeakyReLU(0.2)]
    d = nn.Sequential(*d_layers, nn.Flatten(), nn.Linear(16 * dch[-1], 1))
    return g, d


def main():
    size, warmup, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    batch = 64
    g, d = build(size)


    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(batch, 3, size, size) * 2 - 1
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step():
        z = torch.randn(batch, 100)
        fake = g(z)  # one G forward, reused for both updates
        opt_d.zero_grad(set_to_none=True)
        loss_d = bce(d(real), ones) + bce(d(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        loss_g = bce(d(fake), ones)
        loss_g.backward()
        opt_g.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    ms = sorted(times)[len(times) // 2]  # median, as the TypeScript side reports
    print(json.dumps({"img_s": batch * 1000 / ms, "ms_step": ms}))


if __name__ == "__main__":
    main()
