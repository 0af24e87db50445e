"""A hand-written recurrent tagger in the style of tutorials that fill preallocated tensors:
the hidden states go into ``outputs[:, t] = h``, the summary into slices with ``copy_``, a
gate scaled in place through a strided view, attention scores written step by step.

    python rnn_prealloc.py --epochs 3 --lr 0.01
"""

import argparse

import numpy as np
import torch
import torch.nn as nn


class ElmanTagger(nn.Module):
    def __init__(self, n_in, n_hidden, n_tags):
        super().__init__()
        self.i2h = nn.Linear(n_in, n_hidden)
        self.h2h = nn.Linear(n_hidden, n_hidden, bias=False)
        self.tag = nn.Linear(2 * n_hidden, n_tags)
        self.n_hidden = n_hidden

    def forward(self, x):  # x: (batch, time, features)
        batch, steps, _ = x.shape
        outputs = torch.zeros(batch, steps, self.n_hidden)
        h = x.new_zeros(batch, self.n_hidden)
        for t in range(steps):
            h = torch.tanh(self.i2h(x[:, t]) + self.h2h(h))
            outputs[:, t] = h
        scores = torch.empty(batch, steps)
        for t in range(steps):
            scores[:, t].copy_((outputs[:, t] * h).sum(-1))
        weights = scores.softmax(-1)
        context = (weights.unsqueeze(-1) * outputs).sum(1)
        features = torch.empty(batch, steps, 2 * self.n_hidden)
        features[..., :self.n_hidden].copy_(outputs)
        features.narrow(2, self.n_hidden, self.n_hidden).copy_(context.unsqueeze(1))
        features[..., ::2] *= 0.5
        features.transpose(0, 1)[0].mul_(2.0)  # the first step counts double
        return self.tag(features)


def make_data(rng, n, steps):
    x = rng.normal(size=(n, steps, 3))
    tags = (np.cumsum(x[..., 0], axis=1) > 0).astype(np.int64) + (x[..., 1] > 1)
    return torch.tensor(x, dtype=torch.get_default_dtype()), torch.tensor(tags)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    rng = np.random.default_rng(11)
    x, tags = make_data(rng, 32, 6)
    model = ElmanTagger(3, 8, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    first = last = None
    for epoch in range(args.epochs):
        for start in range(0, len(x), args.batch_size):
            xb, yb = x[start:start + args.batch_size], tags[start:start + args.batch_size]
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
            loss.backward()
            optimizer.step()
            first = loss.item() if first is None else first
            last = loss.item()
        print(f"epoch {epoch}  loss {last:.4f}")
    assert last < first


if __name__ == "__main__":
    main()
