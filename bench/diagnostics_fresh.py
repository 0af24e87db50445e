"""A held-out check of the gradient diagnostics: 110 training setups (48 broken, 62 healthy)
written fresh, the way a user writes them (PyTorch style, ``import chainrule as torch``),
independently of tests/diagnostics/suite and its helpers, on the real data in the shared data
folder (the digits, the breast-cancer table, the weekly CO2 series with its empty weeks, the
Shakespeare plays).

Each setup is either broken, with the rule the monitor's first alarm must name (alternatives
separated by ``|``) and the step by which it must come, or healthy, when the monitor must raise
no alarm at all (``monitor.findings`` empty) and the setup must not raise. Each line gives
ok/BAD, the case, the seed, what was expected, the first alarm and the loss's first and last
values; a summary per seed and in total follows.

    python bench/diagnostics_fresh.py --seeds 0 1 2
    python bench/diagnostics_fresh.py digits_mlp_adam co2_gru_forecast_standardised --verbose
    python bench/diagnostics_fresh.py --data /path/to/shared/data

``--data`` names the data folder; by default the ``shared/data`` folder next to the repository
(``<repository>/../shared/data``). ``--verbose`` prints each run's first three findings.

This is a measurement, not part of the tests: it needs the shared data, which the package must
not read at run time (the data folder's README), so it always exits 0 (2 on bad arguments).
"""

import argparse
import copy
import csv
import dataclasses
import functools
import gzip
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

import chainrule as torch
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import GradientMonitor

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA_FILES = ("digits.csv.gz", "tables/breast_cancer.csv", "series/co2_weekly.csv", "shakespeare")


# ---------------- data ----------------
@functools.cache
def _read_digits(data):
    with gzip.open(data / "digits.csv.gz", "rt") as f:
        rows = np.array([[float(v) for v in r] for r in csv.reader(f) if r and r[0][0].isdigit()])
    return rows[:, :64].astype(np.float32), rows[:, 64].astype(np.int64)


def digits(data, scaled=True):
    """The 8x8 digits and their labels; pixels scaled from 0..16 to 0..1 unless ``scaled`` is
    False. Copies: the parsed file is kept for every case."""
    x, y = _read_digits(data)
    return ((x / 16.0).astype(np.float32) if scaled else x.copy()), y.copy()


def cancer(data):
    """The breast-cancer table: 30 raw measurements, label 1 for malignant."""
    with open(data / "tables" / "breast_cancer.csv") as f:
        rows = list(csv.reader(f))[1:]
    x = np.array([[float(v) for v in row[:-1]] for row in rows], np.float32)
    y = np.array([row[-1] == "malignant" for row in rows], np.int64)
    return x, y


def standardised(x):
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32)


def co2(data, window=32):
    """Windows of ``window`` weekly CO2 values (ppm, weeks without a value left out) and the
    value after each; inputs shaped (n, window, 1), targets (n, 1)."""
    with open(data / "series" / "co2_weekly.csv") as f:
        v = np.array([float(r[1]) for r in list(csv.reader(f))[1:] if r[1]], np.float32)
    xs = np.stack([v[i:i + window] for i in range(len(v) - window - 1)])
    ys = v[window:len(v) - 1]
    return xs[..., None], ys[:, None]


def co2_scaled(data, window=32):
    x, y = co2(data, window)
    return ((x - 350) / 30).astype(np.float32), ((y - 350) / 30).astype(np.float32)


def chars(data):
    """The first 100,000 characters of Hamlet as ids into its sorted character set."""
    text = (data / "shakespeare" / "hamlet.txt").read_text()[:100000]
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    return np.array([index[c] for c in text], np.int64), len(vocab)


def next_char_windows(ids, starts, ctx):
    xs = np.stack([ids[i:i + ctx] for i in starts])
    ys = np.stack([ids[i + 1:i + ctx + 1] for i in starts])
    return xs, ys


def batches(x, y, size, seed):
    """Endless random batches (without replacement within a batch) as tensors."""
    rng = np.random.default_rng(seed + 1)  # the offset the cases were measured with
    while True:
        idx = rng.choice(len(x), size, replace=False)
        yield torch.from_numpy(x[idx]), torch.from_numpy(y[idx])


# ---------------- models, losses, the loop ----------------
def mlp(sizes, act=nn.ReLU):
    """Linear layers of the given sizes with ``act`` between them (none after the last)."""
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers[:-1])


def flat_cross_entropy(out, target):
    """Cross-entropy over every position of a sequence model's (batch, time, classes) output."""
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1))


def train(model, opt, data, steps, loss_fn, sched=None, zero=True, clip=None, clip_value=None):
    """The usual loop under a GradientMonitor; returns the monitor and the losses. ``clip``:
    the gradient norm's limit; ``clip_value``: each gradient value's; a ReduceLROnPlateau
    ``sched`` is stepped with the loss."""
    losses = []
    plateau = isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau)
    with GradientMonitor(model) as mon:
        for _ in range(steps):
            x, y = next(data)
            if zero:
                opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            if clip_value:
                nn.utils.clip_grad_value_(model.parameters(), clip_value)
            opt.step()
            if plateau:
                sched.step(loss.item())
            elif sched:
                sched.step()
            losses.append(loss.item())
            mon.step(loss, lr=opt.param_groups[0]["lr"])
    return mon, losses


# ---------------- the cases ----------------
@dataclasses.dataclass(frozen=True)
class Case:
    setup: Callable  # (data folder, seed) -> (monitor, losses)
    rules: tuple | None = None  # None: healthy, no alarm expected
    by: int | None = None  # the step by which the first alarm must come
    message: str | None = None  # a phrase the first alarm's message must hold

    def expected(self):
        if self.rules is None:
            return "quiet"
        phrase = f" '{self.message}'" if self.message else ""
        return f"{'|'.join(self.rules)}{phrase} by {self.by}"

    def judge(self, findings):
        if self.rules is None:
            return not findings
        if not findings:
            return False
        first = findings[0]
        return (first.rule in self.rules and first.step <= self.by
                and (self.message is None or self.message in first.message))


CASES = {}


def broken(rules, by, message=None):
    def register(setup):
        CASES[setup.__name__] = Case(setup, tuple(rules.split("|")), by, message)
        return setup
    return register


def healthy(setup):
    CASES[setup.__name__] = Case(setup)
    return setup


# ---- broken ----
@broken("vanishing", by=50)
def digits_ten_sigmoid_layers_sgd(data, seed):
    x, y = digits(data)
    m = mlp([64] + [64] * 10 + [10], nn.Sigmoid)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    return train(m, opt, batches(x, y, 64, seed), 100, F.cross_entropy)


@broken("exploding", by=20)
def digits_cnn_sgd_lr_five(data, seed):
    x, y = digits(data)
    m = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Flatten(),
                      nn.Linear(32 * 64, 10))
    opt = torch.optim.SGD(m.parameters(), lr=5.0)
    return train(m, opt, batches(x, y, 64, seed), 60, F.cross_entropy)


@broken("exploding", by=20)
def cancer_raw_features_sgd(data, seed):
    x, y = cancer(data)
    m = mlp([30, 32, 32, 2])
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    return train(m, opt, batches(x, y, 32, seed), 60, F.cross_entropy)


class LastStepHead(nn.Module):
    """A recurrent layer read at its last time step, then a linear head to one value."""

    def __init__(self, rnn, hidden, norm=False):
        super().__init__()
        self.rnn = rnn
        self.norm = nn.LayerNorm(hidden) if norm else None
        self.head = nn.Linear(hidden, 1)

    def forward(self, s):
        h = self.rnn(s)[0][:, -1]
        return self.head(self.norm(h) if self.norm is not None else h)


@broken("exploding", by=30)
def co2_tanh_rnn_recurrent_weights_times_three(data, seed):
    x, y = co2(data)
    x = (x - 350) / 30
    y = (y - 350) / 30
    rnn = nn.RNN(1, 32, batch_first=True)
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(3.0 * math.sqrt(32))
    m = LastStepHead(rnn, 32)
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    data = batches(x.astype(np.float32), y.astype(np.float32), 32, seed)
    return train(m, opt, data, 60, F.mse_loss)


@broken("nonfinite", by=10)
def digits_log_of_relu_output_loss(data, seed):
    x, y = digits(data)
    m = mlp([64, 64, 1])
    t = (y.astype(np.float32) / 9.0)[:, None]

    def loss_fn(out, target):
        return -(target * torch.log(torch.relu(out))).mean()  # log(0) where the ReLU clips

    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(x, t, 32, seed), 30, loss_fn)


