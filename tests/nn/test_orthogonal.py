"""``nn.utils.parametrizations.orthogonal`` against PyTorch-recorded values (state-dict keys,
the weight made at registration, forward values and gradients of each map, assignment through
``right_inverse``), and its behaviour in training."""

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from tests.nn.orthogonal_cases import CASES, run

RECORDED = json.loads((Path(__file__).parent / "torch_orthogonal.json").read_text())["cases"]
orthogonal = cr.nn.utils.parametrizations.orthogonal


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{shape}-{m}-{t}" for shape, m, t in CASES])
def test_matches_pytorch(index):
    ours, theirs = run(cr, index), RECORDED[index]
    assert sorted(ours) == sorted(theirs)
    assert ours.pop("keys") == theirs.pop("keys")
    for name, expected in theirs.items():
        np.testing.assert_allclose(ours[name], np.asarray(expected), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def gram(w):
    w = w.detach().numpy()
    return w @ w.T if w.shape[0] < w.shape[1] else w.T @ w


@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6)])
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_stays_orthogonal_while_training(shape, orthogonal_map):
    cr.manual_seed(0)
    layer = orthogonal(cr.nn.Linear(shape[1], shape[0]).double(), orthogonal_map=orthogonal_map)
    optimizer = cr.optim.SGD(layer.parameters(), lr=0.1)
    x, target = cr.randn(16, shape[1], dtype=cr.float64), cr.randn(16, shape[0],
                                                                       dtype=cr.float64)
    losses = []
    for _ in range(20):
        loss = ((layer(x) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]  # the original trains
    np.testing.assert_allclose(gram(layer.weight), np.eye(min(shape)), atol=1e-10)


def test_state_dict_round_trip():
    cr.manual_seed(1)
    layer = orthogonal(cr.nn.Linear(3, 5))
    other = orthogonal(cr.nn.Linear(3, 5))
    other.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(other.weight.detach().numpy(), layer.weight.detach().numpy())


def test_refusals_as_pytorch_words_them():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor "
                                         "of 1 dimensions"):
        orthogonal(cr.nn.Linear(3, 3), name="bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp"'):
        orthogonal(cr.nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        orthogonal(cr.nn.Linear(3, 3), name="kernel")
    # registering keeps the weight as the original (the map has no inverse); assigning refuses
    layer = orthogonal(cr.nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        layer.weight = cr.eye(3)
    layer = orthogonal(cr.nn.Linear(3, 3))
    with pytest.raises(ValueError, match=r"of shape .*Size\(\[3, 3\]\)"):
        layer.parametrizations.weight[0].right_inverse(cr.eye(4))
