"""A convolutional autoencoder with a plateau scheduler; saves the best model and reloads it.

    python conv_autoencoder.py --epochs 3
"""

import argparse

import numpy as np
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 3, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(4, 8, 3, stride=2, padding=1),
            nn.ReLU(True),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(True),
            nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def make_images(n, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:8, 0:8]
    images = np.zeros((n, 1, 8, 8))
    for i in range(n):
        cy, cx, r = rng.uniform(2, 6), rng.uniform(2, 6), rng.uniform(1, 3)
        images[i, 0] = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r).astype(float)
    return images


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    images = torch.tensor(make_images(64, 0), dtype=torch.get_default_dtype())
    loader = DataLoader(TensorDataset(images), batch_size=args.batch_size, shuffle=args.shuffle)
    model = AutoEncoder().to(device)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-5)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", patience=0, factor=0.5)

    best = float("inf")
    for epoch in range(args.epochs):
        train_loss = 0
        for (data,) in loader:
            data = data.to(device)
            output = model(data)
            loss = criterion(output, data)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_loss += loss.item() * data.size(0)
        train_loss = train_loss / len(loader.dataset)
        scheduler.step(train_loss)
        print(f"epoch [{epoch + 1}/{args.epochs}], loss:{train_loss:.4f}, "
              f"lr:{optimizer.param_groups[0]['lr']:.5f}")
        if train_loss < best:
            best = train_loss
            torch.save(model.state_dict(), "./conv_autoencoder.pth")

    model = AutoEncoder()
    model.load_state_dict(torch.load("./conv_autoencoder.pth"))
    model.eval()
    with torch.no_grad():
        reconstruction = model(images[:4])
    print("reconstruction error of the best model:",
          round(float(((reconstruction - images[:4]) ** 2).mean()), 4))


if __name__ == "__main__":
    main()
