"""The benchmark models, written once against the PyTorch API and run unchanged on chainrule
(``import chainrule as torch``) or on PyTorch. Each workload builds a model, an optimizer and a
fixed batch, and returns a function that does one full training step."""

import numpy as np


def _batch(lib, rng, shape, classes=None):
    if classes is not None:
        return lib.from_numpy(rng.integers(0, classes, size=shape).astype(np.int64))
    return lib.from_numpy(rng.standard_normal(shape).astype(np.float32))


def _step_fn(model, optimizer, loss_fn, inputs, targets):
    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    step.model = model  # for bench/diagnostics.py, which monitors it
    return step


def mlp(lib):
    """784-512-512-10 ReLU, batch 128, cross-entropy, Adam."""
    nn = lib.nn
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    return _step_fn(model, lib.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                    _batch(lib, rng, (128, 784)), _batch(lib, rng, (128,), classes=10))


def mlp_flops():
    """Multiply-adds x 2 of the mlp step: forward, and backward's two GEMMs per layer."""
    batch, layers = 128, [(784, 512), (512, 512), (512, 10)]
    forward = sum(2 * batch * a * b for a, b in layers)
    backward = sum(2 * 2 * batch * a * b for a, b in layers[1:]) + 2 * batch * 784 * 512
    return forward + backward


def cnn(lib):
    """The classic MNIST net, batch 64, Adam."""
    nn = lib.nn
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    return _step_fn(model, lib.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                    _batch(lib, rng, (64, 1, 28, 28)), _batch(lib, rng, (64,), classes=10))


def gpt(lib):
    """Character transformer: vocab 65, context 64, d_model 128, 4 heads, 2 pre-LN blocks with
    GELU MLP, batch 32, AdamW."""
    nn = lib.nn
    rng = np.random.default_rng(0)
    vocab, context, width = 65, 64, 128

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(vocab, width)
            self.positions = nn.Embedding(context, width)
            block = nn.TransformerEncoderLayer(width, 4, dim_feedforward=4 * width, dropout=0.0,
                                               activation="gelu", batch_first=True,
                                               norm_first=True)
            self.blocks = nn.TransformerEncoder(block, 2, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab)
            self.register_buffer("mask", lib.triu(lib.ones(context, context, dtype=lib.bool),
                                                  diagonal=1))

        def forward(self, x):
            h = self.tokens(x) + self.positions(lib.arange(x.shape[1]))
            h = self.blocks(h, mask=self.mask, is_causal=True)
            return self.head(self.norm(h)).reshape(-1, vocab)

    model = GPT()
    targets = _batch(lib, rng, (32 * context,), classes=vocab)
    return _step_fn(model, lib.optim.AdamW(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                    _batch(lib, rng, (32, context), classes=vocab), targets)


def lstm(lib):
    """Embedding(65, 64), 1-layer LSTM(256), Linear(256, 65), sequence 64, batch 32, full
    backprop through time, Adam."""
    nn = lib.nn
    rng = np.random.default_rng(0)

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(65, 64)
            self.lstm = nn.LSTM(64, 256, batch_first=True)
            self.head = nn.Linear(256, 65)

        def forward(self, x):
            out, _ = self.lstm(self.embedding(x))
            return self.head(out).reshape(-1, 65)

    model = CharLSTM()
    return _step_fn(model, lib.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                    _batch(lib, rng, (32, 64), classes=65), _batch(lib, rng, (32 * 64,), 65))


def tiny(lib):
    """MLP 16-16-16-1 tanh, batch 8, MSE, SGD: framework overhead."""
    nn = lib.nn
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 1))
    return _step_fn(model, lib.optim.SGD(model.parameters(), lr=1e-2), nn.MSELoss(),
                    _batch(lib, rng, (8, 16)), _batch(lib, rng, (8, 1)))


def elementwise_op(lib):
    """Forward and backward of one small elementwise op (a 16-element multiply and sum)."""
    rng = np.random.default_rng(0)
    x = _batch(lib, rng, (16,)).requires_grad_()
    y = _batch(lib, rng, (16,))

    def step():
        (x * y).sum().backward()

    return step


def matmul_64(lib):
    """Forward and backward of a 64x64 matmul."""
    rng = np.random.default_rng(0)
    a = _batch(lib, rng, (64, 64)).requires_grad_()
    b = _batch(lib, rng, (64, 64)).requires_grad_()

    def step():
        (a @ b).sum().backward()

    return step


WORKLOADS = {"mlp": mlp, "cnn": cnn, "gpt": gpt, "lstm": lstm, "tiny": tiny}
MICRO = {"op_mul": elementwise_op, "op_matmul64": matmul_64}
