"""Normalisation as fused ops: statistics and output in one pass over arrays.

Layer, group and batch norm share one derivative. With x^ = (x - mean) * r, r = 1/sqrt(var + eps)
over the normalised axes (n elements) and g = dy * weight:
    dx = r * (g - mean(g) - x^ * mean(g * x^)),  dweight = sum(dy * x^),  dbias = sum(dy).
Backward recomputes mean and r with differentiable ops, so gradients of gradients are exact."""

import numpy as np

from .. import kernels
from ..autograd import grad_mode
from ..autograd.function import Function
from ._operands import normalize_dim, wrap
from .registry import register


def _standardize(x, axes, eps):
    """(x^, r, mean) on arrays: x standardised over ``axes``, the reciprocal std (biased var)
    and the mean."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(var + x.dtype.type(eps))
    centered *= rstd
    return centered, rstd, mean


def _standardize_tensor(x, axes, eps):
    """The same as ``_standardize`` with differentiable tensor ops (for backward)."""
    centered = x - x.mean(axes, keepdim=True)
    rstd = ((centered * centered).mean(axes, keepdim=True) + eps).rsqrt()
    return centered * rstd, rstd


def _standardize_backward(g, x_hat, rstd, axes):
    """dx of x^ = standardize(x) for the incoming gradient g (see the module docstring)."""
    return rstd * (g - g.mean(axes, keepdim=True) - x_hat * (g * x_hat).mean(axes, keepdim=True))


def _affine(y, weight, bias):
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


class LayerNorm(Function):
    """y = x^ * w + b, x^ standardised over the last len(normalized_shape) axes;
    dx = r (g - mean(g) - x^ mean(g x^)) with g = dy w,  dw = sum(dy x^),  db = sum(dy)."""

    _transient = ("mean", "rstd")

    @staticmethod
    def forward(ctx, input, weight, bias, *, normalized_shape, eps):
        x = input._data
        axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
        ctx.save_for_backward(input, weight)
        ctx.axes, ctx.eps = axes, eps
        affine = [a for a in (_array(weight), _array(bias)) if a is not None]
        fast = kernels.load("norm", x, *affine)
        if fast is not None:  # NOTE: one pass per row; the NumPy lines below are its reference
            y, mean, rstd = fast.layer_norm(x, _array(weight), _array(bias), eps,
                                            _columns(x, axes))
            kept = x.shape[:x.ndim - len(axes)] + (1,) * len(axes)
            mean, rstd = mean.reshape(kept), rstd.reshape(kept)
        else:
            x_hat, rstd, mean = _standardize(x, axes, eps)
            y = _affine(x_hat, _array(weight), _array(bias))
        if True in ctx.needs_input_grad:  # small (one value per row): keep for backward
            ctx.mean, ctx.rstd = mean, rstd
        return wrap(y)

    @staticmethod
    def backward(ctx, grad_out):
        input, weight = ctx.saved_tensors
        if not grad_mode.is_grad_enabled():
            # NOTE: without create_graph, compute on arrays from forward's mean and 1/std (a
            # few passes instead of re-standardising with tensor ops); under create_graph the
            # tensor path below recomputes them differentiably.
            return _layer_norm_backward_arrays(ctx, input._data, _array(weight), grad_out._data)
        x_hat, rstd = _standardize_tensor(input, ctx.axes, ctx.eps)
        grad_input = None
        if ctx.needs_input_grad[0]:
            g = grad_out * weight if weight is not None else grad_out
            grad_input = _standardize_backward(g, x_hat, rstd, ctx.axes)
        grad_weight = grad_out * x_hat if ctx.needs_input_grad[1] else None
        return grad_input, grad_weight, grad_out if ctx.needs_input_grad[2] else None


def _columns(x, axes):
    """The number of elements each layer-norm row normalises."""
    return int(np.prod([x.shape[a] for a in axes]))


def _layer_norm_backward_arrays(ctx, x, w, dy):
    axes = ctx.axes
    fast = kernels.load("norm", x, dy, *([w] if w is not None else []))
    if fast is not None:  # NOTE: one pass per row; the NumPy lines below are its reference
        grads = fast.layer_norm_backward(x, w, dy, ctx.mean, ctx.rstd, _columns(x, axes),
                                         ctx.needs_input_grad)
        normalized = x.shape[x.ndim - len(axes):]
        # (reshaped only where needed: a view would be copied again as a leaf's .grad)
        return tuple(None if g is None else wrap(g if g.shape == shape else g.reshape(shape))
                     for g, shape in zip(grads, (x.shape, normalized, normalized)))
    x_hat = x - ctx.mean
    x_hat *= ctx.rstd
    leading = tuple(range(x.ndim - len(axes)))
    needs_x, needs_w, needs_b = ctx.needs_input_grad
    grad_input = grad_weight = grad_bias = None
    if needs_x:
        g = dy * w if w is not None else dy
        inner = (g * x_hat).mean(axis=axes, keepdims=True)
        grad = g - g.mean(axis=axes, keepdims=True)
        x_hat_inner = x_hat * inner
        grad -= x_hat_inner
        grad *= ctx.rstd
        grad_input = wrap(grad)
    if needs_w:
        grad_weight = wrap(np.sum(dy * x_hat, axis=leading))
    if needs_b:
        grad_bias = wrap(np.sum(dy, axis=leading))
    return grad_input, grad_weight, grad_bias


def _array(tensor):
    return None if tensor is None else tensor._data


def _channel_shape(ndim):
    """Shape of a per-channel (C,) vector broadcast against an (N, C, ...) input."""
    return (-1,) + (1,) * (ndim - 2)


def _channel_grads(ctx, grad_out, x_hat, axes):
    """dweight, dbias of a per-channel affine transform, reduced to shape (C,)."""
    grad_weight = (grad_out * x_hat).sum(axes) if ctx.needs_input_grad[1] else None
    grad_bias = grad_out.sum(axes) if ctx.needs_input_grad[2] else None
    return grad_weight, grad_bias


class GroupNorm(Function):
    """x (N, C, *) split into G groups of C/G channels, each standardised;  y = x^ * w_c + b_c;
    dx as layer norm within each group with g = dy w,  dw = sum(dy x^),  db = sum(dy)."""

    @staticmethod
    def forward(ctx, input, weight, bias, *, num_groups, eps):
        x = input._data
        grouped = x.reshape(x.shape[0], num_groups, -1)
        x_hat = _standardize(grouped, (2,), eps)[0].reshape(x.shape)
        shape = _channel_shape(x.ndim)
        weight_b = None if weight is None else weight._data.reshape(shape)
        bias_b = None if bias is None else bias._data.reshape(shape)
        ctx.save_for_backward(input, weight)
        ctx.num_groups, ctx.eps = num_groups, eps
        return wrap(_affine(x_hat, weight_b, bias_b))

    @staticmethod
    def backward(ctx, grad_out):
        input, weight = ctx.saved_tensors
        shape = input.shape
        grouped = input.reshape(shape[0], ctx.num_groups, -1)
        x_hat, rstd = _standardize_tensor(grouped, (2,), ctx.eps)
        grad_input = None
        if ctx.needs_input_grad[0]:
            g = grad_out
            if weight is not None:
                g = g * weight.reshape(_channel_shape(len(shape)))
            g = g.reshape(grouped.shape)
            grad_input = _standardize_backward(g, x_hat, rstd, (2,)).reshape(shape)
        axes = (0,) + tuple(range(2, len(shape)))
        return (grad_input, *_channel_grads(ctx, grad_out, x_hat.reshape(shape), axes))


class RmsNorm(Function):
    """y = x r w, r = 1/sqrt(mean(x^2) + eps) over the normalised axes;
    dx = r (g - x r^2 mean(g x)) with g = dy w,  dw = sum(dy x r)."""

    @staticmethod
    def forward(ctx, input, weight, *, normalized_shape, eps):
        x = input._data
        axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
        rstd = 1 / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + x.dtype.type(eps))
        ctx.save_for_backward(input, weight)
        ctx.axes, ctx.eps = axes, eps
        return wrap(_affine(x * rstd, _array(weight), None))

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        rstd = ((x * x).mean(ctx.axes, keepdim=True) + ctx.eps).rsqrt()
        grad_input = grad_weight = None
        if ctx.needs_input_grad[0]:
            g = grad_out * weight if weight is not None else grad_out
            grad_input = rstd * (g - x * rstd * rstd * (g * x).mean(ctx.axes, keepdim=True))
        if ctx.needs_input_grad[1]:
            grad_weight = grad_out * x * rstd
        return grad_input, grad_weight


class BatchNorm(Function):
    """Training: x^ standardised per channel over (N, *) with batch statistics, y = x^ w + b;
    dx = r (g - mean(g) - x^ mean(g x^)) with g = dy w,  dw = sum(dy x^),  db = sum(dy).
    Evaluation: x^ = (x - running_mean) r with r = 1/sqrt(running_var + eps) constant;
    dx = dy w r."""

    @staticmethod
    def forward(ctx, input, weight, bias, *, running_mean, running_var, training, momentum,
                eps):
        x = input._data
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x.ndim)
        if training:
            mean, x_hat, var = _batch_moments(x, axes)
            if running_mean is not None or running_var is not None:
                _update_running_stats(mean, var, x.size // x.shape[1], running_mean,
                                      running_var, momentum)
            rstd = 1 / np.sqrt(var + x.dtype.type(eps))
            x_hat *= rstd
        else:
            mean = running_mean._data.reshape(shape).astype(x.dtype, copy=False)
            var = running_var._data.reshape(shape).astype(x.dtype, copy=False)
            rstd = 1 / np.sqrt(var + x.dtype.type(eps))
            x_hat = (x - mean) * rstd
            ctx.mean, ctx.rstd = mean, rstd
        weight_b = None if weight is None else weight._data.reshape(shape)
        bias_b = None if bias is None else bias._data.reshape(shape)
        ctx.save_for_backward(input, weight)
        ctx.training, ctx.axes, ctx.eps = training, axes, eps
        return wrap(_affine(x_hat, weight_b, bias_b))

    @staticmethod
    def backward(ctx, grad_out):
        input, weight = ctx.saved_tensors
        ndim = input.ndim
        if ctx.training:
            x_hat, rstd = _standardize_tensor(input, ctx.axes, ctx.eps)
        else:
            # running statistics are constants: x^ is affine in x
            rstd = wrap(ctx.rstd)
            x_hat = (input - wrap(ctx.mean)) * rstd
        grad_input = None
        if ctx.needs_input_grad[0]:
            g = grad_out if weight is None else grad_out * weight.reshape(_channel_shape(ndim))
            if ctx.training:
                grad_input = _standardize_backward(g, x_hat, rstd, ctx.axes)
            else:
                grad_input = g * rstd
        return (grad_input, *_channel_grads(ctx, grad_out, x_hat, ctx.axes))


def _batch_moments(x, axes):
    """(mean, x - mean, biased var) per channel, over ``axes``. A float32 mean of a constant
    channel (a filter of zeros, a padding feature) is off by a rounding residue whose size
    depends on the values' bits, so its variance came out 0 for some and ~1e-16 for others:
    with eps=0 one seed's model made nan (0/0) and the next amplified rounding noise to unit
    size (a gradient of 1e7 into the layer before). PyTorch's CPU kernel accumulates in double
    and gets exactly 0 for every constant channel; the channels whose variance is within the
    float mean's worst rounding error (n * u * |mean|, squared) are recomputed so here."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    n = x.size // x.shape[1]
    bound = n * np.finfo(x.dtype).eps * np.abs(mean)
    # (0 is exact already: every value equals the mean)
    near = np.flatnonzero(((var > 0) & (var <= bound * bound)).ravel())
    if near.size:
        part = x[:, near]
        exact = part.mean(axis=axes, keepdims=True, dtype=np.float64).astype(x.dtype)
        residual = part - exact
        mean[:, near] = exact
        centered[:, near] = residual
        var[:, near] = np.mean(residual * residual, axis=axes, keepdims=True)
    return mean, centered, var


