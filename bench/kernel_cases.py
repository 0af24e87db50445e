"""The kernel table's cases: one hot op each, forward plus backward, written once against the
PyTorch API (run by ``bench/run.py --table kernels`` on chainrule and PyTorch, interleaved)."""

import numpy as np


def _tensor(lib, rng, shape, grad=True):
    t = lib.from_numpy(rng.standard_normal(shape).astype(np.float32))
    return t.requires_grad_() if grad else t


def _forward_backward(forward, inputs, lib, rng):
    """A step: forward, then backward from a fixed upstream gradient."""
    upstream = None

    def step():
        nonlocal upstream
        for x in inputs:
            x.grad = None
        y = forward()
        if upstream is None:
            upstream = _tensor(lib, rng, tuple(y.shape), grad=False)
        y.backward(upstream)

    return step


def gelu(lib):
    """GELU (exact, erf) on 2048 x 512: the gpt block's MLP activation."""
    rng = np.random.default_rng(0)
    x = _tensor(lib, rng, (2048, 512))
    return _forward_backward(lambda: lib.nn.functional.gelu(x), [x], lib, rng)


def softmax(lib):
    """Softmax over the last dim of 8192 rows of 64 (attention scores)."""
    rng = np.random.default_rng(0)
    x = _tensor(lib, rng, (8192, 64))
    return _forward_backward(lambda: lib.softmax(x, dim=-1), [x], lib, rng)


def layer_norm(lib):
    """LayerNorm(512) with weight and bias over 2048 rows."""
    rng = np.random.default_rng(0)
    x = _tensor(lib, rng, (2048, 512))
    norm = lib.nn.LayerNorm(512)
    return _forward_backward(lambda: norm(x), [x], lib, rng)


def cross_entropy(lib):
    """Cross-entropy of 2048 x 1000 logits against class indices (mean)."""
    rng = np.random.default_rng(0)
    x = _tensor(lib, rng, (2048, 1000))
    target = lib.from_numpy(rng.integers(0, 1000, 2048).astype(np.int64))

    def step():
        x.grad = None
        lib.nn.functional.cross_entropy(x, target).backward()

    return step


def adam(lib):
    """One Adam step over 1M parameters (4 tensors of 512 x 512), gradients set."""
    rng = np.random.default_rng(0)
    params = [_tensor(lib, rng, (512, 512)) for _ in range(4)]
    for p in params:
        p.grad = _tensor(lib, rng, (512, 512), grad=False)
    optimizer = lib.optim.Adam(params, lr=1e-3)
    return optimizer.step


def conv3x3(lib):
    """Conv2d(32, 64, 3) on 64 x 32 x 26 x 26 (the cnn's second conv), input gradient too."""
    rng = np.random.default_rng(0)
    x = _tensor(lib, rng, (64, 32, 26, 26))
    conv = lib.nn.Conv2d(32, 64, 3)
    return _forward_backward(lambda: conv(x), [x], lib, rng)


def max_pool(lib):
    """MaxPool2d(2) on 64 x 64 x 24 x 24 (the cnn's pooling)."""
    rng = np.random.default_rng(0)
    x = _tensor(lib, rng, (64, 64, 24, 24))
    return _forward_backward(lambda: lib.nn.functional.max_pool2d(x, 2), [x], lib, rng)


def lstm_step(lib):
    """One LSTMCell(256, 256) step at batch 32, forward and backward."""
    rng = np.random.default_rng(0)
    cell = lib.nn.LSTMCell(256, 256)
    x, h, c = (_tensor(lib, rng, (32, 256)) for _ in range(3))

    def forward():
        h1, c1 = cell(x, (h, c))
        return h1 + c1

    return _forward_backward(forward, [x, h, c], lib, rng)


KERNELS = {"gelu": gelu, "softmax": softmax, "layer_norm": layer_norm,
           "cross_entropy": cross_entropy, "adam_1m": adam, "conv3x3": conv3x3,
           "max_pool2x2": max_pool, "lstm_step": lstm_step}
