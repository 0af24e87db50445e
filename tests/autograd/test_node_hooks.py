"""Hooks on a graph node (``tensor.grad_fn.register_hook``): observers scoped to one graph."""

import numpy as np
import pytest

import chainrule as cr


def test_node_hook_sees_the_gradients_returned_and_received():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = x * 3
    seen = []
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(
        ([g.numpy().copy() for g in grad_inputs if g is not None],
         [g.numpy().copy() for g in grad_outputs])))
    (y * y).sum().backward()
    (([grad_x], [grad_y]),) = seen  # one call: a gradient for x (none for the constant 3)
    np.testing.assert_allclose(grad_y, [6.0, 12.0])  # d(y^2)/dy = 2y
    np.testing.assert_allclose(grad_x, [18.0, 36.0])  # times dy/dx = 3
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])


def test_node_hook_is_scoped_to_its_graph_and_removable():
    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    watched, other = a * 2, b * 2
    calls = []
    handle = watched.grad_fn.register_hook(lambda gi, go: calls.append(len(gi)))
    other.sum().backward()  # another graph: the hook does not run
    assert calls == []
    watched.sum().backward(retain_graph=True)
    assert calls == [2]
    handle.remove()
    watched.sum().backward()
    assert calls == [2]


def test_node_hook_may_not_replace_gradients():
    x = cr.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: gi)
    with pytest.raises(RuntimeError, match="tensor.register_hook"):
        y.sum().backward()


def test_backward_running_is_true_only_inside_a_backward_pass():
    from chainrule.autograd.engine import backward_running

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = (x * x).sum()
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(backward_running()))
    assert not backward_running()
    y.backward()
    assert seen == [True] and not backward_running()
    with pytest.raises(RuntimeError):  # a failing backward does not leave it set
        y.backward()
    assert not backward_running()
