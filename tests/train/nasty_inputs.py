"""Generators of own data as people's files really are: tables, image folders and series that
are awkward but valid (every one must train and predict), and invalid ones (every one must
exit 2 with a message naming the file, line or column).

A case is ``Case(name, write, flags, expect)``: ``write(folder)`` creates the input and
returns its path, ``flags`` are the train flags besides --data/--data-path, ``expect`` is
None for a valid input or a regular expression the error message must match."""

import bz2
import dataclasses
import gzip
import os
import zipfile

import numpy as np


@dataclasses.dataclass
class Case:
    name: str
    kind: str  # "table", "images" or "series"
    write: object
    flags: tuple = ()
    expect: str | None = None

    def __str__(self):
        return self.name


def _save(path, text, encoding="utf-8", newline="\n"):
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# -- tables -----------------------------------------------------------------------------------
_MARKERS = ["", "NA", "N/A", "NaN", "null", "None", "?", "-", "#N/A", "nan"]


def nasty_table(seed, rows=90):
    """A valid table drawn from the ways real files differ: its delimiter, encoding, line
    endings, quoting, missing markers, number layout, booleans, dates, integer codes, constant
    and empty columns, repeated names, short rows; the target 'outcome' follows 'amount' and
    'colour' so that a model can learn it."""
    rng = np.random.default_rng(seed)
    delimiter = [",", ";", "\t", "|"][seed % 4]
    decimal_comma = delimiter in (";", "\t") and rng.random() < 0.7
    encoding = ["cp1252", "utf-16", "utf-8-sig", "utf-8"][seed % 4]
    amount = rng.normal(50, 20, rows)
    colour = rng.choice(["rouge", "vert", "bleu é"], rows)
    outcome = np.where(amount + 30 * (colour == "rouge") > 60, "oui", "non")

    def number(value):
        text = f"{value:.2f}"
        return text.replace(".", ",") if decimal_comma else text

    columns = {
        "Amount (€)": [number(v) if rng.random() > 0.1 else str(rng.choice(_MARKERS))
                       for v in amount],
        "colour": [c if rng.random() > 0.05 else "" for c in colour],
        "region": [str(k) for k in rng.integers(1, 6, rows)],  # integer codes
        "signed up": [f"2021-{m:02d}-{d:02d}" for m, d in zip(rng.integers(1, 13, rows),
                                                                rng.integers(1, 28, rows))],
        "vip": rng.choice(["yes", "no", "Yes"], rows).tolist(),
        "active": rng.choice(["True", "False"], rows).tolist(),
        "constant": ["7"] * rows,
        "empty": [""] * rows,
        "id": [str(1000 + i) for i in range(rows)],
        "note": [f'said "hi{delimiter}there"\nthen left' if i % 9 == 0 else "ok"
                 for i in range(rows)],
        "outcome": outcome.tolist(),
    }
    header = list(columns) + ["colour"]  # a repeated name: read as colour.1
    body = [[columns[name][i] for name in columns] + [colour[i]] for i in range(rows)]
    body[3] = body[3][:-1]  # a short row: its last cell missing
    lines = [_joined(header, delimiter)] + [_joined(row, delimiter) for row in body]
    lines.insert(5, "")  # a blank line
    text = "\n".join(lines) + "\n"
    return lambda folder: _save(folder / "table.csv", text, encoding,
                                "\r\n" if seed % 2 else "\n")


def _joined(cells, delimiter):
    quoted = []
    for cell in cells:
        if any(ch in cell for ch in (delimiter, '"', "\n")):
            cell = '"' + cell.replace('"', '""') + '"'
        quoted.append(cell)
    return delimiter.join(quoted)


def _table_writer(header, rows, name="t.csv", encoding="utf-8", compress=False):
    text = "\n".join([header] + rows) + "\n"

    def write(folder):
        path = folder / name
        data = text.encode(encoding)
        path.write_bytes(gzip.compress(data) if compress else data)
        return path
    return write


def _rows(count, make):
    return [make(i) for i in range(count)]


def _price(row):
    return 1e6 if row % 40 == 0 else 1000 + 3 * row  # two outliers


