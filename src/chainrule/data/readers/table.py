"""Tables from CSV or Parquet files: named columns of text cells, typed on demand (see
``columns.Table``).

Every problem is reported as a ValueError that names the file and the line (CSV) or row
(Parquet), and the column, so that a command line can print it and exit."""

import csv
import io
import re
import zipfile
from pathlib import Path

from ._dates import parse_times
from ._files import physical_memory, read_bytes
from .columns import Table, is_missing, looks_numeric

__all__ = ["Table", "read_table", "decode_text", "is_missing"]

PARQUET_HINT = "reading Parquet files needs pyarrow: pip install 'chainrule[parquet]'"
_PARQUET_MAGIC = b"PAR1"
_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE = 65536
_WHOLE = re.compile(r"^[+-]?\d+$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_EXCEL_SEPARATOR = re.compile(r"^sep=([,;\t|])[ \t]*\r?\n")
# what a file that is no text table usually is, by its first bytes
_BINARY_KINDS = {b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook is one): save the "
                                  "sheet as CSV",
                 b"\xd0\xcf\x11\xe0": "an Excel .xls workbook: save the sheet as CSV",
                 b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                 b"%PDF": "a PDF document", b"SQLite format 3": "an SQLite database",
                 **{magic: f"{kind}-compressed: unpack it first (gzip files are read as they "
                           "are)" for magic, kind in ((b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
                                                      (b"\x28\xb5\x2f\xfd", "zstd"),
                                                      (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
                                                      (b"Rar!", "RAR"))}}


def read_table(path, skip_bad_rows=False, header=True):
    """Read a CSV or Parquet file (told apart by content, not name) into a ``Table``.

    CSV files may start with a byte-order mark, use ``,`` ``;`` tab or ``|`` between fields
    (found from the first lines), quote fields, contain blank lines, and be gzip-compressed.
    Lines with more fields than the header are an error naming them, or with
    ``skip_bad_rows`` left out with a note naming them. Without ``header`` the first line of
    a CSV file is data and the columns are named ``column_1``, ``column_2``, ...; with it, a
    first line that looks like data is noted (see ``_first_line_is_data``).
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"{path} is a directory; a table is read from a CSV or Parquet "
                         "file: name the file")
    try:
        data = read_bytes(path)  # CannotReadError when it is there but unreadable
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    if not data.strip():
        raise ValueError(f"{path} is empty: a table needs a header line and data rows")
    if data[:4] == _PARQUET_MAGIC:
        return _read_parquet(path, data)
    return _read_csv(path, data, skip_bad_rows, header)


_TABLE_FILES = "--data table reads CSV (text) or Parquet files"


def decode_text(path, data, what="a text table", reads=_TABLE_FILES):
    """The file's text and, when it was not UTF-8, a note on the encoding it was read in (a
    byte-order mark dropped). A binary file is an error saying that it is not ``what`` and
    what ``reads`` (the command's kind of input, in words) takes."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return _decoded_as(path, data, "utf-32", "read as UTF-32 (its byte-order mark says so)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decoded_as(path, data, "utf-16", "read as UTF-16 (its byte-order mark says so)")
    if utf16 := _utf16_without_mark(data[:_SAMPLE]):
        return _decoded_as(path, data, utf16, f"read as {utf16.upper()} (it has no byte-order "
                                               "mark, but its bytes say so)")
    for magic, kind in _BINARY_KINDS.items():
        if data.startswith(magic):
            raise ValueError(f"{path} is not {what}: it is {_zipped_tables(data) or kind}")
    if b"\x00" in data[:_SAMPLE]:
        raise ValueError(f"{path} is not {what}: it holds binary data (NUL bytes); "
                         f"{reads}")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        byte = data[error.start]
    try:  # Windows' Western code page, what spreadsheets on Windows write by default
        text, encoding = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "Latin-1 (ISO 8859-1)"
    return text, (f"not UTF-8 (line {line} has byte {byte:#04x}): read as {encoding}; if "
                  "accented letters look wrong, save the file as UTF-8 (CSV UTF-8)")


def _zipped_tables(data):
    """For a zip archive that holds CSV or Parquet files, what to do; else None."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    tables = [n for n in names if n.lower().endswith((".csv", ".tsv", ".txt", ".parquet"))]
    if not tables or any(n.startswith("xl/") for n in names):  # an .xlsx workbook is a zip too
        return None
    shown = ", ".join(tables[:3]) + (f" and {len(tables) - 3} more" if len(tables) > 3 else "")
    return f"a ZIP archive holding {shown}: unzip it and pass the table's file"


def _utf16_without_mark(sample):
    """'utf-16-le' or 'utf-16-be' when ``sample`` looks like UTF-16 text without a byte-order
    mark (mostly ASCII: every other byte zero), else None."""
    even, odd = sample[0:len(sample) & ~1:2], sample[1:len(sample) & ~1:2]
    if len(even) < 2:
        return None
    for zeros, letters, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros) and letters.count(0) == 0:
            return name
    return None


def _decoded_as(path, data, encoding, note):
    try:
        return data.decode(encoding), note
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not valid {encoding.upper()} text (byte {error.start}: "
                         f"{error.reason}); save it as UTF-8 (CSV UTF-8)") from None


def _records(sample, delimiter, limit=30):
    rows = []
    try:
        for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) > limit:
                break
    except csv.Error:
        return None
    return rows


def _delimiter(text):
    """The candidate that splits the header into the most fields (> 1) while most of the
    first records have as many (a trailing delimiter forgiven); a comma when none does (a
    one-column file)."""
    sample = text[:_SAMPLE]
    best, best_score = ",", (0.0, 1)
    for delimiter in _DELIMITERS:
        rows = _records(sample, delimiter)
        if not rows:
            continue
        if len(text) > _SAMPLE and len(rows) > 2:
            rows = rows[:-1]  # the last record of a cut sample may be torn
        fields = len(rows[0])
        if fields < 2:
            continue
        body = rows[1:]
        agree = sum(len(r) == fields or (len(r) == fields + 1 and not r[-1].strip())
                    for r in body) / len(body) if body else 1.0
        if agree >= 0.5 and (agree, fields) > best_score:
            best, best_score = delimiter, (agree, fields)
    return best


def _read_csv(path, data, skip_bad_rows=False, has_header=True):
    text, encoding_note = decode_text(path, data)
    line = 1
    if declared := _EXCEL_SEPARATOR.match(text):  # Excel's "sep=;" first line
        delimiter, text, line = declared[1], text[declared.end():], 2
    else:
        delimiter = _delimiter(text)
    _check_cells_fit(path, text, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header, rows, labels, short, long = None, [], [], [], []
    notes = [encoding_note] if encoding_note else []
    first = line - 1
    try:
        for row in reader:
            start, line = line, first + reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if header is None and has_header:
                header, first_line = _header(row, notes), row
                continue
            if header is None:  # no header line: this first line is data
                header = [f"column_{position}" for position in range(1, len(row) + 1)]
            if len(row) > len(header) and not any(c.strip() for c in row[len(header):]):
                row = row[:len(header)]  # a trailing delimiter
            if len(row) > len(header):
                long.append(f"line {start} ({len(row)})")
                continue
            if len(row) < len(header):
                short.append(start)
                row = row + [""] * (len(header) - len(row))
            rows.append(row)
            labels.append(f"line {start}")
    except csv.Error as error:
        where = first + reader.line_num
        if "field larger than field limit" in str(error):
            raise ValueError(
                f"{path}: a field ending on line {where} is longer than {csv.field_size_limit():,} "
                "characters, more than a cell should hold: usually a quote (\") opened and "
                "never closed on or before that line; close or remove it, or shorten the "
                "value") from None
        raise ValueError(f"{path}: line {where}: {error}; check the quoting there") from None
    if rows and _quote_left_open(text, start - first, delimiter):
        raise ValueError(
            f"{path}: line {start} opens a quote (\") that is never closed, so every line "
            "after it would be read as part of one value; close the quote or remove it")
    if header is None:
        raise ValueError(f"{path} is empty: a table needs a header line and data rows")
    if long:
        lines = ", ".join(long[:5]) + (f" and {len(long) - 5} more" if len(long) > 5 else "")
        if not skip_bad_rows:
            raise ValueError(
                f"{path}: {len(long)} line(s) have more fields than the {_first(has_header)} "
                f"{len(header)}: {lines}; check for an unquoted {_shown(delimiter)} in a value "
                "or a header that lacks a column name, or pass --skip-bad-rows to leave such "
                "lines out")
        notes.append(f"warning: left out {len(long)} line(s) with more fields than the "
                     f"{_first(has_header)} {len(header)} (--skip-bad-rows): {lines}")
    if not rows:
        raise ValueError(f"{path} has a header line but no data rows")
    if short:
        notes.append(f"{len(short)} line(s) have fewer fields than the {_first(has_header)[:-2]}"
                     f" (first: line {short[0]}); their last cells were read as missing")
    hint = None
    if has_header and _first_line_is_data(first_line, rows):
        shown = ", ".join(repr(cell.strip()) for cell in first_line[:6])
        more = ", ..." if len(first_line) > 6 else ""
        hint = (f"the header line ({shown}{more}) looks like data, not column names: if the "
                "file has no header line, pass --no-header to read that line as data and "
                f"name the columns by position, column_1 to column_{len(header)} (e.g. "
                f"--target column_{len(header)}), or add a header line to the file")
        notes.append(f"warning: {hint}")
    return Table(path, header, rows, labels, delimiter=delimiter, notes=notes, header_hint=hint)


def _first(has_header):
    return "header's" if has_header else "first line's"


def _first_line_is_data(first_line, rows, sample=1000):
    """Whether the line read as the header holds values like those below it rather than names
    (as csv.Sniffer.has_header reasons). Header-less exports (the UCI digits, sensor logs)
    would otherwise lose their first row to the column names.

    No cell may contradict it: above numbers a number, above dates a date, above categories
    one of them. And one cell must be more than a whole number, which can be a name (a year
    above its column): a fraction, a date, a category, or a cell the line repeats (names
    are distinct)."""
    body = rows[:sample]
    cells = [cell.strip() for cell in first_line]
    telling = len(set(cells)) < len(cells)
    for position, cell in enumerate(cells):
        values = [row[position].strip() for row in body if not is_missing(row[position])]
        if is_missing(cell) or not values:
            continue
        if all(looks_numeric(value) for value in values):
            if not looks_numeric(cell):
                return False
            telling |= not _WHOLE.match(cell)
        elif parse_times(values) is not None:
            if parse_times([cell]) is None:
                return False
            telling = True
        elif len(set(values)) < len(values):  # categories: a value is one of them
            if cell not in set(values):
                return False
            telling = True
        # all-distinct text (identifiers, free text) says nothing: a name would fit it too
    return telling


# what one cell of a table costs in memory once read (a str object and the references to it
# in its row and its column), and one row (its list and its "line N" label)
_CELL_BYTES, _ROW_BYTES = 72, 150


def _check_cells_fit(path, text, delimiter):
    """Refuse, before parsing, a table whose cells would take more than half of this machine's
    memory (the rest is for the model and its arrays); counted from the delimiters."""
    memory = physical_memory()
    if memory is None:
        return
    rows = text.count("\n") + 1
    needed = (text.count(delimiter) + rows) * _CELL_BYTES + rows * _ROW_BYTES + 2 * len(text)
    if needed > memory // 2:
        raise ValueError(
            f"{path} holds about {rows:,} lines of cells that would take about "
            f"{needed / 2**30:,.1f} GiB once read, more than half this machine's memory "
            f"({memory / 2**30:,.1f} GiB): use a sample of its rows (e.g. the first 100,000 "
            "lines) or a machine with more memory")


def _quote_left_open(text, last_start, delimiter):
    """Whether the record starting on line ``last_start`` (the last one) runs to the end of the
    text inside a quoted field, which the lenient reader accepts silently."""
    lines = _LINE_BREAK.split(text, maxsplit=last_start - 1)
    tail = lines[-1] if len(lines) >= last_start else ""
    if '"' not in tail:
        return False
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _shown(delimiter):
    return "tab" if delimiter == "\t" else repr(delimiter)


def _header(row, notes):
    """Column names: blank ones become column_N, a repeated name gets .1, .2 (as pandas
    does), with a note."""
    names, seen = [], set()
    for position, cell in enumerate(row, start=1):
        name = cell.strip() or f"column_{position}"
        if name in seen:
            base, count = name, 1
            while f"{base}.{count}" in seen or f"{base}.{count}" in row:
                count += 1
            name = f"{base}.{count}"
            notes.append(f"the header names {base!r} more than once: field {position} is read "
                         f"as {name!r}")
        seen.add(name)
        names.append(name)
    return names


def _read_parquet(path, data):
    """The Parquet file whose bytes (gunzipped if it was gzip-compressed) are ``data``."""
    try:
        import pyarrow
        import pyarrow.parquet as parquet
    except ImportError:
        raise ImportError(PARQUET_HINT) from None
    try:
        # the bytes already read (no second read); the file's columns, repeated names too
        table = parquet.ParquetFile(pyarrow.BufferReader(data)).read()
    except (pyarrow.ArrowException, OSError) as error:
        raise ValueError(f"{path} is not a readable Parquet file ({error}); it may be cut "
                         "short or damaged (an interrupted download or copy): get or write it "
                         "again") from None
    if table.num_rows == 0:
        raise ValueError(f"{path} has columns but no rows")
    columns = [[_parquet_cell(v) for v in table.column(index).to_pylist()]
               for index in range(table.num_columns)]
    labels = [f"row {i + 1}" for i in range(table.num_rows)]
    notes = []
    names = _header(table.column_names, notes)
    return Table(path, names, columns, labels, by_column=True, notes=notes)


def _parquet_cell(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
