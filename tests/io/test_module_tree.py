"""Whole modules saved and loaded without pickle: every layer family round-trips with its
outputs, ties and training flag; classes that are not chainrule's own need add_safe_globals."""

import io
import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, serialization
from chainrule.serialization import CheckpointError
from chainrule.train import presets

from .forge import split, with_structure


def families():
    return {
        "linear": (nn.Linear(4, 3), (2, 5, 4)),
        "conv": (nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ConvTranspose2d(3, 2, 2),
                               nn.MaxPool2d(2), nn.AvgPool2d(1), nn.AdaptiveAvgPool2d(2)),
                 (2, 2, 6, 6)),
        "norms": (nn.Sequential(nn.BatchNorm2d(2), nn.GroupNorm(1, 2), nn.LayerNorm(6)),
                  (2, 2, 6, 6)),
        "activations": (nn.Sequential(nn.GELU(approximate="tanh"), nn.LeakyReLU(0.2),
                                      nn.Softmax(dim=1), nn.Dropout(0.3)), (2, 5)),
        "lstm": (nn.LSTM(4, 6, num_layers=2, batch_first=True), (2, 5, 4)),
        "gru": (nn.GRU(4, 6, bidirectional=True), (5, 2, 4)),
        "attention": (nn.MultiheadAttention(4, 2, batch_first=True), (2, 5, 4)),
        "transformer": (nn.TransformerEncoder(nn.TransformerEncoderLayer(
            4, 2, 8, activation="gelu", batch_first=True), 2, enable_nested_tensor=False),
            (2, 5, 4)),
        "mlp": (presets.mlp((1, 8, 8), 10, 16, 2, 0.1), (2, 1, 8, 8)),
        "cnn": (presets.cnn((1, 8, 8), 10, 16, 0.1), (2, 1, 8, 8)),
    }


def round_trip(obj):
    buffer = io.BytesIO()
    cr.save(obj, buffer)
    return cr.load(io.BytesIO(buffer.getvalue()))


def first(result):
    return result[0] if isinstance(result, tuple) else result


@pytest.mark.parametrize("name", sorted(families()))
def test_every_family_round_trips_with_its_outputs(name):
    model, shape = families()[name]
    model.eval()
    loaded = round_trip(model)
    assert type(loaded) is type(model) and not loaded.training
    assert repr(loaded) == repr(model)
    x = cr.from_numpy(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    args = (x, x, x) if name == "attention" else (x,)
    with cr.no_grad():
        np.testing.assert_array_equal(first(loaded(*args)).numpy(), first(model(*args)).numpy())
    assert list(loaded.state_dict()) == list(model.state_dict())
    assert all(p.requires_grad for p in loaded.parameters())


def test_text_presets_round_trip_through_the_torch_alias(tmp_path):
    import chainrule as torch

    for model in (presets.CharLSTM(11, 8, 1, 0.0, 6), presets.CharGPT(11, 8, 2, 2, 0.0, 6)):
        torch.save(model, tmp_path / "model.pt")
        loaded = torch.load(tmp_path / "model.pt", weights_only=True)
        tokens = torch.tensor([[1, 2, 3, 4]])
        np.testing.assert_array_equal(loaded(tokens).detach().numpy(),
                                      model(tokens).detach().numpy())


def test_training_flag_ties_and_buffers_survive():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared, nn.BatchNorm1d(3))
    model[3].running_mean.fill_(0.5)
    model.train()
    loaded = round_trip({"model": model, "epoch": 4})
    assert loaded["epoch"] == 4
    copy = loaded["model"]
    assert copy.training and copy[0] is copy[2] and copy[0].weight is copy[2].weight
    assert isinstance(copy[0].weight, nn.Parameter)
    np.testing.assert_array_equal(copy[3].running_mean.numpy(), [0.5] * 3)
    assert sum(1 for _ in copy.parameters()) == 4  # the tied layer counts once


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.scale = 3.0

    def forward(self, x):
        return self.fc(x) * self.scale


def saved_net():
    buffer = io.BytesIO()
    with pytest.warns(UserWarning, match="add_safe_globals"):
        cr.save(Net(), buffer)
    return buffer.getvalue()


def test_a_class_of_the_users_is_refused_by_name_until_allowed():
    payload = saved_net()
    with pytest.raises(CheckpointError, match=r"test_module_tree\.Net.*add_safe_globals\(\[Net\]"):
        cr.load(io.BytesIO(payload))
    with serialization.safe_globals([Net]):
        net = cr.load(io.BytesIO(payload))
    assert type(net) is Net and net.scale == 3.0 and net(cr.ones(1, 2)).shape == (1, 2)


def changed(payload, change):
    """``payload`` with ``change`` applied to its object tree (sealed again)."""
    structure = json.loads(split(payload)[0]["__metadata__"]["structure"])
    change(structure)
    return with_structure(payload, structure)


@pytest.mark.parametrize("where", [["os", "system"], ["chainrule.serialization", "save"],
                                   ["chainrule.tensor", "Tensor"], ["builtins", "dict"],
                                   ["chainrule.nn.modules.module", "__class__"]])
def test_a_file_naming_anything_else_is_refused(where):
    buffer = io.BytesIO()
    cr.save(nn.Linear(2, 2), buffer)
    payload = changed(buffer.getvalue(), lambda s: s.update(__nn_module__=where))
    with pytest.raises(CheckpointError, match="not one of chainrule's own"):
        cr.load(io.BytesIO(payload))


def test_function_attributes_are_chainrules_own_only():
    layer = nn.TransformerEncoderLayer(4, 2, 8, activation="gelu")
    assert round_trip(layer).activation is layer.activation

    def steal(structure):
        for pair in structure["state"]["attributes"]:
            if pair[0] == "activation":
                pair[1] = {"__function__": ["os", "system"]}

    buffer = io.BytesIO()
    cr.save(layer, buffer)
    with pytest.raises(CheckpointError, match="function os.system"):
        cr.load(io.BytesIO(changed(buffer.getvalue(), steal)))
    layer.activation = lambda x: x
    with pytest.raises(TypeError, match="function"):
        cr.save(layer, io.BytesIO())


def test_hooks_are_not_saved_and_say_so():
    model = nn.Linear(2, 2)
    model.register_forward_hook(lambda *args: None)
    with pytest.warns(UserWarning, match="hooks"):
        loaded = round_trip(model)
    assert not loaded._forward_hooks
