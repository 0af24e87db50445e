"""Dead and saturated units, measured on the outputs of activations during sampled forwards.

Watched: activation modules (ReLU, ReLU6, Sigmoid, Tanh, Hardtanh, Softsign; ReLU's smooth
relatives GELU, SiLU, Mish, Softplus, ELU, CELU, SELU and LogSigmoid, read from their input),
the outputs of recurrent layers (RNN, LSTM, GRU and their cells: a tanh RNN's output is a tanh,
an LSTM's or GRU's is read like a tanh; a ReLU RNN's is a ReLU), and functional calls (``F.relu``,
``torch.sigmoid``, ``x.tanh()``, and ReLUs by other names: ``x.clamp(min=0)``, ``F.relu6``,
``F.leaky_relu`` of slope 0) made inside other modules' ``forward``, named after the module
they ran in (``block.ff:Relu[0]``), and ReLUs written by hand, whatever op they use
(``h * (h > 0)``, ``torch.where(h > 0, h, 0)``, ``torch.maximum(h, zeros)``,
``F.threshold(h, 0, 0)``, ``h.masked_fill(h < 0, 0)``): an op is one when its output is its one
differentiable input with the negative values set to 0 (``relu_by_hand``, tested on the arrays
of sampled forwards, so no list of ops is kept). A module used at several places is measured
at each call (``act[0]``, ``act[1]``), except a recurrent cell, whose calls in one forward
are the time steps of one layer (pooled into one measurement). For LSTM and GRU layers and
cells the gates and candidate values are measured (gates.py): more than half of them pinned at
0 or 1 is as saturated as a tanh layer; and the share of the memory gate (forget, update) shut
or open, for vanishing through time (rules.py, ``_memory_shut``). An activation whose output
is the model's output is left out (a final sigmoid should be confident).

Measured in every forward that trains (a module in training mode, or grad mode on: a model left
in ``model.eval()`` while it trains is measured; a validation pass under ``no_grad`` is not).
Two things the ops of a sampled forward are given are read too: a cross-entropy or log-softmax
given a softmax's output as its logits (``probabilities_as_logits``), and a layer norm's input
that hardly differs between samples (``drowned_input``); the gain of a weighted layer
applied again and again in one forward (``repeated_gain``), and of the whole depth
(``depth_gain``).

A unit is dead when it is inactive on every input, which needs enough inputs to say: a healthy
ReLU unit is off for about half of the inputs, so with one input half the units look dead.
Evidence is therefore pooled over consecutive steps until ``min_inputs`` inputs were seen.
"""

import functools
import math
import sys

import numpy as np

from .. import kernels, nn
from ..autograd.engine import add_forward_observer
from ..autograd.grad_mode import is_grad_enabled
from ..nn.modules import fusion
from ..nn.utils.rnn import PackedSequence
from ..ops.linear_chain import LinearChain
from ..ops.nn_linear import Linear as LinearOp
from .branches import feeding_layers
from .gates import gate_saturation, through_time_gain
from .nonfinite import forward_codes, receiver, tensors
from .watch import _rerunning

RELU_MODULES = tuple(getattr(nn, name) for name in ("ReLU", "ReLU6") if hasattr(nn, name))
# the kinds whose units die: a unit is alive on an input where its output is strictly between
# 0 and the cap (a ReLU6 unit held at 6 passes back no gradient, as one held at 0)
RELU_CAPS = {"relu": None, "relu6": 6.0, "shrink": None}
# activations with a dead zone of their own: Hardshrink and Softshrink give 0 for |x| <= lambd,
# Threshold gives its value for x <= threshold, with no gradient there, so a unit kept inside
# the zone on every input is as dead as a ReLU unit at 0 (read as |output - value|, alive > 0)
DEAD_ZONE_MODULES = tuple(getattr(nn, name) for name in ("Hardshrink", "Softshrink", "Threshold")
                          if hasattr(nn, name))
# the package's own activation modules: an op measured inside one (GLU's sigmoid, the Where of
# a Threshold or RReLU) is named after the module, the layer a user wrote, not its op
BUILTIN_ACTIVATIONS = frozenset({"chainrule.nn.modules.activation",
                                 "chainrule.nn.modules.activation_piecewise"})
SATURATING_MODULES = tuple((getattr(nn, name), kind) for name, kind in (
    ("Sigmoid", "sigmoid"), ("Hardsigmoid", "sigmoid"), ("Tanh", "tanh"), ("Hardtanh", "tanh"),
    # x / (1 + |x|): within eps of +-1 its slope, (1 - |y|)^2, is flatter than tanh's there
    ("Softsign", "tanh"),
) if hasattr(nn, name))
SATURATING_KINDS = frozenset(kind for _, kind in SATURATING_MODULES)
# ReLU's smooth relatives: no output is exactly 0, but below a point their slope stays near 0
# (a GELU at -3 passes back 1% of the signal), so a unit kept there on every input is as dead
# as a ReLU unit at 0. Read from the activation's input (GELU and SiLU are not monotone, their
# output does not say which side of the dip it came from).
SMOOTH_MODULES = tuple((getattr(nn, name), kind) for name, kind in (
    ("GELU", "gelu"), ("SiLU", "silu"), ("Mish", "mish"), ("Softplus", "softplus"),
    ("ELU", "elu"), ("CELU", "celu"), ("SELU", "selu"), ("LogSigmoid", "logsigmoid"),
) if hasattr(nn, name))
SMOOTH_OPS = {"Gelu": "gelu", "Silu": "silu", "Softplus": "softplus", "Elu": "elu"}
# built-in activations written with ops the probe would otherwise read as activations of their
# own (tanhshrink's tanh, x - tanh(x), passes its gradient best exactly where tanh saturates)
COMPOSITE_MODULES = tuple(getattr(nn, name) for name in ("Tanhshrink", "Hardswish")
                          if hasattr(nn, name))
