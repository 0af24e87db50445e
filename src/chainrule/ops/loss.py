"""Classification losses as fused ops (the regression losses are in ``regression_loss``, which
shares the helpers here): each computes its loss on arrays in one pass, in a numerically
stable form (log-sum-exp, log-sigmoid), and states its derivative beside it.

``dl`` is the incoming gradient. With ``reduction='mean'`` it is divided by the number the mean
divides by; with ``'none'`` it has one entry per loss element."""

import warnings

import numpy as np

from .. import kernels
from .._dtypes import default_float, is_float, promote_numpy
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._operands import as_tensor_arg, wrap
from .registry import register

_REDUCTIONS = ("none", "mean", "sum")


# -- shared helpers ---------------------------------------------------------------------------
def _reduction(op, size_average, reduce, reduction, allowed=_REDUCTIONS):
    """The reduction, honouring PyTorch's deprecated ``size_average``/``reduce`` arguments."""
    if size_average is not None or reduce is not None:
        warnings.warn(
            f"{op}: size_average and reduce are deprecated; use reduction='mean', 'sum' or "
            "'none' instead", UserWarning, stacklevel=3,
        )
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in allowed:
        raise ValueError(
            f"{op}: reduction={reduction!r} is not valid; use one of "
            + ", ".join(repr(r) for r in allowed)
        )
    return reduction


def _reduce(loss, reduction, count):
    """Reduce the per-element loss array; the mean divides by ``count``."""
    if reduction == "none":
        return wrap(loss)
    total = np.add.reduce(loss, axis=None, dtype=loss.dtype)  # (ndarray.sum, minus a wrapper)
    if reduction == "mean":
        # an empty mean is nan, as in PyTorch (without NumPy's warning for 0 / 0)
        total = total / loss.dtype.type(count) if count else np.nan
    return wrap(np.asarray(total, dtype=loss.dtype))


def _grad_scale(grad_out, reduction, count):
    """The incoming gradient as a factor for every loss element."""
    if reduction == "mean":
        return grad_out / count
    return grad_out


def _float_pair(op, input, target, *, same_shape=False):
    """Input and target arrays in their common float dtype (int targets never make float64)."""
    input, target = as_tensor_arg(input), as_tensor_arg(target)
    x, y = input._data, target._data
    if x.shape != y.shape:
        if same_shape:
            raise ValueError(
                f"{op}: target size {tuple(y.shape)} must be the same as input size "
                f"{tuple(x.shape)}"
            )
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise ValueError(
                f"{op}: target of shape {tuple(y.shape)} cannot be broadcast to input of shape "
                f"{tuple(x.shape)}; give the target the input's shape"
            ) from None
        warnings.warn(
            f"{op}: using a target size {tuple(y.shape)} that is different to the input size "
            f"{tuple(x.shape)}; they are broadcast, which is likely not what you want",
            UserWarning, stacklevel=3,
        )
    if x.dtype == y.dtype and x.dtype.kind == "f":
        return x, y  # (the common case, without the promotion's calls)
    dtype = promote_numpy(x.dtype, y.dtype)
    if not is_float(dtype):
        dtype = default_float()
    return x.astype(dtype, copy=False), y.astype(dtype, copy=False)


def _option_array(value, dtype):
    """A non-differentiable tensor option (``weight``, ``pos_weight``) as an array, or None."""
    if value is None:
        return None
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    return array.astype(dtype, copy=False)


# -- binary classification ----------------------------------------------------------------------
class BinaryCrossEntropy(Function):
    """l = -w (y log x + (1 - y) log(1 - x)), each log clamped to >= -100 as in PyTorch;
    dx = dl * w (x - y) / max(x (1 - x), 1e-12),  dy = dl * w (log(1 - x) - log x) (unclamped)."""

    @staticmethod
    def forward(ctx, input, target, *, weight, reduction):
        x, y = _float_pair("binary_cross_entropy", input, target, same_shape=True)
        if x.size and not (np.all(x >= 0) and np.all(x <= 1)):
            raise RuntimeError(
                f"binary_cross_entropy: all elements of input should be between 0 and 1, but "
                f"they range over [{np.nanmin(x):.4g}, {np.nanmax(x):.4g}]; apply sigmoid first, "
                "or use binary_cross_entropy_with_logits on the raw scores"
            )
        ctx.save_for_backward(input, target)
        ctx.weight = _option_array(weight, x.dtype)
        ctx.reduction, ctx.count = reduction, x.size
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if ctx.weight is not None:
            loss = loss * ctx.weight
        return _reduce(loss, reduction, x.size)

    @staticmethod
    def backward(ctx, grad_out):
        input, target = ctx.saved_tensors
        scale = _grad_scale(grad_out, ctx.reduction, ctx.count)
        if ctx.weight is not None:
            scale = scale * wrap(ctx.weight)
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_input = scale * (input - target) / (input * (1 - input)).clamp(min=1e-12)
        if ctx.needs_input_grad[1]:
            # unclamped, as in PyTorch: infinite where the input is exactly 0 or 1
            grad_target = scale * ((-input).log1p() - input.log())
        return grad_input, grad_target


