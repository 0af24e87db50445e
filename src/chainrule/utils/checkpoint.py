"""``torch.utils.checkpoint``: activation checkpointing's API.

chainrule keeps every activation of the forward (it has no recomputation pass), so
``checkpoint(fn, *args)`` simply calls ``fn(*args)``: the values and gradients are exactly those
of a checkpointed run; only the memory saving is missing."""

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check=None,
               debug=None, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``; see the module docstring."""
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a Sequential or a list of modules) one after another on ``input``."""
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    for module in modules:
        input = module(input)
    return input
