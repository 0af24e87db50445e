"""One table column, fitted on the training rows and turned into model inputs.

A column's saved entry says what it is (``kind``) and holds what its inputs need:

    numeric    median (imputes), mean and std (standardise), indicator (a 0/1 "missing" input)
    date       the same, on the days since 1970 (a date column becomes one number)
    onehot     categories (0/1 per category; an unseen one: all zeros), mode (imputes)
    embedded   categories (one input, the code 1..K, 0 unseen), mode
A categorical column read from whole numbers (integer codes) has ``numbers`` true: its cells
are compared as numbers, so that 3, 3.0 and 03 are one category."""

import re

import numpy as np

from ..readers._dates import as_days, parse_times

__all__ = ["fit_column", "column_inputs", "input_names", "looks_like_identifier",
           "ONE_HOT_MAX_LEVELS"]

ONE_HOT_MAX_LEVELS = 10
_ID_NAME = re.compile(r"(^|[\s_.-])(id|uuid|guid|index)$|^(unnamed.*|column_1|row)$", re.I)
_MIN_ROWS_FOR_ID = 20  # in smaller tables, all-distinct values are no evidence
# whole numbers under such a name are codes of categories (a region, a product type)
_CODE_NAME = re.compile(r"(^|[\s_.-])(code|zip|zipcode|postcode|postal|category|cat|type|class|"
                        r"group|region|segment|kind|brand|store|dept|department|country|state)"
                        r"($|[\s_.-])", re.I)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_MAX_NAMED_CODES = 100


def _words(name):
    """A column name with its camelCase humps spaced, so that names read alike however they
    are written: CustomerId and customer_id, StoreType and store type."""
    return _CAMEL_HUMP.sub(" ", name.strip())
_MIN_CODES = 3  # 0/1 columns work as numbers already
_MIN_ROWS_PER_CODE = 3


def looks_like_identifier(table, name):
    """Whether a column is an identifier: every value distinct, and text, or whole numbers that
    count up one by one, or whole numbers under a name such as id or customer_id."""
    cells = table.text(name)
    if len(cells) < _MIN_ROWS_FOR_ID or None in cells or len(set(cells)) < len(cells):
        return False
    if table.kind(name) == "text":
        return table.dates(name) is None
    values = np.sort(table.numeric(name))
    if np.isnan(values).any() or not np.all(values == np.round(values)):
        return False
    return bool(_ID_NAME.search(_words(name))) or bool(np.all(np.diff(values) == 1))


def number_label(cell):
    """A cell that holds a number, as the category it names: 3, 3.0 and 03 are '3'."""
    try:
        number = float(cell)
    except ValueError:
        return cell
    return str(int(number)) if number.is_integer() and abs(number) < 2 ** 53 else repr(number)


def fit_column(table, train, name, report):
    """The saved entry of column ``name`` fitted on ``train`` (the training rows), or None
    when the column carries nothing (no value, one value); ``report`` collects what was done.
    ``table`` (all rows) decides the column's kind."""
    kind = table.kind(name)
    if kind == "numeric":
        if _integer_codes(table, name, report):
            return _fit_categories(train, name, report, numbers=True)
        return _fit_numbers(train.numeric(name), name, "numeric", report, table.unusable(name))
    days = table.dates(name)
    if days is not None:
        report["dates"].append(name)
        return _fit_numbers(train.dates(name), name, "date", report)
    return _fit_categories(train, name, report, numbers=False)


def _integer_codes(table, name, report):
    """Whole numbers that are codes of categories: 3 to 10 distinct values, or up to 100 under
    a name such as region or product_type, each value in 3 rows or more on average (in a
    table of 20 rows or more); not when the user said --numeric."""
    if name in table.forced_numeric:
        return False
    values = table.numeric(name)
    values = values[~np.isnan(values)]
    if len(values) < _MIN_ROWS_FOR_ID or not np.all(values == np.round(values)):
        return False
    count = len(np.unique(values))
    if count * _MIN_ROWS_PER_CODE > len(values):
        return False
    named = bool(_CODE_NAME.search(_words(name)))
    if _MIN_CODES <= count <= (_MAX_NAMED_CODES if named else ONE_HOT_MAX_LEVELS):
        report["codes"].append(name)
        return True
    return False


def _fit_numbers(values, name, kind, report, unusable=0):
    present = values[~np.isnan(values)]
    missing = int(np.isnan(values).sum())
    if not present.size:
        report["empty"].append(name)
        return None
    if np.ptp(present) == 0 and not missing:
        report["constant"].append(name)
        return None
    median = float(np.median(present))
    filled = np.where(np.isnan(values), median, values)
    if missing:
        report["missing"][name] = (missing, len(values), f"the median {median:.4g}")
    if unusable:
        report["unusable"][name] = int(unusable)
    std = float(filled.std())
    return {"name": name, "kind": kind, "median": median, "mean": float(filled.mean()),
            "std": std if std > 0 and np.isfinite(std) else 1.0, "indicator": bool(missing)}


