"""Datasets (TensorDataset, Subset, ConcatDataset, random_split) and samplers."""

import collections

import numpy as np
import pytest

import chainrule
from chainrule.data import (
    BatchSampler,
    ConcatDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)


def test_tensor_dataset_rows_and_length():
    x = chainrule.from_numpy(np.arange(12, dtype=np.float32).reshape(4, 3))
    y = chainrule.tensor([0, 1, 2, 3])
    dataset = TensorDataset(x, y)
    assert len(dataset) == 4
    row, label = dataset[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 2 and label.dtype == chainrule.int64


def test_tensor_dataset_size_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\), \(5,\)"):
        TensorDataset(chainrule.zeros(4, 3), chainrule.zeros(5))
    with pytest.raises(TypeError, match="from_numpy"):
        TensorDataset(np.zeros(3))


def test_subset_and_concat_index_the_right_samples():
    subset = Subset(list(range(10, 20)), [3, 1, 4])
    assert len(subset) == 3 and [subset[i] for i in range(3)] == [13, 11, 14]
    concat = ConcatDataset([list("abc"), list("de")])
    assert len(concat) == 5 and concat.cumulative_sizes == [3, 5]
    assert [concat[i] for i in range(5)] == list("abcde") and concat[-1] == "e"
    with pytest.raises(IndexError):
        concat[5]


def test_random_split_counts_are_disjoint_and_cover_the_dataset():
    g = chainrule.Generator().manual_seed(0)
    parts = random_split(range(20), [12, 5, 3.0], generator=g)
    assert [len(p) for p in parts] == [12, 5, 3]
    seen = [p[i] for p in parts for i in range(len(p))]
    assert sorted(seen) == list(range(20))
    g.manual_seed(0)
    again = random_split(range(20), [12, 5, 3], generator=g)
    assert list(again[0].indices) == list(parts[0].indices)


def test_random_split_fractions_deal_the_remainder_from_the_first():
    parts = random_split(range(11), [0.5, 0.3, 0.2], generator=chainrule.Generator())
    # floor: 5, 3, 2 = 10; the one left over goes to the first subset.
    assert [len(p) for p in parts] == [6, 3, 2]
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(range(10), [4, 5])


def test_sequential_and_batch_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    sampler = BatchSampler(range(7), batch_size=3, drop_last=False)
    assert list(sampler) == [[0, 1, 2], [3, 4, 5], [6]] and len(sampler) == 3
    sampler = BatchSampler(range(7), batch_size=3, drop_last=True)
    assert list(sampler) == [[0, 1, 2], [3, 4, 5]] and len(sampler) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(7), batch_size=0, drop_last=False)


def test_random_sampler_permutes_and_repeats_the_same_from_a_seed():
    g = chainrule.Generator().manual_seed(5)
    order = list(RandomSampler(range(10), generator=g))
    assert sorted(order) == list(range(10)) and order != list(range(10))
    g.manual_seed(5)
    assert list(RandomSampler(range(10), generator=g)) == order
    # More samples than items without replacement: whole permutations, then part of one.
    long = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3] and len(long) == 10
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=g))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    with pytest.raises(TypeError, match="boolean"):
        RandomSampler(range(3), replacement=1)


def test_subset_random_sampler_yields_the_given_indices():
    sampler = SubsetRandomSampler([10, 20, 30], generator=chainrule.Generator().manual_seed(1))
    assert sorted(sampler) == [10, 20, 30] and len(sampler) == 3


def test_weighted_random_sampler_follows_the_weights():
    g = chainrule.Generator().manual_seed(0)
    draws = list(WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=g))
    counts = collections.Counter(draws)
    assert counts[0] == 0
    assert abs(counts[2] / 4000 - 0.75) < 0.03  # ~7 standard deviations of a binomial
    unique = list(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=g))
    assert sorted(unique) == [0, 1, 2]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    with pytest.raises(ValueError, match="1-d"):
        WeightedRandomSampler([[1.0]], 1)