# The monitor files gradients that are never cleared under exploding; the message tells them apart.
@broken("exploding", by=50, message="never cleared")
def digits_mlp_never_zero_grad(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    return train(m, opt, batches(x, y, 64, seed), 100, F.cross_entropy, zero=False)


@broken("stalled", by=50)
def digits_steplr_stepped_per_batch(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    return train(m, opt, batches(x, y, 64, seed), 100, F.cross_entropy, sched=sched)


@broken("dead", by=35)
def digits_first_bias_minus_five(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 128, 10])
    nn.init.constant_(m[0].bias, -5.0)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 64, seed), 60, F.cross_entropy)


@broken("nonfinite", by=30)
def cancer_nan_in_the_data_at_step_20(data, seed):
    x, y = cancer(data)
    clean = batches(standardised(x), y, 32, seed)

    def poisoned():
        for i, (a, b) in enumerate(clean, 1):
            if i == 20:
                a = a.clone()
                a[3, 5] = float("nan")
            yield a, b

    m = mlp([30, 32, 2])
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), poisoned(), 40, F.cross_entropy)


@broken("exploding", by=10)
def digits_deep_relu_init_std_one(data, seed):
    x, y = digits(data)
    m = mlp([64] + [128] * 8 + [10])
    for mod in m:
        if isinstance(mod, nn.Linear):
            nn.init.normal_(mod.weight, std=1.0)
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    return train(m, opt, batches(x, y, 64, seed), 40, F.cross_entropy)


@broken("nonfinite", by=5)
def shakespeare_attention_mask_all_positions(data, seed):
    ids, vocab = chars(data)
    xs, ys = next_char_windows(ids, range(0, 20000, 7), 32)

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, 64)
            self.attn = nn.MultiheadAttention(64, 4, batch_first=True)
            self.out = nn.Linear(64, vocab)

        def forward(self, t):
            h = self.emb(t)
            # the bug: a padding mask that masks every key, so each attention row is all -inf
            pad = torch.ones_like(t == 0).bool()
            a, _ = self.attn(h, h, h, key_padding_mask=pad)
            return self.out(h + a)

    m = LM()
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(xs, ys, 16, seed), 10, flat_cross_entropy)


@broken("saturation|vanishing|stalled", by=50)
def digits_cross_entropy_of_softmax_outputs(data, seed):
    x, y = digits(data)
    m = nn.Sequential(mlp([64, 128, 10]), nn.Softmax(dim=1))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    return train(m, opt, batches(x, y, 64, seed), 100, F.cross_entropy)


@broken("exploding", by=50)
def digits_nll_loss_of_raw_scores(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 64, seed), 100, F.nll_loss)


@broken("exploding", by=40)
def co2_lstm_sgd_lr_two_long_windows(data, seed):
    x, y = co2_scaled(data, window=128)
    m = LastStepHead(nn.LSTM(1, 64, batch_first=True), 64)
    opt = torch.optim.SGD(m.parameters(), lr=2.0)
    return train(m, opt, batches(x, y, 32, seed), 60, F.mse_loss)


@broken("vanishing|dead", by=50)
def digits_dropout_of_one(data, seed):
    x, y = digits(data)
    m = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(1.0), nn.Linear(128, 10))
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 64, seed), 60, F.cross_entropy)


@broken("saturation|vanishing", by=50)
def cancer_raw_features_into_tanh(data, seed):
    x, y = cancer(data)
    m = mlp([30, 64, 64, 2], nn.Tanh)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 32, seed), 60, F.cross_entropy)


@broken("vanishing|saturation", by=50)
def digits_cnn_six_sigmoid_convs(data, seed):
    x, y = digits(data)
    layers = [nn.Unflatten(1, (1, 8, 8))]
    c = 1
    for _ in range(6):
        layers += [nn.Conv2d(c, 16, 3, padding=1), nn.Sigmoid()]
        c = 16
    m = nn.Sequential(*layers, nn.Flatten(), nn.Linear(16 * 64, 10))
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    return train(m, opt, batches(x, y, 64, seed), 60, F.cross_entropy)


@broken("nonfinite", by=30)
def digits_masked_mean_over_an_empty_mask(data, seed):
    x, y = digits(data)
    m = mlp([64, 64, 10])

    def loss_fn(out, target):
        per = F.cross_entropy(out, target, reduction="none")
        keep = (target == 11).float()  # the bug: no digit is 11, so the mask is empty
        return (per * keep).sum() / keep.sum()  # 0 / 0

    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(x, y, 64, seed), 20, loss_fn)


@broken("nonfinite", by=10)
def digits_contrastive_distance_sqrt_at_zero(data, seed):
    x, y = digits(data)
    m = mlp([64, 64, 16])

    def loss_fn(out, target):
        diff = out[:, None, :] - out[None, :, :]
        dist = torch.sqrt((diff ** 2).sum(-1))  # the bug: sqrt's gradient at 0, on the diagonal
        same = (target[:, None] == target[None, :]).float()
        return (same * dist ** 2 + (1 - same) * F.relu(1.0 - dist) ** 2).mean()

    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(x, y, 32, seed), 20, loss_fn)


@broken("stalled", by=50)
def digits_learning_rate_ten_million_times_too_small(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), lr=1e-8)
    return train(m, opt, batches(x, y, 64, seed), 100, F.cross_entropy)


@broken("nonfinite|exploding", by=30)
def digits_exp_activation_overflows(data, seed):
    x, y = digits(data, scaled=False)  # raw pixels up to 16: exp of them overflows sooner

    class Exp(nn.Module):
        def forward(self, h):
            return torch.exp(h)

    m = nn.Sequential(nn.Linear(64, 128), Exp(), nn.Linear(128, 128), Exp(), nn.Linear(128, 10))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    return train(m, opt, batches(x, y, 64, seed), 30, F.cross_entropy)


class CharLM(nn.Module):
    """Characters in, next-character scores out, through one recurrent layer."""

    def __init__(self, vocab, rnn_type, hidden):
        super().__init__()
        self.emb = nn.Embedding(vocab, 32)
        self.rnn = rnn_type(32, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, t):
        return self.out(self.rnn(self.emb(t))[0])


@broken("exploding", by=40)
def shakespeare_char_lstm_sgd_lr_twenty_no_clip(data, seed):
    ids, vocab = chars(data)
    xs, ys = next_char_windows(ids, np.arange(0, 60000, 13), 64)
    m = CharLM(vocab, nn.LSTM, 128)
    opt = torch.optim.SGD(m.parameters(), lr=20.0)
    return train(m, opt, batches(xs, ys, 32, seed), 60, flat_cross_entropy)


@broken("exploding", by=10)
def digits_mlp_adam_lr_one(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 128, 10])
    return train(m, torch.optim.Adam(m.parameters(), 1.0), batches(x, y, 64, seed), 40,
                 F.cross_entropy)


@broken("exploding", by=30)
def cancer_regression_of_raw_area_sgd(data, seed):
    x, _ = cancer(data)
    xs = standardised(np.delete(x, 3, axis=1))
    t = x[:, 3:4].copy()  # mean area, in square pixels (hundreds to thousands), not scaled
    m = mlp([29, 32, 1])
    return train(m, torch.optim.SGD(m.parameters(), 0.01), batches(xs, t, 32, seed), 40,
                 F.mse_loss)


@broken("exploding", by=40)
def digits_lambda_lr_growing_one_and_a_half_a_step(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), 0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.5 ** s)
    return train(m, opt, batches(x, y, 64, seed), 60, F.cross_entropy, sched=sched)


@broken("nonfinite", by=20)
def shakespeare_embedding_adam_eps_zero(data, seed):
    # rows of characters that never occur get a zero gradient: Adam's 0 / (0 + eps) is 0/0
    ids, vocab = chars(data)
    m = nn.Sequential(nn.Embedding(vocab + 20, 32), nn.Linear(32, vocab))
    rng = np.random.default_rng(seed)
    def gen():
        while True:
            s = rng.integers(0, len(ids) - 1, 64)
            yield torch.from_numpy(ids[s]), torch.from_numpy(ids[s + 1])
    return train(m, torch.optim.Adam(m.parameters(), 1e-3, eps=0.0), gen(), 30, F.cross_entropy)


@broken("nonfinite", by=10)
def digits_standardised_inside_the_model_by_batch_std(data, seed):
    # corner pixels are 0 in every image: their batch std is 0, and 0 / 0 is nan
    x, y = digits(data, scaled=False)

    class Standardise(nn.Module):
        def forward(self, v):
            return (v - v.mean(0)) / v.std(0)

    m = nn.Sequential(Standardise(), mlp([64, 64, 10]))
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(x, y, 64, seed), 20,
                 F.cross_entropy)


