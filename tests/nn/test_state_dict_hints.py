"""A state dict that does not fit a module for a usual reason (a wrapper's key prefix, a whole
checkpoint passed instead of its model state) fails as in PyTorch, plus a line with the fix."""

import pytest

from chainrule import nn


@pytest.fixture
def model():
    return nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))


@pytest.mark.parametrize("prefix", ["module.", "_orig_mod.", "model."])
def test_a_wrappers_prefix_is_named_with_the_fix(model, prefix):
    state = {prefix + key: value for key, value in model.state_dict().items()}
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\) in state_dict") as error:
        model.load_state_dict(state)
    fix = f'load {{k.removeprefix("{prefix}"): v for k, v in state_dict.items()}} instead'
    assert f'Hint: the keys start with "{prefix}"' in str(error.value) and fix in str(error.value)
    model.load_state_dict({k.removeprefix(prefix): v for k, v in state.items()})  # the fix works


def test_a_whole_checkpoint_names_the_key_that_holds_the_model(model):
    checkpoint = {"epoch": 3, "model_state": model.state_dict(), "optimizer": {"state": {}}}
    with pytest.raises(RuntimeError, match=r'Hint: the model\'s state sits under the key '
                                           r'"model_state" \(a whole checkpoint\); load '
                                           r'state_dict\["model_state"\] instead'):
        model.load_state_dict(checkpoint)


def test_an_unrelated_mismatch_gets_no_hint(model):
    state = model.state_dict()
    state["extra.weight"] = state["0.weight"]
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    assert "Hint" not in str(error.value)
