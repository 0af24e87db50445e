"""Checking what a training checkpoint holds before anything uses it.

A checkpoint that passed its checksum was written by chainrule, or forged with care; either way
nothing in it is trusted until it is checked, in two rounds:

1. ``checked_settings``, on the file alone: every top-level entry has its type, the settings
   are valid settings, and the sizes they describe (``parameter_count``) are those of the
   tensors the file holds, so that building the model allocates no more than the file holds.
2. against the objects built from those settings: the model state has the keys, shapes and
   dtypes of a fresh model's (``check_model_fits``, all that eval and sample use), and for a
   resumed run the optimizer and schedule states too (``check_fits``).

Every problem raises CheckpointError naming the file."""

import math
from types import SimpleNamespace

from .. import nn
from ..creation import zeros
from ..data.preprocessing import (
    ImagePreprocessor,
    PreprocessingStateError,
    SeriesPreprocessor,
    TablePreprocessor,
)
from ..io.errors import CheckpointError
from ..random import get_rng_state
from ..tensor import Tensor
from .config import ConfigError, from_dict
from .data_settings import OWN_DATA
from .optimizers import build_optimizer
from .presets import parameter_count
from .tasks import ImageClassification

_ENTRIES = {"config": dict, "model": dict, "optimizer": dict, "scheduler": dict, "rng": Tensor,
            "position": dict, "history": list, "best": (list, type(None)), "bad_epochs": int,
            "epoch_losses": list, "metric_lines": int, "task": dict, "format_version": int}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is(value, constant):
    # never `value == constant` alone: a tensor read from a file compares elementwise
    return type(value) is type(constant) and value == constant


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def checked_settings(path, state, newest_format):
    """The validated Config of a checkpoint's ``state``, after checking its entries' types and
    that its sizes are those of the tensors it holds."""
    if not isinstance(state, dict) or "format_version" not in state:
        raise CheckpointError(path, "is a chainrule file but not a training checkpoint")
    for key, kind in _ENTRIES.items():
        value = state.get(key, KeyError)
        if not isinstance(value, kind) or (kind is int and not _is_int(value)):
            raise CheckpointError(path, f"is damaged: its {key!r} entry is missing or malformed")
    if state["format_version"] > newest_format:
        raise CheckpointError(
            path, f"has checkpoint format {state['format_version']}, newer than this chainrule "
            f"understands ({newest_format}); upgrade chainrule"
        )
    try:
        config = from_dict(state["config"], source="its settings").validate()
    except ConfigError as error:
        raise CheckpointError(path, f"holds settings that cannot work: {error}") from None
    _check_progress(path, state, config)
    problem = mismatch(get_rng_state(), state["rng"], "rng")
    if problem:
        raise CheckpointError(path, f"is damaged: {problem}")
    task = _task_shape(path, state["task"], config)
    _check_model_size(path, state["model"], config, task)
    if _is(state["task"].get("kind"), "image"):  # sizes known sane: the statistics can be read
        try:
            ImageClassification.saved_preprocessor(state["task"])
        except PreprocessingStateError as error:
            raise CheckpointError(path, f"is damaged: {error}") from None
    return config


def _check_progress(path, state, config):
    position = state["position"]
    if set(position) != {"epoch", "batch", "step"} or not all(
            _is_int(v) and v >= 0 for v in position.values()):
        raise CheckpointError(path, f"is damaged: its position {position!r} is malformed")
    if position["epoch"] > config.epochs:
        raise CheckpointError(path, f"is damaged: epoch {position['epoch']} of {config.epochs}")
    history = state["history"]
    if len(history) != position["epoch"] or not all(
            isinstance(r, dict) and _is_int(r.get("step")) and _is_int(r.get("epoch"))
            for r in history):
        raise CheckpointError(path, "is damaged: its epoch history does not match its position")
    best = state["best"]
    if best is not None and not (isinstance(best, list) and len(best) == 2
                                 and _is_number(best[0]) and _is_int(best[1])
                                 and 1 <= best[1] <= len(history)):
        raise CheckpointError(path, f"is damaged: its best epoch {best!r} is malformed")
    if not all(_is_number(v) for v in state["epoch_losses"]):
        raise CheckpointError(path, "is damaged: its epoch losses are not all numbers")
    if state["bad_epochs"] < 0 or state["metric_lines"] < 0:
        raise CheckpointError(path, "is damaged: a counter is negative")


def _task_shape(path, task, config):
    """What the model's size depends on, from the task the checkpoint describes."""
    kind = task.get("kind")
    if config.data in OWN_DATA:
        return SimpleNamespace(preprocessor=_saved_preprocessor(path, task, config))
    if config.model in ("lstm", "gpt"):
        vocab, block_size = task.get("vocab"), task.get("block_size")
        if not (_is(kind, "text") and isinstance(vocab, str) and vocab
                and len(set(vocab)) == len(vocab) and _is_int(block_size)
                and block_size == config.block_size):
            raise CheckpointError(path, "is damaged: its text task is malformed")
        return SimpleNamespace(vocab_size=len(vocab))
    shape, classes = task.get("input_shape"), task.get("num_classes")
    if not (_is(kind, "image") and _is_int(classes) and classes >= 1 and isinstance(shape, list)
            and len(shape) == 3 and all(_is_int(s) and s >= 1 for s in shape)):
        raise CheckpointError(path, "is damaged: its image task is malformed")
    return SimpleNamespace(input_shape=tuple(shape), num_classes=classes)


