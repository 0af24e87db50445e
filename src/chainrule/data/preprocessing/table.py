"""The preprocessing of a table, fitted on the training rows and saved with the model.

``TablePreprocessor.transform`` turns raw rows into the model's input matrix, and
``input_names`` / ``input_columns`` say which table column each input column came from, so
that explanations can be read in the table's own terms:

    numeric column     ->  its standardised value (a missing value takes the training median),
                           plus a 0/1 "missing" column when training rows lacked values
    date column        ->  the same, on its days since 1970
    text, <= 10 levels ->  one 0/1 column per category (an unseen category: all zeros)
    text, more levels  ->  one column holding the category's code, 1..K (0: unseen), which
                           the ``tabular`` model embeds; these columns come last
    integer codes      ->  (3 to 10 whole numbers, or up to 100 under a name such as region)
                           categories, as text is

Columns without a value or with one value only, and identifiers, are left out and reported.
``read_as`` keeps the user's word on mixed columns (--categorical, --numeric).
See table_columns.py for one column's fitting and inputs.
"""

import numpy as np

from ._state import StateReader, is_int
from .table_columns import (
    ONE_HOT_MAX_LEVELS,
    column_inputs,
    fit_column,
    input_names,
    looks_like_identifier,
    number_label,
)

__all__ = ["TablePreprocessor", "infer_task", "ONE_HOT_MAX_LEVELS"]

MAX_INTEGER_CLASSES = 20  # an integer target with at most this many values is a class label
_REPORT_LISTS = ("identifiers", "empty", "constant", "codes", "dates")


def class_label(cell):
    """A class label as text: 1 and 1.0 are the same class."""
    return number_label(cell)


def infer_task(table, target):
    """'classification' or 'regression' for column ``target``, with the reason."""
    kind = table.kind(target)
    if kind == "empty":
        raise ValueError(f"{table.source}: the target column {target!r} has no values")
    if kind == "text":
        return "classification", f"target {target!r} holds text"
    values = table.numeric(target)
    values = values[~np.isnan(values)]
    distinct = np.unique(values)
    if not np.all(distinct == np.round(distinct)):
        return "regression", f"target {target!r} holds real numbers"
    if len(distinct) <= MAX_INTEGER_CLASSES:
        return "classification", f"target {target!r} has {len(distinct)} distinct integers"
    return "regression", (f"target {target!r} has {len(distinct)} distinct integers, more than "
                          f"{MAX_INTEGER_CLASSES} classes; if they are classes, say "
                          "--task classification")


