"""The container of ``chainrule.save``: its format is decided by structure, every file it writes
loads back, and a flipped bit anywhere in a file is refused."""

import io
import struct

import numpy as np
import pytest
from safetensors.numpy import load as safetensors_load
from safetensors.numpy import save as safetensors_save

import chainrule as cr
from chainrule.io import container, detect
from chainrule.serialization import CheckpointError, deserialize


def saved(obj):
    buffer = io.BytesIO()
    cr.save(obj, buffer)
    return buffer.getvalue()


def test_every_header_length_loads_back_whatever_its_first_byte():
    # the first byte of a file is the low byte of its header's length: step the length through
    # two full cycles of 256 so that every first byte (0x80, a pickle's, included) occurs
    first_bytes = set()
    for extra in range(512):
        obj = {"w": cr.arange(3, dtype=cr.float32), "note": "x" * extra}
        payload = saved(obj)
        first_bytes.add(payload[0])
        assert detect.detect_format(payload) == detect.SAFETENSORS
        loaded = cr.load(io.BytesIO(payload))
        assert loaded["note"] == obj["note"]
        np.testing.assert_array_equal(loaded["w"].numpy(), obj["w"].numpy())
    assert first_bytes == set(range(0, 256, 8))  # the header is padded to 8-byte alignment


def test_the_repro_of_a_header_length_starting_with_0x80_loads(tmp_path):
    path = tmp_path / "p.safetensors"
    cr.save({"w": cr.zeros(2), "note": "x" * 129}, path)
    assert path.read_bytes()[0] == 0x80
    assert cr.load(path)["note"] == "x" * 129


def test_files_are_plain_safetensors_for_other_tools():
    payload = saved({"w": cr.arange(6.0).reshape(2, 3), "m": cr.tensor([True, False])})
    arrays = safetensors_load(payload)  # a state dict's tensors keep their own names
    np.testing.assert_array_equal(arrays["w"], np.arange(6.0, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(arrays["m"], [True, False])


def test_tensor_names_are_their_paths_and_stay_unique():
    obj = {"a.b": cr.ones(1), "a": {"b": cr.zeros(1)}, "state": {0: {"m": cr.ones(2)}},
           "list": [cr.ones(1)], "": cr.ones(1)}
    arrays = safetensors_load(saved(obj))
    assert sorted(arrays) == ["a.b", "a.b#1", "list.0", "state.0.m", "tensor"]
    loaded = cr.load(io.BytesIO(saved(obj)))
    assert loaded["a"]["b"].item() == 0 and loaded["a.b"].item() == 1


def test_a_flipped_bit_anywhere_in_the_file_is_refused():
    payload = saved({"lr": 0.001, "name": "run", "w": cr.arange(4.0), "step": 7})
    for position in range(len(payload)):
        for bit in range(8):
            damaged = bytearray(payload)
            damaged[position] ^= 1 << bit
            with pytest.raises(CheckpointError, match="^flip: "):
                deserialize(bytes(damaged), "flip")


def test_the_checksum_covers_the_header_and_is_checked_first():
    payload = saved({"lr": 0.001})
    text = payload.replace(b"0.001", b"0.003")  # the header's JSON, not tensor bytes
    assert text != payload
    with pytest.raises(CheckpointError, match="do not match its checksum"):
        deserialize(text, "f")
    assert cr.load(io.BytesIO(container.seal(text)))["lr"] == 0.003  # sealed again: accepted


def legacy_file(obj):
    """A file as the first format wrote it: safetensors' own writer, a CRC of tensor bytes."""
    import json

    from chainrule.io import tree

    arrays = {}
    structure = tree.encode(obj, arrays)
    metadata = {"format": "chainrule.v1", "chainrule_version": "0.1.0",
                "structure": json.dumps(structure, separators=(",", ":")),
                "crc32": str(container.legacy_checksum(arrays))}
    return safetensors_save(arrays, metadata=metadata)


def test_files_of_the_first_format_still_load_and_their_tensor_checksum_is_checked():
    payload = legacy_file({"w": cr.ones(4), "step": 3})
    loaded = cr.load(io.BytesIO(payload))
    assert loaded["step"] == 3 and loaded["w"].tolist() == [1.0] * 4
    damaged = bytearray(payload)
    damaged[-3] ^= 0x10
    with pytest.raises(CheckpointError, match="tensor data does not match its checksum"):
        deserialize(bytes(damaged), "old")


def test_writes_are_little_endian_whatever_the_array_byte_order():
    big = np.arange(3, dtype=">i4")
    loaded = cr.load(io.BytesIO(saved({"a": big})))
    assert loaded["a"].dtype == np.dtype("i4") and loaded["a"].tolist() == [0, 1, 2]


def test_arrays_safetensors_cannot_hold_are_refused_at_save():
    with pytest.raises(TypeError, match="complex"):
        saved({"c": np.zeros(2, np.complex64)})
    with pytest.raises(TypeError, match="object"):
        saved({"o": np.array([{}], dtype=object)})


def test_objects_nested_too_deep_are_refused_at_save():
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="nested at most"):
        saved(deep)


def test_bool_bytes_other_than_0_and_1_load_as_true():
    payload = bytearray(saved({"m": cr.tensor([True, False, True])}))
    data_start = 8 + struct.unpack("<Q", payload[:8])[0]
    payload[data_start] = 7
    loaded = cr.load(io.BytesIO(container.seal(bytes(payload))))["m"]
    assert loaded.numpy().view(np.uint8).tolist() == [1, 0, 1]
