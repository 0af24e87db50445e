"""``save`` and ``load``: tensors in safetensors, everything else in its JSON metadata.

Unlike ``torch.save``, nothing is pickled, so loading a file can never run code. A file holds
one object: nested dicts, lists and tuples of tensors, NumPy arrays, numbers, strings, bools
and None (a state dict, an optimizer state, a training checkpoint). Writes to a path are atomic:
the data goes to a temporary file beside the target, is flushed to disk, and then renamed over
it, so a crash at any instant leaves either the old file or the new one, never a torn one.
"""

import json
import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

from ._version import __version__
from .tensor import Tensor

FORMAT = "chainrule.v1"
_PICKLE_HINT = (
    "chainrule never unpickles files, because unpickling can run arbitrary code. If this file "
    "came from torch.save, load it with PyTorch and re-save its state dict with "
    "safetensors.torch.save_file (or chainrule.save), then load that file."
)


class CheckpointError(RuntimeError):
    """A file that is not a readable chainrule file (corrupt, truncated or foreign)."""


def _contiguous(array):
    # np.ascontiguousarray would turn a 0-d array into shape (1,)
    return array if array.flags.c_contiguous else array.copy(order="C")


# -- encoding ---------------------------------------------------------------------------------
def _encode(obj, arrays):
    """A JSON-able tree for ``obj``; tensors and arrays move into ``arrays`` under a key."""
    if isinstance(obj, Tensor):
        key = f"t{len(arrays)}"
        arrays[key] = _contiguous(obj._data)
        return {"__tensor__": key, "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, np.ndarray):
        key = f"t{len(arrays)}"
        arrays[key] = _contiguous(obj)
        return {"__ndarray__": key}
    if isinstance(obj, (bool, str, type(None))):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return {"__float__": repr(float(obj))}  # repr round-trips every float, inf and nan too
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    raise TypeError(
        f"chainrule.save cannot store an object of type {type(obj).__name__}: it stores nested "
        "dicts, lists and tuples of tensors, arrays, numbers, strings, bools and None. Save a "
        "state_dict() rather than a module or optimizer object."
    )


def _decode(node, arrays):
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        tensor = Tensor._from_array(arrays[node["__tensor__"]])
        if node.get("requires_grad"):
            tensor.requires_grad_()
        return tensor
    if "__ndarray__" in node:
        return arrays[node["__ndarray__"]]
    if "__float__" in node:
        return float(node["__float__"])
    if "__tuple__" in node:
        return tuple(_decode(v, arrays) for v in node["__tuple__"])
    if "__dict__" in node:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["__dict__"]}
    raise CheckpointError(f"unknown entry in the file's structure: {sorted(node)}")


def _serialize(obj):
    from safetensors.numpy import save as safetensors_save

    arrays = {}
    structure = _encode(obj, arrays)
    metadata = {
        "format": FORMAT,
        "chainrule_version": __version__,
        "structure": json.dumps(structure, separators=(",", ":")),
        "crc32": str(_checksum(arrays)),
    }
    return safetensors_save(arrays, metadata=metadata)


def _checksum(arrays):
    """CRC-32 over every array's bytes in key order: safetensors itself has no checksum, and
    a flipped bit in tensor data must not load silently."""
    crc = 0
    for key in sorted(arrays):
        crc = zlib.crc32(memoryview(_contiguous(arrays[key]).reshape(-1)).cast("B"), crc)
    return crc


# -- writing ----------------------------------------------------------------------------------
def save(obj, f):
    """Write ``obj`` (e.g. a state dict) to a path or a binary file object.

    >>> chainrule.save(model.state_dict(), "model.safetensors")
    """
    payload = _serialize(obj)
    if hasattr(f, "write"):
        f.write(payload)
        return
    atomic_write_bytes(Path(f), payload)


def atomic_write_bytes(path, payload):
    """Write ``payload`` to ``path`` so that a crash leaves the old file or the new one."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: the directory {directory} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            raise OSError(
                error.errno,
                f"could not write {path}: {error.strerror}; any previous version of the file is "
                "intact",
            ) from error
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    # The rename is durable only once the directory entry itself reaches the disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading ----------------------------------------------------------------------------------
def load(f, map_location=None, weights_only=True, mmap=None):
    """Read an object written by ``save`` from a path or a binary file object.

    ``map_location`` and ``weights_only`` are accepted for PyTorch compatibility; loading never
    runs code whatever they say.
    """
    name = getattr(f, "name", None) or str(f)
    if hasattr(f, "read"):
        payload = f.read()
    else:
        path = Path(f)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory; pass the path of a saved file")
        payload = path.read_bytes()
    return _deserialize(payload, name)


def _deserialize(payload, name):
    from safetensors.numpy import load as safetensors_load

    if payload[:1] == b"\x80" or payload[:2] == b"PK":
        raise CheckpointError(f"{name} looks like a pickle or torch.save file. {_PICKLE_HINT}")
    header = _read_header(payload, name)
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != FORMAT:
        raise CheckpointError(
            f"{name} is a safetensors file but not one written by chainrule.save (no "
            f"'{FORMAT}' marker). To read plain safetensors tensors, use "
            "safetensors.numpy.load_file and chainrule.from_numpy."
        )
    try:
        arrays = safetensors_load(payload)
        structure = json.loads(metadata["structure"])
    except Exception as error:  # any failure here means the bytes are damaged
        raise CheckpointError(f"{name} is corrupt: {error}") from None
    if metadata.get("crc32") != str(_checksum(arrays)):
        raise CheckpointError(f"{name} is corrupt: its tensor data does not match its checksum")
    return _decode(structure, arrays)


def _read_header(payload, name):
    if len(payload) < 8:
        raise CheckpointError(f"{name} is empty or truncated ({len(payload)} bytes)")
    (length,) = struct.unpack("<Q", payload[:8])
    if length > len(payload) - 8:
        raise CheckpointError(
            f"{name} is truncated or not a chainrule file: its header claims {length} bytes but "
            f"only {len(payload) - 8} follow"
        )
    try:
        header = json.loads(payload[8:8 + length])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{name} is not a chainrule file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name} is not a chainrule file (unexpected header)")
    end = max((v["data_offsets"][1] for k, v in header.items()
               if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v), default=0)
    if 8 + length + end != len(payload):
        raise CheckpointError(
            f"{name} is truncated or has trailing bytes: expected {8 + length + end} bytes, "
            f"found {len(payload)}"
        )
    return header
