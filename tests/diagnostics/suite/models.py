"""The four architectures of the diagnostics suite, small enough to train in a fraction of a
second: an MLP, a CNN, a recurrent net and a small transformer. Lines where a setup makes a
NaN on purpose carry a marker comment (``# NAN: name``) that the tests look up."""

import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F


def mlp(widths, activation=nn.ReLU, init=None):
    """Linear layers of ``widths`` with ``activation`` between them, as one Sequential (layer
    names "0", "1", ...). ``init(linear)`` is applied to every Linear."""
    layers = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    model = nn.Sequential(*layers[:-1])
    for layer in model:
        if init is not None and isinstance(layer, nn.Linear):
            init(layer)
    return model


def kaiming(layer):
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)


def cnn(channels=(1, 8, 8), activation=nn.ReLU, side=10, classes=2, batch_norm=False):
    """3x3 convolutions (padding 1) of ``channels`` with ``activation``, then a linear head."""
    layers = []
    for c_in, c_out in zip(channels, channels[1:]):
        layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(activation())
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels[-1] * side * side, classes))


class Recurrent(nn.Module):
    """A recurrent layer (``kind``: "RNN", "LSTM", "GRU") read at its last step by a head."""

    def __init__(self, kind="RNN", features=4, hidden=16, classes=2, **options):
        super().__init__()
        self.rnn = getattr(nn, kind)(features, hidden, batch_first=True, **options)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class StackedRecurrent(nn.Module):
    """Several one-layer RNNs in a row (each its own layer, so each is measured)."""

    def __init__(self, depth, features=4, hidden=16, classes=2):
        super().__init__()
        self.rnns = nn.ModuleList(nn.RNN(features if i == 0 else hidden, hidden,
                                         batch_first=True) for i in range(depth))
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        for rnn in self.rnns:
            x, _ = rnn(x)
        return self.head(x[:, -1])


class TinyGPT(nn.Module):
    """Token and position embeddings, pre-norm encoder layers with a causal mask, a head."""

    def __init__(self, vocab=12, width=16, context=8, layers=2, activation="relu",
                 norm_first=True):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(context, width)
        layer = nn.TransformerEncoderLayer(width, 2, dim_feedforward=32, dropout=0.0,
                                           activation=activation, batch_first=True,
                                           norm_first=norm_first)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", torch.triu(torch.ones(context, context, dtype=torch.bool),
                                                diagonal=1))

    def embed(self, x):
        return self.tokens(x) + self.positions(torch.arange(x.shape[1]))

    def forward(self, x):
        h = self.blocks(self.embed(x), mask=self.mask, is_causal=True)
        return self.head(self.norm(h))


def sequence_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class MaskedAttentionLM(nn.Module):
    """One attention layer written out (scores, masked_fill, softmax) over a padding mask that
    hides every key from the tokens equal to ``pad``: their rows are all -inf."""

    def __init__(self, vocab=12, width=16, pad=None):
        super().__init__()
        self.pad = pad
        self.tokens = nn.Embedding(vocab, width)
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.head = nn.Linear(width, vocab)

    def forward(self, x):
        h = self.tokens(x)
        scores = self.query(h) @ self.key(h).transpose(1, 2) / 4.0
        hidden = (x == self.pad).unsqueeze(1) | (x == self.pad).unsqueeze(2)
        scores = scores.masked_fill(hidden, float("-inf"))
        weights = scores.softmax(dim=-1)  # NAN: masked softmax
        return self.head(weights @ h)


class LogScale(nn.Module):
    """An MLP whose output is shifted by log(relu(scale)); training drives scale to zero."""

    def __init__(self):
        super().__init__()
        self.body = mlp([16, 32, 2])
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.body(x) + torch.log(self.scale.relu())  # NAN: log in model


class RootFeatures(nn.Module):
    """A CNN whose features are sqrt(relu(...)): fine forward, infinite gradient at zero."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4 * 10 * 10, 2)

    def forward(self, x):
        features = self.conv(x).relu().sqrt()  # NAN: sqrt backward in model
        return self.head(features.flatten(1))


class UnitNorm(nn.Module):
    """A transformer-style block that scales each token to unit length by hand."""

    def __init__(self, vocab=12, width=16):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.mix = nn.Linear(width, width)
        self.head = nn.Linear(width, vocab)
        with torch.no_grad():
            self.tokens.weight[0] = 0.0  # token 0 embeds to the zero vector

    def forward(self, x):
        h = self.tokens(x)
        h = h / h.norm(dim=-1, keepdim=True)  # NAN: divide by zero norm
        return self.head(self.mix(h))


class SharedActivation(nn.Module):
    """One ReLU module used after both hidden layers."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(16, 32), nn.Linear(32, 32), nn.Linear(32, 2)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.out(self.act(self.fc2(self.act(self.fc1(x)))))


class Detached(nn.Module):
    """A transformer-ish model whose token embedding is detached by mistake."""

    def __init__(self, vocab=12, width=16, context=8):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(context, width)
        self.block = nn.TransformerEncoderLayer(width, 2, 32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(width, vocab)

    def forward(self, x):
        h = self.tokens(x).detach() + self.positions(torch.arange(x.shape[1]))
        return self.head(self.block(h))
