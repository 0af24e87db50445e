"""``Distribution``: the base class (batch and event shapes, argument checks, sampling API)."""

from .. import creation
from ..autograd.grad_mode import no_grad
from ..tensor import Size


class Distribution:
    """Base class: subclasses define ``rsample`` or ``sample``, ``log_prob`` and ``entropy``."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        """A draw without gradient (``rsample`` under no_grad where there is one)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(
            f"{type(self).__name__} has no reparameterised sample (rsample); use sample()"
        )

    def sample_n(self, n):
        return self.sample(Size((n,)))

    def perplexity(self):
        return self.entropy().exp()

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _zeros(self, shape, like):
        return creation.zeros(tuple(shape), dtype=like.dtype)

    def __repr__(self):
        return f"{type(self).__name__}()"
