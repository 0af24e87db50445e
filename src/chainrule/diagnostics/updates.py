"""How far a sampled step's update moved each weight matrix, for less than a copy of the model.

The stall rule asks whether one update moved a layer's weights by less than ``stall_low`` (1e-6)
of their size, where a healthy update moves them by about 1e-3. The update's norm taken exactly
needs the weights from before the step: a copy of every matrix (reading the weights, writing the
copy) and, after the step, a pass over both. On the bench MLP that was 1.2 ms a sample, a
quarter of its step, the largest part of what sampling costs.

So a large matrix is copied only in every ``ROW_STRIDE``-th row (rows are output units or
channels), and its norm before the step is estimated from those rows (see below). Those rows'
update is a lower bound of the whole update: when it alone reaches the rule's threshold, the
layer is certainly not stalled, whatever its other rows did, and the ratio reported is the
rows' update scaled to the whole matrix. When it does not (a stalled layer, or one whose
sampled rows did not move: output units no gradient reaches), the lower bound is reported,
which is below the threshold as the exact ratio of a stalled layer is, and from the next sample
on the layer's matrices are copied whole and measured exactly, until an update is seen above
the threshold. A stalled layer is therefore found at the same sample as with exact
measurements; a layer whose sampled rows alone stood still counts one sample as stalled, which
two exact samples after it undo unless the layer really stalls then. Matrices of at most
``WHOLE_UP_TO`` values (or fewer than ``2 * ROW_STRIDE`` rows) are always copied whole.

After the step such a matrix is not read whole again either: its norm after the update is its
norm before plus its sampled rows' change scaled to the whole (``_after_estimate``). Only the
change is extrapolated, which a healthy update keeps to about 1e-3 of the norm, against
thresholds (weights doubled in one update, a gradient 100x its weights) orders of magnitude
away. NOTE: the whole read after the step was 140-160 us of the bench MLP's ~860 us sample.

Nor is it read whole before the step, where the sampled rows' squared norms agree: their sum
scaled to the whole matrix is then its squared norm within ``ESTIMATE_ERROR`` (5%, one standard
error of that sum, from the rows' own spread), against thresholds of 2x (weights doubled),
100x (a gradient amplified) and 1e3x (updates as large as the weights, or a millionth of
them) away from healthy values. Where the rows differ more (some units grown, others dead or
zero), or are all zero, the matrix is read whole, exactly. NOTE: the whole read was ~120 us
of the bench MLP's step before a sample (2.6 MB from L3), now ~7 us (the rows' norms and spread
come with their copy, kernels/sampled.py). The sampled rows after the update are read in place
(every ``ROW_STRIDE``-th row of the matrix, by index), not gathered into a copy first.
"""


import math

import numpy as np

from .. import kernels
from .tap import squared_norm, update_kernel, whole_norm_kernel

ROW_STRIDE = 16
WHOLE_UP_TO = 65536  # values: smaller matrices are copied whole (their copy costs little)
ESTIMATE_ERROR = 0.05  # the rows' norm stands for the whole's within this, else it is read


