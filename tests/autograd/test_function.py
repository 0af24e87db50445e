"""User-defined ops (chainrule.autograd.Function) and the gradient checkers."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd
from chainrule.autograd import Function
from chainrule.autograd.function import once_differentiable
from chainrule.autograd.gradcheck import GradcheckError


def f64(values, requires_grad=True):
    return cr.tensor(values, dtype=cr.float64, requires_grad=requires_grad)


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * y


def test_custom_function_forward_backward_and_double_backward():
    x = f64([0.0, 1.0])
    y = Exp.apply(x)
    assert type(y.grad_fn) is Exp and repr(y).endswith("grad_fn=<ExpBackward>)")
    (g,) = autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.exp([0.0, 1.0]))
    (gg,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), np.exp([0.0, 1.0]))
    assert autograd.gradcheck(Exp.apply, (f64([0.2, -0.4]),))
    assert autograd.gradgradcheck(Exp.apply, (f64([0.2, -0.4]),))


def test_forward_runs_without_recording():
    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.inner_records = (x * 2).requires_grad
            return x * 2

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 2

    x = f64([1.0])
    y = Probe.apply(x)
    assert y.grad_fn.inner_records is False and y.requires_grad


class ScaleBy(Function):
    """y = x * w with a non-tensor option; records needs_input_grad."""

    seen = []

    @staticmethod
    def forward(ctx, x, w, power):
        ctx.save_for_backward(x, w)
        ctx.power = power
        return x * w**power

    @staticmethod
    def backward(ctx, grad_out):
        ScaleBy.seen.append(ctx.needs_input_grad)
        x, w = ctx.saved_tensors
        grad_x = grad_out * w**ctx.power if ctx.needs_input_grad[0] else None
        needs_w = ctx.needs_input_grad[1]
        grad_w = grad_out * x * ctx.power * w ** (ctx.power - 1) if needs_w else None
        return grad_x, grad_w, None


def test_needs_input_grad_and_non_tensor_arguments():
    ScaleBy.seen.clear()
    x, w = f64([2.0]), f64([3.0], requires_grad=False)
    ScaleBy.apply(x, w, 2).sum().backward()
    assert ScaleBy.seen == [(True, False, False)]
    np.testing.assert_allclose(x.grad.numpy(), [9.0])
    assert w.grad is None
    w.requires_grad_()
    assert autograd.gradcheck(lambda a, b: ScaleBy.apply(a, b, 3), (x, w))


def test_no_recording_when_no_input_requires_grad():
    y = ScaleBy.apply(f64([1.0], False), f64([2.0], False), 1)
    assert not y.requires_grad and y.grad_fn is None


class SplitSigns(Function):
    """Two outputs: the positive part and the negative part."""

    @staticmethod
    def forward(ctx, x):
        positive = x > 0
        ctx.save_for_backward(positive.double())
        return x * positive, x * ~positive

    @staticmethod
    def backward(ctx, grad_pos, grad_neg):
        (mask,) = ctx.saved_tensors
        return grad_pos * mask + grad_neg * (1 - mask)


def test_multi_output_function():
    x = f64([-1.0, 2.0, -3.0])
    pos, neg = SplitSigns.apply(x)
    assert pos.grad_fn is neg.grad_fn and pos.requires_grad and neg.requires_grad
    (pos.sum() * 2 + neg.sum() * 5).backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 2.0, 5.0])


def test_unused_output_gets_zeros_or_none_with_materialize_off():
    x = f64([-1.0, 2.0])
    pos, _ = SplitSigns.apply(x)
    pos.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0])

    received = []

    class Keep(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            received.append(grad_b)
            return grad_a

    a, _ = Keep.apply(f64([1.0]))
    a.sum().backward()
    assert received == [None]


def test_mark_non_differentiable():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.detach().numpy())
            ctx.order = order
            index = cr.from_numpy(order.astype(np.float64))
            ctx.mark_non_differentiable(index)
            return cr.from_numpy(x.detach().numpy()[order]), index

        @staticmethod
        def backward(ctx, grad_values, grad_index):
            grad = np.zeros_like(grad_values.numpy())
            grad[ctx.order] = grad_values.numpy()
            return cr.from_numpy(grad)

    x = f64([3.0, 1.0, 2.0])
    values, index = SortWithIndex.apply(x)
    assert values.requires_grad and not index.requires_grad
    (values * f64([1.0, 10.0, 100.0], False)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_returning_an_input_unchanged_makes_a_new_node_output():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 3

    x = f64([1.0])
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0])


def test_mark_dirty_rebases_the_modified_input():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 1

    x = f64([1.0, 2.0])
    h = x * 2
    out = AddOneInPlace.apply(h)
    assert out is h and type(h.grad_fn) is AddOneInPlace
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * np.array([3.0, 5.0]))
    with pytest.raises(RuntimeError, match="leaf"):
        AddOneInPlace.apply(f64([1.0]))


def test_a_returned_saved_tensor_is_not_aliased_as_grad():
    class TimesW(Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(w)
            return x * w

        @staticmethod
        def backward(ctx, grad_out):
            (w,) = ctx.saved_tensors
            return w, None  # correct for grad_out == 1; hands out the saved tensor itself

    x, w = f64([1.0, 2.0]), f64([3.0, 4.0], False)
    TimesW.apply(x, w).sum().backward()
    x.grad.zero_()
    np.testing.assert_allclose(w.numpy(), [3.0, 4.0])


def test_wrong_number_of_gradients_is_a_clear_error():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out

    with pytest.raises(RuntimeError, match=r"TooFewBackward returned 1 gradients.*2 positional"):
        TooFew.apply(f64([1.0]), f64([2.0])).sum().backward()


def test_gradient_of_the_wrong_shape_is_a_clear_error():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad_out):
            return cr.ones(5, dtype=cr.float64)

    with pytest.raises(RuntimeError, match=r"BadShapeBackward.*shape \(5,\).*\(2,\)"):
        BadShape.apply(f64([1.0, 2.0])).sum().backward()


def test_save_for_backward_rejects_non_tensors():
    class SavesNumber(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3.0)
            return x * 1

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out

    with pytest.raises(TypeError, match="argument 1 is float"):
        SavesNumber.apply(f64([1.0]))


def test_backward_returning_a_non_tensor_is_a_clear_error():
    class ReturnsArray(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad_out):
            return np.ones(1)

    with pytest.raises(TypeError, match="ReturnsArrayBackward returned ndarray"):
        ReturnsArray.apply(f64([1.0])).sum().backward()


# -- gradcheck and gradgradcheck catch wrong backwards -------------------------------------------
class WrongSin(Function):
    """Forward sin, backward off by a factor 1.01."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * x.cos() * 1.01


