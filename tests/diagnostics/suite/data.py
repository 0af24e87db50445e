"""Small synthetic data sets for the diagnostics suite: each a ``Batches`` that hands out a
random minibatch per step (a fixed seed, so every run is the same)."""

import numpy as np

import chainrule as torch


class Batches:
    """``batches(step)`` -> (inputs, targets): ``size`` random rows of ``x`` and ``y``."""

    def __init__(self, x, y, size, seed=0):
        self.x, self.y, self.size = x, y, size
        self.rng = np.random.default_rng(seed)

    def __call__(self, step):
        rows = self.rng.integers(0, len(self.x), self.size)
        return torch.from_numpy(self.x[rows]), torch.from_numpy(self.y[rows])


def classes(n=512, features=16, size=32, scale=1.0, noise=0.0, seed=0):
    """Two classes split by the sum of the first four features; ``noise``: share of labels
    drawn at random; ``scale``: multiplies the inputs (1 is standardised)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = (x[:, :4].sum(1) > 0).astype(np.int64)
    flip = rng.random(n) < noise
    y[flip] = rng.integers(0, 2, flip.sum())
    return Batches(x * np.float32(scale), y, size, seed)


def regression(n=1024, features=8, size=32, df=None, seed=0):
    """y = x0 + x1 + noise; Student-t noise with ``df`` degrees of freedom (heavy-tailed for
    small df), Gaussian when None."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    noise = rng.standard_t(df, n) if df else 0.1 * rng.standard_normal(n)
    y = (x[:, :2].sum(1) + noise).astype(np.float32)[:, None]
    return Batches(x, y, size, seed)


def images(n=256, channels=1, side=10, size=16, scale=1.0, seed=0):
    """Two classes: a bright horizontal or vertical bar on noise, (N, C, side, side)."""
    rng = np.random.default_rng(seed)
    x = 0.3 * rng.standard_normal((n, channels, side, side)).astype(np.float32)
    y = rng.integers(0, 2, n).astype(np.int64)
    where = rng.integers(2, side - 2, n)
    for i in range(n):
        if y[i]:
            x[i, :, where[i], :] += 1.5
        else:
            x[i, :, :, where[i]] += 1.5
    return Batches(x * np.float32(scale), y, size, seed)


def sequences(n=256, length=12, features=4, size=16, scale=1.0, seed=0):
    """Two classes: the sign of the first feature's sum over time, (N, L, F)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, length, features)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
    return Batches(x * np.float32(scale), y, size, seed)


def tokens(n=64, context=8, vocab=12, size=16, seed=0):
    """Counting sequences mod ``vocab``: the next token is predictable; targets (N, L)."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, vocab, size=(n, 1))
    counted = (start + np.arange(context + 1)) % vocab
    return Batches(counted[:, :-1].astype(np.int64), counted[:, 1:].astype(np.int64), size, seed)


def bags(n=512, vocab=500, length=10, size=32, seed=0):
    """Token ids 1..vocab-1; the class: whether their mean is above the middle."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, (n, length))
    y = (x.mean(1) > vocab / 2).astype(np.int64)
    return Batches(x.astype(np.int64), y, size, seed)


def padded(n=256, length=10, vocab=20, size=16, all_padding_every=None, seed=0):
    """Token ids padded with 0 after a random length (3 or more); ``all_padding_every``: every
    so many sequences are padding throughout."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, (n, length))
    for i, kept in enumerate(rng.integers(3, length + 1, n)):
        x[i, kept:] = 0
    if all_padding_every:
        x[::all_padding_every] = 0
    y = (x[:, 0] > vocab // 2).astype(np.int64)
    return Batches(x.astype(np.int64), y, size, seed)


def two_targets(n=512, size=32, inf_every=None, seed=0):
    """A 3-class label and a regression value per row, (N, 2); ``inf_every``: that many rows
    apart, the regression target is inf."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 16)).astype(np.float32)
    label = (x[:, 0] > 0).astype(np.float32) + (x[:, 1] > 1).astype(np.float32)
    y = np.stack([label, x[:, 2:4].sum(1)], 1).astype(np.float32)
    if inf_every:
        y[::inf_every, 1] = np.inf
    return Batches(x, y, size, seed)


class PackedBatches(Batches):
    """``sequences`` padded with zeros after a random length (3 or more) per sequence; a batch
    is ((inputs, lengths), targets), for ``pack_padded_sequence``."""

    def __init__(self, scale=1.0, size=16, seed=0):
        source = sequences(scale=scale, seed=seed)
        x = source.x.copy()
        rng = np.random.default_rng(seed)
        self.lengths = rng.integers(3, x.shape[1] + 1, len(x))
        for i, length in enumerate(self.lengths):
            x[i, length:] = 0.0
        super().__init__(x, source.y, size, seed)

    def __call__(self, step):
        rows = self.rng.integers(0, len(self.x), self.size)
        return ((torch.from_numpy(self.x[rows]), torch.from_numpy(self.lengths[rows])),
                torch.from_numpy(self.y[rows]))


def prototypes(n=512, features=16, kinds=8, flip=0.05, size=32, seed=0):
    """Binary rows: one of ``kinds`` random prototypes with a share ``flip`` of bits flipped;
    inputs and targets alike (for autoencoders)."""
    rng = np.random.default_rng(seed)
    protos = rng.random((kinds, features)) < 0.4
    x = (protos[rng.integers(0, kinds, n)] ^ (rng.random((n, features)) < flip))
    x = x.astype(np.float32)
    return Batches(x, x, size, seed)


def reversal(n=256, length=6, vocab=12, size=16, seed=0):
    """Token ids 1..vocab-1; the target: the sequence reversed."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, (n, length))
    return Batches(x.astype(np.int64), x[:, ::-1].copy().astype(np.int64), size, seed)


def crops(size=16, seed=0):
    """``images``' central 8x8 crops, inputs and targets alike (for autoencoders)."""
    x = images(seed=seed).x[:, :, 1:9, 1:9].copy()
    return Batches(x, x, size, seed)
