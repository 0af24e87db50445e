"""``GradientTap``: gradient norms read at the end of the backward that completes them, cheaply.

An observer on every watched parameter (``LeafObserver``) notes that its gradient was set (the
observer is a list's own ``append``: no Python runs), and the engine's end-of-backward observer
takes one dot product of each noted gradient (the squared norm; a NaN or Inf anywhere makes it
non-finite), still inside ``backward()``, before the optimizer has used it, while the weights
that made it are still there to run the step again. One loop over the gradients at the end
costs less than a Python hook per parameter: a hook's code runs cold inside the step, the
loop's warms after its first parameter.

Reading every gradient on every step costs a pass over memory as large as the model (on a
small MLP, several percent of the step), so on steps that are not sampled the weight matrices
of layers whose own biases are watched are skipped: for a linear, convolutional or recurrent
layer, and attention's input projection, the bias's gradient is the sum of the gradient the
layer's output received (``dY``) and the weight's is ``dY`` times the layer's input, so a NaN
or Inf in the weight's gradient is in the bias's too (or in the input, which the forward
already carried to the output). These ``covered`` matrices are read in full on sampled steps,
when every norm is needed; on every step, a fixed block of their rows (a 64th, at least 8
rows, at most a sixteenth) estimates their norm (see ``_read_arrived``). Everything else
(biases, normalisation scales, embeddings, layers without a bias) is read in full every step.
``total_norm`` is the norm the explosion rule follows (the same reads on every step),
``layer_norms(full=True)`` on a sampled step holds every parameter's exact norm.
"""

import math
import re
import sys

import numpy as np

from .. import kernels, nn
from ..autograd.engine import add_backward_end_observer
from ..autograd.leaves import LeafObserver
from .nonfinite import describe, kinds

# Layers whose weights' gradients are the output gradient times the input, and whose biases'
# are the output gradient summed: a watched bias stands for them (see the module docstring).
BIASED_LAYERS = tuple(getattr(nn, name) for name in (
    "Linear", "Bilinear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell",
    "GRUCell", "MultiheadAttention",
) if hasattr(nn, name))


# The weights a bias stands for, by their names in those layers (weight_ih_l0, in_proj_weight,
# ...). Others (weight_g and weight_v of a weight norm, anything added by hand) are read always.
_COVERED_NAME = re.compile(r"(weight|weight_[ih]h(_l\d+(_reverse)?)?|(in|q|k|v)_proj_weight)")


def covered_weights(module, params):
    """The ids of ``params`` (the module's own, [(name, parameter)]) whose gradients its
    watched biases stand for: the standard weights of a layer in BIASED_LAYERS that has a
    trainable 1-D parameter (its bias) among ``params``."""
    if not isinstance(module, BIASED_LAYERS):
        return set()
    if not any(p.ndim == 1 and p.requires_grad for _, p in params):
        return set()
    return {id(p) for name, p in params
            if p.ndim >= 2 and _COVERED_NAME.fullmatch(name.rpartition(".")[2])}


KERNEL_SIZE = 1 << 16  # up to here the compiled sum is cheaper than BLAS in np.errstate


_FLOAT32 = np.dtype(np.float32)
ANY_SIZE = sys.maxsize  # the tap chooses by size itself (KERNEL_SIZE), not by kernels.min_size


def _kernels(array):
    """The compiled norms (kernels/norms.py) for ``array``, when numba is already loaded by the
    model's own ops (a monitor alone does not pay for its import) and kernels are on; else
    None. A read-only array would compile another specialisation: NumPy reads it."""
    # NOTE: an identity test on the dtype (a native float32 array's dtype is NumPy's one
    # instance; others take NumPy's path, which is also right): ``dtype != np.float32`` builds
    # a dtype to compare with, a tenth of a per-step read's cost
    if array.dtype is not _FLOAT32 or "numba" not in sys.modules or not array.flags.writeable:
        return None
    return kernels.load("norms", size=ANY_SIZE)


def whole_norm_kernel(array):
    """The compiled squared norm for ``array`` whatever its size (``squared_norm`` takes
    NumPy's float32 dot above KERNEL_SIZE), or None."""
    module = _kernels(array)
    return None if module is None else module.squared_norm


