"""Idioms of real training scripts that used to crash: the "infinite loader" of GPT scripts
(RandomSampler with replacement and num_samples=1e10) and indexing with Python sequences."""

import collections
import itertools
import tracemalloc

import numpy as np
import pytest

import chainrule as torch
from chainrule.utils.data import DataLoader, RandomSampler, TensorDataset, WeightedRandomSampler


def _peak_bytes(run):
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_infinite_loader_draws_lazily():
    data = TensorDataset(torch.arange(10))
    sampler = RandomSampler(data, replacement=True, num_samples=int(1e10))
    loader = DataLoader(data, batch_size=4, sampler=sampler)
    assert len(sampler) == 10**10 and len(loader) == 25 * 10**8
    batches = []
    peak = _peak_bytes(lambda: batches.extend(itertools.islice(iter(loader), 100)))
    assert peak < 20 * 2**20  # drawing 1e10 indices up front would take 80 GB
    drawn = torch.cat([b[0] for b in batches])
    assert drawn.shape == (400,) and int(drawn.min()) >= 0 and int(drawn.max()) <= 9
    assert len(set(drawn.tolist())) == 10  # every index turns up


def test_lazy_samplers_replay_from_the_generator_state_at_iter():
    g = torch.Generator().manual_seed(3)
    sampler = RandomSampler(range(7), replacement=True, num_samples=10**12, generator=g)
    state = g.get_state()
    first = list(itertools.islice(iter(sampler), 50))
    torch.rand(5, generator=g)  # other draws between epochs do not matter ...
    g.set_state(state)
    again = iter(sampler)
    torch.rand(5, generator=g)  # ... nor draws during the epoch
    assert list(itertools.islice(again, 50)) == first
    weighted = WeightedRandomSampler([0.0, 1.0, 1.0], num_samples=10**12, generator=g)
    assert set(itertools.islice(iter(weighted), 200)) == {1, 2}


def test_more_samples_than_items_without_replacement_are_whole_permutations():
    order = list(RandomSampler(range(4), num_samples=10, generator=torch.Generator()))
    assert sorted(order[:4]) == sorted(order[4:8]) == [0, 1, 2, 3]
    assert len(order) == 10 and len(set(order[8:])) == 2


@pytest.mark.parametrize("sequence", [
    range(3), [0, 1, 2], (0, 1, 2), collections.deque([0, 1, 2]), np.arange(3),
    [torch.tensor(0), torch.tensor(1), torch.tensor(2)],
])
def test_indexing_with_python_sequences(sequence):
    t = torch.arange(12.0).reshape(3, 4)
    idx = torch.tensor([3, 0, 2])
    key = sequence if not isinstance(sequence, tuple) else list(sequence)
    assert t[key, idx].tolist() == [3.0, 4.0, 10.0]
    t[key, idx] = -1.0
    assert t[key, idx].tolist() == [-1.0, -1.0, -1.0]
    assert t[..., range(2)].shape == (3, 2) and t[None, range(2)].shape == (1, 2, 4)


def test_gradient_through_range_indexing():
    logits = torch.zeros(3, 4, requires_grad=True)
    targets = torch.tensor([1, 3, 0])
    # the classic manual NLL: -log_softmax(logits)[range(n), targets].mean()
    loss = -torch.log_softmax(logits, dim=1)[range(3), targets].mean()
    loss.backward()
    expected = np.full((3, 4), 0.25 / 3)
    expected[[0, 1, 2], [1, 3, 0]] -= 1 / 3
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-6)
    assert loss.item() == pytest.approx(np.log(4.0))