class UpdateMeter:
    """Copies taken before a sampled step (``take``), the norms of the update after it
    (``norms``), and the ratio a layer's update is reported as (``ratio``)."""

    def __init__(self, stall_low):
        self.stall_low = stall_low
        self.exact = set()  # layers whose matrices are copied whole (see the module docstring)
        self.before = None  # id(matrix) -> (its copy, or its rows', squared norm before or None)
        self._buffers = {}  # (id(matrix), whole) -> the buffer its copies are taken into

    def take(self, layers):
        """Before a sampled step's update: copy each weight matrix of ``layers`` ([(name,
        module, [(parameter name, parameter)])]), or its sampled rows and norm."""
        self.before = {id(p): self._take(p, name in self.exact) for name, _, params in layers
                       for _, p in params if p.ndim >= 2}

    def clear(self):
        self.before = None

    def _take(self, param, whole):
        array = param._data
        whole = whole or array.size <= WHOLE_UP_TO or array.shape[0] < 2 * ROW_STRIDE
        if whole:
            return self._copy(id(param), True, array), None
        source = array[::ROW_STRIDE]
        module = _sampled_kernels(array)
        if module is None:
            rows = self._copy(id(param), False, source)
            squares = _row_squares(rows)
            sums = float(squares.sum()), float(np.dot(squares, squares))
        else:  # the copy and the rows' norms in one pass (one call: each costs ~10 us cold)
            rows = self._buffer(id(param), False, source)
            sums = module.copy_rows(array.reshape(array.shape[0], -1), ROW_STRIDE,
                                    rows.reshape(rows.shape[0], -1))
        return rows, _norm_before(array, rows.shape[0], *sums)

    def _copy(self, key, whole, source):
        """``source`` copied into a buffer kept from one sample to the next (``_buffer``)."""
        buffer = self._buffer(key, whole, source)
        np.copyto(buffer, source)
        return buffer

    def _buffer(self, key, whole, source):
        """A buffer for a copy of ``source``, kept from one sample to the next: fresh memory as
        large as the weights costs a page fault per 4 KB on every sample (measured: most of
        a sample's cost on the bench MLP), a copy into memory already touched only the copy."""
        buffer = self._buffers.get((key, whole))
        if buffer is None or buffer.shape != source.shape or buffer.dtype != source.dtype:
            buffer = self._buffers[key, whole] = np.empty(source.shape, source.dtype)
        return buffer

    def norms(self, param):
        """Squared norms of ``param`` after the update (estimated from the sampled rows, see
        ``_after_estimate``, unless it was copied whole) and before it, the squared norm of the
        update (of its sampled rows only: a lower bound), that of the update scaled to the
        whole matrix, and whether it was copied whole (then all are exact, the last two
        equal)."""
        copy, before = self.before[id(param)]
        after = param._data
        if before is None:  # copied whole
            if after.shape == copy.shape and after.dtype == copy.dtype:
                kernel = update_kernel(after)
                if kernel is not None:
                    after_square, before_square, moved = kernel(after.reshape(-1),
                                                                copy.reshape(-1))
                    return after_square, before_square, moved, moved, True
            # the copy's norm before ``_moved`` writes the update over it
            before_square = squared_norm(copy)
            moved = squared_norm(_moved(after, copy))
            return squared_norm(after), before_square, moved, moved, True
        # the sampled rows after the update: their norms after and before and their update's
        # in one pass (and the matrix is not read whole again), read in place where compiled
        scale = after.shape[0] / copy.shape[0]
        module = _sampled_kernels(after)
        if module is not None and after[::ROW_STRIDE].shape == copy.shape:
            rows_after, rows_before, moved = module.update_rows(
                after.reshape(after.shape[0], -1), copy.reshape(copy.shape[0], -1), ROW_STRIDE)
            return (_after_estimate(before, rows_after, rows_before, scale), before, moved,
                    moved * scale, False)
        rows = self._copy((id(param), "after"), True, after[::ROW_STRIDE])
        kernel = update_kernel(rows) if rows.shape == copy.shape else None
        if kernel is not None:
            rows_after, rows_before, moved = kernel(rows.reshape(-1), copy.reshape(-1))
        else:
            rows_after, rows_before = squared_norm(rows), squared_norm(copy)
            moved = squared_norm(_moved(rows, copy))
        return (_after_estimate(before, rows_after, rows_before, scale), before, moved,
                moved * scale, False)

    def ratio(self, name, before, moved, estimate, whole, natural):
        """The update ratio reported for layer ``name``: its update's norm over the larger of
        its weights' norm before the step and its natural size. ``moved``: the update's norm,
        a lower bound unless every matrix was copied ``whole``; ``estimate``: scaled to the
        whole. Decides whether the layer's next samples are measured whole."""
        scale = max(before, natural)
        if moved >= self.stall_low * scale:  # certainly not stalled
            self.exact.discard(name)
            return estimate / scale
        if not whole:  # sampled rows only, and they did not decide: whole from now on
            self.exact.add(name)
        return moved / scale


def _after_estimate(before, rows_after, rows_before, scale):
    """A row-sampled matrix's squared norm after the update: its exact norm before, plus the
    change of its sampled rows' squared norms scaled to the whole matrix. Only the change is
    extrapolated, so the error is a share of the change (a healthy update moves the weights
    by about 1e-3 of their size: the estimate is then within about 1e-3 of the exact norm),
    not of the norm; an update that grows every row (an explosion) grows the sampled ones
    alike. Never below what the sampled rows alone hold after the update."""
    return max(before + (rows_after - rows_before) * scale, rows_after)


def _norm_before(array, count, total, spread):
    """A row-sampled matrix's squared norm before the update: that of its ``count`` sampled
    rows (``total``, the sum of their squared norms s_i; ``spread``, the sum of s_i ** 2)
    scaled to the whole where they agree within ESTIMATE_ERROR, else the whole matrix's."""
    mean = total / count
    variance = max(spread / count - mean * mean, 0.0) * count / (count - 1)
    # (one standard error of the scaled sum, relative to it: sqrt(variance / count) / mean)
    if mean > 0 and variance <= ESTIMATE_ERROR ** 2 * mean * mean * count:
        return total * (array.shape[0] / count)
    return _norm(array)


def _row_squares(rows):
    """Each row's squared norm, in float64 (NumPy's: ``copy_rows`` computes them compiled)."""
    wide = rows.reshape(rows.shape[0], -1).astype(np.float64)
    return np.einsum("ij,ij->i", wide, wide)


def _sampled_kernels(array):
    """The compiled row reads (kernels/sampled.py) for ``array``, or None."""
    return kernels.if_loaded("sampled", array)


