"""Time series from a table: one numeric column in time order, on a regular grid of steps.

Rows are put in time order; time stamps that the regular step skips become gaps, and gaps and
missing values are filled by linear interpolation, but remembered (``observed``), so that a
forecast is never scored against a value that was invented."""

import dataclasses
import datetime
import re

import numpy as np

from .table import Table, read_table

__all__ = ["Series", "read_series", "series_from_table"]

_COMPACT_DATE = re.compile(r"^\d{8}$")  # YYYYMMDD
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")  # YYYY-MM
_DAY = 86400.0
_UNIT_SECONDS = {"days": _DAY, "hours": 3600.0, "seconds": 1.0}
# the usual seasonal period for a step, for the seasonal naive baseline
_SEASONS = {(1, "hours"): 24, (1, "days"): 7, (7, "days"): 52, (1, "months"): 12,
            (3, "months"): 4}


@dataclasses.dataclass
class Series:
    """A series on a regular grid: ``values`` (float64, gaps filled), ``observed`` (False where
    a value was filled in), the time ``start`` and ``step`` of the grid in ``unit`` ('days',
    'hours', 'seconds', 'months' or 'steps' when there is no time column) and notes on what was
    done to the rows."""

    name: str
    values: np.ndarray
    observed: np.ndarray
    start: float = 0.0
    step: float = 1.0
    unit: str = "steps"
    dates: bool = False
    notes: list = dataclasses.field(default_factory=list)

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


def read_series(path, target, time=None):
    """The series in column ``target`` of a CSV or Parquet file, ordered by column ``time``
    (file order when None)."""
    return series_from_table(read_table(path), target, time)


def series_from_table(table: Table, target, time=None):
    if table.kind(target) == "text":
        raise ValueError(f"{table.source}: the target column {target!r} holds text; a series "
                         "needs numbers")
    values = table.numeric(target)
    if not np.isfinite(values[~np.isnan(values)]).all():
        bad = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(f"{table.source}: {table.where(bad)} has an infinite {target!r}")
    notes = []
    name = f"{target} ({table.source})"
    if time is None:
        return _filled(Series(name, values, ~np.isnan(values), notes=notes))
    axis, dates = _time_axis(table, time)
    order = np.argsort(axis, kind="stable")
    if (order != np.arange(len(order))).any():
        notes.append(f"rows were sorted by {time!r}")
        axis, values = axis[order], values[order]
    repeated = np.flatnonzero(np.diff(axis) == 0)
    if repeated.size:
        first, second = (table.where(int(order[i])) for i in (repeated[0], repeated[0] + 1))
        raise ValueError(f"{table.source}: {first} and {second} have the same {time!r}; a series "
                         "needs one value per time")
    return _filled(_on_grid(name, axis, values, dates, notes))


def _time_axis(table, column):
    """Times as numbers (seconds since 1970 for dates), and whether they were dates."""
    cells = table.text(column)
    for index, cell in enumerate(cells):
        if cell is None:
            raise ValueError(f"{table.source}: {table.where(index)} has no {column!r}; every row "
                             "of a series needs its time")
    if table.kind(column) == "numeric" and not all(_COMPACT_DATE.match(c) for c in cells):
        return table.numeric(column), False
    months = [_YEAR_MONTH.match(c) for c in cells]
    if all(months):
        return np.array([int(m[1]) * 12 + int(m[2]) - 1 for m in months], dtype=np.float64), \
            "months"
    seconds = np.empty(len(cells))
    epoch = datetime.datetime(1970, 1, 1)
    for index, cell in enumerate(cells):
        try:
            text = f"{cell[:4]}-{cell[4:6]}-{cell[6:]}" if _COMPACT_DATE.match(cell) else cell
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{table.source}: {table.where(index)} has {cell!r} in {column!r}, which is "
                "neither a number nor a date; write dates as 2001-12-29 (ISO 8601), 20011229 "
                "or 2001-12"
            ) from None
        seconds[index] = (moment.replace(tzinfo=None) - epoch).total_seconds()
    return seconds, True


def _on_grid(name, axis, values, dates, notes):
    """Place the rows on a regular grid of the most common step, leaving gaps as NaN; rows that
    fit no regular step stay consecutive, with a note."""
    if dates == "months":
        start, step, unit = float(axis[0]), 1.0, "months"
    else:
        differences = np.diff(axis)
        if differences.size == 0:
            return Series(name, values, ~np.isnan(values), float(axis[0]), notes=notes,
                          dates=bool(dates))
        steps, counts = np.unique(differences, return_counts=True)
        step = float(steps[counts.argmax()])
        start, unit = float(axis[0]), "steps"
        if dates:
            step, unit = _date_unit(step)
            axis = axis / _UNIT_SECONDS[unit]
            start = float(axis[0])
    positions = (axis - axis[0]) / step
    regular = np.allclose(positions, np.round(positions), atol=1e-6)
    if not regular or positions[-1] > 10 * len(axis):
        notes.append(f"the times are not on a regular grid of {step:g} {unit}; rows are taken as "
                     "consecutive steps")
        return Series(name, values, ~np.isnan(values), start, step, unit, bool(dates), notes)
    positions = np.round(positions).astype(np.int64)
    grid = np.full(positions[-1] + 1, np.nan)
    grid[positions] = values
    skipped = len(grid) - len(values)
    if skipped:
        notes.append(f"{skipped} time steps absent from the file were added as gaps")
    return Series(name, grid, ~np.isnan(grid), start, step, unit, bool(dates), notes)


def _date_unit(seconds):
    """A step in seconds as a whole number of days or hours where it is one."""
    for unit, size in (("days", _DAY), ("hours", 3600.0)):
        if seconds % size == 0:
            return seconds / size, unit
    return seconds, "seconds"


def _filled(series):
    """Fill missing values by linear interpolation (the ends take the nearest value)."""
    observed = series.observed
    if not observed.any():
        raise ValueError(f"{series.name}: the series has no values")
    missing = int((~observed).sum())
    if missing:
        positions = np.arange(len(series.values))
        series.values = np.interp(positions, positions[observed], series.values[observed])
        series.notes.append(f"{missing} missing values were filled by linear interpolation "
                            "(never used as targets)")
    return series
