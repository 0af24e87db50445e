"""Fused ops compute backward on arrays when create_graph is False and with tensor ops when it
is True: both paths must give the same gradients, and the array path must match finite
differences and keep float32."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck

CASES = {
    "gelu": (lambda x: F.gelu(x), [(4, 5)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (6,), w, b), [(3, 4, 6), (6,), (6,)]),
    "layer_norm_2d_no_affine": (lambda x: F.layer_norm(x, (4, 6)), [(3, 4, 6)]),
    "linear_3d": (lambda x, w, b: F.linear(x, w, b), [(3, 4, 6), (5, 6), (5,)]),
    "linear_no_bias": (lambda x, w: F.linear(x, w), [(7, 6), (5, 6)]),
    "matmul_2d": (lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "matmul_stack_times_matrix": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "matmul_matrix_times_stack": (lambda a, b: a @ b, [(3, 4), (2, 4, 5)]),
    "matmul_batch_broadcast": (lambda a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)]),
    "matmul_vector_batch": (lambda a, b: a @ b, [(4,), (2, 4, 3)]),
    "matmul_batch_vector": (lambda a, b: a @ b, [(2, 3, 4), (4,)]),
    "matmul_vector_vector": (lambda a, b: a @ b, [(4,), (4,)]),
    # inner dimension the longest: the transposed orientations of _times_transposed and
    # _transposed_times are taken
    "matmul_long_inner_da": (lambda a, b: a @ b, [(2, 3), (3, 7)]),
    "matmul_long_inner_db": (lambda a, b: a @ b, [(7, 3), (3, 2)]),
    "tanh": (lambda x: x.tanh(), [(4, 5)]),
    "sigmoid": (lambda x: x.sigmoid(), [(4, 5)]),
    "mse_loss_mean": (lambda x, y: F.mse_loss(x, y), [(4, 5), (4, 5)]),
    "mse_loss_none_broadcast_target": (lambda x, y: F.mse_loss(x, y.expand(4, 5), reduction="none"),
                                       [(4, 5), (1, 5)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_array_path_matches_tensor_path(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    xs = [cr.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
          for s in shapes]
    out = fn(*xs)
    g = cr.tensor(rng.standard_normal(tuple(out.shape)).astype(np.float32))
    fast = cr.autograd.grad(out, xs, g, retain_graph=True)
    recorded = cr.autograd.grad(out, xs, g, create_graph=True)
    for a, b, x in zip(fast, recorded, xs):
        assert a.dtype == cr.float32 and tuple(a.shape) == tuple(x.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_array_path_gradcheck(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(1)
    xs = [cr.tensor(rng.standard_normal(s), dtype=cr.float64, requires_grad=True)
          for s in shapes]
    assert gradcheck(fn, xs)


def test_transient_arrays_released_after_backward():
    x = cr.randn(3, 6, requires_grad=True)
    y = F.gelu(F.layer_norm(x, (6,)))
    gelu, norm = y.grad_fn, y.grad_fn.next_edges[0][0]
    assert gelu.slope is not None and norm.rstd is not None
    y.sum().backward()
    assert gelu.slope is None and norm.mean is None and norm.rstd is None


def test_index_put_accumulate_matches_add_at():
    rng = np.random.default_rng(2)
    index = rng.integers(-5, 5, size=(4, 6))
    values = rng.standard_normal((4, 6, 3)).astype(np.float32)
    expected = np.zeros((5, 3), np.float32)
    np.add.at(expected, index, values)
    out = cr.zeros(5, 3).index_put_((cr.tensor(index),), cr.tensor(values), accumulate=True)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)
    weight = cr.randn(5, 3, requires_grad=True)
    F.embedding(cr.tensor(index % 5), weight).backward(cr.tensor(values))
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-6, atol=1e-6)
    with pytest.raises((IndexError, RuntimeError)):
        cr.zeros(5, 3).index_put_((cr.tensor([7]),), cr.ones(3), accumulate=True)


def test_small_sum_backward_is_a_writable_float32_array():
    x = cr.randn(3, 4, requires_grad=True)
    x.sum(1).sum().backward()
    assert x.grad.dtype == cr.float32 and x.grad._data.flags.writeable
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4), np.float32))


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_in_batch_chunks_matches_whole_batch(monkeypatch, groups):
    from chainrule.ops import conv

    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 2)).astype(np.float32)
    options = dict(stride=(2, 1), padding=((1, 1), (0, 1)), dilation=(1, 2), groups=groups)
    y = conv.conv_array(x, w, **options)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = conv.conv_transpose_array(dy, w, x_shape=x.shape, **options)
    dw = conv.conv_weight_array(x, dy, w_shape=w.shape, **options)
    monkeypatch.setattr(conv, "_CHUNK_BYTES", 1)  # one sample per chunk
    assert len(conv._chunks(5, w.shape, y.shape[2:], 4, groups)) == 5
    np.testing.assert_allclose(conv.conv_array(x, w, **options), y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(conv.conv_transpose_array(dy, w, x_shape=x.shape, **options), dx,
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(conv.conv_weight_array(x, dy, w_shape=w.shape, **options), dw,
                               rtol=1e-5, atol=1e-5)
    xt = cr.tensor(x[:2].astype(np.float64), requires_grad=True)
    wt = cr.tensor(w.astype(np.float64), requires_grad=True)
    assert gradcheck(lambda a, b: F.conv2d(a, b, stride=(2, 1), padding=1, groups=groups),
                     [xt, wt])
