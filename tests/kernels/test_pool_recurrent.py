import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels, nn
from chainrule.kernels import threads
from chainrule.nn import functional as F

from .check import assert_directional_derivative, assert_paths_agree


def _upstream(shape, seed=5):
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


@pytest.mark.parametrize("kernel, stride, dilation", [(2, 2, 1), (3, 2, 1), (3, 1, 2),
                                                      ((2, 3), (1, 2), 1), ((3, 2), (2, 1), 1),
                                                      (2, 1, (2, 1)), (2, (2, 3), (2, 1))])
def test_max_pool_matches_reference(kernel, stride, dilation):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 11)).astype(np.float32)

    def run(t):
        y, index = F.max_pool2d(t, kernel, stride, dilation=dilation, return_indices=True)
        (y * _upstream(tuple(y.shape))).sum().backward()
        return [y.detach().numpy(), index.numpy(), t.grad.numpy()]

    # a gather, and a scatter whose overlapping windows add in float32 (float64 there)
    assert_paths_agree(run, x, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("stride", [2, 1])  # (the 2x2 kernel, the row kernel)
def test_max_pool_ties_and_nan_match_reference(stride):
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 2, 3] = np.nan
    x[0, 0, 3, 2] = np.nan

    def run(t):
        y, index = F.max_pool2d(t, 2, stride, return_indices=True)
        return [y.detach().numpy(), index.numpy()]

    assert_paths_agree(run, x, rtol=0, atol=0)


def test_max_pool_gradient_matches_finite_differences():
    x = np.random.default_rng(1).permutation(5 * 6 * 6).reshape(1, 5, 6, 6).astype(np.float32)
    w = np.random.default_rng(3).standard_normal((1, 5, 3, 3))

    def loss(a):
        return float((F.max_pool2d(cr.tensor(a), 2).numpy() * w).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (F.max_pool2d(t, 2) * cr.tensor(w, dtype=cr.float32)).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x, eps=1e-2)  # distinct values: no ties


def test_max_pool_halving_second_order_matches_reference():
    # MaxPool2d(2) keeps where each maximum is (not indices): its gradient's own gradient
    # (a gather at those places) and the indices it returns are made from them
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6)).astype(np.float32)
    u = np.random.default_rng(4).standard_normal((2, 3, 3, 3)).astype(np.float32)
    v = cr.tensor(np.random.default_rng(6).standard_normal((2, 3, 7, 6)).astype(np.float32))

    def run(t, upstream):
        y, index = F.max_pool2d(t, 2, return_indices=True)
        (g,) = cr.autograd.grad((y * upstream).sum(), [t], create_graph=True)
        (g * v).sum().backward()
        return [y.detach().numpy(), index.numpy(), g.detach().numpy(), upstream.grad.numpy()]

    assert_paths_agree(run, x, u, rtol=0, atol=0)


def test_max_pool_halving_kernel_is_used(monkeypatch):
    from chainrule.kernels import pool

    calls = []
    real = pool.max_pool_halving
    monkeypatch.setattr(pool, "max_pool_halving", lambda x: calls.append(x) or real(x))
    x = cr.tensor(np.zeros((1, 1, 4, 4), np.float32))
    with kernels.use_kernels(True, min_size=0):
        F.max_pool2d(x, 2)
        F.max_pool2d(x, 2, stride=1)  # (other windows: not this kernel)
    assert len(calls) == 1


def _lstm_run(layers, bidirectional, batch=3):
    def run(x):
        cr.manual_seed(0)
        lstm = nn.LSTM(6, 5, num_layers=layers, bidirectional=bidirectional, batch_first=True)
        h0 = cr.tensor(np.full((layers * (1 + bidirectional), batch, 5), 0.1, np.float32),
                       requires_grad=True)
        c0 = cr.tensor(np.full((layers * (1 + bidirectional), batch, 5), -0.2, np.float32),
                       requires_grad=True)
        out, (h, c) = lstm(x, (h0, c0))
        loss = (out * _upstream(tuple(out.shape))).sum() + (h * 0.3).sum() + (c * 0.7).sum()
        loss.backward()
        grads = [p.grad.numpy() for p in lstm.parameters()]
        return [out.detach().numpy(), h.detach().numpy(), c.detach().numpy(), x.grad.numpy(),
                h0.grad.numpy(), c0.grad.numpy()] + grads

    return run


