"""Fit a polynomial with a linear model and plain gradient descent written by hand (updates
through p.data and .grad), in the style of old tutorials (Variable included).

    python poly_regression_sgd.py --steps 50 --lr 0.1
"""

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd import Variable

POLY_DEGREE = 3


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3]."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)


def poly_desc(w, b):
    result = "y = "
    for i, w in enumerate(w):
        result += f"{w:+.2f} x^{i + 1} "
    result += f"{b[0]:+.2f}"
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    rng = np.random.RandomState(0)
    w_target = torch.tensor(rng.uniform(-1, 1, size=(POLY_DEGREE, 1)))
    b_target = torch.tensor(rng.uniform(-1, 1, size=(1,)))

    def f(x):
        return x.mm(w_target) + b_target.item()

    def get_batch(batch_size):
        random = torch.tensor(rng.standard_normal(batch_size))
        x = make_features(random)
        y = f(x)
        return Variable(x), Variable(y)

    fc = torch.nn.Linear(w_target.size(0), 1).double()
    loss = 0
    for batch_idx in range(1, args.steps + 1):
        batch_x, batch_y = get_batch(args.batch_size)
        fc.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        for param in fc.parameters():
            param.data.add_(-args.lr * param.grad.data)
        if loss < 1e-3:
            break

    print(f"Loss: {loss:.6f} after {batch_idx} batches")
    print("==> Learned function:\t" + poly_desc(fc.weight.view(-1), fc.bias))
    print("==> Actual function:\t" + poly_desc(w_target.view(-1), b_target))


if __name__ == "__main__":
    main()
