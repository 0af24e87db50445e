"""Dead and saturated units, measured on the outputs of activations during sampled forwards.

Watched: activation modules (ReLU, ReLU6, Sigmoid, Tanh, Hardtanh), the outputs of recurrent
layers (RNN, LSTM, GRU and their cells: a tanh RNN's output is a tanh, an LSTM's or GRU's is
read like a tanh; a ReLU RNN's is a ReLU), and functional calls (``F.relu``,
``torch.sigmoid``, ``x.tanh()``) made inside other modules' ``forward``, named after the module
they ran in (``block.ff:Relu[0]``). A module used at several places is measured at each call
(``act[0]``, ``act[1]``). For a one-layer LSTM or GRU the gates and candidate values are
measured (rebuilt from the layer's input, output and initial state, in each direction: an
LSTM's output is o * tanh(c), near 0 rather than at an asymptote when its gates saturate): more
than half of them pinned at 0 or 1 is as saturated as a tanh layer. An activation whose output
is the model's output is left out (a final sigmoid should be confident).

A unit is dead when it is inactive on every input, which needs enough inputs to say: a healthy
ReLU unit is off for about half of the inputs, so with one input half the units look dead.
Evidence is therefore pooled over consecutive steps until ``min_inputs`` inputs were seen.
"""

import sys

import numpy as np

from .. import nn
from ..autograd.engine import add_forward_observer

RELU_MODULES = tuple(getattr(nn, name) for name in ("ReLU", "ReLU6") if hasattr(nn, name))
SATURATING_MODULES = tuple((getattr(nn, name), kind) for name, kind in (
    ("Sigmoid", "sigmoid"), ("Hardsigmoid", "sigmoid"), ("Tanh", "tanh"), ("Hardtanh", "tanh"),
) if hasattr(nn, name))
RECURRENT_MODULES = (nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell)
FUNCTIONAL_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}
MAX_WINDOW = 64  # steps a measurement may wait for enough inputs before it is dropped


def unit_axis(ndim):
    """Which axis holds the units: features for (N, F) and (N, L, F), channels for images."""
    return 1 if ndim >= 4 else ndim - 1


def inputs_in(array):
    """How many inputs an output holds: samples, and positions of a sequence (not pixels)."""
    if array.ndim <= 1:
        return 1
    return int(np.prod(array.shape[:2])) if array.ndim == 3 else int(array.shape[0])


def kind_of(module):
    """"relu", "sigmoid" or "tanh" for a watched module, else None."""
    if isinstance(module, RELU_MODULES):
        return "relu"
    for cls, kind in SATURATING_MODULES:
        if isinstance(module, cls):
            return kind
    if isinstance(module, RECURRENT_MODULES):
        return "relu" if getattr(module, "nonlinearity", "tanh") == "relu" else "tanh"
    return None