def update_kernel(array):
    """The compiled one-pass norms of a weight matrix after and before an update, or None."""
    module = _kernels(array)
    return None if module is None else module.update_norms


def squared_norm(array):
    """The squared 2-norm of an array, without float32 overflow."""
    # NOTE: the per-step reads (biases, blocks of rows) are small: the compiled sum in float64
    # needs no np.errstate, which costs more than these reads (the test is _kernels', inline:
    # every call here is paid once per parameter and step)
    if (array.size <= KERNEL_SIZE and array.dtype is _FLOAT32 and "numba" in sys.modules
            and array.flags.writeable):
        module = kernels.load("norms", size=ANY_SIZE)
        if module is not None:
            return module.squared_norm(array.ravel())
    flat = array.reshape(-1)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(np.dot(flat, flat))
    except TypeError:  # a dtype BLAS does not take
        value = math.inf
    if math.isinf(value) and np.isfinite(flat).all():
        wide = flat.astype(np.float64)
        value = float(np.dot(wide, wide))
    return value


ESTIMATE_ROWS = 64  # a covered weight's every-step norm is read from 1/64 of its rows,
ESTIMATE_LEAST = 8  # but at least 8 of them (at most a sixteenth)
ESTIMATE_FROM = 65536  # values; smaller matrices, and those of fewer than 16 rows, read whole


