"""What every attribution method shares: the scalar explained per sample, the model held in
eval mode with its weights frozen, and gradients of a stacked batch with respect to the input
and to the outputs of the embeddings that read discrete inputs (see sites.py).

A batch ``x`` has samples along its first dimension. Gradients are summed in float64; the
attributions come back in ``x``'s floating dtype (the default dtype for integer inputs)."""

from contextlib import contextmanager
from functools import partial

import numpy as np

from .. import autograd
from .._dtypes import get_default_dtype
from ..autograd import no_grad
from ..creation import from_numpy

# Rows of one stacked forward: about a million input values, at most 1024 rows (the activations
# of a batch are what costs memory; this keeps them to tens of megabytes for the presets).
CHUNK_VALUES, CHUNK_ROWS = 1 << 20, 1024


def array_of(value):
    """The ndarray behind a tensor (detached) or an array-like."""
    if hasattr(value, "_data"):
        return value.detach().numpy()
    return np.asarray(value)


def float_dtype(x):
    """The NumPy dtype attributions of ``x`` are returned in."""
    array = array_of(x)
    if array.dtype.kind == "f":
        return array.dtype
    return np.dtype(str(get_default_dtype()).removeprefix("chainrule."))


def target_indices(target, count):
    """One output index per sample (int64 array), or None to explain a single-output model."""
    if target is None:
        return None
    indices = np.broadcast_to(array_of(target), (count,)).astype(np.int64)
    return np.ascontiguousarray(indices)


def select(output, targets):
    """The explained scalar of each sample: ``output[i, targets[i]]``, or the output itself
    when the model gives one value per sample."""
    if targets is None:
        if output.dim() > 1 and output[0].numel() != 1:
            raise ValueError(
                f"the model's output has shape {tuple(output.shape)}: pass target= (the class "
                "index to explain, an int or one per sample)")
        return output.reshape(-1)
    if output.dim() != 2:
        raise ValueError(
            f"the model's output has shape {tuple(output.shape)}; attribution explains one "
            "value per sample, so the output must be (samples, classes): wrap the model to "
            "return the outputs to explain (e.g. a sequence model's last position)")
    if targets.max(initial=0) >= output.shape[1] or targets.min(initial=0) < 0:
        raise ValueError(f"target {targets.max()} is out of range for an output with "
                         f"{output.shape[1]} values per sample")
    rows = from_numpy(np.arange(output.shape[0]))
    return output[rows, from_numpy(targets)]


def explained_outputs(model, x, targets, sites=None, values=None):
    """The explained scalar per sample as float64, without recording a graph; ``values``
    optionally replaces the sites' outputs (e.g. by their baselines)."""
    with no_grad(), (sites.intercept(values) if values else _nothing()):
        return array_of(select(model(from_numpy(x)), targets)).astype(np.float64)


@contextmanager
def _nothing():
    yield


@contextmanager
def explaining(model):
    """The model in eval mode (dropout off, batch-norm running statistics) with parameters
    that need no gradient, so that backward computes input gradients only; both restored."""
    was_training = model.training
    trainable = [p for p in model.parameters() if p.requires_grad]
    model.eval()
    for parameter in trainable:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in trainable:
            parameter.requires_grad_(True)
        model.train(was_training)


def rows_per_chunk(x, budget=None):
    """How many rows of inputs like ``x`` go into one stacked forward."""
    if budget:
        return max(1, int(budget))
    per_row = max(1, int(np.prod(x.shape[1:], dtype=np.int64)))
    return max(1, min(CHUNK_ROWS, CHUNK_VALUES // per_row))


def gradients(model, batch, targets, sites, site_values):
    """Gradients of the explained scalar of every row of ``batch`` (an ndarray), with respect
    to ``batch`` (None unless floating) and to each site's output, as float64 arrays.

    ``site_values(name, output)`` gives the array each site passes on instead of its output;
    the gradient is taken with respect to that value."""
    leaves = {}

    def as_leaf(name, output):
        value = np.ascontiguousarray(site_values(name, output), dtype=output.dtype)
        leaf = from_numpy(value).requires_grad_(True)
        leaves[name] = leaf
        return leaf

    floating = batch.dtype.kind == "f"
    inputs = from_numpy(np.ascontiguousarray(batch))
    if floating:
        inputs.requires_grad_(True)
    with sites.intercept(as_leaf):
        selected = select(model(inputs), targets)
    wanted = ([inputs] if floating else []) + [leaves[name] for name in sites.names]
    if not wanted:
        raise ValueError("the input is not floating point and no embedding reads it: there is "
                         "nothing to take gradients with respect to")
    found = autograd.grad(selected.sum(), wanted, allow_unused=True, materialize_grads=True)
    found = [array_of(g).astype(np.float64) for g in found]
    grad_input = found.pop(0) if floating else None
    return grad_input, dict(zip(sites.names, found))


def tile_rows(array, times):
    """``array`` stacked ``times`` times along the first dimension."""
    return np.concatenate([array] * times) if times > 1 else array


def summed_gradients(model, x, targets, sites, repeats, point, site_point, transform=None,
                     budget=None):
    """Per row of ``x``: the sum over ``r < repeats`` of the (transformed) gradients at
    ``point(r, rows)``, with each site passing on ``site_point(name, r, rows, output)``.

    The (repeat, row) pairs are stacked into forwards of ``rows_per_chunk`` rows, so a path of
    64 points over a batch costs a few large forwards instead of 64 small ones. Returns
    (float64 sum like ``x`` or None, {site: float64 sum like its output})."""
    count = len(x)
    pairs = np.arange(repeats * count)
    repeat_of, row_of = pairs // count, pairs % count
    transform = transform or (lambda g: g)
    total_input, total_sites = None, {}
    chunk = rows_per_chunk(x, budget)
    for start in range(0, len(pairs), chunk):
        r, rows = repeat_of[start:start + chunk], row_of[start:start + chunk]
        grad_input, grad_sites = gradients(
            model, point(r, rows), None if targets is None else targets[rows], sites,
            partial(_site_value, site_point, r, rows))
        if grad_input is not None:
            if total_input is None:
                total_input = np.zeros(x.shape)
            _add_rows(total_input, rows, r, transform(grad_input))
        for name, grad in grad_sites.items():
            if name not in total_sites:
                total_sites[name] = np.zeros((count, *grad.shape[1:]))
            _add_rows(total_sites[name], rows, r, transform(grad))
    return total_input, total_sites


def _site_value(site_point, repeats, rows, name, output):
    return site_point(name, repeats, rows, output)


def _add_rows(total, rows, repeats, values):
    """total[rows] += values, where a row occurs once per repeat (so each repeat's rows are
    distinct and plain fancy-index addition is right)."""
    for repeat in np.unique(repeats):
        mine = repeats == repeat
        total[rows[mine]] += values[mine]
