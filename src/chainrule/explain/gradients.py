"""Attributions from the gradient at the input: saliency, gradient x input and SmoothGrad.

Each takes a batch ``x`` (samples first), the output index to explain (``target``: an int or
one per sample; None for a model with one output per sample) and ``embeddings`` (which
embeddings read discrete inputs; see sites.py), and returns a tensor shaped like ``x``.

    attributions = saliency(model, images, target=3)
"""

import numpy as np

from ..creation import from_numpy
from ..random import numpy_generator
from ._core import array_of, explaining, float_dtype, summed_gradients, target_indices
from .sites import Sites

__all__ = ["saliency", "gradient_x_input", "smoothgrad"]


def setup(model, x, target, embeddings):
    """(x as an ndarray, its sites, one target per sample or None, the attributions' dtype);
    call inside ``explaining(model)``."""
    array = array_of(x)
    if array.ndim == 0:
        raise ValueError("x must be a batch: its first dimension indexes the samples")
    sites = Sites(model, x if hasattr(x, "_data") else from_numpy(array), embeddings)
    dtype = float_dtype(array)
    if array.dtype.kind != "f" and sites:  # codes: the attributions take the embeddings' dtype
        dtype = array_of(next(iter(sites.modules.values())).weight).dtype
    return array, sites, target_indices(target, len(array)), dtype


def _at_input(model, x, targets, sites, budget=None):
    return summed_gradients(model, x, targets, sites, 1, lambda r, rows: x[rows],
                            lambda name, r, rows, output: output, budget=budget)


def saliency(model, x, target=None, abs=True, embeddings=None):
    """The gradient of the explained output with respect to ``x`` (Simonyan et al., 2014), its
    absolute value unless ``abs=False``; at an embedding site, summed over the width.

    >>> model = chainrule.nn.Linear(3, 1)
    >>> w = model.weight.detach().numpy()[0]
    >>> bool(np.allclose(saliency(model, chainrule.randn(2, 3), abs=False).numpy(), w))
    True
    """
    with explaining(model):
        x, sites, targets, dtype = setup(model, x, target, embeddings)
        grad_input, grad_sites = _at_input(model, x, targets, sites)
    magnitude = np.abs if abs else (lambda g: g)
    inputs = None if grad_input is None else magnitude(grad_input)
    result = sites.place(x, inputs, {n: magnitude(g) for n, g in grad_sites.items()}, dtype)
    return from_numpy(result)


def gradient_x_input(model, x, target=None, embeddings=None):
    """The input times the gradient (Shrikumar et al., 2016): integrated gradients from a zero
    baseline in one step. At an embedding site: its output times its gradient, summed over the
    width."""
    with explaining(model):
        x, sites, targets, dtype = setup(model, x, target, embeddings)
        grad_input, grad_sites = _at_input(model, x, targets, sites)
        outputs = sites.outputs(x)
    inputs = None if grad_input is None else grad_input * x
    at_sites = {n: g * outputs[n] for n, g in grad_sites.items()}
    return from_numpy(sites.place(x, inputs, at_sites, dtype))


def smoothgrad(model, x, target=None, samples=25, noise_level=0.15, abs=True, embeddings=None,
               generator=None, internal_batch_size=None):
    """SmoothGrad (Smilkov et al., 2017): the saliency averaged over ``samples`` copies of
    ``x`` with Gaussian noise of standard deviation ``noise_level`` times each sample's value
    range (an embedding site's output gets noise scaled to its own range). With ``abs`` the
    magnitudes are averaged, as Captum's NoiseTunnel over Saliency does.

    The noise comes from ``generator`` (the default generator when None), so
    ``chainrule.manual_seed`` makes it repeatable."""
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    if noise_level < 0:
        raise ValueError(f"noise_level must be non-negative, got {noise_level}")
    rng = numpy_generator(generator)
    with explaining(model):
        x, sites, targets, dtype = setup(model, x, target, embeddings)
        free = ~sites.fixed_mask(x)
        sigma = noise_level * _ranges(x, free)
        outputs = sites.outputs(x)
        site_sigma = {n: noise_level * _ranges(o, np.ones(o.shape, bool))
                      for n, o in outputs.items()}

        def noisy_input(r, rows):
            if x.dtype.kind != "f":
                return x[rows]
            noise = rng.standard_normal(x[rows].shape) * sigma[rows] * free[rows]
            return (x[rows] + noise).astype(x.dtype)

        def noisy_site(name, r, rows, output):
            return output + rng.standard_normal(output.shape) * site_sigma[name][rows]

        total_input, total_sites = summed_gradients(
            model, x, targets, sites, samples, noisy_input, noisy_site,
            transform=np.abs if abs else None, budget=internal_batch_size)
    inputs = None if total_input is None else total_input / samples
    at_sites = {n: g / samples for n, g in total_sites.items()}
    return from_numpy(sites.place(x, inputs, at_sites, dtype))


def _ranges(values, mask):
    """Per sample: max - min of the values where ``mask``, shaped to broadcast over a sample."""
    if values.dtype.kind != "f" or not mask.any():
        return np.zeros((len(values),) + (1,) * (values.ndim - 1))
    flat = np.where(mask, values, np.nan).reshape(len(values), -1)
    spread = np.nanmax(flat, axis=1) - np.nanmin(flat, axis=1)
    return np.nan_to_num(spread).reshape((-1,) + (1,) * (values.ndim - 1))
