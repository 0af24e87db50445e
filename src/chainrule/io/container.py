"""Our container: a safetensors file whose metadata holds a checksum of the whole file.

Layout (valid safetensors, so other tools read the tensors)::

    8 bytes   N, the header length (little-endian)
    N bytes   {"__metadata__":{"checksum":"crc32:XXXXXXXX", "format": ..., ...}, "t0": {...}, ...}
              padded with spaces so that the data starts 8-byte aligned
    the rest  the tensors' bytes, back to back, in the order of their offsets

The checksum is a CRC-32 of every byte of the file, with its own eight hex digits read as
zeros; writing the metadata's first entry first puts those digits at a fixed offset, so they are
checked before the header is even parsed. A CRC-32 catches every flipped bit and every burst of
up to 32 damaged bits, anywhere in the file.

Files of the first format (``chainrule.v1``) are still read; their checksum covers the tensor
bytes only (re-save such a file to protect its header too)."""

import json
import struct
import zlib

import numpy as np

from .._dtypes import bfloat16_numpy
from .detect import MAX_HEADER_BYTES, header_length, is_safetensors
from .errors import CheckpointError
from .files import is_mapped

FORMAT = "chainrule.v2"
LEGACY_FORMAT = "chainrule.v1"
_PREFIX = b'{"__metadata__":{"checksum":"crc32:'
_DIGITS = slice(8 + len(_PREFIX), 8 + len(_PREFIX) + 8)
_PLACEHOLDER = b"00000000"

# safetensors dtype codes and their little-endian NumPy types
_NUMPY_OF_CODE = {
    "F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4",
    "I64": "<i8", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "u1",
    "BF16": "<u2",  # read as raw 16-bit words, then viewed as bfloat16
}
_CODE_OF_KIND = {("f", 2): "F16", ("f", 4): "F32", ("f", 8): "F64", ("i", 1): "I8",
                 ("i", 2): "I16", ("i", 4): "I32", ("i", 8): "I64", ("u", 1): "U8",
                 ("u", 2): "U16", ("u", 4): "U32", ("u", 8): "U64", ("b", 1): "BOOL"}
# safetensors codes of valid files whose dtypes chainrule lacks (complex, 8- and 4-bit floats)
_CODES_WE_LACK = {"C64": "complex64", "C128": "complex128", "F8_E4M3": "float8_e4m3fn",
                  "F8_E5M2": "float8_e5m2", "F8_E8M0": "float8_e8m0fnu", "F4": "float4_e2m1fn_x2"}
MAX_DIMENSIONS = 32
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


# -- writing ----------------------------------------------------------------------------------
def dtype_code(dtype):
    """The safetensors code of a NumPy dtype (TypeError for one safetensors cannot hold)."""
    if dtype.name == "bfloat16":
        return "BF16"
    code = _CODE_OF_KIND.get((dtype.kind, dtype.itemsize))
    if code is None:
        raise TypeError(
            f"chainrule.save cannot store arrays of dtype {dtype}: safetensors holds floating "
            "point, integer and bool arrays; convert it first"
        )
    return code


def _little_endian_bytes(array):
    array = np.asarray(array)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def encode(metadata, arrays):
    """The parts (byte strings) of a file holding ``arrays`` (name -> ndarray) and the string
    entries of ``metadata``, its checksum filled in."""
    entries, blobs, offset = {}, [], 0
    for name, array in arrays.items():
        code = dtype_code(array.dtype)
        blob = _little_endian_bytes(array)
        entries[name] = {"dtype": code, "shape": list(array.shape),
                         "data_offsets": [offset, offset + blob.size]}
        blobs.append(blob)
        offset += blob.size
    header = {"__metadata__": {"checksum": "crc32:" + _PLACEHOLDER.decode(), **metadata},
              **entries}
    text = json.dumps(header, separators=(",", ":")).encode("ascii")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as safetensors writes it
    head = bytearray(struct.pack("<Q", len(text)) + text)
    crc = zlib.crc32(head)
    for blob in blobs:
        crc = zlib.crc32(blob, crc)
    head[_DIGITS] = f"{crc:08x}".encode()
    return [bytes(head), *blobs]


def seal(payload):
    """``payload`` with its checksum digits recomputed (for tools that edit files on purpose,
    and the fuzz tests that must get past the checksum)."""
    payload = bytearray(payload)
    payload[_DIGITS] = _PLACEHOLDER
    payload[_DIGITS] = f"{zlib.crc32(payload):08x}".encode()
    return bytes(payload)


# -- reading ----------------------------------------------------------------------------------
def read(payload, name):
    """The metadata (str -> str) and the arrays (name -> ndarray) of a safetensors file: a
    chainrule container (checksum verified) or a plain one (``is_ours`` tells them apart);
    CheckpointError naming ``name`` for anything else."""
    if not is_safetensors(payload):
        raise CheckpointError(name, "is not a safetensors file")
    sealed = payload[8:_DIGITS.start] == _PREFIX
    if sealed:
        _verify_checksum(payload, name)
    header = _parse_header(payload, name)
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise CheckpointError(name, "is corrupt: its metadata is not a map of strings")
    kind = metadata.get("format")
    if kind == FORMAT and not sealed:
        raise CheckpointError(name, "is corrupt: its checksum field is damaged")
    if kind not in (FORMAT, LEGACY_FORMAT) and b"chainrule.v" in payload[8:_DIGITS.stop + 64]:
        raise CheckpointError(name, "is corrupt: its header is damaged")
    # a file of other tools (safetensors.torch.save_file, Hugging Face weights): its tensors,
    # in the order of their data, as safetensors.torch.load_file gives them
    data_start = 8 + header_length(payload)
    entries = sorted(_checked_entries(header, len(payload) - data_start, name),
                     key=lambda item: tuple(item[1]["data_offsets"]))
    arrays = {key: _array(payload, data_start, entry) for key, entry in entries}
    if kind == LEGACY_FORMAT and metadata.get("crc32") != str(legacy_checksum(arrays)):
        raise CheckpointError(name, "is corrupt: its tensor data does not match its checksum")
    return metadata, arrays


