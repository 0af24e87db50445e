"""The backward sweep: accumulation, broadcasting, retain_graph, autograd.grad, graph size and
the errors for bad calls. Truth: hand-derived derivatives."""

import gc
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd


def leaf(values, dtype=cr.float64):
    return cr.tensor(values, dtype=dtype, requires_grad=True)


def test_simple_gradient_matches_hand_derivation():
    x = leaf([1.0, 2.0, 3.0])
    (x * x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0, 9.0]))


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -2.0])
    (x * 3).sum().backward()
    first = x.grad
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2.0, 3 - 4.0])
    assert x.grad is first  # accumulated in place, as PyTorch does
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_a_leaf_used_many_times_sums_its_gradients():
    x = leaf([2.0])
    y = x * x + x * 3 + x
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 * 2.0 + 3 + 1])


@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((5,), ()),
    ((2, 1, 3), (4, 1)),
    ((), (2, 2)),
])
def test_broadcasting_is_undone_in_every_gradient(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a, b = cr.from_numpy(a_np).requires_grad_(), cr.from_numpy(b_np).requires_grad_()
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    (a * b).sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    # d(sum a*b)/da = b, summed over the dims that broadcasting added or stretched
    np.testing.assert_allclose(a.grad.numpy(), _sum_to(np.broadcast_to(b_np, out_shape), shape_a))
    np.testing.assert_allclose(b.grad.numpy(), _sum_to(np.broadcast_to(a_np, out_shape), shape_b))


def _sum_to(array, shape):
    lead = array.ndim - len(shape)
    array = array.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and array.shape[i] != 1)
    return array.sum(axis=axes, keepdims=True).reshape(shape)


def test_gradients_take_their_inputs_dtype():
    x32 = leaf([1.0, 2.0], dtype=cr.float32)
    x64 = leaf([3.0, 4.0], dtype=cr.float64)
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == cr.float32 and x64.grad.dtype == cr.float64
    np.testing.assert_allclose(x32.grad.numpy(), [3.0, 4.0])


def test_float32_stays_float32():
    x = leaf([0.5, 1.5], dtype=cr.float32)
    y = (x.exp() * 2.5 + 1).tanh().sum()
    y.backward()
    assert y.dtype == cr.float32 and x.grad.dtype == cr.float32


def test_gradient_argument_weights_a_non_scalar_output():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(cr.tensor([1.0, 0.0, -1.0], dtype=cr.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, -6.0])


def test_the_callers_gradient_tensor_is_never_modified():
    x = leaf([1.0, 2.0])
    g = cr.tensor([1.0, 1.0], dtype=cr.float64)
    (x + 0).backward(g)
    (x + 0).backward(g)  # accumulating into x.grad must not write into g
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_two_leaves_never_share_one_gradient_array():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).backward()
    a.grad.add_(5)
    np.testing.assert_allclose(b.grad.numpy(), [1.0])


def test_retain_grad_keeps_gradients_of_non_leaves():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    z = (y * y).sum()
    z.backward(retain_graph=True)
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.detach().numpy())
    assert y.retains_grad and not y.is_leaf
    z.backward()
    np.testing.assert_allclose(y.grad.numpy(), 4 * y.detach().numpy())  # accumulates too


def test_non_leaf_without_retain_grad_has_no_grad():
    x = leaf([1.0])
    y = x * 2
    (y * 1).backward()
    assert y.grad is None and x.grad is not None


def test_second_backward_through_freed_graph_raises_naming_the_op():
    x = leaf([1.0, 2.0])
    y = (x.sin() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = x.exp().sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))


def test_saved_arrays_are_released_after_backward():
    x = leaf(np.ones(1000))
    middle = x * 2
    alive = weakref.ref(middle)
    out = middle.sin().sum()  # Sin saves its input `middle`
    del middle
    gc.collect()
    assert alive() is not None
    out.backward()
    gc.collect()
    assert alive() is None


def test_saved_arrays_are_kept_with_retain_graph():
    x = leaf(np.ones(10))
    middle = x * 2
    alive = weakref.ref(middle)
    out = middle.sin().sum()
    del middle
    out.backward(retain_graph=True)
    gc.collect()
    assert alive() is not None


