"""A character-level LSTM language model on the built-in Shakespeare (Macbeth), then sampled.

    python examples/char_lstm.py                  # 200 steps
    python examples/char_lstm.py --steps 100 --sample-length 200

The yardstick is the unigram entropy of the text: the loss of the best model that ignores
context (it predicts each character with its frequency). A model that uses context goes
well below it.
"""

import argparse
import math
from collections import Counter

import chainrule as torch
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.data import CharDataset, DataLoader, Subset, load_shakespeare


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        """Logits (B, T, vocab) for ids (B, T), and the LSTM state to continue from."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--embed-size", type=int, default=32)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--num-layers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=3e-3)
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
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
    model.train()
    return loss


def sample(model, dataset, prompt, length, temperature):
    """``prompt`` continued by ``length`` characters drawn one at a time from the model."""
    model.eval()
    ids = torch.tensor([dataset.encode(prompt)])
    out = []
    with torch.no_grad():
        logits, state = model(ids)
        for _ in range(length):
            probs = F.softmax(logits[:, -1] / temperature, dim=-1)
            next_id = torch.multinomial(probs, 1)
            out.append(next_id.item())
            logits, state = model(next_id, state)
    model.train()
    return prompt + dataset.decode(out)


def main(argv=None):
    """Train, print losses against the unigram entropy, sample; returns the metrics and text."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    text = load_shakespeare()
    train_set, val_set = CharDataset(text, args.block_size).split(0.1)
    entropy = unigram_entropy(text)
    print(f"{len(text):,} characters, vocabulary {train_set.vocab_size}; "
          f"unigram entropy {entropy:.3f} nats (uniform: {math.log(train_set.vocab_size):.3f})")

    model = CharLSTM(train_set.vocab_size, args.embed_size, args.hidden_size, args.num_layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    initial_loss = evaluate(model, val_set)
    print(f"step {0:5d}  val loss {initial_loss:.3f}")

    stream = batches(train_set, args.batch_size, torch.Generator().manual_seed(args.seed))
    recent = []
    for step in range(1, args.steps + 1):
        x, y = next(stream)
        logits, _ = model(x)
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