class TablePreprocessor:
    """Column statistics, categories and target encoding fitted on training rows.

    Build it with ``fit``; save ``state_dict()`` beside the model and rebuild it with
    ``from_state``. ``transform(table)`` gives the float32 model input, ``targets(table)`` the
    labels (int64) or standardised values (float32)."""

    def __init__(self, state):
        self.target = state["target"]
        self.task = state["task"]
        self.columns = state["columns"]
        self.classes = state.get("classes")
        self.target_mean = state.get("target_mean", 0.0)
        self.target_std = state.get("target_std", 1.0)
        self.report = state.get("report", {})
        self.read_as = state.get("read_as", {"categorical": [], "numeric": []})

    # -- fitting --------------------------------------------------------------------------------
    @classmethod
    def fit(cls, table, target, rows, task, features=None, drop=(), categorical=(),
            numeric=()):
        """Fit on ``table``'s rows ``rows`` (the training split): the columns are ``features``
        (all but the target and ``drop`` when None), identifier-like columns are left out unless
        named in ``features``; ``categorical`` and ``numeric`` say how to read columns that mix
        numbers and text (see Table.read_as)."""
        table.cells(target)
        for name in list(features or []) + list(drop):
            table.cells(name)  # an unknown name is an error listing the columns
        if features and target in features:
            raise ValueError(f"--features names the target column {target!r}; leave it out")
        read_as = {"categorical": sorted(categorical or ()), "numeric": sorted(numeric or ())}
        table.read_as(**read_as)
        chosen = list(features) if features else [n for n in table.names
                                                   if n != target and n not in drop]
        report = {"missing": {}, "unusable": {}, **{key: [] for key in _REPORT_LISTS}}
        columns = []
        for name in chosen:  # typed once, on every row; the training rows share the result
            if table.kind(name) == "numeric":
                table.numeric(name)
        train = table.take(rows)
        for name in chosen:
            if table.kind(name) == "empty":
                report["empty"].append(name)
            elif not features and looks_like_identifier(table, name):
                report["identifiers"].append(name)
            elif (column := fit_column(table, train, name, report)) is not None:
                columns.append(column)
        if not columns:
            left_out = {key: report[key] for key in ("empty", "identifiers", "constant")
                        if report[key]}
            why = "; ".join(f"{key}: {', '.join(map(repr, names))}"
                            for key, names in left_out.items())
            raise ValueError(f"{table.source}: no input columns are left besides the target "
                             f"{target!r}" + (f" (left out as {why})" if why else "")
                             + "; check --features and --drop")
        columns.sort(key=lambda c: c["kind"] == "embedded")  # embedded codes go last
        state = {"target": target, "task": task, "columns": columns, "report": report,
                 "read_as": read_as}
        if task == "classification":
            labels = [class_label(c) for c in train.text(target) if c is not None]
            state["classes"] = sorted(set(labels), key=_class_sort_key)
        else:
            values = train.numeric(target)
            state["target_mean"] = float(np.nanmean(values))
            std = float(np.nanstd(values))
            state["target_std"] = std if std > 0 and np.isfinite(std) else 1.0
        return cls(state)

    def state_dict(self):
        state = {"target": self.target, "task": self.task, "columns": self.columns,
                 "report": self.report, "read_as": self.read_as}
        if self.classes is not None:
            state["classes"] = self.classes
        else:
            state.update(target_mean=self.target_mean, target_std=self.target_std)
        return state

    @classmethod
    def from_state(cls, state):
        """Rebuild from ``state_dict()``; a state that cannot work raises
        PreprocessingStateError naming the entry."""
        return cls(checked_state(state))

    # -- what the model sees ---------------------------------------------------------------------
    @property
    def input_names(self):
        """The name of each model input column, e.g. 'age', 'age (missing)', 'colour=red',
        'city (code)'."""
        names = []
        for column in self.columns:
            names += input_names(column)
        return names

    @property
    def input_columns(self):
        """For each model input column, the table column it came from."""
        return [c["name"] for c in self.columns for _ in input_names(c)]

    @property
    def num_numeric_inputs(self):
        """Input columns before the embedded codes (numeric, indicators and one-hot)."""
        return sum(len(input_names(c)) for c in self.columns if c["kind"] != "embedded")

    @property
    def embedded_levels(self):
        """For each embedded column, its number of codes (categories + 1 for unseen)."""
        return [len(c["categories"]) + 1 for c in self.columns if c["kind"] == "embedded"]

    @property
    def num_outputs(self):
        return len(self.classes) if self.classes is not None else 1

    def check_columns(self, table):
        """An error naming every column the model needs that ``table`` lacks."""
        absent = [c["name"] for c in self.columns if c["name"] not in table]
        if absent:
            shown = ", ".join(repr(n) for n in absent[:8])
            more = f" and {len(absent) - 8} more" if len(absent) > 8 else ""
            raise ValueError(
                f"{table.source} lacks {len(absent)} of the {len(self.columns)} columns the "
                f"model was trained on: {shown}{more}; its columns are: "
                f"{', '.join(repr(n) for n in table.names[:20])}"
            )

    def transform(self, table):
        """The float32 model input (rows, len(input_names)) for every row of ``table``; also
        returns notes on values imputed or categories not seen in training."""
        self.check_columns(table)
        self.read_the_same_way(table)
        notes = []
        blocks = [column_inputs(table, column, notes) for column in self.columns]
        return np.concatenate(blocks, axis=1).astype(np.float32), notes

    def read_the_same_way(self, table):
        """Read ``table``'s columns as in training (the user's --categorical and --numeric)."""
        table.read_as(**{how: [n for n in names if n in table]
                         for how, names in self.read_as.items()})

    def targets(self, table):
        """The target of every row: class indices (int64) or standardised values (float32),
        and a mask of the rows that have one. An unknown class is an error naming the row."""
        cells = table.text(self.target)
        present = np.array([c is not None for c in cells], dtype=bool)
        if self.classes is None:
            values = (table.numeric(self.target) - self.target_mean) / self.target_std
            return np.nan_to_num(values).astype(np.float32), present
        index = {label: i for i, label in enumerate(self.classes)}
        labels = np.zeros(len(cells), dtype=np.int64)
        for row, cell in enumerate(cells):
            if cell is None:
                continue
            label = index.get(class_label(cell))
            if label is None:
                raise ValueError(
                    f"{table.source}: {table.where(row)} has target {cell!r}, a class the model "
                    f"does not know (it knows {', '.join(self.classes)})"
                )
            labels[row] = label
        return labels, present

    def values(self, standardised):
        """Regression outputs back in the target's own units."""
        return np.asarray(standardised, dtype=np.float64) * self.target_std + self.target_mean

    def describe(self):
        """Lines for the run report: the inputs, and what was imputed or left out."""
        kinds = [c["kind"] for c in self.columns]
        lines = [f"- {len(self.columns)} input columns: {kinds.count('numeric')} numeric "
                 f"(standardised), {kinds.count('onehot')} categorical one-hot, "
                 f"{kinds.count('embedded')} categorical embedded"
                 + (f", {kinds.count('date')} dates" if "date" in kinds else "")
                 + f"; {len(self.input_names)} model inputs"]
        report = self.report
        for name in self.read_as.get("categorical", []):
            lines.append(f"- `{name}`: every value read as a category (--categorical)")
        for name, count in report.get("unusable", {}).items():
            lines.append(f"- `{name}`: {count} values that are not (finite) numbers read as "
                         "missing" + (" (--numeric)" if name in self.read_as["numeric"] else ""))
        for name, (count, rows, value) in report.get("missing", {}).items():
            lines.append(f"- `{name}`: {count} of {rows} training values missing, imputed with "
                         f"{value}")
        for name in report.get("codes", []):
            lines.append(f"- `{name}` holds whole numbers that look like codes: read as "
                         f"categories; --numeric {name} reads them as numbers")
        for name in report.get("dates", []):
            lines.append(f"- `{name}` holds dates: the model sees their days since 1970")
        for name in report.get("identifiers", []):
            lines.append(f"- `{name}` looks like an identifier (every value distinct) and was "
                         "left out; name it in --features to use it")
        for name in report.get("empty", []):
            lines.append(f"- `{name}` has no values and was left out")
        for name in report.get("constant", []):
            lines.append(f"- `{name}` has one value in every training row and was left out")
        return lines