# one update throws the weights (3.2x at step 8, seed 0), or the loss thrashes (spikes to 4x
# chance) while the units die, 49% of the second layer's at step 16, 84% at 50 (seed 1)
@broken("exploding|dead", by=50)
def digits_relu_mlp_sgd_lr_two(data, seed):
    x, y = digits(data)
    m = mlp([64, 256, 256, 10])
    return train(m, torch.optim.SGD(m.parameters(), 2.0), batches(x, y, 64, seed), 60,
                 F.cross_entropy)


@broken("vanishing|saturation", by=50)
def shakespeare_lstm_forget_bias_minus_ten(data, seed):
    ids, vocab = chars(data)
    rng = np.random.default_rng(seed)

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 32)
            self.lstm = nn.LSTM(32, 64, batch_first=True)
            self.head = nn.Linear(64, vocab)
            with torch.no_grad():  # the forget gate's quarter of both biases
                self.lstm.bias_ih_l0[64:128] = -10.0
                self.lstm.bias_hh_l0[64:128] = 0.0

        def forward(self, s):
            return self.head(self.lstm(self.embed(s))[0])

    m = CharLSTM()

    def gen():
        while True:
            xs, ys = next_char_windows(ids, rng.integers(0, len(ids) - 65, 32), 64)
            yield torch.from_numpy(xs), torch.from_numpy(ys)

    return train(m, torch.optim.Adam(m.parameters(), 3e-3), gen(), 60, flat_cross_entropy)


@broken("stalled", by=50)
def digits_sgd_weight_decay_ten(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), 0.05, weight_decay=10.0)
    return train(m, opt, batches(x, y, 64, seed), 80, F.cross_entropy)


@broken("exploding", by=40)
def co2_mlp_sgd_momentum_one(data, seed):
    x, y = co2_scaled(data)
    m = mlp([32, 64, 1])
    opt = torch.optim.SGD(m.parameters(), 0.01, momentum=1.0)
    return train(m, opt, batches(x[..., 0], y, 32, seed), 80, F.mse_loss)


@broken("saturation|vanishing", by=50)
def digits_tanh_mlp_raw_pixels_init_std_one(data, seed):
    x, y = digits(data, scaled=False)
    m = mlp([64, 128, 128, 10], nn.Tanh)
    for mod in m:
        if isinstance(mod, nn.Linear):
            nn.init.normal_(mod.weight, std=1.0)
    return train(m, torch.optim.SGD(m.parameters(), 0.01), batches(x, y, 64, seed), 60,
                 F.cross_entropy)


# on the raw columns the first forward may already round p to 1 (seed 0: nan at step 1), or
# the first update throws the weights (seed 1: exploding at step 1, nan after)
@broken("nonfinite|exploding", by=15)
def cancer_bce_on_sigmoid_probabilities_that_reach_one(data, seed):
    x, y = cancer(data)
    m = nn.Sequential(mlp([30, 32, 1]), nn.Sigmoid())

    def loss_fn(p, t):  # hand-written BCE: log(1 - p) is -inf once p rounds to 1
        t = t.float()[:, None]
        return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()

    return train(m, torch.optim.SGD(m.parameters(), 0.1), batches(x, y, 32, seed), 30, loss_fn)


# the loss starts at 266 (chance: 2.3), jumps to 1295, then sits near chance with 90-97% of the
# last convolution's units dead from step 16 (seed 0)
@broken("exploding|dead", by=50)
def digits_cnn_kaiming_times_four(data, seed):
    x, y = digits(data)
    m = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.Flatten(),
                      nn.Linear(32 * 64, 10))
    for mod in m:
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(mod.weight)
            mod.weight.data.mul_(4.0)
    return train(m, torch.optim.SGD(m.parameters(), 0.01, momentum=0.9),
                 batches(x, y, 64, seed), 60, F.cross_entropy)


def char_windows(ids, ctx, size, seed):
    rng = np.random.default_rng(seed)
    while True:
        xs, ys = next_char_windows(ids, rng.integers(0, len(ids) - ctx - 1, size), ctx)
        yield torch.from_numpy(xs), torch.from_numpy(ys)


class CharTransformer(nn.Module):
    def __init__(self, vocab, ctx, width=64, heads=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.zeros(ctx, width))
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(ctx))

    def forward(self, s):
        h = self.embed(s) + self.pos[: s.shape[1]]
        return self.head(self.blocks(h, mask=self.mask[: s.shape[1], : s.shape[1]]))


@broken("exploding", by=20)
def shakespeare_transformer_adam_lr_point_one(data, seed):
    ids, vocab = chars(data)
    m = CharTransformer(vocab, 32)
    return train(m, torch.optim.Adam(m.parameters(), 0.1), char_windows(ids, 32, 16, seed), 40,
                 flat_cross_entropy)


@broken("exploding", by=30)
def shakespeare_char_gru_sgd_lr_fifty(data, seed):
    ids, vocab = chars(data)

    class CharGRU(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 32)
            self.gru = nn.GRU(32, 64, batch_first=True)
            self.head = nn.Linear(64, vocab)

        def forward(self, s):
            return self.head(self.gru(self.embed(s))[0])

    m = CharGRU()
    return train(m, torch.optim.SGD(m.parameters(), 50.0), char_windows(ids, 48, 16, seed), 40,
                 flat_cross_entropy)


@broken("saturation|vanishing|exploding", by=50)
def co2_gru_on_raw_ppm(data, seed):
    x, y = co2(data)  # inputs and targets in ppm, around 300-420: not scaled

    class Forecast(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(1, 32, batch_first=True)
            self.head = nn.Linear(32, 1)

        def forward(self, s):
            return self.head(self.gru(s)[0][:, -1])

    m = Forecast()
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(x, y, 32, seed), 60,
                 F.mse_loss)


@broken("nonfinite", by=10)
def shakespeare_attention_over_an_all_padding_sequence(data, seed):
    # variable-length lines padded to 24; one batch row is an empty line: every key is padding
    ids, vocab = chars(data)
    rng = np.random.default_rng(seed)
    pad = vocab

    class Classifier(nn.Module):  # which of four quarters of the text a line comes from
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab + 1, 32)
            self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
            self.head = nn.Linear(32, 4)

        def forward(self, s):
            padded = s == pad
            h = self.embed(s)
            h = self.attn(h, h, h, key_padding_mask=padded)[0]
            keep = (~padded).float()[..., None]
            return self.head((h * keep).sum(1) / keep.sum(1).clamp(min=1.0))

    def gen():
        while True:
            lengths = rng.integers(4, 25, 32)
            lengths[rng.integers(0, 32)] = 0
            starts = rng.integers(0, len(ids) - 25, 32)
            xs = np.full((32, 24), pad, np.int64)
            for i, (st, n) in enumerate(zip(starts, lengths)):
                xs[i, :n] = ids[st:st + n]
            yield torch.from_numpy(xs), torch.from_numpy(starts * 4 // len(ids))

    m = Classifier()
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), gen(), 20, F.cross_entropy)


# under Adam the summed gradient still points downhill at first (loss 0.5 by step 90), then
# the stale sum overshoots: back up to 0.9-1.7 at steps 190-200 where the zeroed twin is at
# 0.33, its gradient norm 0.4 at step 1, 18 at 50, 64-98 at 300 (seeds 0-4)
@broken("exploding", by=50, message="never cleared")
def digits_accumulation_of_four_micro_batches_zero_grad_forgotten(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    micro = batches(x, y, 16, seed)
    losses = []
    with GradientMonitor(m) as mon:
        for _ in range(100):
            total = 0.0
            for _ in range(4):  # the bug: no opt.zero_grad() anywhere in the loop
                xb, yb = next(micro)
                loss = F.cross_entropy(m(xb), yb) / 4
                loss.backward()
                total += loss.item()
            opt.step()
            mon.step(total)
            losses.append(total)
    return mon, losses


@broken("exploding", by=30)
def co2_mse_summed_over_the_batch_axis(data, seed):
    x, y = co2_scaled(data)
    m = mlp([32, 64, 64, 1])

    def loss_fn(out, target):  # meant .mean(0): the sum makes the step 256x the intended one
        return ((out - target) ** 2).sum(0).mean()

    opt = torch.optim.SGD(m.parameters(), 0.02, momentum=0.9)
    return train(m, opt, batches(x[..., 0], y, 256, seed), 60, loss_fn)


@broken("exploding", by=50)
def digits_linear_decay_without_its_floor_at_zero(data, seed):
    # warmup to 1 over 10 steps, then a linear decay meant to stop at 0 (max(0, ...) left
    # out): from step 20 the rate is negative and the optimizer climbs the loss, ever faster
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), 0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / 10 if s < 10 else 1 - (s - 10) / 10)
    return train(m, opt, batches(x, y, 64, seed), 60, F.cross_entropy, sched=sched)


