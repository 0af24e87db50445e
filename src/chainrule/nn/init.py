"""``nn.init``: in-place parameter initialisation, as in ``torch.nn.init``.

Every function fills a tensor in place (outside the graph) and returns it; random ones draw from
chainrule's default generator unless given ``generator=``, so ``chainrule.manual_seed`` makes
them reproducible.

>>> w = chainrule.empty(256, 128)
>>> _ = chainrule.nn.init.kaiming_uniform_(w, nonlinearity="relu")  # U(-b, b), b = sqrt(6/128)
>>> bool(w.abs().max() <= (6 / 128) ** 0.5)
True
"""

import math
import warnings

import numpy as np

from ..kernels.normal import erfc
from ..random import numpy_generator

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "dirac_",
    "sparse_",
]


def _fill(tensor, values):
    """Write ``values`` into the tensor's memory (no graph), bumping its version."""
    tensor._data[...] = values
    tensor._bump_version()
    return tensor


def _sample_dtype(tensor):
    dtype = tensor._data.dtype
    return dtype if dtype in (np.float32, np.float64) else np.float64


def _uniform(tensor, low, high, generator):
    u = numpy_generator(generator).random(tensor._data.shape, dtype=_sample_dtype(tensor))
    return low + (high - low) * u


def _normal(tensor, mean, std, generator, shape=None):
    shape = tensor._data.shape if shape is None else shape
    z = numpy_generator(generator).standard_normal(shape, dtype=_sample_dtype(tensor))
    return mean + std * z


def calculate_gain(nonlinearity, param=None):
    """The recommended scale of the weights for a nonlinearity (``relu`` -> sqrt(2))."""
    linear_like = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                   "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear_like:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: (in, out) times the receptive field size (conv)."""
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples from U(a, b)."""
    return _fill(tensor, _uniform(tensor, a, b, generator))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples from N(mean, std^2)."""
    return _fill(tensor, _normal(tensor, mean, std, generator))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) samples conditioned on lying in [a, b] (absolute bounds).

    Samples outside are redrawn until none is left, which needs [a, b] to hold a reasonable
    share of the distribution; less than 1e-6 of it is refused with a ValueError."""
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    low, high = (a - mean) / std, (b - mean) / std
    mass = 0.5 * (erfc(np.float64(-high / math.sqrt(2))) - erfc(np.float64(-low / math.sqrt(2))))
    if mass < 1e-6:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds only {mass:.3g} of N({mean}, {std}^2); "
            "choose bounds nearer the mean"
        )
    values = _normal(tensor, mean, std, generator)
    flat = values.reshape(-1)
    outside = np.flatnonzero((flat < a) | (flat > b))
    while outside.size:
        redraw = _normal(tensor, mean, std, generator, shape=outside.shape)
        flat[outside] = redraw
        outside = outside[(redraw < a) | (redraw > b)]
    return _fill(tensor, values)


def constant_(tensor, val):
    """Fill with the value ``val``."""
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1)


def zeros_(tensor):
    return _fill(tensor, 0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor._data.shape, dtype=tensor._data.dtype))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _uniform(tensor, -bound, bound, generator))


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _normal(tensor, 0.0, std, generator))


def _kaiming_std(tensor, a, mode, nonlinearity):
    if 0 in tensor.shape:
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al.); ``a`` is the leaky-ReLU
    slope used in the gain."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor  # an empty tensor has nothing to fill
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _uniform(tensor, -bound, bound, generator))


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2), std = gain / sqrt(fan) (He et al.)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return _fill(tensor, _normal(tensor, 0.0, std, generator))


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix (rows x everything else), times ``gain``
    (Saxe et al.): the Q of a QR decomposition of a Gaussian matrix, signs fixed so that it
    is uniformly distributed."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = numpy_generator(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor._data.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: each of the first
    ``out_channels // groups`` filters of a group passes one input channel through unchanged."""
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    shape = tensor._data.shape
    if shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = shape[0] // groups
    values = np.zeros(shape, dtype=tensor._data.dtype)
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor drawn from N(0, std^2) with a fraction ``sparsity`` of each column's
    entries set to zero (Martens, 2010)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor._data.shape
    zeros_per_column = int(math.ceil(sparsity * rows))
    values = _normal(tensor, 0.0, std, generator)
    rng = numpy_generator(generator)
    for col in range(cols):
        values[rng.permutation(rows)[:zeros_per_column], col] = 0
    return _fill(tensor, values)


def _deprecated(new):
    """PyTorch's old names without the trailing underscore (``nn.init.xavier_uniform``), still
    in older tutorials: they warn as PyTorch's do and call the in-place function."""
    old = new.__name__[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old
    deprecated_init.__doc__ = f"Deprecated alias of :func:`{new.__name__}`."
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)


def _layer_default_(weight, bias):
    """PyTorch's default for Linear and convolutions: kaiming_uniform_(a=sqrt(5)), which is
    uniform(+-1/sqrt(fan_in)) for the weight, and the bias from the same range."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
