"""The settings of own data (tables, image folders, time series): which presets fit which data,
the preset a data kind gets by default, and checks that name the flag at fault."""

import dataclasses
import re

from ..data.preprocessing.images import MAX_SIZE

OWN_DATA = ("table", "images", "series")
TASKS = ("classification", "regression")
CLASS_WEIGHTS = ("balanced",)
DEFAULT_WINDOW = 32

# the presets each data kind can train, the first being its default
PRESETS_FOR = {
    "table": ("tabular",),
    "images": ("cnn", "mlp"),
    "series": ("mlp", "lstm"),
    "text": ("lstm", "gpt"),
    "file": ("lstm", "gpt"),
}
# settings that mean something for one data kind only
ONLY_FOR = {
    "target": ("table", "series"), "task": ("table",), "features": ("table", "series"),
    "drop": ("table", "series"), "categorical": ("table",), "numeric": ("table", "series"),
    "class_weight": ("table",), "image_size": ("images",), "flip": ("images",),
    "random_crop": ("images",), "skip_bad_files": ("images",), "skip_bad_rows": ("table", "series"),
    "no_header": ("table", "series"), "time": ("series",),
    "window": ("series",), "horizon": ("series",), "season": ("series",),
}
# (smallest, largest) values of the own-data numbers; None: no bound
LIMITS = {"window": (1, None), "horizon": (1, None), "season": (2, None)}
IMAGE_SIDES = (4, MAX_SIZE)
_SIZE = re.compile(r"^\s*(\d+)\s*(?:[xX*,]\s*(\d+)\s*)?$")
COLUMN_LISTS = ("features", "drop", "categorical", "numeric")


def _error(message, setting=None):
    from .config import ConfigError

    return ConfigError(message, setting=setting)


def _flag(field):
    return "--" + field.replace("_", "-")


def column_list(value):
    """'a, b' or ['a', 'b'] as ['a', 'b'] (None stays None)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [str(item).strip() for item in items if str(item).strip()]
    return names or None


def image_size(value):
    """--image-size as (height, width): 32 is 32x32, "48x64" is 48 high and 64 wide; None
    stays None. ConfigError for anything else or a side out of range."""
    if value is None:
        return None
    match = _SIZE.match(str(value))
    if match is None:
        raise _error(f"--image-size must be a number of pixels (32) or HEIGHTxWIDTH (48x64), "
                     f"got {value!r}", setting="image_size")
    sides = (int(match[1]), int(match[2] or match[1]))
    least, most = IMAGE_SIDES
    for side in sides:
        if not least <= side <= most:
            raise _error(f"--image-size sides must be from {least} to {most} pixels, got "
                         f"{value!r}", setting="image_size")
    return sides


def check_data_settings(config):
    """Fill the data kind's default preset and window; raise ConfigError for a setting that
    does not fit the data."""
    for field in COLUMN_LISTS:
        setattr(config, field, column_list(getattr(config, field)))
    if config.model is None:
        config.model = PRESETS_FOR.get(config.data, ("mlp",))[0]
    defaults = {field.name: field.default for field in dataclasses.fields(config)}
    for field, kinds in ONLY_FOR.items():
        value = getattr(config, field)
        if value != defaults[field] and config.data not in kinds:  # given, for other data
            raise _error(f"{_flag(field)} applies to --data {' or '.join(kinds)}, not --data "
                         f"{config.data}", setting=field)
    if config.model == "tabular" and config.data != "table":
        raise _error("the tabular preset is for tables: use it with --data table")
    if config.data not in OWN_DATA:
        return
    allowed = PRESETS_FOR[config.data]
    if config.model not in allowed:
        raise _error(f"--data {config.data} trains the {' or '.join(allowed)} preset(s), not "
                     f"{config.model}; use --model {allowed[0]}")
    if not config.data_path:
        what = {"table": "CSV or Parquet file", "images": "folder with one sub-folder per "
                "class", "series": "CSV or Parquet file"}[config.data]
        raise _error(f"--data {config.data} needs --data-path: the {what}")
    if config.data in ("table", "series") and not config.target:
        raise _error(f"--data {config.data} needs --target COLUMN: the column to predict")
    _check_choices(config)


def _check_choices(config):
    for field, allowed in (("task", TASKS), ("class_weight", CLASS_WEIGHTS)):
        value = getattr(config, field)
        if value is not None and value not in allowed:
            raise _error(f"unknown {field} {value!r}; choose one of: {', '.join(allowed)}",
                         setting=field)
    if config.data == "series" and config.window is None:
        config.window = DEFAULT_WINDOW
    sides = image_size(config.image_size)
    if sides is not None:  # one spelling in config.toml: 32, or "48x64"
        config.image_size = sides[0] if sides[0] == sides[1] else f"{sides[0]}x{sides[1]}"
    for field, (least, most) in LIMITS.items():
        value = getattr(config, field)
        if value is not None and value < least:
            raise _error(f"{_flag(field)} must be at least {least}, got {value}", setting=field)
        if value is not None and most is not None and value > most:
            raise _error(f"{_flag(field)} must be at most {most}, got {value}", setting=field)


# (flag, config field, type, help) for `chainrule train`; defaults live in train.config.Config
DATA_FLAGS = [
    ("--target", "target", str, "tables and series: the column to predict"),
    ("--task", "task", str, "tables: classification or regression (default: inferred from the "
                            "target: text or few distinct integers classify)"),
    ("--features", "features", str,
     "tables: comma-separated columns to learn from (default all but the target and "
     "identifier-like columns); series: the other columns whose past the model also reads "
     "(default every numeric column besides the target and the time)"),
    ("--drop", "drop", str, "tables and series: comma-separated columns to leave out"),
    ("--categorical", "categorical", str,
     "tables: comma-separated columns to read as categories (numbers included), e.g. codes"),
    ("--numeric", "numeric", str,
     "tables and series: comma-separated columns to read as numbers; a value in them that is "
     "no number counts as missing"),
    ("--class-weight", "class_weight", str,
     "tables: 'balanced' weighs each class's loss by its rarity (imbalanced classes)"),
    ("--image-size", "image_size", str,
     "images: resize to this many pixels square (32) or to HEIGHTxWIDTH (48x64) (default: the "
     "images' own size when they share one up to 64; else 32 on the longer side when they "
     "share a shape, else 32x32)"),
    ("--time", "time", str, "series: the time column (dates or numbers; default: file order)"),
    ("--window", "window", int, f"series: past values each forecast sees (default "
                                f"{DEFAULT_WINDOW})"),
    ("--horizon", "horizon", int, "series: forecast this many steps ahead (default 1)"),
    ("--season", "season", int, "series: season length in steps for the seasonal naive "
                                "baseline (default from the time step: weekly 52, monthly 12)"),
]
DATA_SWITCHES = [
    ("--flip", "flip", "images: random left-right flips while training"),
    ("--random-crop", "random_crop", "images: random crops (shifts by up to 1/8 of the size)"),
    ("--skip-bad-files", "skip_bad_files",
     "images: leave out files that are not readable images, with a warning naming each "
     "(default: refuse them all by name)"),
    ("--skip-bad-rows", "skip_bad_rows",
     "tables and series: leave out lines with more fields than the header, with a warning "
     "naming them (default: refuse them by line)"),
    ("--no-header", "no_header",
     "tables and series: the CSV file has no header line; its columns are named by position, "
     "column_1, column_2, ... (new files to predict on are read the same way)"),
]
