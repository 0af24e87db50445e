"""The preprocessing of a table, fitted on the training rows and saved with the model.

``TablePreprocessor.transform`` turns raw rows into the model's input matrix, and
``input_names`` / ``input_columns`` say which table column each input column came from, so
that explanations can be read in the table's own terms:

    numeric column     ->  its standardised value (a missing value takes the training median),
                           plus a 0/1 "missing" column when training rows lacked values
    text, <= 10 levels ->  one 0/1 column per category (an unseen category: all zeros)
    text, more levels  ->  one column holding the category's code, 1..K (0: unseen), which
                           the ``tabular`` model embeds; these columns come last
"""

import re

import numpy as np

from ._state import StateReader, is_int

__all__ = ["TablePreprocessor", "infer_task", "ONE_HOT_MAX_LEVELS"]

ONE_HOT_MAX_LEVELS = 10
MAX_INTEGER_CLASSES = 20  # an integer target with at most this many values is a class label
_ID_NAME = re.compile(r"(^|[\s_.-])(id|uuid|guid|index)$|^(unnamed.*|column_1|row)$", re.I)
_MIN_ROWS_FOR_ID = 20  # in smaller tables, all-distinct values are no evidence


def class_label(cell):
    """A class label as text: 1 and 1.0 are the same class."""
    try:
        number = float(cell)
    except ValueError:
        return cell
    return str(int(number)) if number.is_integer() else cell


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
    if np.all(distinct == np.round(distinct)) and len(distinct) <= MAX_INTEGER_CLASSES:
        return "classification", f"target {target!r} has {len(distinct)} distinct integers"
    return "regression", f"target {target!r} holds real numbers"


def looks_like_identifier(table, name):
    """Whether a column is an identifier: every value distinct, and text, or whole numbers that
    count up one by one, or whole numbers under a name such as id or customer_id."""
    cells = table.text(name)
    if len(cells) < _MIN_ROWS_FOR_ID or None in cells or len(set(cells)) < len(cells):
        return False
    if table.kind(name) == "text":
        return True
    values = np.sort(table.numeric(name))
    if not np.all(values == np.round(values)):
        return False
    return bool(_ID_NAME.search(name.strip())) or bool(np.all(np.diff(values) == 1))


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

    # -- fitting --------------------------------------------------------------------------------
    @classmethod
    def fit(cls, table, target, rows, task, features=None, drop=()):
        """Fit on ``table``'s rows ``rows`` (the training split): the columns are ``features``
        (all but the target and ``drop`` when None), identifier-like columns are left out unless
        named in ``features``."""
        table.cells(target)
        for name in list(features or []) + list(drop):
            table.cells(name)  # an unknown name is an error listing the columns
        if features and target in features:
            raise ValueError(f"--features names the target column {target!r}; leave it out")
        chosen = list(features) if features else [n for n in table.names
                                                   if n != target and n not in drop]
        report = {"missing": {}, "identifiers": [], "empty": []}
        columns = []
        train = table.take(rows)
        for name in chosen:
            kind = table.kind(name)
            if kind == "empty":
                report["empty"].append(name)
            elif not features and looks_like_identifier(table, name):
                report["identifiers"].append(name)
            elif kind == "numeric":
                columns.append(_fit_numeric(train, name, report))
            else:
                columns.append(_fit_text(train, name, report))
        if not columns:
            raise ValueError(f"{table.source}: no input columns are left besides the target "
                             f"{target!r}; check --features and --drop")
        columns.sort(key=lambda c: c["kind"] == "embedded")  # embedded codes go last
        state = {"target": target, "task": task, "columns": columns, "report": report}
        if task == "classification":
            labels = [class_label(c) for c in train.text(target) if c is not None]
            state["classes"] = sorted(set(labels), key=_class_sort_key)
        else:
            values = train.numeric(target)
            state["target_mean"] = float(np.nanmean(values))
            state["target_std"] = float(np.nanstd(values)) or 1.0
        return cls(state)

    def state_dict(self):
        state = {"target": self.target, "task": self.task, "columns": self.columns,
                 "report": self.report}
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
            names += _input_names(column)
        return names

    @property
    def input_columns(self):
        """For each model input column, the table column it came from."""
        return [c["name"] for c in self.columns for _ in _input_names(c)]

    @property
    def num_numeric_inputs(self):
        """Input columns before the embedded codes (numeric, indicators and one-hot)."""
        return sum(len(_input_names(c)) for c in self.columns if c["kind"] != "embedded")

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
        blocks, notes = [], []
        for column in self.columns:
            if column["kind"] == "numeric":
                blocks.append(_numeric_inputs(table, column, notes))
            else:
                blocks.append(_category_inputs(table, column, notes))
        return np.concatenate(blocks, axis=1).astype(np.float32), notes

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
                 f"{kinds.count('embedded')} categorical embedded; {len(self.input_names)} model "
                 "inputs"]
        for name, (count, rows, value) in self.report.get("missing", {}).items():
            lines.append(f"- `{name}`: {count} of {rows} training values missing, imputed with "
                         f"{value}")
        for name in self.report.get("identifiers", []):
            lines.append(f"- `{name}` looks like an identifier (every value distinct) and was "
                         "left out; name it in --features to use it")
        for name in self.report.get("empty", []):
            lines.append(f"- `{name}` has no values and was left out")
        return lines


