"""A module's registries (``_parameters``, ``_buffers``, ``_modules``) and its attributes agree
after every way of changing either: registered items are read as plain attributes."""

import copy
import pickle

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import parametrize


def _linear():
    return nn.Linear(3, 2)


def test_attributes_follow_direct_writes_to_the_registries():
    fc = _linear()
    other = nn.Parameter(cr.zeros(2, 3))
    fc._parameters["weight"] = other  # as torch.func.functional_call and libraries do
    assert fc.weight is other and "weight" in vars(fc)
    del fc._parameters["weight"]
    assert "weight" not in vars(fc)
    fc._parameters.setdefault("weight", other)
    assert fc.weight is other
    assert fc._parameters.pop("weight") is other and "weight" not in vars(fc)
    assert fc._parameters.pop("weight", None) is None
    fc._parameters.update(weight=other)
    assert fc.weight is other
    fc._buffers["stat"] = cr.ones(2)
    fc._buffers.clear()
    assert not hasattr(fc, "stat")
    assert fc._parameters.popitem() == ("weight", other) and not hasattr(fc, "weight")


def test_a_pop_of_a_missing_name_leaves_a_plain_attribute_alone():
    fc = _linear()
    fc._parameters.pop("in_features", None)
    assert fc.in_features == 3


def test_attribute_assignment_and_deletion_reach_the_registries():
    fc = _linear()
    fc.weight = nn.Parameter(cr.ones(2, 3))
    assert fc._parameters["weight"] is fc.weight
    fc.bias = None
    assert fc.bias is None and fc._parameters["bias"] is None
    fc.child = nn.ReLU()
    del fc.child
    assert "child" not in fc._modules and not hasattr(fc, "child")


def test_copies_and_pickles_keep_registries_and_attributes_together():
    fc = _linear()
    for clone in (copy.deepcopy(fc), pickle.loads(pickle.dumps(fc))):
        assert clone.weight is clone._parameters["weight"]
        assert clone.weight is not fc.weight
        replacement = nn.Parameter(cr.zeros(2, 3))
        clone._parameters["weight"] = replacement
        assert clone.weight is replacement and fc.weight is not replacement


def test_a_shallow_copy_shares_its_registries_as_in_pytorch():
    fc = _linear()
    twin = copy.copy(fc)
    replacement = nn.Parameter(cr.zeros(2, 3))
    twin.weight = replacement
    assert fc.weight is replacement and twin.weight is replacement


def test_a_parametrization_replaces_the_attribute():
    class Doubled(nn.Module):
        def forward(self, w):
            return w * 2

    fc = _linear()
    original = fc.weight.detach().clone()
    parametrize.register_parametrization(fc, "weight", Doubled())
    assert "weight" not in fc._parameters
    assert cr.allclose(fc.weight, original * 2)
