"""Train, checkpoint the whole run state the way many training scripts do (the argparse
Namespace, the best score as a NumPy float, NumPy's generator state, the data split as a NumPy
array, the optimizer and scheduler), then resume from the file in a fresh model and keep
training; the checkpoint is read with ``weights_only=False``, as such scripts must.

    python checkpoint_resume.py --epochs 3 --resume-epochs 2
"""

import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc1 = nn.Linear(4, hidden)
        self.fc2 = nn.Linear(hidden, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def make_data(rng):
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1).astype(np.int64)
    return x, y


def run_epochs(model, optimizer, scheduler, x, y, epochs, start, best_acc):
    for epoch in range(start, start + epochs):
        model.train()
        for i in range(0, len(x), 20):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[i:i + 20]), y[i:i + 20])
            loss.backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x).argmax(1) == y).double().mean().item()
        best_acc = max(best_acc, np.float64(acc))
        print(f"epoch {epoch} loss {loss.item():.4f} acc {acc:.3f} best {best_acc:.3f}")
    return best_acc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--resume-epochs", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--out", default="ckpt")
    args = parser.parse_args()

    rng = np.random.RandomState(5)
    x_np, y_np = make_data(rng)
    split = rng.permutation(len(x_np))
    x = torch.tensor(x_np[split], dtype=torch.get_default_dtype())
    y = torch.from_numpy(y_np[split])

    model = Net(args.hidden)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    best_acc = run_epochs(model, optimizer, scheduler, x, y, args.epochs, 0, np.float64(0))

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "last.pth")
    torch.save({"epoch": args.epochs, "args": args, "best_acc": best_acc, "split": split,
                "np_rng": rng.get_state(), "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path)

    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    saved_args = checkpoint["args"]
    resumed = Net(saved_args.hidden)
    resumed.load_state_dict(checkpoint["model"])
    optimizer = torch.optim.SGD(resumed.parameters(), lr=saved_args.lr, momentum=0.9)
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    scheduler.load_state_dict(checkpoint["scheduler"])
    rng.set_state(checkpoint["np_rng"])
    assert (checkpoint["split"] == split).all() and isinstance(checkpoint["best_acc"], float)
    print(f"resumed at epoch {checkpoint['epoch']} (best {checkpoint['best_acc']:.3f}), "
          f"lr {scheduler.get_last_lr()[0]:.4f}, next draw {rng.randint(1000)}")
    run_epochs(resumed, optimizer, scheduler, x, y, args.resume_epochs, checkpoint["epoch"],
               checkpoint["best_acc"])


if __name__ == "__main__":
    main()
