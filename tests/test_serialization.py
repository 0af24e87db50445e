import io
import math
import os
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization import CheckpointError


def nested_state():
    return {
        "weights": cr.randn(3, 4),
        "step": 7,
        "lr": 0.1,
        "name": "run",
        "flags": [True, None],
        "shape": (2, 3),
        "state": {0: {"momentum": cr.zeros(2, dtype=cr.float64)}, 1: {}},
        "ints": cr.arange(5),
        "mask": cr.tensor([True, False]),
        "inf": math.inf,
        "array": np.arange(3, dtype=np.int32),
        "scalar": cr.tensor(3.0),
        "strided": cr.arange(12).reshape(3, 4).T,
    }


def assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, cr.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


def test_round_trip_keeps_values_types_and_key_types(tmp_path):
    obj = nested_state()
    cr.save(obj, tmp_path / "ckpt.safetensors")
    assert_same(obj, cr.load(tmp_path / "ckpt.safetensors"))


def test_round_trip_through_a_file_object():
    buffer = io.BytesIO()
    obj = {"x": cr.ones(2)}
    cr.save(obj, buffer)
    buffer.seek(0)
    assert_same(obj, cr.load(buffer))


def test_pickled_file_is_refused_with_advice(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="not a file written by torch.save"):
        cr.load(path)


def test_truncated_file_is_refused_at_every_cut(tmp_path):
    path = tmp_path / "ckpt"
    cr.save(nested_state(), path)
    payload = path.read_bytes()
    for cut in (0, 4, 8, 20, len(payload) // 2, len(payload) - 1):
        path.write_bytes(payload[:cut])
        with pytest.raises(CheckpointError):
            cr.load(path)


def test_flipped_bit_in_tensor_data_is_detected(tmp_path):
    path = tmp_path / "ckpt"
    cr.save({"w": cr.ones(64)}, path)
    payload = bytearray(path.read_bytes())
    payload[-10] ^= 0x01
    path.write_bytes(bytes(payload))
    with pytest.raises(CheckpointError, match="checksum"):
        cr.load(path)


def test_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"w": np.zeros(2, np.float32)}, str(path))
    with pytest.raises(CheckpointError, match="not one written by chainrule"):
        cr.load(path)


def test_unsupported_object_names_the_type(tmp_path):
    with pytest.raises(TypeError, match="set"):
        cr.save({"bad": {1, 2}}, tmp_path / "x")


def test_failed_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    cr.save({"v": cr.ones(2)}, path)
    before = path.read_bytes()

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="intact"):
        cr.save({"v": cr.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temporary file left behind


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cr.save({}, tmp_path / "nope" / "x")
