"""Time series from a table: a numeric target column, and optionally other numeric columns
(covariates) read beside it, in time order on a regular grid of steps.

Rows are put in time order; rows that share a time are averaged; times off a regular grid
are placed at its nearest step; time steps the file skips become gaps, and gaps and missing
values are filled by linear interpolation, but remembered (``observed``), so that a forecast
is never scored against a value that was invented. Every such repair is noted."""

import dataclasses
import datetime
import re

import numpy as np

from ._dates import MONTHS, first_unreadable, parse_times
from .columns import Table
from .table import read_table

__all__ = ["Series", "read_series", "series_from_table"]

_DAY = 86400.0
_UNIT_SECONDS = {"days": _DAY, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}
# the usual seasonal period for a step, for the seasonal naive baseline
_SEASONS = {(1, "hours"): 24, (1, "days"): 7, (7, "days"): 52, (1, "months"): 12,
            (3, "months"): 4}
_SPARSEST_GRID = 10  # a grid more than 10 times longer than the rows is no grid of theirs


@dataclasses.dataclass
class Series:
    """A series on a regular grid: ``values`` (float64, gaps filled), ``observed`` (False where
    a value was filled in), ``covariates`` (float64 (steps, k), gaps filled) and their
    ``covariate_names``, the time ``start`` and ``step`` of the grid in ``unit`` ('days',
    'hours', 'minutes', 'seconds', 'months' or 'steps' when there is no time column) and notes
    on what was done to the rows."""

    name: str
    values: np.ndarray
    observed: np.ndarray
    start: float = 0.0
    step: float = 1.0
    unit: str = "steps"
    dates: bool = False
    notes: list = dataclasses.field(default_factory=list)
    covariates: np.ndarray = None
    covariate_names: list = dataclasses.field(default_factory=list)

    def __post_init__(self):
        if self.covariates is None:
            self.covariates = np.zeros((len(self.values), 0))

    def __len__(self):
        return len(self.values)

    def season(self):
        """The usual seasonal period for this step (weekly data: 52), or None."""
        return _SEASONS.get((self.step, self.unit))

    def time_label(self, position):
        """The time of grid position ``position`` as the file wrote such times."""
        value = self.start + position * self.step
        if not self.dates:
            return f"{value:g}"
        if self.unit == "months":
            year, month = divmod(int(round(value)), 12)
            return f"{year:04d}-{month + 1:02d}"
        seconds = value * _UNIT_SECONDS[self.unit]
        moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
        return moment.isoformat(sep=" ") if moment.time() != datetime.time() else \
            moment.date().isoformat()


def read_series(path, target, time=None, features=None, drop=(), numeric=(), grid=None,
                skip_bad_rows=False, header=True):
    """The series in column ``target`` of a CSV or Parquet file, ordered by column ``time``
    (file order when None), with the columns ``features`` beside it (None: every other numeric
    column but those in ``drop``; [] none). ``numeric`` columns read text as missing. ``grid``
    (step, unit), e.g. that of the series a model was trained on, replaces the step found
    from the times. ``skip_bad_rows`` leaves out lines with more fields than the header;
    without ``header`` the columns are column_1, column_2, ... (see ``read_table``)."""
    return series_from_table(read_table(path, skip_bad_rows, header), target, time, features, drop,
                             numeric, grid)


def series_from_table(table: Table, target, time=None, features=None, drop=(), numeric=(),
                      grid=None):
    table.read_as(numeric=numeric)
    for name in [target, time, *(features or ()), *drop]:
        if name is not None:
            table.cells(name)  # an unknown name is an error listing the columns
    kind = table.kind(target)
    if kind == "text":
        raise ValueError(f"{table.source}: the target column {target!r} holds text; a series "
                         "needs numbers")
    notes = list(table.notes)
    names = _covariates(table, target, time, features, drop, notes)
    matrix = np.stack([table.numeric(n) for n in [target, *names]], axis=1)
    name = f"{target} ({table.source})"
    if time is None:
        return _filled(name, matrix, names, notes)
    axis, unit, kept = _time_axis(table, time, notes)
    matrix = matrix[kept]
    order = np.argsort(axis, kind="stable")
    if (order != np.arange(len(order))).any():
        notes.append(f"rows were sorted by {time!r}")
        axis, matrix = axis[order], matrix[order]
    rows = np.flatnonzero(kept)[order]
    _warn_of_several_series(table, axis, rows, notes, (target, time))
    axis, matrix = _merged(axis, matrix, notes, lambda i: table.where(int(rows[i])), time)
    return _filled(name, matrix, names, notes, *_on_grid(axis, unit, matrix, notes, grid))