@broken("exploding", by=20)
def digits_one_hot_targets_into_mse_sgd_lr_fifty(data, seed):
    x, y = digits(data)
    t = np.eye(10, dtype=np.float32)[y]
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), 50.0)
    return train(m, opt, batches(x, t, 64, seed), 40, F.mse_loss)


@broken("exploding", by=30)
def digits_sixteen_residual_blocks_without_normalisation_sgd_lr_half(data, seed):
    x, y = digits(data)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(64, 64), nn.Linear(64, 64)

        def forward(self, h):
            return h + self.fc2(F.relu(self.fc1(h)))

    m = nn.Sequential(nn.Linear(64, 64), *[Block() for _ in range(16)], nn.Linear(64, 10))
    opt = torch.optim.SGD(m.parameters(), 0.5, momentum=0.9)
    return train(m, opt, batches(x, y, 64, seed), 50, F.cross_entropy)


# the week channel saturates the gates: the loss 0.010-0.017 at step 150 where the twin with
# the week divided by 2,000 reaches 0.0013-0.0016 (seeds 0-4)
@broken("saturation|vanishing", by=50)
def co2_gru_fed_the_unscaled_week_number(data, seed):
    # a second input channel, the week's index in the series (32 to 2,000), left unscaled
    x, y = co2_scaled(data)
    week = (np.arange(len(x))[:, None] + np.arange(x.shape[1])[None, :]).astype(np.float32)
    xs = np.concatenate([x, week[..., None]], axis=2)
    m = LastStepHead(nn.GRU(2, 32, batch_first=True), 32)
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(xs, y, 32, seed), 60,
                 F.mse_loss)


@broken("stalled|vanishing|saturation", by=50)
def digits_softmax_over_the_batch_axis(data, seed):
    # dim=0: each column sums to 1 over the 64 images, every score near 1/64, and the
    # cross-entropy of near-equal scores hardly moves
    x, y = digits(data)
    m = nn.Sequential(mlp([64, 128, 10]), nn.Softmax(dim=0))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    return train(m, opt, batches(x, y, 64, seed), 100, F.cross_entropy)


@broken("exploding", by=50)
def digits_bce_with_logits_given_class_indices_as_targets(data, seed):
    # targets 0..9 where BCE wants 0..1: for a target above 1 the loss falls without end as
    # the logit grows, and the optimizer follows it
    x, y = digits(data)
    t = y.astype(np.float32)[:, None]
    m = mlp([64, 128, 1])
    opt = torch.optim.SGD(m.parameters(), 0.1, momentum=0.9)
    return train(m, opt, batches(x, t, 64, seed), 60, F.binary_cross_entropy_with_logits)


@broken("dead|stalled|vanishing", by=50)
def digits_every_parameter_initialised_to_zero(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 128, 10])
    for p in m.parameters():
        nn.init.zeros_(p)
    return train(m, torch.optim.SGD(m.parameters(), 0.1), batches(x, y, 64, seed), 80,
                 F.cross_entropy)


@broken("exploding", by=40)
def cancer_l2_penalty_added_with_the_wrong_sign(data, seed):
    x, y = cancer(data)
    m = mlp([30, 64, 2])

    def loss_fn(out, target):  # meant + 0.05 * ||w||^2: the minus rewards large weights
        penalty = sum((p ** 2).sum() for p in m.parameters())
        return F.cross_entropy(out, target) - 0.05 * penalty

    opt = torch.optim.SGD(m.parameters(), 0.1, momentum=0.9)
    return train(m, opt, batches(standardised(x), y, 32, seed), 60, loss_fn)


# ---- healthy ----
@healthy
def digits_mlp_adam(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 64, 10])
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 64, seed), 200, F.cross_entropy)


@healthy
def digits_cnn_batchnorm_dropout_momentum(data, seed):
    x, y = digits(data)
    m = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 16, 3, padding=1),
                      nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                      nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 16, 10))
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    return train(m, opt, batches(x, y, 32, seed), 200, F.cross_entropy)


@healthy
def cancer_standardised_batch_size_one(data, seed):
    x, y = cancer(data)
    m = mlp([30, 16, 2])
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    return train(m, opt, batches(standardised(x), y, 1, seed), 300, F.cross_entropy)


@healthy
def co2_gru_forecast_standardised(data, seed):
    x, y = co2_scaled(data)
    m = LastStepHead(nn.GRU(1, 32, batch_first=True), 32)
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    return train(m, opt, batches(x, y, 32, seed), 150, F.mse_loss)


@healthy
def shakespeare_tiny_transformer_warmup_cosine(data, seed):
    ids, vocab = chars(data)
    ctx = 32
    xs, ys = next_char_windows(ids, np.arange(0, 50000, 5), ctx)

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, 64)
            self.pos = nn.Embedding(ctx, 64)
            layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.1, batch_first=True,
                                               norm_first=True)
            self.enc = nn.TransformerEncoder(layer, 2)
            self.out = nn.Linear(64, vocab)

        def forward(self, t):
            h = self.emb(t) + self.pos(torch.arange(t.shape[1]))
            mask = nn.Transformer.generate_square_subsequent_mask(t.shape[1])
            return self.out(self.enc(h, mask=mask, is_causal=True))

    m = LM()
    opt = torch.optim.AdamW(m.parameters(), 3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=150)
    return train(m, opt, batches(xs, ys, 16, seed), 150, flat_cross_entropy, sched=sched)


@healthy
def digits_frozen_backbone_trained_head(data, seed):
    x, y = digits(data)
    backbone = mlp([64, 128, 64])
    head = nn.Linear(64, 10)
    for p in backbone.parameters():
        p.requires_grad_(False)
    m = nn.Sequential(backbone, nn.ReLU(), head)
    opt = torch.optim.Adam(head.parameters(), 1e-2)
    return train(m, opt, batches(x, y, 64, seed), 150, F.cross_entropy)


@healthy
def digits_label_noise_thirty_percent(data, seed):
    x, y = digits(data)
    rng = np.random.default_rng(seed + 7)
    flip = rng.random(len(y)) < 0.3
    y[flip] = rng.integers(0, 10, flip.sum())
    m = mlp([64, 128, 10])
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 64, seed), 200, F.cross_entropy)


@healthy
def cancer_logistic_regression_lbfgs_free_sgd_nesterov(data, seed):
    x, y = cancer(data)
    m = nn.Linear(30, 2)
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    return train(m, opt, batches(standardised(x), y, 64, seed), 150, F.cross_entropy)


@healthy
def co2_lstm_raw_targets_normalised_inside_with_layernorm(data, seed):
    x, y = co2_scaled(data)
    rnn = nn.LSTM(1, 32, num_layers=2, batch_first=True, dropout=0.1)
    m = LastStepHead(rnn, 32, norm=True)
    opt = torch.optim.RMSprop(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 32, seed), 150, F.smooth_l1_loss)


@healthy
def digits_residual_mlp_gelu_cosine(data, seed):
    x, y = digits(data)

    class Block(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.norm = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, 2 * d)
            self.fc2 = nn.Linear(2 * d, d)

        def forward(self, h):
            return h + self.fc2(F.gelu(self.fc1(self.norm(h))))

    m = nn.Sequential(nn.Linear(64, 64), *[Block(64) for _ in range(6)], nn.Linear(64, 10))
    opt = torch.optim.Adam(m.parameters(), 2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 200)
    return train(m, opt, batches(x, y, 64, seed), 200, F.cross_entropy, sched=sched)


@healthy
def digits_autoencoder_sigmoid_bce(data, seed):
    x, _ = digits(data)
    m = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8), nn.ReLU(),
                      nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 64), nn.Sigmoid())
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    return train(m, opt, batches(x, x, 64, seed), 200, F.binary_cross_entropy)


@healthy
def digits_cnn_groupnorm_silu_warmup(data, seed):
    x, y = digits(data)
    m = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 32, 3, padding=1),
                      nn.GroupNorm(4, 32), nn.SiLU(), nn.Conv2d(32, 32, 3, padding=1),
                      nn.GroupNorm(4, 32), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                      nn.Linear(32, 10))
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20))
    return train(m, opt, batches(x, y, 128, seed), 150, F.cross_entropy, sched=sched)


@healthy
def digits_distillation_kl(data, seed):
    x, y = digits(data)
    teacher = mlp([64, 256, 10])
    topt = torch.optim.Adam(teacher.parameters(), 3e-3)
    pretraining = batches(x, y, 64, seed)
    for _ in range(100):
        xb, yb = next(pretraining)
        topt.zero_grad()
        F.cross_entropy(teacher(xb), yb).backward()
        topt.step()
    teacher.eval()
    student = mlp([64, 32, 10])

    def loss_fn(out, inputs):
        log_p = F.log_softmax(out / 2, 1)
        return F.kl_div(log_p, F.softmax(teacher(inputs) / 2, 1).detach(), reduction="batchmean")

    # the loop's "targets" are the inputs themselves, for the teacher to score
    pairs = ((xb, xb) for xb, _ in batches(x, y, 64, seed + 5))
    return train(student, torch.optim.Adam(student.parameters(), 3e-3), pairs, 150, loss_fn)


