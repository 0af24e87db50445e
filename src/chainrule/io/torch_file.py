"""PyTorch's checkpoint files, read without PyTorch and without running code from them.

Two layouts, told apart by structure:
- the zip archive ``torch.save`` has written since PyTorch 1.6: ``<record>/data.pkl`` (the
  pickled object, whose tensors name their storages by persistent id) and one entry
  ``<record>/data/<key>`` of raw bytes per storage;
- the legacy stream (``_use_new_zipfile_serialization=False``): pickles of a magic number,
  the protocol version, system information, the object and the list of storage keys, then each
  storage as an 8-byte element count and its raw bytes.

The pickles go through ``unpickler.Unpickler`` with ``torch_names.Policy``. Tensors are views of
their storage's bytes, so tensors that shared a storage in PyTorch share memory here. The zip
entries are read under limits: no ``..`` or absolute names, each entry's bytes read once from
a region of its own, and a compressed entry may not expand more than ``MAX_EXPANSION`` times.
When the file is mapped (``load(..., mmap=True)``), a storage stored uncompressed at an aligned
offset inside the file (as ``torch.save`` writes it) is a view of the mapping instead of a copy.
"""

import io
import re
import struct
import zipfile

import numpy as np

from . import torch_modules
from .errors import CheckpointError
from .files import is_mapped
from .torch_names import Policy, StorageRef, StorageType, chainrule_dtype
from .unpickler import Refused, Unpickler

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
MAX_EXPANSION = 200
ALIGNMENT = 64  # torch.save pads each storage to start at a multiple of 64 bytes
_LOCAL_HEADER = 30
_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_ITEMSIZE = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4,
             "int16": 2, "int8": 1, "uint8": 1, "bool": 1}


# -- telling the layouts apart ------------------------------------------------------------------
def is_zip(payload):
    """Whether ``payload`` is a zip archive (found by its end-of-directory record)."""
    try:
        return zipfile.is_zipfile(_file_like(payload))
    except zipfile.BadZipFile:  # an end record that zipfile cannot use: a damaged archive
        return True


def _file_like(payload):
    """A file object over ``payload`` (over a mapped file without copying it)."""
    return _MappedFile(payload) if is_mapped(payload) else io.BytesIO(payload)


class _MappedFile(io.RawIOBase):
    """A seekable reader over a mapped file, for ``zipfile``: reading copies only the bytes
    asked for."""

    def __init__(self, mapping):
        super().__init__()
        self._view, self._position = memoryview(mapping), 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._view)}
        self._position = max(0, base[whence] + offset)
        return self._position

    def readinto(self, buffer):
        chunk = self._view[self._position:self._position + len(buffer)]
        memoryview(buffer).cast("B")[:len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)

    def close(self):
        self._view.release()
        super().close()


def is_legacy(payload):
    """Whether ``payload`` starts with the pickled magic number of PyTorch's legacy format."""
    try:
        magic, _ = Unpickler(payload, Policy(_no_storages)).load(0)
    except CheckpointError:
        return False
    return type(magic) is int and magic == LEGACY_MAGIC


def read_torch_file(payload, name, map_location=None, weights_only=True, encoding="utf-8"):
    """The object in a ``torch.save`` file (zip or legacy layout)."""
    restore = _Restore(map_location, name)
    if is_zip(payload):
        return _read_zip(payload, name, restore, weights_only, encoding)
    if is_legacy(payload):
        return _read_legacy(payload, name, restore, weights_only, encoding)
    if bytes(payload[:4]) == b"PK\x03\x04":
        raise CheckpointError(
            name, "is a zip archive (the layout torch.save writes) cut short or damaged: the "
            "directory at its end is missing, as after an interrupted download or copy; get "
            "the file again")
    raise CheckpointError(
        name, "is a pickle but not a file written by torch.save (it has neither the zip layout "
        "nor the legacy magic number); chainrule reads only checkpoints of tensors and plain "
        "data, never arbitrary pickles")


def _no_storages(pid):
    raise Refused("this part of the file may not refer to storages")


