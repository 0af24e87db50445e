"""``save`` and ``load``: tensors in safetensors, everything else in its JSON metadata.

Unlike ``torch.save``, nothing is pickled, so loading a file can never run code. A file holds
one object: nested dicts, lists and tuples of tensors, NumPy arrays, numbers, strings, bools
and None (a state dict, an optimizer state, a training checkpoint), and a checksum of all its
bytes. Writes to a path are atomic (see ``io/files.py``). ``load`` decides a file's format from
its structure, reads only regular files no larger than memory, and raises ``CheckpointError``,
naming the file, for anything it cannot load: it never lets a damaged file through, and never
fails with an internal error on one.
"""

import json

from ._version import __version__
from .io import container, detect, files, tree
from .io.errors import CheckpointError
from .io.files import atomic_write_bytes

FORMAT = container.FORMAT
_PICKLE_HINT = (
    "chainrule never unpickles files, because unpickling can run arbitrary code. If this file "
    "came from torch.save, load it with PyTorch and re-save its state dict with "
    "safetensors.torch.save_file (or chainrule.save), then load that file."
)

__all__ = ["save", "load", "CheckpointError", "atomic_write_bytes"]


def serialize(obj):
    """The parts (byte strings) of the file that ``save(obj, ...)`` writes."""
    arrays = {}
    structure = tree.encode(obj, arrays)
    metadata = {"format": FORMAT, "chainrule_version": __version__,
                "structure": json.dumps(structure, separators=(",", ":"))}
    return container.encode(metadata, arrays)


def save(obj, f):
    """Write ``obj`` (e.g. a state dict) to a path or a binary file object.

    >>> chainrule.save(model.state_dict(), "model.safetensors")
    """
    parts = serialize(obj)
    if hasattr(f, "write"):
        for part in parts:
            f.write(part)
        return
    files.atomic_write(f, parts)


def load(f, map_location=None, weights_only=True, mmap=None):
    """Read an object written by ``save`` from a path or a binary file object.

    ``map_location`` and ``weights_only`` are accepted for PyTorch compatibility; loading never
    runs code whatever they say. Anything that is not a readable file written by ``save``
    raises ``CheckpointError`` naming the file (a missing path: ``FileNotFoundError``).
    """
    if hasattr(f, "read"):
        name = getattr(f, "name", None) or "<file object>"
        payload = files.read_stream(f, name)
    else:
        name = str(f)
        payload = files.read_regular_file(f)
    return deserialize(payload, name)


def deserialize(payload, name):
    """The object in the bytes of a file (``name`` is used in error messages)."""
    kind = detect.detect_format(payload)
    if kind in (detect.PICKLE, detect.TORCH_ZIP):
        raise CheckpointError(name, f"looks like a pickle or torch.save file. {_PICKLE_HINT}")
    if kind != detect.SAFETENSORS:
        raise CheckpointError(name, _unknown_format(payload))
    metadata, arrays = container.read(payload, name)
    try:
        structure = json.loads(metadata["structure"])
    except (KeyError, ValueError, RecursionError):
        raise CheckpointError(name, "is corrupt: its structure entry is missing or not JSON") \
            from None
    return tree.decode(structure, arrays, name)


def _unknown_format(payload):
    if len(payload) < 8:
        return f"is empty or truncated ({len(payload)} bytes)"
    length = detect.header_length(payload)
    if length > len(payload) - 8:
        return (f"is truncated or not a chainrule file: its header claims {length:,} bytes but "
                f"only {len(payload) - 8:,} follow")
    return "is not a chainrule file (no safetensors header, pickle or zip signature)"