@healthy
def cancer_mlp_bce_with_logits_clipped_adamw(data, seed):
    x, y = cancer(data)
    yf = y.astype(np.float32)[:, None]
    m = mlp([30, 64, 64, 1])
    opt = torch.optim.AdamW(m.parameters(), 1e-3)
    return train(m, opt, batches(standardised(x), yf, 16, seed), 200,
                 F.binary_cross_entropy_with_logits, clip=1.0)


@healthy
def shakespeare_char_gru_language_model(data, seed):
    ids, vocab = chars(data)
    xs, ys = next_char_windows(ids, np.arange(0, 60000, 11), 48)
    m = CharLM(vocab, nn.GRU, 128)
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    return train(m, opt, batches(xs, ys, 32, seed), 120, flat_cross_entropy, clip=1.0)


@healthy
def digits_patch_transformer_adamw_cosine(data, seed):
    x, y = digits(data)

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch = nn.Linear(16, 48)
            self.pos = nn.Parameter(torch.zeros(1, 4, 48))
            self.cls = nn.Parameter(torch.zeros(1, 1, 48))
            layer = nn.TransformerEncoderLayer(48, 4, 96, dropout=0.0, batch_first=True,
                                               activation="gelu", norm_first=True)
            self.enc = nn.TransformerEncoder(layer, 3)
            self.norm = nn.LayerNorm(48)
            self.head = nn.Linear(48, 10)

        def forward(self, images):
            b = images.shape[0]
            # four 4x4 patches of each 8x8 image, 16 pixels each
            p = images.reshape(b, 2, 4, 2, 4).permute(0, 1, 3, 2, 4).reshape(b, 4, 16)
            h = torch.cat([self.cls.expand(b, -1, -1), self.patch(p) + self.pos], 1)
            return self.head(self.norm(self.enc(h)[:, 0]))

    m = ViT()
    opt = torch.optim.AdamW(m.parameters(), 2e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 200)
    return train(m, opt, batches(x, y, 64, seed), 200, F.cross_entropy, sched=sched)


@healthy
def gan_on_a_ring_of_gaussians_generator_monitored(data, seed):
    rng = np.random.default_rng(seed + 3)
    angles = rng.integers(0, 8, 4096) * (2 * np.pi / 8)
    ring = np.stack([np.cos(angles), np.sin(angles)], 1) * 2
    real = (ring + 0.05 * rng.standard_normal((4096, 2))).astype(np.float32)
    gen = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                        nn.Linear(64, 2))
    disc = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64),
                         nn.LeakyReLU(0.2), nn.Linear(64, 1))
    og = torch.optim.Adam(gen.parameters(), 1e-3, betas=(0.5, 0.999))
    od = torch.optim.Adam(disc.parameters(), 1e-3, betas=(0.5, 0.999))
    bce = F.binary_cross_entropy_with_logits
    losses = []
    with GradientMonitor(gen) as mg, GradientMonitor(disc) as md:
        for _ in range(300):
            x = torch.from_numpy(real[rng.integers(0, 4096, 64)])
            z = torch.randn(64, 8)
            od.zero_grad()
            dl = (bce(disc(x), torch.ones(64, 1))
                  + bce(disc(gen(z).detach()), torch.zeros(64, 1)))
            dl.backward()
            od.step()
            md.step(dl)
            og.zero_grad()
            gl = bce(disc(gen(z)), torch.ones(64, 1))
            gl.backward()
            og.step()
            mg.step(gl)
            losses.append(gl.item())
    mg.findings.extend(md.findings)  # either network's alarm counts
    return mg, losses


@healthy
def co2_heavy_tailed_noise_huber(data, seed):
    x, y = co2_scaled(data)
    rng = np.random.default_rng(seed + 11)
    y = (y + 0.05 * rng.standard_t(1.5, y.shape)).astype(np.float32)
    m = nn.Sequential(nn.Flatten(), nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 16, seed), 200, F.huber_loss)


@healthy
def digits_selu_alpha_dropout(data, seed):
    x, y = digits(data)
    m = nn.Sequential(nn.Linear(64, 128), nn.SELU(), nn.AlphaDropout(0.1), nn.Linear(128, 128),
                      nn.SELU(), nn.Linear(128, 10))
    for mod in m:
        if isinstance(mod, nn.Linear):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="linear")
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    return train(m, opt, batches(x, y, 64, seed), 200, F.cross_entropy)


@healthy
def digits_accumulated_micro_batches_divided(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    micro = batches(x, y, 16, seed)
    losses = []
    with GradientMonitor(m) as mon:
        for _ in range(150):
            opt.zero_grad()
            total = 0.0
            for _ in range(4):
                xb, yb = next(micro)
                loss = F.cross_entropy(m(xb), yb) / 4
                loss.backward()
                total += loss.item()
            opt.step()
            mon.step(total)
            losses.append(total)
    return mon, losses


@healthy
def digits_resnet_batchnorm_onecycle(data, seed):
    x, y = digits(data)

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.b1 = nn.BatchNorm2d(c)
            self.c2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.b2 = nn.BatchNorm2d(c)

        def forward(self, h):
            return F.relu(h + self.b2(self.c2(F.relu(self.b1(self.c1(h))))))

    m = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 16, 3, padding=1),
                      nn.BatchNorm2d(16), nn.ReLU(), Block(16), Block(16),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.2, total_steps=150)
    return train(m, opt, batches(x, y, 64, seed), 150, F.cross_entropy, sched=sched)


@healthy
def digits_pretrain_then_freeze_first_layer(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 64, 10])
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    stream = batches(x, y, 64, seed)
    for _ in range(100):
        xb, yb = next(stream)
        opt.zero_grad()
        F.cross_entropy(m(xb), yb).backward()
        opt.step()
    m[0].requires_grad_(False)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], 3e-4)
    return train(m, opt, stream, 150, F.cross_entropy)


@healthy
def shakespeare_mean_of_embeddings_which_play(data, seed):
    plays = sorted(p.name for p in (data / "shakespeare").iterdir())[:4]
    lines, labels = [], []
    for k, play in enumerate(plays):
        with open(data / "shakespeare" / play) as f:
            text = [line.strip() for line in f if len(line.strip()) > 30][:1500]
        lines += text
        labels += [k] * len(text)
    words = sorted({w for line in lines for w in line.lower().split()})
    vocab = {w: i + 1 for i, w in enumerate(words)}  # 0 pads
    length = 12
    ids = np.zeros((len(lines), length), np.int64)
    for i, line in enumerate(lines):
        ws = [vocab[w] for w in line.lower().split()][:length]
        ids[i, :len(ws)] = ws

    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(len(vocab) + 1, 32, padding_idx=0)
            self.head = nn.Linear(32, 4)

        def forward(self, t):
            mask = (t != 0).float()[..., None]
            return self.head((self.emb(t) * mask).sum(1) / mask.sum(1).clamp(min=1.0))

    m = Bag()
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    stream = batches(ids, np.array(labels, np.int64), 64, seed)
    return train(m, opt, stream, 200, F.cross_entropy)