def _verify_checksum(payload, name):
    view = memoryview(payload)  # slices of a view copy nothing
    crc = zlib.crc32(view[:_DIGITS.start])
    crc = zlib.crc32(_PLACEHOLDER, crc)
    crc = zlib.crc32(view[_DIGITS.stop:], crc)
    if payload[_DIGITS] != f"{crc:08x}".encode():
        raise CheckpointError(
            name, "is corrupt: its bytes do not match its checksum (the file was damaged after "
            "it was written)"
        )


def _parse_header(payload, name):
    length = header_length(payload)
    if length > MAX_HEADER_BYTES:
        raise CheckpointError(name, f"has a header of {length:,} bytes, more than the limit")
    try:
        header = json.loads(payload[8:8 + length])
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, or absurdly deep nesting
        raise CheckpointError(name, "is corrupt: its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise CheckpointError(name, "is corrupt: its header is not a JSON object")
    return header


def _checked_entries(header, data_length, name):
    """The tensor entries, each checked, and together covering the data exactly."""
    entries = []
    for key, entry in header.items():
        problem = _entry_problem(entry)
        if problem:
            if problem.startswith("has dtype "):  # a valid file, of a dtype we lack
                raise CheckpointError(name, f"holds tensor {key!r} that {problem}")
            raise CheckpointError(name, f"is corrupt: tensor {key!r} {problem}")
        entries.append((key, entry))
    position = 0
    for key, entry in sorted(entries, key=lambda item: tuple(item[1]["data_offsets"])):
        begin, end = entry["data_offsets"]
        if begin != position:
            raise CheckpointError(
                name, f"is corrupt: tensor {key!r} starts at byte {begin} of the data, expected "
                f"{position} (tensors must lie back to back)"
            )
        position = end
    if position != data_length:
        raise CheckpointError(
            name, f"is truncated or has trailing bytes: its tensors cover {position:,} bytes of "
            f"data, the file holds {data_length:,}"
        )
    return entries


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _entry_problem(entry):
    """What is wrong with one tensor entry of the header, or None."""
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        return "is not a map of dtype, shape and data_offsets"
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if isinstance(code, str) and code in _CODES_WE_LACK:
        return (f"has dtype {code} ({_CODES_WE_LACK[code]}), which chainrule does not support: "
                "convert it where the file was written (e.g. .float()) and save it again")
    if not isinstance(code, str) or code not in _NUMPY_OF_CODE:
        return f"has an unsupported dtype {code!r}"
    if (not isinstance(shape, list) or len(shape) > MAX_DIMENSIONS
            or not all(_is_int(d) and d >= 0 for d in shape)):
        return f"has an invalid shape {shape!r}"
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(_is_int(o) and o >= 0 for o in offsets) or offsets[0] > offsets[1]):
        return f"has invalid data offsets {offsets!r}"
    itemsize = np.dtype(_NUMPY_OF_CODE[code]).itemsize
    bound = itemsize
    for size in shape:
        bound *= max(size, 1)
    if bound > 2 ** 62:
        return f"has an impossibly large shape {shape}"
    numel = 1
    for size in shape:
        numel *= size
    if offsets[1] - offsets[0] != numel * itemsize:
        return (f"of shape {shape} and dtype {code} needs {numel * itemsize} bytes, but its "
                f"offsets span {offsets[1] - offsets[0]}")
    return None


def _array(payload, data_start, entry):
    """One tensor's bytes as a writable native-endian array: a view into ``payload`` when that
    is a bytearray (a file read by files.read_regular_file) or a mapped file (``mmap=True``) and
    the tensor lies aligned, so a loaded file takes its own size in memory and no more; a copy
    otherwise."""
    code, shape = entry["dtype"], entry["shape"]
    stored = np.dtype(_NUMPY_OF_CODE[code])
    offset = data_start + entry["data_offsets"][0]
    numel = (entry["data_offsets"][1] - entry["data_offsets"][0]) // stored.itemsize
    raw = np.frombuffer(payload, dtype=stored, count=numel, offset=offset).reshape(shape)
    if code == "BOOL":
        return raw != 0  # any nonzero byte is True, and the result holds only 0 and 1
    viewable = isinstance(payload, bytearray) or is_mapped(payload)
    if viewable and stored.isnative and offset % stored.itemsize == 0:
        array = raw
    else:
        array = raw.astype(stored.newbyteorder("="))
    return array.view(bfloat16_numpy()) if code == "BF16" else array


def is_ours(metadata):
    """Whether ``read``'s metadata is a chainrule container's (else: a plain safetensors file)."""
    return metadata.get("format") in (FORMAT, LEGACY_FORMAT)


def legacy_checksum(arrays):
    """The first format's CRC-32 over every array's bytes in key order."""
    crc = 0
    for key in sorted(arrays):
        crc = zlib.crc32(_little_endian_bytes(arrays[key]), crc)
    return crc
