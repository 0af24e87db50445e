"""Module APIs PyTorch programs use: extra state in the state dict, to_empty, compile, and
EmbeddingBag.from_pretrained."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Counter(nn.Module):
    """A layer with state that is no tensor: how many batches it has seen."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.seen = 0

    def get_extra_state(self):
        return {"seen": self.seen}

    def set_extra_state(self, state):
        self.seen = state["seen"]


def test_extra_state_travels_with_the_state_dict(tmp_path):
    model = nn.Sequential(Counter(), nn.ReLU())
    model[0].seen = 7
    state = model.state_dict()
    assert list(state) == ["0._extra_state", "0.fc.weight", "0.fc.bias"]  # (PyTorch's order)
    cr.save(state, tmp_path / "model.pt")
    fresh = nn.Sequential(Counter(), nn.ReLU())
    fresh.load_state_dict(cr.load(tmp_path / "model.pt"))
    assert fresh[0].seen == 7
    np.testing.assert_array_equal(fresh[0].fc.weight.detach().numpy(),
                                  model[0].fc.weight.detach().numpy())
    with pytest.raises(RuntimeError, match=r'Missing key\(s\).*"0._extra_state"'):
        fresh.load_state_dict({k: v for k, v in state.items() if k != "0._extra_state"})
    with pytest.raises(RuntimeError, match="override get_extra_state"):
        nn.Linear(1, 1).get_extra_state()


def test_to_empty_gives_new_memory_of_the_same_shapes_and_compile_changes_nothing():
    layer = nn.Linear(3, 2)
    weight = layer.weight
    assert layer.to_empty(device="cpu") is layer
    assert layer.weight is weight and layer.weight.shape == (2, 3)
    assert layer.weight.dtype == cr.float32 and layer.bias.shape == (2,)
    with pytest.raises(RuntimeError, match="cuda"):
        layer.to_empty(device="cuda")
    assert layer.compile() is None and type(layer) is nn.Linear


def test_embedding_bag_from_pretrained():
    table = cr.eye(3)
    bag = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    assert bag(cr.tensor([[0, 1]])).tolist() == [[1.0, 1.0, 0.0]]
    assert not bag.weight.requires_grad
    assert nn.EmbeddingBag.from_pretrained(table, freeze=False).weight.requires_grad