def _softplus_neg(x):
    """log(1 + exp(-x)) without overflow, on arrays."""
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


class BinaryCrossEntropyWithLogits(Function):
    """l = w ((1 - y) x + (1 + (p - 1) y) softplus(-x)), softplus(-x) = -log sigmoid(x);
    dx = dl * w ((1 - y) - (1 + (p - 1) y) sigmoid(-x)),  dy = dl * w (-x + (p - 1) softplus(-x)).
    Without ``pos_weight`` (p = 1): dx = dl * w (sigmoid(x) - y),  dy = -dl * w x."""

    @staticmethod
    def forward(ctx, input, target, *, weight, pos_weight, reduction):
        x, y = _float_pair("binary_cross_entropy_with_logits", input, target,
                                 same_shape=True)
        ctx.save_for_backward(input, target)
        ctx.weight = _option_array(weight, x.dtype)
        ctx.pos_weight = _option_array(pos_weight, x.dtype)
        ctx.reduction, ctx.count = reduction, x.size
        softplus = _softplus_neg(x)
        if ctx.pos_weight is None:
            loss = (1 - y) * x + softplus
        else:
            loss = (1 - y) * x + (1 + (ctx.pos_weight - 1) * y) * softplus
        if ctx.weight is not None:
            loss = loss * ctx.weight
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        scale = _grad_scale(grad_out, ctx.reduction, ctx.count)
        if ctx.weight is not None:
            scale = scale * wrap(ctx.weight)
        pos = None if ctx.pos_weight is None else wrap(ctx.pos_weight)
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            if pos is None:
                grad_input = scale * (x.sigmoid() - y)
            else:
                grad_input = scale * ((1 - y) - (1 + (pos - 1) * y) * (-x).sigmoid())
        if ctx.needs_input_grad[1]:
            if pos is None:
                grad_target = -scale * x
            else:
                softplus = (-x).clamp(min=0) + (-x.abs()).exp().log1p()
                grad_target = scale * ((pos - 1) * softplus - x)
        return grad_input, grad_target


# -- distributions ----------------------------------------------------------------------------
class KlDiv(Function):
    """x = log q (log-probabilities), y = p;  l = y (log y - x) (0 where y = 0);
    dx = -dl * y,  dy = dl * (log y + 1 - x), taken as 0 where y = 0 (PyTorch gives nan there).
    With ``log_target`` (y = log p):  l = e^y (y - x);  dx = -dl * e^y,  dy = dl * e^y (y - x + 1).
    """

    @staticmethod
    def forward(ctx, input, target, *, reduction, log_target):
        x, y = _float_pair("kl_div", input, target)
        ctx.save_for_backward(input, target)
        ctx.log_target = log_target
        if log_target:
            loss = np.exp(y) * (y - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                loss = np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0) - y * x
        loss = loss.astype(x.dtype, copy=False)
        if reduction == "batchmean":
            ctx.reduction, ctx.count = "mean", (x.shape[0] if x.ndim else 1)
        else:
            ctx.reduction, ctx.count = reduction, loss.size
        return _reduce(loss, ctx.reduction, ctx.count)

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        scale = _grad_scale(grad_out, ctx.reduction, ctx.count)
        p = y.exp() if ctx.log_target else y
        grad_input = -scale * p if ctx.needs_input_grad[0] else None
        grad_target = None
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                grad_target = scale * p * (y - x + 1)
            else:
                positive = y > 0
                safe_y = y.where(positive, y.new_ones(()))
                grad_target = scale * (safe_y.log() + 1 - x) * positive
        return grad_input, grad_target


