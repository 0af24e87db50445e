"""Tensor hooks: register_hook (may replace the gradient), removal, retain_grad ordering and
register_post_accumulate_grad_hook."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd


def f64(values, requires_grad=True):
    return cr.tensor(values, dtype=cr.float64, requires_grad=requires_grad)


def test_leaf_hook_sees_the_total_gradient_once_and_can_replace_it():
    x = f64([1.0, 2.0])
    seen = []

    def hook(grad):
        seen.append(grad.numpy().copy())
        return grad * 10

    x.register_hook(hook)
    (x * x + x).sum().backward()  # x reaches the sum along three edges
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [3.0, 5.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 50.0])


def test_non_leaf_hook_replaces_the_gradient_flowing_upstream():
    x = f64([1.0, 2.0])
    h = x * 3
    h.register_hook(lambda grad: grad * 0 + 1)  # pretend d(out)/dh is 1
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_hook_returning_none_only_observes():
    x = f64([1.0])
    seen = []
    x.register_hook(lambda grad: seen.append(grad.item()))
    (x * 4).sum().backward()
    assert seen == [4.0] and x.grad.item() == 4.0


def test_hooks_run_in_order_and_can_be_removed():
    x = f64([1.0])
    first = x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: g * 2)
    (x * 1).sum().backward()
    assert x.grad.item() == (1 + 1) * 2
    first.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.item() == 2


def test_leaf_hooks_apply_to_autograd_grad_too():
    x = f64([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    (dx,) = autograd.grad((x * x).sum(), x)
    np.testing.assert_allclose(dx.numpy(), [20.0, 40.0])


def test_a_replacement_gradient_held_elsewhere_is_copied_into_grad():
    x = f64([1.0, 2.0])
    constant = cr.tensor([5.0, 5.0], dtype=cr.float64)
    x.register_hook(lambda g: constant)
    (x * 1).sum().backward()
    x.grad.add_(1)
    np.testing.assert_allclose(constant.numpy(), [5.0, 5.0])


def test_retain_grad_sees_what_later_hooks_return():
    x = f64([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    y.register_hook(lambda g: g * 2)  # retain_grad always runs last, as in PyTorch
    y.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_post_accumulate_grad_hook_runs_once_after_accumulation():
    x = f64([1.0, 2.0])
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (x * x).sum().backward()
    (x * 1).sum().backward()
    assert len(seen) == 2
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(seen[1], [3.0, 5.0])


def test_post_accumulate_hook_can_update_the_parameter_in_backward():
    w = f64([1.0, 2.0])

    def sgd_step(param):
        with cr.no_grad():
            param.add_(param.grad, alpha=-0.5)
        param.grad = None

    w.register_post_accumulate_grad_hook(sgd_step)
    (w * w).sum().backward()
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])
    assert w.grad is None


def test_backward_end_observer_runs_once_per_pass_after_every_leaf_got_its_gradient():
    from chainrule.autograd.engine import add_backward_end_observer, backward_running

    x, w = f64([1.0, 2.0]), f64([3.0])
    arrived, ends = [], []
    for leaf in (x, w):
        leaf.register_post_accumulate_grad_hook(arrived.append)
    remove = add_backward_end_observer(
        lambda: ends.append(([t is x for t in arrived], x.grad.tolist(), w.grad.tolist(),
                             backward_running())))
    try:
        (x * w).sum().backward()
        autograd.grad((x * x).sum(), [x])  # a pass that accumulates nothing ends too
    finally:
        remove()
    (x * w).sum().backward()  # removed: not called
    both_arrived, x_grad, w_grad, inside = ends[0]
    assert sorted(both_arrived) == [False, True]  # x's and w's hooks ran before it
    assert x_grad == [3.0, 3.0] and w_grad == [3.0] and inside
    assert len(ends) == 2 and len(arrived) == 4


def test_hooks_need_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="leaves"):
        (f64([1.0]) * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_retain_grad_needs_requires_grad():
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        cr.tensor([1.0]).retain_grad()


def test_a_gradient_from_a_non_leaf_hook_is_never_kept_as_grad():
    # The ownership rule: the hook's tensor reaches x through Clone's pass-through backward;
    # x.grad must be a copy, or the second backward would accumulate into `mine` in place.
    x = f64([1.0, 2.0])
    mine = cr.tensor([5.0, 5.0], dtype=cr.float64)
    for _ in range(2):
        y = x.clone()
        y.register_hook(lambda grad: mine)
        y.sum().backward()
    np.testing.assert_allclose(mine.numpy(), [5.0, 5.0])
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])


def test_the_ownership_rule_holds_when_the_graph_is_recorded():
    x = f64([1.0, 2.0])
    mine = cr.tensor([5.0, 5.0], dtype=cr.float64)
    y = x.clone()
    y.register_hook(lambda grad: mine)
    y.sum().backward(create_graph=True)
    (x * 1).sum().backward()
    np.testing.assert_allclose(mine.numpy(), [5.0, 5.0])
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
