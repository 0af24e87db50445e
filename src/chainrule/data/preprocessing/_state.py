"""Checking a preprocessor's saved state before it is used.

The state comes from a checkpoint, which may be damaged or forged, so ``from_state`` trusts
none of it: each entry is checked for its type, range and agreement with the others, and the
first that fails raises ``PreprocessingStateError`` naming the entry and what it should be.
The checks here are the vocabulary; each preprocessor states which entries it needs."""

import math
import numbers

import numpy as np

__all__ = ["PreprocessingStateError", "StateReader"]


class PreprocessingStateError(ValueError):
    """Saved preprocessing that cannot be used: an entry missing, of the wrong type, out of
    range, or disagreeing with another."""


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class StateReader:
    """Reads the entries of one saved state (a dict), each through a check; ``what`` names
    the state in messages (e.g. "the saved table preprocessing")."""

    def __init__(self, state, what, required=(), optional=()):
        self.what = what
        if not isinstance(state, dict):
            self.fail(f"should be a mapping of its entries, not {type(state).__name__}")
        missing = [key for key in required if key not in state]
        unknown = [str(key) for key in state if key not in (*required, *optional)]
        if missing:
            self.fail(f"lacks the entries {', '.join(map(repr, missing))}")
        if unknown:
            self.fail(f"has unknown entries {', '.join(map(repr, unknown))}")
        self.state = state

    def fail(self, problem):
        raise PreprocessingStateError(f"{self.what} {problem}")

    def _entry(self, key, ok, expected, default):
        value = self.state.get(key, default)
        if not ok(value):
            self.fail(f"has {key!r} = {_shown(value)}; it should be {expected}")
        return value

    def integer(self, key, least, most=None, default=None):
        bound = f" from {least} to {most}" if most is not None else f" of at least {least}"
        return int(self._entry(
            key, lambda v: is_int(v) and v >= least and (most is None or v <= most),
            "an integer" + bound, default))

    def number(self, key, positive=False, default=None):
        return float(self._entry(
            key, lambda v: is_number(v) and math.isfinite(v) and (v > 0 or not positive),
            "a positive finite number" if positive else "a finite number", default))

    def text(self, key, choices=None, default=None):
        expected = f"one of {', '.join(map(repr, choices))}" if choices else "a string"
        return self._entry(key, lambda v: isinstance(v, str) and (not choices or v in choices),
                           expected, default)

    def flag(self, key):
        return self._entry(key, lambda v: isinstance(v, bool), "true or false", None)

    def texts(self, key, least=0, distinct=True):
        """A list of strings (at least ``least``), distinct unless told otherwise."""
        expected = f"a list of {'distinct ' if distinct else ''}strings"
        expected += f", at least {least}" if least else ""
        return list(self._entry(
            key, lambda v: isinstance(v, (list, tuple)) and len(v) >= least
            and all(isinstance(s, str) for s in v) and (not distinct or len(set(v)) == len(v)),
            expected, None))

    def array(self, key, shapes):
        """A finite float32 array whose shape is one of ``shapes``."""
        value = self.state.get(key)
        try:
            array = np.asarray(value, dtype=np.float32) if _is_numeric(value) else None
        except (TypeError, ValueError):
            array = None
        wanted = " or ".join(str(tuple(s)) for s in shapes)
        if array is None or tuple(array.shape) not in {tuple(s) for s in shapes} \
                or not np.isfinite(array).all():
            shape = "" if array is None else f" of shape {tuple(array.shape)}"
            self.fail(f"has {key!r} = {type(value).__name__}{shape}; it should be finite numbers "
                      f"of shape {wanted}")
        return array

    def mapping(self, key, default=None):
        return self._entry(key, lambda v: isinstance(v, dict), "a mapping", default)


def _is_numeric(value):
    """An ndarray of numbers, or a (nested) list of numbers: never text or objects, which
    NumPy would convert (or fail to) in surprising ways."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    if isinstance(value, (list, tuple)):
        return all(_is_numeric(v) for v in value)
    return is_number(value)
