"""Tables from CSV or Parquet files: named columns of text cells, typed on demand.

Every problem is reported as a ValueError that names the file and the line (CSV) or row
(Parquet), and the column, so that a command line can print it and exit."""

import csv
import io
from pathlib import Path

import numpy as np

from ._files import CannotReadError, read_bytes

__all__ = ["Table", "read_table", "is_missing"]

PARQUET_HINT = "reading Parquet files needs pyarrow: pip install 'chainrule[parquet]'"
_PARQUET_MAGIC = b"PAR1"
_DELIMITERS = (",", ";", "\t", "|")
# cells that mean "no value", compared case-insensitively after stripping blanks
_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "#n/a"})


def is_missing(cell):
    """Whether a cell (text or None) holds no value: None, blank, NA, N/A, NaN, null, None, ?."""
    return cell is None or cell.strip().lower() in _MISSING


class Table:
    """Named columns of cells (str, or None when missing), with where each row came from.

    ``where(i)`` names row ``i`` as the user sees it in the file ("line 7" of a CSV file,
    "row 7" of a Parquet file), so that errors point at it.

    >>> table = Table("t.csv", ["a", "b"], [["1", "x"], ["2", None]], ["line 2", "line 3"])
    >>> table.kind("a"), table.kind("b"), table.numeric("a").tolist()
    ('numeric', 'text', [1.0, 2.0])
    """

    def __init__(self, source, names, rows_or_columns, row_labels, by_column=False):
        self.source = str(source)
        self.names = list(names)
        if by_column:
            self._columns = {name: list(cells) for name, cells in zip(self.names,
                                                                      rows_or_columns)}
        else:
            self._columns = {name: [row[i] for row in rows_or_columns]
                             for i, name in enumerate(self.names)}
        self._labels = list(row_labels)
        self._kinds = {}

    def __len__(self):
        return len(self._labels)

    def __contains__(self, name):
        return name in self._columns

    def where(self, index):
        return self._labels[index]

    def cells(self, name):
        """The raw cells of column ``name``; an unknown name is an error listing the columns."""
        if name not in self._columns:
            raise ValueError(
                f"{self.source} has no column {name!r}; its columns are: "
                f"{', '.join(repr(n) for n in self.names)}"
            )
        return self._columns[name]

    def missing(self, name):
        """A boolean array: which cells of column ``name`` hold no value."""
        return np.array([is_missing(cell) for cell in self.cells(name)], dtype=bool)

    def kind(self, name):
        """'numeric' when every present cell is a number, 'text' when none is, 'empty' when
        every cell is missing; a column that mixes numbers and text is an error naming a row of
        each."""
        if name not in self._kinds:
            self._kinds[name] = self._infer_kind(name)
        return self._kinds[name]

    def _infer_kind(self, name):
        cells = self.cells(name)
        first_number = first_text = None
        for index, cell in enumerate(cells):
            if is_missing(cell):
                continue
            if _is_number(cell):
                first_number = index if first_number is None else first_number
            else:
                first_text = index if first_text is None else first_text
            if first_number is not None and first_text is not None:
                numbers = sum(1 for c in cells if not is_missing(c) and _is_number(c))
                texts = sum(1 for c in cells if not is_missing(c)) - numbers
                raise ValueError(
                    f"{self.source}: column {name!r} mixes numbers and text ({numbers} numbers, "
                    f"{texts} text values): {self.where(first_number)} has "
                    f"{cells[first_number].strip()!r} but {self.where(first_text)} has "
                    f"{cells[first_text].strip()!r}. Correct the odd values, blank them "
                    f"(blank cells count as missing), or leave the column out with --drop "
                    f"{name!r}"
                )
        if first_number is not None:
            return "numeric"
        return "text" if first_text is not None else "empty"

    def numeric(self, name):
        """Column ``name`` as float64, NaN where missing; text in it is an error naming the row."""
        if self.kind(name) == "text":
            raise ValueError(f"{self.source}: column {name!r} holds text, not numbers")
        cells = self.cells(name)
        values = np.full(len(cells), np.nan)
        present = [i for i, cell in enumerate(cells) if not is_missing(cell)]
        if present:
            values[present] = np.array([cells[i] for i in present]).astype(np.float64)
        return values

    def text(self, name):
        """Column ``name`` as stripped strings (None where missing)."""
        return [None if is_missing(cell) else cell.strip() for cell in self.cells(name)]

    def take(self, indices):
        """The rows at ``indices`` (in that order) as a new table."""
        columns = [[self._columns[n][i] for i in indices] for n in self.names]
        table = Table(self.source, self.names, columns, [self._labels[i] for i in indices],
                      by_column=True)
        table._kinds = dict(self._kinds)
        return table


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_table(path):
    """Read a CSV or Parquet file (told apart by content, not name) into a ``Table``.

    CSV files may start with a byte-order mark, use ``,`` ``;`` tab or ``|`` between fields
    (found from the first lines), quote fields, contain blank lines, and be gzip-compressed.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"{path} is a directory; --data-path needs a CSV or Parquet file")
    try:
        data = read_bytes(path)  # CannotReadError when it is there but unreadable
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    if not data.strip():
        raise ValueError(f"{path} is empty: a table needs a header line and data rows")
    if data[:4] == _PARQUET_MAGIC:
        return _read_parquet(path)
    return _read_csv(path, data)


def _decode(path, data):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line} is not UTF-8 text (byte {data[error.start]:#04x}); save the "
            "file as UTF-8 (in a spreadsheet: CSV UTF-8)"
        ) from None


def _delimiter(text):
    """The candidate that splits the first lines into the same number (> 1) of fields, the most
    fields winning; a comma when none does (a one-column file)."""
    sample = [line for line in text[:65536].splitlines()[:20] if line.strip()]
    if len(text) > 65536 and len(sample) > 1:
        sample = sample[:-1]  # the last line of a cut sample may be torn
    best, best_fields = ",", 1
    for delimiter in _DELIMITERS:
        try:
            counts = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        except csv.Error:
            continue
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = delimiter, fields
    return best


def _read_csv(path, data):
    text = _decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header, rows, labels = None, [], []
    line = 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if header is None:
                header = _header(path, row)
                continue
            if len(row) > len(header) and not any(c.strip() for c in row[len(header):]):
                row = row[:len(header)]  # a trailing delimiter
            if len(row) != len(header):
                raise ValueError(
                    f"{path}: line {start} has {len(row)} fields but the header has "
                    f"{len(header)}; check for an unquoted delimiter in a value, or a missing one"
                )
            rows.append(row)
            labels.append(f"line {start}")
    except csv.Error as error:
        raise ValueError(f"{path}: line {reader.line_num}: {error}") from None
    if not rows:
        raise ValueError(f"{path} has a header line but no data rows")
    return Table(path, header, rows, labels)


def _header(path, row):
    names = []
    for position, cell in enumerate(row, start=1):
        name = cell.strip() or f"column_{position}"
        if name in names:
            raise ValueError(
                f"{path}: the header names column {name!r} twice (fields "
                f"{names.index(name) + 1} and {position}); column names must be unique"
            )
        names.append(name)
    return names


def _read_parquet(path):
    try:
        import pyarrow
        import pyarrow.parquet as parquet
    except ImportError:
        raise ImportError(PARQUET_HINT) from None
    try:
        table = parquet.read_table(path)
    except (pyarrow.ArrowException, OSError) as error:
        if isinstance(error, OSError) and error.errno is not None:  # the file system said no
            raise CannotReadError(path, error) from None
        raise ValueError(f"{path} is not a readable Parquet file: {error}") from None
    if table.num_rows == 0:
        raise ValueError(f"{path} has columns but no rows")
    columns = [[_parquet_cell(v) for v in table.column(name).to_pylist()]
               for name in table.column_names]
    labels = [f"row {i + 1}" for i in range(table.num_rows)]
    return Table(path, table.column_names, columns, labels, by_column=True)


def _parquet_cell(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