class ArraySin(Function):
    """Correct first derivative, but computed on raw arrays: its own derivative is lost."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * cr.from_numpy(np.cos(x.detach().numpy()))


def test_gradcheck_catches_a_wrong_backward():
    x = f64([0.3, -1.2, 2.0])
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        autograd.gradcheck(WrongSin.apply, (x,))
    assert autograd.gradcheck(WrongSin.apply, (x,), raise_exception=False) is False
    assert autograd.gradcheck(cr.sin, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_gradgradcheck_catches_a_wrong_double_backward():
    x = f64([0.3, -1.2, 2.0])
    assert autograd.gradcheck(ArraySin.apply, (x,))  # first order is right
    with pytest.raises(GradcheckError):
        autograd.gradgradcheck(ArraySin.apply, (x,))
    assert autograd.gradgradcheck(ArraySin.apply, (x,), raise_exception=False) is False
    assert autograd.gradgradcheck(cr.sin, (x,))


def test_gradcheck_demands_float64():
    with pytest.raises(ValueError, match="float64"):
        autograd.gradcheck(cr.sin, (cr.tensor([1.0], requires_grad=True),))


def test_gradcheck_with_several_inputs_and_outputs():
    a, b = f64([0.5, 1.5]), f64([2.0, -1.0])
    assert autograd.gradcheck(lambda p, q: (p * q, p.exp() + q), (a, b))


def test_gradcheck_explains_a_read_only_input():
    x = f64([1.0], requires_grad=False).expand(3).requires_grad_()
    with pytest.raises(ValueError, match="read-only"):
        autograd.gradcheck(cr.sin, (x,))


class ArraySinOnce(Function):
    """ArraySin with its backward marked once-differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * cr.from_numpy(np.cos(x.detach().numpy()))


def test_once_differentiable_works_once_and_refuses_twice():
    x = f64([0.3, -1.2])
    assert autograd.gradcheck(ArraySinOnce.apply, (x,))
    (g,) = autograd.grad(ArraySinOnce.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.cos([0.3, -1.2]))
    with pytest.raises(RuntimeError, match="ArraySinOnceBackward is marked @once_differentiable"):
        autograd.grad(g.sum(), x)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        autograd.gradgradcheck(ArraySinOnce.apply, (x,))


def test_setup_context_style():
    class Square(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 2 * x

    x = f64([3.0])
    Square.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0])
    assert autograd.gradgradcheck(Square.apply, (f64([0.5, 2.0]),))


def test_a_custom_backwards_tensor_passed_on_by_a_builtin_op_is_not_aliased_as_grad():
    held = f64([3.0, 4.0], False)

    class HandsOutHeld(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad_out):
            return held  # a tensor the user keeps; Clone's backward passes it on unchanged

    x = f64([1.0, 2.0])
    HandsOutHeld.apply(x.clone()).sum().backward()
    x.grad.zero_()
    np.testing.assert_allclose(held.numpy(), [3.0, 4.0])