# (batch, steps): from 3 steps the forward reads W_hh^T copied (kernels.recurrent._step_weights),
# below it W_hh as it is; batch 1 and one step are the edges
@pytest.mark.parametrize("layers, bidirectional, batch, steps", [
    (1, False, 3, 7), (2, True, 3, 7), (1, False, 1, 1), (2, True, 3, 2)])
def test_lstm_matches_reference(layers, bidirectional, batch, steps):
    x = (np.random.default_rng(0).standard_normal((batch, steps, 6)) * 2).astype(np.float32)
    assert_paths_agree(_lstm_run(layers, bidirectional, batch), x, rtol=1e-4, atol=2e-6)


def _cell_run(module, bias=True):
    def run(x):
        cr.manual_seed(0)
        cell = getattr(nn, module)(6, 5, bias=bias)
        h = cr.tensor(np.full((x.shape[0], 5), 0.1, np.float32), requires_grad=True)
        if module == "LSTMCell":
            c = cr.tensor(np.full((x.shape[0], 5), -0.2, np.float32), requires_grad=True)
            h1, c1 = cell(x, (h, c))
            loss = (h1 * _upstream(tuple(h1.shape))).sum() + (c1 * 0.7).sum()
            states = [h1.detach().numpy(), c1.detach().numpy()]
        else:
            h1 = cell(x, h)
            loss = (h1 * _upstream(tuple(h1.shape))).sum()
            states = [h1.detach().numpy()]
        loss.backward()
        grads = [x.grad.numpy(), h.grad.numpy()] + ([c.grad.numpy()] if len(states) == 2 else [])
        return states + grads + [p.grad.numpy() for p in cell.parameters()]

    return run


@pytest.mark.parametrize("module, batch, bias", [("LSTMCell", 3, True), ("LSTMCell", 1, False),
                                                 ("GRUCell", 3, True), ("GRUCell", 1, False)])
def test_cell_matches_reference(module, batch, bias):
    # one step through the sequence kernels, W_hh read as it is (no transposed copy)
    x = (np.random.default_rng(0).standard_normal((batch, 6)) * 2).astype(np.float32)
    assert_paths_agree(_cell_run(module, bias), x, rtol=1e-4, atol=2e-6)


def test_lstm_cell_kernel_is_used(monkeypatch):
    from chainrule.kernels import recurrent

    calls = []
    real = recurrent.lstm_forward
    monkeypatch.setattr(recurrent, "lstm_forward", lambda *a: calls.append(a) or real(*a))
    with kernels.use_kernels(True, min_size=0):
        nn.LSTMCell(6, 5)(cr.tensor(np.zeros((2, 6), np.float32)))
    assert len(calls) == 1


