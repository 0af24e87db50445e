"""Whole modules saved by real PyTorch (``torch.save(model)``; tests/io/fixtures, made by
bench/torch_fixtures.py) load with ``weights_only=False`` as chainrule's own classes and give
PyTorch's outputs; nothing from the file runs, and the default still refuses them, as
PyTorch 2.6 does."""

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import chainrule as cr
from chainrule import nn

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = load_file(FIXTURES / "whole_modules_expected.safetensors")
INPUTS = {"vision": lambda: cr.linspace(-2, 2, 2 * 2 * 6 * 6).reshape(2, 2, 6, 6),
          "net": lambda: cr.tensor([[1, 2, 3, 0], [4, 5, 6, 6]]),
          "small": lambda: cr.linspace(-1, 1, 6).reshape(2, 3)}


class WholeNet(nn.Module):
    """The model class the file names (as tests.io.test_torch_whole_modules.WholeNet): the
    user's own, defined in the loading program, as PyTorch needs it too."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(7, 4, padding_idx=0)
        self.rnn = nn.LSTM(4, 3, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(6, 4, batch_first=True)
        self.encoder = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True,
                                                  activation="gelu")
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2),
                                    "b": nn.Sequential(nn.Linear(4, 3), nn.Tanh())})
        self.tied = nn.Linear(4, 7, bias=False)
        self.tied.weight = self.embed.weight
        self.register_buffer("scale", cr.tensor(0.5))

    def forward(self, tokens):
        h, _ = self.gru(self.rnn(self.embed(tokens))[0])
        h = self.encoder(h)
        return cr.cat([self.heads["a"](h) * self.scale, self.heads["b"](h),
                       self.tied(self.embed(tokens))], -1)


def _check_outputs(models):
    with cr.no_grad():
        for name, model in models.items():
            np.testing.assert_allclose(model(INPUTS[name]()).numpy(), EXPECTED[name],
                                       rtol=1e-5, atol=1e-6)


def test_whole_modules_load_as_chainrule_classes_with_pytorchs_outputs():
    state = cr.load(FIXTURES / "whole_modules.pt", weights_only=False)
    assert state["epoch"] == 7
    vision, net = state["vision"], state["net"]
    assert type(vision) is nn.Sequential and type(vision[1]) is nn.BatchNorm2d
    assert type(net) is WholeNet and type(net.rnn) is nn.LSTM
    assert not vision.training and not net.training  # saved after eval()
    assert net.tied.weight is net.embed.weight  # the tie survives
    assert vision[0].padding_mode == "reflect" and vision[2].negative_slope == 0.2
    _check_outputs({"vision": vision, "net": net})


def test_a_loaded_model_trains():
    net = cr.load(FIXTURES / "whole_modules.pt", weights_only=False)["net"].train()
    optimizer = cr.optim.SGD(net.parameters(), lr=0.1)
    net(INPUTS["net"]()).pow(2).mean().backward()
    assert all(p.grad is not None for p in net.parameters())
    before = net.heads["a"].weight.detach().clone()
    optimizer.step()
    assert not np.array_equal(before.numpy(), net.heads["a"].weight.detach().numpy())


def test_the_legacy_layout_loads_without_reading_the_source_it_holds():
    state = cr.load(FIXTURES / "whole_modules_legacy.pt", weights_only=False)
    assert state["epoch"] == 7 and type(state["small"]) is nn.Sequential
    _check_outputs({"small": state["small"]})


@pytest.mark.parametrize("name", ["whole_modules.pt", "whole_modules_legacy.pt",
                                  "whole_module.pt"])
def test_the_default_refuses_whole_modules_and_says_how_to_load_them(name):
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        cr.load(FIXTURES / name)


def test_a_module_with_hooks_is_refused():
    with pytest.raises(pickle.UnpicklingError, match="hook is code"):
        cr.load(FIXTURES / "hooked_module.pt", weights_only=False)


def test_a_class_the_program_has_not_defined_is_refused(monkeypatch):
    monkeypatch.delattr(sys.modules[__name__], "WholeNet")
    with pytest.raises(pickle.UnpicklingError,
                       match="test_torch_whole_modules.WholeNet.*defined in this program"):
        cr.load(FIXTURES / "whole_modules.pt", weights_only=False)


def test_a_name_that_is_not_a_module_class_is_refused(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "WholeNet", print)
    with pytest.raises(pickle.UnpicklingError, match="WholeNet"):
        cr.load(FIXTURES / "whole_modules.pt", weights_only=False)
