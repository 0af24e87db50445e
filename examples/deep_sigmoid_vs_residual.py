"""Vanishing gradients, shown: a 30-layer plain sigmoid MLP against the same depth with
residual connections and LayerNorm, on the built-in digits.

    python examples/deep_sigmoid_vs_residual.py              # 10 epochs each
    python examples/deep_sigmoid_vs_residual.py --depth 20 --epochs 3

Both networks have ``depth`` Linear layers, the same width, sigmoid activations, the same
optimizer and the same number of steps. In the plain stack, backpropagation multiplies the
gradient at every layer by the sigmoid's slope (at most 1/4) times the weights, so the first
layers receive a gradient many orders of magnitude smaller than the last: the table printed
at the first step shows it. The residual stack adds each layer's output to an identity path,
``x + linear(sigmoid(layer_norm(x)))``, so the gradient reaches every layer undiminished.
"""

import argparse

import chainrule as torch
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset, load_digits


class PlainSigmoidMLP(nn.Module):
    """``depth`` Linear layers with a sigmoid after each but the last."""

    def __init__(self, depth, width):
        super().__init__()
        layers = [nn.Linear(64, width), nn.Sigmoid()]
        for _ in range(depth - 2):
            layers += [nn.Linear(width, width), nn.Sigmoid()]
        layers.append(nn.Linear(width, 10))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.linear = nn.Linear(width, width)

    def forward(self, x):
        return x + self.linear(torch.sigmoid(self.norm(x)))


class ResidualSigmoidMLP(nn.Module):
    """The same ``depth`` Linear layers; the hidden ones inside pre-LayerNorm residual blocks."""

    def __init__(self, depth, width):
        super().__init__()
        self.embed = nn.Linear(64, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(depth - 2)])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        return self.head(self.norm(self.blocks(self.embed(x))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=30, help="Linear layers in each network")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.depth < 2:
        parser.error("--depth must be at least 2")
    return args


def standardised_digits():
    """Flattened train and test images, scaled by the training set's mean and std."""
    train_images, train_labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    train_x = torch.from_numpy(train_images).flatten(1)
    test_x = torch.from_numpy(test_images).flatten(1)
    mean, std = train_x.mean(), train_x.std()
    return ((train_x - mean) / std, torch.from_numpy(train_labels),
            (test_x - mean) / std, torch.from_numpy(test_labels))


def linear_weights(model):
    """The weight of every Linear layer, input to output."""
    return [module.weight for module in model.modules() if isinstance(module, nn.Linear)]


def first_step_gradient_norms(model, x, y):
    """The gradient norm of each Linear weight for one batch (the model is left unchanged)."""
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    norms = [weight.grad.norm().item() for weight in linear_weights(model)]
    model.zero_grad()
    return norms


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = (model(x).argmax(dim=1) == y).sum().item()
    model.train()
    return correct / len(y)


def train(model, loader, args, test_x, test_y, name):
    """Plain SGD with momentum, the same for both networks; returns the final test accuracy."""
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        test_acc = accuracy(model, test_x, test_y)
        print(f"{name:8s} epoch {epoch:3d}  train loss {total / count:.4f}  "
              f"test accuracy {test_acc:.2%}")
    return total / count, test_acc


def main(argv=None):
    """Compare the two networks; returns gradient norms at the first step and final metrics."""
    args = parse_args(argv)
    train_x, train_y, test_x, test_y = standardised_digits()
    torch.manual_seed(args.seed)
    plain = PlainSigmoidMLP(args.depth, args.width)
    residual = ResidualSigmoidMLP(args.depth, args.width)

    first_x, first_y = train_x[:args.batch_size], train_y[:args.batch_size]
    plain_norms = first_step_gradient_norms(plain, first_x, first_y)
    residual_norms = first_step_gradient_norms(residual, first_x, first_y)
    print("gradient norm of each Linear weight at the first step")
    print(f"{'layer':>5s}  {'plain sigmoid':>13s}  {'residual + LayerNorm':>20s}")
    for layer, (p, r) in enumerate(zip(plain_norms, residual_norms), start=1):
        print(f"{layer:5d}  {p:13.3e}  {r:20.3e}")
    print(f"first / last layer: plain {plain_norms[0] / plain_norms[-1]:.1e}, "
          f"residual {residual_norms[0] / residual_norms[-1]:.1e}  (a norm of 0 is a gradient "
          "smaller than float32 can hold)")

    results = {"plain_grad_norms": plain_norms, "residual_grad_norms": residual_norms}
    for name, model in (("plain", plain), ("residual", residual)):
        generator = torch.Generator().manual_seed(args.seed)
        loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch_size,
                            shuffle=True, generator=generator)
        loss, acc = train(model, loader, args, test_x, test_y, name)
        results[f"{name}_train_loss"], results[f"{name}_accuracy"] = loss, acc
    print(f"after {args.epochs} epochs: plain sigmoid {results['plain_accuracy']:.2%}, "
          f"residual {results['residual_accuracy']:.2%} (chance: 10%)")
    return results


if __name__ == "__main__":
    main()