def _fit_categories(train, name, report, numbers):
    cells = _category_cells(train, name, numbers)
    present = [c for c in cells if c is not None]
    if not present:
        report["empty"].append(name)
        return None
    categories, counts = np.unique(present, return_counts=True)
    if len(categories) == 1 and len(present) == len(cells):
        report["constant"].append(name)
        return None
    mode = str(categories[int(np.argmax(counts))])
    if len(present) < len(cells):
        report["missing"][name] = (len(cells) - len(present), len(cells),
                                   f"the most frequent category {mode!r}")
    kind = "onehot" if len(categories) <= ONE_HOT_MAX_LEVELS else "embedded"
    column = {"name": name, "kind": kind, "categories": [str(c) for c in categories],
              "mode": mode}
    if numbers:
        column["numbers"] = True
    return column


def _category_cells(table, name, numbers):
    cells = table.text(name)
    return [number_label(c) if numbers and c is not None else c for c in cells]


def input_names(column):
    """The names of the model inputs a column gives: 'age', 'age (missing)', 'colour=red',
    'city (code)'."""
    name = column["name"]
    if column["kind"] in ("numeric", "date"):
        return [name] + ([f"{name} (missing)"] if column["indicator"] else [])
    if column["kind"] == "onehot":
        return [f"{name}={category}" for category in column["categories"]]
    return [f"{name} (code)"]


def column_inputs(table, column, notes):
    """float64 (rows, len(input_names(column))): the column's model inputs for ``table``;
    ``notes`` receives what was imputed or not seen in training."""
    if column["kind"] == "numeric":
        return _number_inputs(table, column, _numbers_of(table, column, notes), notes)
    if column["kind"] == "date":
        return _number_inputs(table, column, _days_of(table, column["name"], notes), notes)
    return _category_inputs(table, column, notes)


def _numbers_of(table, column, notes):
    """The column's numbers. The model knows the column holds numbers, so in new rows a few
    cells of text are missing values (noted); a column of text only is an error."""
    name = column["name"]
    try:
        kind = table.kind(name)
    except ValueError:  # numbers and text: the text cells count as missing
        table.read_as(table.categorical, table.forced_numeric | {name})
        kind = table.kind(name)
    if kind == "text":
        raise ValueError(f"{table.source}: column {name!r} holds text, but the model was trained "
                         f"on numbers in it; correct the column or pass a file whose {name!r} "
                         "holds numbers")
    unusable = table.unusable(name)
    if unusable:
        notes.append(f"{unusable} values of {name!r} are not (finite) numbers: read as missing")
    return table.numeric(name)


def _days_of(table, name, notes):
    days = table.dates(name)
    if days is not None:
        return days
    cells = table.text(name)  # not one layout throughout: each cell on its own, bad ones missing
    days = np.full(len(cells), np.nan)
    for index, cell in enumerate(cells):
        found = parse_times([cell]) if cell is not None else None
        if found is not None:
            days[index] = as_days(found[0][0], found[1])
    bad = sum(cell is not None for cell in cells) - int((~np.isnan(days)).sum())
    if bad:
        notes.append(f"{bad} values of {name!r} are not dates: read as missing")
    return days


def _number_inputs(table, column, values, notes):
    name = column["name"]
    missing = np.isnan(values)
    if missing.any():
        notes.append(f"{int(missing.sum())} missing values of {name!r} imputed with the "
                     f"training median {column['median']:.4g}")
    standardised = (np.where(missing, column["median"], values) - column["mean"]) / column["std"]
    if column["indicator"]:
        return np.stack([standardised, missing.astype(np.float64)], axis=1)
    return standardised[:, None]


def _category_inputs(table, column, notes):
    name = column["name"]
    cells = _category_cells(table, name, column.get("numbers", False))
    missing = sum(cell is None for cell in cells)
    if missing:  # said as for numbers: a prediction may rest on the value put in
        notes.append(f"{missing} missing values of {name!r} imputed with the most frequent "
                     f"training category {column['mode']!r}")
    cells = [column["mode"] if c is None else c for c in cells]
    codes = {category: i + 1 for i, category in enumerate(column["categories"])}
    index = np.array([codes.get(c, 0) for c in cells], dtype=np.int64)
    unseen = int((index == 0).sum())
    if unseen:
        notes.append(f"{unseen} values of {name!r} are categories not seen in training "
                     "(treated as unknown)")
    if column["kind"] == "embedded":
        return index[:, None].astype(np.float64)
    return np.eye(len(codes) + 1)[index][:, 1:]
