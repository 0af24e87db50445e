"""A table's columns as text cells, typed on demand: numbers (in the layouts people write
them), text, or dates; which cells mean "no value"; and the user's say over a column that mixes
numbers and text (``read_as``)."""

import difflib
import re
import shlex

import numpy as np

from ._dates import as_days, parse_times

__all__ = ["Table", "is_missing", "looks_numeric", "MISSING_MARKERS"]

# cells that mean "no value", compared case-insensitively after stripping blanks (spreadsheet
# error values included: a formula that failed has no value)
MISSING_MARKERS = ("", "na", "n/a", "n.a.", "nan", "null", "none", "?", "-", "--", "#n/a",
                   "#na", "#value!", "#div/0!", "#ref!", "#num!", "#name?", "#null!")
_MISSING = frozenset(MISSING_MARKERS)
# numbers with separators: 1,234,567.89 and 1.234.567,89 / 3,5 (a decimal comma)
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
PLAIN, GROUPED, DECIMAL_COMMA = "plain", "1,234.5", "1.234,5"
_CURRENCIES = frozenset("$€£¥")
# the largest magnitude a column may hold: standardising squares values in float64 (whose
# largest is about 1.8e308), and the model computes in float32
LARGEST_NUMBER = 1e150


def is_missing(cell):
    """Whether a cell (text or None) holds no value: None, blank, NA, N/A, NaN, null, None, ?,
    -, or a spreadsheet error such as #N/A or #DIV/0!."""
    return cell is None or cell.strip().lower() in _MISSING


def _number(cell, layout):
    """The number a cell holds in ``layout`` (a currency sign before it or a % after it
    allowed), or None."""
    if cell[:1] in _CURRENCIES or cell[-1:] == "%":
        cell = cell.lstrip("".join(_CURRENCIES)).rstrip("%").strip()
    if layout == GROUPED and _GROUPED.match(cell):
        cell = cell.replace(",", "")
    elif layout == DECIMAL_COMMA:
        if not _DECIMAL_COMMA.match(cell):
            return None
        cell = cell.replace(".", "").replace(",", ".")
    try:
        return float(cell)
    except ValueError:
        return None


def looks_numeric(cell):
    """Whether a (stripped) cell holds a number in one of the layouts tables use."""
    return any(_number(cell, layout) is not None for layout in (PLAIN, GROUPED, DECIMAL_COMMA))


def _read_only(array):
    array.flags.writeable = False
    return array