def test_lstm_cell_gradient_matches_finite_differences():
    x = np.random.default_rng(1).standard_normal((2, 6)).astype(np.float32)
    cr.manual_seed(0)
    cell = nn.LSTMCell(6, 5)
    w = _upstream((2, 5), seed=3)

    def loss(a):
        h, c = cell(cr.tensor(a))
        return float((h * w).sum() + (c * 0.5).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        h, c = cell(t)
        ((h * w).sum() + (c * 0.5).sum()).backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


@pytest.mark.parametrize("module", ["LSTM", "GRU"])
def test_recurrence_gradient_matches_finite_differences(module):
    x = np.random.default_rng(1).standard_normal((2, 4, 6)).astype(np.float32)
    cr.manual_seed(0)
    rnn = getattr(nn, module)(6, 5, batch_first=True)
    w = _upstream((2, 4, 5), seed=3)

    def loss(a):
        return float((rnn(cr.tensor(a))[0] * w).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (rnn(t)[0] * w).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


@pytest.mark.parametrize("cores, steps", [(2, 7), (4, 7), (2, 2)])
def test_lstm_split_over_threads_matches_reference(monkeypatch, cores, steps):
    # forward: each thread takes a block of hidden units (5 units: uneven blocks) and the
    # threads meet once per step; more cores still give two parts (kernels.recurrent._split);
    # backward: BPTT on this thread, the weight gradients on the pool, chunk by chunk as BPTT
    # finishes them (7 steps: chunks of 2)
    monkeypatch.setattr(threads, "free_cores", lambda: cores)
    monkeypatch.setitem(threads._state, "cap", cores)
    monkeypatch.setattr(threads, "KERNEL_PARALLEL_SIZE", 1)
    monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
    x = (np.random.default_rng(2).standard_normal((3, steps, 6)) * 2).astype(np.float32)
    assert_paths_agree(_lstm_run(2, True), x, rtol=1e-4, atol=2e-6)


@pytest.mark.parametrize("cores", [1, 2])
def test_lstm_input_products_in_chunks_match_reference(monkeypatch, cores):
    # the forward kernel multiplies the input by W_ih a few steps at a time
    # (kernels.recurrent._input_chunk): 2 steps of 7 here, so a short last chunk, in both
    # directions, on one thread and with the units split over two
    from chainrule.kernels import recurrent

    monkeypatch.setattr(recurrent, "_input_chunk", lambda steps, batch: 2)
    monkeypatch.setattr(threads, "free_cores", lambda: cores)
    monkeypatch.setitem(threads._state, "cap", cores)
    monkeypatch.setattr(threads, "KERNEL_PARALLEL_SIZE", 1)
    monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
    x = (np.random.default_rng(4).standard_normal((3, 7, 6)) * 2).astype(np.float32)
    assert_paths_agree(_lstm_run(2, True), x, rtol=1e-4, atol=2e-6)


@pytest.mark.parametrize("module, backward", [("LSTM", "lstm_backward"),
                                              ("GRU", "gru_backward")])
def test_batch_first_output_and_its_gradient_are_read_by_batch(monkeypatch, module, backward):
    # batch_first: the op lays its output out (N, T, H), so a Linear after it copies nothing,
    # and BPTT reads the gradient that comes back (the transpose of a C-contiguous (N, T, H))
    # as it is
    from chainrule.kernels import recurrent

    layouts = []
    real = getattr(recurrent, backward)
    monkeypatch.setattr(recurrent, backward, lambda d_out, *a: layouts.append(
        d_out.transpose(1, 0, 2).flags.c_contiguous) or real(d_out, *a))
    with kernels.use_kernels(True, min_size=0):
        rnn = getattr(nn, module)(6, 5, batch_first=True)
        out, _ = rnn(cr.tensor(np.ones((3, 7, 6), np.float32)))
        (out * _upstream((3, 7, 5))).sum().backward()
    assert out._data.flags.c_contiguous and layouts == [True]


def _gru_run(layers, bidirectional, bias=True):
    def run(x):
        cr.manual_seed(0)
        gru = nn.GRU(6, 5, num_layers=layers, bidirectional=bidirectional, batch_first=True,
                     bias=bias)
        h0 = cr.tensor(np.full((layers * (1 + bidirectional), 3, 5), 0.1, np.float32),
                       requires_grad=True)
        out, h = gru(x, h0)
        loss = (out * _upstream(tuple(out.shape))).sum() + (h * 0.3).sum()
        loss.backward()
        grads = [p.grad.numpy() for p in gru.parameters()]
        return [out.detach().numpy(), h.detach().numpy(), x.grad.numpy(),
                h0.grad.numpy()] + grads

    return run


@pytest.mark.parametrize("layers, bidirectional, bias", [(1, False, True), (2, True, True),
                                                         (1, False, False)])
def test_gru_matches_reference(layers, bidirectional, bias):
    x = (np.random.default_rng(0).standard_normal((3, 7, 6)) * 2).astype(np.float32)
    assert_paths_agree(_gru_run(layers, bidirectional, bias), x, rtol=1e-4, atol=2e-6)


def test_gru_split_over_threads_matches_reference(monkeypatch):
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    monkeypatch.setattr(threads, "KERNEL_PARALLEL_SIZE", 1)
    monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
    x = (np.random.default_rng(2).standard_normal((3, 7, 6)) * 2).astype(np.float32)
    assert_paths_agree(_gru_run(2, True), x, rtol=1e-4, atol=2e-6)


def test_lstm_without_a_reachable_blas_takes_the_reference(monkeypatch):
    from chainrule.kernels import _native

    monkeypatch.setitem(_native._found, "sgemm", (0, 0))
    monkeypatch.setitem(_native._found, "kernel_sgemm", (0, 0))
    x = np.zeros((2, 3, 4), np.float32)
    with kernels.use_kernels(True, min_size=0):
        assert not kernels.load("recurrent", x).available()
        lstm = nn.LSTM(4, 3)
        out, _ = lstm(cr.tensor(x))
    assert out.shape == (2, 3, 3)


def test_lstm_kernel_is_used_for_float32():
    x = np.zeros((2, 3, 4), np.float32)
    with kernels.use_kernels(True, min_size=0):
        assert kernels.load("recurrent", x) is not None
