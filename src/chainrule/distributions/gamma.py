"""``Gamma(concentration, rate)``, with reparameterised samples: a standard-gamma draw is
differentiated through its CDF (implicit reparameterisation, d x / d alpha =
-(dF/d alpha) / f(x)), with PyTorch's approximation of that derivative (a series for small x,
Rice's saddle-point expansion for large alpha, a rational fit between), so gradients of
``rsample`` agree with PyTorch's for the same draw."""

from numbers import Number

import numpy as np

from ..autograd.function import Function
from ..ops.arithmetic import xlogy
from ..ops.incomplete_gamma import igamma
from ..ops.math import digamma, lgamma
from ..random import numpy_generator
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Gamma", "standard_gamma"]

# PyTorch's bivariate rational fit of log(dx/dalpha) in u = log(x / alpha), v = log(alpha)
_COEF_UV = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07]])


def standard_gamma_grad(alpha, x):
    """d x / d alpha for x ~ Gamma(alpha, 1), as arrays (float64 inside)."""
    alpha, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    out = np.empty(alpha.shape)
    small = x < 0.8
    large = ~small & (alpha > 8.0)
    middle = ~small & ~large
    with np.errstate(all="ignore"):
        out[small] = _small_x(alpha[small], x[small])
        out[large] = _large_alpha(alpha[large], x[large])
        out[middle] = _rational(alpha[middle], x[middle])
    return out


def _small_x(a, x):
    """A Taylor series of the CDF and of its alpha-derivative in x."""
    numer, denom = np.ones_like(x), a.copy()
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = x ** a
    pdf = x ** (a - 1) * np.exp(-x)
    cdf = pow_x_alpha * series1
    psi = digamma(Tensor._from_array(a)).numpy() if a.size else a
    cdf_alpha = (np.log(x) - psi) * cdf - pow_x_alpha * series2
    result = -cdf_alpha / pdf
    return np.where(np.isnan(result), 0.0, result)


def _large_alpha(a, x):
    """Rice's saddle-point expansion."""
    near = (0.9 * a <= x) & (x <= 1.1 * a)
    numer_1 = 1 + 24 * a * (1 + 12 * a)
    numer_2 = (1440 * (a * a) + 6 * x * (53 - 120 * x) - 65 * x * x / a
               + a * (107 + 3600 * x))
    saddle = numer_1 * numer_2 / (1244160 * (a * a) * (a * a))
    denom = np.sqrt(8 * a)
    term2 = denom / (a - x)
    term3 = (x - a - a * np.log(x / a)) ** -1.5
    term23 = np.where(x < a, term2 - term3, term2 + term3)
    term1 = np.log(x / a) * term23 - np.sqrt(2 / a) * (a + x) / ((a - x) * (a - x))
    stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
    return np.where(near, saddle, -stirling * (x * term1) / denom)


def _rational(a, x):
    u, v = np.log(x / a), np.log(a)
    c = _COEF_UV[0][:, None] + u * (_COEF_UV[1][:, None] + u * _COEF_UV[2][:, None])
    p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
    q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
    return np.exp(p / q)


class StandardGamma(Function):
    """x ~ Gamma(alpha, 1), drawn from the default generator; d alpha = dx * dx/dalpha."""

    @staticmethod
    def forward(ctx, alpha):
        data = alpha._data
        draw = numpy_generator().standard_gamma(data.astype(np.float64))
        draw = np.maximum(draw, np.finfo(data.dtype).tiny).astype(data.dtype)
        x = Tensor._from_array(np.asarray(draw))
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad_out):
        alpha, x = ctx.saved_tensors
        slope = standard_gamma_grad(alpha._data, x._data).astype(alpha._data.dtype)
        return grad_out * Tensor._from_array(slope)


def standard_gamma(alpha):
    """Draws of Gamma(alpha, 1), one per entry, differentiable in ``alpha``."""
    return StandardGamma.apply(alpha)


class Gamma(Distribution):
    """p(x) = rate^a x^(a-1) e^(-rate x) / Gamma(a)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, Number) and isinstance(rate, Number)
        super().__init__(Size() if scalar else self.concentration.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Gamma, batch_shape, ("concentration", "rate"), _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    @property
    def stddev(self):
        return self.variance.sqrt()

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        return (self.concentration - self.rate.log() + lgamma(self.concentration)
                + (1.0 - self.concentration) * digamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return igamma(self.concentration, self.rate * value)