class Table:
    """Named columns of cells (str, or None when missing), with where each row came from.

    ``where(i)`` names row ``i`` as the user sees it in the file ("line 7" of a CSV file,
    "row 7" of a Parquet file), so that errors point at it. ``notes`` says what reading the
    file took (an encoding guessed, short rows padded, duplicate names renamed).

    >>> table = Table("t.csv", ["a", "b"], [["1", "x"], ["2", None]], ["line 2", "line 3"])
    >>> table.kind("a"), table.kind("b"), table.numeric("a").tolist()
    ('numeric', 'text', [1.0, 2.0])
    """

    def __init__(self, source, names, rows_or_columns, row_labels, by_column=False,
                 delimiter=",", notes=(), header_hint=None):
        self.source = str(source)
        self.names = list(names)
        if by_column:
            self._columns = {name: list(cells) for name, cells in zip(self.names,
                                                                      rows_or_columns)}
        else:
            self._columns = {name: [row[i] for row in rows_or_columns]
                             for i, name in enumerate(self.names)}
        self._labels = list(row_labels)
        self.delimiter = delimiter
        self.notes = list(notes)
        # what to do when the header line looks like data (see readers/table.py); an unknown
        # column name is then likely a header-less file's doing
        self.header_hint = header_hint
        self._kinds, self._layouts, self._dates, self._numbers = {}, {}, {}, {}
        self.categorical, self.forced_numeric = set(), set()

    def __len__(self):
        return len(self._labels)

    def __contains__(self, name):
        return name in self._columns

    def where(self, index):
        return self._labels[index]

    def cells(self, name):
        """The raw cells of column ``name``; an unknown name is an error listing the columns
        (and the likeliest one meant)."""
        if name not in self._columns:
            close = difflib.get_close_matches(name, self.names, n=1, cutoff=0.6) or \
                [n for n in self.names if n.strip().lower() == str(name).strip().lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            shown = [repr(n) for n in self.names]
            if len(shown) > 30:  # the last ones too: a table's target is often its last column
                shown = shown[:26] + [f"... ({len(shown) - 29} more) ..."] + shown[-3:]
            if self.header_hint:  # the "columns" are a header-less file's first values
                raise ValueError(f"{self.source} has no column {name!r}; {self.header_hint}")
            raise ValueError(f"{self.source} has no column {name!r}{hint}; its columns are: "
                             f"{', '.join(shown)}")
        return self._columns[name]

    def read_as(self, categorical=(), numeric=()):
        """Say how to read columns whose cells mix numbers and text: ``categorical`` columns
        hold categories (numbers included), in ``numeric`` ones a cell that is no number is
        missing. Unknown names are errors listing the columns."""
        categorical, numeric = set(categorical or ()), set(numeric or ())
        if (categorical, numeric) == (self.categorical, self.forced_numeric):
            return self  # as already read: the columns typed so far stay typed
        for name in sorted(categorical | numeric):
            self.cells(name)
        both = sorted(categorical & numeric)
        if both:
            raise ValueError(f"--categorical and --numeric both name {both[0]!r}; choose one")
        self.categorical, self.forced_numeric = categorical, numeric
        self._kinds, self._layouts, self._numbers = {}, {}, {}
        return self

    def missing(self, name):
        """A boolean array: which cells of column ``name`` hold no value (in a numeric column
        also the cells that hold no usable number)."""
        if self.kind(name) == "numeric":
            return np.isnan(self.numeric(name))
        return np.array([is_missing(cell) for cell in self.cells(name)], dtype=bool)

    def kind(self, name):
        """'numeric' when every present cell is a number, 'text' when none is (or the column
        was named categorical), 'empty' when every cell is missing; a column that mixes
        numbers and text is an error naming the column, a row and its value, and the flags
        that say how to read it."""
        if name not in self._kinds:
            self._kinds[name] = self._infer_kind(name)
        return self._kinds[name]

    def _infer_kind(self, name):
        cells = self.cells(name)
        present = [i for i, cell in enumerate(cells) if not is_missing(cell)]
        if not present:
            return "empty"
        if name in self.categorical:
            return "text"
        for layout in self._layouts_to_try():
            if all(_number(cells[i].strip(), layout) is not None for i in present):
                self._layouts[name] = layout
                return "numeric"
        if name in self.forced_numeric:  # the layout that reads the most cells
            counts = {layout: sum(_number(cells[i].strip(), layout) is not None
                                  for i in present) for layout in self._layouts_to_try()}
            self._layouts[name] = max(counts, key=counts.get)
            return "numeric" if max(counts.values()) else "empty"
        numbers = [i for i in present if _number(cells[i].strip(), PLAIN) is not None]
        if not numbers:
            return "text"
        raise ValueError(self._mixed_message(name, cells, present, numbers))

    def _layouts_to_try(self):
        """Plain numbers, then the separators this file's delimiter suggests first: after a
        comma delimiter, "1,234.5" (quoted); after ';' or a tab, the decimal comma "3,5"."""
        if self.delimiter == ",":
            return PLAIN, GROUPED, DECIMAL_COMMA
        return PLAIN, DECIMAL_COMMA, GROUPED

    def _mixed_message(self, name, cells, present, numbers):
        texts = sorted(set(present) - set(numbers))
        odd, usual = (texts, "numbers") if len(texts) <= len(numbers) else (numbers, "text")
        what = "no number" if usual == "numbers" else "a number"
        flag = shlex.quote(name)
        return (
            f"{self.source}: column {name!r} mixes numbers and text: it mostly holds {usual}, "
            f"but {self.where(odd[0])} has {cells[odd[0]].strip()!r}, {what} ({len(odd)} of "
            f"{len(present)} values are like it). Correct those values, or say how to read "
            f"the column: --numeric {flag} (values that are not numbers count as missing), "
            f"--categorical {flag} (every value is a category), or --drop {flag}"
        )

    def numeric(self, name):
        """Column ``name`` as float64, NaN where missing (and where a numeric-forced column
        holds text, or a number is infinite); a text column is an error."""
        if self.kind(name) == "text":
            raise ValueError(f"{self.source}: column {name!r} holds text, not numbers")
        if name not in self._numbers:
            layout = self._layouts.get(name, PLAIN)
            values = np.full(len(self), np.nan)
            for index, cell in enumerate(self.cells(name)):
                if not is_missing(cell):
                    number = _number(cell.strip(), layout)
                    if number is not None:
                        values[index] = number
            values[np.isinf(values)] = np.nan
            self._check_magnitude(name, values)
            self._numbers[name] = _read_only(values)  # shared by every caller
        return self._numbers[name]

    def _check_magnitude(self, name, values):
        """Numbers beyond LARGEST_NUMBER are an error naming the column, a row and the fix:
        the statistics that standardise a column square its values in float64."""
        huge = np.flatnonzero(np.abs(np.nan_to_num(values)) > LARGEST_NUMBER)
        if len(huge):
            row = huge[0]
            raise ValueError(
                f"{self.source}: column {name!r} holds numbers too large to learn from: "
                f"{self.where(row)} has {self.cells(name)[row].strip()!r} ({len(huge)} values "
                f"beyond ±{LARGEST_NUMBER:g}); rescale the column (other units, or its "
                f"logarithm) or leave it out with --drop {shlex.quote(name)}")

    def unusable(self, name):
        """How many present cells of numeric column ``name`` gave no finite number (text in a
        --numeric column, infinities)."""
        return int(self.present(name).sum()) - int((~np.isnan(self.numeric(name))).sum())

    def present(self, name):
        """A boolean array: which cells of column ``name`` hold something (no missing marker)."""
        return np.array([not is_missing(cell) for cell in self.cells(name)], dtype=bool)

    def layout(self, name):
        """How the numbers of column ``name`` are written (PLAIN, GROUPED or DECIMAL_COMMA)."""
        self.kind(name)
        return self._layouts.get(name, PLAIN)

    def text(self, name):
        """Column ``name`` as stripped strings (None where missing)."""
        return [None if is_missing(cell) else cell.strip() for cell in self.cells(name)]

    def dates(self, name):
        """Column ``name`` as days since 1970 (NaN where missing) when every present cell is a
        date or time written one way, else None."""
        if name not in self._dates:
            cells = self.text(name)
            present = [i for i, cell in enumerate(cells) if cell is not None]
            found = parse_times([cells[i] for i in present]) if present else None
            days = None
            if found is not None:
                days = np.full(len(cells), np.nan)
                days[present] = as_days(found[0], found[1])
            self._dates[name] = days
        return self._dates[name]

    def take(self, indices):
        """The rows at ``indices`` (in that order) as a new table."""
        columns = [[self._columns[n][i] for i in indices] for n in self.names]
        table = Table(self.source, self.names, columns, [self._labels[i] for i in indices],
                      by_column=True, delimiter=self.delimiter, notes=self.notes,
                      header_hint=self.header_hint)
        table.categorical, table.forced_numeric = self.categorical, self.forced_numeric
        table._kinds, table._layouts = dict(self._kinds), dict(self._layouts)
        rows = np.asarray(indices, dtype=np.int64)
        table._numbers = {name: _read_only(values[rows]) for name, values in self._numbers.items()}
        table._dates = {name: None if days is None else days[rows]
                        for name, days in self._dates.items()}
        return table
