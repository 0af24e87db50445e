"""From per-input attributions to what a person reads: attributions per source column (a
table's categorical column is spread over several model inputs), and a global ranking of
features by mean attribution magnitude over a sample.

>>> names, grouped = group_columns(np.array([[1.0, 2.0, 3.0]]), ["age", "colour", "colour"])
>>> names, grouped.tolist()
(['age', 'colour'], [[1.0, 5.0]])
>>> global_ranking(np.array([[1.0, -4.0], [-3.0, 2.0]]), ["a", "b"])
[('b', 3.0), ('a', 2.0)]
"""

import numpy as np

__all__ = ["group_columns", "global_ranking", "top_overlap"]


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
