"""The sanity checks: rank correlation against hand values, the randomised copy, and checks
that pass on sound explanations and fail on broken ones."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import explain, nn


def test_rank_correlation_against_hand_values():
    assert explain.rank_correlation([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert explain.rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4), centred (-1.5, 0, 0, 1.5) and
    # (-1.5, -0.5, 0.5, 1.5): 4.5 / sqrt(4.5 * 5)
    assert explain.rank_correlation([1, 5, 5, 9], [1, 2, 3, 4]) == pytest.approx(
        4.5 / np.sqrt(4.5 * 5))
    assert np.isnan(explain.rank_correlation([3, 3, 3], [1, 2, 3]))


def test_randomised_copy_reinitialises_every_weight_and_leaves_the_rest_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.MultiheadAttention(8, 2))
    with torch.no_grad():
        model[1].weight.mul_(3.0)  # trained-looking values that reset_parameters changes
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = torch.get_rng_state()
    first, second = explain.randomised_copy(model, 1), explain.randomised_copy(model, 1)
    assert torch.equal(torch.get_rng_state(), state)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])  # the model itself is untouched
        if "bias" not in key:
            assert not torch.equal(first.state_dict()[key], value), key
        assert torch.equal(first.state_dict()[key], second.state_dict()[key])  # seeded
    shuffled = first.state_dict()["2.in_proj_weight"].numpy()  # no reset_parameters: shuffled
    np.testing.assert_array_equal(np.sort(shuffled.ravel()),
                                  np.sort(before["2.in_proj_weight"].numpy().ravel()))


def smooth_classifier():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def test_completeness_passes_at_64_steps_and_fails_at_one_on_a_curved_model():
    model = smooth_classifier()
    x = torch.randn(8, 6) * 3
    check = explain.completeness(model, x, target=2)
    assert check.passed and check.values.max() < 0.01
    assert "integrated gradients, 64 steps, float64" in str(check) and "passed" in str(check)
    failed = explain.completeness(model, x, target=2, steps=1)
    assert not failed.passed and "FAILED" in str(failed)
    assert next(model.parameters()).dtype == torch.float32  # checked on a float64 copy


def test_model_randomisation_fails_for_a_method_that_ignores_the_model():
    model = smooth_classifier()
    x = torch.randn(10, 6)

    def edge_detector(model, x, target):  # looks only at the input, like a blind method
        return x * 2

    blind = explain.model_randomisation(model, x, 1, method=edge_detector)
    assert not blind.passed and np.allclose(blind.values, 1.0)
    sound = explain.model_randomisation(model, x, 1, method=explain.saliency, abs=False)
    assert sound.passed and "rank correlation" in sound.summary
    assert sound.values.shape == (10,)