_PREPROCESSORS = {"table": TablePreprocessor, "images": ImagePreprocessor,
                  "series": SeriesPreprocessor}


def _saved_preprocessor(path, task, config):
    """The preprocessing saved with an own-data model, rebuilt (its ``from_state`` checks every
    entry), so that a malformed one is refused here rather than failing later."""
    if not (_is(task.get("kind"), config.data) and isinstance(task.get("preprocessing"), dict)):
        raise CheckpointError(path, "is damaged: its saved preprocessing does not describe "
                                    "this run's data")
    try:
        return _PREPROCESSORS[config.data].from_state(task["preprocessing"])
    except PreprocessingStateError as error:
        raise CheckpointError(path, f"is damaged: {error}") from None


def _check_model_size(path, model, config, task):
    if not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in model.items()):
        raise CheckpointError(path, "is damaged: its model state is not a map of tensors")
    held = sum(math.prod(v.shape) for v in model.values())
    described = parameter_count(config, task)
    if held != described:
        raise CheckpointError(
            path, f"is damaged: its settings describe a {config.model} of {described:,} "
            f"parameters but it holds {held:,} values"
        )


# -- round 2: against the built objects -------------------------------------------------------
def check_fits(path, state, trainer):
    """Raise CheckpointError unless the model, optimizer and schedule states in ``state`` have
    the structure of ``trainer``'s fresh ones."""
    fresh = trainer.optimizer.state_dict()
    saved = state["optimizer"]
    if set(saved) != {"state", "param_groups"} or not isinstance(saved["state"], dict):
        raise CheckpointError(path, "is damaged: its optimizer state is malformed")
    problem = (mismatch(trainer.model.state_dict(), state["model"], "model")
               or mismatch(trainer.scheduler.state_dict(), state["scheduler"], "scheduler")
               or mismatch(fresh["param_groups"], saved["param_groups"], "optimizer.param_groups")
               or _parameter_indices_problem(fresh["param_groups"], saved["param_groups"])
               or _optimizer_state_problem(saved["state"], trainer))
    if problem:
        raise CheckpointError(path, f"does not fit the model its settings describe: {problem}")


def check_model_fits(path, state, model):
    """Raise CheckpointError unless ``state["model"]`` fits ``model`` (keys, shapes, dtypes)."""
    problem = mismatch(model.state_dict(), state["model"], "model")
    if problem:
        raise CheckpointError(path, f"does not fit the model its settings describe: {problem}")


def mismatch(expected, actual, where):
    """Where ``actual`` differs in structure from ``expected`` (keys, lengths, types, tensor
    shapes and dtypes), or None; the values themselves may differ."""
    if isinstance(expected, Tensor):
        return _tensor_problem(actual, expected.dtype, tuple(expected.shape), where)
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return f"{where} should have the entries {sorted(map(str, expected))}"
        return next((p for key in expected
                     if (p := mismatch(expected[key], actual[key], f"{where}.{key}"))), None)
    if isinstance(expected, (list, tuple)):
        if type(actual) is not type(expected) or len(actual) != len(expected):
            return f"{where} should be a {type(expected).__name__} of {len(expected)}"
        return next((p for i, (e, a) in enumerate(zip(expected, actual))
                     if (p := mismatch(e, a, f"{where}[{i}]"))), None)
    if isinstance(expected, float) and _is_number(actual):
        return None
    if type(actual) is not type(expected):
        return f"{where} should be a {type(expected).__name__}, not {type(actual).__name__}"
    return None


def _tensor_problem(actual, dtype, shape, where):
    if isinstance(actual, Tensor) and actual.dtype == dtype and tuple(actual.shape) == shape:
        return None
    return f"{where} should be a {dtype} tensor of shape {shape}"


def _parameter_indices_problem(fresh_groups, saved_groups):
    if [g["params"] for g in saved_groups] != [g["params"] for g in fresh_groups]:
        return "optimizer.param_groups name other parameters than the model has"
    return None


def _optimizer_state_problem(saved, trainer):
    """Each parameter's saved optimizer state must look like the one the optimizer makes."""
    parameters = list(trainer.model.parameters())
    template = _per_parameter_template(trainer.config)
    for index, entry in saved.items():
        where = f"optimizer.state.{index}"
        if not _is_int(index) or not 0 <= index < len(parameters):
            return f"{where} belongs to a parameter that does not exist"
        if not isinstance(entry, dict) or set(entry) != set(template):
            return f"{where} should have the entries {sorted(template)}"
        for key, value in template.items():
            if isinstance(value, Tensor):  # per-element states take their parameter's shape
                shape = () if value.dim() == 0 else tuple(parameters[index].shape)
                problem = _tensor_problem(entry[key], value.dtype, shape, f"{where}.{key}")
            else:
                problem = mismatch(value, entry[key], f"{where}.{key}")
            if problem:
                return problem
    return None


def _per_parameter_template(config):
    """The state one step of this optimizer (same kind and settings) gives a parameter."""
    probe = nn.Module()
    probe.weight = nn.Parameter(zeros(1, 1))  # zeros, not an init: the random state is untouched
    optimizer = build_optimizer(config, probe)
    probe.weight.grad = zeros(1, 1)
    optimizer.step()
    return optimizer.state_dict()["state"].get(0, {})
