"""``save`` and ``load``: tensors in safetensors, everything else in its JSON metadata.

Unlike ``torch.save``, nothing is pickled, so loading a file can never run code. A file holds
one object: nested dicts, lists and tuples of tensors, NumPy arrays, numbers, strings, bools
and None (a state dict, an optimizer state, a training checkpoint). ``load`` also reads the
files of ``torch.save`` (``chainrule/io/``): through a restricted unpickler that builds only
tensors and plain data, with PyTorch's ``add_safe_globals``/``safe_globals`` for the user's
own trusted classes. Writes to a path are atomic:
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

from . import __version__
from .io.safe_globals import (  # noqa: F401 - torch.serialization's names
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)
from .tensor import Tensor

FORMAT = "chainrule.v1"


class CheckpointError(RuntimeError):
    """A file that is not a readable chainrule file (corrupt, truncated or foreign)."""


def _contiguous(array):
    # np.ascontiguousarray would turn a 0-d array into shape (1,)
    return array if array.flags.c_contiguous else array.copy(order="C")


# -- encoding ----------------------------------------------------------------------------------
def _tensor_key(path, arrays):
    """A tensor's safetensors name: its dotted path in the object (a state dict's own keys, so
    that ``safetensors.torch.load_file`` gives PyTorch a loadable state dict), made unique."""
    key = ".".join(str(part) for part in path) or "tensor"
    candidate, number = key, 1
    while candidate in arrays:
        candidate, number = f"{key}#{number}", number + 1
    return candidate


def _encode(obj, arrays, path=()):
    """A JSON-able tree for ``obj``; tensors and arrays move into ``arrays`` under a key."""
    if isinstance(obj, Tensor):
        key = _tensor_key(path, arrays)
        arrays[key] = _contiguous(obj._data)
        return {"__tensor__": key, "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, np.ndarray):
        key = _tensor_key(path, arrays)
        arrays[key] = _contiguous(obj)
        return {"__ndarray__": key}
    if isinstance(obj, (bool, str, type(None))):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return {"__float__": repr(float(obj))}  # repr round-trips every float, inf and nan too
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k, arrays, path + ("key",)), _encode(v, arrays, path + (k,))]
                             for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, path + (i,)) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, path + (i,)) for i, v in enumerate(obj)]
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
def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read an object from a path or a binary file object: a file of ``save``, or one of
    ``torch.save`` (zip or legacy layout; tensors and plain data only, see ``chainrule.io``).

    Loading never runs code from the file, whatever ``weights_only`` says: a PyTorch file may
    name only the globals that rebuild tensors, plus those allowed with ``add_safe_globals``.
    ``map_location`` is PyTorch's (everything lands on the CPU); ``mmap`` is accepted and the
    file is read into memory.

    >>> state = chainrule.load("model.pt", map_location="cpu")
    """
    if pickle_module is not None and getattr(pickle_module, "__name__", None) != "pickle":
        raise TypeError("load(pickle_module=...) is not supported: chainrule reads pickles "
                        "with its own restricted unpickler, which never runs code")
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args:
        raise TypeError(f"load() got unexpected keyword arguments {sorted(pickle_load_args)}")
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
    if _is_pytorch_file(payload):
        from .io.torch_file import read_torch_file

        return read_torch_file(payload, name, map_location, weights_only, encoding)
    return _deserialize(payload, name)


def _is_pytorch_file(payload):
    """A zip archive, or a pickle (protocol 2 and later open with PROTO): PyTorch's layouts.
    A safetensors file opens with its header's length and the header's JSON instead."""
    from .io.torch_file import is_zip

    return (payload[:1] == b"\x80" and payload[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
            and payload[8:9] != b"{") or is_zip(payload)


def _deserialize(payload, name):
    from safetensors.numpy import load as safetensors_load

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
