"""A minimal-GPT-style Trainer on a toy "sort the digits" task: a config object, a dataset
class, an infinite DataLoader (RandomSampler with replacement and 1e10 samples) and callbacks.

    python sort_trainer.py --max-iters 30 --batch-size 8
"""

import argparse
import time
from collections import defaultdict

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F
from torch.utils.data import Dataset
from torch.utils.data.dataloader import DataLoader


class CfgNode:
    """A lightweight configuration class."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def __str__(self):
        return "\n".join(f"{k}: {v}" for k, v in self.__dict__.items())


class SortDataset(Dataset):
    """Sequences of digits; the model learns to output them sorted."""

    def __init__(self, split, length=5, num_digits=3, size=200):
        self.split, self.length, self.num_digits, self.size = split, length, num_digits, size
        rng = np.random.default_rng(0 if split == "train" else 1)
        self.inputs = torch.from_numpy(rng.integers(0, num_digits, size=(size, length)))

    def __len__(self):
        return self.size

    def get_vocab_size(self):
        return self.num_digits

    def get_block_size(self):
        return self.length * 2 - 1

    def __getitem__(self, idx):
        inp = self.inputs[idx]
        sol = torch.sort(inp)[0]
        cat = torch.cat((inp, sol), dim=0)
        x = cat[:-1].clone()
        y = cat[1:].clone()
        y[:self.length - 1] = -1  # only predict the sorted half
        return x, y


class TinyLM(nn.Module):
    def __init__(self, vocab_size, block_size, n_embd=16):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Parameter(torch.zeros(1, block_size, n_embd))
        self.layer = nn.TransformerEncoderLayer(n_embd, 2, 4 * n_embd, dropout=0.0,
                                                batch_first=True)
        self.head = nn.Linear(n_embd, vocab_size)
        self.register_buffer("mask", torch.triu(torch.full((block_size, block_size),
                                                           float("-inf")), diagonal=1))

    def forward(self, idx, targets=None):
        t = idx.size(1)
        x = self.tok(idx) + self.pos[:, :t, :]
        x = self.layer(x, src_mask=self.mask[:t, :t])
        logits = self.head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)
        return logits, loss


class Trainer:
    @staticmethod
    def get_default_config():
        return CfgNode(device="auto", num_workers=0, max_iters=None, batch_size=64,
                       learning_rate=3e-4, betas=(0.9, 0.95), weight_decay=0.1,
                       grad_norm_clip=1.0, sampler="random")

    def __init__(self, config, model, train_dataset):
        self.config = config
        self.model = model
        self.optimizer = None
        self.train_dataset = train_dataset
        self.callbacks = defaultdict(list)
        if config.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        else:
            self.device = config.device
        self.model = self.model.to(self.device)
        print("running on device", self.device)
        self.iter_num = 0
        self.iter_time = 0.0
        self.iter_dt = 0.0

    def add_callback(self, onevent, callback):
        self.callbacks[onevent].append(callback)

    def trigger_callbacks(self, onevent):
        for callback in self.callbacks.get(onevent, []):
            callback(self)

    def run(self):
        model, config = self.model, self.config
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                           betas=config.betas,
                                           weight_decay=config.weight_decay)
        if config.sampler == "random":
            sampler = torch.utils.data.RandomSampler(self.train_dataset, replacement=True,
                                                     num_samples=int(1e10))
        else:
            sampler = torch.utils.data.SequentialSampler(self.train_dataset)
        train_loader = DataLoader(
            self.train_dataset,
            sampler=sampler,
            shuffle=False,
            pin_memory=True,
            batch_size=config.batch_size,
            num_workers=config.num_workers,
        )
        model.train()
        self.iter_num = 0
        self.iter_time = time.time()
        data_iter = iter(train_loader)
        while True:
            try:
                batch = next(data_iter)
            except StopIteration:
                data_iter = iter(train_loader)
                batch = next(data_iter)
            batch = [t.to(self.device) for t in batch]
            x, y = batch
            logits, self.loss = model(x, y)
            model.zero_grad(set_to_none=True)
            self.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_norm_clip)
            self.optimizer.step()
            self.trigger_callbacks("on_batch_end")
            self.iter_num += 1
            tnow = time.time()
            self.iter_dt = tnow - self.iter_time
            self.iter_time = tnow
            if config.max_iters is not None and self.iter_num >= config.max_iters:
                break


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-iters", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=3407)
    parser.add_argument("--sampler", choices=["random", "sequential"], default="random")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train_dataset = SortDataset("train")
    model = TinyLM(train_dataset.get_vocab_size(), train_dataset.get_block_size())
    train_config = Trainer.get_default_config()
    train_config.learning_rate = args.lr
    train_config.max_iters = args.max_iters
    train_config.batch_size = args.batch_size
    train_config.sampler = args.sampler
    print(train_config)
    trainer = Trainer(train_config, model, train_dataset)

    def batch_end_callback(trainer):
        if trainer.iter_num % 5 == 0:
            print(f"iter_dt {trainer.iter_dt * 1000:.2f}ms; iter {trainer.iter_num}: "
                  f"train loss {trainer.loss.item():.5f}")

    trainer.set_callback = trainer.add_callback
    trainer.set_callback("on_batch_end", batch_end_callback)
    trainer.run()

    model.eval()
    with torch.no_grad():
        x, _ = train_dataset[0]
        logits, _ = model(x.unsqueeze(0))
        print("prediction:", logits.argmax(-1)[0, -5:].tolist(),
              "target:", torch.sort(x[:5])[0].tolist())


if __name__ == "__main__":
    main()
