"""Logistic regression with raw tensors and hand-written gradient descent: no nn.Module, the
weights are leaf tensors updated under no_grad, the loss is written out by hand.

    python logistic_raw.py --epochs 30 --lr 0.5
"""

import argparse

import numpy as np
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--l2", type=float, default=1e-3)
    args = parser.parse_args()

    rng = np.random.default_rng(3)
    X_np = rng.normal(size=(100, 3))
    true_w = np.array([1.5, -2.0, 0.5])
    y_np = (X_np @ true_w + 0.3 * rng.normal(size=100) > 0).astype(np.float64)
    X = torch.tensor(X_np, dtype=torch.get_default_dtype())
    y = torch.tensor(y_np, dtype=torch.get_default_dtype())

    w = torch.zeros(3, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    loss_history = []
    for epoch in range(args.epochs):
        logits = X @ w + b
        p = torch.sigmoid(logits)
        eps = 1e-7
        loss = -(y * torch.log(p + eps) + (1 - y) * torch.log(1 - p + eps)).mean()
        loss = loss + args.l2 * (w ** 2).sum()
        loss.backward()
        with torch.no_grad():
            w -= args.lr * w.grad
            b -= args.lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
        loss_history.append(loss.item())
        if epoch % 10 == 0:
            acc = ((p > 0.5).float() == y).float().mean()
            print(f"epoch {epoch:3d}  loss {loss.item():.4f}  accuracy {acc.item():.3f}")
    print("learned w:", [round(v, 2) for v in w.tolist()], "b:", round(b.item(), 2))
    assert loss_history[-1] < loss_history[0]


if __name__ == "__main__":
    main()
