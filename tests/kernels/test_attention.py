"""The attention softmax kernels (kernels/attention.py) against the NumPy path, and the batch
split over threads (threads.parallel_gemms) against one call."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.kernels import threads
from chainrule.nn import functional as F
from chainrule.ops import attention as A

from .check import assert_directional_derivative, assert_paths_agree

RNG = np.random.default_rng(0)
Q, K, V = (RNG.standard_normal(s).astype(np.float32) for s in [(3, 2, 5, 4), (3, 2, 7, 4),
                                                                (3, 2, 7, 6)])
CAUSAL = np.tril(np.ones((5, 7), bool))
FLOAT_MASK = RNG.standard_normal((1, 1, 5, 7)).astype(np.float32)
PER_BATCH = np.where(RNG.random((3, 1, 5, 7)) < 0.3, -np.inf, 0.0).astype(np.float32)
BLOCKED_ROW = np.ones((5, 7), bool)
BLOCKED_ROW[2] = False  # one query sees nothing: its output is NaN, as PyTorch's


def _attention(mask=None, **options):
    def run(q, k, v):
        out = F.scaled_dot_product_attention(
            q, k, v, None if mask is None else cr.from_numpy(mask), **options)
        weight = cr.from_numpy(np.linspace(-1, 1, out.numel(), dtype=np.float32)
                               .reshape(out.shape))
        (out * weight).nansum().backward()
        return [out.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()]
    return run


@pytest.mark.parametrize("mask", [None, CAUSAL, FLOAT_MASK, PER_BATCH], ids=[
    "none", "causal", "float", "per_batch"])
def test_attention_matches_reference(mask):
    assert_paths_agree(_attention(mask), Q, K, V, rtol=1e-5, atol=1e-6)


def test_attention_fully_masked_row_and_scale():
    assert_paths_agree(_attention(BLOCKED_ROW, scale=0.3), Q, K, V, rtol=1e-5, atol=1e-6)


def test_attention_unbatched_and_broadcast_batch():
    assert_paths_agree(_attention(CAUSAL), Q[0, 0], K[0, 0], V[0, 0], rtol=1e-5, atol=1e-6)
    assert_paths_agree(_attention(), Q, K[:1], V[:1], rtol=1e-5, atol=1e-6)


def test_attention_with_weights_and_dropout():
    def run(q, k, v):
        cr.manual_seed(3)
        out, weights = A.attend(q, k, v, CAUSAL.astype(np.float32) * 0 - 1.0, 0.3, 0.5, True)
        (out.sum() + (weights * weights).sum()).backward()
        return [out.detach().numpy(), weights.detach().numpy(), q.grad.numpy(),
                k.grad.numpy(), v.grad.numpy()]

    assert_paths_agree(run, Q, K, V, rtol=1e-5, atol=1e-6)


def test_attention_gradient_matches_finite_differences():
    mask = cr.from_numpy(CAUSAL)

    def loss(q):
        out = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(K), cr.tensor(V), mask)
        return (out.numpy().astype(np.float64) ** 2).sum()

    def gradient(q):
        t = cr.tensor(q, requires_grad=True)
        (F.scaled_dot_product_attention(t, cr.tensor(K), cr.tensor(V), mask) ** 2).sum() \
            .backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, Q)


@pytest.mark.parametrize("kernels_on", [True, False])
def test_attention_split_over_threads_matches_one_call(monkeypatch, kernels_on):
    from chainrule import kernels

    with kernels.use_kernels(kernels_on, min_size=0):
        one = _attention(CAUSAL)(*(cr.tensor(a, requires_grad=True) for a in (Q, K, V)))
        monkeypatch.setattr(threads, "free_cores", lambda: 2)
        monkeypatch.setitem(threads._state, "cap", 2)
        monkeypatch.setattr(threads, "GEMM_PARALLEL_MACS", 1)
        split = _attention(CAUSAL)(*(cr.tensor(a, requires_grad=True) for a in (Q, K, V)))
    for a, b in zip(one, split):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


WIDE_Q, WIDE_K, WIDE_V = (RNG.standard_normal(s).astype(np.float32) for s in [
    (2, 2, 20, 4), (2, 2, 27, 4), (2, 2, 27, 3)])
_ROWS, _COLUMNS = np.indices((20, 27))
WIDE_CAUSAL = _COLUMNS <= _ROWS + 3
WIDE_BAND = (_COLUMNS <= _ROWS + 3) & (_COLUMNS > _ROWS - 9)  # -inf on both sides of a window
WIDE_TINY = np.where(_COLUMNS % 3 == 0, -95.0, 0.0).astype(np.float32)  # e^-95: flushed


@pytest.mark.parametrize("mask", [WIDE_CAUSAL, WIDE_BAND, WIDE_TINY], ids=[
    "causal", "band", "tiny"])
def test_attention_skipping_masked_columns_matches_reference(mask):
    """Rows longer than a vector group: the kernels skip the columns that are -inf at the ends
    of each mask row and flush e^x below e^-87 to 0; values and gradients as the reference's."""
    assert_paths_agree(_attention(mask), WIDE_Q, WIDE_K, WIDE_V, rtol=1e-5, atol=1e-6)


def test_unmasked_spans_cover_every_finite_column():
    from chainrule.kernels import attention as kernel

    mask = np.where(WIDE_BAND, 0.0, -np.inf).astype(np.float32)
    mask[5] = -np.inf  # a row masked out entirely keeps every column (its result is NaN)
    mask[6, 26] = np.nan  # NaN is not -inf: kept
    spans = kernel._unmasked_spans(mask)
    for row, (first, stop) in zip(mask, spans):
        assert first % 8 == 0 and (stop % 8 == 0 or stop == mask.shape[1])
        assert np.all(row[:first] == -np.inf) and np.all(row[stop:] == -np.inf)
    assert tuple(spans[5]) == (0, 27) and spans[6, 1] == 27