@healthy
def sequence_reversal_gru_encoder_decoder(data, seed):
    rng = np.random.default_rng(seed + 4)
    seqs = rng.integers(1, 10, (4096, 8))
    tgt = seqs[:, ::-1].copy()

    class S2S(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(11, 32)
            self.enc = nn.GRU(32, 64, batch_first=True)
            self.dec = nn.GRU(32, 64, batch_first=True)
            self.out = nn.Linear(64, 11)

        def forward(self, s):
            _, h = self.enc(self.emb(s))
            start = torch.zeros(s.shape[0], s.shape[1], dtype=torch.int64)
            o, _ = self.dec(self.emb(start), h)
            return self.out(o)

    m = S2S()
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    return train(m, opt, batches(seqs, tgt, 64, seed), 200, flat_cross_entropy, clip=1.0)


@healthy
def digits_batch_size_one_sgd(data, seed):
    x, y = digits(data)
    m = mlp([64, 64, 64, 10])
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    return train(m, opt, batches(x, y, 1, seed), 400, F.cross_entropy)


@healthy
def digits_zero_initialised_output_and_residual_branches(data, seed):
    x, y = digits(data)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(64, 64)
            self.fc2 = nn.Linear(64, 64)
            nn.init.zeros_(self.fc2.weight)
            nn.init.zeros_(self.fc2.bias)

        def forward(self, h):
            return h + self.fc2(F.relu(self.fc1(h)))

    head = nn.Linear(64, 10)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    m = nn.Sequential(nn.Linear(64, 64), Block(), Block(), head)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    return train(m, opt, batches(x, y, 64, seed), 200, F.cross_entropy)


def smoothed_cross_entropy(out, target):
    return F.cross_entropy(out, target, label_smoothing=0.1)


@healthy
def digits_label_smoothing_and_ema_of_weights(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.NAdam(m.parameters(), 2e-3)
    return train(m, opt, batches(x, y, 64, seed), 200, smoothed_cross_entropy)


@healthy
def co2_lstm_long_windows_clipped(data, seed):
    x, y = co2_scaled(data, window=96)
    m = LastStepHead(nn.LSTM(1, 48, batch_first=True), 48)
    opt = torch.optim.Adam(m.parameters(), 5e-3)
    return train(m, opt, batches(x, y, 32, seed), 120, F.mse_loss, clip=0.5)


@healthy
def digits_two_monitors_student_and_teacher_trained_together(data, seed):
    x, y = digits(data)
    teacher, student = mlp([64, 128, 10]), mlp([64, 32, 10])
    to = torch.optim.Adam(teacher.parameters(), 1e-3)
    so = torch.optim.Adam(student.parameters(), 1e-3)
    stream = batches(x, y, 64, seed)
    losses = []
    with GradientMonitor(teacher) as mt, GradientMonitor(student) as ms:
        for _ in range(200):
            xb, yb = next(stream)
            to.zero_grad()
            tl = F.cross_entropy(teacher(xb), yb)
            tl.backward()
            to.step()
            mt.step(tl)
            so.zero_grad()
            ce = F.cross_entropy(student(xb), yb)
            log_p = F.log_softmax(student(xb), 1)
            sl = ce + F.kl_div(log_p, F.softmax(teacher(xb), 1).detach(), reduction="batchmean")
            sl.backward()
            so.step()
            ms.step(sl)
            losses.append(sl.item())
    ms.findings.extend(mt.findings)  # either network's alarm counts
    return ms, losses


# ---------------- running and reporting ----------------
@healthy
def digits_leaky_mlp_adamw_onecycle(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 128, 10], nn.LeakyReLU)
    opt = torch.optim.AdamW(m.parameters(), 1e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-2, total_steps=150)
    return train(m, opt, batches(x, y, 64, seed), 150, F.cross_entropy, sched=sched)


@healthy
def cancer_dropout_half_sgd_momentum(data, seed):
    x, y = cancer(data)
    m = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))
    opt = torch.optim.SGD(m.parameters(), 0.05, momentum=0.9)
    return train(m, opt, batches(standardised(x), y, 32, seed), 150, F.cross_entropy)


@healthy
def co2_conv1d_forecaster(data, seed):
    x, y = co2_scaled(data)
    m = nn.Sequential(nn.Conv1d(1, 16, 5), nn.ReLU(), nn.Conv1d(16, 16, 5), nn.ReLU(),
                      nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 1))
    xs = np.ascontiguousarray(np.transpose(x, (0, 2, 1)))
    return train(m, torch.optim.Adam(m.parameters(), 3e-3), batches(xs, y, 32, seed), 150,
                 F.mse_loss)


@healthy
def shakespeare_char_cnn(data, seed):
    ids, vocab = chars(data)
    rng = np.random.default_rng(seed)

    class CharCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 32)
            self.conv = nn.Conv1d(32, 64, 5)
            self.head = nn.Linear(64, vocab)

        def forward(self, s):  # the 16 characters before predict the next
            h = torch.relu(self.conv(self.embed(s).transpose(1, 2)))
            return self.head(h.amax(-1))

    def gen():
        while True:
            st = rng.integers(0, len(ids) - 17, 64)
            xs = np.stack([ids[i:i + 16] for i in st])
            yield torch.from_numpy(xs), torch.from_numpy(ids[st + 16])

    m = CharCNN()
    return train(m, torch.optim.Adam(m.parameters(), 2e-3), gen(), 150, F.cross_entropy)


@healthy
def cancer_logistic_regression_lbfgs_strong_wolfe(data, seed):
    x, y = cancer(data)
    xs, yt = torch.from_numpy(standardised(x)), torch.from_numpy(y)
    m = nn.Linear(30, 2)
    opt = torch.optim.LBFGS(m.parameters(), lr=1.0, line_search_fn="strong_wolfe")
    losses = []
    with GradientMonitor(m) as mon:
        for _ in range(20):
            def closure():
                opt.zero_grad()
                loss = F.cross_entropy(m(xs), yt)
                loss.backward()
                return loss
            loss = opt.step(closure)
            losses.append(float(loss))
            mon.step(loss)
    return mon, losses


@healthy
def digits_gaussian_vae(data, seed):
    x, _ = digits(data)

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(64, 128), nn.ReLU())
            self.mu, self.logvar = nn.Linear(128, 8), nn.Linear(128, 8)
            self.dec = nn.Sequential(nn.Linear(8, 128), nn.ReLU(), nn.Linear(128, 64))

        def forward(self, v):
            h = self.enc(v)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            return self.dec(z), mu, logvar

    def loss_fn(out, target):
        recon, mu, logvar = out
        rec = F.binary_cross_entropy_with_logits(recon, target, reduction="sum") / len(target)
        kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp()) / len(target)
        return rec + kl

    m = VAE()
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(x, x, 64, seed), 200,
                 loss_fn)


@healthy
def digits_clip_grad_value_sgd(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.SGD(m.parameters(), 0.1, momentum=0.9)
    return train(m, opt, batches(x, y, 64, seed), 150, F.cross_entropy, clip_value=0.05)


@healthy
def digits_two_heads_classify_and_reconstruct(data, seed):
    x, y = digits(data)

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(64, 128), nn.ReLU())
            self.cls = nn.Linear(128, 10)
            self.rec = nn.Linear(128, 64)

        def forward(self, v):
            h = self.body(v)
            return self.cls(h), self.rec(h)

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(seed + 1)

    def gen():
        while True:
            i = rng.choice(len(x), 64, replace=False)
            yield xt[i], (yt[i], xt[i])

    def loss_fn(out, target):
        return F.cross_entropy(out[0], target[0]) + F.mse_loss(out[1], target[1])

    m = TwoHeads()
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), gen(), 150, loss_fn)


@healthy
def digits_mixup(data, seed):
    x, y = digits(data)
    rng = np.random.default_rng(seed + 7)
    m = mlp([64, 128, 10])
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    losses = []
    gen = batches(x, y, 64, seed)
    with GradientMonitor(m) as mon:
        for _ in range(150):
            xb, yb = next(gen)
            lam = float(rng.beta(0.4, 0.4))
            perm = torch.from_numpy(rng.permutation(64))
            mixed = lam * xb + (1 - lam) * xb[perm]
            opt.zero_grad()
            out = m(mixed)
            loss = lam * F.cross_entropy(out, yb) + (1 - lam) * F.cross_entropy(out, yb[perm])
            loss.backward()
            opt.step()
            losses.append(loss.item())
            mon.step(loss)
    return mon, losses


@healthy
def digits_cnn_batchnorm_maxpool_plateau(data, seed):
    x, y = digits(data)
    m = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 16, 3, padding=1),
                      nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 4, 10))
    opt = torch.optim.SGD(m.parameters(), 0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=5, factor=0.5)
    return train(m, opt, batches(x, y, 64, seed), 150, F.cross_entropy, sched=sched)


@healthy
def shakespeare_bigram_embedding(data, seed):
    ids, vocab = chars(data)
    rng = np.random.default_rng(seed)
    m = nn.Sequential(nn.Embedding(vocab, vocab))

    def gen():
        while True:
            s = rng.integers(0, len(ids) - 1, 128)
            yield torch.from_numpy(ids[s]), torch.from_numpy(ids[s + 1])

    return train(m, torch.optim.SGD(m.parameters(), 1.0), gen(), 150, F.cross_entropy)


@healthy
def co2_lstm_multi_step_forecast(data, seed):
    x, y = co2_scaled(data, window=40)
    xs, ys = np.ascontiguousarray(x[:, :32]), np.ascontiguousarray(x[:, 32:, 0])

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, 32, batch_first=True)
            self.head = nn.Linear(32, 8)

        def forward(self, s):
            return self.head(self.lstm(s)[0][:, -1])

    m = Seq()
    return train(m, torch.optim.Adam(m.parameters(), 3e-3), batches(xs, ys, 32, seed), 150,
                 F.mse_loss, clip=1.0)


