"""``torch.func.vmap`` (and ``torch.vmap``): a function over one sample, applied to a batch.

The batch is taken apart along ``in_dims``, the function runs once per sample, and the results
are stacked along ``out_dims``: the values PyTorch's vectorised vmap gives for functions without
side effects, through differentiable ``select`` and ``stack`` (gradients flow, and vmap nests),
at the cost of a Python loop over the batch. Random ops draw per sample: ``randomness="same"``
replays the generator's state for every sample; "error" and "different" both draw afresh
(PyTorch refuses random ops under "error"; chainrule does not detect them)."""

import functools

from .ops.join import stack
from .random import get_rng_state, set_rng_state
from .tensor import Tensor

RANDOMNESS = ("error", "different", "same")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over dimension ``in_dims`` of its inputs (an int, None for an input that
    is not batched, or a tuple with one entry per positional argument, nested like it), its
    results stacked along ``out_dims``.

    >>> dot = lambda a, b: (a * b).sum()
    >>> chainrule.vmap(dot)(chainrule.ones(3, 2), chainrule.ones(3, 2))
    tensor([2., 2., 2.])
    """
    if randomness not in RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    @functools.wraps(func)
    def vmapped(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(
                f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                f"structure of `inputs`. in_dims has {len(dims)} elements, but inputs has "
                f"{len(args)} positional arguments."
            )
        sizes, takers = [], []
        for position, (arg, dim) in enumerate(zip(args, dims)):
            takers.append(_taker(arg, dim, sizes, position, in_dims))
        if not sizes:
            raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): at least one input "
                             "must be batched (an in_dim that is not None for a tensor)")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        state = get_rng_state() if randomness == "same" else None
        results = []
        for i in range(sizes[0]):
            if state is not None:
                set_rng_state(state)
            results.append(func(*[take(i) for take in takers], **kwargs))
        return _stacked(results, out_dims)

    return vmapped


def _taker(arg, dim, sizes, position, in_dims):
    """A function i -> sample i of ``arg`` (recording the batch size in ``sizes``)."""
    if dim is None:
        return lambda i: arg
    if isinstance(arg, Tensor):
        if not isinstance(dim, int):
            raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dim for input "
                             f"{position} must be an int or None, got {dim!r}")
        if not -arg.ndim <= dim < max(arg.ndim, 1) or arg.ndim == 0:
            raise ValueError(
                f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for input "
                f"{position}, but input {position} is a Tensor of dimensionality {arg.ndim} "
                f"so expected in_dim to satisfy -{arg.ndim} <= in_dim < {arg.ndim}."
            )
        sizes.append(arg.shape[dim])
        return lambda i: arg.select(dim, i)
    if isinstance(arg, (tuple, list, dict)):
        keys = list(arg) if isinstance(arg, dict) else range(len(arg))
        if isinstance(dim, (tuple, list, dict)):
            if len(dim) != len(arg):
                raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims for input "
                                 f"{position} does not match its structure")
            parts = {k: _taker(arg[k], dim[k], sizes, position, in_dims) for k in keys}
        else:
            parts = {k: _taker(arg[k], dim, sizes, position, in_dims) for k in keys}
        if isinstance(arg, dict):
            return lambda i: type(arg)((k, parts[k](i)) for k in keys)
        return lambda i: type(arg)(parts[k](i) for k in keys)
    raise ValueError(
        f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input but the "
        f"input is of type {type(arg)}. We cannot vmap over non-Tensor arguments, please use "
        "None as the respective in_dim"
    )


def _stacked(results, out_dims):
    """The per-sample results stacked along ``out_dims``, keeping their structure."""
    first = results[0]
    if isinstance(first, Tensor):
        if out_dims is None:
            return first
        if not isinstance(out_dims, int):
            raise ValueError(f"vmap: out_dims={out_dims} does not match the function's single "
                             "tensor output")
        return stack(results, dim=out_dims)
    if isinstance(first, (tuple, list)):
        dims = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(first)
        if len(dims) != len(first):
            raise ValueError(f"vmap: out_dims={out_dims} has {len(dims)} entries but the "
                             f"function returns {len(first)} values")
        parts = [_stacked([r[k] for r in results], d) for k, d in enumerate(dims)]
        return type(first)(parts) if not hasattr(first, "_fields") else type(first)(*parts)
    if isinstance(first, dict):
        return type(first)((k, _stacked([r[k] for r in results], out_dims if not isinstance(
            out_dims, dict) else out_dims[k])) for k in first)
    raise ValueError(f"vmap: the function must return only tensors (or tuples, lists and "
                     f"dicts of them), got type {type(first)}")