def _parquet(folder, cut=False):
    """A Parquet file with booleans, dates, a repeated column name and a list column; ``cut``:
    its last 100 bytes (the footer) missing."""
    import pyarrow
    import pyarrow.parquet as parquet

    rng = np.random.default_rng(5)
    x = rng.normal(size=60)
    data = pyarrow.Table.from_arrays(
        [x, rng.random(60) > 0.5, np.datetime64("2021-01-01") + np.arange(60), x * 2,
         pyarrow.array([[i, i % 3] for i in range(60)]), np.where(x > 0, "up", "down")],
        names=["x", "flag", "day", "x", "pair", "label"])
    parquet.write_table(data, folder / "t.parquet")
    if cut:
        (folder / "t.parquet").write_bytes((folder / "t.parquet").read_bytes()[:-100])
    return folder / "t.parquet"


_OPEN_QUOTE = '"x'  # a quote that no later character closes


def table_cases():
    wide = "y," + ",".join(f"c{k}" for k in range(40))
    valid = [Case(f"nasty table {seed}", "table", nasty_table(seed), ("--target", "outcome"))
             for seed in range(4)]
    valid += [
        Case("numeric class labels with a very rare class", "table", _table_writer(
            "x,z,label", _rows(60, lambda i: f"{i % 7},{i * 0.1:.1f},{i % 2 if i > 1 else 2}")),
            ("--target", "label")),
        Case("regression target with outliers, thousands separators", "table", _table_writer(
            "size,price", _rows(80, lambda i: f'{i * 1.5},"{_price(i):,.1f}"')),
            ("--target", "price")),
        Case("thousands of rows, many columns", "table", _table_writer(
            wide, _rows(2000, lambda i: f"{i % 2}," + ",".join(
                f"{(i * (k + 1)) % 97 / 10:.1f}" for k in range(40)))), ("--target", "y")),
        Case("a mixed column read as numbers", "table", _table_writer(
            "x,w,label", _rows(40, lambda i: f"{'unknown' if i == 7 else i},{i % 3},{i % 2}")),
            ("--target", "label", "--numeric", "x")),
        Case("a mixed column read as categories", "table", _table_writer(
            "size,label", _rows(40, lambda i: f"{['S', 'M', '10'][i % 3]},{i % 2}")),
            ("--target", "label", "--categorical", "size")),
        Case("a mixed column dropped", "table", _table_writer(
            "x,v,label", _rows(40, lambda i: f"{'?x' if i == 3 else i},{i / 2},{i % 2}")),
            ("--target", "label", "--drop", "x")),
        Case("lines with too many fields left out on request", "table", _table_writer(
            "a,y", _rows(40, lambda i: f"{i / 3},{i % 2}" + (",9" if i % 13 == 4 else ""))),
            ("--target", "y", "--skip-bad-rows")),
        Case("pipe delimiter, gzip", "table", _table_writer(
            "a|b|label", _rows(40, lambda i: f"{i}|{i % 5}|{'ab'[i % 2]}"), "t.csv.gz",
            compress=True), ("--target", "label")),
        Case("boolean target, many-level text", "table", _table_writer(
            "city,n,churned", _rows(90, lambda i: f"town{i % 30},{i % 4},"
                                                  f"{'True' if i % 3 else 'False'}")),
            ("--target", "churned")),
        Case("Parquet with booleans, dates, a list and a repeated name", "table", _parquet,
             ("--target", "label")),
        Case("Parquet gzip-compressed", "table", lambda f: _save_bytes(
            f / "t.parquet.gz", gzip.compress(_parquet(f).read_bytes())), ("--target", "label")),
        Case("UTF-16 without a byte-order mark", "table", _table_writer(
            "a,b,label", _rows(40, lambda i: f"{i / 4},{i % 3},{'ab'[i % 2]}"),
            encoding="utf-16-le"), ("--target", "label")),
        Case("UTF-32 with a byte-order mark", "table", _table_writer(
            "a,b,label", _rows(40, lambda i: f"{i / 4},{i % 3},{'ab'[i % 2]}"),
            encoding="utf-32"), ("--target", "label")),
    ]
    invalid = [
        Case("empty file", "table", lambda f: _save(f / "t.csv", "\ufeff\n\n"), ("--target", "y"),
             r"t\.csv is empty"),
        Case("header only", "table", _table_writer("a,y", []), ("--target", "y"),
             r"t\.csv has a header line but no data rows"),
        Case("a workbook, not CSV", "table", lambda f: _save(f / "t.csv", "PK\x03\x04...",
                                                              "latin-1"),
             ("--target", "y"), r"t\.csv is not a text table: .*save the sheet as CSV"),
        Case("target column absent", "table", _table_writer("a,Label", ["1,x", "2,y"]),
             ("--target", "label"), r"has no column 'label' \(did you mean 'Label'\?\)"),
        Case("target with one class", "table", _table_writer(
            "a,y", _rows(30, lambda i: f"{i},same")), ("--target", "y"),
            r"target 'y' has one class \('same'\)"),
        Case("mixed column", "table", _table_writer(
            "x,y", _rows(30, lambda i: f"{'three' if i == 9 else i},{i % 2}")),
            ("--target", "y"), r"column 'x' mixes numbers and text: .*line 11 has 'three'.*"
                               r"--numeric x .*--categorical x .*--drop x"),
        Case("too many fields", "table", _table_writer(
            "a,y", _rows(30, lambda i: f"{i},{i % 2}" + (",9" if i == 4 else ""))),
            ("--target", "y"), r"1 line\(s\) have more fields than the header's 2: line 6 \(3\);"
                               r".*or pass --skip-bad-rows"),
        Case("unknown --categorical column", "table", _table_writer(
            "a,y", _rows(30, lambda i: f"{i},{i % 2}")), ("--target", "y", "--categorical",
                                                           "colour"), r"has no column 'colour'"),
        Case("regression on a text target", "table", _table_writer(
            "a,y", _rows(30, lambda i: f"{i / 2},{'ab'[i % 2]}")), ("--target", "y", "--task",
                                                                 "regression"),
            r"column 'y' holds text"),
        Case("target without values", "table", _table_writer(
            "a,y", _rows(30, lambda i: f"{i},NA")), ("--target", "y"),
            r"the target column 'y' has no values"),
        Case("only constant and identifier columns", "table", _table_writer(
            "id,k,y", _rows(30, lambda i: f"{i},1,{i % 2}")), ("--target", "y"),
            r"no input columns are left .*identifiers: 'id'; constant: 'k'"),
        Case("a target of infinities only", "table", _table_writer(
            "a,y", _rows(30, lambda i: f"{i % 4},-inf")), ("--target", "y"),
            r"the target column 'y' has no usable values"),
        Case("numbers too large to learn from", "table", _table_writer(
            "a,b,y", _rows(30, lambda i: f"{i % 4},{i * 1e300},{i % 2}")), ("--target", "y"),
            r"column 'b' holds numbers too large to learn from: line 3 has '1e\+300' .*"
            r"rescale the column .*--drop b"),
        Case("a quote never closed", "table", _table_writer(
            "a,b,y", _rows(30, lambda i: f"{i},{_OPEN_QUOTE if i == 20 else i % 3},{i % 2}")),
            ("--target", "y"), r"line 22 opens a quote \(\"\) that is never closed"),
        Case("a field longer than a reader takes", "table", _table_writer(
            "a,y", _rows(30, lambda i: f"{'z' * 140_000 if i == 5 else i % 3},{i % 2}")),
            ("--target", "y"), r"a field ending on line 7 is longer than 131,072 characters"),
        Case("a bzip2 file", "table",
             lambda f: _save_bytes(f / "t.csv", bz2.compress(b"a,y\n1,2\n")),
             ("--target", "y"), r"t\.csv is not a text table: it is bzip2-compressed: unpack it"),
        Case("too few rows per class", "table", _table_writer(
            "a,y", _rows(4, lambda i: f"{i},{'xy'[i % 2]}")), ("--target", "y"),
            r"t\.csv has 4 rows: too few to hold out validation and test rows .*'x' 2, 'y' 2"),
        Case("Parquet cut short", "table", lambda f: _parquet(f, cut=True), ("--target", "y"),
             r"t\.parquet is not a readable Parquet file \(.*\); it may be cut short"),
        Case("a zip of a CSV file", "table", _zipped_csv, ("--target", "y"),
             r"t\.csv is not a text table: it is a ZIP archive holding data\.csv: unzip it"),
        Case("a named pipe", "table", _fifo, ("--target", "y"),
             r"t\.csv is a named pipe, not a file; name a regular file"),
    ]
    return valid, invalid


