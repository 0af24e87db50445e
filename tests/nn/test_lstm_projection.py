"""LSTM with proj_size (h_t = W_hr (o_t * tanh(c_t))): parameter names and shapes, values and
gradients against PyTorch 2.13's, recorded for a fixed two-layer bidirectional LSTM (the
recording script: this file's comment, run under torch)."""

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

# torch.nn.LSTM(3, 4, num_layers=2, proj_size=2, bidirectional=True, batch_first=True) in
# float64, parameter k (in named order) = sin(arange(numel) + k) * 0.4, input
# cos(arange(18)).view(2, 3, 3); loss = (out ** 2).sum() + h_n.sum() + c_n.sum()
TORCH = json.loads((Path(__file__).parent / "torch_lstm_projection.json").read_text())


def make():
    lstm = nn.LSTM(3, 4, num_layers=2, proj_size=2, bidirectional=True, batch_first=True,
                   dtype=cr.float64)
    with cr.no_grad():
        for k, (_, p) in enumerate(lstm.named_parameters()):
            p.copy_((cr.sin(cr.arange(p.numel(), dtype=cr.float64) + k) * 0.4).view(p.shape))
    return lstm


def test_parameter_names_and_shapes():
    lstm = make()
    assert [n for n, _ in lstm.named_parameters()] == TORCH["names"]
    assert [list(p.shape) for p in lstm.parameters()] == TORCH["shapes"]
    # PyTorch 2.13 prints proj_size second
    assert repr(lstm) == ("LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True, "
                          "bidirectional=True)")


def test_values_and_gradients_match_pytorch():
    lstm = make()
    x = cr.cos(cr.arange(18, dtype=cr.float64)).view(2, 3, 3)
    out, (h, c) = lstm(x)
    assert out.shape == (2, 3, 4) and h.shape == (4, 2, 2) and c.shape == (4, 2, 4)
    ((out ** 2).sum() + h.sum() + c.sum()).backward()
    for got, key in ((out, "out"), (h, "h"), (c, "c"), (lstm.weight_hr_l1.grad, "g_hr_l1"),
                     (lstm.weight_hh_l0_reverse.grad, "g_hh_l0_reverse")):
        np.testing.assert_allclose(got.detach().numpy().ravel(), TORCH[key], atol=1e-10)


def test_given_states_and_packed_input():
    lstm = make()
    x = cr.cos(cr.arange(18, dtype=cr.float64)).view(2, 3, 3)
    h0, c0 = cr.zeros(4, 2, 2, dtype=cr.float64), cr.zeros(4, 2, 4, dtype=cr.float64)
    out, _ = lstm(x, (h0, c0))
    np.testing.assert_allclose(out.detach().numpy().ravel(), TORCH["out"], atol=1e-10)
    with pytest.raises(RuntimeError, match="expected hidden\\[0\\] size"):
        lstm(x, (cr.zeros(4, 2, 4, dtype=cr.float64), c0))
    packed = nn.utils.rnn.pack_padded_sequence(x, [3, 2], batch_first=True)
    out, (h, _) = lstm(packed)
    assert h.shape == (4, 2, 2)


def test_bad_proj_sizes_are_refused_as_in_pytorch():
    with pytest.raises(ValueError, match="smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="positive integer or zero"):
        nn.LSTM(3, 4, proj_size=-1)
