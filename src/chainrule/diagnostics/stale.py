"""Gradients that are never cleared between optimizer steps.

A loop that calls ``optimizer.zero_grad()`` once per epoch, or not at all, adds each step's
gradient to all the earlier ones: the step the optimizer takes grows with the run, and the
gradient norm grows steadily rather than jumping, which the explosion rules (a jump, a doubling,
updates as large as the weights) need many steps to see, or never see under Adam.

Checked on the step after each sampled step, on one small parameter: at the sample its gradient
``G`` is copied and a hook sums what the next step's backward passes add to it (``g``); at the
next ``monitor.step`` its gradient is compared with ``G + g`` (stale: the sum kept growing) and
with ``g`` (cleared in between), each up to a common factor, which a gradient clipping applied
after the backward leaves free. Only when the optimizer moved that parameter in between: a loop
that calls ``monitor.step`` per micro-batch and steps every few, accumulating on purpose, is not
judged. Nothing runs on the other steps.
"""

import numpy as np

# a match up to float32 rounding of a sum, and a clear miss for the other reading
MATCH, MISS = 1e-3, 0.1
MIN_ENTRIES = 64


class StaleGradientCheck:
    """``arm(parameters)`` on a sampled step (after the optimizer's step), ``verdict()`` on the
    next step: True when that step's gradient still held the sampled step's, False when it was
    cleared, None when the step says nothing (no backward reached it, no optimizer step)."""

    def __init__(self):
        self._param = None
        self._handle = None
        self._grad = None  # the parameter's gradient at the sample
        self._value = None  # and its value, to see that the optimizer stepped
        self._received = None  # what the next step's backward passes added
        self._judged = None  # the parameter the last verdict was on (for its name)
        self.armed = False  # (an attribute, not a property: asked on every step)

    def arm(self, parameters):
        self.disarm()
        # the fittest parameter (``_fitness``; the first of equals) whose gradient is not all
        # zero. NOTE: ordered by size first and read only then: testing each fitter one as it
        # came read the first parameter's whole gradient (the bench MLP's 784x512 weight,
        # 1.6 MB: ~100 us of a sample) before a small bias was chosen
        candidates = sorted(
            (_fitness(param.numel()), position, param)
            for position, param in enumerate(parameters)
            if param.requires_grad and param._grad is not None and param.grad_fn is None)
        chosen = next((param for _, _, param in candidates if np.any(param._grad._data)),
                      None)
        if chosen is None:
            return
        self._param = chosen
        self._grad = np.array(chosen.grad._data, dtype=np.float64)
        self._value = np.array(chosen._data, copy=True)
        self._handle = chosen.register_hook(self._add)
        self.armed = True

    def name(self, model):
        """The name in ``model`` of the parameter the last ``verdict()`` judged (or of the one
        armed, before it): asked only for a finding (a walk over the model's parameters)."""
        param = self._param if self._param is not None else self._judged
        return next((n for n, p in model.named_parameters() if p is param), "?")

    def _add(self, grad):
        data = np.asarray(grad._data, dtype=np.float64)
        self._received = data.copy() if self._received is None else self._received + data

    def disarm(self):
        if self._handle is not None:
            self._handle.remove()
        self._param = self._handle = self._grad = self._value = self._received = None
        self.armed = False

    def verdict(self):
        if self._param is None:
            return None
        param, stale, received = self._param, self._grad, self._received
        moved = not np.array_equal(param._data, self._value)
        grad = param.grad
        self.disarm()
        self._judged = param
        if received is None or grad is None or not moved:
            return None
        now = np.asarray(grad._data, dtype=np.float64)
        if not np.isfinite(now).all() or not np.isfinite(received).all():
            return None
        # (the cleared reading first: a healthy loop's, which alone decides it)
        cleared = _residual(now, received)
        if cleared <= MATCH:
            return False
        if cleared < MISS:
            return None
        return True if _residual(now, stale + received) <= MATCH else None


def _fitness(size):
    """How good a parameter of ``size`` entries is to check, lowest best: the smallest of at
    least MIN_ENTRIES (a 2-class head's bias has one direction of gradient, g and -g, which
    cannot tell two readings apart), else the largest."""
    return (0, size) if size >= MIN_ENTRIES else (1, -size)


def _residual(now, reading):
    """How far ``now`` is from ``reading`` times the best factor, relative to ``now``."""
    size = float(np.dot(now.ravel(), now.ravel()))
    norm = float(np.dot(reading.ravel(), reading.ravel()))
    if size == 0.0 or norm == 0.0:
        return 1.0
    factor = float(np.dot(now.ravel(), reading.ravel())) / norm
    rest = now - factor * reading
    return (float(np.dot(rest.ravel(), rest.ravel())) / size) ** 0.5
