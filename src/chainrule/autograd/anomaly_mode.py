"""``torch.autograd.detect_anomaly`` / ``set_detect_anomaly``, as PyTorch's: while it is on,
every op records where in the program it was called, and a backward pass stops at the first
node whose gradient holds a NaN, with a RuntimeError naming the node and the output, after a
warning that shows the forward call that made the node. ``check_nan=False`` keeps the
tracebacks without the check. It slows every op (a traceback each), as PyTorch's does: it is
for finding a bug, not for training. ``chainrule.diagnostics`` answers the same question
without the cost, and ``chainrule train`` reports it by itself.

>>> x = chainrule.tensor([0.0], requires_grad=True)
>>> with chainrule.autograd.detect_anomaly():   # sqrt's gradient at 0 is inf, times 0: nan
...     (x.sqrt() * 0).sum().backward()
Traceback (most recent call last):
...
RuntimeError: Function 'SqrtBackward' returned nan values in its 0th output.
"""

import functools
import traceback
import warnings

import numpy as np

from . import engine
from .function import _floating

__all__ = ["detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
           "set_detect_anomaly"]

_state = {"enabled": False, "check_nan": True}
_detach = []  # removes the observers while anomaly mode is on


def is_anomaly_enabled():
    return _state["enabled"]


def is_anomaly_check_nan_enabled():
    return _state["check_nan"]


def _record_forward_call(node, args, outputs):
    node._anomaly_trace = traceback.format_stack()[:-3]  # (less apply and this observer)


def _check_backward(node, grad_inputs):
    if not _state["check_nan"]:
        return
    for position, grad in enumerate(grad_inputs):
        data = getattr(grad, "_data", None)
        if data is not None and _floating(data.dtype) and np.isnan(data).any():
            trace = getattr(node, "_anomaly_trace", None)
            if trace is not None:
                warnings.warn(f"Error detected in {node.name()}. Traceback of forward call "
                              "that caused the error:\n" + "".join(trace), stacklevel=2)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its "
                               f"{position}th output.")


def _apply(state):
    """Make the observers match ``state`` (installed while anomaly mode is on)."""
    _state.update(state)
    if _state["enabled"] and not _detach:
        _detach.extend([engine.add_forward_observer(_record_forward_call),
                        engine.add_observer(_check_backward)])
    elif not _state["enabled"]:
        for detach in _detach:
            detach()
        _detach.clear()


class set_detect_anomaly:  # noqa: N801 - PyTorch's spelling
    """Turn anomaly detection on or off; also a context manager that restores it."""

    def __init__(self, mode, check_nan=True):
        self.previous = dict(_state)
        _apply({"enabled": bool(mode), "check_nan": bool(check_nan)})

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _apply(self.previous)
        return False


class detect_anomaly:  # noqa: N801 - PyTorch's spelling
    """``with detect_anomaly():`` (or as a decorator): anomaly detection on inside."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.switch = set_detect_anomaly(True, self.check_nan)
        return self

    def __exit__(self, *exc_info):
        return self.switch.__exit__(*exc_info)

    def __call__(self, function):
        @functools.wraps(function)
        def inside(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return inside