def _pid(pid, length, name):
    if not isinstance(pid, tuple) or not pid or not isinstance(pid[0], str):
        raise Refused(f"a persistent id must be a tuple naming a storage, got "
                              f"{type(pid).__name__}")
    if pid[0] == "module":
        raise Refused("the file holds a whole pickled module (with its source code): load "
                      "it with weights_only=False, as PyTorch needs too, or save its "
                      "state_dict() in PyTorch instead")
    if pid[0] != "storage" or len(pid) != length:
        raise Refused(f"unknown persistent id {pid[0]!r} (of {len(pid)} fields)")
    _, storage_type, key, location, numel = pid[:5]
    if not isinstance(storage_type, StorageType):
        raise Refused(f"a persistent id names {storage_type!r}, not a storage "
                              "type")
    if storage_type.dtype_name not in _ITEMSIZE:
        what = storage_type.dtype_name or storage_type.name
        if chainrule_dtype(what) is None:
            raise Refused(f"the file holds {what} tensors, which chainrule does not "
                                  "support; convert them in PyTorch (e.g. .float()) and save "
                                  "again")
    if not isinstance(key, str) or not _KEY.fullmatch(key) or key in (".", ".."):
        raise Refused(f"a persistent id points to {key!r}, which is not the "
                              "name of a storage inside the archive")
    if not isinstance(location, str) or type(numel) is not int or numel < 0:
        raise Refused("a persistent id has an invalid location or size")
    return storage_type.dtype_name, key, location, numel


class _Restore:
    """``map_location``: every storage ends up in CPU memory; a storage saved on an
    accelerator needs a map_location that sends it to the CPU, as on a CPU-only PyTorch."""

    def __init__(self, map_location, name):
        if not (map_location is None or callable(map_location)
                or isinstance(map_location, (str, dict)) or hasattr(map_location, "type")):
            raise TypeError(f"map_location should be a str, a device, a dict or a function, "
                            f"got {type(map_location).__name__}")
        self.map_location, self.name = map_location, name

    def __call__(self, storage, location):
        target = self.map_location
        if callable(target) and not isinstance(target, (str, dict)) \
                and not hasattr(target, "type"):
            result = target(storage, location)
            if result is None:
                target = location
            elif isinstance(result, StorageRef):
                return result
            else:
                raise TypeError(f"map_location returned a {type(result).__name__}; it should "
                                "return the storage it was given (or None)")
        elif isinstance(target, dict):
            target = target.get(location, location)
        elif target is None:
            target = location
        self._check_cpu(getattr(target, "type", target))
        return storage

    def _check_cpu(self, target):
        kind = str(target).split(":")[0]
        if kind == "cpu":
            return
        raise CheckpointError(
            self.name, f"Attempting to deserialize object on a {kind.upper()} device but "
            "chainrule computes on the CPU only (as torch.cuda.is_available() is False). Please "
            "use load with map_location=torch.device('cpu') (or map_location='cpu') to map your "
            "storages to the CPU.")


