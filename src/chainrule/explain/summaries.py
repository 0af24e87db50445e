"""From per-input attributions to what a person reads: attributions per source column (a
table's categorical column is spread over several model inputs), groups of near-duplicate
columns, and a global ranking of features by mean attribution magnitude over a sample.

>>> names, grouped = group_columns(np.array([[1.0, 2.0, 3.0]]), ["age", "colour", "colour"])
>>> names, grouped.tolist()
(['age', 'colour'], [[1.0, 5.0]])
>>> global_ranking(np.array([[1.0, -4.0], [-3.0, 2.0]]), ["a", "b"])
[('b', 3.0), ('a', 2.0)]
>>> radius = np.arange(20.0)
>>> correlated_groups(np.column_stack([radius, 2 * radius + 1, np.cos(radius)]),
...                   ["radius", "diameter", "texture"])
['radius / diameter', 'radius / diameter', 'texture']
"""

import numpy as np

__all__ = ["group_columns", "correlated_groups", "global_ranking", "top_overlap"]

# Columns this correlated are near-duplicates: |r| >= 0.9 means one explains >= 81% of the
# other's variance (a variance inflation factor of 5.3 for the pair, past the usual
# "problematic collinearity" mark of 5). See docs/explain.md, "Near-duplicate columns".
NEAR_DUPLICATE = 0.9
# Fewer rows than this and chance alone correlates columns that much: among 30 independent
# normal columns, 3 rows put all 30 in one group, 5 rows make 14 spurious merges, 10 rows 0.2
# (mean of 50 draws); from 15 rows on, none.
MIN_ROWS = 20


def group_columns(attributions, columns):
    """(column names in first-seen order, (samples, columns) sums of the attributions of the
    inputs that came from each column). ``columns`` names the source of each input."""
    attributions = np.asarray(attributions, dtype=np.float64)
    if attributions.shape[-1] != len(columns):
        raise ValueError(f"{attributions.shape[-1]} attributions per sample but {len(columns)} "
                         "column names")
    names = list(dict.fromkeys(columns))
    index = {name: i for i, name in enumerate(names)}
    grouped = np.zeros(attributions.shape[:-1] + (len(names),))
    for position, column in enumerate(columns):
        grouped[..., index[column]] += attributions[..., position]
    return names, grouped


def correlated_groups(values, names, threshold=NEAR_DUPLICATE):
    """For each of ``names``, the name of its group of near-duplicate columns: two columns of
    ``values`` (samples, columns) whose Pearson correlation has ``|r| >= threshold`` are in one
    group, and so are chains of such pairs (single linkage). A group is named by its members
    joined with " / ", a column without near-duplicates by itself; constant columns stay
    alone, and so does every column when there are fewer than ``MIN_ROWS`` (20) samples. Pass
    the labels to ``group_columns`` to sum attributions per group."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise ValueError(f"values of shape {values.shape} for {len(names)} column names: pass "
                         "(samples, columns)")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if len(values) < MIN_ROWS:
        return list(names)
    centred = values - values.mean(axis=0)
    norms = np.sqrt((centred ** 2).sum(axis=0))
    varying = norms > 1e-12 * np.maximum(np.abs(values).max(axis=0, initial=0), 1.0)
    unit = np.where(varying, centred / np.where(varying, norms, 1.0), 0.0)
    linked = np.abs(unit.T @ unit) >= threshold
    group = list(range(len(names)))  # each column's group, named by its first column
    for i, j in zip(*np.nonzero(np.triu(linked, 1))):
        merged, kept = max(group[i], group[j]), min(group[i], group[j])
        group = [kept if g == merged else g for g in group]
    members = {}
    for position, first in enumerate(group):
        members.setdefault(first, []).append(names[position])
    return [" / ".join(members[first]) for first in group]


def global_ranking(attributions, names):
    """[(name, mean |attribution|)] over the samples, most important first (ties keep the
    names' order)."""
    importance = np.abs(np.asarray(attributions, dtype=np.float64)).mean(axis=0)
    order = np.argsort(-importance, kind="stable")
    return [(names[i], float(importance[i])) for i in order]


def top_overlap(ranking_a, ranking_b, k=5):
    """How many of the top ``k`` names two rankings share."""
    top = lambda ranking: {name for name, _ in ranking[:k]}  # noqa: E731
    return len(top(ranking_a) & top(ranking_b))
