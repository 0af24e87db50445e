"""nn.utils.prune as PyTorch's pruning tutorial uses it: masks of L1, Ln-structured, iterated
and global pruning equal PyTorch 2.13's on fixed weights (recorded below), the parameter and
buffer names and state-dict keys are PyTorch's, and remove() keeps the pruned values."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import prune

W1 = [[-0.6, -0.23, 0.14, 0.51], [-0.42, -0.05, 0.32, 0.69], [-0.24, 0.13, 0.5, -0.43]]
W2 = [[-0.4, 0.13, -0.24], [0.29, -0.08, 0.45]]
EXPECTED = {'conv_dim1': [16.0, 0.0],
            'global_a': [[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]],
            'global_b': [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
            'keys': ['bias', 'weight_orig', 'weight_mask'],
            'l1': [[1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0]],
            'removed': [[-0.6, -0.0, 0.0, 0.51], [-0.42, -0.0, 0.0, 0.69], [-0.0, 0.0, 0.0, -0.0]],
            'removed_names': ['bias', 'weight'],
            'then_l1': [[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]],
            'then_ln': [[1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]}


def _layers():
    a, b = nn.Linear(4, 3).double(), nn.Linear(3, 2).double()
    with cr.no_grad():
        a.weight.copy_(cr.tensor(W1, dtype=cr.float64))
        b.weight.copy_(cr.tensor(W2, dtype=cr.float64))
    return a, b


def test_masks_of_iterated_and_global_pruning_match_pytorch():
    a, b = _layers()
    prune.l1_unstructured(a, "weight", amount=0.25)
    assert a.weight_mask.tolist() == EXPECTED["l1"]
    prune.ln_structured(a, "weight", amount=1, n=2, dim=0)   # among the entries still kept
    assert a.weight_mask.tolist() == EXPECTED["then_ln"]
    prune.l1_unstructured(a, "weight", amount=2)
    assert a.weight_mask.tolist() == EXPECTED["then_l1"]
    assert list(a.state_dict()) == EXPECTED["keys"]
    prune.global_unstructured([(a, "weight"), (b, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    assert a.weight_mask.tolist() == EXPECTED["global_a"]
    assert b.weight_mask.tolist() == EXPECTED["global_b"]
    np.testing.assert_allclose(a.weight.detach().numpy(),
                               np.array(W1) * np.array(EXPECTED["global_a"]))
    prune.remove(a, "weight")
    np.testing.assert_allclose(a.weight.detach().numpy(), EXPECTED["removed"])
    assert [n for n, _ in a.named_parameters()] == EXPECTED["removed_names"]
    assert isinstance(a.weight, nn.Parameter) and not prune.is_pruned(a) and prune.is_pruned(b)


def test_structured_pruning_along_input_channels_matches_pytorch():
    conv = nn.Conv2d(2, 4, 2).double()
    with cr.no_grad():
        conv.weight.copy_(cr.tensor(np.arange(32).reshape(4, 2, 2, 2) * 0.61 % 1.7 - 0.8))
    prune.ln_structured(conv, "weight", amount=0.5, n=1, dim=1)
    assert conv.weight_mask.sum(dim=(0, 2, 3)).tolist() == EXPECTED["conv_dim1"]


def test_pruned_weight_is_recomputed_before_each_forward_and_trains_through_the_mask():
    a, _ = _layers()
    prune.l1_unstructured(a, "weight", amount=0.5)
    x = cr.ones(2, 4, dtype=cr.float64)
    a(x).sum().backward()
    mask = a.weight_mask.numpy()
    np.testing.assert_array_equal(a.weight_orig.grad.numpy() == 0, mask == 0)  # no gradient
    with cr.no_grad():
        a.weight_orig.add_(1.0)
    a(x)                                    # the pre-hook multiplies by the mask again
    np.testing.assert_allclose(a.weight.detach().numpy(), (np.array(W1) + 1) * mask)


def test_random_custom_and_own_methods_and_refusals():
    cr.manual_seed(0)
    layer = nn.Linear(10, 10)
    prune.random_unstructured(layer, "weight", amount=0.3)
    assert int((layer.weight_mask == 0).sum()) == 30
    prune.random_structured(layer, "bias", amount=4, dim=0)
    assert int((layer.bias_mask == 0).sum()) == 4
    custom = nn.Linear(2, 2)
    prune.custom_from_mask(custom, "bias", mask=cr.tensor([0.0, 1.0]))
    assert custom.bias_mask.tolist() == [0.0, 1.0]

    class EverySecond(prune.BasePruningMethod):   # the tutorial's own method
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    mine = nn.Linear(3, 4)
    EverySecond.apply(mine, "bias")
    assert mine.bias_mask.tolist() == [0.0, 1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="amount=1.5"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=1.5)
    with pytest.raises(ValueError, match="has to be pruned before"):
        prune.remove(nn.Linear(2, 2), "weight")
