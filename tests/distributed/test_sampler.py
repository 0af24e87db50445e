"""DistributedSampler: shards, padding and drop_last as PyTorch's, hand-derived."""

import pytest

from chainrule.distributed import DistributedSampler, comm


def shards(n, replicas, **options):
    return [list(DistributedSampler(range(n), replicas, rank, **options))
            for rank in range(replicas)]


def test_padding_repeats_the_start_of_the_order():
    # 10 items on 3 ranks: 4 each, the order padded with items 0 and 1
    assert shards(10, 3, shuffle=False) == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    assert len(DistributedSampler(range(10), 3, 0)) == 4


def test_padding_longer_than_the_dataset_cycles():
    assert shards(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]


def test_drop_last_cuts_the_tail():
    assert shards(10, 3, shuffle=False, drop_last=True) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert shards(9, 3, shuffle=False, drop_last=True) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_shuffled_shards_are_disjoint_and_cover_one_epoch():
    parts = shards(12, 4, seed=7)
    assert sorted(sum(parts, [])) == list(range(12))
    assert parts != shards(12, 4, shuffle=False)


def test_set_epoch_reshuffles_the_same_way_on_every_rank():
    def epoch_order(epoch, seed=0):
        samplers = [DistributedSampler(range(20), 2, rank, seed=seed) for rank in range(2)]
        for sampler in samplers:
            sampler.set_epoch(epoch)
        return [list(s) for s in samplers]

    assert epoch_order(0) == epoch_order(0)
    assert epoch_order(0) != epoch_order(1)
    assert epoch_order(0) != epoch_order(0, seed=1)
    assert sorted(sum(epoch_order(1), [])) == list(range(20))


def test_bad_rank_and_missing_world_are_explained():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval"):
        DistributedSampler(range(10), 3, 3)
    comm.destroy_process_group()
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        DistributedSampler(range(10))
