"""Classify token sequences (does the sequence contain more 1s than 2s?) with a Transformer
encoder, sinusoidal positional encoding, padding masks and mean pooling.

    python transformer_classifier.py --epochs 2
"""

import argparse
import math

import numpy as np
import torch
from torch import nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        """x: [seq_len, batch_size, embedding_dim]"""
        x = x + self.pe[:x.size(0)]
        return self.dropout(x)


class TransformerModel(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.1):
        super().__init__()
        self.model_type = "Transformer"
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers,
                                                         enable_nested_tensor=False)
        self.embedding = nn.Embedding(ntoken, d_model, padding_idx=0)
        self.d_model = d_model
        self.classifier = nn.Linear(d_model, 2)

    def forward(self, src, padding_mask):
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        output = self.transformer_encoder(src, src_key_padding_mask=padding_mask)
        keep = (~padding_mask).t().unsqueeze(-1).to(output.dtype)
        pooled = (output * keep).sum(0) / keep.sum(0)
        return self.classifier(pooled)


def make_batch(rng, batch_size, max_len):
    lengths = rng.integers(3, max_len + 1, size=batch_size)
    tokens = np.zeros((max_len, batch_size), dtype=np.int64)
    labels = np.zeros(batch_size, dtype=np.int64)
    for b, n in enumerate(lengths):
        seq = rng.integers(1, 4, size=n)
        tokens[:n, b] = seq
        labels[b] = int((seq == 1).sum() > (seq == 2).sum())
    padding_mask = torch.from_numpy(tokens.T == 0)
    return torch.from_numpy(tokens), padding_mask, torch.from_numpy(labels)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--dropout", type=float, default=0.1)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = TransformerModel(ntoken=4, d_model=16, nhead=2, d_hid=32, nlayers=2,
                             dropout=args.dropout).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                           T_max=args.epochs * args.batches)
    rng = np.random.default_rng(0)
    for epoch in range(1, args.epochs + 1):
        model.train()
        total_loss = 0.0
        for _ in range(args.batches):
            src, mask, labels = make_batch(rng, args.batch_size, 10)
            output = model(src.to(device), mask.to(device))
            loss = criterion(output, labels.to(device))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            scheduler.step()
            total_loss += loss.item()
        print(f"| epoch {epoch:3d} | lr {scheduler.get_last_lr()[0]:02.5f} | "
              f"loss {total_loss / args.batches:5.3f}")


if __name__ == "__main__":
    main()