def gate_saturation(module, args, output, eps):
    """For a one-layer LSTM or GRU (either direction, or both): (saturated, total) over its
    gates and candidate values at every step, from pre-activations rebuilt from its input, its
    output and its initial state (x W_ih + h_(t-1) W_hh + b). None for other recurrent layers
    (their output is read)."""
    mode = getattr(module, "mode", None)
    if mode not in ("LSTM", "GRU") or module.num_layers != 1:
        return None
    if getattr(module, "proj_size", 0) or args[0].dim() != 3:
        return None  # a projection or an unbatched input: read the output
    x, out = args[0]._data, output[0]._data
    if not module.batch_first:
        x, out = x.swapaxes(0, 1), out.swapaxes(0, 1)
    initial = _initial_state(mode, args)
    hidden = module.hidden_size
    saturated = total = 0
    for direction in range(2 if module.bidirectional else 1):
        suffix = "_l0_reverse" if direction else "_l0"
        h = out[..., direction * hidden:(direction + 1) * hidden]
        start = (np.zeros_like(h[:, :1]) if initial is None
                 else initial[direction][:, None, :].astype(h.dtype, copy=False))
        # the state before step t: the output at t - 1, or at t + 1 running backwards
        previous = (np.concatenate([start, h[:, :-1]], axis=1) if not direction
                    else np.concatenate([h[:, 1:], start], axis=1))
        weights = [getattr(module, name + suffix, None)
                   for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        counts = _gate_counts(mode, hidden, eps, x, previous, *weights)
        saturated, total = saturated + counts[0], total + counts[1]
    return saturated, total


def _initial_state(mode, args):
    """The initial hidden state passed to the layer ((directions, N, H)), or None (zeros)."""
    if len(args) < 2 or args[1] is None:
        return None
    state = args[1][0] if mode == "LSTM" else args[1]
    if not hasattr(state, "_data") or state.dim() != 3:
        return None
    return state._data


def _gate_counts(mode, hidden, eps, x, previous, w_ih, w_hh, b_ih, b_hh):
    gx = x @ w_ih._data.T
    gh = previous @ w_hh._data.T
    if b_ih is not None:
        gx, gh = gx + b_ih._data, gh + b_hh._data
    if mode == "LSTM":
        gates = gx + gh
        sigmoid = np.concatenate([gates[..., :2 * hidden], gates[..., 3 * hidden:]], axis=-1)
        tanh = gates[..., 2 * hidden:3 * hidden]
    else:
        sigmoid = gx[..., :2 * hidden] + gh[..., :2 * hidden]
        reset = 1.0 / (1.0 + np.exp(-sigmoid[..., :hidden]))
        tanh = gx[..., 2 * hidden:] + reset * gh[..., 2 * hidden:]
    # sigmoid(z) is within eps of 0 or 1 beyond |z| = log((1 - eps) / eps), tanh beyond atanh
    saturated = (np.count_nonzero(np.abs(sigmoid) > np.log((1 - eps) / eps))
                 + np.count_nonzero(np.abs(tanh) > np.arctanh(1 - eps)))
    return saturated, sigmoid.size + tanh.size


class _Tally:
    """Evidence about one activation, pooled over the forwards of one measurement."""

    def __init__(self, kind, after, step):
        self.kind, self.after, self.started = kind, after, step
        self.alive = None  # relu: per unit, active on some input
        self.saturated = 0
        self.total = 0
        self.inputs = 0

    def add_counts(self, array, saturated, total):
        self.inputs += inputs_in(array)
        self.saturated += saturated
        self.total += total

    def add(self, array, eps):
        self.inputs += inputs_in(array)
        if self.kind == "relu":
            axis = unit_axis(array.ndim)
            others = tuple(a for a in range(array.ndim) if a != axis)
            alive = (array > 0).any(axis=others) if others else array > 0
            self.alive = alive if self.alive is None or self.alive.shape != alive.shape \
                else self.alive | alive
        else:
            lower, upper = (eps, 1 - eps) if self.kind == "sigmoid" else (eps - 1, 1 - eps)
            self.saturated += int(np.count_nonzero((array < lower) | (array > upper)))
            self.total += array.size

    def stats(self):
        stats = {"kind": self.kind, "inputs": self.inputs, "after": self.after}
        if self.kind == "relu":
            alive = self.alive
            # (the share counted: ndarray.mean's Python wrapper costs several times as much)
            stats["dead"] = (1.0 - np.count_nonzero(alive) / alive.size
                             if alive is not None and alive.size else 0.0)
        else:
            stats["saturated"] = self.saturated / max(self.total, 1)
        return stats


class ActivationProbe:
    """Measures activations while armed. ``collect(step)`` returns {name: stats} for the
    measurements that have seen ``min_inputs`` inputs; ``wants_more()`` says whether one is still
    waiting (the monitor then keeps the probe armed for the next step)."""

    def __init__(self, model, eps, min_inputs, layer_names):
        self.eps = eps
        self.min_inputs = min_inputs
        self.armed = False
        self.step = 0
        self.tallies = {}  # (id of module or owner name, op, call index) -> [name, _Tally]
        self.output_activations = set()  # names whose output is the model's output
        self.multi = set()  # ids of modules called more than once in one forward
        self.names = {id(m): name or type(m).__name__ for name, m in model.named_modules()}
        self.hooked = set()
        self._outputs = {}  # name -> id of its output in the current forward
        self._calls = {}
        self._last_layer = None
        self._order = {}  # layer name -> position of its first call in a sampled forward
        self._model = model
        self._kinds = {}  # module -> its activation kind
        self._layers = {}  # module -> its layer name
        for name, module in model.named_modules():
            kind = kind_of(module)
            if kind is not None:
                self.hooked.add(id(module))
                self._kinds[module] = kind
            if (name or type(module).__name__) in layer_names:
                self._layers[module] = name or type(module).__name__
        self._handles = []
        self._remove_observer = None

    def close(self):
        self.disarm()

    def arm(self, step):
        """Hook the model for this step's forward (only sampled steps pay for the hooks)."""
        self.step = step
        if self.armed:
            return
        self.armed = True
        model = self._model
        self._handles = [model.register_forward_pre_hook(self._forward_starts),
                         model.register_forward_hook(self._model_output)]
        for module, kind in self._kinds.items():
            self._handles.append(module.register_forward_hook(self._module_hook(kind)))
        for module, name in self._layers.items():
            self._handles += [module.register_forward_pre_hook(self._layer_starts(name)),
                              module.register_forward_hook(self._layer_done(name))]
        self._remove_observer = add_forward_observer(self._functional)

    def disarm(self):
        self.armed = False
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._remove_observer is not None:
            self._remove_observer()
            self._remove_observer = None

    def order_of(self, names):
        """``names`` in the order the forward first called them (those never seen last)."""
        return sorted(names, key=lambda n: self._order.get(n, len(self._order)))

    def wants_more(self):
        return any(t.inputs < self.min_inputs for _, t in self.tallies.values())

    def collect(self, step):
        done = {}
        for key, (name, tally) in list(self.tallies.items()):
            if tally.inputs >= self.min_inputs or step - tally.started >= MAX_WINDOW:
                del self.tallies[key]
                if tally.inputs >= self.min_inputs and name not in self.output_activations:
                    done[self._final_name(key, name)] = tally.stats()
        return done

    def _final_name(self, key, name):
        owner, _, index = key
        return f"{name}[{index}]" if owner in self.multi else name

    # -- hooks ----------------------------------------------------------------------------------
    def _record(self, key, name, kind, output, gates=None):
        from .watch import _rerunning

        if _rerunning[0]:
            return
        entry = self.tallies.get(key)
        if entry is None:
            kind = "gates" if gates is not None else kind
            entry = self.tallies[key] = [name, _Tally(kind, self._last_layer, self.step)]
        if gates is not None:
            entry[1].add_counts(output._data, *gates)
        else:
            entry[1].add(output._data, self.eps)
        self._outputs[self._final_name(key, name)] = id(output)

    def _forward_starts(self, module, args):
        self._calls, self._last_layer = {}, None

    def _module_hook(self, kind):
        def hook(module, args, output):
            if not (self.armed and module.training):
                return
            gates = None
            if isinstance(module, RECURRENT_MODULES):
                gates = gate_saturation(module, args, output, self.eps)
                output = output[0] if isinstance(output, tuple) else output
            if not hasattr(output, "_data"):
                return
            index = self._calls.get(id(module), 0)
            self._calls[id(module)] = index + 1
            if index:
                self.multi.add(id(module))
            self._record((id(module), "", index), self.names[id(module)], kind, output, gates)
        return hook

    def _layer_starts(self, name):
        def hook(module, args):
            if self.armed and name not in self._order:
                self._order[name] = len(self._order)
        return hook

    def _layer_done(self, name):
        def hook(module, args, output):
            if self.armed:
                self._last_layer = name
        return hook

    def _model_output(self, module, args, output):
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        ids = {id(o) for o in outputs}
        for name, output_id in self._outputs.items():
            if output_id in ids:
                self.output_activations.add(name)
        self._outputs = {}

    def _functional(self, node, args, outputs):
        kind = FUNCTIONAL_OPS.get(type(node).__name__)
        if kind is None or not hasattr(outputs, "_data"):
            return
        owner = self._innermost_module()
        if owner is None or id(owner) in self.hooked or not owner.training:
            return
        op = type(node).__name__
        base = self.names[id(owner)]
        index = self._calls.get((base, op), 0)
        self._calls[(base, op)] = index + 1
        self._record((base, op, index), f"{base}:{op}[{index}]", kind, outputs)

    def _innermost_module(self):
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_name == "forward":
                owner = frame.f_locals.get("self")
                if id(owner) in self.names:
                    return owner
            frame = frame.f_back
        return None
