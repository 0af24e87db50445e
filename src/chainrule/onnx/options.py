"""A step's options, walked: the sizes (SymInts) and arrays among them, which dims the sizes
were read from changed between the two runs, and where two runs' options differ."""

import numpy as np

from ..tensor import Tensor
from .sizes import SymInt


def sizes_in(options):
    """The SymInts among a step's options (nested tuples, lists, dicts and slices)."""
    stack, found = [options], []
    while stack:
        item = stack.pop()
        if isinstance(item, SymInt):
            found.append(item)
        elif isinstance(item, dict):
            stack += list(item.values())
        elif isinstance(item, (tuple, list)):
            stack += list(item)
        elif isinstance(item, slice):
            stack += [item.start, item.stop, item.step]
    return found


def arrays_in(options):
    """The NumPy arrays among a step's options (at the top level or in tuples and lists)."""
    stack, found = list(options.values()), []
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack += list(item)
    return found


def pair_sizes(a, b, dynamic):
    """Walk the options of a step and its twin together, noting for each dim a SymInt was read
    from whether it changed between the runs."""
    if isinstance(a, SymInt) and isinstance(b, SymInt):
        for (_, t, axis), (_, _, _), x, y in _paired_leaves(a, b):
            dynamic[(t, axis)] = dynamic.get((t, axis), False) or x != y
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() & b.keys():
            pair_sizes(a[key], b[key], dynamic)
    elif isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        for x, y in zip(a, b):
            pair_sizes(x, y, dynamic)
    elif isinstance(a, slice) and isinstance(b, slice):
        for x, y in ((a.start, b.start), (a.stop, b.stop), (a.step, b.step)):
            pair_sizes(x, y, dynamic)


def _paired_leaves(a, b):
    """(leaf of a, leaf of b, size of a's leaf, size of b's leaf) for two SymInts computed the
    same way."""
    ra, rb = a.record, b.record
    if ra[0] == "dim" and rb[0] == "dim":
        return [(ra, rb, int(a), int(b))]
    if ra[0] != rb[0] or len(ra) != len(rb):
        return []
    pairs = []
    for x, y in zip(ra[1:], rb[1:]):
        if isinstance(x, SymInt) and isinstance(y, SymInt):
            pairs += _paired_leaves(x, y)
    return pairs


def differences(a, b, path=(), depth=0):
    """(path, a's value, b's value) for each place where two option trees differ; tensors are
    inputs and are checked as such."""
    if depth > 20 or isinstance(a, Tensor) or isinstance(b, Tensor) or (
            callable(a) and callable(b)):  # tensors are inputs; code is not an option value
        return []
    if isinstance(a, int) and isinstance(b, int):  # SymInts included
        return [] if int(a) == int(b) else [(path, a, b)]
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in a if key in b
                for d in differences(a[key], b[key], path + (key,), depth + 1)]
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in differences(x, y, path + (i,), depth + 1)]
    if isinstance(a, slice) and isinstance(b, slice):
        return differences((a.start, a.stop, a.step), (b.start, b.stop, b.step), path,
                            depth + 1)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        same = (np.shape(a) == np.shape(b)
                and np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
        return [] if same else [(path, a, b)]
    if hasattr(a, "__dict__") and type(a) is type(b) and not callable(a):
        return differences(vars(a), vars(b), path, depth + 1)
    try:
        same = bool(a == b) or (a != a and b != b)
    except (TypeError, ValueError):
        same = True
    return [] if same else [(path, a, b)]
