"""The training configuration: defaults, a TOML file, then command-line flags, in that order."""

import dataclasses
import math
import os
import sys
import types
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ..data.readers._files import read_text
from ..io.files import memory_limit
from .data_settings import check_data_settings
from .presets import apply_defaults

MODELS = ("mlp", "cnn", "lstm", "gpt", "tabular")
DATASETS = ("digits", "text", "mnist", "fashion-mnist", "cifar10", "file", "table", "images",
            "series")
IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
TEXT_DATASETS = ("text", "file")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("constant", "step", "cosine", "exponential", "onecycle")
METRICS = ("val_loss", "val_accuracy")


class ConfigError(ValueError):
    """A configuration value that cannot work, with what to do instead; ``setting`` names the
    setting at fault when there is one."""

    def __init__(self, message, setting=None):
        super().__init__(message)
        self.setting = setting


@dataclasses.dataclass
class Config:
    """Everything that decides a run. Settings left at None take the preset's default."""

    model: str | None = None  # None: the data's usual preset (train/data_settings.py)
    data: str = "digits"
    data_path: str | None = None
    # own data (tables, image folders, series): see train/data_settings.py
    target: str | None = None
    task: str | None = None
    features: str | list | None = None  # "a, b" or ["a", "b"]; a list once validated
    drop: str | list | None = None
    categorical: str | list | None = None  # columns read as categories
    numeric: str | list | None = None  # columns read as numbers, text in them missing
    class_weight: str | None = None
    image_size: int | str | None = None  # 32, or "HxW" such as "48x64"
    flip: bool = False
    random_crop: bool = False
    skip_bad_files: bool = False
    skip_bad_rows: bool = False
    no_header: bool = False  # CSV without a header line: columns column_1, column_2, ...
    time: str | None = None
    window: int | None = None
    horizon: int = 1
    season: int | None = None
    epochs: int | None = None  # None: the preset's default (train/presets.py)
    batch_size: int = 32
    steps_per_epoch: int | None = None  # language models: random windows per epoch
    optimizer: str | None = None
    lr: float | None = None
    momentum: float = 0.9
    weight_decay: float | None = None
    label_smoothing: float | None = None
    schedule: str = "cosine"
    warmup_steps: int = 0
    grad_clip: float | None = 1.0
    patience: int | None = None
    early_stopping_metric: str = "val_loss"
    seed: int = 0
    hidden_size: int | None = None
    num_layers: int | None = None
    block_size: int | None = None
    num_heads: int | None = None
    dropout: float | None = None
    out: str = "runs"
    name: str | None = None
    checkpoint_every: int = 100
    keep_last: int = 2
    log_every: int = 10
    diagnose: bool = True
    diagnose_every: int = 50
    tensorboard: bool = False
    quiet: bool = False

    def validate(self):
        """Check every setting's type, fill those left out from the preset's defaults, then
        check that they can work together; ConfigError names the first that cannot, and the
        fix."""
        check_types(self)
        if self.grad_clip == 0:
            self.grad_clip = None  # 0 turns clipping off, in a file as on the command line
        check_data_settings(self)  # the data kind's preset, and settings that fit the data
        check_choices(self)
        apply_defaults(self)
        check_ranges(self)
        check_data_sizes(self)
        check_name(self.name)
        return self

    def to_dict(self):
        return dataclasses.asdict(self)


FIELDS = {f.name: f for f in dataclasses.fields(Config)}
_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
               list: "a list"}


def _allowed_types(field):
    """The types a field accepts (its annotation, e.g. ``int | None``), None excluded, and
    whether None is allowed."""
    kinds = field.type.__args__ if isinstance(field.type, types.UnionType) else (field.type,)
    return [k for k in kinds if k is not type(None)], type(None) in kinds


def check_types(config):
    """Every setting has its field's type (a config file can hold anything); ints are accepted
    where a float is expected and become floats."""
    for name in FIELDS:
        setattr(config, name, checked_type(name, getattr(config, name)))


def checked_type(name, value):
    """``value`` if it has setting ``name``'s type (an int becomes a float where a float is
    expected), else ConfigError."""
    kinds, optional = _allowed_types(FIELDS[name])
    if value is None and optional:
        return value
    is_bool = isinstance(value, bool)
    if float in kinds and isinstance(value, int) and not is_bool:
        return float(value)
    if any(isinstance(value, kind) for kind in kinds) and (bool in kinds or not is_bool):
        return value
    shown = "nothing" if value is None else f"{value!r} ({type(value).__name__})"
    expected = " or ".join(_TYPE_NAMES[kind] for kind in kinds)
    raise ConfigError(f"{name} must be {expected}, got {shown}", setting=name)