@healthy
def shakespeare_two_layer_lstm_dropout_clipped(data, seed):
    ids, vocab = chars(data)

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 32)
            self.lstm = nn.LSTM(32, 64, num_layers=2, dropout=0.2, batch_first=True)
            self.head = nn.Linear(64, vocab)

        def forward(self, s):
            return self.head(self.lstm(self.embed(s))[0])

    m = CharLSTM()
    return train(m, torch.optim.Adam(m.parameters(), 3e-3), char_windows(ids, 48, 16, seed),
                 150, flat_cross_entropy, clip=1.0)


@healthy
def digits_nesterov_cosine_warm_restarts(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 128, 10])
    opt = torch.optim.SGD(m.parameters(), 0.05, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=40)
    return train(m, opt, batches(x, y, 64, seed), 200, F.cross_entropy, sched=sched)


@healthy
def cancer_first_layer_frozen_after_thirty_steps(data, seed):
    x, y = cancer(data)
    m = mlp([30, 64, 32, 2])
    opt = torch.optim.AdamW(m.parameters(), 1e-3, weight_decay=0.01)
    gen = batches(standardised(x), y, 32, seed)
    losses = []
    with GradientMonitor(m) as mon:
        for step in range(1, 151):
            if step == 31:
                m[0].requires_grad_(False)
            xb, yb = next(gen)
            opt.zero_grad()
            loss = F.cross_entropy(m(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            mon.step(loss)
    return mon, losses


@healthy
def digits_depthwise_separable_cnn_batchnorm(data, seed):
    x, y = digits(data)

    def separable(cin, cout):
        return [nn.Conv2d(cin, cin, 3, padding=1, groups=cin), nn.Conv2d(cin, cout, 1),
                nn.BatchNorm2d(cout), nn.ReLU()]

    m = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 16, 3, padding=1),
                      nn.BatchNorm2d(16), nn.ReLU(), *separable(16, 32), nn.MaxPool2d(2),
                      *separable(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                      nn.Linear(64, 10))
    return train(m, torch.optim.Adam(m.parameters(), 2e-3), batches(x, y, 64, seed), 150,
                 F.cross_entropy)


@healthy
def digits_rows_as_tokens_transformer_classifier(data, seed):
    x, y = digits(data)
    xs = x.reshape(-1, 8, 8)

    class RowTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(8, 32)
            self.cls = nn.Parameter(torch.zeros(1, 1, 32))
            self.pos = nn.Parameter(torch.randn(9, 32) * 0.02)
            layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2)
            self.head = nn.Linear(32, 10)

        def forward(self, rows):
            h = self.proj(rows)
            h = torch.cat([self.cls.expand(len(rows), 1, 32), h], dim=1) + self.pos
            return self.head(self.encoder(h)[:, 0])

    m = RowTransformer()
    opt = torch.optim.AdamW(m.parameters(), 1e-3)
    sched = torch.optim.lr_scheduler.LinearLR(opt, 0.1, 1.0, total_iters=20)
    return train(m, opt, batches(xs, y, 64, seed), 150, F.cross_entropy, sched=sched)


@healthy
def digits_accumulation_stepped_every_fourth_micro_batch_monitor_per_micro_batch(data, seed):
    # the usual `if (i + 1) % accum == 0: step, zero_grad` loop, the monitor told after every
    # backward: three of four steps see gradients still piling up, on purpose
    x, y = digits(data)
    m = mlp([64, 128, 10])
    opt = torch.optim.AdamW(m.parameters(), 2e-3)
    micro = batches(x, y, 16, seed)
    losses = []
    with GradientMonitor(m) as mon:
        for i in range(400):
            xb, yb = next(micro)
            loss = F.cross_entropy(m(xb), yb) / 4
            loss.backward()
            if (i + 1) % 4 == 0:
                opt.step()
                opt.zero_grad()
            losses.append(loss.item() * 4)
            mon.step(loss)
    return mon, losses


@healthy
def digits_cnn_with_an_ema_copy_of_its_weights(data, seed):
    x, y = digits(data)
    m = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                      nn.Flatten(), nn.Linear(32 * 16, 10))
    ema = copy.deepcopy(m)  # the average, kept apart and never trained
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    stream = batches(x, y, 64, seed)
    losses = []
    with GradientMonitor(m) as mon:
        for _ in range(150):
            xb, yb = next(stream)
            opt.zero_grad()
            loss = F.cross_entropy(m(xb), yb)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), m.parameters()):
                    pe.mul_(0.99).add_(pm, alpha=0.01)
            losses.append(loss.item())
            mon.step(loss)
    return mon, losses


@healthy
def cancer_linear_warmup_then_cosine_sequential_lr(data, seed):
    x, y = cancer(data)
    m = mlp([30, 64, 64, 2])
    opt = torch.optim.SGD(m.parameters(), 0.05, momentum=0.9)
    warm = torch.optim.lr_scheduler.LinearLR(opt, 0.01, 1.0, total_iters=15)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 135)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[15])
    return train(m, opt, batches(standardised(x), y, 32, seed), 150, F.cross_entropy,
                 sched=sched)


@healthy
def co2_gru_encoder_decoder_eight_weeks_ahead_teacher_forced(data, seed):
    x, _ = co2_scaled(data, window=40)
    src, tgt = np.ascontiguousarray(x[:, :32]), np.ascontiguousarray(x[:, 32:])

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.GRU(1, 32, batch_first=True)
            self.dec = nn.GRU(1, 32, batch_first=True)
            self.head = nn.Linear(32, 1)

        def forward(self, pair):
            s, t = pair
            _, h = self.enc(s)
            # teacher forcing: the decoder reads the true previous week
            prev = torch.cat([s[:, -1:], t[:, :-1]], 1)
            return self.head(self.dec(prev, h)[0])

    m = Seq2Seq()
    pairs = (((s, t), t) for s, t in batches(src, tgt, 32, seed))
    return train(m, torch.optim.Adam(m.parameters(), 3e-3), pairs, 150, F.mse_loss, clip=1.0)


@healthy
def co2_dilated_causal_tcn_with_residuals(data, seed):
    x, y = co2_scaled(data, window=64)

    class Causal(nn.Module):
        def __init__(self, c, dilation):
            super().__init__()
            self.pad = 2 * dilation
            self.conv = nn.Conv1d(c, c, 3, dilation=dilation)

        def forward(self, h):
            return h + F.relu(self.conv(F.pad(h, (self.pad, 0))))

    m = nn.Sequential(nn.Conv1d(1, 16, 1), *[Causal(16, d) for d in (1, 2, 4, 8, 16)],
                      nn.Conv1d(16, 1, 1))

    def loss_fn(out, target):  # the forecast is read at the last time step
        return F.mse_loss(out[:, :, -1], target)

    xs = np.ascontiguousarray(np.transpose(x, (0, 2, 1)))
    return train(m, torch.optim.Adam(m.parameters(), 2e-3), batches(xs, y, 32, seed), 150,
                 loss_fn)


@healthy
def digits_siamese_contrastive_margin_on_pairs(data, seed):
    x, y = digits(data)
    rng = np.random.default_rng(seed + 2)
    encoder = mlp([64, 128, 32])
    xt = torch.from_numpy(x)

    def pairs():
        while True:
            a = rng.integers(0, len(x), 64)
            b = rng.integers(0, len(x), 64)
            same = (y[a] == y[b]).astype(np.float32)
            yield (xt[a], xt[b]), torch.from_numpy(same)

    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder

        def forward(self, pair):
            return F.pairwise_distance(self.encoder(pair[0]), self.encoder(pair[1]))

    def loss_fn(dist, same):
        return (same * dist ** 2 + (1 - same) * F.relu(2.0 - dist) ** 2).mean()

    m = Siamese()
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), pairs(), 200, loss_fn)


@healthy
def shakespeare_char_gru_with_input_and_output_embeddings_tied(data, seed):
    ids, vocab = chars(data)

    class TiedLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 64)
            self.gru = nn.GRU(64, 64, batch_first=True)
            self.head = nn.Linear(64, vocab)
            self.head.weight = self.embed.weight  # weight tying

        def forward(self, s):
            return self.head(self.gru(self.embed(s))[0])

    m = TiedLM()
    return train(m, torch.optim.Adam(m.parameters(), 3e-3), char_windows(ids, 32, 32, seed), 150,
                 flat_cross_entropy, clip=1.0)