def _covariates(table, target, time, features, drop, notes):
    """The numeric columns read beside the target: those named, else every numeric column
    but the target, the time, ``drop``, and columns that count rows or never change."""
    if features is not None:
        for name in features:
            if name in (target, time):
                raise ValueError(f"--features names {name!r}, the "
                                 f"{'target' if name == target else 'time'} column; leave it out")
            if table.kind(name) != "numeric":
                raise ValueError(f"{table.source}: column {name!r} holds "
                                 f"{'no values' if table.kind(name) == 'empty' else 'text'}; "
                                 "the columns a series model reads must hold numbers")
        return list(features)
    chosen, skipped = [], []
    for name in table.names:
        if name in (target, time) or name in drop:
            continue
        try:
            usable = table.kind(name) == "numeric"
        except ValueError:  # mixed numbers and text: not taken unless asked for
            usable = False
        values = table.numeric(name) if usable else None
        if usable and _counts_rows(values):
            usable = False
        (chosen if usable else skipped).append(name)
    if chosen:
        notes.append(f"the model also reads the past of {', '.join(map(repr, chosen))} "
                     "(--features chooses, --drop leaves out)")
    if skipped:
        notes.append(f"left out (not numeric, constant or counting rows): "
                     f"{', '.join(map(repr, skipped))}")
    timelike = [name for name in chosen + skipped if _time_name(name)]
    if time is None and timelike:
        # (a note, not a guess: file order is the documented default; the weekly CO2 file's
        # 'date' of 19580329-like numbers was read as an input whose test values lie beyond
        # every training one)
        notes.append(f"{timelike[0]!r} looks like the series' time: --time {timelike[0]} "
                     "orders the rows by it (and the model stops reading it as an input)")
    return chosen


# words of a column's name that say it holds times (alone or in a longer name: order_date)
_TIME_WORDS = frozenset({"date", "time", "timestamp", "datetime", "ds", "day", "week", "month",
                         "year", "period", "dates", "times", "days", "weeks", "months", "years"})


def _time_name(name):
    return any(word in _TIME_WORDS for word in re.split(r"[^a-z]+", str(name).lower()))


def _counts_rows(values):
    """A column with no use as an input: constant, or a row counter (evenly increasing)."""
    present = values[~np.isnan(values)]
    if present.size < 2 or np.ptp(present) == 0:
        return True
    steps = np.diff(values)
    return bool(np.isfinite(steps).all() and np.all(steps == steps[0]))


def _time_axis(table, column, notes):
    """Times as numbers (months, seconds since 1970, or the column's own numbers), the unit
    (MONTHS, SECONDS or None), and which rows have a time."""
    cells = table.text(column)
    kept = np.array([cell is not None for cell in cells])
    if not kept.any():
        raise ValueError(f"{table.source}: the time column {column!r} has no values")
    if not kept.all():
        first = table.where(int(np.flatnonzero(~kept)[0]))
        notes.append(f"{int((~kept).sum())} rows without a {column!r} were left out (first: "
                     f"{first})")
    present = [cell for cell in cells if cell is not None]
    numbers = _plain_numbers(present)
    if numbers is not None:
        return numbers, None, kept
    found = parse_times(present)
    if found is None:
        bad = first_unreadable(present)
        if bad is None:
            raise ValueError(f"{table.source}: the times in {column!r} are written in more than "
                             "one way; write them all alike (e.g. 2001-12-29 or 2001-12-29 "
                             "13:45)")
        row = table.where(int(np.flatnonzero(kept)[bad]))
        raise ValueError(
            f"{table.source}: {row} has {present[bad]!r} in {column!r}, which is neither a "
            "number nor a date; write dates as 2001-12-29 (ISO 8601), 2001-12-29 13:45, "
            "20011229, 2001-12, 29/12/2001 or Dec 2001"
        )
    return found[0], found[1], kept


def _plain_numbers(cells):
    """The cells as numbers when each is one (and they are not 20011229-style dates)."""
    if all(len(c) == 8 and c.isdigit() for c in cells):
        return None
    try:
        numbers = np.array([float(c) for c in cells])
    except ValueError:
        return None
    return numbers if np.isfinite(numbers).all() else None


def _warn_of_several_series(table, axis, rows, notes, skip):
    """Rows that share a time but differ in a text column ('store': A, B) are most likely
    several series in one file ("long" format), which averaging would blur into one: say so."""
    same = np.flatnonzero(np.diff(axis) == 0)
    if not same.size:
        return
    for name in table.names:
        if name in skip or _kind_or_none(table, name) != "text":
            continue
        cells = table.text(name)
        differ = [i for i in same if cells[rows[i]] != cells[rows[i + 1]]]
        if differ:
            shown = sorted({str(cells[rows[i]]) for i in differ[:50]}
                           | {str(cells[rows[i + 1]]) for i in differ[:50]})[:4]
            notes.append(
                f"warning: rows at one time differ in {name!r} ({', '.join(map(repr, shown))}"
                f"{', ...' if len(shown) == 4 else ''}): the file looks like several series, "
                f"one per {name!r}, which are averaged into one here; to forecast one of them, "
                "keep its rows only (one series per file)")
            return


def _kind_or_none(table, name):
    try:
        return table.kind(name)
    except ValueError:  # mixes numbers and text
        return None


