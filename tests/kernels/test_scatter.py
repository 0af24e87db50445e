"""The embedding gradient's scatter-add (kernels/scatter.py) against np.add.at and the sorted
reference path, and an embedding's gradient against finite differences."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.nn import functional as F

from .check import assert_directional_derivative, assert_paths_agree

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(40, 3), (7, 2, 3)])
def test_index_put_accumulate_is_add_at(shape):
    """Repeated and negative indices, a table that is not zero: the kernel is exactly
    np.add.at (each row added in index order); the sorted reference sums a row's values
    before adding them to the table, so it rounds differently there."""
    table = RNG.standard_normal(shape).astype(np.float32)
    index = RNG.integers(-shape[0], shape[0], size=(5, 9))
    values = RNG.standard_normal(index.shape + shape[1:]).astype(np.float32)
    want = table.copy()
    np.add.at(want, index, values)
    for enabled in (True, False):
        with kernels.use_kernels(enabled, min_size=0):
            out = cr.tensor(table).index_put_((cr.tensor(index),), cr.tensor(values),
                                              accumulate=True)
        if enabled:
            np.testing.assert_array_equal(out.numpy(), want)
        else:
            np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-6)


def test_embedding_gradient_matches_reference():
    index = RNG.integers(0, 11, size=(6, 8))

    def run(weight):
        out = F.embedding(cr.tensor(index), weight)
        out.backward(cr.tensor(np.linspace(-1, 1, out.numel(), dtype=np.float32)
                               .reshape(out.shape)))
        return [out.detach().numpy(), weight.grad.numpy()]

    assert_paths_agree(run, RNG.standard_normal((11, 5)).astype(np.float32), rtol=1e-6,
                       atol=1e-6)


def test_embedding_gradient_matches_finite_differences():
    index = cr.tensor(RNG.integers(0, 6, size=(4, 7)))
    upstream = RNG.standard_normal((4, 7, 3)).astype(np.float32)

    def loss(weight):
        return float((F.embedding(index, cr.tensor(weight)).numpy() ** 2 * upstream).sum())

    def gradient(weight):
        t = cr.tensor(weight, requires_grad=True)
        (F.embedding(index, t) ** 2 * cr.tensor(upstream)).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, RNG.standard_normal((6, 3)).astype(np.float32))


def test_broadcast_values_and_out_of_range():
    with kernels.use_kernels(True, min_size=0):
        out = cr.zeros(4, 3).index_put_((cr.tensor([1, 1, -1]),), cr.ones(3), accumulate=True)
        np.testing.assert_array_equal(out.numpy()[:, 0], [0, 2, 0, 1])
        with pytest.raises((IndexError, RuntimeError)):
            cr.zeros(4, 3).index_put_((cr.tensor([4]),), cr.ones(3), accumulate=True)
