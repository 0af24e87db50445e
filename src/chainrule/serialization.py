"""``save`` and ``load``: tensors in safetensors, everything else in its JSON metadata.

Unlike ``torch.save``, nothing is pickled, so loading a file can never run code. A file holds
one object: nested dicts, lists and tuples of tensors, NumPy arrays, numbers, strings, bools
and None (a state dict, an optimizer state, a training checkpoint), and a checksum of all its
bytes. Writes to a path are atomic (see ``io/files.py``). ``load`` decides a file's format from
its structure, reads only regular files no larger than memory, and raises ``CheckpointError``,
naming the file, for anything it cannot load: it never lets a damaged file through, and never
fails with an internal error on one. It also reads the files of ``torch.save``
(``io/torch_file.py``) through a restricted unpickler that builds only tensors and plain data,
with PyTorch's ``add_safe_globals``/``safe_globals`` for the user's own trusted classes, and
plain safetensors files of other tools (a dict of their tensors).
"""

import json
import os

from ._version import __version__
from .io import container, detect, files, tree
from .io.errors import CheckpointError
from .io.files import atomic_write_bytes
from .io.safe_globals import (
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)
from .tensor import Tensor

FORMAT = container.FORMAT

__all__ = ["save", "load", "CheckpointError", "atomic_write_bytes", "add_safe_globals",
           "safe_globals", "get_safe_globals", "clear_safe_globals",
           "get_unsafe_globals_in_checkpoint"]


def serialize(obj):
    """The parts (byte strings) of the file that ``save(obj, ...)`` writes."""
    arrays = {}
    structure = tree.encode(obj, arrays)
    metadata = {"format": FORMAT, "chainrule_version": __version__,
                "structure": json.dumps(structure, separators=(",", ":"))}
    return container.encode(metadata, arrays)


def save(obj, f):
    """Write ``obj`` (e.g. a state dict) to a path or a binary file object.

    >>> model = chainrule.nn.Linear(3, 1)
    >>> chainrule.save(model.state_dict(), "model.safetensors")
    >>> sorted(chainrule.load("model.safetensors"))
    ['bias', 'weight']
    """
    parts = serialize(obj)
    if hasattr(f, "write"):
        for part in parts:
            f.write(part)
        return
    files.atomic_write(f, parts)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read an object from a path or a binary file object: a file of ``save``, or one of
    ``torch.save`` (zip or legacy layout; tensors and plain data only, see ``io/torch_file``).

    Loading never runs code from the file, whatever ``weights_only`` says: a PyTorch file may
    name only the globals that rebuild tensors, plus those allowed with ``add_safe_globals``.
    ``map_location`` is PyTorch's (everything lands on the CPU). ``mmap=True`` (a path only)
    maps the file instead of reading it: tensors stored uncompressed and aligned are views of
    the mapping, read from disk when touched; writing to them changes memory, never the file
    (PyTorch's ``MAP_PRIVATE``). Anything that cannot be loaded raises ``CheckpointError``
    naming the file (a missing path: ``FileNotFoundError``).

    >>> chainrule.save({"step": 3, "w": chainrule.ones(2)}, "state.pt")
    >>> chainrule.load("state.pt", map_location="cpu")
    {'step': 3, 'w': tensor([1., 1.])}
    """
    if pickle_module is not None and getattr(pickle_module, "__name__", None) != "pickle":
        raise TypeError("load(pickle_module=...) is not supported: chainrule reads pickles "
                        "with its own restricted unpickler, which never runs code")
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args:
        raise TypeError(f"load() got unexpected keyword arguments {sorted(pickle_load_args)}")
    if mmap and (hasattr(f, "read") or not isinstance(f, (str, os.PathLike))):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if hasattr(f, "read"):
        name = getattr(f, "name", None) or "<file object>"
        payload = files.read_stream(f, name)
    else:
        name = str(f)
        payload = files.map_regular_file(f) if mmap else files.read_regular_file(f)
    return deserialize(payload, name, map_location, weights_only, encoding)


def get_unsafe_globals_in_checkpoint(f):
    """The globals (``"module.name"``) that a ``torch.save`` file names and that ``load`` would
    refuse: neither on the built-in allowlist nor added with ``add_safe_globals``. The pickle is
    read statically, as PyTorch does; nothing in it runs.

    Example (a whole model pickled by ``torch.save(model, "model.pt")``)::

        chainrule.serialization.get_unsafe_globals_in_checkpoint("model.pt")  # ['__main__.Net']
    """
    from .io.torch_globals import unsafe_globals

    if hasattr(f, "read"):
        name = getattr(f, "name", None) or "<file object>"
        return unsafe_globals(files.read_stream(f, name), name)
    return unsafe_globals(files.read_regular_file(f), str(f))


def deserialize(payload, name, map_location=None, weights_only=None, encoding="utf-8"):
    """The object in the bytes of a file (``name`` is used in error messages)."""
    kind = detect.detect_format(payload)
    if kind == detect.PICKLE and files.is_mapped(payload):
        raise CheckpointError(
            name, "mmap can only be used with files saved with torch.save(..., "
            "_use_new_zipfile_serialization=True); this one has the legacy layout: load it "
            "without mmap, or save it again in PyTorch")
    if kind in (detect.PICKLE, detect.TORCH_ZIP):
        from .io.torch_file import read_torch_file

        return read_torch_file(payload, name, map_location, weights_only, encoding)
    if kind != detect.SAFETENSORS:
        raise CheckpointError(name, _unknown_format(payload))
    metadata, arrays = container.read(payload, name)
    if not container.is_ours(metadata):
        # a plain safetensors file holds named tensors and no structure: the name -> tensor
        # dict that safetensors.torch.load_file returns
        return {key: Tensor._from_array(array) for key, array in arrays.items()}
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
    if length > detect.MAX_HEADER_BYTES:  # no header length at all: some other kind of file
        return ("is not a file chainrule can load: neither safetensors, nor a torch.save zip "
                "archive, nor a pickle of protocol 2 or later (an old text pickle, protocol 0 "
                "or 1: load it in PyTorch and save it again)")
    if length > len(payload) - 8:
        return (f"is truncated or not a chainrule file: its header claims {length:,} bytes but "
                f"only {len(payload) - 8:,} follow")
    return "is not a chainrule file (no safetensors header, pickle or zip signature)"
