"""A temporal convolutional network on the adding problem, in the style of the TCN paper's
code: weight-normalised dilated causal convolutions (nn.utils.weight_norm), a Chomp1d that
cuts the causal padding, residual blocks, Adam with gradient clipping.

    python tcn_adding.py --epochs 2 --seq-len 24 --levels 3
"""

import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import weight_norm


class Chomp1d(nn.Module):
    def __init__(self, chomp_size):
        super().__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, :-self.chomp_size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, n_inputs, n_outputs, kernel_size, dilation, dropout):
        super().__init__()
        padding = (kernel_size - 1) * dilation
        self.conv1 = weight_norm(nn.Conv1d(n_inputs, n_outputs, kernel_size,
                                           padding=padding, dilation=dilation))
        self.conv2 = weight_norm(nn.Conv1d(n_outputs, n_outputs, kernel_size,
                                           padding=padding, dilation=dilation))
        self.net = nn.Sequential(self.conv1, Chomp1d(padding), nn.ReLU(), nn.Dropout(dropout),
                                 self.conv2, Chomp1d(padding), nn.ReLU(), nn.Dropout(dropout))
        self.downsample = nn.Conv1d(n_inputs, n_outputs, 1) if n_inputs != n_outputs else None

    def forward(self, x):
        out = self.net(x)
        res = x if self.downsample is None else self.downsample(x)
        return F.relu(out + res)


class TCN(nn.Module):
    def __init__(self, input_size, output_size, channels, kernel_size, dropout):
        super().__init__()
        layers = []
        for i, out_channels in enumerate(channels):
            in_channels = input_size if i == 0 else channels[i - 1]
            layers.append(TemporalBlock(in_channels, out_channels, kernel_size, 2 ** i, dropout))
        self.network = nn.Sequential(*layers)
        self.linear = nn.Linear(channels[-1], output_size)

    def forward(self, x):
        y = self.network(x)
        return self.linear(y[:, :, -1])


def adding_problem(n, seq_len, rng):
    values = rng.uniform(0, 1, (n, 1, seq_len))
    markers = np.zeros((n, 1, seq_len))
    for i in range(n):
        a, b = rng.choice(seq_len, 2, replace=False)
        markers[i, 0, [a, b]] = 1.0
    x = np.concatenate([values, markers], axis=1)
    y = (values * markers).sum(axis=(1, 2))[:, None]
    dtype = torch.get_default_dtype()
    return torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seq-len", type=int, default=24)
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--nhid", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--clip", type=float, default=0.5)
    parser.add_argument("--dropout", type=float, default=0.0)
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    x_train, y_train = adding_problem(64, args.seq_len, rng)
    x_test, y_test = adding_problem(32, args.seq_len, rng)
    model = TCN(2, 1, [args.nhid] * args.levels, kernel_size=3, dropout=args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=4e-3)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for i in range(0, x_train.size(0), args.batch_size):
            x, y = x_train[i:i + args.batch_size], y_train[i:i + args.batch_size]
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            if args.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            test_loss = F.mse_loss(model(x_test), y_test)
        print(f"epoch {epoch}: train loss {loss.item():.4f}, test loss {test_loss.item():.4f}")


if __name__ == "__main__":
    main()