# -- multi-class classification ---------------------------------------------------------------
def _class_axis(op, input):
    if not is_float(input._data.dtype):
        raise TypeError(
            f"{op}: input must be a floating-point tensor of scores, but it is {input.dtype}; "
            "convert it with input.float()"
        )
    if input._data.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, but it is a 0-d tensor")
    return 1 if input._data.ndim >= 2 else 0


def _class_weight(op, weight, n_classes, dtype):
    if weight is None:
        return None
    array = _option_array(weight, dtype)
    if array.shape != (n_classes,):
        raise ValueError(
            f"{op}: weight must have shape ({n_classes},), one entry per class, but has shape "
            f"{tuple(array.shape)}"
        )
    return array


def _index_target(op, input, target, ignore_index, axis):
    """The class-index target as an int64 array, checked against the input's shape and C."""
    x, t = input._data, target._data
    if t.dtype not in (np.int64, np.int32):
        raise TypeError(
            f"{op}: class-index targets must be int64 (or int32), but target is {target.dtype}; "
            "convert it with target.long()"
            + ("" if t.dtype.kind != "f" or op == "nll_loss" else
               f", or give class probabilities of the input's shape {tuple(x.shape)}")
        )
    expected = x.shape[:axis] + x.shape[axis + 1:]
    if t.shape != expected:
        raise ValueError(
            f"{op}: target of shape {tuple(t.shape)} does not fit input of shape "
            f"{tuple(x.shape)}; class-index targets need shape {expected} (the input's shape "
            f"without the class dimension {axis})"
        )
    t = t.astype(np.int64, copy=False)
    n_classes = x.shape[axis]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(
            f"{op}: target value {int(t[bad].flat[0])} is out of bounds for {n_classes} classes "
            f"(expected 0 <= target < {n_classes}, or ignore_index={ignore_index})"
        )
    return t, valid


def _index_weights(t, valid, weight, axis, shape, dtype):
    """The per-class coefficients a[n, c] of l_n = -sum_c a[n, c] x[n, c] for index targets,
    and the mean's divisor: the summed weight of the non-ignored targets."""
    safe = np.where(valid, t, 0)
    w_t = (weight[safe] if weight is not None else np.ones(t.shape, dtype)) * valid
    w_t = w_t.astype(dtype, copy=False)
    coefficients = np.zeros(shape, dtype)
    if len(shape) == 2 and axis == 1:  # (N, C): one indexed write, not put_along_axis's grid
        coefficients[np.arange(shape[0]), safe] = w_t
    else:
        np.put_along_axis(coefficients, np.expand_dims(safe, axis), np.expand_dims(w_t, axis),
                          axis)
    return coefficients, w_t


def _along_class_axis(weight, ndim, axis):
    """A (C,) class weight shaped to broadcast against the input."""
    return weight.reshape((-1,) + (1,) * (ndim - axis - 1))


def _index_coefficients(t, valid, weight, axis, x, label_smoothing):
    """(a, count): the coefficients of l = -sum_c a_c log p_c for class-index targets, with
    label smoothing, and the mean's divisor."""
    n_classes = x.shape[axis]
    coefficients, w_t = _index_weights(t, valid, weight, axis, x.shape, x.dtype)
    count = w_t.sum(dtype=x.dtype)
    if label_smoothing > 0:
        spread = np.ones(n_classes, x.dtype) if weight is None else weight
        spread = _along_class_axis(spread, x.ndim, axis) * np.expand_dims(valid, axis)
        coefficients = (1 - label_smoothing) * coefficients + (
            label_smoothing / n_classes) * spread
    return coefficients, count


def _kernel_backward(ctx, x, grad_out):
    """dx through the cross-entropy kernel (the forward took it), on arrays."""
    with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as the reference
        scale = grad_out / ctx.count if ctx.reduction == "mean" else grad_out
    scale = np.broadcast_to(np.asarray(scale, x.dtype), x.shape[:1])
    return wrap(ctx.kernel.cross_entropy_backward(x, ctx.target_index, ctx.ignore_index,
                                                  ctx.label_smoothing, ctx.lse, scale))


