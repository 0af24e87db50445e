"""DataLoader: batching, drop_last, shuffling from a seed, resuming mid-epoch, the fast path."""

import numpy as np
import pytest

import chainrule
from chainrule.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    TensorDataset,
    default_collate,
)


def _dataset(n=10):
    x = chainrule.from_numpy(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = chainrule.from_numpy(np.arange(n, dtype=np.int64) * 10)
    return TensorDataset(x, y)


def _order(loader):
    """The sample order of one epoch, read from the labels (label = 10 * index)."""
    return [int(v) // 10 for batch in loader for v in batch[1].tolist()]


class ListDataset(Dataset):
    def __init__(self, items):
        self.items = items

    def __getitem__(self, index):
        return self.items[index]

    def __len__(self):
        return len(self.items)


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_batches_in_order_with_the_last_one_short():
    loader = DataLoader(_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [tuple(b[0].shape) for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert batches[2][1].tolist() == [80, 90]
    np.testing.assert_array_equal(batches[1][0].numpy(), np.arange(12, 24).reshape(4, 3))
    assert batches[0][0].dtype == chainrule.float32 and batches[0][1].dtype == chainrule.int64


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert _order(loader) == list(range(8))


def test_shuffle_is_reproducible_from_a_seeded_generator():
    def epoch(seed):
        g = chainrule.Generator().manual_seed(seed)
        return _order(DataLoader(_dataset(50), batch_size=7, shuffle=True, generator=g))

    first = epoch(0)
    assert sorted(first) == list(range(50))
    assert first == epoch(0)
    assert first != epoch(1)


def test_shuffle_without_generator_follows_manual_seed():
    loader = DataLoader(_dataset(50), batch_size=8, shuffle=True)
    chainrule.manual_seed(123)
    first = _order(loader)
    second = _order(loader)  # the next epoch continues the stream: a new order
    chainrule.manual_seed(123)
    assert _order(loader) == first
    assert second != first


def test_resume_mid_epoch_gives_the_rest_of_the_same_epoch():
    g = chainrule.Generator().manual_seed(7)
    loader = DataLoader(_dataset(30), batch_size=4, shuffle=True, generator=g)
    state = g.get_state()
    full = [batch[1].tolist() for batch in loader]
    g.set_state(state)
    resumed = [batch[1].tolist() for batch in loader.iter_from(3)]
    assert resumed == full[3:]
    assert len(resumed) == len(full) - 3


def test_fast_path_matches_per_sample_collation():
    dataset = _dataset(23)
    indices = [5, 0, 22, 7, 7]
    fast = dataset._collated_batch(indices)
    slow = default_collate([dataset[i] for i in indices])
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Through the loader: a collate_fn that is not default_collate takes the per-sample path.
    g = chainrule.Generator()
    fast_loader = DataLoader(dataset, batch_size=5, shuffle=True, generator=g.manual_seed(3))
    fast_batches = list(fast_loader)
    slow_loader = DataLoader(dataset, batch_size=5, shuffle=True, generator=g.manual_seed(3),
                             collate_fn=lambda samples: default_collate(samples))
    for a, b in zip(fast_batches, list(slow_loader)):
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
        np.testing.assert_array_equal(a[1].numpy(), b[1].numpy())


def test_subclass_with_own_getitem_is_not_bypassed():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return chainrule.from_numpy(x.numpy() * 2), y

    loader = DataLoader(Doubled(*_dataset(4).tensors), batch_size=4)
    (x, _), = list(loader)
    np.testing.assert_array_equal(x.numpy(), 2 * np.arange(12).reshape(4, 3))


def test_batch_size_none_converts_samples_without_batching():
    loader = DataLoader(ListDataset([np.array([1, 2]), np.array([3, 4])]), batch_size=None)
    samples = list(loader)
    assert len(loader) == 2
    assert isinstance(samples[0], chainrule.Tensor) and samples[0].tolist() == [1, 2]


def test_custom_sampler_and_batch_sampler():
    dataset = ListDataset(list(range(6)))
    loader = DataLoader(dataset, sampler=[5, 3, 1], batch_size=2)
    assert [b.tolist() for b in loader] == [[5, 3], [1]]
    batch_sampler = BatchSampler(SequentialSampler(dataset), batch_size=4, drop_last=False)
    loader = DataLoader(dataset, batch_sampler=batch_sampler)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    assert len(loader) == 2


def test_iterable_dataset_batches_and_drop_last():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    loader = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert len(loader) == 2 and [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3).iter_from(1)] == [
        [3, 4, 5], [6]]
    assert [int(v) for v in DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_sampler=[[0]], batch_size=2), "mutually exclusive"),
    (dict(sampler=[0], shuffle=True), "mutually exclusive with shuffle"),
    (dict(batch_size=None, drop_last=True), "drop_last"),
    (dict(num_workers=-1), "non-negative"),
    (dict(prefetch_factor=2), "num_workers > 0"),
    (dict(persistent_workers=True), "num_workers > 0"),
])
def test_invalid_options_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(ListDataset([0, 1]), **kwargs)


def test_iterable_dataset_rejects_shuffle():
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(3), shuffle=True)


def test_workers_load_in_process_with_the_same_result():
    loader = DataLoader(_dataset(9), batch_size=4, num_workers=2, prefetch_factor=2,
                        pin_memory=True)
    with pytest.warns(UserWarning, match="pin_memory"):
        assert _order(loader) == list(range(9))


def test_resume_without_a_generator_uses_the_global_rng_state():
    loader = DataLoader(_dataset(20), batch_size=3, shuffle=True)
    chainrule.manual_seed(11)
    state = chainrule.get_rng_state()
    full = [batch[1].tolist() for batch in loader]
    chainrule.randn(5)  # other draws after the epoch began do not matter once state is restored
    chainrule.set_rng_state(state)
    assert [batch[1].tolist() for batch in loader.iter_from(5)] == full[5:]