@healthy
def cancer_student_distilled_from_a_frozen_trained_teacher(data, seed):
    x, y = cancer(data)
    xs = standardised(x)
    teacher = mlp([30, 128, 2])
    topt = torch.optim.Adam(teacher.parameters(), 1e-3)
    for xb, yb in (next(batches(xs, y, 64, seed + 9)) for _ in range(200)):
        topt.zero_grad()
        F.cross_entropy(teacher(xb), yb).backward()
        topt.step()
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = mlp([30, 8, 2])

    def loss_fn(out, target):
        xb, yb = target
        soft = F.softmax(teacher(xb) / 3, 1)
        kd = F.kl_div(F.log_softmax(out / 3, 1), soft, reduction="batchmean") * 9
        return 0.5 * kd + 0.5 * F.cross_entropy(out, yb)

    pairs = ((xb, (xb, yb)) for xb, yb in batches(xs, y, 32, seed))
    return train(student, torch.optim.Adam(student.parameters(), 3e-3), pairs, 150, loss_fn)


@healthy
def digits_stochastic_weight_averaging_from_step_100(data, seed):
    x, y = digits(data)
    m = mlp([64, 128, 10])
    swa = torch.optim.swa_utils.AveragedModel(m)
    opt = torch.optim.SGD(m.parameters(), 0.1, momentum=0.9)
    swa_sched = torch.optim.swa_utils.SWALR(opt, swa_lr=0.02, anneal_epochs=10)
    stream = batches(x, y, 64, seed)
    losses = []
    with GradientMonitor(m) as mon:
        for step in range(1, 201):
            xb, yb = next(stream)
            opt.zero_grad()
            loss = F.cross_entropy(m(xb), yb)
            loss.backward()
            opt.step()
            if step >= 100:
                swa.update_parameters(m)
                swa_sched.step()
            losses.append(loss.item())
            mon.step(loss, lr=opt.param_groups[0]["lr"])
    return mon, losses


@healthy
def cancer_focal_loss_written_by_hand(data, seed):
    x, y = cancer(data)
    m = mlp([30, 64, 2])

    def focal(out, target, gamma=2.0):
        log_p = F.log_softmax(out, 1).gather(1, target[:, None])[:, 0]
        return (-(1 - log_p.exp()) ** gamma * log_p).mean()

    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(standardised(x), y, 32, seed),
                 200, focal)


@healthy
def digits_autoencoder_decoder_tied_to_the_encoder_transposed(data, seed):
    x, _ = digits(data)

    class TiedAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1, self.enc2 = nn.Linear(64, 32), nn.Linear(32, 12)
            self.dec2_bias = nn.Parameter(torch.zeros(32))
            self.dec1_bias = nn.Parameter(torch.zeros(64))

        def forward(self, v):
            h = torch.relu(self.enc2(torch.relu(self.enc1(v))))
            h = torch.relu(F.linear(h, self.enc2.weight.t(), self.dec2_bias))
            return F.linear(h, self.enc1.weight.t(), self.dec1_bias)

    m = TiedAE()
    return train(m, torch.optim.Adam(m.parameters(), 3e-3), batches(x, x, 64, seed), 200,
                 F.mse_loss)


@healthy
def cancer_benign_kept_one_in_five_class_weighted_cross_entropy(data, seed):
    x, y = cancer(data)
    rng = np.random.default_rng(seed + 5)
    keep = (y == 1) | (rng.random(len(y)) < 0.2)  # benign thinned: malignant now the majority
    xs, ys = standardised(x)[keep], y[keep]
    counts = np.bincount(ys, minlength=2).astype(np.float32)
    weight = torch.from_numpy(counts.sum() / (2 * counts))
    m = mlp([30, 32, 2])

    def loss_fn(out, target):
        return F.cross_entropy(out, target, weight=weight)

    return train(m, torch.optim.Adam(m.parameters(), 1e-3), batches(xs, ys, 32, seed), 200,
                 loss_fn)


@healthy
def digits_curriculum_zeros_and_ones_first_then_every_digit(data, seed):
    x, y = digits(data)
    easy = np.isin(y, [0, 1])
    first = batches(x[easy], y[easy], 32, seed)
    later = batches(x, y, 64, seed + 3)

    def curriculum():
        for _ in range(40):
            yield next(first)
        yield from later

    m = mlp([64, 128, 10])
    return train(m, torch.optim.Adam(m.parameters(), 1e-3), curriculum(), 200, F.cross_entropy)


@healthy
def cancer_area_regression_with_gross_outliers_under_huber(data, seed):
    x, _ = cancer(data)
    xs = standardised(np.delete(x, 3, axis=1))
    area = x[:, 3:4]
    t = ((area - area.mean()) / area.std()).astype(np.float32)
    rng = np.random.default_rng(seed + 6)
    bad = rng.random(len(t)) < 0.05  # 5% of the targets mistyped, 20 to 50 SDs off
    t[bad, 0] = rng.uniform(20, 50, bad.sum()) * rng.choice([-1, 1], bad.sum())
    m = mlp([29, 64, 1])
    return train(m, torch.optim.Adam(m.parameters(), 3e-3), batches(xs, t, 32, seed), 200,
                 functools.partial(F.huber_loss, delta=1.0))


@healthy
def co2_lstm_pinball_loss_for_the_tenth_and_ninetieth_percentiles(data, seed):
    x, y = co2_scaled(data)
    m = LastStepHead(nn.LSTM(1, 32, batch_first=True), 32)
    m.head = nn.Linear(32, 2)
    q = torch.tensor([0.1, 0.9])

    def pinball(out, target):
        err = target - out
        return torch.maximum(q * err, (q - 1) * err).mean()

    return train(m, torch.optim.Adam(m.parameters(), 3e-3), batches(x, y, 32, seed), 150,
                 pinball, clip=1.0)


@healthy
def cancer_logistic_regression_with_an_l1_penalty(data, seed):
    x, y = cancer(data)
    m = nn.Linear(30, 2)

    def loss_fn(out, target):
        return F.cross_entropy(out, target) + 1e-3 * m.weight.abs().sum()

    return train(m, torch.optim.SGD(m.parameters(), 0.1), batches(standardised(x), y, 32, seed),
                 200, loss_fn)


WIDTH = max(map(len, CASES))


def run_case(name, data, seed, verbose):
    """Runs one case at one seed, prints its line; returns whether it passed."""
    case = CASES[name]
    torch.manual_seed(seed)
    try:
        # the broken cases overflow on purpose; NumPy's warnings would bury the table
        with np.errstate(all="ignore"):
            monitor, losses = case.setup(data, seed)
    except Exception as error:  # a setup that raises is a failed case, not a failed measurement
        print(f"BAD {name:<{WIDTH}} seed {seed}  expect {case.expected()}  "
              f"raised {type(error).__name__}: {error}", flush=True)
        return False
    findings = monitor.findings
    ok = case.judge(findings)
    got = f"{findings[0].rule} at {findings[0].step}" if findings else "no alarm"
    loss = f"loss {losses[0]:.3g} -> {losses[-1]:.3g}" if losses else "no loss"
    print(f"{'ok ' if ok else 'BAD'} {name:<{WIDTH}} seed {seed}  expect {case.expected()}  "
          f"got {got}  {loss}", flush=True)
    if verbose:
        for finding in findings[:3]:
            print(f"      {str(finding)[:300]}")
    return ok



def tally(results, names):
    """'broken right N of M, healthy quiet N of M' over the (name, seed) pairs in ``names``."""
    counts = {}
    for kind, is_kind in (("broken right", True), ("healthy quiet", False)):
        picked = [results[key] for key in names if (CASES[key[0]].rules is not None) == is_kind]
        counts[kind] = f"{kind} {sum(picked)} of {len(picked)}"
    return ", ".join(counts.values())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Held-out check of the gradient diagnostics on fresh setups and real data.")
    parser.add_argument("cases", nargs="*", metavar="CASE",
                        help="cases to run (default: all of them)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds to run each case at (default: 0 1 2)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"the shared data folder (default: {DEFAULT_DATA})")
    parser.add_argument("--verbose", action="store_true",
                        help="print the first three findings of each run")
    args = parser.parse_args(argv)
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)} (the cases: {', '.join(CASES)})")
    if not args.data.is_dir():
        parser.error(f"data folder {args.data} not found: pass the shared data folder "
                     f"with --data")
    missing = [name for name in DATA_FILES if not (args.data / name).exists()]
    if missing:
        parser.error(f"data folder {args.data} lacks {', '.join(missing)}: pass the shared "
                     f"data folder with --data")
    return args


def main(argv=None):
    args = parse_args(argv)
    data = args.data.resolve()
    names = args.cases or list(CASES)
    results = {}
    for name in names:
        for seed in args.seeds:
            results[name, seed] = run_case(name, data, seed, args.verbose)
    print()
    for seed in args.seeds:
        print(f"seed {seed}: {tally(results, [key for key in results if key[1] == seed])}")
    print(f"total:  {tally(results, list(results))}")
    return 0  # a measurement: the table says how it went, the exit code does not


if __name__ == "__main__":
    sys.exit(main())
