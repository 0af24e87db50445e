import io
import json
import math
import os
import pickle
import struct

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


def test_plain_safetensors_file_loads_as_a_dict_of_tensors(tmp_path):
    # what safetensors.torch.load_file gives for a file of safetensors.torch.save_file or of
    # Hugging Face: name -> tensor, in the order of their data
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    weights = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(2, np.float64),
               "n": np.array([2 ** 40], np.int64), "e": np.zeros((0, 2), np.float16)}
    save_file(weights, str(path), metadata={"format": "pt"})
    loaded = cr.load(path)
    assert sorted(loaded) == sorted(weights)
    for key, array in weights.items():
        assert loaded[key].dtype == cr.from_numpy(array).dtype
        np.testing.assert_array_equal(loaded[key].numpy(), array)
        assert not loaded[key].requires_grad
    model = cr.nn.Linear(3, 2)
    model.load_state_dict({"weight": loaded["w"], "bias": loaded["b"].float()})
    assert model.weight.sum().item() == 15.0


def test_plain_safetensors_file_with_bad_offsets_is_refused(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"w": np.zeros(4, np.float32)}, str(path))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(CheckpointError, match="truncated"):
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


def _plain_safetensors(header, data):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize("code, name", [("C64", "complex64"), ("F8_E4M3", "float8_e4m3fn")])
def test_plain_safetensors_of_a_dtype_we_lack_names_it_and_the_fix(tmp_path, code, name):
    path = tmp_path / "x.safetensors"
    path.write_bytes(_plain_safetensors(
        {"a": {"dtype": code, "shape": [1], "data_offsets": [0, 8 if code == "C64" else 1]}},
        bytes(8 if code == "C64" else 1)))
    with pytest.raises(CheckpointError, match=f"holds tensor 'a' that has dtype {code} "
                                              rf"\({name}\).*convert it"):
        cr.load(path)


def test_an_old_text_pickle_is_named_as_such(tmp_path):
    path = tmp_path / "old.pt"
    path.write_bytes(b"c__builtin__\neval\n(Vprint(1)\ntR.")  # protocol 0: never run
    with pytest.raises(CheckpointError, match="protocol 0 or 1"):
        cr.load(path)