def _merged(axis, matrix, notes, where, column):
    """Rows that share a time (``axis`` sorted) as one row, the mean of their values."""
    same = np.flatnonzero(np.diff(axis) == 0)
    if not same.size:
        return axis, matrix
    first = same[0]
    notes.append(f"{len(same)} rows share their {column!r} with an earlier row (first: "
                 f"{where(first)} and {where(first + 1)}); the values at one time were averaged")
    return _mean_by(axis, matrix)


def _mean_by(keys, matrix):
    """(distinct keys, the NaN-ignoring mean of the rows of each)."""
    unique, group = np.unique(keys, return_inverse=True)
    present = ~np.isnan(matrix)
    sums = np.zeros((len(unique), matrix.shape[1]))
    counts = np.zeros_like(sums)
    np.add.at(sums, group, np.where(present, matrix, 0.0))
    np.add.at(counts, group, present)
    with np.errstate(invalid="ignore", divide="ignore"):
        return unique, np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _grid_step(axis, unit):
    """The step of the grid: the most common difference when at least half the differences
    are it, else the median; for times, whole days, hours or minutes when it is near one."""
    differences = np.diff(axis)
    steps, counts = np.unique(differences, return_counts=True)
    step = float(steps[counts.argmax()]) if counts.max() * 2 >= len(differences) \
        else float(np.median(differences))
    if unit != "seconds":
        return (max(round(step), 1), "months") if unit == MONTHS else (step, "steps")
    for name in ("days", "hours", "minutes"):
        size = _UNIT_SECONDS[name]
        whole = round(step / size)
        if whole >= 1 and abs(step - whole * size) <= 0.1 * size:
            return float(whole), name
    return step, "seconds"


def _on_grid(axis, unit, matrix, notes, grid=None):
    """(matrix on the grid with NaN gaps, start, step, unit, dates): rows placed at the
    nearest step of ``grid`` (step, unit) or of the step found from ``axis``; rows that fit
    no grid (far too sparse for it) stay consecutive, noted."""
    dates = unit is not None
    if grid is not None:
        step, grid_unit = _checked_grid(grid, unit)
    elif len(axis) < 2:
        return matrix, float(axis[0]), 1.0, "steps", dates
    else:
        step, grid_unit = _grid_step(axis, unit)
    scale = _UNIT_SECONDS.get(grid_unit, 1.0) if unit == "seconds" else 1.0
    axis = axis / scale
    positions = (axis - axis[0]) / step
    if positions[-1] > _SPARSEST_GRID * len(axis):
        notes.append(f"the times are far from a regular grid of {step:g} {grid_unit}; rows are "
                     "taken as consecutive steps")
        return matrix, float(axis[0]), step, grid_unit, dates
    nearest = np.round(positions)
    moved = int((np.abs(positions - nearest) > 1e-6).sum())
    if moved:
        notes.append(f"{moved} rows were not on the regular grid of {step:g} {grid_unit}: each "
                     "was placed at the nearest step")
    nearest = nearest.astype(np.int64)
    if (np.diff(nearest) == 0).any():
        count = int((np.diff(nearest) == 0).sum())
        notes.append(f"{count} rows fell on the same step as another; their values were "
                     "averaged")
        nearest, matrix = _mean_by(nearest, matrix)
    grid = np.full((nearest[-1] + 1, matrix.shape[1]), np.nan)
    grid[nearest] = matrix
    skipped = len(grid) - len(nearest)
    if skipped:
        notes.append(f"{skipped} time steps absent from the file were added as gaps")
    return grid, float(axis[0]), step, grid_unit, dates


def _checked_grid(grid, unit):
    step, grid_unit = float(grid[0]), grid[1]
    kind = {None: "steps", MONTHS: "months"}.get(unit, "seconds")
    fits = grid_unit == kind if kind != "seconds" else grid_unit in _UNIT_SECONDS
    if not fits:
        given = {"steps": "plain numbers", "months": "months", "seconds": "dates and times"}
        raise ValueError(f"the model was trained on a series with a step of {step:g} "
                         f"{grid_unit}, but these times are {given[kind]}; give times written "
                         "as in its training data")
    return step, grid_unit


def _filled(name, matrix, covariate_names, notes, grid=None, start=0.0, step=1.0,
            unit="steps", dates=False):
    """The Series, its gaps filled by linear interpolation (the ends take the nearest value)."""
    matrix = matrix if grid is None else grid
    observed = ~np.isnan(matrix[:, 0])
    if not observed.any():
        raise ValueError(f"{name}: the series has no values")
    missing = int((~observed).sum())
    if missing:
        notes.append(f"{missing} missing values were filled by linear interpolation "
                     "(never used as targets)")
    positions = np.arange(len(matrix))
    filled = np.empty_like(matrix)
    for column in range(matrix.shape[1]):
        known = ~np.isnan(matrix[:, column])
        filled[:, column] = np.interp(positions, positions[known], matrix[known, column]) \
            if known.any() else 0.0
    return Series(name, filled[:, 0], observed, start, step, unit, dates, notes,
                  filled[:, 1:], list(covariate_names))
