"""``kl_divergence(p, q)`` for the pairs with a closed form, and ``register_kl`` for more."""

import math

from .simple import Bernoulli, Categorical, Independent, Normal, Uniform

_KL = {}


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(P, Q)`` on ``def kl(p, q)`` adds a closed form."""
    def decorator(function):
        _KL[(type_p, type_q)] = function
        return function

    return decorator


def kl_divergence(p, q):
    """KL(p || q)."""
    for (type_p, type_q), function in _KL.items():
        if isinstance(p, type_p) and isinstance(q, type_q):
            return function(p, q)
    raise NotImplementedError(
        f"no KL divergence is known for {type(p).__name__} and {type(q).__name__}; "
        "register one with @register_kl"
    )


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = t.masked_fill(q.probs == 0, math.inf).masked_fill(p.probs == 0, 0.0)
    return t.sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (p.logits.sigmoid().log() - q.logits.sigmoid().log())
    t2 = (1 - p.probs) * ((-p.logits).sigmoid().log() - (-q.logits).sigmoid().log())
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low > p.low) | (q.high < p.high)
    return result.masked_fill(outside, math.inf)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independents with different event dims")
    return p._sum_rightmost(kl_divergence(p.base_dist, q.base_dist))
