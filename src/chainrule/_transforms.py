"""What the function transforms share (``chainrule.func`` and ``torch.autograd.functional``):
handles on the inputs to differentiate, nesting, and nested tuples/lists/dicts of tensors."""

import threading

import numpy as np

from .autograd import grad_mode
from .autograd.function import Function
from .tensor import Tensor

nesting = threading.local()  # how many transforms are running on this thread


def depth():
    return getattr(nesting, "depth", 0)


class _Alias(Function):
    """y = x, sharing memory;  dx = dy. Gives a transform its own handle on an input that
    already belongs to an outer graph."""

    @staticmethod
    def forward(ctx, x):
        return Tensor._from_array(x._data)._share_version(x)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


def argument_positions(argnums):
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return (int(argnums),)
    if isinstance(argnums, tuple) and argnums and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in argnums):
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums must not repeat a position, got {argnums}")
        return tuple(int(a) for a in argnums)
    raise RuntimeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")


def track(tensor, position):
    """A handle on ``tensor`` that ``autograd.grad`` can differentiate with respect to."""
    if not tensor.is_floating_point():
        raise RuntimeError(
            f"grad: argument {position} holds a {tensor.dtype} tensor; only floating point "
            "tensors have gradients (convert it with .float(), or leave it out of argnums)"
        )
    if tensor.requires_grad:
        return _Alias.apply(tensor)  # stays connected to the outer graph
    return tensor.detach().requires_grad_()


def flatten(value, position):
    """The tensors in ``value`` (a tensor, or tuple/list/dict of them) and a function that
    rebuilds the same structure from a list of replacements. ``position`` names the argument
    in errors; with None, non-tensors are simply skipped."""
    if isinstance(value, Tensor):
        return [value], lambda items: items[0]
    if isinstance(value, (tuple, list, dict)):
        keys = list(value) if isinstance(value, dict) else range(len(value))
        parts = [flatten(value[k], position) for k in keys]
        sizes = [len(leaves) for leaves, _ in parts]
        leaves = [t for part, _ in parts for t in part]

        def rebuild(items):
            out, start = [], 0
            for (_, rebuild_part), size in zip(parts, sizes):
                out.append(rebuild_part(items[start:start + size]))
                start += size
            if isinstance(value, dict):
                return type(value)(zip(keys, out))
            return type(value)(out)

        return leaves, rebuild
    if position is None:
        return [], lambda items: value
    raise RuntimeError(
        f"grad: argument {position} is a {type(value).__name__}; differentiated arguments must "
        "be tensors or tuples, lists or dicts of tensors"
    )


def detach_all(value):
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(detach_all(v) for v in value)
    if isinstance(value, dict):
        return type(value)((k, detach_all(v)) for k, v in value.items())
    return value


class Traced:
    """``func(*args, **kwargs)`` run once, with handles on the arguments at ``positions`` (the
    ones to differentiate): what every transform starts from. ``result`` is func's result,
    ``inputs`` the handles, flat; ``create_graph`` whether gradients must stay differentiable
    (an outer transform or graph may differentiate them)."""

    def __init__(self, name, func, args, kwargs, positions, argnums):
        if max(positions) >= len(args) or min(positions) < -len(args):
            raise RuntimeError(f"{name}: argnums={argnums} is out of range for a call with "
                               f"{len(args)} positional arguments")
        args = list(args)
        # Record the backward pass only when someone outside may differentiate the result.
        self.create_graph = grad_mode.is_grad_enabled() and (
            depth() > 0 or any(t.requires_grad for t in flatten([args, kwargs], None)[0]))
        self.tracked = []
        nesting.depth = depth() + 1
        try:
            with grad_mode.enable_grad():
                for p in positions:
                    leaves, rebuild = flatten(args[p], p)
                    handles = [track(t, p) for t in leaves]
                    self.tracked.append((handles, rebuild))
                    args[p] = rebuild(handles)
                self.result = func(*args, **kwargs)
        finally:
            nesting.depth -= 1
        self.inputs = [h for handles, _ in self.tracked for h in handles]

    def per_argument(self, flat, single):
        """A flat list over every handle, regrouped as the arguments were (one structure when
        ``single``, else a tuple of them)."""
        groups, start = [], 0
        for handles, rebuild in self.tracked:
            groups.append(rebuild(list(flat[start:start + len(handles)])))
            start += len(handles)
        return groups[0] if single else tuple(groups)

    def finish(self, value):
        return value if self.create_graph else detach_all(value)
