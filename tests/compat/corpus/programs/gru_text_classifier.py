"""Sentence classification with a bidirectional GRU over packed variable-length batches.

    python gru_text_classifier.py --epochs 3 --batch-size 8
"""

import argparse
import random

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset

POSITIVE = ["good", "great", "fine", "happy", "love", "nice"]
NEGATIVE = ["bad", "awful", "sad", "hate", "poor", "ugly"]
FILLER = ["the", "a", "movie", "was", "very", "and", "it", "is", "so"]


def make_sentences(n, seed):
    rnd = random.Random(seed)
    data = []
    for _ in range(n):
        label = rnd.randint(0, 1)
        words = [rnd.choice(FILLER) for _ in range(rnd.randint(2, 6))]
        words.insert(rnd.randint(0, len(words)), rnd.choice(POSITIVE if label else NEGATIVE))
        data.append((words, label))
    return data


class Vocab:
    def __init__(self, sentences):
        self.itos = ["<pad>", "<unk>"] + sorted({w for s, _ in sentences for w in s})
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, words):
        return [self.stoi.get(w, 1) for w in words]


class SentenceDataset(Dataset):
    def __init__(self, sentences, vocab):
        self.items = [(torch.tensor(vocab.encode(s)), label) for s, label in sentences]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate_batch(batch):
    texts, labels = zip(*batch)
    lengths = torch.tensor([len(t) for t in texts])
    return pad_sequence(list(texts), batch_first=True, padding_value=0), lengths, torch.tensor(
        labels)


class GRUClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden, num_classes, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.gru = nn.GRU(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, num_classes)

    def forward(self, text, lengths):
        embedded = self.dropout(self.embedding(text))
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, hidden = self.gru(packed)
        hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        return self.fc(self.dropout(hidden))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

    train, valid = make_sentences(48, 0), make_sentences(16, 1)
    vocab = Vocab(train)
    train_loader = DataLoader(SentenceDataset(train, vocab), batch_size=args.batch_size,
                              shuffle=args.shuffle, collate_fn=collate_batch)
    valid_loader = DataLoader(SentenceDataset(valid, vocab), batch_size=16,
                              collate_fn=collate_batch)

    model = GRUClassifier(len(vocab), 8, 8, 2, args.dropout).to(device)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * len(train_loader))

    for epoch in range(args.epochs):
        model.train()
        epoch_loss, epoch_acc = 0, 0
        for text, lengths, labels in train_loader:
            text, labels = text.to(device), labels.to(device)
            optimizer.zero_grad()
            predictions = model(text, lengths)
            loss = criterion(predictions, labels)
            acc = (predictions.argmax(1) == labels).float().mean()
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), clip_value=1.0)
            optimizer.step()
            scheduler.step()
            epoch_loss += loss.item()
            epoch_acc += acc.item()
        model.eval()
        with torch.no_grad():
            text, lengths, labels = next(iter(valid_loader))
            valid_acc = (model(text, lengths).argmax(1) == labels).float().mean().item()
        print(f"Epoch: {epoch + 1:02} | Train Loss: {epoch_loss / len(train_loader):.3f} | "
              f"Train Acc: {epoch_acc * 100 / len(train_loader):.2f}% | "
              f"Val. Acc: {valid_acc * 100:.2f}%")


if __name__ == "__main__":
    main()
