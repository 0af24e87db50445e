"""Elementwise operations. Each class states its derivative; ``dz`` is the incoming gradient.

Broadcasting is undone by the engine, so a backward returns gradients of the output's shape."""

import numbers

import numpy as np

from .. import kernels
from .._dtypes import default_float, is_float
from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.grad_ops import Clone
from ..kernels import threads
from ..tensor import Tensor
from ._operands import (
    as_common_dtype,
    as_tensor_pair,
    constant,
    float_array,
    number_array,
    promoted_dtype,
    wrap,
    wrap_each,
)
from .registry import register


def _broadcast_error(op, a, b):
    return RuntimeError(
        f"{op}: the shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together "
        "(trailing dimensions must be equal or 1); reshape or unsqueeze one operand"
    )


def _binary(op, ufunc, a, b, dtype=None, quiet=False):
    """``ufunc`` on two tensors, computed in the dtype PyTorch promotes them to. ``quiet``:
    IEEE results (x / 0 = inf, 0 / 0 = nan, overflow) come without NumPy's RuntimeWarning,
    as PyTorch gives them."""
    if quiet:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _binary(op, ufunc, a, b, dtype)
    x, y = a._data, b._data
    try:
        if x.dtype == y.dtype and dtype is None and x.dtype.kind != "b":
            return wrap(ufunc(x, y))
        # unsafe casting is right here: the dtype is the promoted one, and PyTorch too casts a
        # 0-d int16 operand to a uint8 vector's dtype
        dtype = dtype or promoted_dtype(a, b)
        out = ufunc(x, y, dtype=dtype if dtype.kind != "b" else None, casting="unsafe")
        return wrap(out if out.dtype == dtype else out.astype(dtype))  # bool ** bool is bool
    except ValueError as error:
        if "broadcast" not in str(error):
            raise RuntimeError(f"{op}: {error}") from None
        raise _broadcast_error(op, a, b) from None


# -- arithmetic ---------------------------------------------------------------------------------
class Add(Function):
    """z = a + b;  da = dz,  db = dz."""

    _array_forward = True

    @staticmethod
    def forward(ctx, a, b):
        return _binary("add", np.add, a, b)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, grad_out


