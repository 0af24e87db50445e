"""A small GPT-style transformer, character by character, on the built-in Shakespeare (Macbeth).

    python examples/char_gpt.py                   # 200 steps
    python examples/char_gpt.py --steps 100 --sample-length 200

Token and position embeddings, pre-LayerNorm transformer blocks with causal self-attention
(nn.TransformerEncoderLayer with a causal mask), a final LayerNorm and a linear head. As in
char_lstm.py, the loss is read against the unigram entropy of the text.
"""

import argparse
import math
from collections import Counter

import chainrule as torch
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.data import CharDataset, DataLoader, Subset, load_shakespeare


class CharGPT(nn.Module):
    def __init__(self, vocab_size, block_size, d_model, nhead, num_layers, dropout):
        super().__init__()
        self.block_size = block_size
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model,
                                           dropout=dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids):
        """Logits (B, T, vocab) for ids (B, T); position t sees only positions <= t."""
        length = ids.shape[1]
        positions = torch.arange(length)
        x = self.token_embedding(ids) + self.position_embedding(positions)
        causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        x = self.blocks(x, mask=causal, is_causal=True)
        return self.head(self.norm(x))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--nhead", type=int, default=4)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--sample-length", type=int, default=400)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


def unigram_entropy(text):
    """Entropy in nats of the character frequencies of ``text``."""
    counts = Counter(text).values()
    return -sum(n / len(text) * math.log(n / len(text)) for n in counts)


def batches(dataset, batch_size, generator):
    """Shuffled batches without end, epoch after epoch."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=generator)
    while True:
        yield from loader


def evaluate(model, dataset):
    """Mean loss over non-overlapping windows of ``dataset``."""
    windows = Subset(dataset, range(0, len(dataset), dataset.block_size))
    x, y = next(iter(DataLoader(windows, batch_size=len(windows))))
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
    model.train()
    return loss


def sample(model, dataset, prompt, length, temperature):
    """``prompt`` continued by ``length`` characters, each drawn given the last block_size."""
    model.eval()
    ids = torch.tensor([dataset.encode(prompt)])
    with torch.no_grad():
        for _ in range(length):
            logits = model(ids[:, -model.block_size:])
            probs = F.softmax(logits[:, -1] / temperature, dim=-1)
            ids = torch.cat([ids, torch.multinomial(probs, 1)], dim=1)
    model.train()
    return dataset.decode(ids[0])


def main(argv=None):
    """Train, print losses against the unigram entropy, sample; returns the metrics and text."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    text = load_shakespeare()
    train_set, val_set = CharDataset(text, args.block_size).split(0.1)
    entropy = unigram_entropy(text)
    print(f"{len(text):,} characters, vocabulary {train_set.vocab_size}; "
          f"unigram entropy {entropy:.3f} nats (uniform: {math.log(train_set.vocab_size):.3f})")

    model = CharGPT(train_set.vocab_size, args.block_size, args.d_model, args.nhead,
                    args.num_layers, args.dropout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    initial_loss = evaluate(model, val_set)
    print(f"step {0:5d}  val loss {initial_loss:.3f}")

    stream = batches(train_set, args.batch_size, torch.Generator().manual_seed(args.seed))
    recent = []
    for step in range(1, args.steps + 1):
        x, y = next(stream)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        recent = (recent + [loss.item()])[-args.eval_every:]
        if step % args.eval_every == 0 or step == args.steps:
            val_loss = evaluate(model, val_set)
            print(f"step {step:5d}  train loss {sum(recent) / len(recent):.3f}  "
                  f"val loss {val_loss:.3f}  (unigram entropy {entropy:.3f})")

    text_out = sample(model, train_set, "MACBETH.\n", args.sample_length, args.temperature)
    print("--- sample ---")
    print(text_out)
    return {"unigram_entropy": entropy, "initial_loss": initial_loss,
            "train_loss": sum(recent) / len(recent), "val_loss": val_loss, "sample": text_out}


if __name__ == "__main__":
    main()