def _class_sort_key(label):
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def _fit_numeric(train, name, report):
    values = train.numeric(name)
    present = values[~np.isnan(values)]
    median = float(np.median(present)) if present.size else 0.0
    filled = np.where(np.isnan(values), median, values)
    missing = int(np.isnan(values).sum())
    if missing:
        report["missing"][name] = (missing, len(values), f"the median {median:.4g}")
    return {"name": name, "kind": "numeric", "median": median, "mean": float(filled.mean()),
            "std": float(filled.std()) or 1.0, "indicator": bool(missing)}


def _fit_text(train, name, report):
    cells = train.text(name)
    present = [c for c in cells if c is not None]
    categories, counts = np.unique(present, return_counts=True) if present else ([], [])
    mode = str(categories[int(np.argmax(counts))]) if present else ""
    if len(present) < len(cells):
        report["missing"][name] = (len(cells) - len(present), len(cells),
                                   f"the most frequent category {mode!r}")
    kind = "onehot" if len(categories) <= ONE_HOT_MAX_LEVELS else "embedded"
    return {"name": name, "kind": kind, "categories": [str(c) for c in categories],
            "mode": mode}


def _input_names(column):
    name = column["name"]
    if column["kind"] == "numeric":
        return [name] + ([f"{name} (missing)"] if column["indicator"] else [])
    if column["kind"] == "onehot":
        return [f"{name}={category}" for category in column["categories"]]
    return [f"{name} (code)"]


def _numeric_inputs(table, column, notes):
    name = column["name"]
    if table.kind(name) == "text":
        raise ValueError(f"{table.source}: column {name!r} holds text, but the model was trained "
                         "on numbers in it")
    values = table.numeric(name)
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
    cells = [column["mode"] if c is None else c for c in table.text(name)]
    codes = {category: i + 1 for i, category in enumerate(column["categories"])}
    index = np.array([codes.get(c, 0) for c in cells], dtype=np.int64)
    unseen = int((index == 0).sum())
    if unseen:
        notes.append(f"{unseen} values of {name!r} are categories not seen in training "
                     "(treated as unknown)")
    if column["kind"] == "embedded":
        return index[:, None].astype(np.float64)
    return np.eye(len(codes) + 1)[index][:, 1:]


# -- a saved state, checked (see _state.py) --------------------------------------------------
TASKS = ("classification", "regression")
_COLUMN_ENTRIES = {"numeric": ("median", "mean", "std", "indicator"),
                   "onehot": ("categories", "mode"), "embedded": ("categories", "mode")}


def checked_state(state):
    """``state`` if every entry can work, else PreprocessingStateError naming the first that
    cannot."""
    what = "the saved table preprocessing"
    saved = StateReader(state, what, ("target", "task", "columns"),
                        ("classes", "target_mean", "target_std", "report"))
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
                              ("missing", "identifiers", "empty")))
    return state


def _check_column(column, what):
    every_entry = {entry for entries in _COLUMN_ENTRIES.values() for entry in entries}
    saved = StateReader(column, what, ("name", "kind"), every_entry)
    saved.text("name")
    kind = saved.text("kind", tuple(_COLUMN_ENTRIES))
    saved = StateReader(column, what, ("name", "kind", *_COLUMN_ENTRIES[kind]))  # its own only
    if kind == "numeric":
        for key in ("median", "mean"):
            saved.number(key)
        saved.number("std", positive=True)
        saved.flag("indicator")
    else:
        saved.texts("categories")
        saved.text("mode")


def _check_report(report):
    for key in ("identifiers", "empty"):
        if key in report.state:
            report.texts(key, distinct=False)
    for name, entry in report.mapping("missing", default={}).items():
        if not (isinstance(name, str) and isinstance(entry, (list, tuple)) and len(entry) == 3
                and all(is_int(v) for v in entry[:2]) and isinstance(entry[2], str)):
            report.fail(f"has a malformed count of missing values for {name!r}")
