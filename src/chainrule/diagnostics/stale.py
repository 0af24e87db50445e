"""Gradients that are never cleared between optimizer steps.

A loop that calls ``optimizer.zero_grad()`` once per epoch, or not at all, adds each step's
gradient to all the earlier ones: the step the optimizer takes grows with the run, and the
gradient norm grows steadily rather than jumping, which the explosion rules (a jump, a doubling,
updates as large as the weights) need many steps to see, or never see under Adam.

Checked on the step after each sampled step, on one small parameter: at the sample a hook is put
on it, which, when the next step's backward reaches it, copies the gradient it still holds
(``G``, the sample's unless it was cleared) and sums what the backward passes add to it (``g``);
at the next ``monitor.step`` its gradient is compared with ``G + g`` (stale: the sum kept
growing) and with ``g`` (cleared in between), each up to a common factor, which a gradient
clipping applied after the backward leaves free. Only when the optimizer moved that parameter in
between: a loop that calls ``monitor.step`` per micro-batch and steps every few, accumulating on
purpose, is not judged. Nothing runs on the other steps. A gradient that the next backward finds
set to None (``zero_grad()``'s default) was cleared: that is the verdict, without reading it.

Within that one step, too: an optimizer that evaluates its closure several times per step
(L-BFGS) moves the parameter between backward passes; where ``INNER_PASSES`` passes in a row
each found the gradient the pass before left (what it held then plus what it added), after an
update in between, the closure does not clear the gradients, and the verdict says so
(``WITHIN_STEP``) at once: no loop accumulates on purpose across updates of the parameters
(a GAN's critic, reached again by the generator's backward after its own step, is reached
twice, not three times). Such an L-BFGS step adds up every evaluation's gradient, its
direction and its line search go astray, and the weights blow up within the first steps:
the stale finding must come before the explosion's, not three samples after.
"""

import math

import numpy as np

from ..autograd.leaves import LeafObserver

# a match up to float32 rounding of a sum, and a clear miss for the other reading
MATCH, MISS = 1e-3, 0.1
MIN_ENTRIES = 64
# the most entries the second check's parameter may hold: what a sample copies whole without
# sampling rows (updates.py), 512 KB of float64
PARTNER_ENTRIES = 65536
# passes in one step, each after an update and each finding the gradient the pass before left
INNER_PASSES = 3
WITHIN_STEP = "within one step"  # the verdict for those (truthy, as True)


