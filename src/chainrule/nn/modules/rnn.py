"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells, with PyTorch's
parameter names, shapes, gate orders and initialisation; the fused op is in
``chainrule.ops.recurrent``."""

import math
import warnings

from ... import creation
from ...ops import recurrent as R
from ...ops.join import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter, optional_parameter
from ..utils.rnn import PackedSequence, run_packed
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_FUNCTIONS = {"RNN_TANH": R.rnn_tanh, "RNN_RELU": R.rnn_relu, "LSTM": R.lstm, "GRU": R.gru}


class RNNBase(Module):
    """Parameters and forward pass shared by ``RNN``, ``LSTM`` and ``GRU``."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout}")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: hidden_size and num_layers must be positive, got "
                             f"{hidden_size} and {num_layers}")
        if proj_size < 0 or isinstance(proj_size, bool):
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got "
                             f"{proj_size} and {hidden_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gate_size = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden_size
        directions = 2 if bidirectional else 1
        state_size = proj_size or hidden_size  # an LSTM's h is projected to proj_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else state_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, state_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size:
                    shapes.update(weight_hr=(proj_size, hidden_size))
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix,
                            Parameter(creation.empty(shape, dtype=dtype, device=device)))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        weights = self._flat_weights
        return [weights[i:i + per] for i in range(0, len(weights), per)]

    def flatten_parameters(self):
        """Does nothing, as on a CPU build of PyTorch (it packs cuDNN's weight buffer there);
        scripts call it after moving or replicating an RNN."""

    def reset_parameters(self):
        # PyTorch's default: every weight and bias from uniform(+-1/sqrt(hidden_size))
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _check_input(self, input):
        name = type(self).__name__
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: expected input to be 2-D (unbatched) or 3-D (batched), "
                             f"got {input.dim()}-D input of shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        return input.dim() == 3

    def _initial_state(self, input, hx, batched, what="hx", size=None):
        """The state as (L * D, N, H) (H: ``size``, the hidden size by default): zeros when not
        given, a batch dim added if unbatched."""
        directions = 2 if self.bidirectional else 1
        batch = (input.shape[0] if self.batch_first else input.shape[1]) if batched else 1
        expected = (self.num_layers * directions, batch, size or self.hidden_size)
        if hx is None:
            return creation.zeros(expected, dtype=input.dtype)
        if not batched:
            if hx.dim() != 2:
                raise RuntimeError(f"{type(self).__name__}: for unbatched 2-D input, {what} "
                                   f"should also be 2-D but got a {hx.dim()}-D tensor")
            hx = hx.unsqueeze(1)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"{type(self).__name__}: expected {what} size {expected}, got "
                               f"{tuple(hx.shape)}")
        return hx

    def _run(self, input, h0, c0):
        batched = self._check_input(input)
        if not batched:
            input = input.unsqueeze(1)
        if self.proj_size:
            outputs = self._run_projected(input, h0, c0, self.batch_first and batched)
        else:
            function = _FUNCTIONS[self.mode]
            hx = (h0, c0) if self.mode == "LSTM" else h0
            outputs = function(input, hx, self._flat_weights, self.bias, self.num_layers,
                               self.dropout, self.training, self.bidirectional,
                               self.batch_first if batched else False)
        if not batched:
            outputs = (outputs[0].squeeze(1),) + tuple(s.squeeze(1) for s in outputs[1:])
        return outputs

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):  # each sequence stops at its own length
            return run_packed(self, input, hx, self.forward)
        batched = self._check_input(input)
        h0 = self._initial_state(input, hx, batched)
        output, h_n = self._run(input, h0, None)
        return output, h_n

    def _run_projected(self, input, h0, c0, batch_first):
        """An LSTM with projections (h_t = W_hr (o_t * tanh(c_t))), step by step through the
        one-step cell: (output, h_n, c_n). PyTorch's layout: h states have proj_size, c states
        hidden_size; each layer's input is the previous layer's projected outputs."""
        steps = input.transpose(0, 1) if batch_first else input
        directions = 2 if self.bidirectional else 1
        per = len(self._flat_weights_names) // (self.num_layers * directions)
        weights = self._flat_weights
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                steps = F.dropout(steps, self.dropout, True)
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                w_ih, w_hh, *biases, w_hr = weights[index * per:(index + 1) * per]
                b_ih, b_hh = biases if biases else (None, None)
                h, c = h0[index], c0[index]
                order = range(steps.shape[0] - 1, -1, -1) if direction else range(steps.shape[0])
                produced = {}
                for t in order:  # the cell in tensor ops: the fused one assumes h as wide as c
                    gates = F.linear(steps[t], w_ih, b_ih) + F.linear(h, w_hh, b_hh)
                    i, f, g, o = gates.chunk(4, -1)
                    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
                    h = F.linear(o.sigmoid() * c.tanh(), w_hr)
                    produced[t] = h
                outputs.append(stack([produced[t] for t in range(steps.shape[0])]))
                h_n.append(h)
                c_n.append(c)
            steps = cat(outputs, -1) if directions == 2 else outputs[0]
        output = steps.transpose(0, 1) if batch_first else steps
        return output, stack(h_n), stack(c_n)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:  # (second, as PyTorch prints it)
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh) (or relu).

    >>> rnn = chainrule.nn.RNN(10, 20, num_layers=2)
    >>> output, h_n = rnn(chainrule.randn(5, 3, 10))
    >>> output.shape, h_n.shape
    (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; gates i, f, g, o stacked in that order in each weight.

    >>> lstm = chainrule.nn.LSTM(10, 20, batch_first=True)
    >>> output, (h_n, c_n) = lstm(chainrule.randn(3, 5, 10))
    >>> output.shape, h_n.shape
    (chainrule.Size([3, 5, 20]), chainrule.Size([1, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):  # each sequence stops at its own length
            return run_packed(self, input, hx, self.forward)
        batched = self._check_input(input)
        h_size = self.proj_size or self.hidden_size
        if hx is None:
            h0 = self._initial_state(input, None, batched, size=h_size)
            c0 = self._initial_state(input, None, batched)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0 = self._initial_state(input, hx[0], batched, "hidden[0]", size=h_size)
            c0 = self._initial_state(input, hx[1], batched, "hidden[1]")
        output, h_n, c_n = self._run(input, h0, c0)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit; gates r, z, n stacked in that order, with
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) and h' = (1 - z) * n + z * h."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


# -- cells -------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Parameters shared by the one-step cells: weight_ih, weight_hh, bias_ih, bias_hh."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(creation.empty((num_chunks * hidden_size, input_size),
                                                  dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty((num_chunks * hidden_size, hidden_size),
                                                  dtype=dtype, device=device))
        for name in ("bias_ih", "bias_hh"):
            self.register_parameter(name, optional_parameter(bias, num_chunks * hidden_size,
                                                             dtype, device))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _prepare(self, input, hx):
        """Input and state as (N, I) and (N, H); whether a batch dim was added."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1-D or 2-D, got {input.dim()}-D "
                             f"input of shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]}, expected {self.input_size}")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = creation.zeros((input.shape[0], self.hidden_size), dtype=input.dtype)
        elif not batched:
            hx = hx.unsqueeze(0)
        if tuple(hx.shape) != (input.shape[0], self.hidden_size):
            raise RuntimeError(f"{name}: expected hidden state of shape "
                               f"{(input.shape[0], self.hidden_size)}, got {tuple(hx.shape)}")
        return input, hx, batched

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or "
                             "'relu'")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, h, batched = self._prepare(input, hx)
        cell = R.rnn_tanh_cell if self.nonlinearity == "tanh" else R.rnn_relu_cell
        h = cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c') for hx = (h, c) (zeros when None)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        if hx is None:
            x, h, batched = self._prepare(input, None)
            c = creation.zeros(tuple(h.shape), dtype=h.dtype)
        else:
            x, h, batched = self._prepare(input, hx[0])
            c = self._prepare(input, hx[1])[1]
        h, c = R.lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) * n + z * h."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, h, batched = self._prepare(input, hx)
        h = R.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)
