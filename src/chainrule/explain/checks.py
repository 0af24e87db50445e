"""Sanity checks of explanations that users can run (``chainrule explain --check``):

- completeness: integrated gradients' attributions of a sample sum to ``F(x) - F(b)``; the
  check runs a float64 copy of the model, so what remains is the integration error alone;
- model randomisation (Adebayo et al., "Sanity Checks for Saliency Maps", 2018): the
  attributions of a copy of the model with re-initialised weights must differ from the
  trained model's, or the method shows the input rather than what the model learned. The
  figure is Spearman's rank correlation of the two attributions, per sample.
"""

import copy
from dataclasses import dataclass, field

import numpy as np

from .._dtypes import float64
from ..autograd import no_grad
from ..creation import from_numpy
from ..random import get_rng_state, manual_seed, set_rng_state
from ._core import array_of
from .integrated import integrated_gradients

__all__ = ["Check", "completeness", "completeness_error", "model_randomisation",
           "mean_rank_correlation", "randomised_copy", "rank_correlation"]

TINY = 1e-12  # a scale below this counts as zero
# The randomised copy's seed: not 0, which would rebuild an untrained model seeded with 0.
RANDOMISATION_SEED = 20180924


@dataclass
class Check:
    """One check's outcome: ``passed``, a one-line ``summary`` with the figure and the bound it
    was held to, and the per-sample ``values``."""

    name: str
    passed: bool
    summary: str
    values: np.ndarray = field(repr=False)

    def __bool__(self):
        return self.passed

    def __str__(self):
        return f"{self.name}: {self.summary} -> {'passed' if self.passed else 'FAILED'}"


def completeness(model, x, target=None, baseline=None, steps=64, tolerance=0.01,
                 reference=None, embeddings=None):
    """Integrated gradients' completeness on a float64 copy of ``model``: for every sample,
    ``|sum(attributions) - (F(x) - F(b))|`` must be at most ``tolerance`` times the
    attributions' total size ``sum(|attributions|)``.

    The total size is the scale of what is summed; ``F(x) - F(b)`` itself can be near zero
    while large attributions cancel (an input whose output is close to the baseline's), and
    an error relative to it then says nothing about the integration."""
    model64 = copy.deepcopy(model).to(float64)
    attributions, delta = integrated_gradients(
        model64, _double(x), target, baseline=_double(baseline), steps=steps,
        return_convergence_delta=True, reference=_double(reference), embeddings=embeddings)
    delta = array_of(delta)
    relative = completeness_error(attributions, delta)
    flat = array_of(attributions).reshape(len(delta), -1)
    difference = np.abs(flat.sum(axis=1) - delta)
    of_difference = np.abs(delta) / np.maximum(difference, TINY)
    passed = bool(np.all(relative <= tolerance))
    summary = (f"integrated gradients, {steps} steps, float64: |sum(attributions) - (F(x) - "
               f"F(b))| at most {100 * relative.max(initial=0):.3g}% of sum(|attributions|) "
               f"over {len(delta)} samples (median {100 * np.median(of_difference):.3g}% of "
               f"|F(x) - F(b)|); tolerance {100 * tolerance:g}%")
    return Check("completeness", passed, summary, relative)


def completeness_error(attributions, delta):
    """Per sample: |convergence delta| relative to the attributions' total size."""
    delta = array_of(delta)
    size = np.abs(array_of(attributions).reshape(len(delta), -1)).sum(axis=1)
    return np.abs(delta) / np.maximum(size, TINY)


def model_randomisation(model, x, target=None, method=integrated_gradients, threshold=0.5,
                        seed=RANDOMISATION_SEED, **options):
    """Spearman's rank correlation between the attributions of ``model`` and of a randomised
    copy (see ``randomised_copy``), per sample; passes when the mean is below ``threshold``.
    ``method`` is any attribution function; ``options`` go to it.

    The signed attributions are compared (Adebayo et al. report both); the correlation of
    their magnitudes is in the summary too. Magnitudes of gradient x input and integrated
    gradients keep the ranking of ``|x - baseline|`` even for a random model, so they stay
    correlated (about 0.4 on the breast-cancer table) whatever the weights."""
    trained = array_of(method(model, x, target, **options))
    randomised = array_of(method(randomised_copy(model, seed), x, target, **options))
    signed = mean_rank_correlation(trained, randomised)
    magnitudes = mean_rank_correlation(np.abs(trained), np.abs(randomised))
    mean = float(np.nanmean(signed)) if np.isfinite(signed).any() else np.nan
    passed = bool(np.isfinite(mean) and mean < threshold)
    name = getattr(method, "__name__", "attribution").replace("_", " ")
    summary = (f"{name}: rank correlation of the attributions, trained vs re-initialised "
               f"weights, mean {mean:.3f} (from {np.nanmin(signed):.3f} to "
               f"{np.nanmax(signed):.3f}; of their magnitudes {np.nanmean(magnitudes):.3f}) "
               f"over {len(signed)} samples; must be below {threshold:g}")
    return Check("model randomisation", passed, summary, signed)


def mean_rank_correlation(a, b):
    """Per sample (first dimension): Spearman's rank correlation of ``a[i]`` and ``b[i]``."""
    a, b = np.asarray(a), np.asarray(b)
    return np.array([rank_correlation(a[i].ravel(), b[i].ravel()) for i in range(len(a))])


def randomised_copy(model, seed=RANDOMISATION_SEED):
    """A copy of ``model`` whose layers are re-initialised (``reset_parameters``, drawn under
    ``seed``; the global random state is left as it was). Parameters of modules without
    ``reset_parameters`` get their entries shuffled, which keeps their scale."""
    copied = copy.deepcopy(model)
    state = get_rng_state()
    manual_seed(seed)
    try:
        reset = set()
        for module in copied.modules():
            if callable(getattr(module, "reset_parameters", None)):
                module.reset_parameters()
                reset.update(id(p) for p in module.parameters(recurse=False))
        rng = np.random.default_rng(seed)
        for parameter in copied.parameters():
            if id(parameter) not in reset:
                values = parameter.detach().numpy()
                with no_grad():
                    parameter.copy_(from_numpy(rng.permutation(values.ravel()).reshape(
                        values.shape)))
    finally:
        set_rng_state(state)
    return copied


def rank_correlation(a, b):
    """Spearman's rank correlation of two 1-D arrays (tied values share their mean rank);
    nan when either is constant."""
    ranks_a, ranks_b = _ranks(np.asarray(a)), _ranks(np.asarray(b))
    ranks_a, ranks_b = ranks_a - ranks_a.mean(), ranks_b - ranks_b.mean()
    scale = np.sqrt((ranks_a ** 2).sum() * (ranks_b ** 2).sum())
    return float((ranks_a * ranks_b).sum() / scale) if scale > 0 else float("nan")


def _ranks(values):
    """1-based ranks, ties averaged."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2)[inverse].astype(np.float64)


def _double(value):
    """A float64 version of a floating tensor/array (others, and strings, as they are)."""
    if value is None or isinstance(value, str):
        return value
    array = array_of(value)
    return from_numpy(array.astype(np.float64)) if array.dtype.kind == "f" else value
