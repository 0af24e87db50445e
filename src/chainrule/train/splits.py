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


def split_rows(count, labels=None):
    """Index arrays {'train', 'val', 'test'} over ``count`` rows, stratified by ``labels``
    (int array) when given."""
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