def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    x = leaf([1.0, -2.0])
    calls = []
    gc.disable()  # only to keep the test quick: the collector rescans the growing graph
    try:
        y = x
        for _ in range(100_000):
            y = -y
        remove = autograd.add_observer(lambda node, grads: calls.append(None))
        try:
            y.sum().backward()
        finally:
            remove()
    finally:
        gc.enable()
    assert len(calls) == 100_000 + 1  # every Neg once, and the sum
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])  # (-1) ** 100000
    del y
    gc.collect()  # tearing the long chain down must not recurse either


def _count_backward_calls(build):
    calls = []
    remove = autograd.add_observer(lambda node, grads: calls.append(node))
    try:
        build().backward()
    finally:
        remove()
    return len(calls), len(set(map(id, calls)))


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_backward_work_is_linear_in_the_number_of_ops(n):
    def chain():
        y = leaf([0.5])
        for _ in range(n):
            y = y.tanh()
        return y.sum()

    total, distinct = _count_backward_calls(chain)
    assert total == distinct == n + 1  # each node once (plus the final sum)


def test_shared_subexpressions_are_visited_once():
    # y = y + y, 60 times: 2**60 paths from output to input, but only 60 + 1 nodes
    def doubling():
        y = leaf([1.0])
        for _ in range(60):
            y = y * 1 + y
        return y.sum()

    total, _ = _count_backward_calls(doubling)
    assert total == 60 * 2 + 1


def test_observer_can_be_removed():
    calls = []
    remove = autograd.add_observer(lambda node, grads: calls.append(node))
    remove()
    (leaf([1.0]) * 2).sum().backward()
    assert calls == []


# -- autograd.grad -------------------------------------------------------------------------------
def test_autograd_grad_returns_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    dx, dw = autograd.grad((x * w).sum(), (x, w))
    np.testing.assert_allclose(dx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(dw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    assert not dx.requires_grad


def test_autograd_grad_with_respect_to_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * x
    (dh,) = autograd.grad((h * 3).sum(), h)
    np.testing.assert_allclose(dh.numpy(), [3.0, 3.0])


def test_autograd_grad_grad_outputs_and_several_outputs():
    x = leaf([1.0, 2.0])
    a, b = x * 2, x * x
    (dx,) = autograd.grad([a, b], x, grad_outputs=[cr.ones_like(a), cr.full_like(b, 0.5)])
    np.testing.assert_allclose(dx.numpy(), [2 + 1.0, 2 + 2.0])


def test_autograd_grad_unused_inputs():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad(y, [x, unused], retain_graph=True)
    dx, du = autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
    assert du is None
    dx, du = autograd.grad(y, [x, unused], materialize_grads=True)
    np.testing.assert_allclose(du.numpy(), [0.0])


def test_autograd_grad_frees_the_graph_unless_retained():
    x = leaf([1.0])
    y = x.exp().sum()
    autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        autograd.grad(y, x)


def test_backward_with_inputs_only_fills_those():
    x, w = leaf([1.0]), leaf([2.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [1.0])
    g = cr.tensor([1.0], dtype=cr.float64)
    (w + 0).backward(g, inputs=[w])
    (w + 0).backward(g, inputs=[w])
    np.testing.assert_allclose(w.grad.numpy(), [3.0])
    np.testing.assert_allclose(g.numpy(), [1.0])


# -- bad input ------------------------------------------------------------------------------------
def test_backward_on_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*gradient="):
        (x * 2).backward()


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).sum().backward()


def test_gradient_of_the_wrong_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2,\)"):
        (x * 2).backward(cr.ones(3, dtype=cr.float64))


def test_integer_gradient_is_rejected():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="floating point"):
        (x * 2).backward(cr.tensor([1, 1]))


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2]).requires_grad_()


def test_float_gradient_cannot_be_assigned_to_an_integer_tensor():
    t = cr.tensor([1, 2])
    with pytest.raises(RuntimeError, match="different type"):
        t.grad = cr.tensor([1.0, 2.0])
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = [1.0, 2.0]
    x.grad = cr.tensor([0.5, 0.5])
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5])


def test_autograd_grad_of_an_input_that_does_not_require_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * 2).sum(), cr.tensor([1.0]))