_ARRAY_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _index_backward_arrays(ctx, x, grad):
    """dx = dl * (p sum_c a_c - a) for class-index targets, on arrays (CrossEntropy.backward's
    tensor formula, step for step)."""
    axis, coefficients = ctx.axis, ctx.coefficients
    if ctx.reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as there
            grad = grad / ctx.count
    elif ctx.reduction == "none":
        grad = np.expand_dims(grad, axis)
    exp = np.exp(x - ctx.shift)
    p = exp / exp.sum(axis, keepdims=True)
    return wrap(grad * (p * coefficients.sum(axis, keepdims=True) - coefficients))


class CrossEntropy(Function):
    """log p = log_softmax(x) over the class axis;  l = -sum_c a_c log p_c, where the target
    coefficients are a = w_y [c = y] (1 - eps) + w_c eps / C for a class index y, or
    a = w_c ((1 - eps) y_c + eps / C) for class probabilities y;
    dx = dl * (p sum_c a_c - a),  dy = -dl * (1 - eps) w log p (probabilities only)."""

    @staticmethod
    def forward(ctx, input, target, *, weight, ignore_index, reduction, label_smoothing):
        x = input._data
        axis = _class_axis("cross_entropy", input)
        n_classes = x.shape[axis]
        weight = _class_weight("cross_entropy", weight, n_classes, x.dtype)
        ctx.probabilities = target._data.dtype.kind == "f" and target._data.shape == x.shape
        if ctx.probabilities:
            y = target._data.astype(x.dtype, copy=False)
            coefficients = (1 - label_smoothing) * y + label_smoothing / n_classes
            if weight is not None:
                coefficients = coefficients * _along_class_axis(weight, x.ndim, axis)
            count = x.size // n_classes if n_classes else 0
        else:
            t, valid = _index_target("cross_entropy", input, target, ignore_index, axis)
            fast = kernels.load("loss", x) if weight is None and x.ndim == 2 else None
            ctx.kernel = None
            if fast is not None:  # NOTE: one pass per row; the lines below are its reference
                loss, lse = fast.cross_entropy(x, t, ignore_index, label_smoothing)
                count = valid.sum(dtype=x.dtype)
                ctx.save_for_backward(input, None)
                ctx.kernel, ctx.target_index, ctx.lse = fast, t, lse
                ctx.axis, ctx.reduction, ctx.count = axis, reduction, count
                ctx.weight, ctx.label_smoothing = None, label_smoothing
                ctx.ignore_index = ignore_index
                return _reduce(loss, reduction, count)
            coefficients, count = _index_coefficients(t, valid, weight, axis, x, label_smoothing)
        coefficients = coefficients.astype(x.dtype, copy=False)
        shift = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros_like(x)
        shifted = x - shift
        log_p = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        if ctx.probabilities:
            loss = -np.sum(coefficients * log_p, axis=axis)
        else:  # a class the target gives no weight adds nothing, also at a logit of -inf
            # (a masked one), where 0 * -inf would be nan: PyTorch picks log p of the target
            terms = np.zeros_like(log_p)
            np.multiply(coefficients, log_p, out=terms, where=coefficients != 0)
            loss = -np.sum(terms, axis=axis)
        ctx.save_for_backward(input, target if ctx.probabilities else None)
        ctx.axis, ctx.shift, ctx.reduction, ctx.count = axis, shift, reduction, count
        ctx.weight, ctx.label_smoothing = weight, label_smoothing
        ctx.coefficients = None if ctx.probabilities else coefficients
        return _reduce(loss, reduction, count)

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        if getattr(ctx, "kernel", None) is not None:
            if not grad_mode.is_grad_enabled():
                return _kernel_backward(ctx, x._data, grad_out._data), None
            t = ctx.target_index  # create_graph: the tensor formula below, from the reference's
            ctx.coefficients = _index_coefficients(t, t != ctx.ignore_index, None, axis, x._data,
                                                   ctx.label_smoothing)[0]
            ctx.shift = np.max(x._data, axis=axis, keepdims=True)
        elif (not ctx.probabilities and not grad_mode.is_grad_enabled()
              and x._data.dtype == grad_out._data.dtype and x._data.dtype in _ARRAY_DTYPES):
            # NOTE: not recorded (no create_graph): the formula below on arrays, in the same
            # order, instead of about ten small tensor ops (their overhead dominated a small
            # classifier's step: the demo's, 32 x 10)
            return _index_backward_arrays(ctx, x._data, grad_out._data), None
        scale = _grad_scale(grad_out, ctx.reduction, ctx.count)
        if ctx.reduction == "none":
            scale = scale.unsqueeze(axis)
        weight = None
        if ctx.weight is not None:
            weight = wrap(_along_class_axis(ctx.weight, x._data.ndim, axis))
        if ctx.probabilities:
            # built from the target tensor, so that gradients of this gradient reach it too
            coefficients = (1 - ctx.label_smoothing) * y.to(x.dtype) + (
                ctx.label_smoothing / x._data.shape[axis])
            if weight is not None:
                coefficients = coefficients * weight
        else:
            coefficients = wrap(ctx.coefficients)
        exp = (x - wrap(ctx.shift)).exp()
        total = exp.sum(axis, keepdim=True)
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            p = exp / total
            grad_input = scale * (p * coefficients.sum(axis, keepdim=True) - coefficients)
        if ctx.needs_input_grad[1]:
            log_p = x - wrap(ctx.shift) - total.log()
            grad_target = -scale * (1 - ctx.label_smoothing) * log_p
            if weight is not None:
                grad_target = grad_target * weight
        return grad_input, grad_target


