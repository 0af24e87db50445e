"""Files written by real PyTorch (tests/io/fixtures, made by bench/torch_fixtures.py) load
with the values PyTorch saved, shared storages stay shared, and map_location is PyTorch's."""

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import chainrule as cr
from chainrule.serialization import CheckpointError

from .torch_bytes import tensor_pickle, zip_archive

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = load_file(FIXTURES / "expected.safetensors")


def expected_under(prefix):
    return {k[len(prefix) + 1:]: v for k, v in EXPECTED.items() if k.startswith(prefix + "/")}


def lookup(obj, path):
    for part in path.split("/"):
        if isinstance(obj, (list, tuple)) or (part.isdigit() and int(part) in obj):
            part = int(part)
        obj = obj[part]
    return obj


def assert_tensors_match(obj, prefix):
    expected = expected_under(prefix)
    assert expected
    for path, value in expected.items():
        tensor = lookup(obj, path)
        assert isinstance(tensor, cr.Tensor), path
        array = tensor.detach().numpy()
        if value.dtype == np.float64 and array.dtype != np.float64:
            array = array.astype(np.float64)
        else:
            assert array.dtype == value.dtype, path
        assert array.shape == value.shape, path
        np.testing.assert_array_equal(array, value, err_msg=path)


@pytest.mark.parametrize("name", ["mixed.pt", "mixed_legacy.pt"])
def test_mixed_file_loads_every_value(name):
    obj = cr.load(FIXTURES / name)
    assert_tensors_match(obj, "mixed")
    assert obj["numbers"] == [1, 2.5, -3, 10**20, float("inf")]
    assert obj["text"] == ("a", "ü", b"bytes")
    assert obj["nothing"] is None
    assert obj["flags"] == {True: "yes", 2: "two", (1, 2): "pair"}
    assert obj["size"] == cr.Size([2, 3]) and isinstance(obj["size"], cr.Size)
    assert obj["dtype"] is cr.float16
    assert obj["device"] == cr.device("cpu")
    assert isinstance(obj["ordered"], OrderedDict) and list(obj["ordered"]) == ["z", "a"]
    assert obj["set"] == {1, 2, 3} and obj["complex"] == 1 + 2j
    dtypes = {k: v.dtype for k, v in obj["dtypes"].items()}
    assert dtypes == {"float16": cr.float16, "float64": cr.float64, "int8": cr.int8,
                      "uint8": cr.uint8, "int16": cr.int16, "int32": cr.int32,
                      "int64": cr.int64, "bool": cr.bool}
    assert obj["scalar"].shape == () and obj["empty"].shape == (0, 3)


@pytest.mark.parametrize("name", ["mixed.pt", "mixed_legacy.pt"])
def test_parameters_and_requires_grad_survive(name):
    obj = cr.load(FIXTURES / name)
    assert isinstance(obj["parameter"], cr.nn.Parameter) and obj["parameter"].requires_grad
    assert isinstance(obj["frozen"], cr.nn.Parameter) and not obj["frozen"].requires_grad
    assert not obj["base"].requires_grad


@pytest.mark.parametrize("name", ["mixed.pt", "mixed_legacy.pt"])
def test_tensors_that_shared_a_storage_still_share_it(name):
    obj = cr.load(FIXTURES / name)
    obj["base"].numpy()[1, 2] = -7.0  # row 1, column 2: seen by three of the views
    assert obj["row"][2].item() == -7.0
    assert obj["column"][1].item() == -7.0
    assert obj["transposed"][2, 1].item() == -7.0
    assert obj["every_other"][3].item() == -7.0  # flat index 6


def test_state_dict_loads_into_a_chainrule_module():
    state = cr.load(FIXTURES / "linear.pt")
    assert isinstance(state, OrderedDict) and list(state) == ["weight", "bias"]
    assert state._metadata == OrderedDict([("", {"version": 1})])
    model = cr.nn.Linear(3, 2)
    assert not model.load_state_dict(state).missing_keys
    assert_tensors_match(model.state_dict(), "linear")


def test_optimizer_state_loads_and_resumes_adam():
    state = cr.load(FIXTURES / "optimizer.pt")
    assert_tensors_match(state, "optimizer")
    assert state["epoch"] == 3
    groups = state["optimizer"]["param_groups"]
    assert groups[0]["lr"] == 0.01 and groups[0]["params"] == [0, 1, 2, 3]
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))
    model.load_state_dict(state["model"])
    optimizer = cr.optim.Adam(model.parameters(), lr=1e-2)
    optimizer.load_state_dict(state["optimizer"])
    assert optimizer.state_dict()["state"][0]["step"] == 1


def test_bfloat16_tensors_load_or_are_refused_by_name():
    if not hasattr(cr, "bfloat16"):
        with pytest.raises(CheckpointError, match="bfloat16"):
            cr.load(FIXTURES / "bfloat16.pt")
        return
    obj = cr.load(FIXTURES / "bfloat16.pt")
    assert obj["weights"].dtype == cr.bfloat16
    assert_tensors_match(obj, "bfloat16")


def test_whole_pickled_module_is_refused_naming_its_class():
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear.*"
                                                     "add_safe_globals.*state_dict"):
        cr.load(FIXTURES / "whole_module.pt")


def test_file_objects_and_torch_signature():
    with open(FIXTURES / "linear.pt", "rb") as f:
        state = cr.load(f, map_location="cpu", weights_only=True)
    assert list(state) == ["weight", "bias"]
    cr.load(FIXTURES / "linear.pt", None, pickle, weights_only=False, mmap=False,
            encoding="utf-8")
    with pytest.raises(TypeError, match="pickle_module"):
        cr.load(FIXTURES / "linear.pt", pickle_module=object())
    with pytest.raises(TypeError, match="unexpected keyword"):
        cr.load(FIXTURES / "linear.pt", fix_imports=True, wrong=1)


def cuda_file():
    data = np.arange(4, dtype=np.float32).tobytes()
    return zip_archive(tensor_pickle(location="cuda:0"), {"0": data})


@pytest.mark.parametrize("map_location", ["cpu", cr.device("cpu"), {"cuda:0": "cpu"},
                                          lambda storage, location: storage])
def test_map_location_sends_accelerator_storages_to_the_cpu(map_location):
    tensor = cr.load(io.BytesIO(cuda_file()), map_location=map_location)
    np.testing.assert_array_equal(tensor.numpy(), [0, 1, 2, 3])


def test_accelerator_storage_without_map_location_is_refused_as_on_a_cpu_build():
    with pytest.raises(CheckpointError, match="CUDA device.*map_location"):
        cr.load(io.BytesIO(cuda_file()))
    with pytest.raises(CheckpointError, match="CUDA"):
        cr.load(FIXTURES / "linear.pt", map_location="cuda")
    with pytest.raises(TypeError, match="map_location"):
        cr.load(FIXTURES / "linear.pt", map_location=3)


def test_big_endian_archives_are_byteswapped():
    data = np.arange(4, dtype=">f4").tobytes()
    payload = zip_archive(tensor_pickle(), {"0": data})
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        entries = {i.filename: archive.read(i) for i in archive.infolist()}
    entries["archive/byteorder"] = b"big"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    np.testing.assert_array_equal(cr.load(io.BytesIO(buffer.getvalue())).numpy(), [0, 1, 2, 3])