class Sub(Function):
    """z = a - b;  da = dz,  db = -dz."""

    _array_forward = True

    @staticmethod
    def forward(ctx, a, b):
        return _binary("sub", np.subtract, a, b)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, (-grad_out if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  da = dz * b,  db = dz * a."""

    _array_forward = True

    @staticmethod
    def forward(ctx, a, b):
        # each operand only for the other's gradient, as PyTorch saves them: writing into y
        # after y * 2 is no error
        needs_a, needs_b = ctx.needs_input_grad
        ctx.save_for_backward(a if needs_b else None, b if needs_a else None)
        return _binary("mul", np.multiply, a, b)

    @staticmethod
    def backward(ctx, grad_out):
        if not grad_mode.is_grad_enabled():
            return wrap_each(Mul._array_backward(ctx, grad_out._data))
        a, b = ctx.saved_tensors
        grad_a = grad_out * b if ctx.needs_input_grad[0] else None
        grad_b = grad_out * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b

    @staticmethod
    def _array_backward(ctx, g):
        # NOTE: not recorded (no create_graph): the products on arrays, as Mul's forward
        # computes them, instead of two more ops (their per-op overhead is most of a small
        # multiply's backward); with different dtypes the product promotes as the op would
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        if (not needs_a or g.dtype == b._data.dtype) and (
                not needs_b or g.dtype == a._data.dtype):
            return (np.multiply(g, b._data) if needs_a else None,
                    np.multiply(g, a._data) if needs_b else None)
        return ((wrap(g) * b)._data if needs_a else None,  # (grad mode is off here)
                (wrap(g) * a)._data if needs_b else None)


class Div(Function):
    """z = a / b;  da = dz / b,  db = -dz * a / b^2."""

    _array_forward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)  # (as Mul's)
        dtype = promoted_dtype(a, b)
        if dtype.kind != "f" and not is_float(dtype):  # (bfloat16 is kind 'V')
            dtype = default_float()  # integers divide to the default float dtype
        return _binary("div", np.true_divide, a, b, dtype, quiet=True)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        grad_a = grad_out / b if ctx.needs_input_grad[0] else None
        grad_b = -grad_out * a / (b * b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """z = -a;  da = -dz."""

    _array_forward = True

    @staticmethod
    def forward(ctx, a):
        return wrap(np.negative(a._data))

    @staticmethod
    def backward(ctx, grad_out):
        return -grad_out


class Pow(Function):
    """z = a ** b;  da = dz * b * a^(b-1) (0 where b = 0),  db = dz * z * log(a) (0 where a = 0
    and b >= 0): PyTorch's values where the formulas give 0 * inf (x ** 0 at x = 0)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _binary("pow", np.power, a, b, quiet=True)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = grad_out * b * a ** (b - 1)
            constant = b._data.ndim == 0 and not ctx.needs_input_grad[1]
            if not constant or b._data == 0:  # (x ** 2 and the like: no zero exponent to mask)
                grad_a = where(b == 0, 0.0, grad_a)
        if ctx.needs_input_grad[1]:
            grad_b = where((a == 0) & (b >= 0), 0.0, grad_out * a**b * a.log())
        return grad_a, grad_b


class Maximum(Function):
    """z = max(a, b);  the gradient goes to the larger input, split evenly on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _binary("maximum", np.maximum, a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        return _split_by_winner(grad_out, a > b, a == b, ctx.needs_input_grad)


class Minimum(Function):
    """z = min(a, b);  the gradient goes to the smaller input, split evenly on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _binary("minimum", np.minimum, a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        return _split_by_winner(grad_out, a < b, a == b, ctx.needs_input_grad)


def _split_by_winner(grad_out, a_wins, tie, needs):
    share_a = a_wins.to(grad_out.dtype) + 0.5 * tie.to(grad_out.dtype)
    grad_a = masked_gradient(grad_out, share_a) if needs[0] else None
    grad_b = masked_gradient(grad_out, 1 - share_a) if needs[1] else None
    return grad_a, grad_b


def masked_gradient(grad_out, factor):
    """grad_out * factor for a factor that is 0 where the gradient is masked, but 0 there even
    when grad_out is inf or nan, as PyTorch's masked gradients (it selects; inf * 0 would be
    nan). NOTE: a multiply and a finiteness check, not NumPy's where: a selecting where was
    6-13 times slower than the product on 8k-65k float32 elements (an MLP's ReLU backward)."""
    if grad_mode.is_grad_enabled():  # recorded (create_graph): the differentiable select
        return where(factor != 0, grad_out * factor, 0.0)
    return wrap(masked_gradient_array(grad_out._data, factor._data))


def masked_gradient_array(g, factor):
    """``masked_gradient`` on arrays."""
    dtype = np.result_type(g, factor)
    if _all_finite(g):
        return np.multiply(g, factor, dtype=dtype)
    with np.errstate(invalid="ignore"):  # (rare) inf or nan arrived: 0 wherever it is masked
        # asarray: NumPy multiplies two 0-d arrays into a scalar, which cannot be assigned into
        out = np.asarray(np.multiply(g, factor, dtype=dtype))
    out[np.broadcast_to(factor == 0, out.shape)] = 0
    return out


def _all_finite(array):
    # NOTE: a dot product (BLAS, no temporary) is finite when every element is, at half the
    # cost of isfinite().all() on 65k float32 (2.8 against 5.9 us); a false alarm from
    # overflowing squares only costs the masked fix-up, which is right in any case
    if array.dtype.kind == "f" and array.flags.c_contiguous:
        flat = array.reshape(-1)
        return bool(np.isfinite(flat.dot(flat)))
    return bool(np.isfinite(array).all())


class Where(Function):
    """z = where(c, a, b);  da = where(c, dz, 0),  db = where(c, 0, dz)."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        x, y = as_common_dtype(a, b)
        try:
            return wrap(np.where(condition._data, x, y))
        except ValueError:
            raise RuntimeError(
                f"where: condition {tuple(condition.shape)}, input {tuple(a.shape)} and other "
                f"{tuple(b.shape)} cannot be broadcast together"
            ) from None

    @staticmethod
    def backward(ctx, grad_out):
        zero = grad_out.new_zeros(())
        grad_a = where(ctx.condition, grad_out, zero) if ctx.needs_input_grad[1] else None
        grad_b = where(ctx.condition, zero, grad_out) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


# -- unary functions ---------------------------------------------------------------------------
class Exp(Function):
    """y = exp(x);  dx = dy * y."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):  # exp(1000) = inf without a warning, as in PyTorch
            y = wrap(np.exp(float_array(x._data)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * y


class Expm1(Function):
    """y = exp(x) - 1;  dx = dy * (y + 1)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        y = wrap(np.expm1(float_array(x._data)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (y + 1)


class Log(Function):
    """y = log(x);  dx = dy / x."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return wrap(np.log(float_array(x._data)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / x


class Log1p(Function):
    """y = log(1 + x);  dx = dy / (1 + x)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return wrap(np.log1p(float_array(x._data)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (x + 1)


class Sqrt(Function):
    """y = sqrt(x);  dx = dy / (2 y)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            y = wrap(np.sqrt(float_array(x._data)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out / (2 * y)


class Rsqrt(Function):
    """y = 1 / sqrt(x);  dx = -dy * y^3 / 2."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = wrap(1 / np.sqrt(float_array(x._data)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return -0.5 * grad_out * y * y * y


class Abs(Function):
    """y = |x|;  dx = dy * sign(x)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(np.abs(x._data))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * x.sign()


class Sign(Function):
    """y = sign(x);  dx = 0 (almost everywhere)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        return wrap(np.sign(x._data))

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * 0


class Sin(Function):
    """y = sin(x);  dx = dy * cos(x)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(np.sin(float_array(x._data)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * x.cos()


class Cos(Function):
    """y = cos(x);  dx = -dy * sin(x)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(np.cos(float_array(x._data)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return -grad_out * x.sin()


class Tanh(Function):
    """y = tanh(x);  dx = dy * (1 - y^2)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        y = wrap(np.tanh(float_array(x._data)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        if not grad_mode.is_grad_enabled():
            return wrap(Tanh._array_backward(ctx, grad_out._data))
        return Tanh.input_gradient(grad_out, ctx.saved_tensors[0])

    @staticmethod
    def _array_backward(ctx, grad):
        return Tanh.input_gradient_array(grad, ctx.saved_tensors[0]._data)

    # The rule on the output ``y``, shared with ops/linear_activation.py's fused node:
    @staticmethod
    def output_array(pre):
        """tanh of a fresh float array, written over it."""
        return np.tanh(pre, out=pre)

    @staticmethod
    def input_gradient(grad_out, y):
        return grad_out * (1 - y * y)

    @staticmethod
    def input_gradient_array(grad, y):
        # NOTE: not recorded (no create_graph): one array expression instead of three small
        # ops, whose per-op overhead dominates a small network's step
        return grad * (constant(1, y.dtype) - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dx = dy * y * (1 - y)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        y = wrap(Sigmoid.output_array(float_array(x._data)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        if not grad_mode.is_grad_enabled():
            return wrap(Sigmoid._array_backward(ctx, grad_out._data))
        return Sigmoid.input_gradient(grad_out, ctx.saved_tensors[0])

    @staticmethod
    def _array_backward(ctx, grad):
        return Sigmoid.input_gradient_array(grad, ctx.saved_tensors[0]._data)

    # The rule on the output ``y``, shared with ops/linear_activation.py's fused node:
    @staticmethod
    def output_array(data):
        # exp of a negative number only: no overflow for large |x|
        e = np.exp(-np.abs(data))
        return np.where(data >= 0, 1 / (1 + e), e / (1 + e)).astype(data.dtype, copy=False)

    @staticmethod
    def input_gradient(grad_out, y):
        return grad_out * y * (1 - y)

    @staticmethod
    def input_gradient_array(grad, y):
        return grad * y * (constant(1, y.dtype) - y)  # (on arrays when not recorded, as Tanh's)


def _relu_slice(start, stop, part, x, y):
    np.maximum(x[start:stop], 0, out=y[start:stop])  # (a ufunc on floats releases the GIL)


def _relu_array(x, out=None):
    """max(x, 0) (into ``out`` if given); a big contiguous float array in slices on the free
    cores (a conv net's activations: 64 x 64 x 24 x 24 in the cnn workload, 0.7 ms on one
    core)."""
    if x.dtype.kind != "f" or not x.flags.c_contiguous:
        return np.maximum(x, 0, out=out)
    y = np.empty_like(x) if out is None else out
    threads.parallel_ranges(_relu_slice, x.size, 1, x.reshape(-1), y.reshape(-1))
    return y


class Relu(Function):
    """y = max(x, 0);  dx = dy where x > 0, else 0 (selected: an infinite dy where x <= 0
    gives 0, as PyTorch's)."""

    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        y = wrap(_relu_array(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        if not grad_mode.is_grad_enabled():
            return wrap(Relu._array_backward(ctx, grad_out._data))
        return Relu.input_gradient(grad_out, ctx.saved_tensors[0])

    @staticmethod
    def _array_backward(ctx, g):
        return Relu.input_gradient_array(g, ctx.saved_tensors[0]._data)

    # The rule on the output ``y``, shared with ops/linear_activation.py's fused node:
    @staticmethod
    def output_array(pre):
        """max(pre, 0) of a fresh float array, written over it."""
        return _relu_array(pre, out=pre)

    @staticmethod
    def input_gradient(grad_out, y):
        return masked_gradient(grad_out, y > 0)

    @staticmethod
    def input_gradient_array(g, y):
        # NOTE: on arrays, the mask applied inside one ufunc: the tensor product makes the
        # float copy of the mask too (an activation-sized temporary, the peak of a conv net's
        # backward)
        fast = kernels.load("activation", y, g)
        if fast is not None:  # no mask array at all
            return fast.relu_backward(y, g)
        return masked_gradient_array(g, y > 0)


class Clamp(Function):
    """y = min(max(x, lo), hi);  dx = dy where lo <= x <= hi, else 0 (bounds are constants;
    selected, so an infinite dy outside the bounds gives 0, as PyTorch's). ``exclusive``: dx = 0
    at the bounds too (PyTorch's hardtanh, relu6 and hardsigmoid)."""

    @staticmethod
    def forward(ctx, x, *, min=None, max=None, exclusive=False):
        ctx.save_for_backward(x)
        ctx.bounds, ctx.exclusive = (min, max), exclusive
        dtype = promoted_dtype(x, min, max)  # an integer tensor clamped by 0.5 turns float
        if x._data.dtype.kind == "V":  # bfloat16 stays bfloat16 with number bounds (PyTorch)
            dtype = x._data.dtype
        lo = None if min is None else number_array(min, dtype)
        hi = None if max is None else number_array(max, dtype)
        if dtype.kind == "V":  # bfloat16: NumPy's clip has no loop for it (it gave float32)
            out = x._data.astype(dtype, copy=False)
            out = out if lo is None else np.maximum(out, lo)
            return wrap(out if hi is None else np.minimum(out, hi))
        return wrap(np.clip(x._data, lo, hi, dtype=dtype, casting="unsafe"))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        above = x.__gt__ if ctx.exclusive else x.__ge__
        below = x.__lt__ if ctx.exclusive else x.__le__
        inside = above(lo) if lo is not None else None
        if hi is not None:
            inside = below(hi) if inside is None else inside & below(hi)
        return masked_gradient(grad_out, inside)


# -- public functions --------------------------------------------------------------------------
def add(input, other, *, alpha=1):
    if alpha != 1:
        other = other * alpha
    return Add.apply(*as_tensor_pair(input, other))


def sub(input, other, *, alpha=1):
    if alpha != 1:
        other = other * alpha
    return Sub.apply(*as_tensor_pair(input, other))


def mul(input, other):
    return Mul.apply(*as_tensor_pair(input, other))


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        dtype = promoted_dtype(input, other)
        if dtype.kind != "f" and not is_float(dtype):  # (kind first: no call for the floats)
            # a number divides as a float: uint8_tensor / -2 is -1.5, not 1 / 254
            input, other = (float(x) if isinstance(x, numbers.Integral) else x
                            for x in (input, other))
        return Div.apply(*as_tensor_pair(input, other))
    a, b = as_tensor_pair(input, other)
    rounder = {"floor": np.floor_divide, "trunc": _trunc_divide}[rounding_mode]
    with np.errstate(divide="ignore", invalid="ignore"):
        return _binary("div", rounder, a, b)


def pow(input, exponent):
    return Pow.apply(*as_tensor_pair(input, exponent))


def maximum(input, other):
    return Maximum.apply(*as_tensor_pair(input, other))


def minimum(input, other):
    return Minimum.apply(*as_tensor_pair(input, other))


def _trunc_divide(x, y, dtype=None):
    return np.trunc(np.true_divide(x, y, dtype=dtype)).astype(dtype, copy=False)


def where(condition, input=None, other=None):
    """Pick from ``input`` where ``condition`` holds, else from ``other`` (numbers allowed:
    ``where(c, 1, 0)`` is int64, as in PyTorch)."""
    if input is None and other is None:
        return tuple(wrap(i) for i in np.nonzero(_array(condition)))
    condition = condition if isinstance(condition, Tensor) else wrap(np.asarray(condition))
    if condition._data.dtype != np.bool_:
        condition = wrap(condition._data.astype(bool))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        dtype = promoted_dtype(input, other)
        input, other = wrap(number_array(input, dtype)), wrap(number_array(other, dtype))
    input, other = as_tensor_pair(input, other)
    return Where.apply(condition, input, other)


def clamp(input, min=None, max=None):
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(input, min=min, max=max)


def neg(input):
    """-x."""
    return Neg.apply(input)


def exp(input):
    """e to the power x."""
    return Exp.apply(input)


def expm1(input):
    """exp(x) - 1, accurate for small x."""
    return Expm1.apply(input)


def log(input):
    """The natural logarithm."""
    return Log.apply(input)


def log1p(input):
    """log(1 + x), accurate for small x."""
    return Log1p.apply(input)


def sqrt(input):
    """The square root."""
    return Sqrt.apply(input)


def rsqrt(input):
    """1 / sqrt(x)."""
    return Rsqrt.apply(input)


def abs(input):
    """|x|."""
    return Abs.apply(input)


def sign(input):
    """-1, 0 or 1 by the sign of x."""
    return Sign.apply(input)


def sin(input):
    """The sine."""
    return Sin.apply(input)


def cos(input):
    """The cosine."""
    return Cos.apply(input)


def tanh(input):
    """The hyperbolic tangent."""
    return Tanh.apply(input)


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return Sigmoid.apply(input)


def relu(input):
    """max(x, 0)."""
    return Relu.apply(input)


def clone(input):
    """A copy of x (the gradient flows through)."""
    return Clone.apply(input)


def floor_divide(input, other):
    """input / other rounded down (``//``)."""
    return div(input, other, rounding_mode="floor")


def positive(input):
    """The tensor itself (unary ``+``)."""
    return input


def square(input):
    return mul(input, input)


def reciprocal(input):
    return div(1.0, input)


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def _where_method(self, condition, other):
    """``Tensor.where(condition, other)``: self where ``condition`` holds, else ``other``."""
    return where(condition, self, other)


# -- registration: chainrule.X and Tensor.X, unless stated otherwise ---------------------------
register(add, Add, operators=("__add__",), reflected=("__radd__",))
register(sub, Sub, aliases=("subtract",), operators=("__sub__",), reflected=("__rsub__",))
register(mul, Mul, aliases=("multiply",), operators=("__mul__",), reflected=("__rmul__",))
register(div, Div, aliases=("divide",), operators=("__truediv__",), reflected=("__rtruediv__",))
register(floor_divide, operators=("__floordiv__",), reflected=("__rfloordiv__",))
register(pow, Pow, operators=("__pow__",), reflected=("__rpow__",))
register(neg, Neg, aliases=("negative",), operators=("__neg__",))
register(positive, operators=("__pos__",))
register(abs, Abs, aliases=("absolute",), operators=("__abs__",))
register(maximum, Maximum)
register(minimum, Minimum)
register(where, Where, method=_where_method)
register(clamp, Clamp, aliases=("clip",))
register(exp, Exp)
register(expm1, Expm1, special=True)
register(log, Log)
register(log1p, Log1p, special=True)
register(sqrt, Sqrt)
register(rsqrt, Rsqrt)
register(sign, Sign)
register(sin, Sin)
register(cos, Cos)
register(tanh, Tanh, functional=True)
register(sigmoid, Sigmoid, functional=True)
register(clone, Clone)
register(square)
register(reciprocal)