def _norm(array):
    """The squared norm of a whole matrix, summed in float64 where it is float32: compiled
    (NumPy's dot would sum a float32 matrix in float32)."""
    kernel = whole_norm_kernel(array)
    return squared_norm(array) if kernel is None else kernel(array.reshape(-1))


def _moved(after, copy):
    """How the update moved ``after``: written over ``copy`` (no new array as large as the
    weights on every sample); a new array where the parameter changed shape or dtype."""
    if copy.shape != after.shape or copy.dtype != after.dtype:
        return after - copy
    return np.subtract(after, copy, out=copy)



# -- the optimizer's own settings -------------------------------------------------------------
# Mistakes that make the optimizer another one than meant, which the update's size cannot tell
# apart from a healthy optimizer of that other kind (Adam whose eps dwarfs the gradients is
# SGD at lr / eps; SGD whose velocity never decays looks like SGD at a rising rate): read from
# the optimizer itself: on each sample, the monitor asks every live optimizer that steps one of
# its model's parameters (see docs/diagnostics.md, optimizer settings).
MOMENTUM_NEVER_DECAYS = 1.0  # SGD/RMSprop momentum at or above this: the velocity adds up all
BETA2_LEAST = 0.5  # Adam's beta2 below this: its second moment is under two steps' squares
MOMENT_VALUES = 4096  # a second moment's values its RMS is read from (the first ones)
EPS_DWARFS = 10.0  # Adam's eps this x the gradients' RMS (sqrt of the second moment) or more
EPS_REACHES = 1.0  # ...and this x the largest RMS of the group's parameters or more


def settings_problems(optimizer, moments=True):
    """[(kind, group index, value)] for the settings of ``optimizer`` that make it another
    optimizer than meant: 'momentum' (>= 1: the velocity never decays, each update adds up
    every gradient since the start), 'beta2' (< BETA2_LEAST: Adam's step m / sqrt(v) has no
    bound where a gradient shrinks), 'eps' (EPS_DWARFS x the RMS of the gradients in most of
    a group's parameters: Adam divides by eps, a step lr / eps times the gradient: SGD with a
    tiny rate; a clip far below the gradients' norm does the same to a default eps), read
    from the second moments only with ``moments``."""
    problems = []
    for index, group in enumerate(optimizer.param_groups):
        momentum = group.get("momentum")
        if isinstance(momentum, (int, float)) and momentum >= MOMENTUM_NEVER_DECAYS:
            problems.append(("momentum", index, float(momentum)))
        betas = group.get("betas")
        if isinstance(betas, (tuple, list)) and len(betas) == 2:
            if betas[1] < BETA2_LEAST:
                problems.append(("beta2", index, float(betas[1])))
            eps = group.get("eps")
            if moments and isinstance(eps, (int, float)) and eps > 0:
                ratios = _eps_over_rms(optimizer, group, betas[1], eps)
                # (a default eps above the median parameter's RMS but far below another's: those
                # gradients vanished upstream, eps slows nothing that learns; a mixture of
                # experts whose router sent every row to one expert, the other three's
                # gradients 1e-11, was told to set the eps it already had)
                if ratios is not None and ratios[0] >= EPS_DWARFS and ratios[1] >= EPS_REACHES:
                    problems.append(("eps", index, ratios[0]))
    return problems


def _eps_over_rms(optimizer, group, beta2, eps):
    """(eps over the gradients' RMS in the median parameter of ``group``, eps over the largest
    parameter's RMS; each parameter's RMS from its bias-corrected second moment), or None
    before the optimizer has stepped."""
    rms = []
    for param in group["params"]:
        state = optimizer.state.get(param) if hasattr(optimizer.state, "get") else None
        moment = state.get("exp_avg_sq") if state else None
        step = state.get("step") if state else None
        if moment is None or step is None:
            continue
        step = float(getattr(step, "_data", step))
        if step < 1:
            continue
        correction = 1.0 - beta2 ** step if beta2 < 1 else 1.0
        # (its first values stand for it: the check is by orders of magnitude, and a mean
        # over every moment of a large model read 2.6 MB on the bench MLP at each sample).
        # Only entries a gradient reached: rows of an embedding whose tokens were not seen,
        # and branches initialised at zero, hold no gradient, not a small one
        values = moment._data.reshape(-1)[:MOMENT_VALUES]
        values = values[values > 0]
        if not values.size:
            continue
        mean = float(np.mean(values, dtype=np.float64)) / max(correction, 1e-12)
        if not math.isfinite(mean):
            continue  # (an exploded run's moments say nothing of eps)
        rms.append(math.sqrt(max(mean, 0.0)))
    if not rms:
        return None
    rms.sort()
    return eps / rms[len(rms) // 2], eps / rms[-1] if rms[-1] > 0 else math.inf
