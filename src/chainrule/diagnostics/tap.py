"""``GradientTap``: gradient norms read the moment each gradient is complete, cheaply.

A post-accumulate-grad hook on every watched parameter takes one dot product of its gradient
(the squared norm; a NaN or Inf anywhere makes it non-finite), during ``backward()``, before
the optimizer has used it, while the weights that made it are still there to run the step
again.

Reading every gradient on every step costs a pass over memory as large as the model (on a
small MLP, several percent of the step), so on steps that are not sampled the weight matrices
of layers whose own biases are watched are skipped: for a linear, convolutional or recurrent
layer, and attention's input projection, the bias's gradient is the sum of the gradient the
layer's output received (``dY``) and the weight's is ``dY`` times the layer's input, so a NaN
or Inf in the weight's gradient is in the bias's too (or in the input, which the forward
already carried to the output). These ``covered`` matrices are read in full on sampled steps,
when every norm is needed; on every step, a fixed sixteenth of their rows estimates their norm
(see ``_hook``). Everything else (biases, normalisation scales, embeddings, layers without
a bias) is read in full every step. ``total()`` is the norm the explosion rule follows (the
same reads on every step), ``layer_norms(full=True)`` on a sampled step holds every
parameter's exact norm.
"""

import functools
import math
import re
import sys

import numpy as np

from .. import kernels, nn
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


ESTIMATE_ROWS = 16  # a covered weight's every-step norm is read from 1/16 of its rows
ESTIMATE_FROM = 65536  # values; smaller matrices are read whole


def _reader():
    """The squared norm for this step's reads: ``squared_norm``, or where the compiled sum
    applies (numba loaded, kernels on), a function taking it for small float32 arrays without
    asking again for each (the settings cannot change inside a backward)."""
    module = kernels.load("norms", size=ANY_SIZE) if "numba" in sys.modules else None
    if module is None:
        return squared_norm
    kernel = module.squared_norm

    def read(array):
        if array.size <= KERNEL_SIZE and array.dtype is _FLOAT32 and array.flags.writeable:
            return kernel(array.ravel())
        return squared_norm(array)
    return read


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
        # estimated (see _hook); ``total()`` sums these
        self.watched = {}
        self.ever = set()
        self._read_now = set()  # covered weights read in full this step (read_in_full)
        self._read = None  # this step's squared norm (see _reader)
        self._params = [p for _, p in params]
        self._handles = []
        self.attach()

    def attach(self):
        if not self._handles:
            self._handles = [p.register_post_accumulate_grad_hook(self._hook)
                             for p in self._params]

    def close(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def reset(self):
        self._read = None  # chosen again at the next step's first read (see _reader)
        self.squares = {}
        self.watched = {}  # a new dict, not cleared: a step_norms() of an earlier step reads it
        if self._read_now:
            self._read_now = set()

    def read_in_full(self, tensor):
        """``tensor`` is used outside its layer's forward this step (in the loss): if it is a
        covered weight, its bias no longer stands for it, so read it this step."""
        if id(tensor) in self.covered:
            self._read_now.add(id(tensor))

    def _hook(self, param):
        grad = param._grad
        if grad is None:
            return
        key = id(param)
        layer = self.layer_of[key]
        self.ever.add(layer)
        array = grad._data
        read = self._read or self._new_reader()
        if key not in self.covered:
            value = self.squares[key] = self.watched[key] = read(array)
        else:
            # a covered weight's every-step norm is estimated from a fixed block of its first
            # rows (1/16 of them; the whole matrix when it is small) scaled to the whole: the
            # same rows on every step, so that it follows the norm's growth (an explosion
            # grows the layer's inputs as well as its output gradient, which the bias alone
            # does not show) for a sixteenth of the reads
            rows = array.shape[0]
            if array.size <= ESTIMATE_FROM or rows < ESTIMATE_ROWS:
                value = self.watched[key] = read(array)
                if not self.full and key not in self._read_now:
                    return
            else:
                block = rows // ESTIMATE_ROWS
                self.watched[key] = read(array[:block]) * (rows / block)
                if not self.full and key not in self._read_now:
                    return
                value = read(array)
            self.squares[key] = value
        if not math.isfinite(value):
            found = kinds(array)
            if found:
                self.on_nonfinite(layer, describe(found))

    def _new_reader(self):
        self._read = _reader()
        return self._read

    def total(self):
        """The norm of this step's gradients read every step, together (0 if none)."""
        return math.sqrt(math.fsum(self.watched.values()))

    def layer_norms(self, full=False):
        """{layer: gradient norm} of the parameters read every step, or with ``full`` of every
        parameter read this step (all of them on a sampled step)."""
        return _layer_norms(self.layer_of, self.squares if full else self.watched)

    def step_norms(self):
        """A function returning this step's ``layer_norms()``, still this step's when it is
        called steps later (``reset()`` starts new dicts rather than clearing these): the
        explosion rule keeps it for a reference step and computes it only if it needs it."""
        return functools.partial(_layer_norms, self.layer_of, self.watched)


def _layer_norms(layer_of, squares):
    """{layer: gradient norm} from {id(parameter): squared gradient norm}."""
    totals = {}
    for key, value in squares.items():
        layer = layer_of[key]
        totals[layer] = totals.get(layer, 0.0) + value
    return {layer: math.sqrt(value) for layer, value in totals.items()}
