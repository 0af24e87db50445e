"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_sequential_applies_in_order_and_indexes():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = cr.randn(5, 3)
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).detach().numpy(), expected.detach().numpy())
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    seq.append(nn.Sigmoid())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    assert isinstance(seq[1], nn.Linear)
    with pytest.raises(IndexError, match="out of range"):
        seq[5]


def test_sequential_from_ordered_dict_names_and_repr():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]
    assert seq.act is seq[1]
    assert repr(seq) == (
        "Sequential(\n"
        "  (fc): Linear(in_features=2, out_features=2, bias=True)\n"
        "  (act): Tanh()\n"
        ")"
    )


def test_module_list_registers_and_behaves_like_a_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Linear",
                                                  "ReLU", "Tanh"]
    assert [n for n, _ in layers.named_children()] == [str(i) for i in range(6)]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers[0] = nn.Sigmoid()
    assert isinstance(layers[0], nn.Sigmoid)
    del layers[0]
    assert len(layers) == 5 and isinstance(layers[0], nn.Linear)
    with pytest.raises(NotImplementedError, match="forward"):
        layers(cr.ones(2))


def test_module_dict():
    d = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    d["c"] = nn.Tanh()
    assert list(d.keys()) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias"]
    assert isinstance(d.pop("b"), nn.ReLU) and list(d) == ["a", "c"]


def test_parameter_list_and_dict_wrap_tensors():
    plist = nn.ParameterList([cr.ones(2), nn.Parameter(cr.zeros(3))])
    plist.append(cr.ones(1))
    assert len(plist) == 3 and all(isinstance(p, nn.Parameter) for p in plist)
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "2"]
    assert repr(plist).splitlines()[1].strip() == (
        "(0): Parameter containing: [chainrule.float32 of size 2]")
    pdict = nn.ParameterDict({"w": cr.ones(2, 2)})
    pdict["b"] = cr.zeros(2)
    assert list(pdict.keys()) == ["w", "b"] and isinstance(pdict["b"], nn.Parameter)

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = plist

    assert [n for n, _ in Holder().named_parameters()] == ["params.0", "params.1", "params.2"]


def test_containers_round_trip_state_dict():
    cr.manual_seed(0)
    a = nn.Sequential(nn.Linear(2, 3), nn.ModuleList([nn.Linear(3, 3)]))
    b = nn.Sequential(nn.Linear(2, 3), nn.ModuleList([nn.Linear(3, 3)]))
    b.load_state_dict(a.state_dict())
    assert list(a.state_dict()) == ["0.weight", "0.bias", "1.0.weight", "1.0.bias"]
    np.testing.assert_array_equal(b[1][0].weight.detach().numpy(),
                                  a[1][0].weight.detach().numpy())