def _save_bytes(path, data):
    path.write_bytes(data)
    return path


def _zipped_csv(folder):
    with zipfile.ZipFile(folder / "t.csv", "w") as archive:
        archive.writestr("data.csv", "a,y\n1,2\n")
    return folder / "t.csv"


def _fifo(folder):
    """A named pipe with no writer: reading it would wait for ever."""
    os.mkfifo(folder / "t.csv")
    return folder / "t.csv"


# -- image folders ----------------------------------------------------------------------------
def _image(array, mode):
    from PIL import Image

    image = Image.fromarray(array)
    if mode == "I;16":
        return Image.fromarray(array[..., 0].astype(np.uint16) * 257)
    return image.convert(mode)


def nasty_folder(gray=False, corrupt=0, per_class=6):
    """Two classes (dark, light) of images in every mode and size, some nested, with hidden
    files, other files, upper-case extensions and ``corrupt`` damaged files per class."""
    def write(folder):
        rng = np.random.default_rng(3)
        root = folder / "photos"
        modes = ["RGB", "RGBA", "L", "P", "I;16", "CMYK", "LA"]
        for name, level in (("dark", 40), ("light", 200)):
            (root / name / "more").mkdir(parents=True)
            (root / name / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
            (root / name / "README.txt").write_text("not an image")
            for i in range(per_class):
                shape = (10 + 3 * i, 14 + 5 * (i % 3), 3)
                array = np.clip(rng.normal(level, 25, shape), 0, 255).astype(np.uint8)
                mode = "L" if gray else modes[i % len(modes)]
                suffix = [".png", ".PNG", ".jpg", ".JPEG", ".bmp", ".gif", ".webp"][i % 7]
                if mode in ("RGBA", "LA", "P", "I;16") or suffix == ".gif":
                    suffix = ".png"
                if mode == "CMYK":
                    suffix = ".jpg"
                place = root / name / ("more" if i % 4 == 3 else "") / f"{i}{suffix}"
                _image(array, mode).save(place)
            for k in range(corrupt):
                (root / name / f"broken{k}.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
        return root
    return write


def image_cases():
    valid = [
        Case("images in every mode, size and place", "images", nasty_folder()),
        Case("gray images only, non-square size", "images", nasty_folder(gray=True),
             ("--image-size", "12x20")),
        Case("corrupt files skipped on request", "images", nasty_folder(corrupt=2),
             ("--skip-bad-files",)),
    ]

    def flat(folder):
        (folder / "flat").mkdir()
        _image(np.zeros((4, 4, 3), np.uint8), "RGB").save(folder / "flat" / "a.png")
        return folder / "flat"

    def one_class_nested(folder):
        root = nasty_folder(per_class=3)(folder)
        (folder / "data").mkdir()
        root.rename(folder / "data" / "train")
        return folder / "data"

    def all_bad_in_one_class(folder):
        root = nasty_folder(per_class=2)(folder)
        for path in (root / "dark").rglob("*.*"):
            path.write_bytes(b"junk")
        return root

    def text_only_class(folder):
        root = nasty_folder(per_class=3)(folder)
        (root / "empty").mkdir()
        (root / "empty" / "notes.txt").write_text("x")
        return root

    def tiny_images_and_mac_leftovers(folder):
        root = nasty_folder(per_class=4)(folder)
        for path in root.rglob("*.*"):
            if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"):
                _image(np.full((1, 2, 3), 40 if "dark" in str(path) else 200, np.uint8),
                       "RGB").save(path.with_suffix(".png"))
                if path.suffix != ".png":
                    path.unlink()
        (root / "__MACOSX" / "dark").mkdir(parents=True)
        (root / "__MACOSX" / "dark" / "._0.png").write_bytes(b"\x00\x05\x16\x07 resource fork")
        return root

    valid.append(Case("1x2-pixel images (enlarged), a __MACOSX folder left out", "images",
                      tiny_images_and_mac_leftovers))
    invalid = [
        Case("one image per class", "images", nasty_folder(per_class=1), (),
             r"photos has 2 images: too few to hold out validation and test images .*"
             r"'dark' 1, 'light' 1"),
        Case("a corrupt file", "images", nasty_folder(corrupt=1), (),
             r"2 of \d+ files are not readable images: .*broken0\.jpg \(.*"
             r"--skip-bad-files to leave them out"),
        Case("no class folders", "images", flat, (), r"flat has 0 class folder\(s\)"),
        Case("classes one level down", "images", one_class_nested, (),
             r"data has one class folder, train, .*use --data-path .*data/train"),
        Case("a class without readable images", "images", all_bad_in_one_class,
             ("--skip-bad-files",), r"class folder\(s\) dark under .* have no readable image"),
        Case("a class folder without images", "images", text_only_class, (),
             r"class folder .*empty has no images"),
        Case("a folder that is not there", "images", lambda f: f / "nowhere", (),
             r"nowhere does not exist"),
    ]
    return valid, invalid


# -- series -----------------------------------------------------------------------------------
def _series_writer(times, columns, order=None, name="s.csv"):
    """A CSV of a time column and value columns, rows in ``order`` (default as given)."""
    header = ",".join(["when", *columns])
    order = range(len(times)) if order is None else order
    rows = [",".join([f'"{times[i]}"', *(str(values[i]) for values in columns.values())])
            for i in order]
    return _table_writer(header, rows, name)


def _days(count, start="2020-01-01", step=1):
    base = np.datetime64(start)
    return [str(base + np.timedelta64(int(step * i), "D")) for i in range(count)]


def series_cases(length=160):
    rng = np.random.default_rng(4)
    t = np.arange(length)
    temp = np.round(np.sin(t / 5) + rng.normal(0, 0.1, length), 3)
    sales = np.round(np.cumsum(rng.normal(0, 0.2, length)) + 2 * temp, 3).astype(object)
    sales[30:52] = ""  # a missing stretch
    sales[70] = "N/A"
    shuffled = rng.permutation(length)
    uneven = [f"2021-03-01 {h // 60:02d}:{h % 60:02d}" for h in (
        np.arange(length) * 7 + rng.integers(-2, 3, length))]  # every 7 minutes, roughly
    formats = {
        "DD/MM/YYYY": [f"{d[8:]}/{d[5:7]}/{d[:4]}" for d in _days(length)],
        "epoch seconds": [str(1_600_000_000 + 3600 * i) for i in range(length)],
        "year-month": [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(length)],
        "YYYYMMDD": [d.replace("-", "") for d in _days(length, step=7)],
    }
    both = {"sales": sales, "temp": temp}
    valid = [
        Case("several value columns, mlp", "series", _series_writer(_days(length), both),
             ("--target", "sales", "--time", "when", "--window", "6")),
        Case("several value columns, lstm", "series", _series_writer(_days(length), both),
             ("--target", "sales", "--time", "when", "--window", "6", "--model", "lstm")),
        Case("unsorted rows, duplicate times", "series", _series_writer(
            _days(length) + _days(5), {"sales": [*sales, 1, 2, 3, 4, 5],
                                       "temp": [*temp, 0, 0, 0, 0, 0]},
            order=list(shuffled) + list(range(length, length + 5))),
            ("--target", "sales", "--time", "when", "--window", "6")),
        Case("irregular times", "series", _series_writer(uneven, both),
             ("--target", "sales", "--time", "when", "--window", "6", "--features", "temp")),
        Case("no time column, one value column chosen", "series",
             _series_writer(_days(length), both), ("--target", "temp", "--window", "4",
                                                   "--drop", "sales,when")),
        Case("stray text read as missing", "series", _series_writer(
            _days(length), {"y": [("oops" if i == 9 else float(v)) for i, v in
                                  enumerate(temp)]}),
            ("--target", "y", "--time", "when", "--window", "4", "--numeric", "y")),
    ]
    valid += [Case(f"times as {name}", "series", _series_writer(times, {"y": temp}),
                   ("--target", "y", "--time", "when", "--window", "4"))
              for name, times in formats.items()]
    invalid = [
        Case("window longer than the series", "series", _series_writer(_days(20), {
            "y": temp[:20]}), ("--target", "y", "--time", "when", "--window", "40"),
            r"--window 40 with --horizon 1 is longer than the series allows: it has 20 steps"),
        Case("text target", "series", _series_writer(_days(20), {"y": ["a"] * 20}),
             ("--target", "y", "--time", "when"), r"the target column 'y' holds text"),
        Case("a time that is no time", "series", _series_writer(
            _days(19) + ["soon"], {"y": temp[:20]}), ("--target", "y", "--time", "when"),
            r"line 21 has 'soon' in 'when', which is neither a number nor a date"),
        Case("absent target", "series", _series_writer(_days(20), {"y": temp[:20]}),
             ("--target", "value", "--time", "when"), r"has no column 'value'"),
        Case("a text column as a feature", "series", _series_writer(
            _days(20), {"y": temp[:20], "city": ["x"] * 20}),
            ("--target", "y", "--time", "when", "--features", "city"),
            r"column 'city' holds text; the columns a series model reads must hold numbers"),
        Case("no values", "series", _series_writer(_days(20), {"y": [""] * 20}),
             ("--target", "y", "--time", "when"), r"target column 'y' has no values|"
                                                  r"the series has no values"),
        Case("numbers too large to learn from", "series", _series_writer(
            _days(30), {"y": [float(v) * 1e307 for v in temp[:30]]}),
            ("--target", "y", "--time", "when", "--window", "4"),
            r"column 'y' holds numbers too large to learn from"),
        Case("a mixed target", "series", _series_writer(
            _days(30), {"y": [("oops" if i == 9 else float(v)) for i, v in enumerate(temp[:30])]}),
            ("--target", "y", "--time", "when", "--window", "4"),
            r"column 'y' mixes numbers and text: .*line 11 has 'oops'.*--numeric y"),
    ]
    return valid, invalid


def all_cases():
    """(valid cases, invalid cases) of every kind."""
    valid, invalid = [], []
    for make in (table_cases, image_cases, series_cases):
        good, bad = make()
        valid += good
        invalid += bad
    return valid, invalid


# -- fuzz -----------------------------------------------------------------------------------------
_INSERTS = [b'"', b",", b";", b"\t", b"\n", b"\r", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"NA",
            b"inf", b"-", b"1e999", b"1e200", b"?", b"  ", b"\xe9", "€".encode()]


def _mutated(data, rng):
    """``data`` with one to three random damages of the kinds real files suffer."""
    data = bytearray(data)
    for _ in range(rng.integers(1, 4)):
        kind, at = rng.integers(0, 9), int(rng.integers(0, max(len(data), 1)))
        lines = bytes(data).split(b"\n")
        if kind == 0 and data:  # a bit flip
            data[at % len(data)] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:  # a quote, delimiter, NUL, byte-order mark, marker or huge number
            data[at:at] = _INSERTS[rng.integers(len(_INSERTS))]
        elif kind == 2:
            del data[at:at + int(rng.integers(1, 50))]
        elif kind == 3:  # cut short
            del data[at:]
        elif kind == 4:  # a line repeated
            lines.insert(int(rng.integers(len(lines))), lines[int(rng.integers(len(lines)))])
            data = bytearray(b"\n".join(lines))
        elif kind == 5:  # lines shuffled (the header too)
            data = bytearray(b"\n".join(lines[i] for i in rng.permutation(len(lines))))
        elif kind == 6:  # another delimiter
            data = bytearray(bytes(data).replace(b",", [b";", b"\t", b"|", b", "][kind % 4]))
        elif kind == 7:  # another encoding
            encoding = ["utf-16", "utf-16-le", "latin-1", "utf-32"][int(rng.integers(4))]
            data = bytearray(bytes(data).decode("utf-8", "replace").encode(encoding, "replace"))
        else:  # random bytes
            data[at:at] = rng.integers(0, 256, int(rng.integers(1, 20)), dtype=np.uint8).tobytes()
    return bytes(data)


def _fuzz_table(rng):
    rows = [f"{rng.normal() * 10:.3f},{rng.choice(['a', 'b', 'c'])},{rng.integers(1, 4)},"
            f"2021-0{rng.integers(1, 9)}-1{rng.integers(0, 9)},{rng.choice(['yes', 'no'])}"
            for _ in range(int(rng.integers(6, 60)))]
    return ("num,cat,code,date,y\n" + "\n".join(rows) + "\n").encode()


def _fuzz_series(rng):
    start = np.datetime64("2020-01-01")
    rows = [f"{start + np.timedelta64(i, 'D')},{np.sin(i / 4):.3f},{i % 5}"
            for i in range(int(rng.integers(8, 80)))]
    return ("t,y,x\n" + "\n".join(rows) + "\n").encode()


def mutated_own_data(kind, seed, count):
    """``count`` damaged CSV files (bytes) of ``kind`` "table" (target y; columns num, cat,
    code, date) or "series" (time t, target y, covariate x)."""
    rng = np.random.default_rng(seed)
    make = _fuzz_table if kind == "table" else _fuzz_series
    return [_mutated(make(rng), rng) for _ in range(count)]


def check_mutated_own_data(kind, path):
    """'read' when the damaged file at ``path`` still makes a task of ``kind`` with finite
    inputs, 'refused' when it is refused by name (a ValueError or CannotReadError naming the
    file, a column or a flag); anything else raises (AssertionError, or the crash itself)."""
    from chainrule.cli import build_config, make_parser
    from chainrule.data.readers._files import CannotReadError
    from chainrule.train.data import load_task

    flags = ["--target", "y"] + (["--time", "t", "--window", "3"] if kind == "series" else [])
    config = build_config(make_parser().parse_args(
        ["train", "--data", kind, "--data-path", str(path), *flags]))
    try:
        task = load_task(config)
    except (ValueError, CannotReadError) as error:
        message = str(error)
        assert path.name in message or "column" in message or "--" in message, message
        return "refused"
    inputs, targets = task.splits["train"]
    assert np.isfinite(inputs).all() and len(inputs) == len(targets)
    return "read"


_IMAGE_KINDS = [("png", "RGB"), ("png", "P"), ("png", "RGBA"), ("png", "I;16"), ("jpeg", "RGB"),
                ("bmp", "RGB"), ("gif", "P"), ("tiff", "RGB"), ("webp", "RGB")]


def mutated_images(seed, count):
    """``count`` damaged image files as (name, bytes): every format and mode the readers take,
    with bit flips, bytes overwritten or inserted, and cuts."""
    import io

    rng = np.random.default_rng(seed)
    cases = []
    for number in range(count):
        suffix, mode = _IMAGE_KINDS[number % len(_IMAGE_KINDS)]
        pixels = rng.integers(0, 255, (int(rng.integers(2, 20)), int(rng.integers(2, 20)), 3),
                              dtype=np.uint8)
        buffer = io.BytesIO()
        _image(pixels, mode).save(buffer, format=suffix.upper())
        data = bytearray(buffer.getvalue())
        for _ in range(rng.integers(1, 4)):
            kind, at = rng.integers(0, 4), int(rng.integers(0, max(len(data), 1)))
            if kind == 0 and data:
                data[at % len(data)] ^= 1 << int(rng.integers(0, 8))
            elif kind == 1 and data:
                data[at % len(data)] = int(rng.integers(0, 256))
            elif kind == 2:
                del data[at:]
            else:
                data[at:at] = rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8)\
                    .tobytes()
        cases.append((f"{number}.{suffix}", bytes(data)))
    return cases


def check_mutated_image(path):
    """'read' or 'refused' (UnreadableImage naming the file) for a damaged image, as the
    folder reader meets it: its header for the default size, then the whole image."""
    from chainrule.data.readers.image_folder import UnreadableImage, _default_size, read_image

    try:
        _default_size([path])
        read_image(path, (8, 8), 3)
    except UnreadableImage as error:
        assert str(path) in str(error), str(error)
        return "refused"
    return "read"
