"""Normal, Uniform, Bernoulli, Categorical and Independent, with PyTorch's parameters and
formulas."""

import math

import numpy as np

from .. import creation
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..ops import elementwise as E
from ..random import numpy_generator
from ..tensor import Tensor
from .distribution import Distribution


def _as_tensor(value, like=None):
    if isinstance(value, Tensor):
        return value
    dtype = like.dtype if isinstance(like, Tensor) and like.is_floating_point() else None
    return creation.tensor(float(value), dtype=dtype)


def _broadcast(*values):
    tensors = [_as_tensor(v, next((t for t in values if isinstance(t, Tensor)), None))
               for v in values]
    shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return [t.expand(*shape) for t in tensors]


def _draw(shape, dtype, draw):
    """NumPy draws from chainrule's default generator (seeded by manual_seed)."""
    values = draw(numpy_generator(None), tuple(shape))
    return Tensor._from_array(np.asarray(values, dtype=np.dtype(dtype.numpy)))


class Normal(Distribution):
    """``Normal(loc, scale)``."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast(loc, scale)
        super().__init__(self.loc.shape)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self.scale * self.scale

    @property
    def stddev(self):
        return self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _draw(shape, self.loc.dtype, lambda rng, s: rng.standard_normal(s))
        return self.loc + eps * self.scale

    def log_prob(self, value):
        var = self.scale * self.scale
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(
            math.sqrt(2 * math.pi))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value):
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)


class Uniform(Distribution):
    """``Uniform(low, high)``: the half-open interval [low, high)."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _broadcast(low, high)
        super().__init__(self.low.shape)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = _draw(shape, self.low.dtype, lambda rng, s: rng.random(s))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        inside = (value >= self.low) & (value < self.high)
        density = -(self.high - self.low).log()
        return E.where(inside, density, -math.inf)

    def entropy(self):
        return (self.high - self.low).log()

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)


def _logits_and_probs(probs, logits, binary):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    if logits is not None:
        logits = _as_tensor(logits)
        if binary:
            return logits, logits.sigmoid()
        logits = logits - logits.logsumexp(-1, keepdim=True)
        return logits, logits.exp()
    probs = _as_tensor(probs)
    if binary:
        clamped = probs.clamp(1e-7, 1 - 1e-7)
        return clamped.log() - (1 - clamped).log(), probs
    probs = probs / probs.sum(-1, keepdim=True)
    return probs.clamp(min=np.finfo(np.dtype(probs.dtype.numpy)).tiny).log(), probs


class Bernoulli(Distribution):
    """``Bernoulli(probs=None, logits=None)``: 1 with probability ``probs``."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        self.logits, self.probs = _logits_and_probs(probs, logits, binary=True)
        super().__init__(self.probs.shape)

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            u = _draw(shape, self.probs.dtype, lambda rng, s: rng.random(s))
            return (u < self.probs.expand(*shape)).to(self.probs.dtype)

    def log_prob(self, value):
        return -F.binary_cross_entropy_with_logits(self.logits, value.to(self.logits.dtype),
                                                   reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Categorical(Distribution):
    """``Categorical(probs=None, logits=None)`` over the last dim's categories."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        self.logits, self.probs = _logits_and_probs(probs, logits, binary=False)
        self._num_events = self.probs.shape[-1]
        super().__init__(self.probs.shape[:-1])

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self):
        return creation.full(tuple(self.batch_shape), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        shape = tuple(sample_shape) + tuple(self.batch_shape)
        probs = self.probs.detach().numpy().astype(np.float64)
        flat = probs.reshape(-1, self._num_events)
        rng = numpy_generator(None)
        count = int(np.prod(tuple(sample_shape), dtype=np.int64))
        cumulative = np.cumsum(flat, -1)
        cumulative /= cumulative[:, -1:]
        u = rng.random((count, flat.shape[0], 1))
        draws = (u > cumulative[None]).sum(-1)  # inverse CDF per row
        return Tensor._from_array(np.minimum(draws, self._num_events - 1).reshape(shape)
                                  .astype(np.int64))

    def log_prob(self, value):
        value = value.long().unsqueeze(-1)
        logits = self.logits
        shape = np.broadcast_shapes(tuple(value.shape[:-1]), tuple(logits.shape[:-1]))
        logits = logits.expand(*shape, self._num_events)
        value = value.expand(*shape, 1)
        return logits.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = float(np.finfo(np.dtype(self.logits.dtype.numpy)).min)
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = creation.arange(self._num_events).reshape(
            (-1,) + (1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values


class Independent(Distribution):
    """Treat the last ``reinterpreted_batch_ndims`` batch dims of ``base_distribution`` as
    event dims (log_prob and entropy sum over them)."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        split = len(base_distribution.batch_shape) - reinterpreted_batch_ndims
        super().__init__(shape[:split], shape[split:])
        self.has_rsample = base_distribution.has_rsample

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def _sum_rightmost(self, value):
        dims = tuple(range(-self.reinterpreted_batch_ndims, 0))
        return value.sum(dims) if dims else value

    def log_prob(self, value):
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_rightmost(self.base_dist.entropy())
