"""Integrated gradients (Sundararajan, Taly and Yan, 2017).

The attribution of input i is ``(x_i - b_i)`` times the mean of the gradient along the
straight path from the baseline ``b`` to ``x``; the attributions of a sample sum to
``F(x) - F(b)`` (completeness) up to the error of the midpoint rule used for the mean, which
``return_convergence_delta=True`` returns per sample, in float64.

    attributions, delta = integrated_gradients(model, x, target=3, baseline="blur",
                                               return_convergence_delta=True)
"""

import numpy as np

from ..creation import from_numpy
from ._core import explained_outputs, explaining, summed_gradients
from .baselines import baseline_values
from .gradients import setup

__all__ = ["integrated_gradients"]


def integrated_gradients(model, x, target=None, baseline=None, steps=64,
                         return_convergence_delta=False, reference=None, embeddings=None,
                         internal_batch_size=None, generator=None):
    """Integrated gradients of the explained output, shaped like ``x``.

    ``baseline``: "zeros" (the default), "mean" or "random" (both from ``reference``, a batch of
    training inputs), "blur", or an array/tensor (see baselines.py). ``steps`` points of the
    midpoint rule; ``internal_batch_size`` caps the rows of one stacked forward.
    ``embeddings``: the embeddings that read discrete inputs (see sites.py).

    >>> model = chainrule.nn.Linear(3, 1)
    >>> x = chainrule.randn(2, 3)
    >>> w = model.weight.detach().numpy()[0]
    >>> bool(np.allclose(integrated_gradients(model, x, steps=1).numpy(), x.numpy() * w))
    True
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    with explaining(model):
        x, sites, targets, dtype = setup(model, x, target, embeddings)
        base, site_base = baseline_values(baseline, x, sites, reference, generator=generator)
        actual = sites.outputs(x)
        alphas = (np.arange(steps) + 0.5) / steps
        difference = x.astype(np.float64) - base if x.dtype.kind == "f" else None

        def along(values, r):
            return alphas[r].reshape((-1,) + (1,) * (values.ndim - 1))

        def point(r, rows):
            if difference is None:
                return x[rows]
            return (base[rows] + along(difference, r) * difference[rows]).astype(x.dtype)

        def site_point(name, r, rows, output):
            start, end = site_base[name][rows], actual[name][rows]
            return (start + along(end, r) * (end - start)).astype(end.dtype)

        total_input, total_sites = summed_gradients(model, x, targets, sites, steps, point,
                                                    site_point, budget=internal_batch_size)
        inputs = None if difference is None else difference * total_input / steps
        at_sites = {n: (actual[n] - site_base[n]) * g / steps for n, g in total_sites.items()}
        attributions = sites.place(x, inputs, at_sites, np.float64)
        if return_convergence_delta:
            at_input = explained_outputs(model, x, targets)
            at_baseline = explained_outputs(model, base, targets, sites,
                                            lambda name, output: site_base[name])
            sums = attributions.reshape(len(x), -1).sum(axis=1)
            delta = sums - (at_input - at_baseline)
    result = from_numpy(attributions.astype(dtype))
    return (result, from_numpy(delta)) if return_convergence_delta else result