def _class_sort_key(label):
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


# -- a saved state, checked (see _state.py) --------------------------------------------------
TASKS = ("classification", "regression")
_NUMBER_ENTRIES = ("median", "mean", "std", "indicator")
_COLUMN_ENTRIES = {"numeric": _NUMBER_ENTRIES, "date": _NUMBER_ENTRIES,
                   "onehot": ("categories", "mode"), "embedded": ("categories", "mode")}
_CATEGORY_OPTIONS = ("numbers",)


def checked_state(state):
    """``state`` if every entry can work, else PreprocessingStateError naming the first that
    cannot."""
    what = "the saved table preprocessing"
    saved = StateReader(state, what, ("target", "task", "columns"),
                        ("classes", "target_mean", "target_std", "report", "read_as"))
    saved.text("target")
    if saved.text("task", TASKS) == "classification":
        saved.texts("classes", least=1)
    else:
        saved.number("target_mean", default=0.0)
        saved.number("target_std", positive=True, default=1.0)
    columns = saved.state["columns"]
    if not isinstance(columns, (list, tuple)) or not columns:
        saved.fail("has no input columns; it should list at least one")
    for index, column in enumerate(columns):
        _check_column(column, f"{what}'s column {index + 1}")
    names = [column["name"] for column in columns]
    if len(set(names)) != len(names):
        saved.fail("names a column twice")
    kinds = [column["kind"] for column in columns]
    if "embedded" in kinds and set(kinds[kinds.index("embedded"):]) != {"embedded"}:
        saved.fail("has embedded columns before others; their codes must come last")
    _check_report(StateReader(saved.mapping("report", default={}), f"{what}'s report", (),
                              ("missing", "unusable", *_REPORT_LISTS)))
    read_as = StateReader(saved.mapping("read_as", default={}), f"{what}'s read_as", (),
                          ("categorical", "numeric"))
    for how in ("categorical", "numeric"):
        if how in read_as.state:
            read_as.texts(how)
    return state


def _check_column(column, what):
    every_entry = {entry for entries in _COLUMN_ENTRIES.values() for entry in entries}
    saved = StateReader(column, what, ("name", "kind"), (*every_entry, *_CATEGORY_OPTIONS))
    saved.text("name")
    kind = saved.text("kind", tuple(_COLUMN_ENTRIES))
    options = () if kind in ("numeric", "date") else _CATEGORY_OPTIONS
    saved = StateReader(column, what, ("name", "kind", *_COLUMN_ENTRIES[kind]), options)
    if kind in ("numeric", "date"):
        for key in ("median", "mean"):
            saved.number(key)
        saved.number("std", positive=True)
        saved.flag("indicator")
    else:
        saved.texts("categories")
        saved.text("mode")
        if "numbers" in column:
            saved.flag("numbers")


def _check_report(report):
    for key in _REPORT_LISTS:
        if key in report.state:
            report.texts(key, distinct=False)
    for name, entry in report.mapping("missing", default={}).items():
        if not (isinstance(name, str) and isinstance(entry, (list, tuple)) and len(entry) == 3
                and all(is_int(v) for v in entry[:2]) and isinstance(entry[2], str)):
            report.fail(f"has a malformed count of missing values for {name!r}")
    for name, count in report.mapping("unusable", default={}).items():
        if not (isinstance(name, str) and is_int(count) and count >= 0):
            report.fail(f"has a malformed count of unusable values for {name!r}")