def estimate_block(rows):
    """How many first rows of a large covered weight estimate its every-step norm.
    NOTE: a sixteenth of the rows before (the bench MLP's 100 and 64 KB blocks, read back from
    L3 after the backward): the tap's end-of-backward loop 29 -> 24 us a step (one thread,
    medians of 1,000 steps), and 8 rows still follow an explosion, which grows every row."""
    return max(rows // ESTIMATE_ROWS, min(ESTIMATE_LEAST, rows // 16))


def _compiled_sum():
    """The compiled squared norm (kernels/norms.py) where it applies now (numba loaded by the
    model's own ops, kernels on), else None: its machine code for a writable, aligned,
    contiguous 1-D float32 array, called without numba's dispatch (``_entry_point``), once
    compiled. Asked once per backward, not per read: the settings cannot change inside one."""
    # NOTE: once the entry point is known only ``use_kernels`` can change the answer: asking
    # sys.modules, kernels.load and the dispatcher again on every backward cost 5.5 us there
    # (cold lookups, measured in the mlp step's end-of-backward loop)
    entry = _found[0]
    if entry is not None:
        return entry if kernels.enabled() else None
    if "numba" not in sys.modules:
        return None
    module = kernels.load("norms", size=ANY_SIZE)
    if module is None:
        return None
    dispatcher = module.squared_norm
    entry = _entry_point(dispatcher)
    if entry is None:
        return dispatcher  # not compiled yet: its first call compiles it
    _found[0] = entry
    return entry


_found = [None]  # the compiled sum's entry point, once it is there (``_entry_point``)


def _entry_point(dispatcher):
    """``dispatcher``'s compiled code for a writable, aligned, C-contiguous 1-D float32 array,
    as a function that takes the array without numba's type dispatch, or None (not compiled
    yet, or a numba whose dispatcher keeps it elsewhere). NOTE: the dispatch is a third of a
    read's cost warm (330 against 240 ns) and more cold: the tap's end-of-backward loop on the
    mlp step 36-37 -> 31-31.5 us (median of 400, one process, blocks alternating). The caller
    must pass only such arrays: the entry point does not check the type."""
    from numba import types

    result = getattr(dispatcher, "overloads", {}).get((types.Array(types.float32, 1, "C"),))
    return getattr(result, "entry_point", None)


def _read(array, compiled):
    """``squared_norm(array)``; ``compiled``: the compiled sum (``_compiled_sum``), when
    ``array`` is float32, writable and aligned (its ravel is then such a 1-D array), else
    None."""
    if compiled is not None and array.size <= KERNEL_SIZE:
        return compiled(array.ravel())
    return squared_norm(array)


def _block_of(array):
    """How many first rows estimate a covered weight's norm: ``estimate_block``, or 0 for
    the whole matrix (a small one)."""
    rows = array.shape[0]
    return 0 if array.size <= ESTIMATE_FROM or rows < 16 else estimate_block(rows)


class GradientTap:
    """Hooks ``params`` ([(layer name, parameter)]); ``covered``: ids of parameters read only
    while ``full`` is set (sampled steps). ``squares``: {id(parameter): squared gradient norm}
    seen since ``reset()``; ``ever``: layers that ever got a gradient; ``on_nonfinite(layer,
    kind)`` is called for a non-finite gradient, during backward."""

    def __init__(self, params, on_nonfinite, covered=()):
        self.layer_of = {id(p): layer for layer, p in params}
        self.on_nonfinite = on_nonfinite
        self.covered = set(covered)
        self.full = True  # read every parameter (set by the monitor for each step)
        self.squares = {}  # id(parameter) -> squared norm of its latest gradient
        # id(parameter) -> the squared norm read every step: in full, or for a covered weight
        # estimated (see _read_arrived); ``total_norm`` is their sum's root
        self.watched = {}
        self.ever = set()
        self._layer_count = len(set(self.layer_of.values()))  # ``ever`` complete at this size
        # a layer's first gradient came after other layers' (a frozen layer made trainable):
        # the total norm is of more parameters from this step on (the monitor clears it)
        self.joined = False
        self._read_now = set()  # covered weights read in full this step (read_in_full)
        self._params = [p for _, p in params]
        self._handles = []
        self._arrived = []  # parameters whose gradient is complete, not read yet
        self._blocks = {}  # id(covered weight) -> rows its estimate reads (0: all), once
        # the norm of ``watched`` together, taken as the backward ends (0 if none): the one
        # the explosion rule follows. NOTE: an attribute, not a method: read on every step
        self.total_norm = 0.0
        self._remove_end_observer = None
        self.attach()

    def attach(self):
        if not self._handles:
            # a parameter's observer only notes that its gradient was set (a list's own append:
            # no Python runs); the backward's end reads them all, totals by then, in one loop
            self._handles = [LeafObserver(p, self._arrived.append) for p in self._params]
            self._remove_end_observer = add_backward_end_observer(self._read_arrived)

    def close(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._remove_end_observer is not None:
            self._remove_end_observer()
            self._remove_end_observer = None
        self._arrived.clear()

    def reset(self, full=True):
        """A new step: nothing read yet; ``full``: read every parameter in it (sampled)."""
        self.full = full
        self.total_norm = 0.0
        self.squares = {}
        self.watched = {}  # a new dict, not cleared: the rules keep earlier steps' (norms_of)
        if self._read_now:
            self._read_now = set()

    def read_in_full(self, tensor):
        """``tensor`` is used outside its layer's forward this step (in the loss): if it is a
        covered weight, its bias no longer stands for it, so read it this step."""
        if id(tensor) in self.covered:
            self._read_now.add(id(tensor))

    def _read_arrived(self):
        """At the end of a backward: read the gradients completed in it, in the order they
        were completed (nearest the loss first), before the optimizer uses them."""
        arrived = self._arrived
        if not arrived:
            return
        params = arrived[:]
        arrived.clear()  # a re-run's backward, started from on_nonfinite, ends here too
        kernel = _compiled_sum()
        layer_of, covered = self.layer_of, self.covered
        squares, watched = self.squares, self.watched
        # a layer is added to ``ever`` at most once: once every layer is in, the loop stops
        # asking (it runs once per parameter and step, cold after the backward)
        ever = self.ever if len(self.ever) < self._layer_count else None
        known = len(ever) if ever is not None else 0
        # NOTE: non-finite values are searched for only after the loop, when the sum or a full
        # read of a covered weight says there may be one
        full, read_now, blocks = self.full, self._read_now, self._blocks
        total = 0.0
        whole = []  # (key, array, compiled) of the covered weights read in full, in order
        for param in params:
            grad = param._grad
            if grad is None:  # taken away by a hook after it (an optimizer run in backward)
                continue
            key = id(param)
            if ever is not None:
                ever.add(layer_of[key])
            array = grad._data
            # The compiled sum's entry point takes only aligned float32 arrays. An array that
            # owns its memory (a gradient a GEMM made) has NumPy's alignment: only views pay
            # for ``flags``, an object made per call. (A read-only one: the entry point only
            # reads; numba's dispatcher, before the first compile, compiles it once more.)
            # NOTE: an identity test on the dtype (a native float32 array's dtype is NumPy's
            # one instance; others take NumPy's path, also right): ``dtype != np.float32``
            # builds a dtype to compare with, a tenth of a per-step read's cost
            compiled = None
            owned = False
            if kernel is not None and array.dtype is _FLOAT32:
                if array.base is None:
                    compiled, owned = kernel, True
                else:
                    flags = array.flags
                    if flags.writeable and flags.aligned:
                        compiled = kernel
            # NOTE: ``_read`` inline for the every-step reads (a call per parameter and step,
            # cold: 6 of the 37 Python calls the bench MLP's monitor made per step). A 1-D
            # array owning its memory is the contiguous 1-D array the entry point takes: no
            # ravel (a new view object per bias and step)
            if key not in covered:
                value = (compiled(array if owned and array.ndim == 1 else array.ravel())
                         if compiled is not None and array.size <= KERNEL_SIZE
                         else squared_norm(array))
                squares[key] = watched[key] = value
                total += value
                continue
            # a covered weight's every-step norm is estimated from a fixed block of its first
            # rows (``estimate_block``; the whole matrix when it is small) scaled to the
            # whole: the same rows on every step, so that it follows the norm's growth (an
            # explosion grows the layer's inputs as well as its output gradient, which the
            # bias alone does not show) for a fraction of the reads
            block = blocks.get(key)
            if block is None:
                block = blocks[key] = _block_of(array)
            part = array[:block] if block else array
            value = (compiled(part.ravel()) if compiled is not None and part.size <= KERNEL_SIZE
                     else squared_norm(part))
            if block:
                value *= array.shape[0] / block
                if full or key in read_now:
                    whole.append((key, array, compiled))
            elif full or key in read_now:
                squares[key] = value
            watched[key] = value
            total += value
        # NOTE: the whole reads (sampled steps) last made first: the last gradient the
        # backward made is the one most likely still in the core's cache
        for key, array, compiled in reversed(whole):
            squares[key] = _read(array, compiled)
        if len(watched) != len(params):  # also read by an earlier backward of this step
            total = math.fsum(watched.values())
        if known and len(ever) > known:
            self.joined = True
        self.total_norm = math.sqrt(total)
        if full or read_now or not math.isfinite(total):
            self._report_nonfinite(params)

    def _report_nonfinite(self, params):
        """``on_nonfinite`` for each of ``params`` whose gradient read this step in full is
        not finite, in the order they were read."""
        squares = self.squares
        for param in params:
            value = squares.get(id(param))
            if value is None or math.isfinite(value) or param._grad is None:
                continue
            array = param._grad._data
            found = kinds(array)
            if found:
                self.on_nonfinite(self.layer_of[id(param)], describe(found))

    def layer_norms(self, full=False):
        """{layer: gradient norm} of the parameters read every step, or with ``full`` of every
        parameter read this step (all of them on a sampled step)."""
        return norms_by_layer(self.layer_of, self.squares if full else self.watched)

    def norms_of(self, squares):
        """{layer: gradient norm} from a step's ``watched`` (``reset()`` starts new dicts
        rather than clearing these, so a step's stays its own): the explosion rule keeps
        each step's and turns the reference step's into layer norms only when a jump comes."""
        return norms_by_layer(self.layer_of, squares)


def norms_by_layer(layer_of, squares):
    """{layer: gradient norm} from {id(parameter): squared gradient norm}."""
    totals = {}
    for key, value in squares.items():
        layer = layer_of[key]
        totals[layer] = totals.get(layer, 0.0) + value
    return {layer: math.sqrt(value) for layer, value in totals.items()}
