"""Plain data that training scripts put in checkpoints beside tensors, which ``torch.load(f,
weights_only=False)`` rebuilds in PyTorch (it unpickles anything) and chainrule rebuilds too:
NumPy arrays, scalars and dtypes (``np.random.get_state()``, a ``best_acc`` that is a
``np.float64``, a data array saved with ``torch.save``), ``argparse.Namespace`` (the run's
arguments), ``defaultdict``, ``deque``, ``datetime`` values, ``pathlib`` paths, ``range`` and
``slice``.

Each of these only stores the values the file gives it: making one runs no code named by the
file, so allowing them keeps chainrule's promise that loading never runs the file's code. An
object array's elements and a defaultdict's factory are globals of their own, which pass the
same policy. With ``weights_only=True`` (PyTorch's default) they stay refused, as in PyTorch,
unless the user allows them with ``add_safe_globals``.
"""

import argparse
import collections
import datetime
import pathlib

import numpy as np
import numpy._core.multiarray as _multiarray

from .unpickler import Refused


def _reconstruct(subtype, shape, dtype_code):
    # pickle writes _reconstruct(np.ndarray, (0,), b"b") and then BUILDs the real contents;
    # a subclass (np.matrix, np.memmap) would run its own code, so only ndarray itself
    if subtype is not np.ndarray:
        raise Refused("numpy's _reconstruct is allowed only to make a plain numpy.ndarray")
    return _multiarray._reconstruct(np.ndarray, shape, dtype_code)


def _dtype(*args):
    return np.dtype(*args)


def _scalar(dtype, *payload):
    if not isinstance(dtype, np.dtype):
        raise Refused("numpy's scalar is rebuilt from a dtype and its bytes")
    return _multiarray.scalar(dtype, *payload)


_FACTORIES = (list, dict, set, int, float, str, tuple, bool, collections.OrderedDict,
              collections.Counter)


def _defaultdict(factory=None, *args):
    if factory is not None and factory not in _FACTORIES:
        raise Refused("a defaultdict in the file has a default factory other than a plain "
                      "container or number type")
    return collections.defaultdict(factory, *args)


def _path(cls):
    def make(*parts):
        if not all(isinstance(p, str) for p in parts):
            raise Refused(f"{cls.__name__} is rebuilt from strings")
        return cls(*parts)
    return make


def _names():
    """``module.name`` -> (object, the function that calling it means)."""
    names = {
        "numpy._core.multiarray._reconstruct": (_multiarray._reconstruct, _reconstruct),
        "numpy._core.multiarray.scalar": (_multiarray.scalar, _scalar),
        "numpy.ndarray": (np.ndarray, None),
        "numpy.dtype": (np.dtype, _dtype),
        "argparse.Namespace": (argparse.Namespace, None),
        "collections.defaultdict": (collections.defaultdict, _defaultdict),
        "collections.deque": (collections.deque, collections.deque),
        "builtins.range": (range, range),
        "builtins.slice": (slice, slice),
        # a defaultdict's usual factories
        "builtins.list": (list, None), "builtins.dict": (dict, None), "builtins.int": (int, None),
        "builtins.float": (float, None), "builtins.str": (str, None),
        "builtins.tuple": (tuple, None), "builtins.bool": (bool, None),
    }
    for kind in (datetime.datetime, datetime.date, datetime.time, datetime.timedelta,
                 datetime.timezone):
        names[f"datetime.{kind.__name__}"] = (kind, kind)
    for kind in (pathlib.PosixPath, pathlib.WindowsPath, pathlib.PurePosixPath,
                 pathlib.PureWindowsPath, pathlib.Path):
        names[f"pathlib.{kind.__name__}"] = (kind, _path(kind))
    # files written with NumPy 1.x name the same functions under numpy.core
    for short in ("_reconstruct", "scalar"):
        names[f"numpy.core.multiarray.{short}"] = names[f"numpy._core.multiarray.{short}"]
    return names


NAMES = _names()
_CALLS = {id(obj): call for obj, call in NAMES.values() if call is not None}


def plain_global(full):
    """The object ``full`` ("module.name") stands for when it is plain data, else None."""
    entry = NAMES.get(full)
    return None if entry is None else entry[0]


def call(func, args, opcode):
    """Make a plain value (REDUCE/NEWOBJ on one of ``NAMES``); None when ``func`` is not one."""
    if opcode.startswith("NEWOBJ") and func is argparse.Namespace and not args:
        return argparse.Namespace()
    make = _CALLS.get(id(func))
    if make is None or opcode.startswith("NEWOBJ"):
        return None
    return make(*args)


def build(target, state):
    """BUILD on a plain value; False when ``target`` is not one this module made."""
    kind = type(target)
    if kind is np.ndarray or isinstance(target, np.dtype):
        try:
            target.__setstate__(state)
        except (TypeError, ValueError) as error:
            raise Refused(f"the file's state for a numpy {kind.__name__} is not valid: "
                          f"{error}") from None
        return True
    if kind is argparse.Namespace:
        if not (isinstance(state, dict) and all(isinstance(k, str) for k in state)):
            raise Refused("an argparse.Namespace is rebuilt from a dict of names")
        target.__dict__.update(state)
        return True
    return False


def may_fill(target, kind):
    """Whether SETITEMS/APPENDS may fill ``target`` (a defaultdict's items, a deque's)."""
    return ((kind == "setitem" and type(target) is collections.defaultdict)
            or (kind == "append" and type(target) is collections.deque))
