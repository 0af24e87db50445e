"""Reading a column of dates and times written in any of the common ways, one way per column.

``parse_times(cells)`` tries the layouts people's files use (ISO 8601 with or without a time
and an offset, 20011229, 2001-12, 2001Q4, 29/12/2001 or 12/29/2001, 29.12.2001,
Dec 2001, 29 Dec 2001, December 29, 2001) and keeps the first that reads every cell. Times
with a UTC offset are converted to UTC, so a daylight-saving change does not break the grid."""

import datetime
import re

import numpy as np

__all__ = ["parse_times", "first_unreadable", "as_days", "MONTHS", "SECONDS"]

MONTHS, SECONDS = "months", "seconds"
_EPOCH = datetime.datetime(1970, 1, 1)
_COMPACT = re.compile(r"^\d{8}$")  # 20011229
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")  # 2001-12
_QUARTER = re.compile(r"^(\d{4})[- ]?Q([1-4])$", re.I)  # 2001Q4, 2001-Q4
_YEAR_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(.*)$")  # 2001/12/29 [time]
_DAY_MONTH = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T](.+))?$")  # 29/12/2001
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$")
_NAMED_MONTH = ("%b %Y", "%B %Y", "%Y-%b", "%b-%Y", "%d %b %Y", "%d-%b-%Y", "%d %B %Y",
                "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%d-%b-%y")


def parse_times(cells):
    """The cells (stripped text, none missing) as (numbers, unit, description): month counts
    since year 0 for year-month and quarter layouts (unit MONTHS), else seconds since 1970
    (unit SECONDS). None when some cell reads in no layout; the caller reports it."""
    if not cells:
        return None
    for reader in (_months, _compact, _iso, _year_first, _day_month, _named_month):
        found = reader(cells)
        if found is not None:
            return _as_months(*found) if found[1] == SECONDS else found
    return None


def as_days(numbers, unit):
    """``parse_times``' numbers as days since 1970 (a month counted as 30.44 days)."""
    return (numbers - 1970 * 12) * 30.436875 if unit == MONTHS else numbers / 86400.0


def first_unreadable(cells):
    """The index of the first cell that is no date or time in any layout; None when each one
    reads, only not all in the same layout."""
    for index, cell in enumerate(cells):
        if parse_times([cell]) is None:
            return index
    return None


def _as_months(seconds, unit, layout):
    """Dates that all fall on the first of a month at midnight are monthly (or quarterly,
    yearly) data: counted in months, whose lengths differ in days."""
    moments = [_EPOCH + datetime.timedelta(seconds=float(s)) for s in seconds]
    if len(moments) < 2 or any(m.day != 1 or m.time() != datetime.time() for m in moments):
        return seconds, unit, layout
    counts = np.array([m.year * 12 + m.month - 1 for m in moments], dtype=np.float64)
    return counts, MONTHS, layout


def _seconds(moment):
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return (moment - _EPOCH).total_seconds()


def _months(cells):
    counts = []
    for cell in cells:
        if match := _YEAR_MONTH.match(cell):
            year, month = int(match[1]), int(match[2])
            if not 1 <= month <= 12:
                return None
        elif match := _QUARTER.match(cell):
            year, month = int(match[1]), 3 * int(match[2]) - 2
        else:
            return None
        counts.append(year * 12 + month - 1)
    return np.array(counts, dtype=np.float64), MONTHS, "year-month"


def _compact(cells):
    if not all(_COMPACT.match(c) for c in cells):
        return None
    return _each(cells, lambda c: datetime.datetime(int(c[:4]), int(c[4:6]), int(c[6:])),
                 "YYYYMMDD")


def _iso(cells):
    def read(cell):
        text = cell[:-1] + "+00:00" if cell.endswith(("Z", "z")) else cell
        return datetime.datetime.fromisoformat(text)

    if not cells[0][:1].isdigit() or len(cells[0]) < 8:
        return None
    return _each(cells, read, "ISO 8601")


def _year_first(cells):
    def read(cell):
        match = _YEAR_FIRST.match(cell)
        date = datetime.datetime(int(match[1]), int(match[2]), int(match[3]))
        return _with_time(date, match[4].strip())

    if not all(_YEAR_FIRST.match(c) for c in cells):
        return None
    return _each(cells, read, "YYYY/MM/DD")


def _day_month(cells):
    """29/12/2001 or 12/29/2001: the day comes first when some first field exceeds 12, the
    month when some second field does; otherwise day first for '.' and '-', month first for
    '/' (as the US writes it)."""
    matches = [_DAY_MONTH.match(c) for c in cells]
    if not all(matches):
        return None
    firsts = [int(m[1]) for m in matches]
    seconds = [int(m[3]) for m in matches]
    if max(firsts) > 12:
        day_first = True
    elif max(seconds) > 12:
        day_first = False
    else:
        day_first = matches[0][2] != "/"

    def read(match):
        day, month = (int(match[1]), int(match[3])) if day_first else (int(match[3]),
                                                                         int(match[1]))
        return _with_time(datetime.datetime(int(match[4]), month, day), match[5] or "")

    return _each(matches, read, "DD/MM/YYYY" if day_first else "MM/DD/YYYY")


def _named_month(cells):
    for layout in _NAMED_MONTH:
        found = _each(cells, lambda c, f=layout: datetime.datetime.strptime(c, f), layout)
        if found is not None:
            return found
    return None


def _with_time(date, text):
    if not text:
        return date
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(text)
    fraction = float(f"0.{match[4]}") if match[4] else 0.0
    return date.replace(hour=int(match[1]), minute=int(match[2]),
                        second=int(match[3] or 0)) + datetime.timedelta(seconds=fraction)


def _each(cells, read, layout):
    seconds = np.empty(len(cells))
    for index, cell in enumerate(cells):
        try:
            seconds[index] = _seconds(read(cell))
        except (ValueError, TypeError, OverflowError, AttributeError):
            return None
    return seconds, SECONDS, layout