def _update_running_stats(mean, var, n, running_mean, running_var, momentum):
    """running = (1 - momentum) running + momentum * batch statistic, in place, from the
    batch's ``mean`` and biased ``var`` over ``n`` values per channel; the variance kept is the
    unbiased one (n - 1 in the denominator), as in PyTorch."""
    mean, var = mean.reshape(-1), var.reshape(-1)
    if running_mean is not None:
        running_mean._data *= 1 - momentum
        running_mean._data += momentum * mean.astype(running_mean._data.dtype, copy=False)
        running_mean._bump_version()
    if running_var is not None:
        unbiased = var * (n / max(n - 1, 1))
        running_var._data *= 1 - momentum
        running_var._data += momentum * unbiased.astype(running_var._data.dtype, copy=False)
        running_var._bump_version()


class Normalize(Function):
    """y = x / max(||x||_p, eps) along ``dim``;  with n = ||x||_p:
    dx = dy / max(n, eps) - [n > eps] sign(x) |x|^(p-1) sum(dy x) / n^(p+1)."""

    @staticmethod
    def forward(ctx, input, *, p, dim, eps):
        x = input._data
        norm = _p_norm(np.abs(x), p, dim)
        ctx.save_for_backward(input)
        ctx.p, ctx.dim, ctx.eps = p, dim, eps
        return wrap(x / np.maximum(norm, x.dtype.type(eps)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        p, dim, eps = ctx.p, ctx.dim, ctx.eps
        if p == 2:
            norm = (x * x).sum(dim, keepdim=True).sqrt()
            direction = x
        else:
            norm = (x.abs() ** p).sum(dim, keepdim=True) ** (1 / p)
            direction = x.sign() * x.abs() ** (p - 1) if p != 1 else x.sign()
        above = norm > eps
        safe_norm = norm.where(above, norm.new_ones(()))
        radial = direction * (grad_out * x).sum(dim, keepdim=True) / safe_norm ** (p + 1)
        return grad_out / norm.clamp(min=eps) - radial * above


def _p_norm(abs_x, p, dim):
    if p == 2:
        return np.sqrt(np.sum(abs_x * abs_x, axis=dim, keepdims=True))
    if p == 1:
        return np.sum(abs_x, axis=dim, keepdims=True)
    return np.sum(abs_x**p, axis=dim, keepdims=True) ** (1 / p)


# -- public functions (torch.nn.functional signatures) ------------------------------------------
def _shape_tuple(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _check_normalized_shape(op, input, normalized_shape, weight, bias):
    shape = _shape_tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} does not end with normalized_shape "
            f"{shape}; the last {len(shape)} dimension(s) of the input must equal it"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != shape:
            raise RuntimeError(
                f"{op}: {name} has shape {tuple(tensor.shape)}, but normalized_shape is {shape}"
            )
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Standardise over the last dimensions (``normalized_shape``), then scale and shift."""
    shape = _check_normalized_shape("layer_norm", input, normalized_shape, weight, bias)
    return LayerNorm.apply(input, weight, bias, normalized_shape=shape, eps=float(eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Standardise each group of ``C / num_groups`` channels, then scale and shift per channel."""
    if input.ndim < 2:
        raise RuntimeError(
            f"group_norm: expected an input of shape (N, C, *), got shape {tuple(input.shape)}"
        )
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(
            f"group_norm: the number of channels {channels} must be divisible by num_groups "
            f"{num_groups}"
        )
    _check_channel_vectors("group_norm", channels, weight=weight, bias=bias)
    return GroupNorm.apply(input, weight, bias, num_groups=int(num_groups), eps=float(eps))


def _check_channel_vectors(op, channels, **vectors):
    for name, tensor in vectors.items():
        if tensor is not None and tuple(tensor.shape) != (channels,):
            raise RuntimeError(
                f"{op}: {name} must have shape ({channels},), one entry per channel, but has "
                f"shape {tuple(tensor.shape)}"
            )


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Divide by the root mean square over the last dimensions, then scale."""
    shape = _check_normalized_shape("rms_norm", input, normalized_shape, weight, None)
    if eps is None:
        dtype = input._data.dtype if input.is_floating_point() else np.float32
        eps = float(np.finfo(dtype).eps)  # PyTorch's default: the dtype's machine epsilon
    return RmsNorm.apply(input, weight, normalized_shape=shape, eps=float(eps))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Standardise each channel of (N, C, *) with batch statistics (training, which also updates
    the running statistics in place) or the running statistics (evaluation)."""
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input of shape (N, C, *), got shape {tuple(input.shape)}"
        )
    channels = input.shape[1]
    _check_channel_vectors("batch_norm", channels, weight=weight, bias=bias,
                           running_mean=running_mean, running_var=running_var)
    if training:
        if input.numel() // channels <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {tuple(input.shape)}"
            )
    elif running_mean is None or running_var is None:
        raise RuntimeError(
            "batch_norm: running_mean and running_var are needed in evaluation mode "
            "(training=False); pass them, or use training=True for batch statistics"
        )
    return BatchNorm.apply(input, weight, bias, running_mean=running_mean,
                           running_var=running_var, training=bool(training),
                           momentum=float(momentum), eps=float(eps))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    if not (np.isfinite(p) and p > 0):
        raise ValueError(f"normalize: p must be a positive finite number, got {p}")
    dim = normalize_dim(dim, input.ndim, "normalize")
    result = Normalize.apply(input, p=float(p), dim=dim, eps=float(eps))
    return result if out is None else out.copy_(result.detach())


# -- registration: nn.functional.X ------------------------------------------------------------
register(layer_norm, LayerNorm, top=False, method=False, functional=True)
register(group_norm, GroupNorm, top=False, method=False, functional=True)
register(rms_norm, RmsNorm, top=False, method=False, functional=True)
register(batch_norm, BatchNorm, top=False, method=False, functional=True)
register(normalize, Normalize, top=False, method=False, functional=True)