class StaleGradientCheck:
    """``arm(parameters)`` on a sampled step (after the optimizer's step), ``verdict()`` on the
    next step: True when that step's gradient still held the sampled step's, False when it was
    cleared, None when the step says nothing (no backward reached it, no optimizer step)."""

    def __init__(self, partner=True):
        # a second check at the other end of the model (in its parameters' order): a loop
        # with two optimizers that clears only one of them leaves the other part's gradients
        # growing, which one parameter in the cleared part never saw
        self._partner = StaleGradientCheck(partner=False) if partner else None
        self._param = None
        self._handle = None
        self._grad = None  # the parameter's gradient at the sample
        self._value = None  # and its value, to see that the optimizer stepped
        self._received = None  # what the next step's backward passes added
        self._version = None  # the parameter's version counter at the sample
        self._reached = False  # the next backward reached the parameter
        self._cleared = False  # its gradient was None then (nothing more is read)
        # within the step: (the parameter's version and value, the gradient it held, what
        # that pass added) at the last backward pass, and the passes in a row that found the
        # gradient the one before left, after an update in between
        self._pass = None
        self._inner = 0
        self._judged = None  # the parameter the last verdict was on (for its name)
        self._chosen = None  # the parameter checked at the last sample
        self.armed = False  # (an attribute, not a property: asked on every step)
        self._partner_stale = False  # the last verdict's True came from the partner

    def arm(self, parameters, fresh=False, squares=None):
        """``fresh``: before the first backward, when no parameter has a gradient yet (the
        fittest by size alone): an L-BFGS closure that never clears blows up within step 1,
        before the first sample's arming, so that step is judged too. ``squares``: {id(param):
        its gradient's squared norm} as read this step, where known (whether a gradient is all
        zero, without reading it again)."""
        self.disarm()
        if self._partner is not None:
            parameters = list(parameters)
        # the parameter checked last time while it still fits (no walk, no sort: ~20 us of a
        # sample, cold), else the fittest (``_fitness``; the first of equals) whose gradient
        # is not all zero. NOTE: ordered by size first and read only then: testing each
        # fitter one as it came read the first parameter's whole gradient (the bench MLP's
        # 784x512 weight, 1.6 MB: ~100 us of a sample) before a small bias was chosen
        chosen = self._chosen
        if self._partner is None and chosen is not None and not any(p is chosen
                                                                    for p in parameters):
            chosen = None  # (a partner's half changed with the first check's choice)
        if fresh:
            candidates = sorted((_fitness(param.numel()), position, param)
                                for position, param in enumerate(parameters)
                                if param.requires_grad and param.grad_fn is None)
            chosen = candidates[0][2] if candidates else None
        elif chosen is None or not (_candidate(chosen) and _nonzero(chosen, squares)):
            candidates = sorted((_fitness(param.numel()), position, param)
                                for position, param in enumerate(parameters)
                                if _candidate(param))
            chosen = next((param for _, _, param in candidates if _nonzero(param, squares)),
                          None)
        self._chosen = chosen
        if chosen is None:
            return
        if self._partner is not None and len(parameters) > 2:
            # the far end of the model from the first choice: its last layer (the last two
            # parameters, a head's weight and bias) unless the first choice is one of them,
            # else its first layer (a body and a head, or an encoder and a decoder, under two
            # optimizers: a split into halves put a regression head's optimizer, never
            # cleared, in a half whose fittest parameter was the body's)
            end = parameters[-2:]
            end = parameters[:2] if any(p is chosen for p in end) else end
            # (none too large to copy on a sample: a language model's head over a large
            # vocabulary, without a bias, is not followed)
            self._partner.arm([p for p in end if p.numel() <= PARTNER_ENTRIES], fresh, squares)
        # (its gradient is copied by the hook, when the next backward reaches it: not at all
        # where zero_grad() set it to None before)
        self._param = chosen
        self._value = chosen._data.copy()
        self._version = chosen._version
        self._handle = LeafObserver(chosen, self._add, accumulated=False)
        self.armed = True

    def name(self, model):
        """The name in ``model`` of the parameter the last ``verdict()`` judged (or of the one
        armed, before it): asked only for a finding (a walk over the model's parameters)."""
        if self._partner_stale:
            return self._partner.name(model)
        param = self._param if self._param is not None else self._judged
        return next((n for n, p in model.named_parameters() if p is param), "?")

    def _add(self, grad):
        param = self._param
        held = param._grad  # (the hook runs before the gradient is added)
        if not self._reached:
            self._reached, self._cleared = True, held is None
            if held is not None:
                # what it still holds of the sample's gradient (zeros: zero_grad(set_to_none=
                # False))
                self._grad = np.array(held._data, dtype=np.float64)
        elif self._pass is not None and self._inner < INNER_PASSES - 1:  # (undecided)
            self._inner_pass(param)
        data = np.array(grad._data, dtype=np.float64)  # (a copy: the hook's value is not ours)
        if not self._cleared:
            self._received = data if self._received is None else self._received + data
        # (each pass, while undecided: a loop that clears before the step, outside the closure,
        # leaves the first pass a None and the later ones what the passes before added)
        if self._inner < INNER_PASSES - 1:
            self._pass = (param._version, param._data.copy(),
                          None if held is None else np.array(held._data, dtype=np.float64),
                          data)

    def _inner_pass(self, param):
        """A later backward pass in the same step: whether it finds the gradient the pass
        before left, after the parameter moved in between (see the module docstring)."""
        version, value, held_before, added = self._pass
        held = param._grad
        moved = (param._version != version or param._data.shape != value.shape
                 or not (param._data == value).all())
        if not moved:
            return  # (micro-batches between two updates: accumulating on purpose, or not yet)
        if held is None or held._data.shape != added.shape:
            self._inner = 0
            return
        left = added if held_before is None else held_before + added
        now = np.asarray(held._data, dtype=np.float64)
        scale = float(np.abs(left).max())
        found = scale > 0 and float(np.abs(now - left).max()) <= MATCH * scale
        self._inner = self._inner + 1 if found else 0

    def within_step(self):
        """Whether the step in progress has already shown a closure that does not clear (its
        verdict will be ``WITHIN_STEP``): asked where the step is reported before its
        verdict, a value made non-finite inside it."""
        partner = self._partner
        return (self._param is not None and self._inner >= INNER_PASSES - 1) or (
            partner is not None and partner.within_step())

    def disarm(self):
        if self._partner is not None:
            self._partner.disarm()
        if self._handle is not None:
            self._handle.remove()
        self._param = self._handle = self._grad = self._value = self._received = None
        self._reached = self._cleared = self.armed = False
        self._pass, self._inner = None, 0

    def verdict(self):
        """True when either half's parameter still held the sample's gradient, else False
        when one was cleared, else None."""
        partner = self._partner.verdict() if self._partner is not None else None
        own = self._own_verdict()
        if WITHIN_STEP in (own, partner):
            self._partner_stale = own != WITHIN_STEP
            return WITHIN_STEP
        self._partner_stale = partner is True and own is not True
        return True if True in (own, partner) else False if False in (own, partner) else None

    def _own_verdict(self):
        if self._param is None:
            return None
        param, stale, received, value = self._param, self._grad, self._received, self._value
        data, grad, reached, cleared = param._data, param._grad, self._reached, self._cleared
        within = self._inner >= INNER_PASSES - 1
        # NOTE: an optimizer's step counts in the version (no read of the values); writes
        # through ``.data`` do not, so the values are compared when it did not change. Each
        # NumPy call here costs ~10 us (run cold, after the step's GEMMs).
        moved = (param._version != self._version or data.shape != value.shape
                 or not (data == value).all())
        self.disarm()
        self._judged = param
        if within:
            return WITHIN_STEP
        if not reached or grad is None or not moved:
            return None
        if cleared:  # zero_grad() set it to None since the sample: a healthy loop
            return False
        if received is None or grad._data.shape != stale.shape:
            return None
        # NOTE: every product the two readings need, from one product of the three vectors
        # with themselves (the step after a sample paid ~70 us for a dozen small NumPy calls)
        vectors = np.array([grad._data, received, stale], dtype=np.float64).reshape(3, -1)
        if not np.isfinite(vectors).all():
            return None
        (now_now, now_received, now_stale), (_, received_received, received_stale), \
            (_, _, stale_stale) = np.dot(vectors, vectors.T).tolist()
        # (the cleared reading first: a healthy loop's, which alone decides it)
        cleared = _residual(now_now, now_received, received_received)
        if cleared <= MATCH:
            return False
        if cleared < MISS:
            return None
        summed = _residual(now_now, now_stale + now_received,
                           stale_stale + 2 * received_stale + received_received)
        return True if summed <= MATCH else None


