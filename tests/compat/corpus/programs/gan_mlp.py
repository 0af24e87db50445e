"""A small GAN learning a 2-D ring of Gaussians, with a generator and a discriminator trained
in turn (BCE losses, detached fakes, two Adam optimizers).

    python gan_mlp.py --iters 20
"""

import argparse

import numpy as np
import torch
import torch.nn as nn


def sample_ring(rng, n, modes=8, radius=2.0, std=0.05):
    angles = 2 * np.pi * rng.integers(0, modes, size=n) / modes
    points = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
    return points + std * rng.standard_normal((n, 2))


class Generator(nn.Module):
    def __init__(self, nz, hidden):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(nz, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, 2),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, 1), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--nz", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--beta1", type=float, default=0.5)
    args = parser.parse_args()

    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    rng = np.random.default_rng(7)
    netG, netD = Generator(args.nz, 16).to(device), Discriminator(16).to(device)
    criterion = nn.BCELoss()
    fixed_noise = torch.from_numpy(rng.standard_normal((8, args.nz))).to(
        torch.get_default_dtype())
    real_label, fake_label = 1.0, 0.0
    optimizerD = torch.optim.Adam(netD.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=args.lr, betas=(args.beta1, 0.999))

    for i in range(args.iters):
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real = torch.from_numpy(sample_ring(rng, args.batch_size)).to(
            torch.get_default_dtype()).to(device)
        label = torch.full((args.batch_size,), real_label, device=device)
        output = netD(real)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.from_numpy(rng.standard_normal((args.batch_size, args.nz))).to(
            torch.get_default_dtype())
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        if i % 5 == 0:
            print(f"[{i}/{args.iters}] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} "
                  f"D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}")
    with torch.no_grad():
        samples = netG(fixed_noise)
    print("mean radius of fixed samples:", round(samples.norm(dim=1).mean().item(), 3))


if __name__ == "__main__":
    main()
