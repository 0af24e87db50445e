"""What ops of a sampled forward were given (left18): a loss given probabilities as logits, a
layer norm's input drowned by one term, and which forwards count as training ones."""

import numpy as np

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics.activations import (
    SHARE_ROWS,
    _batch_share,
    probabilities_as_logits,
    softmax_over_the_batch,
    training_forward,
)


class _Node:
    """A stand-in for an op's node: its class name and its options."""

    def __init__(self, name, **options):
        self.__class__ = type(name, (), {})
        self.forward_options = options


def _tensor(array):
    return torch.from_numpy(np.asarray(array, dtype=np.float32))


def test_a_softmax_output_given_as_logits_is_read_and_raw_scores_are_not():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((32, 10)).astype(np.float32)
    probabilities = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    assert probabilities_as_logits(_Node("CrossEntropy"), (_tensor(probabilities),)) == 10
    assert probabilities_as_logits(_Node("CrossEntropy"), (_tensor(scores),)) is None
    # in [0, 1] but not summing to 1: sigmoids, not a softmax
    sigmoids = 1 / (1 + np.exp(-scores))
    assert probabilities_as_logits(_Node("CrossEntropy"), (_tensor(sigmoids),)) is None
    # a log-softmax over its own dim: (N, C, L) probabilities along dim 1 read only there
    rows = probabilities.reshape(32, 10, 1).repeat(3, 2)
    assert probabilities_as_logits(_Node("LogSoftmax", dim=1), (_tensor(rows),)) == 10
    assert probabilities_as_logits(_Node("LogSoftmax", dim=-1), (_tensor(rows),)) is None


def test_a_softmax_over_the_batch_axis_given_as_logits_is_read_and_over_classes_is_not():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((32, 10)).astype(np.float32)
    over_batch = np.exp(scores) / np.exp(scores).sum(0, keepdims=True)  # nn.Softmax(dim=0)
    over_classes = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    assert softmax_over_the_batch(_Node("CrossEntropy"), (_tensor(over_batch),)) == 10
    assert probabilities_as_logits(_Node("CrossEntropy"), (_tensor(over_batch),)) is None
    assert softmax_over_the_batch(_Node("CrossEntropy"), (_tensor(over_classes),)) is None
    assert softmax_over_the_batch(_Node("CrossEntropy"), (_tensor(scores),)) is None
    # a batch of one: every value 1 over the batch, no evidence of an axis
    assert softmax_over_the_batch(_Node("CrossEntropy"), (_tensor(over_batch[:1] * 0 + 1),)) is None


def test_the_share_that_differs_between_samples_against_a_hand_count():
    rng = np.random.default_rng(0)
    common = rng.standard_normal((1, 8, 16)) * 20.0  # the same for every sample
    data = rng.standard_normal((32, 8, 16)) * 0.02
    x = common + data

    def by_hand(x):
        centred = x - x.mean(-1, keepdims=True)
        spread = centred - centred.mean(0, keepdims=True)
        return np.sqrt((spread ** 2).mean() / (centred ** 2).mean())

    # read from the first SHARE_ROWS samples (and positions), which stand for the whole batch
    assert np.isclose(_batch_share(x, 1), by_hand(x[:SHARE_ROWS, :SHARE_ROWS]))
    assert np.isclose(_batch_share(x, 1), by_hand(x), rtol=0.1)
    assert 5e-4 < _batch_share(x, 1) < 2e-3  # about 0.02 / 20
    # an offset shared by every feature of a row is what the norm removes: it drowns nothing
    offset = rng.standard_normal((32, 8, 1)) * 1e3
    assert np.isclose(_batch_share(data + offset, 1), _batch_share(data, 1))
    assert _batch_share(np.broadcast_to(common, (32, 8, 16)), 1) < 1e-12


def test_a_training_forward_is_one_with_a_graph_whatever_the_mode():
    layer = nn.Linear(2, 2)
    assert training_forward(layer)
    layer.eval()
    assert training_forward(layer)  # eval mode left on while it trains
    with torch.no_grad():
        assert not training_forward(layer)  # a validation pass
        layer.train()
        assert training_forward(layer)