def check_choices(config):
    choices = {"model": MODELS, "data": DATASETS, "schedule": SCHEDULES,
               "early_stopping_metric": METRICS}
    if config.optimizer is not None:
        choices["optimizer"] = OPTIMIZERS
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            raise ConfigError(
                f"unknown {name} {getattr(config, name)!r}; choose one of: {', '.join(allowed)}",
                setting=name,
            )
    language_model = config.model in ("lstm", "gpt") and config.data != "series"
    if language_model and config.data not in TEXT_DATASETS:
        raise ConfigError(
            f"the {config.model} preset is a character language model and needs text data: use "
            "--data text (built in) or --data file --data-path YOUR.txt"
        )
    if not language_model and config.data in TEXT_DATASETS:
        raise ConfigError(
            f"the {config.model} preset classifies images; for text use --model lstm or gpt"
        )
    if config.data in ("mnist", "fashion-mnist", "cifar10", "file") and not config.data_path:
        what = "text file" if config.data == "file" else "directory with the data set's files"
        raise ConfigError(f"--data {config.data} needs --data-path: the {what}")


# (setting, smallest value) for integers; None (a setting left out) is not checked
_AT_LEAST = {"epochs": 1, "batch_size": 1, "steps_per_epoch": 1, "warmup_steps": 0,
             "patience": 1, "seed": 0, "hidden_size": 1, "num_layers": 1, "block_size": 1,
             "num_heads": 1, "checkpoint_every": 1, "keep_last": 1, "log_every": 1,
             "diagnose_every": 1}
_MAX_SEED = 2 ** 64 - 1


def check_ranges(config):
    """Numbers that cannot work: too small, not finite, out of their interval."""
    for name, least in _AT_LEAST.items():
        value = getattr(config, name)
        if value is not None and value < least:
            raise ConfigError(f"{name} must be at least {least}, got {value}", setting=name)
    if config.seed > _MAX_SEED:
        raise ConfigError(f"seed must be at most 2**64 - 1, got {config.seed}", setting="seed")
    for name in ("lr", "momentum", "weight_decay", "grad_clip", "label_smoothing", "dropout"):
        value = getattr(config, name)
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value}", setting=name)
    if config.lr <= 0:
        raise ConfigError(f"lr must be positive, got {config.lr}", setting="lr")
    if config.grad_clip is not None and config.grad_clip <= 0:
        raise ConfigError("grad_clip must be positive (or 0 / omitted to turn clipping off)",
                          setting="grad_clip")
    for name in ("momentum", "weight_decay"):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must not be negative, got {getattr(config, name)}",
                              setting=name)
    if not 0 <= config.label_smoothing < 1:
        raise ConfigError(f"label_smoothing must be in [0, 1), got {config.label_smoothing}",
                          setting="label_smoothing")
    if config.dropout is not None and not 0 <= config.dropout < 1:
        raise ConfigError(f"dropout must be in [0, 1), got {config.dropout}", setting="dropout")
    if config.schedule == "onecycle" and config.warmup_steps:
        raise ConfigError("onecycle has its own warm-up; leave --warmup-steps at 0")
    if config.num_heads is not None and config.hidden_size % config.num_heads:
        raise ConfigError(
            f"num_heads ({config.num_heads}) must divide hidden_size ({config.hidden_size}): "
            "each head attends over hidden_size / num_heads features"
        )


def check_data_sizes(config):
    """The arrays a run allocates for its data must fit in memory: an epoch's table of text
    windows (steps_per_epoch x batch_size int64) and a batch's first activation (batch_size x
    block_size x hidden_size float32). (The model's own size is checked against the data's shape
    when the model is built: presets.parameter_count.)"""
    limit = memory_limit()
    if limit is None:
        return
    needs = {"an epoch's windows": (config.steps_per_epoch or 0) * config.batch_size * 8,
             "a batch's activations": config.batch_size * (config.block_size or 1)
             * config.hidden_size * 4}
    for what, size in needs.items():
        if size > limit:
            raise ConfigError(
                f"{what} would take {size / 2**30:,.1f} GiB with batch_size {config.batch_size}, "
                f"more than this machine's {limit / 2**30:,.1f} GiB; use smaller sizes"
            )


def check_name(name):
    """A run name is one plain directory name: no path separator, not '.' or '..'."""
    if name is None:
        return
    separators = [sep for sep in (os.sep, os.altsep, "/") if sep]
    if name in ("", ".", "..") or any(sep in name for sep in separators) or "\0" in name:
        raise ConfigError(
            f"name must be a plain directory name inside --out (no '/', not '.' or '..'), got "
            f"{name!r}"
        )


def from_dict(values, source="config"):
    """A Config from a mapping (``source`` says where it came from, e.g. "config file x.toml",
    in messages): an unknown key is an error that lists the known ones, a value of the wrong
    type an error naming its setting."""
    unknown = sorted(map(str, set(values) - set(FIELDS)))
    if unknown:
        raise ConfigError(
            f"{source}: unknown setting(s) {', '.join(unknown)}; known settings: "
            f"{', '.join(FIELDS)}"
        )
    try:
        return Config(**{name: checked_type(name, value) for name, value in values.items()})
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}", setting=error.setting) from None


def read_toml(path):
    """The settings in a TOML file (flat keys, as the Config field names)."""
    path = Path(path)
    try:
        text = read_text(path)  # CannotReadError when it is there but unreadable
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"config file {path} is not UTF-8 text ({error.reason} at byte "
                          f"{error.start}); TOML files are UTF-8") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    return {key.replace("-", "_"): value for key, value in values.items()}
