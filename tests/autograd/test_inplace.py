"""In-place operations: values, gradients through them, version counters, and the errors."""

import numpy as np
import pytest

import chainrule as cr


def f64(values, requires_grad=False):
    return cr.tensor(values, dtype=cr.float64, requires_grad=requires_grad)


def test_in_place_ops_compute_the_right_values_and_bump_the_version():
    t = f64([1.0, -2.0, 3.0])
    steps = [
        (lambda: t.add_(1), [2.0, -1.0, 4.0]),
        (lambda: t.mul_(2), [4.0, -2.0, 8.0]),
        (lambda: t.clamp_(-1.0, 5.0), [4.0, -1.0, 5.0]),
        (lambda: t.copy_(f64([7.0, 8.0, 9.0])), [7.0, 8.0, 9.0]),
        (lambda: t.fill_(0.5), [0.5, 0.5, 0.5]),
        (lambda: t.zero_(), [0.0, 0.0, 0.0]),
        (lambda: t.__setitem__(1, 3.0), [0.0, 3.0, 0.0]),
        (lambda: t.add_(f64([1.0]), alpha=2), [2.0, 5.0, 2.0]),
        (lambda: t.div_(2), [1.0, 2.5, 1.0]),
    ]
    for version, (step, expected) in enumerate(steps, start=1):
        result = step()
        assert result is None or result is t
        np.testing.assert_allclose(t.numpy(), expected)
        assert t._version == version


def test_copy_broadcasts_and_casts():
    t = cr.zeros(2, 3)
    t.copy_(cr.tensor([1, 2, 3]))
    np.testing.assert_allclose(t.numpy(), [[1, 2, 3], [1, 2, 3]])
    assert t.dtype == cr.float32
    with pytest.raises(RuntimeError, match="broadcast"):
        t.copy_(cr.ones(4))


def test_modifying_a_saved_tensor_raises_at_backward_naming_the_op():
    x = f64([1.0, 2.0], requires_grad=True)
    y = x.exp()  # Exp saves its output y
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: ExpBackward"):
        y.sum().backward()


def test_modifying_a_saved_input_under_no_grad_is_also_caught():
    x = f64([1.0, 2.0], requires_grad=True)
    w = f64([3.0, 4.0])
    y = (x * w).sum()  # Mul saves w
    with cr.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="MulBackward"):
        y.backward()


def test_modifying_a_view_of_a_saved_tensor_is_caught():
    x = f64([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x * 1
    y = h.sin()  # Sin saves h
    with cr.no_grad():
        h.reshape(4).mul_(2)  # a view: it shares the version counter of h
    with pytest.raises(RuntimeError, match="SinBackward"):
        y.sum().backward()


def test_in_place_on_a_leaf_that_requires_grad_raises():
    x = f64([1.0, 2.0], requires_grad=True)
    for op in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.fill_(1.0),
               lambda: x.clamp_(0, 1), lambda: x.copy_(f64([0.0, 0.0])),
               lambda: x.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf"):
            op()
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 2.0])


def test_in_place_on_a_view_of_a_leaf_that_requires_grad_raises():
    x = f64([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x.reshape(2, 1).mul_(2)


def test_in_place_through_a_view_while_recording_reaches_the_base_gradient():
    x = f64([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.reshape(2, 1).mul_(3)  # h = 6x
    h[0:1].copy_(x[1:2])  # h = [x1, 6 x1]
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 7.0])
    x.grad = None
    lone = (x * 2).reshape(2, 1)  # a view whose base only the view still holds
    lone.mul_(3)
    lone.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_in_place_on_memory_shared_other_than_as_a_view_is_refused_while_recording():
    x = f64([1.0, 2.0], requires_grad=True)
    h = x * 2
    alias = h.reshape(2, 1).detach()  # h's memory, outside the graph
    with pytest.raises(RuntimeError, match="shares its memory with another"):
        alias.mul_(x)


def test_in_place_on_a_leaf_under_no_grad_is_allowed():
    x = f64([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        x.mul_(3)
        x.add_(1)
    assert x.is_leaf and x.requires_grad
    np.testing.assert_allclose(x.detach().numpy(), [4.0, 7.0])


def test_gradient_flows_through_in_place_ops_on_non_leaves():
    x = f64([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y.mul_(x)  # y = x^2
    y.add_(x)  # y = x^2 + x
    y.clamp_(max=8.0)  # the last element (12) is cut
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0, 0.0])


def test_gradient_through_copy_fill_and_setitem():
    x = f64([1.0, 2.0], requires_grad=True)
    w = f64([5.0], requires_grad=True)
    buf = cr.zeros(2, dtype=cr.float64)
    buf.copy_(x * 3)
    (buf * buf).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 9 * np.array([1.0, 2.0]))

    x.grad = None
    y = x * 2
    y[0] = w.sum() * 2  # y = [2w, 2 x1]
    (y * f64([1.0, 10.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 20.0])
    np.testing.assert_allclose(w.grad.numpy(), [2.0])

    z = x * 1
    z.fill_(3.0)
    assert z.requires_grad
    x.grad = None
    (z * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])  # z no longer depends on x


def test_copy_under_recording_ignores_the_old_values_even_if_not_finite():
    x = f64([1.0, 2.0], requires_grad=True)
    buf = x * 1
    with cr.no_grad():
        buf.fill_(float("inf"))
    buf.copy_(x)
    np.testing.assert_allclose(buf.detach().numpy(), [1.0, 2.0])
    buf.fill_(4.0)
    np.testing.assert_allclose(buf.detach().numpy(), [4.0, 4.0])


def test_in_place_result_that_does_not_fit_raises():
    t = cr.zeros(3)
    with pytest.raises(RuntimeError):
        t.add_(cr.ones(2, 3))
    i = cr.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(cr.tensor([0.5, 0.5], requires_grad=True))


def test_augmented_assignment_is_in_place():
    t = cr.ones(2)
    same = t
    t += 1
    t *= 3
    t -= 1
    t /= 5
    assert t is same
    np.testing.assert_allclose(t.numpy(), [1.0, 1.0])


def test_changes_through_data_are_hidden_from_autograd_but_detach_is_not():
    x = f64([1.0, 2.0], requires_grad=True)
    w = f64([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()  # Mul saves x and w
    x.data.mul_(10)  # PyTorch's escape hatch: no version bump
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [10.0, 20.0])  # the modified values are used
    y = (x * w).sum()
    with cr.no_grad():
        x.detach().mul_(2)
    with pytest.raises(RuntimeError, match="MulBackward"):
        y.backward()


def test_products_and_quotients_save_only_what_the_other_gradient_needs():
    # as PyTorch: y * 2 keeps no y, so writing into y afterwards is no error; y * w keeps y
    # for w's gradient, and a write into y is caught
    x = f64([1.0, 2.0], requires_grad=True)
    for use in (lambda y: y * 2, lambda y: 2 * y, lambda y: y / 4, lambda y: y[0:1] * 3):
        x.grad = None
        y = x * 1
        v = use(y)
        y.mul_(5)
        v.sum().backward()
        assert x.grad is not None
    w = f64([3.0, 4.0], requires_grad=True)
    for use in (lambda y: y * w, lambda y: w / y, lambda y: y / w):
        y = x * 1
        v = use(y)
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            v.sum().backward()


def test_a_product_with_a_constant_of_another_dtype_has_the_right_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)  # float32
    c = f64([3.0, -1.0])
    (x * c).sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -1.0])
    x.grad = None
    (c / x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-3.0, 0.25])
