"""Train a small MLP classifier on a synthetic blobs dataset.

Usage: python mlp_classifier.py --epochs 5 --batch-size 32 --lr 1e-3
"""

import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


def make_blobs(n, num_classes, dim, seed):
    rng = np.random.RandomState(seed)
    centers = rng.randn(num_classes, dim) * 3
    labels = rng.randint(0, num_classes, size=n)
    points = centers[labels] + rng.randn(n, dim)
    return points, labels


class MLP(nn.Module):
    def __init__(self, in_features, hidden, num_classes, dropout=0.1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.net(x)


def evaluate(model, loader, criterion, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            total_loss += criterion(outputs, targets).item() * inputs.size(0)
            _, predicted = torch.max(outputs.data, 1)
            correct += (predicted == targets).sum().item()
            count += targets.size(0)
    return total_loss / count, 100.0 * correct / count


def main():
    parser = argparse.ArgumentParser(description="MLP on blobs")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", type=str, default="best_mlp.pt")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"Using device: {device}")

    x, y = make_blobs(400, 4, 8, args.seed)
    x = torch.tensor(x, dtype=torch.get_default_dtype())
    y = torch.tensor(y, dtype=torch.long)
    train_set = TensorDataset(x[:320], y[:320])
    val_set = TensorDataset(x[320:], y[320:])
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=args.shuffle)
    val_loader = DataLoader(val_set, batch_size=64)

    model = MLP(8, args.hidden, 4, args.dropout).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

    best_acc = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        running_loss = 0.0
        for i, (inputs, targets) in enumerate(train_loader):
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 5 == 4:
                print(f"[{epoch}, {i + 1:3d}] loss: {running_loss / 5:.3f}")
                running_loss = 0.0
        scheduler.step()
        val_loss, val_acc = evaluate(model, val_loader, criterion, device)
        print(f"epoch {epoch}: val loss {val_loss:.4f} acc {val_acc:.1f}% "
              f"lr {scheduler.get_last_lr()[0]:.5f}")
        if val_acc > best_acc:
            best_acc = val_acc
            torch.save(model.state_dict(), args.save)
            print(f"saved best model ({best_acc:.1f}%)")

    if os.path.exists(args.save):
        model.load_state_dict(torch.load(args.save))
        print("final val acc %.1f%%" % evaluate(model, val_loader, criterion, device)[1])


if __name__ == "__main__":
    main()
