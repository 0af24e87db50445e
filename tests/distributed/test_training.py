"""The trainer's helpers: launch detection, batch sharding and its loss weights."""

import numpy as np

import chainrule as torch
from chainrule.distributed import TrainingContext, launched_world_size


def test_launched_world_size_reads_the_launcher(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(name, raising=False)
    assert launched_world_size() == 1
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert launched_world_size() == 4


def test_shard_batch_splits_rows_evenly_and_weights_them():
    x = torch.arange(7.0)
    parts = [TrainingContext(rank, 3).shard_batch(x, x * 10) for rank in range(3)]
    assert [p[0].tolist() for p in parts] == [[0, 1, 2], [3, 4], [5, 6]]
    assert [p[1].tolist() for p in parts] == [[0, 10, 20], [30, 40], [50, 60]]
    # the average over ranks of weight x (shard mean) is the whole batch's mean
    weighted = np.mean([p[2] * float(p[0].mean()) for p in parts])
    assert abs(weighted - 3.0) < 1e-12


def test_one_rank_keeps_the_batch_and_averages_nothing():
    context = TrainingContext(0, 1)
    x = torch.ones(4)
    shard, weight = context.shard_batch(x)
    assert shard.tolist() == x.tolist() and weight == 1.0
    assert context.average({"loss": 2.5}, count=4) == {"loss": 2.5}
    assert context.broadcast_object("x") == "x"
