"""The classic two-convolution MNIST network, on the built-in 8x8 digits.

    python examples/cnn_digits.py                 # 15 epochs
    python examples/cnn_digits.py --epochs 3 --seed 1

The layers are those of PyTorch's MNIST example (Conv2d(1, 32, 3), Conv2d(32, 64, 3),
MaxPool2d(2), Dropout, Linear(..., 128), Linear(128, 10)). The digits are 8x8 rather than
28x28, so the convolutions pad by one pixel to keep the image from shrinking to nothing;
after pooling, 64 channels of 4x4 reach the first linear layer.
"""

import argparse

import chainrule as torch
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset, load_digits


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(64 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(self.pool(x))
        x = torch.flatten(x, 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return self.fc2(x)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def normalised_digits():
    """Train and test images (N, 1, 8, 8) normalised by the training set's mean and std."""
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    train_x, test_x = torch.from_numpy(train_images), torch.from_numpy(test_images)
    mean, std = train_x.mean(), train_x.std()
    return ((train_x - mean) / std, torch.from_numpy(train_labels),
            (test_x - mean) / std, torch.from_numpy(test_labels))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = (model(x).argmax(dim=1) == y).sum().item()
    model.train()
    return correct / len(y)


def main(argv=None):
    """Train the network; returns the final train loss and the test accuracy."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = normalised_digits()
    generator = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch_size,
                        shuffle=True, generator=generator)

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        test_acc = accuracy(model, test_x, test_y)
        print(f"epoch {epoch:3d}  train loss {total / count:.4f}  test accuracy {test_acc:.2%}")
    return {"train_loss": total / count, "test_accuracy": test_acc}


if __name__ == "__main__":
    main()
