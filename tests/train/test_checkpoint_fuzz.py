"""Fuzzing what a training checkpoint holds: a random entry of a real checkpoint replaced by a
random value, saved with a valid checksum (as a forger would), must be either usable or refused
with CheckpointError by every step that reads it -- never another exception."""

import random

import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.serialization import CheckpointError, serialize
from chainrule.train.checkpoint import best_checkpoint, parse_checkpoint, read_checkpoint
from chainrule.train.commands import _setup
from chainrule.train.console import Console
from chainrule.train.loop import Trainer
from chainrule.train.rundir import RunDirectory
from chainrule.train.state_checks import check_model_fits

from .runs import TINY, without_plots


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzzed")
    with without_plots():
        assert main(["train", "--out", str(out), "--name", "run", *TINY, "--patience", "2"]) == 0
    return RunDirectory(out / "run")


def random_value(rng):
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice([0, 1, -1, 3, 12, 2 ** 40, -(2 ** 70)])
    if kind == 1:
        return rng.choice([0.0, 0.5, -1.0, float("nan"), float("inf"), 1e300])
    if kind == 2:
        return rng.choice(["", "mlp", "gpt", "text", "image", "x" * 100, "val_accuracy"])
    if kind == 3:
        return rng.choice([None, True, False])
    if kind == 4:
        shape = [rng.randrange(4) for _ in range(rng.randrange(3))]
        dtype = rng.choice([cr.float32, cr.float64, cr.int64, cr.uint8, cr.bool])
        return cr.zeros(*shape, dtype=dtype)
    if kind == 5:
        return [random_value(rng) for _ in range(rng.randrange(3))]
    if kind == 6:
        return tuple(random_value(rng) for _ in range(rng.randrange(3)))
    if kind == 7:
        return {rng.choice(["a", 0, "step", "epoch"]): random_value(rng)}
    return {}


def same_kind(value, rng):
    """Another value of the type of ``value``: what gets past the type checks."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([0, -1, value + 1, value - 1, value * 1000, 2 ** 62])
    if isinstance(value, float):
        return rng.choice([0.0, -value, value * 1e6, float("nan"), float("inf")])
    if isinstance(value, str):
        return rng.choice(["", value + "x", "gpt", "cnn", "text"])
    if isinstance(value, cr.Tensor) and value.numel():
        return cr.full_like(value, rng.choice([0, 1]))
    return random_value(rng)


def replace_random_entry(node, rng):
    """``node`` (a copy) with one entry somewhere inside replaced, or removed, or added."""
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(list(node))
        copy = dict(node)
        roll = rng.random()
        if roll < 0.1:
            del copy[key]
        elif roll < 0.15:
            copy[rng.choice(["extra", 0, None, (1,), 2.5])] = random_value(rng)
        else:
            copy[key] = replace_random_entry(node[key], rng)
        return copy
    if isinstance(node, (list, tuple)) and node and rng.random() < 0.8:
        index = rng.randrange(len(node))
        items = list(node)
        items[index] = replace_random_entry(items[index], rng)
        return type(node)(items)
    return same_kind(node, rng) if rng.random() < 0.6 else random_value(rng)


def test_no_forged_checkpoint_raises_anything_but_the_library_error(finished, tmp_path):
    newest = sorted(finished.checkpoints.glob("step-*.safetensors"))[-1]
    state = cr.load(newest)
    checkpoint = read_checkpoint(newest)
    task, model = _setup(checkpoint.config, checkpoint.state["task"])
    trainer = Trainer(checkpoint.config, finished, task, model, Console(quiet=True))
    rng = random.Random(0)
    path = tmp_path / "forged.safetensors"
    outcomes = {"refused": 0, "usable": 0}
    for _ in range(300):
        payload = b"".join(serialize(replace_random_entry(state, rng)))
        try:
            forged = parse_checkpoint(payload, path)
            check_model_fits(path, forged.state, model)
            trainer.load_state(forged.state, path)
            best_checkpoint(finished, forged, lambda text: None)
            outcomes["usable"] += 1
        except CheckpointError as error:
            assert error.path == str(path)
            outcomes["refused"] += 1
    assert outcomes["refused"] > 100 and outcomes["usable"] > 10, outcomes
