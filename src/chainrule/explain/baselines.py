"""Baselines for integrated gradients: the input that stands for "no information", from which
the path to the real input starts (Sturmfels, Lundberg and Lee, "Visualizing the Impact of
Feature Attribution Baselines", Distill 2020).

======== ================================================ ==================================
name     input values                                     embedding sites (see sites.py)
======== ================================================ ==================================
zeros    0 (for standardised data: the training average)  the zero vector
mean     the mean of ``reference`` (training inputs)      their mean output on ``reference``
blur     the input under a Gaussian blur of its spatial   the zero vector (codes have no
         dims (images: H, W; series (N, L): L)            neighbourhood to blur over)
random   uniform in each feature's range over             the embedding of random codes
         ``reference`` (or the input's overall range)
======== ================================================ ==================================

An array or tensor is a baseline too: input values as given, and each site's output when the
model reads the baseline's codes. Codes that a site reads keep the input's own value on the
path (only the site's output moves).
"""

import numpy as np

from ..autograd import no_grad
from ..creation import from_numpy
from ..random import numpy_generator
from ._core import array_of

NAMES = ("zeros", "mean", "blur", "random")


def baseline_values(baseline, x, sites, reference=None, sigma=None, generator=None):
    """(input baseline like ``x``, {site: baseline output}) for ``baseline`` (a name above, or
    an array/tensor; None means zeros). ``x`` is an ndarray."""
    if baseline is None:
        baseline = "zeros"
    if isinstance(baseline, str):
        if baseline not in NAMES:
            raise ValueError(f"unknown baseline {baseline!r}; choose one of: {', '.join(NAMES)}, "
                             "or pass an array")
        rng = numpy_generator(generator)
        reference = None if reference is None else array_of(reference)
        if baseline == "mean" and reference is None:
            raise ValueError("baseline 'mean' needs reference=: a sample of training inputs "
                             "(its mean is the baseline)")
        inputs = _input_baseline(baseline, x, reference, sigma, rng)
        site_outputs = _site_baselines(baseline, x, sites, reference, rng)
    else:
        inputs = np.broadcast_to(array_of(baseline), x.shape).astype(x.dtype)
        site_outputs = sites.outputs(inputs)
    fixed = sites.fixed_mask(x)
    inputs = np.where(fixed, x, inputs).astype(x.dtype)
    return inputs, site_outputs


def _input_baseline(name, x, reference, sigma, rng):
    if x.dtype.kind != "f":
        return x  # integer inputs are codes: their baseline lives at the sites
    if name == "zeros":
        return np.zeros_like(x)
    if name == "mean":
        return np.broadcast_to(reference.mean(axis=0), x.shape).astype(x.dtype)
    if name == "blur":
        return blur(x, sigma)
    if reference is not None:
        low, high = reference.min(axis=0), reference.max(axis=0)
    else:
        low, high = x.min(), x.max()
    return rng.uniform(low, high, size=x.shape).astype(x.dtype)


def _site_baselines(name, x, sites, reference, rng):
    if not sites:
        return {}
    actual = sites.outputs(x)
    if name == "mean":
        found = sites.outputs(reference)
        return {n: np.broadcast_to(found[n].mean(axis=0), actual[n].shape) for n in sites.names}
    if name == "random":
        found = {}
        for n, module in sites.modules.items():
            codes = rng.integers(0, module.num_embeddings, size=actual[n].shape[:-1])
            with no_grad():
                found[n] = array_of(module(from_numpy(codes)))
        return found
    return {n: np.zeros_like(actual[n]) for n in sites.names}


def blur(x, sigma=None):
    """``x`` under a Gaussian blur of its spatial dimensions (the last two of 4-D inputs, the
    last of 2-D and 3-D ones), reflecting at the borders; ``sigma`` in samples, by default a
    quarter of the largest spatial size, which leaves shapes but no detail."""
    x = np.asarray(x, dtype=np.float64)
    axes = range(2, x.ndim) if x.ndim >= 4 else [x.ndim - 1]
    sigma = sigma or max(x.shape[a] for a in axes) / 4
    for axis in axes:
        x = _blur_axis(x, axis, sigma)
    return x


def _blur_axis(x, axis, sigma):
    radius = max(1, int(np.ceil(3 * sigma)))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    size = x.shape[axis]
    # reflect ("symmetric") padding, repeated for kernels wider than the axis
    positions = np.arange(size)[:, None] + offsets[None, :]
    period = 2 * size
    positions = np.mod(positions, period)
    positions = np.where(positions >= size, period - 1 - positions, positions)
    gathered = np.take(x, positions, axis=axis)  # axis becomes (size, taps)
    return np.tensordot(gathered, kernel, axes=([axis + 1], [0]))