class NllLoss(Function):
    """x = log-probabilities, y = class index;  l = -w_y x_y (0 where y = ignore_index);
    dx = -dl * w_y [c = y]."""

    @staticmethod
    def forward(ctx, input, target, *, weight, ignore_index, reduction):
        x = input._data
        axis = _class_axis("nll_loss", input)
        weight = _class_weight("nll_loss", weight, x.shape[axis], x.dtype)
        t, valid = _index_target("nll_loss", input, target, ignore_index, axis)
        coefficients, w_t = _index_weights(t, valid, weight, axis, x.shape, x.dtype)
        picked = np.take_along_axis(x, np.expand_dims(np.where(valid, t, 0), axis), axis)
        loss = -np.squeeze(picked, axis) * w_t
        count = w_t.sum(dtype=x.dtype)
        ctx.axis, ctx.coefficients, ctx.reduction, ctx.count = axis, coefficients, reduction, count
        return _reduce(loss.astype(x.dtype, copy=False), reduction, count)

    @staticmethod
    def backward(ctx, grad_out):
        scale = _grad_scale(grad_out, ctx.reduction, ctx.count)
        if ctx.reduction == "none":
            scale = scale.unsqueeze(ctx.axis)
        return -scale * wrap(ctx.coefficients), None


# -- public functions (torch.nn.functional signatures) ------------------------------------------
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C, d1, ...) and class indices (N, d1, ...) or
    class probabilities (the input's shape)."""
    reduction = _reduction("cross_entropy", size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    return CrossEntropy.apply(input, as_tensor_arg(target), weight=weight,
                              ignore_index=int(ignore_index), reduction=reduction,
                              label_smoothing=float(label_smoothing))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices under log-probabilities ``input``."""
    reduction = _reduction("nll_loss", size_average, reduce, reduction)
    return NllLoss.apply(input, as_tensor_arg(target), weight=weight,
                         ignore_index=int(ignore_index), reduction=reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy between probabilities ``input`` and ``target``."""
    reduction = _reduction("binary_cross_entropy", size_average, reduce, reduction)
    return BinaryCrossEntropy.apply(input, as_tensor_arg(target), weight=weight,
                                    reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits, computed as log-sigmoid (stable for any logit)."""
    reduction = _reduction("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    return BinaryCrossEntropyWithLogits.apply(input, as_tensor_arg(target), weight=weight,
                                              pos_weight=pos_weight, reduction=reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(target || input) with ``input`` given as log-probabilities."""
    reduction = _reduction("kl_div", size_average, reduce, reduction,
                           allowed=_REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size, which is the KL "
            "divergence's definition", UserWarning, stacklevel=2,
        )
    return KlDiv.apply(input, as_tensor_arg(target), reduction=reduction,
                       log_target=bool(log_target))


# -- registration: nn.functional.X ------------------------------------------------------------
register(cross_entropy, CrossEntropy, top=False, method=False, functional=True)
register(nll_loss, NllLoss, top=False, method=False, functional=True)
register(binary_cross_entropy, BinaryCrossEntropy, top=False, method=False, functional=True)
register(binary_cross_entropy_with_logits, BinaryCrossEntropyWithLogits, top=False,
         method=False, functional=True)
register(kl_div, KlDiv, top=False, method=False, functional=True)
