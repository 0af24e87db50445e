"""Word vectors by skip-gram with negative sampling: two embedding tables, batched dot
products with bmm, log-sigmoid losses.

    python skipgram.py --epochs 2 --dim 8
"""

import argparse
from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CORPUS = ("the king rules the land . the queen rules the land . a man walks the road . "
          "a woman walks the road . the king and the queen walk . the man and the woman rule .")


class SkipGram(nn.Module):
    def __init__(self, vocab_size, dim):
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, dim)
        self.out_embed = nn.Embedding(vocab_size, dim)

    def forward(self, center, context, negatives):
        v = self.in_embed(center).unsqueeze(2)               # (B, D, 1)
        u = self.out_embed(context).unsqueeze(1)             # (B, 1, D)
        pos = torch.bmm(u, v).squeeze()                      # (B,)
        neg = torch.bmm(self.out_embed(negatives), v).squeeze(2)  # (B, K)
        loss = -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(1))
        return loss.mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--window", type=int, default=2)
    parser.add_argument("--negatives", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()

    words = CORPUS.split()
    counts = Counter(words)
    vocab = sorted(counts)
    idx = {w: i for i, w in enumerate(vocab)}
    ids = [idx[w] for w in words]
    pairs = [(ids[i], ids[j]) for i in range(len(ids))
             for j in range(max(0, i - args.window), min(len(ids), i + args.window + 1)) if i != j]
    freq = np.array([counts[w] for w in vocab], dtype=np.float64) ** 0.75
    freq /= freq.sum()
    rng = np.random.default_rng(1)

    model = SkipGram(len(vocab), args.dim)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        total = 0.0
        for start in range(0, len(pairs), args.batch_size):
            batch = pairs[start:start + args.batch_size]
            center = torch.tensor([c for c, _ in batch])
            context = torch.tensor([o for _, o in batch])
            negatives = torch.from_numpy(rng.choice(len(vocab), size=(len(batch),
                                                                        args.negatives), p=freq))
            optimizer.zero_grad()
            loss = model(center, context, negatives)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch}: loss {total / len(pairs):.4f}")
    weights = F.normalize(model.in_embed.weight.detach(), dim=1)
    sims = weights @ weights[idx["king"]]
    print("nearest to 'king':", [vocab[i] for i in sims.argsort(descending=True)[1:4].tolist()])


if __name__ == "__main__":
    main()
