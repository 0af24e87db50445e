"""What happens at a leaf: its gradient is kept as ``.grad``, and who owns that memory.

A leaf gets its gradient once per sweep, summed over every path that reaches it; its tensor
hooks see (and may replace) that total, then it is accumulated into ``leaf.grad`` and the
post-accumulate hooks run.
"""

import numpy as np

from .function import TensorBase
from .grad_ops import Accumulate, Clone

# Whether any leaf of this process was ever given a tensor hook or a post-accumulate hook
# (Tensor.register_hook, register_post_accumulate_grad_hook). Until one is, the backward sweep
# need not count the edges into each leaf to know when its gradient is total (only hooks wait
# for the total during the sweep): engine._Sweep's unwalked sweep. Never reset: a hook may be
# removed and another registered at any time, and a walk is always correct.
hooked_leaves_seen = False


class Borrowed:
    """The ownership rule: which gradient arrays the engine may keep as a ``.grad``.

    A leaf's ``.grad`` is updated in place by later backward passes and by optimizers, so it
    must own its memory. An array that came from user code (the caller's ``gradient=``, what a
    tensor hook returns, what the backward of a Function that is not a built-in op returns) may
    still be held there, and an array already kept as one leaf's ``.grad`` belongs to that
    leaf: both are borrowed, and a leaf keeps a copy of them. Everything else was made by
    built-in ops during this sweep and is kept as it is. Built-in ops may pass a borrowed array
    on unchanged, so the rule follows arrays by identity; the dict also keeps them alive, so
    that an id is never reused during the sweep."""

    def __init__(self):
        self._arrays = {}

    def add(self, grad):
        if isinstance(grad, TensorBase):
            self._arrays[id(grad._data)] = grad._data

    def add_all(self, grads):
        arrays = self._arrays
        for grad in grads:  # (add, inline: one call per node or backward, not per gradient)
            if isinstance(grad, TensorBase):
                arrays[id(grad._data)] = grad._data


class LeafObserver:
    """``hook(leaf)`` called when a sweep sets or first adds to ``leaf.grad``, for an observer
    that reads the gradient only once the sweep has ended (the gradient diagnostics): the
    total is there by then. Unlike a post-accumulate hook it neither makes the sweep count the
    edges into each leaf (``hooked_leaves_seen`` stays as it is: on the bench gpt step the walk
    was 0.3 ms of 65) nor holds the leaf's gradient back to the sweep's end (``_deliver``: two
    Python calls per parameter and step, on the bench mlp). With ``accumulated=False`` the hook
    is a tensor hook instead (``register_hook``'s place), that replaces nothing. ``remove()``
    takes it away."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, leaf, hook, accumulated=True):
        name = "_grad_observers" if accumulated else "_hooks"
        hooks = getattr(leaf, name)
        if hooks is None:
            hooks = []
            setattr(leaf, name, hooks)
        hooks.append(hook)
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def run_leaf_hooks(leaf, grad, borrowed):
    """A leaf's tensor hooks, once, on its total gradient; a replacement is user code's."""
    for hook in leaf._hooks:
        result = hook(grad)
        if result is not None and result is not grad:
            grad = result
            borrowed.add(grad)
    return grad


def accumulate_into_leaf(leaf, grad, create_graph, borrowed):
    """Add ``grad`` into ``leaf.grad``, copying it first unless the engine owns it."""
    current = leaf._grad
    if current is None:
        # The ownership rule (Borrowed): the array may become the leaf's without a copy when
        # nobody else holds it (nor owns it: a view, or read-only memory); it is then this
        # leaf's, so borrowed for every other one. (Inline: every parameter's gradient.)
        array, kept = grad._data, borrowed._arrays
        if id(array) in kept or array.base is not None or not array.flags.writeable:
            grad = Clone.apply(grad)  # under create_graph, a recorded copy: differentiable
            borrowed.add(grad)  # now the leaf's: no other leaf may keep the same array
        else:
            kept[id(array)] = array
            if not create_graph and grad._requires_grad:
                grad = grad.detach()
        leaf._grad = grad
    elif create_graph:
        leaf._grad = Accumulate.apply(current, grad)
    elif (current._requires_grad or current._data.shape != grad._data.shape
          or not current._data.flags.writeable):
        leaf._grad = Accumulate.apply(current, grad).detach()
    else:
        np.add(current._data, grad._data, out=current._data, casting="same_kind")
        current._bump_version()
    if leaf._post_accumulate_hooks:
        for hook in leaf._post_accumulate_hooks:
            hook(leaf)
    if leaf._grad_observers:
        for observer in leaf._grad_observers:
            observer(leaf)