CELLS = (nn.RNNCell, nn.LSTMCell, nn.GRUCell)
NORMS = tuple(getattr(nn, name) for name in (
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d", "RMSNorm") if hasattr(nn, name))
RECURRENT_MODULES = (nn.RNN, nn.LSTM, nn.GRU) + CELLS
FUNCTIONAL_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}
SMOOTH = frozenset(kind for _, kind in SMOOTH_MODULES)
UNIT_KINDS = set(RELU_CAPS) | SMOOTH  # tallied as units dead or alive
MAX_WINDOW = 64  # steps a measurement may wait for enough inputs before it is dropped


def training_forward(module):
    """Whether ``module`` runs in a forward that trains: in training mode, or with grad mode on
    (a graph is built to be backpropagated). A validation pass runs in eval mode under no_grad
    and is not measured; a model left in ``model.eval()`` after one while it trains is (its
    dead or saturated units went unmeasured for the whole run)."""
    return module.training or is_grad_enabled()


# ops that take logits and apply their own (log-)softmax: given a softmax's output instead, each
# row in [0, 1] and summing to 1, they squash it again (``probabilities_as_logits``)
LOGIT_OPS = frozenset({"CrossEntropy", "LogSoftmax", "BinaryCrossEntropyWithLogits"})
# losses that compare the model's output with a target of its shape, element by element: where
# the output is an activation saturated from the start, they show whether it is confident and
# right (a trained model, fine-tuned or resumed) or confident and wrong (``wrong_share``)
TARGET_LOSS_OPS = frozenset({"BinaryCrossEntropy", "MseLoss", "L1Loss", "SmoothL1Loss",
                             "HuberLoss"})
SUMS_TO_ONE = 1e-3  # float32 rows of up to ~1e4 probabilities sum to 1 within this


def probabilities_as_logits(node, args):
    """The number of classes where a cross-entropy or a log-softmax is given probabilities as
    its logits (every row along its class axis in [0, 1] and summing to 1: a softmax's output),
    else None. Its own softmax of them is nearly flat: the largest and the smallest class are
    at most e:1 apart, so the loss of ten classes stays between 1.46 and 2.46 and the gradient
    the model gets (softmax(p) - target, through the model's softmax: p (1 - p), 1/4 at most)
    is a small share of the logits' own: a tenth in every layer of a ten-class MLP at step 1
    (see docs/diagnostics.md, vanishing). Read only on sampled steps (this observer is added
    by ``arm``)."""
    x = getattr(args[0], "_data", None) if args else None
    if x is None or x.ndim == 0 or x.dtype.kind != "f" or x.size == 0:
        return None
    if type(node).__name__ == "BinaryCrossEntropyWithLogits":
        # logits a sigmoid made: its own sigmoid of them lies in [0.5, 0.73] (the loss at
        # least log 2 where the target is 0), and the model's gradient passes two sigmoids.
        # Made by a sigmoid, not merely in [0, 1]: a GAN's discriminator near its balance
        # gives logits all in [0, 1] for tens of steps (three healthy GANs of the suite)
        made_by = type(getattr(args[0], "grad_fn", None)).__name__
        return 2 if made_by == "Sigmoid" else None
    if type(node).__name__ == "CrossEntropy":
        axis = 1 if x.ndim >= 2 else 0
    else:
        axis = (getattr(node, "forward_options", None) or {}).get("dim", -1)
    classes = x.shape[axis]
    if classes < 2:
        return None
    # (the first sample first: the logits of almost every loss fail there, without a pass over
    # the whole batch's)
    for part in (x[:1], x) if x.ndim >= 2 and axis % x.ndim != 0 else (x,):
        if part.min() < 0.0 or part.max() > 1.0:
            return None
    if not np.all(np.abs(x.sum(axis=axis, dtype=np.float64) - 1.0) <= SUMS_TO_ONE):
        return None
    return classes


def softmax_over_the_batch(node, args):
    """The number of classes where a cross-entropy's logits (batch, classes) are a softmax
    taken over the batch axis (``nn.Softmax(dim=0)``): every value in [0, 1] and each class's
    column summing to 1 over a batch of two or more, else None. Each value is then about
    1/batch, so the loss's own softmax is flatter still than of a softmax over the classes
    (the loss of ten classes at 2.30 for 100 steps of SGD at 0.1 on the digits). Read only on
    sampled steps, after ``probabilities_as_logits`` found nothing."""
    x = getattr(args[0], "_data", None) if args else None
    if (type(node).__name__ != "CrossEntropy" or x is None or x.ndim != 2 or x.shape[0] < 2
            or x.shape[1] < 2 or x.dtype.kind != "f"):
        return None
    if x.min() < 0.0 or x.max() > 1.0:
        return None
    if not np.all(np.abs(x.sum(axis=0, dtype=np.float64) - 1.0) <= SUMS_TO_ONE):
        return None
    return x.shape[1]


UNIFORM = 1e-6  # target rows whose classes differ by under this share of a class's share


def uniform_targets(node, args):
    """(classes, label_smoothing) where a cross-entropy's targets are the same for every class
    in every row of the batch, else None: label_smoothing=1.0 (meant 0.1) turns each target
    into 1/C of every class, as do soft targets made uniform by hand. Its minimum is then a
    model that scores all classes alike, the loss log C, whatever the inputs: nothing can be
    learned (an MLP's loss fell from 0.696 to log 2 = 0.693 in 30 steps and its gradients
    with it, 30 times below their first). Class weights reweigh the classes (not a uniform
    target): left alone. Read only on sampled steps (this observer is added by ``arm``)."""
    options = getattr(node, "forward_options", None) or {}
    if options.get("weight") is not None or len(args) < 2:
        return None
    x, target = getattr(args[0], "_data", None), getattr(args[1], "_data", None)
    if x is None or target is None or x.ndim == 0 or x.size == 0:
        return None
    axis = 1 if x.ndim >= 2 else 0
    classes = x.shape[axis]
    smoothing = float(options.get("label_smoothing") or 0.0)
    if classes < 2:
        return None
    kept = 1.0 - smoothing  # the share of the given target in each coefficient
    if target.dtype.kind == "f" and target.shape == x.shape:
        y = target.astype(np.float64)
        spread = kept * (y.max(axis=axis) - y.min(axis=axis))
        share = kept * y.max(axis=axis) + smoothing / classes
        uniform = bool(np.all(np.abs(spread) <= UNIFORM * np.abs(share)))
    else:
        uniform = abs(kept) <= UNIFORM
    return (classes, smoothing) if uniform else None


NORM_OPS = frozenset({"LayerNorm", "RmsNorm"})
DROWNED = 4e-3  # a normalisation's input whose part that differs between samples is under
# this share of its size (see ``drowned_input``)


SHARE_ROWS = 16  # samples (and positions of a sequence) the share is read from


def _batch_share(array, dims):
    """The RMS of what differs between the rows of ``array`` (axis 0) over its RMS, each row
    centred over its last ``dims`` axes (as a layer norm does: an offset shared by every
    feature says nothing). Read from the first ``SHARE_ROWS`` samples and, for a sequence, its
    first ``SHARE_ROWS`` positions: a ratio of mean squares, where 1e-3 is told from the
    1e-2 threshold by a few hundred values. NOTE: from the whole input, in float64, the bench
    gpt's sampled forward took 8.6 ms more (five layer norms over 32 x 64 x 128 values)."""
    array = array[(slice(0, SHARE_ROWS),) * (array.ndim - dims)]
    axes = tuple(range(array.ndim - dims, array.ndim))
    with np.errstate(all="ignore"):  # (a part not finite gives nan: not judged)
        x = array.astype(np.float64) - array.mean(axis=axes, keepdims=True, dtype=np.float64)
        size = np.sqrt(np.mean(x * x))
        if not size > 0:
            return None
        spread = x - x.mean(axis=0, keepdims=True)
        return float(np.sqrt(np.mean(spread * spread)) / size)


def drowned_input(node, args):
    """The share of a layer norm's input that differs between the samples of the batch (axis
    0), where it is under ``DROWNED`` of its size, else None: one term of a sum, the same for
    every sample (positional embeddings 1000x too large: 1e-3), drowns the data's part, which
    the norm divides by the whole."""
    x = getattr(args[0], "_data", None) if args else None
    options = getattr(node, "forward_options", None) or {}
    dims = len(options.get("normalized_shape") or (1,))
    if x is None or x.dtype.kind != "f" or x.ndim <= dims or x.shape[0] < 2:
        return None
    share = _batch_share(x, dims)  # (nan where the part read is not finite: not judged)
    return share if share is not None and share < DROWNED else None


def unit_axis(ndim):
    """Which axis holds the units: features for (N, F) and (N, L, F), channels for images."""
    return 1 if ndim >= 4 else ndim - 1


# the sizes that say how many channels a layer's output has, where they come first
CHANNELS = ("out_channels", "num_features", "num_channels")


def channels_first(layer, shape):
    """Whether a 3-d output ``shape`` made after ``layer`` holds its units on axis 1: a
    Conv1d's (N, C, L), or a BatchNorm1d's, GroupNorm's or InstanceNorm1d's on it, where the
    last axis is positions. Read as (N, L, F), every position of a Conv1d net had some live
    channel, and 12 dead channels of 16 were never reported. Judged by the size too, so that
    an output transposed to (N, L, C) before the activation is read by its last axis."""
    if len(shape) != 3 or layer is None:
        return False
    width = next((getattr(layer, a) for a in CHANNELS if isinstance(getattr(layer, a, None),
                                                                     int)), None)
    return width is not None and shape[1] == width


def inputs_in(array):
    """How many inputs an output holds: samples, and positions of a sequence (not pixels)."""
    if array.ndim <= 1:
        return 1
    return int(np.prod(array.shape[:2])) if array.ndim == 3 else int(array.shape[0])


def samples_in(array):
    """How many samples an output holds: its rows (a sequence's positions are one sample's)."""
    return int(array.shape[0]) if array.ndim >= 2 else 1


def kind_of(module):
    """"relu", "relu6", "sigmoid" or "tanh" for a watched module, else None."""
    if isinstance(module, RELU_MODULES):
        return "relu6" if isinstance(module, getattr(nn, "ReLU6", ())) else "relu"
    if isinstance(module, nn.LeakyReLU) and module.negative_slope == 0:
        return "relu"  # a ReLU by another name: its units die as a ReLU's do
    if isinstance(module, getattr(nn, "RReLU", ())) and module.lower == module.upper == 0:
        return "relu"  # its random negative slope drawn from [0, 0]
    if isinstance(module, DEAD_ZONE_MODULES):
        return "shrink"
    for cls, kind in SATURATING_MODULES + SMOOTH_MODULES:
        if isinstance(module, cls):
            return kind
    if isinstance(module, COMPOSITE_MODULES):
        return "composite"
    if isinstance(module, RECURRENT_MODULES):
        return "relu" if getattr(module, "nonlinearity", "tanh") == "relu" else "tanh"
    return None


# the clamps that are the hard activations called functionally: F.hardsigmoid is a clamp of
# x / 6 + 1/2 to [0, 1], F.hardtanh's default a clamp to [-1, 1]; their clipped values pass back
# no gradient, as a saturated sigmoid's or tanh's, at exactly the ends those kinds are read at
HARD_CLAMPS = {(0, 1): "sigmoid", (-1, 1): "tanh"}


def relu_like(node):
    """"relu" or "relu6" for an op that is one by another name (``x.clamp(min=0)``,
    ``F.relu6``, a clamp to [0, 6]; ``F.leaky_relu`` of slope 0), "sigmoid" or "tanh" for the
    hard ones called functionally (``HARD_CLAMPS``), else None. Other clamps are not
    activations (a probability kept inside (eps, 1 - eps))."""
    name = type(node).__name__
    if name == "LeakyRelu":
        return "relu" if getattr(node, "negative_slope", None) == 0 else None
    if name != "Clamp":
        return None
    bounds = getattr(node, "bounds", None)
    if bounds and tuple(bounds) in HARD_CLAMPS:
        return HARD_CLAMPS[tuple(bounds)]
    if not bounds or bounds[0] != 0:
        return None
    return "relu" if bounds[1] is None or bounds[1] == math.inf else (
        "relu6" if bounds[1] == 6 else None)


def _smooth(kind, x, parameter):
    """The smooth activation ``kind`` at ``x`` (float64), with its ``parameter`` (GELU's
    approximation, Softplus's beta, ELU's and CELU's alpha)."""
    if kind == "gelu":
        if parameter == "tanh":
            return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    if kind == "silu":
        return x / (1 + np.exp(-x))
    if kind == "mish":
        return x * np.tanh(np.logaddexp(0, x))
    if kind == "softplus":
        return np.logaddexp(0, parameter * x) / parameter
    if kind == "celu":
        return parameter * np.expm1(np.minimum(x, 0) / parameter) + np.maximum(x, 0)
    alpha = 1.6732632423543772 if kind == "selu" else parameter
    return alpha * np.expm1(np.minimum(x, 0)) + np.maximum(x, 0)  # elu, selu (its scale aside)


@functools.cache
def flat_tail(kind, parameter, slope):
    """(x, f(x)): the input below which the activation's slope stays under ``slope`` times its
    largest, and its output there. Found on a grid of the negative half-line (every 1e-3 of
    the scale over which it bends, 1 or 1/beta), once per kind and parameter."""
    scale = 1.0 / parameter if kind == "softplus" else (
        parameter if kind == "celu" else 1.0)
    grid = np.linspace(-60.0, 8.0, 68_001) * abs(scale)
    values = _smooth(kind, grid, parameter)
    slopes = np.abs(np.gradient(values, grid))
    steep = np.nonzero(slopes > slope * slopes.max())[0]
    x = grid[steep[0] - 1] if len(steep) and steep[0] > 0 else grid[0]
    return float(x), float(_smooth(kind, np.array([x]), parameter)[0])


def tail_parameter(kind, holder):
    """The parameter of ``kind`` that moves its tail, read from a module or an op's node."""
    if kind == "gelu":
        return getattr(holder, "approximate", "none")
    if kind == "softplus":
        return float(getattr(holder, "beta", 1.0))
    if kind in ("elu", "celu"):
        return float(getattr(holder, "alpha", 1.0))
    return None


def beyond_tail(kind, holder, args, output, eps):
    """The activation's input less the start of its flat tail (``flat_tail``; the slope bound
    is a sigmoid's at ``eps`` from its asymptote, relative to its peak, as saturation reads):
    above 0 where a unit is alive, as a ReLU's output. From the output where the activation
    ran in place (ELU, CELU, SELU and Softplus are monotone there); None where it cannot be
    read (an in-place SiLU or Mish)."""
    source = args[0] if args else None
    if kind == "logsigmoid":  # -softplus(-x): its flat tail is on the positive side
        x, _ = flat_tail("softplus", 1.0, 4 * eps * (1 - eps))
        if getattr(source, "_data", None) is None:
            return None
        return np.asarray(-x, dtype=source._data.dtype) - source._data
    x, y = flat_tail(kind, tail_parameter(kind, holder), 4 * eps * (1 - eps))
    if getattr(source, "_data", None) is not None and source is not output:
        return source._data - np.asarray(x, dtype=source._data.dtype)
    if kind in ("gelu", "silu", "mish") or not hasattr(output, "_data"):
        return None
    if kind == "selu":
        y *= 1.0507009873554805
    return output._data - np.asarray(y, dtype=output._data.dtype)


# how far past the lower end of its initial range a dead unit's bias may lie and still count as
# natural: a bias drawn near the end drifts past it under updates of a healthy size (-1.01x after
# 30 Adam steps at 3e-3, its unit off by chance since step 1, 56% of the layer dead, it
# revived), while one filled by hand or thrown by an update too large lies many times past it
# (-1 on a 3x3 convolution of 8 channels: 8.5x; -6 on a Linear of 16 inputs: 24x)
NATURAL_SLACK = 2.0


def dead_biases_natural(layer, alive, before=None):
    """Whether every dead unit's bias is still inside the range PyTorch's default
    initialisation draws it from (above -1/sqrt(fan_in), with ``NATURAL_SLACK``); None where
    that cannot be read (no bias, a normalisation layer, whose shift has no such range, units
    not one per bias). A unit off on every input with such a bias was switched off by the sign
    of its random weights and bias (see rules.py, ``_chance_share``), not pushed off: a bias
    filled with -4, or driven far down by updates too large, lies far outside it. ``before``:
    the layer the forward called before ``layer``; where ``layer`` is a batch norm in eval
    mode, which normalises nothing (a fixed scale and shift by its running statistics: kept in
    eval mode while a deep CNN trains from scratch, its units fell on or off by their biases'
    signs as without one), the biases are ``before``'s, read through that fixed map."""
    scale = shift = None  # an eval-mode batch norm's fixed map per unit: y = scale x + shift
    if frozen_norm(layer):
        scale, shift = _frozen_map(layer)
        if scale.shape != alive.shape:
            return None
        layer = before
    weight, bias = getattr(layer, "weight", None), getattr(layer, "bias", None)
    if (getattr(weight, "ndim", 0) < 2 or getattr(bias, "shape", None) != alive.shape
            or isinstance(layer, NORMS)):
        return None
    fan_in = int(np.prod(weight.shape[1:]))  # (PyTorch's own fan_in for Linear, Conv, ConvT)
    off = ~alive.astype(bool)
    dead, low = bias._data[off].astype(np.float64), -NATURAL_SLACK / math.sqrt(fan_in)
    if scale is not None:  # the biases and the lower end of their range, carried through it
        scale, shift = scale[off], shift[off]
        dead, low = scale * dead + shift, np.minimum(scale * low, -scale * low) + shift
    return bool(dead.size) and bool((dead >= low).all())


def saturating_bias(layer, kind, eps):
    """The bias of ``layer``, the one before a saturated sigmoid, tanh or softmax, where it
    alone holds the activation within ``eps`` of its asymptote, whatever the input: the median
    unit's bias past the point where a sigmoid or tanh is that near its asymptote, or, for a
    softmax, the gap between its two largest biases past the one where a row puts 1 - eps on
    one position (a squeeze-and-excitation gate whose bias was filled with -10; a router given
    a "prior" of 20 on one expert). None where the bias does not do it alone (weights too large
    saturate through the input: initialising them smaller is the remedy) or cannot be read (no
    bias, a normalisation layer, not one bias per unit)."""
    bias = getattr(layer, "bias", None)
    if getattr(bias, "ndim", 0) != 1 or isinstance(layer, NORMS) or not 0 < eps < 0.5:
        return None
    values = bias._data.astype(np.float64)
    if kind == "softmax":
        if values.size < 2:
            return None
        second, first = np.sort(values)[-2:]
        edge = math.log((1 - eps) * (values.size - 1) / eps)
        return float(first - second) if first - second >= edge else None
    if kind not in ("sigmoid", "tanh"):
        return None
    edge = math.log((1 - eps) / eps) if kind == "sigmoid" else math.atanh(1 - eps)
    middle = float(np.median(values))
    return middle if abs(middle) >= edge else None


def zero_scale_norm(layer):
    """Whether ``layer`` is a normalisation whose weight (its scale) is all exactly zero: its
    output is its bias alone, the same for every input. A ReLU after it at a bias of 0 (the
    default) outputs 0 with a gradient of 0, so the scale gets no gradient either and never
    leaves 0: a norm's weight zeroed by mistake (zero-initialising the last norm of a residual
    branch is the known trick; after a ReLU and outside a residual sum it kills the layer)."""
    weight = getattr(layer, "weight", None)
    return (isinstance(layer, NORMS) and getattr(weight, "_data", None) is not None
            and weight._data.size > 0 and not np.any(weight._data))


def frozen_norm(layer):
    """Whether ``layer`` is a batch norm in eval mode: it scales and shifts by its running
    statistics, so it normalises nothing."""
    return (isinstance(layer, NORMS) and not layer.training
            and getattr(layer, "running_var", None) is not None)


def _frozen_map(norm):
    """(scale, shift) per channel of the eval-mode batch norm ``norm``: y = (x - mean) /
    sqrt(var + eps) * weight + bias, written as scale x + shift."""
    scale = 1.0 / np.sqrt(norm.running_var._data.astype(np.float64) + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight._data
    shift = (norm.bias._data if norm.bias is not None else 0.0) - norm.running_mean._data * scale
    return scale, np.broadcast_to(shift, scale.shape)


# the least gain handed to the rules (which ask for init_gain, 100, in findings.py): below
# it nothing amplifies enough to explain an explosion, and the measurements stay as they were
HANDED_GAIN = 10.0


RMS_VALUES = 4096  # values read for a root-mean-square (``_rms``)


def _rms(tensor):
    """The root-mean-square of a float tensor's values, None for another (token ids); read
    from ``RMS_VALUES`` of them evenly spaced (the bars it is held to are 10 and 100: a few
    percent off is nothing, and every value of every layer's input cost the MNIST CNN's sampled
    step 2.4 ms, 5%, where these cost 0.1 ms)."""
    data = getattr(tensor, "_data", None)
    if data is None or data.dtype.kind != "f" or not data.size:
        return None
    flat = data.reshape(-1)
    flat = flat[::max(1, flat.size // RMS_VALUES)]
    return float(np.sqrt(np.mean(np.square(flat, dtype=np.float64))))


def repeated_gain(repeats, cells=()):
    """(layer, calls, gain) for the weighted layer called more than once in one forward whose
    calls together scale the signal most: the root-mean-square of its last call's output over
    that of its first call's input, else None. A layer applied to its own output again and
    again (a weight-tied refinement, a Linear looped over in place of a stack) multiplies the
    signal by its gain at every call, as a recurrent layer does through time: 20 calls of an
    orthogonal matrix of gain 1.5 make about 3e3, and no weight's size shows it (1.06 times
    Kaiming's). Each call's own gain, of a layer called on separate inputs (a Siamese encoder,
    a head applied at each time step), is what this reads there. Recurrent layers
    (``cells``: an RNNCell looped over time) are measured through time elsewhere."""
    best = None
    for name, (calls, first, last) in repeats.items():
        if calls < 2 or name in cells:
            continue
        before, after = _rms(first), _rms(last)
        if before and after is not None and math.isfinite(after) and (
                best is None or after / before > best[2]):
            best = (name, calls, after / before)
    return best


def depth_gain(repeats):
    """(layer, gain): how much the signal grows across the model's depth, measured: the
    root-mean-square of the largest layer input of one forward over the smallest before it
    (``repeats``' first inputs, in the order of the layers' first calls, from the second
    layer's on; token ids left out), and the layer that took the smallest, where the growth
    starts; None for fewer than two layers. Residual branches summed without a scale add to
    the stream's variance at every block wherever the weights of each layer are of a sound
    size (40 blocks of one Kaiming Linear and a ReLU: about 1e6 over the stack, while each
    layer's weights are 1.0 times Kaiming's, which the weights' sizes cannot tell from a plain
    stack)."""
    best, low = None, None
    # (from the second layer's input: the first sets the scale of what follows, an input of
    # 1e-3 the scale of the data against biases of 0.1)
    for name, (_, first, _) in list(repeats.items())[1:]:
        size = _rms(first)
        if size is None or not math.isfinite(size):
            continue
        if low is None or size < low[1]:
            low = (name, size)
        elif low[1] > 0 and (best is None or size / low[1] > best[1]):
            best = (low[0], size / low[1])
    return best


def constant_inputs(args):
    """"zero" when every tensor among a model's inputs ``args`` is zero, "constant" when each
    is the same for every row (sample) of its batch, else None (a batch of one, no tensor).
    Units fed such inputs are the same on every input: dead or alive together by the sign of a
    constant, so being off on every input says nothing of their health, only of the data (a
    mask that zeroed the batch, a normalisation that divided by inf)."""
    arrays = [a._data for a in args if hasattr(a, "_data")]
    if not arrays or any(a.ndim == 0 or a.shape[0] < 2 for a in arrays):
        return None
    for array in arrays:
        # (two rows first: almost every real batch differs there, for the cost of one row)
        if not (array[0] == array[1]).all() or not (array == array[:1]).all():
            return None
    return "zero" if not any(np.any(a) for a in arrays) else "constant"


GLANCE = 64  # elements compared first: most ops differ from max(x, 0) within them


def relu_by_hand(args, output):
    """"relu" when an op's output is its one differentiable input with the negative values set
    to 0 (and some were), else None: a ReLU however it is written. Judged on the arrays, not the
    op's kind, so a mask product, a ``where``, a ``maximum`` with zeros or a threshold at 0 are
    all seen. An op that zeroed nothing on these values (no input below 0) looks like an
    identity and is left out for that call: nothing could be dead in it anyway."""
    if not getattr(output, "_requires_grad", False):
        return None  # not recorded, or several outputs: no activation
    y = output._data
    x = None
    for arg in args:
        if getattr(arg, "_requires_grad", False):
            if x is not None:
                return None  # two differentiable inputs: a product or sum of two signals
            x = arg._data
    if x is None or x is y or x.shape != y.shape or y.dtype.kind != "f" or not y.size:
        return None
    first = x.flat[0]
    if y.flat[0] != (first if first > 0 else 0):
        return None  # (the common case, at the cost of two scalars: not a ReLU at the start)
    if y.size > GLANCE and not (y.flat[:GLANCE] == np.maximum(x.flat[:GLANCE], 0)).all():
        return None  # (a glance at the first elements rejects most of the others)
    if not (y == np.maximum(x, 0)).all() or not x.min() < 0:
        return None
    return "relu"


SOFTMAX_OPS = ("Softmax", "ScaledDotProductAttention")
SCALING_OPS = ("Div", "Mul")
NOISE_OPS = ("Add", "Sub")
PRODUCT_OPS = ("MatMul", "Einsum", "Bmm")
SCORE_STEPS = ("Div", "Mul", "Add", "Sub", "MaskedFill", "Where", "Neg")  # between a product
# and its softmax in a written-out attention: the scale, the mask, a bias


def constant_factor(node, args):
    """The factor by which a Div or Mul scales its one differentiable tensor when the other
    operand is a constant scalar (``scores / tau``, ``scores * 10``), else None."""
    if len(args) != 2 or not all(hasattr(a, "_data") for a in args):
        return None
    tensor, constant = args
    if type(node).__name__ == "Mul" and constant._data.ndim:
        tensor, constant = constant, tensor
    if constant._data.ndim or getattr(constant, "_requires_grad", False):
        return None
    value = float(constant._data)
    if type(node).__name__ == "Div":
        return 1.0 / value if value > 0 else None
    return value if value > 0 else None


def noise_added(node, args, outputs):
    """Whether an Add or Sub put a constant tensor of the output's whole shape on a tensor
    that needs gradient (Gumbel noise, ``logits + g``): a softmax of it is a sample, its flat
    rows drawn anew at every step. A mask (-inf, -1e9 at a glance) or a broadcast bias is no
    noise."""
    if len(args) != 2 or not all(hasattr(a, "_data") for a in args):
        return False
    grads = [bool(getattr(a, "_requires_grad", False)) for a in args]
    if grads.count(True) != 1:
        return False
    constant = args[grads.index(False)]._data
    if constant.ndim < 1 or constant.shape != outputs._data.shape:
        return False
    glance = constant.flat[:GLANCE]
    return bool((glance > MASKED).all() and np.isfinite(glance).all() and glance.std() > 0)


def made_by_product(tensor, hops=4):
    """Whether ``tensor`` (a softmax's scores) is, through at most ``hops`` scalings, masks or
    biases, the product of two tensors made in the forward (query and key): attention. Scores
    from a layer (a gate, a classifier head, a pointer network's ``v . tanh(...)``) are not."""
    node = getattr(tensor, "grad_fn", None)
    for _ in range(hops + 1):
        if node is None:
            return False
        name = type(node).__name__
        edges = getattr(node, "next_functions", ())
        if name in PRODUCT_OPS:
            made = [e[0] for e in edges if e[0] is not None]
            return len(made) == 2 and not any(type(m).__name__ == "AccumulateGrad"
                                              for m in made)
        if name not in SCORE_STEPS:
            return False
        node = next((e[0] for e in edges if e[0] is not None
                     and type(e[0]).__name__ != "AccumulateGrad"), None)
    return False


SOFTMAX_ROWS = 2048  # rows of the fused attention op read at most, per call (whole items)
MASKED = -5e3  # a softmax score at or below this is a mask (-inf, -1e9, or BERT's -1e4 added to a
# score), not a score: scores far too large reach -5e3 only in rows they saturate anyway


def softmax_rows(node, args, outputs, eps):
    """(positions, saturated rows, rows) of a softmax op's call, or None: a row is saturated
    when its largest probability exceeds ``1 - eps`` (every entry of its Jacobian, p (1 - p),
    is then below ``eps``: the scores before it get almost no gradient). ``positions``: an
    array shaped (batch, queries, 1), for ``inputs_in``. For the fused attention op the
    scores are formed again from its query and key (sampled steps only: one matmul per call)
    and the largest probability read from the log-sum-exp its forward kept."""
    with np.errstate(all="ignore"):
        if type(node).__name__ == "Softmax":
            scores, probs = args[0]._data, outputs._data
            dim = getattr(node, "dim", -1)
            if scores.ndim < 1 or scores.shape != probs.shape:
                return None
            scores, probs = np.moveaxis(scores, dim, -1), np.moveaxis(probs, dim, -1)
            top = probs.max(axis=-1)
        else:
            query, key = args[0]._data, args[1]._data
            lse, mask = getattr(node, "lse", None), getattr(node, "mask", None)
            if lse is None or query.ndim < 2:
                return None
            if lse.shape[:-1] != query.shape[:-1]:
                if lse.size != int(np.prod(query.shape[:-1])):
                    return None  # (a batch broadcast from the key or the mask: not read)
                lse = lse.reshape(query.shape[:-1] + (1,))
            if query.ndim >= 3:
                # the first items of the batch only, some SOFTMAX_ROWS rows: a share needs no
                # more, and the matmul is the probe's largest cost (bench gpt, 32 x 4 heads x
                # 64 rows: 2.2 ms a call in full)
                items = max(1, SOFTMAX_ROWS // max(1, int(np.prod(query.shape[1:-1]))))
                if items < query.shape[0]:
                    query, lse = query[:items], lse[:items]
                    if key.ndim == query.ndim and key.shape[0] > items:
                        key = key[:items]
                    if (mask is not None and mask.ndim == query.ndim
                            and mask.shape[0] > items):
                        mask = mask[:items]
            scores = np.matmul(query, np.swapaxes(key, -1, -2)) * np.float32(node.scale)
            if mask is not None:
                scores = scores + mask
            top = np.exp(scores.max(axis=-1) - lse[..., 0])
        # (a mask is -inf or a large negative constant: BERT's -1e4 added to the scores, -1e9)
        open_ = np.count_nonzero(scores > MASKED, axis=-1) >= 2
        total = int(np.count_nonzero(open_))
        sharp = open_ & (top > 1 - eps)
        saturated = int(np.count_nonzero(sharp))
        margins = None
        if saturated:
            # the gap between the two largest scores of each saturated row: learning stops
            # widening it once the row is sharp (its gradient falls as exp(-gap)), so trained
            # attention keeps it near log(positions / eps); scores far too large make it huge
            rows = scores[sharp]
            two = np.partition(rows, rows.shape[-1] - 2, axis=-1)[:, -2:]
            margins = (two[:, 1] - two[:, 0]).astype(np.float64)
    shape = scores.shape
    batch = shape[0] if len(shape) >= 3 else 1  # (2-d: queries or samples, one batch)
    queries = shape[-2] if len(shape) >= 2 else 1
    return np.broadcast_to(np.float32(0), (batch, queries, 1)), saturated, total, margins


def wrong_share(kind, output, target, eps):
    """(saturated, wrong): how many of ``output``'s values (a sigmoid's or a tanh's) lie within
    ``eps`` of an asymptote, and how many of those are on the far side of the midpoint from
    ``target`` (a 1 for a target of 0): confident and wrong. None where the target is not an
    array of the output's shape."""
    target = getattr(target, "_data", None)
    values = output._data
    if target is None or target.shape != values.shape:
        return None
    lower, upper = (eps, 1 - eps) if kind == "sigmoid" else (eps - 1, 1 - eps)
    half = 0.5 if kind == "sigmoid" else 1.0
    saturated = (values < lower) | (values > upper)
    wrong = saturated & (np.abs(values - target) > half)
    return int(np.count_nonzero(saturated)), int(np.count_nonzero(wrong))


class _Tally:
    """Evidence about one activation, pooled over the forwards of one measurement."""

    def __init__(self, kind, after, step, axis=None):
        self.kind, self.after, self.started = kind, after, step
        self.axis = axis  # where the units are, when not where unit_axis puts them
        self.alive = None  # relu: per unit, active on some input
        self.saturated = 0
        self.total = 0
        # LSTM/GRU: the memory gate's values shut (near 0) and open (near 1), of all of them
        self.shut = self.open = self.memory = 0
        self.inputs = 0
        self.samples = 0  # units: the rows among those inputs (``samples_in``)
        self.margins = []  # softmax: the top-two score gaps of its saturated rows
        self.gains = []  # recurrent layers: the backward signal's gain through time, per call
        # "zero" or "constant" while every forward pooled here fed the model inputs that are the
        # same for every row (``constant_inputs``), else None
        self.constant = None
        self.temperature = None  # softmax: the temperature below 1 its scores were divided by
        self.attention = False  # softmax: of scores made as a product in the forward (q . k)
        self.sampled = False  # softmax: of scores with noise added (Gumbel-softmax)
        # the model's output activation: its saturated values a loss compared with a target,
        # and how many of them were on the wrong side of it (``wrong_share``)
        self.confident = self.wrong = 0

    def add_counts(self, array, saturated, total, shut=0, opened=0, memory=0):
        self.inputs += inputs_in(array)
        self.saturated += saturated
        self.total += total
        self.shut += shut
        self.open += opened
        self.memory += memory

    def add(self, array, eps):
        self.inputs += inputs_in(array)
        self.samples += samples_in(array)
        module = kernels.if_loaded("probe", array)
        if module is not None:
            self._add_compiled(module, array, eps)
        elif self.kind in UNIT_KINDS:
            axis = unit_axis(array.ndim) if self.axis is None else self.axis
            others = tuple(a for a in range(array.ndim) if a != axis)
            active = array > 0
            cap = RELU_CAPS.get(self.kind)
            if cap is not None:
                active &= array < cap
            alive = active.any(axis=others) if others else active
            self.alive = alive if self.alive is None or self.alive.shape != alive.shape \
                else self.alive | alive
        else:
            lower, upper = (eps, 1 - eps) if self.kind == "sigmoid" else (eps - 1, 1 - eps)
            self.saturated += int(np.count_nonzero((array < lower) | (array > upper)))
            self.total += array.size

    def _add_compiled(self, module, array, eps):
        """``add``, in one compiled pass over ``array`` (kernels/probe.py): the same counts."""
        if self.kind not in UNIT_KINDS:
            lower, upper = (eps, 1 - eps) if self.kind == "sigmoid" else (eps - 1, 1 - eps)
            # (the bounds in float32, as NumPy compares a float32 array with a Python float)
            self.saturated += int(module.count_outside(array.reshape(-1), np.float32(lower),
                                                       np.float32(upper)))
            self.total += array.size
            return
        axis = unit_axis(array.ndim) if self.axis is None else self.axis
        units = array.shape[axis] if array.ndim else 1
        if self.alive is None or self.alive.shape != (units,):
            self.alive = np.zeros(units, dtype=bool)
        cap = RELU_CAPS.get(self.kind)
        cap = np.float32(math.inf if cap is None else cap)
        if axis == 1 and array.ndim >= 3:  # channels of images: (inputs, channels, positions)
            module.alive_channels(array.reshape(array.shape[0], units, -1),
                                  self.alive.view(np.uint8), cap)
        else:  # (inputs, units), the inputs of a sequence flattened
            module.alive_units(array.reshape(-1, units), self.alive.view(np.uint8), cap)

    def stats(self):
        stats = {"kind": self.kind, "inputs": self.inputs, "after": self.after}
        if self.kind in UNIT_KINDS:
            alive = self.alive
            # (the share counted: ndarray.mean's Python wrapper costs several times as much)
            stats["dead"] = (1.0 - np.count_nonzero(alive) / alive.size
                             if alive is not None and alive.size else 0.0)
            if alive is not None and alive.size:
                # which units: dead for good is the same units off measurement after
                # measurement, not a share that other units reach by turns (see rules.py,
                # ``_dead_twice``)
                stats["off"] = ~alive
                stats["samples"] = self.samples
        else:
            stats["saturated"] = self.saturated / max(self.total, 1)
        if self.memory:
            stats["memory_shut"] = self.shut / self.memory
            stats["memory_open"] = self.open / self.memory
        if self.gains:
            stats["through_time"] = max(self.gains)
        if self.constant is not None:
            stats["constant"] = self.constant
        if self.temperature is not None:
            stats["temperature"] = self.temperature
        if self.attention:
            stats["attention"] = 1.0
        if self.sampled:
            stats["sampled"] = 1.0
        if self.kind == "softmax":
            stats["margin"] = (float(np.median(np.concatenate(self.margins)))
                               if self.margins else 0.0)
        return stats


class ActivationProbe:
    """Measures activations while armed. ``collect(step)`` returns {name: stats} for the
    measurements that have seen ``min_inputs`` inputs; ``wants_more()`` says whether one is still
    waiting (the monitor then keeps the probe armed for the next step)."""

    def __init__(self, model, eps, min_inputs, layer_names, dead_share=0.0):
        self.eps = eps
        self.min_inputs = min_inputs
        # the share of dead units above which a measurement says whether their biases are
        # still natural (``dead_biases_natural``: the rules ask only above dead_fraction)
        self.dead_share = dead_share
        self.armed = False
        self.step = 0
        self.tallies = {}  # (id of module or owner name, op, call index) -> [name, _Tally]
        self._gains = {}  # id of a recurrent module -> its gain through time at this call
        self.output_activations = set()  # names whose output is the model's output
        # layers whose output is one of the model's outputs (its heads, when it has several)
        self.output_layers = set()
        self.multi = set()  # ids of modules called more than once in one forward
        # weighted layer -> [calls, its first call's input, its last call's output] in this
        # sampled forward (``repeated_gain``)
        self.repeats = {}
        self.names = {id(m): name or type(m).__name__ for name, m in model.named_modules()}
        # the code of each module's forward, whatever its name: ``forward = _impl`` in a class
        # body runs code named '_impl' (its activations went unmeasured, dead ReLUs were
        # called vanishing)
        self._forwards = forward_codes(model.modules())
        self.hooked = set()
        # name -> its output in the current forward, held (not its id: an output dropped
        # before the model's output is made can leave its id to it, and the activation was
        # then taken for the model's output and left out for good)
        self._outputs = {}
        self._calls = {}
        self._last_layer = None
        self._constant = None  # constant_inputs of the model's inputs in this forward
        self._scaled = None  # (output, node, args) of the last Div or Mul in this forward
        self._noised = None  # the output of the last Add or Sub of noise in this forward
        self._order = {}  # layer name -> position of its first call in a sampled forward
        self._logit_probabilities = None  # (op, classes, over) of a loss given a softmax's output
        self._drowned = None  # (norm's name, share, the layer that made its largest term)
        self._uniform = None  # (classes, label_smoothing) of a cross-entropy given uniform targets
        self._made = {}  # id of a layer's output in a sampled forward -> (output, layer name)
        # id of the model's output made by a saturating activation -> (output, its _Tally),
        # until the loss reads it (``wrong_share``)
        self._final = {}
        self._inputs = []  # [(layer name, its input tensors)] of each layer call since then
        self._run_feeding = set()  # layers of fused runs followed by another layer of the run
        self._model = model
        self._kinds = {}  # module -> its activation kind
        self._layers = {}  # module -> its layer name
        self._by_name = {}  # layer name -> its module
        for module in model.modules():
            kind = kind_of(module)
            if kind is not None:
                self.hooked.add(id(module))
                self._kinds[module] = kind
        self.add_layers(layer_names)
        self._sequentials = [m for m in model.modules() if isinstance(m, nn.Sequential)]
        self._runs = {}  # id(weight of a Linear in a fused run) -> (Linear, activation or None)
        self._run_activations = set()  # ids of the activation modules in fused runs
        self._observer = self._functional  # (one bound method: the one removed again)
        self._handles = []
        self._removers = []

    def add_layers(self, layer_names):
        """Measure these weighted layers too (by name), from the next ``arm``: layers made
        trainable after the monitor started."""
        for name, module in self._model.named_modules():
            if (name or type(module).__name__) in layer_names:
                self._layers[module] = name or type(module).__name__
                self._by_name[name or type(module).__name__] = module

    def close(self):
        self.disarm()

    def arm(self, step):
        """Hook the model for this step's forward (only sampled steps pay for the hooks).
        The Linear layers and activations of runs that nn.Sequential fuses get no hooks (a
        hook would unfuse them): the observer reads them from the fused op (``_chain``), or
        from their own ops where the run is not fused after all."""
        self.step = step
        # a new step: calls are counted anew (the model's forward pre-hook does it too, but a
        # loop that calls the model's parts one by one never runs it: the same ReLU got a new
        # name, '1[1]', '1[2]', at every sample, and no streak could form)
        self._calls, self._last_layer = {}, None
        self.repeats = {}
        self._constant = None  # (known only where the model's own forward runs)
        if self.armed:
            return
        self.armed = True
        model = self._model
        self._find_runs()
        self._handles = [model.register_forward_pre_hook(self._forward_starts),
                         model.register_forward_hook(self._model_output)]
        for module, kind in self._kinds.items():
            if id(module) not in self._run_activations:
                self._handles.append(module.register_forward_hook(self._module_hook(kind)))
        in_runs = {id(linear) for linear, _ in self._runs.values()}
        for module, name in self._layers.items():
            if id(module) not in in_runs:
                self._handles += [module.register_forward_pre_hook(self._layer_starts(name)),
                                  module.register_forward_hook(self._layer_done(name))]
        self._removers = [add_forward_observer(self._observer)]
        if self._runs:
            self._removers.append(fusion.read_fused_runs(self._observer))

    def _find_runs(self):
        """The runs of Linear layers and activations that the model's Sequentials fuse.
        NOTE: unfused, the bench MLP's sampled step cost ~75 us more, and each hook called
        cold inside the forward ~10 us."""
        runs, activations = {}, set()
        for sequential in self._sequentials:
            for linears, after in fusion.fused_runs(sequential):
                for linear, activation in zip(linears, after):
                    if activation is not None and activation not in self._kinds:
                        activation = None  # (added after the monitor started: not watched)
                    runs[id(linear.weight)] = (linear, activation)
                    if activation is not None:
                        activations.add(id(activation))
        self._runs, self._run_activations = runs, activations

    def disarm(self):
        self.armed = False
        # (held tensors: not kept between samples)
        self._outputs, self._scaled, self._noised, self._made = {}, None, None, {}
        self._final = {}
        self._inputs, self.repeats = [], {}
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for remove in self._removers:
            remove()
        self._removers = []

    def order_of(self, names):
        """``names`` in the order the forward first called them (those never seen last)."""
        return sorted(names, key=lambda n: self._order.get(n, len(self._order)))

    def _before(self, name):
        """The layer the forward called right before ``name`` (None for the first)."""
        position = self._order.get(name)
        return next((n for n, i in self._order.items() if position and i == position - 1), None)

    def wants_more(self):
        return any(t.inputs < self.min_inputs for _, t in self.tallies.values())

    def collect(self, step):
        done = {}
        if self._logit_probabilities is not None:
            # (kept with the activations: the rules judge what a sampled forward showed)
            op, classes, over = self._logit_probabilities
            self._logit_probabilities = None
            done[f"loss:{op}"] = {"kind": "probabilities", "op": op, "classes": classes,
                                  "over": over, "step": step}
        if self._uniform is not None:
            classes, smoothing = self._uniform
            self._uniform = None
            done["loss:uniform"] = {"kind": "uniform_targets", "classes": classes,
                                    "smoothing": smoothing}
        if self._drowned is not None:
            norm, share, layer = self._drowned
            self._drowned = None
            done[f"input:{norm}"] = {"kind": "drowned", "norm": norm, "share": share,
                                     "layer": layer}
        repeated = (repeated_gain(self.repeats, self._recurrent_layers())
                    if any(calls[0] > 1 for calls in self.repeats.values()) else None)
        depth = depth_gain(self.repeats)
        self.repeats = {}
        if repeated is not None and repeated[2] >= HANDED_GAIN:
            done["input:repeated"] = {"kind": "repeated", "layer": repeated[0],
                                      "calls": repeated[1], "gain": repeated[2]}
        if depth is not None and depth[1] >= HANDED_GAIN:
            done["input:depth"] = {"kind": "depth", "layer": depth[0], "gain": depth[1]}
        for key, (name, tally) in list(self.tallies.items()):
            if (name in self.output_activations and tally.kind in SATURATING_KINDS
                    and tally.total >= self.min_inputs):
                # apart from the units: a final sigmoid is meant to grow confident (the rules
                # judge only one confident from the start, see rules.py); its outputs are the
                # samples' own, one a sample where it rates or scores, so a step's are enough
                del self.tallies[key]
                done[f"output:{self._final_name(key, name)}"] = {
                    "kind": "saturated_output", "layer": self._final_name(key, name),
                    "saturated": tally.stats()["saturated"], "after": tally.after,
                    "started": tally.started,
                    "wrong": tally.wrong / tally.confident if tally.confident else None}
                continue
            if tally.inputs >= self.min_inputs or step - tally.started >= MAX_WINDOW:
                del self.tallies[key]
                if tally.inputs >= self.min_inputs and name not in self.output_activations:
                    stats = done[self._final_name(key, name)] = tally.stats()
                    if frozen_norm(self._by_name.get(tally.after)):
                        stats["frozen_norm"] = True
                    if stats.get("dead") and zero_scale_norm(self._by_name.get(tally.after)):
                        stats["zero_scale"] = True
                    if stats.get("saturated"):
                        stats["saturating_bias"] = saturating_bias(
                            self._by_name.get(tally.after), stats["kind"], self.eps)
                    if stats.get("dead") and stats["dead"] > self.dead_share:
                        stats["units"] = tally.alive.size
                        stats["biases_natural"] = dead_biases_natural(
                            self._by_name.get(tally.after), tally.alive,
                            self._by_name.get(self._before(tally.after)))
        return done

    def _recurrent_layers(self):
        """The names of the measured layers that are recurrent (RNN, LSTM, GRU, their cells)."""
        return {name for module, name in self._layers.items()
                if isinstance(module, RECURRENT_MODULES)}

    def _final_name(self, key, name):
        owner, _, index = key
        return f"{name}[{index}]" if owner in self.multi else name

    # -- hooks ----------------------------------------------------------------------------------
    def _record(self, key, name, kind, output, gates=None, array=None):
        """Adds an activation's output to its tally: the tensor ``output``, or where it has
        none of its own (inside a fused run) the ``array`` of its values."""
        if _rerunning[0]:
            return
        entry = self.tallies.get(key)
        array = output._data if array is None else array
        if entry is None:
            kind = "gates" if gates is not None and kind != "softmax" else kind
            after = self._last_layer
            axis = 1 if channels_first(self._by_name.get(after), array.shape) else None
            entry = self.tallies[key] = [name, _Tally(kind, after, self.step, axis)]
            entry[1].constant = self._constant
        elif entry[1].constant != self._constant:
            entry[1].constant = None  # (one forward whose inputs differ: the data varies)
        if gates is not None:
            entry[1].add_counts(array, *gates)
        else:
            entry[1].add(array, self.eps)
        if key[0] in self._gains:  # (a recurrent layer's, noted by its hook)
            entry[1].gains.append(self._gains.pop(key[0]))
        if output is not None:
            self._outputs[self._final_name(key, name)] = output

    def _module_output(self, module, kind, output, gates=None, array=None):
        """An activation module's output at this call (see ``_record``)."""
        if isinstance(module, CELLS):
            index = 0  # a cell's calls in one forward are its time steps: one measurement
        else:
            index = self._calls.get(id(module), 0)
            self._calls[id(module)] = index + 1
            if index:
                self.multi.add(id(module))
        self._record((id(module), "", index), self.names[id(module)], kind, output, gates,
                     array)

    def _layer_ran(self, module):
        """A weighted layer in a fused run ran: what its pre- and post-hooks note."""
        name = self._layers.get(module)
        if name is not None:
            if name not in self._order:
                self._order[name] = len(self._order)
            self._last_layer = name

    def _chain(self, node, args, output):
        """A fused run (ops/linear_chain.py): each layer, then its activation's output, read
        from the values the op keeps for its backward (``hidden``)."""
        hidden, last = node.hidden, len(node.activations) - 1
        for layer in range(last + 1):
            entry = self._runs.get(id(args[1 + 2 * layer]))
            if entry is None:
                return  # another model's run
            linear, activation = entry
            self._layer_ran(linear)
            name = self._layers.get(linear)
            if name is not None:  # (the run's layers feed each other; its first, its input)
                if layer < last:
                    self._run_feeding.add(name)
                elif hasattr(output, "_data"):
                    self._made[id(output)] = (output, name)
                if layer == 0:
                    self._inputs.append((name, tensors(args[0])))
            if activation is not None and training_forward(activation):
                self._module_output(activation, self._kinds[activation],
                                    output if layer == last else None, array=hidden[layer + 1])

    def _forward_starts(self, module, args):
        self._calls, self._last_layer = {}, None
        self.repeats = {}
        self._constant = constant_inputs(args)

    def _module_hook(self, kind):
        def hook(module, args, output):
            if not (self.armed and training_forward(module)):
                return
            if kind == "composite":
                return  # (hooked only so that the ops inside it are not read)
            if kind in SMOOTH:
                array = beyond_tail(kind, module, args, output, self.eps)
                if array is not None:
                    self._module_output(module, kind, output, array=array)
                return
            if kind == "shrink" and hasattr(output, "_data"):
                value = np.asarray(getattr(module, "value", 0.0), dtype=output._data.dtype)
                self._module_output(module, kind, output, array=np.abs(output._data - value))
                return
            if kind == "tanh" and hasattr(output, "_data") and (
                    getattr(module, "min_val", -1.0), getattr(module, "max_val", 1.0)) != (-1, 1):
                # a Hardtanh of another range (-0.05, 0.05): mapped onto [-1, 1], where its
                # clipped outputs lie at the ends as a tanh's saturated ones do
                low, high = float(module.min_val), float(module.max_val)
                array = ((2.0 * output._data - (high + low)) / (high - low)).astype(
                    output._data.dtype, copy=False)
                self._module_output(module, kind, output, array=array)
                return
            gates = None
            if isinstance(module, RECURRENT_MODULES):
                gates = gate_saturation(module, args, output, self.eps)
                gain = through_time_gain(module, args, output)
                if gain is not None:
                    self._gains[id(module)] = gain
                output = output[0] if isinstance(output, tuple) else output
                if isinstance(output, PackedSequence):  # each sequence's own steps, no padding
                    output = output.data
            if hasattr(output, "_data"):
                self._module_output(module, kind, output, gates)
        return hook

    def _layer_starts(self, name):
        def hook(module, args):
            if self.armed:
                if name not in self._order:
                    self._order[name] = len(self._order)
                self._inputs.append((name, tensors(args)))  # (which layers feed it: heads)
                calls = self.repeats.get(name)
                if calls is None:
                    self.repeats[name] = [1, args[0] if args else None, None]
                else:
                    calls[0] += 1
        return hook

    def _layer_done(self, name):
        def hook(module, args, output):
            if self.armed:
                self._last_layer = name
                if hasattr(output, "_data"):  # (held: an id alone can be reused)
                    self._made[id(output)] = (output, name)
                    calls = self.repeats.get(name)
                    if calls is not None:
                        calls[2] = output
        return hook

    def _model_output(self, module, args, output):
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        ids = {id(o) for o in outputs}
        for name, output in self._outputs.items():
            if id(output) in ids:
                self.output_activations.add(name)
                tally = next((t for n, t in self.tallies.values() if n == name), None)
                if tally is not None and tally.kind in SATURATING_KINDS:
                    self._final[id(output)] = (output, tally)
        self._outputs = {}
        for key, (_, name) in self._made.items():
            if key in ids:
                self.output_layers.add(name)
        # and the layers that feed no other, whatever the model made of their outputs (a dict,
        # a reshape, a concatenation: a balanced three-head CNN returning a dict had its
        # regressor called 'amplifying' against the heads after it, as with no heads known)
        producers = {out.grad_fn: name for out, name in self._made.values()
                     if out.grad_fn is not None}
        if producers:
            feeding = feeding_layers(self._inputs, producers) | self._run_feeding
            self.output_layers.update(set(producers.values()) - feeding)
        self._inputs = []

    def _functional(self, node, args, outputs):
        if self._final and type(node).__name__ in TARGET_LOSS_OPS and len(args) > 1:
            held = self._final.get(id(args[0]))
            if held is not None and held[0] is args[0] and not _rerunning[0]:
                tally = held[1]
                counts = wrong_share(tally.kind, args[0], args[1], self.eps)
                if counts is not None:
                    tally.confident += counts[0]
                    tally.wrong += counts[1]
        if type(node).__name__ in NORM_OPS and self._drowned is None and not _rerunning[0]:
            self._norm_input(node, args)
        if (type(node).__name__ == "CrossEntropy" and self._uniform is None
                and not _rerunning[0]):
            self._uniform = uniform_targets(node, args)
        if type(node).__name__ in LOGIT_OPS and not _rerunning[0]:
            over, classes = "classes", probabilities_as_logits(node, args)
            if classes is None:
                over, classes = "batch", softmax_over_the_batch(node, args)
            if classes is not None:
                self._logit_probabilities = (type(node).__name__, classes, over)
                return
        if self._runs:
            op = type(node)
            if op is LinearChain:
                self._chain(node, args, outputs)
                return
            if op is LinearOp:  # a run's Linear, where the run was not fused after all
                entry = self._runs.get(id(args[1]))
                if entry is not None:
                    self._layer_ran(entry[0])
                return
        if type(node).__name__ in SCALING_OPS:
            # (kept as it came: its factor is read only if a softmax takes this output next)
            self._scaled = (outputs, node, args)
        elif type(node).__name__ in NOISE_OPS and noise_added(node, args, outputs):
            self._noised = outputs
        if type(node).__name__ in SOFTMAX_OPS:
            self._softmax(node, args, outputs)
            return
        kind = (FUNCTIONAL_OPS.get(type(node).__name__) or SMOOTH_OPS.get(type(node).__name__)
                or relu_like(node) or relu_by_hand(args, outputs))
        if kind is None or not hasattr(outputs, "_data"):
            return
        owner = self._innermost_module()
        if owner is None or not training_forward(owner):
            return
        if id(owner) in self._run_activations:  # a run's activation, not fused after all
            self._module_output(owner, self._kinds[owner], outputs)
            return
        if id(owner) in self.hooked:
            return
        array = None
        if kind in SMOOTH:
            array = beyond_tail(kind, node, args, outputs, self.eps)
            if array is None:
                return
        base, op, index = self._op_call(owner, node)
        builtin = index == 0 and type(owner).__module__ in BUILTIN_ACTIVATIONS
        self._record((base, op, index), base if builtin else f"{base}:{op}[{index}]", kind,
                     outputs, array=array)

    def _norm_input(self, node, args):
        """A layer norm's input drowned by one term (``drowned_input``): the first of the
        forward, with the layer whose output, the input itself or a term of the sum that made
        it, is the largest."""
        share = drowned_input(node, args)
        if share is None:
            return
        producer = args[0].grad_fn
        edges = {id(e[0]) for e in getattr(producer, "next_functions", ()) if e[0] is not None}
        terms = [(out, name) for out, name in self._made.values()
                 if out is args[0] or (out.grad_fn is not None and id(out.grad_fn) in edges)]
        layer = max(terms, key=lambda t: float(np.sqrt(np.mean(np.square(t[0]._data,
                                                                          dtype=np.float64)))),
                    default=(None, None))[1]
        owner = self._innermost_module()
        self._drowned = (self.names.get(id(owner), "?") if owner is not None else "?", share,
                         layer)

    def _op_call(self, owner, node):
        """(owner's name, the op's name, how many times the op ran in ``owner`` before in
        this step): the key an op's measurement is kept under."""
        op = type(node).__name__
        base = self.names[id(owner)]
        index = self._calls.get((base, op), 0)
        self._calls[(base, op)] = index + 1
        return base, op, index

    def _softmax(self, node, args, outputs):
        """A softmax inside a module's forward (a written-out attention's, or the fused
        attention op's): the share of its rows that put more than ``1 - eps`` of their weight
        on one position (``softmax_rows``). Rows with fewer than two positions left by the
        mask (a causal mask's first query; a mask is -inf or at or below ``MASKED``) are
        certain by construction and not counted."""
        owner = self._innermost_module()
        if owner is None or not training_forward(owner) or not hasattr(args[0], "_data"):
            return
        # a temperature below 1 (scores divided by tau: F.gumbel_softmax, a sharpened
        # distribution) multiplies the gradient the undivided scores get by 1/tau: a row is flat
        # for them only where (1 - p) / tau < eps (Gumbel-softmax at tau 0.1 trains)
        scaled, self._scaled = self._scaled, None
        factor = (constant_factor(scaled[1], scaled[2]) or 1.0
                  if scaled is not None and scaled[0] is args[0] else 1.0)
        temperature = 1.0 / factor if factor > 1.0 and type(node).__name__ == "Softmax" else None
        scores = (args[0] if scaled is None or scaled[0] is not args[0]
                  else next((a for a in scaled[2] if getattr(a, "_requires_grad", False)),
                            args[0]))
        noised, self._noised = self._noised, None
        sampled = type(node).__name__ == "Softmax" and noised is not None and (
            noised is scores or noised is args[0])
        attention = type(node).__name__ != "Softmax" or made_by_product(scores)
        try:
            counts = softmax_rows(node, args, outputs,
                                  self.eps if temperature is None else self.eps * temperature)
        except (ValueError, IndexError):
            # a layout this read does not know (keys or a mask broadcast another way): the
            # softmax goes unmeasured rather than the user's training step failing
            return
        if counts is None:
            return
        positions, saturated, total, margins = counts
        base, op, index = self._op_call(owner, node)
        # named after the module it ran in ('blocks.0.attn', the model's own name when written
        # out in its forward), as the attention layer it is; a second call there by its op
        name = base if index == 0 else f"{base}:{op}[{index}]"
        self._record((base, op, index), name, "softmax",
                     outputs if op == "Softmax" else None, (saturated, total), positions)
        tally = self.tallies[(base, op, index)][1]
        if margins is not None:
            tally.margins.append(margins)
        if temperature is not None:
            tally.temperature = temperature
        tally.attention, tally.sampled = attention, sampled

    def _innermost_module(self):
        frame = sys._getframe(2)
        while frame is not None:
            code = frame.f_code
            if code.co_name == "forward" or code in self._forwards:
                owner = receiver(frame)
                if id(owner) in self.names:
                    return owner
            frame = frame.f_back
        return None
