"""``repr(tensor)``, laid out as PyTorch prints it, so that printed values read the same.

Floats are printed in one of three styles chosen from the nonzero finite values: whole numbers
as ``1.``; otherwise 4 decimals (``1.5000``); scientific (``1.0000e-05``) when they span more
than three orders of magnitude, exceed 1e8 or fall below 1e-4. Columns are right-aligned; big
tensors show their first and last 3 entries per dimension around ``...``."""

import numpy as np

from . import _dtypes

PRECISION = 4
THRESHOLD = 1000  # more elements than this are summarized
EDGE_ITEMS = 3
LINE_WIDTH = 80
SCI_MODE = None  # None: scientific when the values ask for it; True / False: always / never

_IMPLICIT_DTYPES = {np.dtype(np.int64), np.dtype(np.bool_)}  # and the default float dtype


class _Formatter:
    """Formats single values of one tensor in a common style and width."""

    def __init__(self, values):
        self.is_float = values.dtype.kind == "f" or values.dtype.name == "bfloat16"
        self.style = "whole"
        self.width = 1
        if not self.is_float:
            self.width = max(len(str(v)) for v in values.ravel().tolist())
            return
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        low, high = magnitudes.min(), magnitudes.max()
        whole = bool(np.all(finite == np.ceil(finite)))
        wide_range = high / low > 1000.0 or high > 1.0e8
        if SCI_MODE is not None:  # (set_printoptions(sci_mode=...))
            self.style = "sci" if SCI_MODE else ("whole" if whole else "fixed")
        elif whole:
            self.style = "sci" if wide_range else "whole"
        else:
            self.style = "sci" if wide_range or low < 1.0e-4 else "fixed"
        extra = 1 if self.style == "whole" else 0  # the trailing "." of whole numbers
        self.width = max(len(self._text(v)) + extra for v in finite.tolist())

    def _text(self, value):
        if self.style == "sci":
            return f"{value:.{PRECISION}e}"
        if self.style == "fixed":
            return f"{value:.{PRECISION}f}"
        return f"{value:.0f}"

    def __call__(self, value):
        if not self.is_float:
            text = str(value)
        else:
            text = self._text(value)
            if self.style == "whole" and np.isfinite(value):
                text += "."
        return text.rjust(self.width)


def _edges(array):
    """The entries that a summarized print shows (for choosing the format)."""
    for axis, size in enumerate(array.shape):
        if size > 2 * EDGE_ITEMS:
            keep = np.r_[0:EDGE_ITEMS, size - EDGE_ITEMS:size]
            array = np.take(array, keep, axis=axis)
    return array


def _vector(array, indent, summarize, fmt):
    per_line = max(1, (LINE_WIDTH - indent) // (fmt.width + 2))
    if summarize and array.shape[0] > 2 * EDGE_ITEMS:
        items = [fmt(v) for v in array[:EDGE_ITEMS].tolist()] + [" ..."]
        items += [fmt(v) for v in array[-EDGE_ITEMS:].tolist()]
    else:
        items = [fmt(v) for v in array.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(array, indent, summarize, fmt):
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _vector(array, indent, summarize, fmt)
    rows = range(array.shape[0])
    if summarize and array.shape[0] > 2 * EDGE_ITEMS:
        head = [_nested(array[i], indent + 1, summarize, fmt) for i in rows[:EDGE_ITEMS]]
        tail = [_nested(array[i], indent + 1, summarize, fmt) for i in rows[-EDGE_ITEMS:]]
        parts = head + ["..."] + tail
    else:
        parts = [_nested(array[i], indent + 1, summarize, fmt) for i in rows]
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _join_suffixes(text, suffixes, indent):
    """Append ``, dtype=...`` and friends, wrapping to a new line when the last one is full."""
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > LINE_WIDTH:
            text += ",\n" + " " * indent + suffix
            last_line = indent + len(suffix)
        else:
            text += ", " + suffix
            last_line += len(suffix) + 2
    return text + ")"


def format_tensor(tensor):
    """PyTorch-style ``repr``: ``tensor([1., 2.], requires_grad=True)``."""
    array = tensor._data
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if array.size == 0:
        body = "[]"
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
    else:
        summarize = array.size > THRESHOLD
        fmt = _Formatter(_edges(array) if summarize else array)
        body = _nested(array, indent, summarize, fmt)
    # as PyTorch: the default float dtype (float32 unless set_default_dtype changed it), int64
    # and bool go unsaid; an empty tensor shows no values to tell ints from floats, so any
    # dtype but the default float one shows
    default_float = _dtypes.default_float()
    if array.size == 0 and array.dtype != default_float or (
            array.dtype != default_float and array.dtype not in _IMPLICIT_DTYPES):
        suffixes.append(f"dtype={tensor.dtype!r}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _join_suffixes(prefix + body, suffixes, indent)
