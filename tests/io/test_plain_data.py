"""Checkpoints that hold plain data beside tensors (NumPy arrays and scalars, the run's
argparse.Namespace, collections, datetime values, paths), written by real PyTorch
(tests/io/fixtures/plain_data*.pt, made by bench/torch_fixtures.py), load with
``weights_only=False`` as PyTorch loads them; the default still refuses them, as PyTorch's
does, and nothing the file names beyond plain data is ever called."""

import argparse
import collections
import datetime
import io
import pathlib
import pickle

import numpy as np
import pytest

import chainrule as cr

from .torch_bytes import zip_archive

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", ["plain_data.pt", "plain_data_legacy.pt"])
def test_plain_values_load_as_saved(name):
    ckpt = cr.load(FIXTURES / name, weights_only=False)
    np.testing.assert_array_equal(ckpt["weights"].numpy(), [0.0, 1.0, 2.0])
    data = ckpt["data"]
    assert type(data) is np.ndarray and data.dtype == np.float64 and data.shape == (3, 4)
    np.testing.assert_array_equal(data, np.sin(np.arange(12.0) / 4).reshape(3, 4))
    for key, value, kind in [("best_acc", 0.8125, np.float64), ("step", 42, np.int64),
                             ("flag", True, np.bool_), ("half", 1.5, np.float16)]:
        assert type(ckpt[key]) is kind and ckpt[key] == value, key
    assert ckpt["strings"].tolist() == ["ab", "c"] and ckpt["strings"].dtype == "<U2"
    assert ckpt["objects"].dtype == object and ckpt["objects"].tolist() == [1, "two", None]
    assert ckpt["fortran"].flags["F_CONTIGUOUS"] and ckpt["fortran"].dtype == np.int32
    np.testing.assert_array_equal(ckpt["fortran"], [[0, 1, 2], [3, 4, 5]])
    assert ckpt["records"].dtype.names == ("a", "b")
    assert ckpt["records"].tolist() == [(1, 2.5), (3, -1.0)]
    kind, keys, pos, has_gauss, gauss = ckpt["np_rng"]
    rng = np.random.RandomState()
    rng.set_state((kind, keys, pos, has_gauss, gauss))
    np.testing.assert_array_equal(rng.randint(0, 1000, 5),
                                  np.random.RandomState(3).randint(0, 1000, 5))
    assert ckpt["dtype"] == np.float32
    args = ckpt["args"]
    assert type(args) is argparse.Namespace
    assert vars(args) == {"lr": 0.1, "epochs": 3, "arch": "resnet", "milestones": [2, 4]}
    counts = ckpt["counts"]
    assert type(counts) is collections.defaultdict and counts.default_factory is int
    assert counts["a"] == 2 and counts["missing"] == 0
    history = ckpt["history"]
    assert type(history) is collections.deque and list(history) == [0.5, 0.25]
    assert history.maxlen == 3
    assert ckpt["when"] == datetime.datetime(2024, 5, 6, 7, 8, 9)
    assert ckpt["took"] == datetime.timedelta(seconds=90)
    assert ckpt["out_dir"] == pathlib.PurePosixPath("/runs/exp1")
    assert ckpt["window"] == range(2, 10, 3) and ckpt["crop"] == slice(1, None, 2)


def test_default_still_refuses_numpy_as_pytorch_does():
    with pytest.raises(pickle.UnpicklingError, match="numpy._core.multiarray"):
        cr.load(FIXTURES / "plain_data.pt")
    with pytest.raises(pickle.UnpicklingError, match="numpy._core.multiarray"):
        cr.load(FIXTURES / "plain_data.pt", weights_only=True)


def _load_pickle(raw):
    return cr.load(io.BytesIO(zip_archive(raw)), weights_only=False)


def test_numpy_1_names_load():
    # files written under NumPy 1.x name the reconstruct functions under numpy.core
    raw = pickle.dumps({"a": np.arange(3.0), "s": np.float32(2.5)}, protocol=2)
    old = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert old != raw
    obj = _load_pickle(old)
    np.testing.assert_array_equal(obj["a"], [0.0, 1.0, 2.0])
    assert type(obj["s"]) is np.float32 and obj["s"] == 2.5


class Subclass(np.ndarray):
    pass


@pytest.mark.parametrize("value, refused", [
    # an ndarray subclass would run its own code when rebuilt: np.recarray, np.memmap, ours
    (np.arange(3.0).view(Subclass), "Subclass"),
    (np.zeros(2, dtype=[("a", "<i4")]).view(np.recarray), "recarray"),
    # a defaultdict's factory is called on a missing key: only plain types
    (collections.defaultdict(np.ones), "ones"),
    # what a path or a datetime is made of is checked; other callables stay refused
    (pathlib.PurePosixPath("/a"), None),
])
def test_only_plain_values_are_made(value, refused):
    raw = pickle.dumps({"v": value}, protocol=2)
    if refused is None:
        assert _load_pickle(raw)["v"] == value
        return
    with pytest.raises(pickle.UnpicklingError, match=refused):
        _load_pickle(raw)


def test_a_function_in_an_object_array_is_refused():
    raw = pickle.dumps(np.array([print], dtype=object), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        _load_pickle(raw)


def test_chainrule_save_keeps_a_namespace(tmp_path):
    # the run's arguments saved beside the weights, in chainrule's own format
    args = argparse.Namespace(lr=0.5, name="run", sizes=[2, 3], weights=cr.ones(2))
    cr.save({"args": args, "epoch": 3}, tmp_path / "ckpt.pt")
    loaded = cr.load(tmp_path / "ckpt.pt")
    back = loaded["args"]
    assert type(back) is argparse.Namespace and loaded["epoch"] == 3
    assert (back.lr, back.name, back.sizes) == (0.5, "run", [2, 3])
    assert back.weights.tolist() == [1.0, 1.0]