def _candidate(param):
    """Whether ``param`` can be checked: a leaf that requires grad and has a gradient."""
    return param.requires_grad and param._grad is not None and param.grad_fn is None


def _nonzero(param, squares):
    """Whether ``param``'s gradient has a nonzero value: from its squared norm read this step
    where ``squares`` has it (and it is finite), else read."""
    square = squares.get(id(param)) if squares else None
    if square is None or not math.isfinite(square):
        return bool(np.any(param._grad._data))
    return square > 0.0


def _fitness(size):
    """How good a parameter of ``size`` entries is to check, lowest best: the smallest of at
    least MIN_ENTRIES (a 2-class head's bias has one direction of gradient, g and -g, which
    cannot tell two readings apart), else the largest."""
    return (0, size) if size >= MIN_ENTRIES else (1, -size)


def _residual(now_now, now_reading, reading_reading):
    """How far a gradient ``now`` is from a ``reading`` times the best factor, relative to
    ``now``, from their products: the best factor is now.reading / reading.reading, and what
    it leaves, squared, is now.now - (now.reading)^2 / reading.reading. (Its square is
    1 - cos^2 of their angle, exact to ~1e-16 in float64: MATCH asks for ~1e-6.)"""
    if now_now == 0.0 or reading_reading == 0.0:
        return 1.0
    return max(0.0, 1.0 - now_reading * now_reading / (now_now * reading_reading)) ** 0.5
