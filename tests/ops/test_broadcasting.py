"""Property tests: for random broadcast-compatible shapes, the gradient of sum(a op b) has each
input's shape and equals the derivative worked out in NumPy, summed over the broadcast dims."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr

SETTINGS = settings(max_examples=50, deadline=None)


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: over the leading dims it gained and the dims that were 1."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    ones = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=ones, keepdims=True).reshape(shape)


# op name -> (chainrule op, d(a op b)/da, d(a op b)/db, domain of a, domain of b), with the
# derivatives on broadcast NumPy arrays
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: np.ones_like(a * b),
            lambda a, b: np.ones_like(a * b), "real", "real"),
    "sub": (lambda a, b: a - b, lambda a, b: np.ones_like(a * b),
            lambda a, b: -np.ones_like(a * b), "real", "real"),
    "mul": (lambda a, b: a * b, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b, "real", "real"),
    "div": (lambda a, b: a / b, lambda a, b: 1 / b + 0 * a, lambda a, b: -a / b**2, "real",
            "positive"),
    "pow": (lambda a, b: a**b, lambda a, b: b * a ** (b - 1), lambda a, b: a**b * np.log(a),
            "positive", "real"),
    "maximum": (cr.maximum, lambda a, b: (a > b) + 0.5 * (a == b),
                lambda a, b: (b > a) + 0.5 * (a == b), "real", "real"),
    "minimum": (cr.minimum, lambda a, b: (a < b) + 0.5 * (a == b),
                lambda a, b: (b < a) + 0.5 * (a == b), "real", "real"),
    "where": (lambda a, b: cr.where(a > 0, a, b), lambda a, b: (a > 0) + 0 * b,
              lambda a, b: (a <= 0) + 0 * b, "real", "real"),
}


def _draw(rng, shape, domain):
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    return rng.standard_normal(shape)


@SETTINGS
@given(
    name=st.sampled_from(sorted(BINARY)),
    shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_op_gradients_reduce_over_broadcast_dims(name, shapes, seed):
    op, d_da, d_db, domain_a, domain_b = BINARY[name]
    shape_a, shape_b = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a_np, b_np = _draw(rng, shape_a, domain_a), _draw(rng, shape_b, domain_b)
    a, b = cr.from_numpy(a_np.copy()).requires_grad_(), cr.from_numpy(b_np.copy()).requires_grad_()
    out = op(a, b)
    assert out.shape == shapes.result_shape
    out.sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    np.testing.assert_allclose(a.grad.numpy(), unbroadcast(d_da(a_np, b_np), shape_a),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), unbroadcast(d_db(a_np, b_np), shape_b),
                               rtol=1e-10, atol=1e-12)


@SETTINGS
@given(
    shapes=mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=3,
                                         max_side=3),
    seed=st.integers(0, 2**16),
)
def test_matmul_gradients_reduce_over_broadcast_batch_dims(shapes, seed):
    shape_a, shape_b = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a_np, b_np = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a, b = cr.from_numpy(a_np.copy()).requires_grad_(), cr.from_numpy(b_np.copy()).requires_grad_()
    out = a @ b
    np.testing.assert_allclose(out.detach().numpy(), a_np @ b_np, rtol=1e-10, atol=1e-12)
    out.sum().backward()
    # d sum(A @ B)/dA = 1 @ B^T and d/dB = A^T @ 1, with vectors as a row / a column
    a2 = a_np[None, :] if a_np.ndim == 1 else a_np
    b2 = b_np[:, None] if b_np.ndim == 1 else b_np
    ones = np.ones(np.matmul(a2, b2).shape)
    grad_a = unbroadcast(ones @ np.swapaxes(b2, -1, -2), a2.shape).reshape(shape_a)
    grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ ones, b2.shape).reshape(shape_b)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    np.testing.assert_allclose(a.grad.numpy(), grad_a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), grad_b, rtol=1e-10, atol=1e-12)