# -- the zip layout ----------------------------------------------------------------------------
class _Archive:
    """The entries of a zip archive, checked, each read at most once."""

    def __init__(self, payload, name):
        self.name, self.payload = name, payload
        try:
            self.zip = zipfile.ZipFile(_file_like(payload))
            infos = self.zip.infolist()
        except Exception as error:  # zipfile raises many kinds on damaged directories
            raise CheckpointError(name, f"is a damaged zip archive: {error}") from None
        self.entries, offsets = {}, set()
        budget = 0
        for info in infos:
            entry = info.filename
            parts = entry.split("/")
            if (entry.startswith("/") or "\\" in entry or "\x00" in entry or ".." in parts
                    or ":" in parts[0]):
                raise CheckpointError(name, f"has an archive entry with an unsafe path "
                                      f"{entry!r}; refused")
            if entry in self.entries or info.header_offset in offsets:
                raise CheckpointError(name, f"has two archive entries named {entry!r} or at "
                                      "one offset (overlapping entries); refused")
            if info.flag_bits & 0x1:
                raise CheckpointError(name, f"entry {entry!r} is encrypted")
            if info.compress_type == zipfile.ZIP_STORED:
                if info.file_size != info.compress_size:
                    raise CheckpointError(name, f"stored entry {entry!r} claims "
                                          f"{info.file_size} bytes but holds "
                                          f"{info.compress_size}")
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                if info.file_size > MAX_EXPANSION * info.compress_size + 4096:
                    raise CheckpointError(
                        name, f"entry {entry!r} would expand from {info.compress_size} to "
                        f"{info.file_size} bytes, more than {MAX_EXPANSION} times; refused as a "
                        "possible zip bomb (torch.save never compresses: save the file again "
                        "with it)")
            else:
                raise CheckpointError(name, f"entry {entry!r} uses compression method "
                                      f"{info.compress_type}, which is not supported")
            budget += info.compress_size
            self.entries[entry] = info
            offsets.add(info.header_offset)
        if budget > len(payload):
            raise CheckpointError(name, f"its archive entries claim {budget} bytes in a file "
                                  f"of {len(payload)} (overlapping entries); refused")
        records = [e[:-len("/data.pkl")] for e in self.entries
                   if e.endswith("/data.pkl") and e.count("/") == 1]
        if len(records) != 1:
            raise CheckpointError(
                name, f"is a zip archive but not one written by torch.save (it needs exactly "
                f"one <name>/data.pkl entry, found {len(records)})")
        self.record = records[0]

    def read(self, entry):
        """The bytes of an entry as a writable uint8 array (exactly its declared size)."""
        info = self.entries.get(entry)
        if info is None:
            raise CheckpointError(self.name, f"the archive has no entry {entry!r}")
        buffer = np.empty(info.file_size, dtype=np.uint8)
        try:
            with self.zip.open(info) as stream:
                count = stream.readinto(memoryview(buffer))
                extra = stream.read(1)
        except Exception as error:
            raise CheckpointError(self.name, f"entry {entry!r} is damaged: {error}") from None
        if count != info.file_size or extra:
            raise CheckpointError(self.name, f"entry {entry!r} is truncated")
        return buffer

    def storage(self, entry):
        """A storage entry's bytes: a view of the mapped file when the file is mapped and the
        entry is stored uncompressed at an aligned offset, else read into memory."""
        info = self.entries.get(entry)
        if is_mapped(self.payload) and info is not None \
                and info.compress_type == zipfile.ZIP_STORED:
            start = self._data_start(info)
            if start is not None and start % ALIGNMENT == 0:
                return np.frombuffer(self.payload, dtype=np.uint8, count=info.file_size,
                                     offset=start)
        return self.read(entry)

    def _data_start(self, info):
        """Where an entry's bytes begin in the file (after its local header), or None when the
        local header does not match the directory or the bytes would reach past the file
        (then ``read`` reports the damage)."""
        offset = info.header_offset
        header = self.payload[offset:offset + _LOCAL_HEADER]
        if len(header) != _LOCAL_HEADER or header[:4] != b"PK\x03\x04":
            return None
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        local_name = self.payload[offset + _LOCAL_HEADER:offset + _LOCAL_HEADER + name_length]
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        if local_name.decode(encoding, "replace") != info.orig_filename:
            return None
        start = offset + _LOCAL_HEADER + name_length + extra_length
        return start if start + info.file_size <= len(self.payload) else None


