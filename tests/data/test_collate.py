"""default_collate and default_convert against hand-built expected batches."""

import collections

import numpy as np
import pytest

import chainrule
from chainrule.data import default_collate, default_convert

Point = collections.namedtuple("Point", ["x", "y"])


def test_numbers_follow_pytorch_dtypes():
    floats = default_collate([1.5, 2.0])
    ints = default_collate([1, 2, 3])
    bools = default_collate([True, False])
    assert floats.dtype == chainrule.float64 and floats.tolist() == [1.5, 2.0]
    assert ints.dtype == chainrule.int64 and ints.tolist() == [1, 2, 3]
    assert bools.dtype == chainrule.bool and bools.tolist() == [True, False]


def test_tensors_and_arrays_are_stacked_keeping_dtype():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    batch = default_collate([chainrule.from_numpy(a), chainrule.from_numpy(a + 10)])
    assert tuple(batch.shape) == (2, 2, 3) and batch.dtype == chainrule.float32
    np.testing.assert_array_equal(batch.numpy(), np.stack([a, a + 10]))
    arrays = default_collate([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)])
    assert arrays.dtype == chainrule.int32 and arrays.tolist() == [[1, 2], [3, 4]]
    scalars = default_collate([np.float32(1), np.float32(2)])
    assert scalars.dtype == chainrule.float32 and scalars.tolist() == [1.0, 2.0]


def test_batch_is_a_copy_not_a_view_of_the_samples():
    a = np.zeros(3, dtype=np.float32)
    batch = default_collate([chainrule.from_numpy(a)])
    a[0] = 5
    assert batch.tolist() == [[0.0, 0.0, 0.0]]


def test_recurses_into_tuples_lists_dicts_and_namedtuples():
    batch = default_collate([
        {"pair": (1, 2.0), "list": [3, 4], "point": Point(5, 6), "name": "a"},
        {"pair": (7, 8.0), "list": [9, 10], "point": Point(11, 12), "name": "b"},
    ])
    assert isinstance(batch["pair"], list)  # PyTorch turns tuples into lists
    assert batch["pair"][0].tolist() == [1, 7] and batch["pair"][1].tolist() == [2.0, 8.0]
    assert batch["pair"][1].dtype == chainrule.float64
    assert [t.tolist() for t in batch["list"]] == [[3, 9], [4, 10]]
    assert isinstance(batch["point"], Point)
    assert batch["point"].x.tolist() == [5, 11] and batch["point"].y.tolist() == [6, 12]
    assert batch["name"] == ["a", "b"]


def test_ragged_shapes_error_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"\(2,\), \(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="same number of fields"):
        default_collate([[1, 2], [1, 2, 3]])


def test_unsupported_types_raise_type_errors():
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="dtype"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="non-empty"):
        default_collate([])


def test_default_convert_wraps_arrays_and_keeps_the_rest():
    converted = default_convert({"a": np.arange(3), "b": (np.float64(2.5), "s")})
    assert isinstance(converted["a"], chainrule.Tensor) and converted["a"].tolist() == [0, 1, 2]
    assert converted["b"][0].dtype == chainrule.float64 and converted["b"][1] == "s"
    assert default_convert(3) == 3


def test_samples_that_require_grad_are_stacked_in_the_graph():
    weight = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    batch = default_collate([weight * 2, weight * 3])
    batch.sum().backward()
    np.testing.assert_allclose(weight.grad.numpy(), [5.0, 5.0, 5.0])
