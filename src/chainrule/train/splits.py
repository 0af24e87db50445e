"""Splitting rows into training, validation and test sets: fixed (the same on every machine
and for every --seed), and stratified by class when there are classes, so that a class of 1 in
500 still appears in every split that it can."""

import numpy as np

SPLIT_SEED = 20261123  # fixed, so the held-out sets do not move with --seed
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1


def _shares(count):
    """(train, val, test) row counts for ``count`` rows: every split gets a row when it can,
    training first."""
    test = max(round(count * TEST_FRACTION), 1) if count >= 2 else 0
    val = max(round(count * VALIDATION_FRACTION), 1) if count >= 3 else 0
    return count - test - val, val, test


def split_rows(count, labels=None, source=None, unit="rows", names=None):
    """Index arrays {'train', 'val', 'test'} over ``count`` rows, stratified by ``labels``
    (int array) when given. When ``source`` is given, a split left empty (too few rows) is
    an error naming it and how many ``unit`` a class needs."""
    rows = _split(count, labels)
    if source is not None and not all(len(rows[name]) for name in rows):
        per_class = " per class" if labels is not None else ""
        raise ValueError(
            f"{source} has {count} {unit}: too few to hold out validation and test {unit} "
            f"(each class needs 3 or more; counts{per_class}: "
            f"{_counts(count, labels, names)}); add {unit} or merge the rarest classes")
    return rows


def _counts(count, labels, names):
    """'12' or "'cat' 2, 'dog' 5" (the ten rarest classes), for messages."""
    if labels is None:
        return str(count)
    values, counts = np.unique(labels, return_counts=True)
    order = np.argsort(counts, kind="stable")[:10]
    return ", ".join(f"{names[values[k]] if names else values[k]!r} {counts[k]}"
                     for k in order) + (" ..." if len(values) > 10 else "")


def _split(count, labels):
    rng = np.random.default_rng(SPLIT_SEED)
    groups = [np.arange(count)] if labels is None else \
        [np.flatnonzero(labels == k) for k in np.unique(labels)]
    parts = {"train": [], "val": [], "test": []}
    for rows in groups:
        rows = rng.permutation(rows)
        n_train, n_val, _ = _shares(len(rows))
        parts["train"].append(rows[:n_train])
        parts["val"].append(rows[n_train:n_train + n_val])
        parts["test"].append(rows[n_train + n_val:])
    return {name: np.sort(np.concatenate(chunks)).astype(np.int64)
            for name, chunks in parts.items()}
