"""Every malicious or damaged file is refused with CheckpointError, whose message names the file,
and nothing else escapes (no RecursionError, KeyError, TypeError, MemoryError...)."""

import io
import json
import pickle
import struct
import zipfile

import pytest

import chainrule as cr
from chainrule.serialization import CheckpointError, load

from .forge import forge, saved, split, with_structure

VALID = saved({"w": cr.arange(4.0), "n": 3})
HEADER, DATA = split(VALID)


def header_with(**changes):
    header = json.loads(json.dumps(HEADER))
    entry = header["w"]
    entry.update(changes)
    return forge(header, DATA)


def zip_bytes():
    """A torch.save-style archive whose pickle calls os.system (tests/io/test_torch_malicious.py
    has the rest of that corpus)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02cos\nsystem\n(X\x04\x00\x00\x00truetR.")
    return buffer.getvalue()


def deep(levels):
    node = 1
    for _ in range(levels):
        node = [node]
    return node


MALICIOUS = {
    "empty": b"",
    "seven bytes": b"\x01" * 7,
    "header length 2**64-1": b"\xff" * 8 + b"{}",
    "header length past the end": struct.pack("<Q", 1000) + b"{}",
    "header length zero": struct.pack("<Q", 0) + b"{}",
    "header of garbage": struct.pack("<Q", 4) + b"{abc",
    "header not utf-8": struct.pack("<Q", 4) + b"{\xff\xfe}",
    "header a JSON array": forge(None, b"", header_text=b"[1, 2]"),
    "header nested 100000 deep": forge(None, b"", header_text=b"{" + b'"a":[' * 100000),
    "header with a 5000-digit number": forge(None, b"", header_text=b'{"a":' + b"9" * 5000 + b"}"),
    "metadata a list": forge({"__metadata__": [1]}, b""),
    "metadata values not strings": forge({"__metadata__": {"format": 1}}, b""),
    "our format without the checksum first": forge(
        {"__metadata__": {"format": "chainrule.v2", "structure": "1"}}, b""),
    "entry not a map": forge(dict(HEADER, w=[1]), DATA),
    "entry with an unknown dtype": header_with(dtype="F128"),
    "entry with a dtype of the wrong type": header_with(dtype=["F32"]),
    "negative shape": header_with(shape=[-4]),
    "shape of floats": header_with(shape=[4.0]),
    "shape of bools": header_with(shape=[True, True, True, True]),
    "shape with an impossible size": header_with(shape=[0, 2 ** 40, 2 ** 40]),
    "shape with 100 dimensions": header_with(shape=[1] * 100),
    "shape of NaN": forge(None, b"", header_text=json.dumps(HEADER).replace(
        '"shape": [4]', '"shape": [NaN]').encode()),
    "negative offsets": header_with(data_offsets=[-16, 0]),
    "reversed offsets": header_with(data_offsets=[16, 0]),
    "offsets past the data": header_with(data_offsets=[0, 1 << 40], shape=[1 << 38]),
    "offsets not matching the shape": header_with(data_offsets=[0, 12]),
    "three offsets": header_with(data_offsets=[0, 8, 16]),
    "extra key in an entry": header_with(extra=1),
    "trailing bytes": forge(HEADER, DATA + b"\0" * 8),
    "missing data": forge(HEADER, DATA[:-4]),
    "structure not JSON": forge(dict(HEADER, __metadata__=dict(HEADER["__metadata__"],
                                                                structure="{")), DATA),
    "no structure": forge(dict(HEADER, __metadata__={
        k: v for k, v in HEADER["__metadata__"].items() if k != "structure"}), DATA),
    "structure nested 100000 deep": forge(dict(HEADER, __metadata__=dict(
        HEADER["__metadata__"], structure="[" * 100000 + "]" * 100000)), DATA),
    "structure nested 150 deep": with_structure(VALID, deep(150)),
    "structure naming a missing tensor": with_structure(VALID, {"__tensor__": "t9"}),
    "structure naming a tensor by a number": with_structure(VALID, {"__ndarray__": 0}),
    "dict entry not a pair": with_structure(VALID, {"__dict__": [[1, 2, 3]]}),
    "dict entries not a list": with_structure(VALID, {"__dict__": {"a": 1}}),
    "dict with a list as a key": with_structure(VALID, {"__dict__": [[[1], 2]]}),
    "tuple of a number": with_structure(VALID, {"__tuple__": 5}),
    "float of garbage": with_structure(VALID, {"__float__": "zero point one"}),
    "float of a long string": with_structure(VALID, {"__float__": "1" * 10000}),
    "float of a number": with_structure(VALID, {"__float__": 1.5}),
    "unknown marker": with_structure(VALID, {"__module__": "os.system"}),
    "two markers": with_structure(VALID, {"__float__": "1", "__tuple__": []}),
    "tensor with an unknown option": with_structure(VALID, {"__tensor__": "w", "device": 1}),
    "requires_grad not a bool": with_structure(VALID, {"__tensor__": "w", "requires_grad": 1}),
    "pickle protocol 2": pickle.dumps({"a": 1}, protocol=2),
    "pickle protocol 5": pickle.dumps({"a": 1}, protocol=5),
    "torch zip archive": zip_bytes(),
    "text file": b"hello, this is not a checkpoint\n",
}


@pytest.mark.parametrize("label", sorted(MALICIOUS))
def test_malicious_file_is_refused_naming_it(tmp_path, label):
    path = tmp_path / "evil.safetensors"
    path.write_bytes(MALICIOUS[label])
    with pytest.raises(CheckpointError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: "), caught.value
    assert caught.value.path == str(path)


def test_integer_tensors_cannot_require_gradients():
    marked = {"__tensor__": "i", "requires_grad": True}
    payload = with_structure(saved({"i": cr.arange(3)}), marked)
    with pytest.raises(CheckpointError, match="requiring gradients"):
        load(io.BytesIO(payload))