def _read_zip(payload, name, restore, weights_only, encoding):
    archive = _Archive(payload, name)
    record = archive.record
    byteorder = "little"
    if f"{record}/byteorder" in archive.entries:
        byteorder = archive.read(f"{record}/byteorder").tobytes().decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise CheckpointError(name, f"unknown byte order {byteorder!r}")
    buffers = {}

    def persistent_load(pid):
        dtype_name, key, location, numel = _pid(pid, 5, name)
        if key not in buffers:
            buffer = archive.storage(f"{record}/data/{key}")
            if byteorder == "big" and dtype_name in _ITEMSIZE and _ITEMSIZE[dtype_name] > 1:
                _byteswap(buffer, dtype_name)
            buffers[key] = buffer
        buffer = buffers[key]
        itemsize = _ITEMSIZE.get(dtype_name, 1)
        if numel * itemsize > len(buffer):
            raise Refused(f"storage {key} should hold {numel} elements of "
                                  f"{dtype_name} but has {len(buffer)} bytes")
        return restore(StorageRef(buffer, dtype_name, key), location)

    data = archive.read(f"{record}/data.pkl")
    policy = Policy(persistent_load, weights_only)
    obj, _ = Unpickler(data, policy, name, encoding).load(0)
    return obj


def _byteswap(buffer, dtype_name):
    dtype = chainrule_dtype(dtype_name).numpy
    if len(buffer) % dtype.itemsize == 0:
        buffer.view(dtype).byteswap(inplace=True)


# -- the legacy layout -------------------------------------------------------------------------
def _read_legacy(payload, name, restore, weights_only, encoding):
    plain = Policy(_no_storages)

    def next_pickle(position, policy=plain):
        return Unpickler(payload, policy, name, encoding).load(position)

    _, position = next_pickle(0)
    protocol, position = next_pickle(position)
    if protocol != LEGACY_PROTOCOL:
        raise CheckpointError(name, f"legacy torch.save protocol {protocol!r} is not "
                              f"supported (only {LEGACY_PROTOCOL})")
    sys_info, position = next_pickle(position)
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise CheckpointError(name, "only little-endian legacy files are supported")
    roots = {}  # key -> (buffer, dtype name)
    claimed = [0]

    def persistent_load(pid):
        if (weights_only is False and type(pid) is tuple and len(pid) == 4
                and pid[0] == "module" and torch_modules.is_module_class(pid[1])):
            return pid[1]  # a whole module's class (chainrule's); its source is not read
        dtype_name, key, location, numel = _pid(pid, 6, name)
        itemsize = _ITEMSIZE[dtype_name]
        if key not in roots:
            claimed[0] += numel * itemsize
            if claimed[0] > len(payload):
                raise Refused("its storages claim more bytes than the file "
                                      "holds")
            roots[key] = (np.empty(numel * itemsize, dtype=np.uint8), dtype_name)
        buffer = roots[key][0]
        view = pid[5]
        if view is not None:
            if (not isinstance(view, tuple) or len(view) != 3
                    or not all(type(v) is int and v >= 0 for v in view[1:])):
                raise Refused(f"invalid storage view {view!r}")
            _, offset, size = view
            if (offset + size) * itemsize > len(buffer):
                raise Refused("a storage view reaches past its storage")
            buffer = buffer[offset * itemsize:(offset + size) * itemsize]
        return restore(StorageRef(buffer, dtype_name, key), location)

    obj, position = next_pickle(position, Policy(persistent_load, weights_only))
    keys, position = next_pickle(position)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise CheckpointError(name, "the legacy storage list is not a list of keys")
    filled = set()
    for key in keys:
        if key not in roots or key in filled:
            raise CheckpointError(name, f"storage {key!r} is listed but not used, or listed "
                                  "twice")
        buffer, dtype_name = roots[key]
        if position + 8 > len(payload):
            raise CheckpointError(name, f"is truncated (storage {key})")
        numel = int.from_bytes(payload[position:position + 8], "little")
        position += 8
        if numel * _ITEMSIZE[dtype_name] != len(buffer) or position + len(buffer) > len(payload):
            raise CheckpointError(name, f"is truncated or damaged (storage {key} should hold "
                                  f"{len(buffer)} bytes)")
        buffer[:] = np.frombuffer(payload, dtype=np.uint8, count=len(buffer), offset=position)
        position += len(buffer)
        filled.add(key)
    if filled != set(roots):
        raise CheckpointError(name, f"is truncated: storages {sorted(set(roots) - filled)} "
                              "have no data")
    return obj
