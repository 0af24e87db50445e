"""Making tensors: dtypes, memory sharing, ranges, constants, *_like, and bad input."""

import numpy as np
import pytest

import chainrule as cr


def test_dtypes_are_exported_and_map_to_numpy():
    for dtype, np_dtype in [(cr.float32, np.float32), (cr.float64, np.float64),
                            (cr.int64, np.int64), (cr.int32, np.int32), (cr.bool, np.bool_)]:
        assert dtype.numpy == np.dtype(np_dtype)
        assert cr.zeros(1, dtype=dtype).dtype == dtype
    assert cr.float is cr.float32 and cr.double is cr.float64 and cr.long is cr.int64
    assert repr(cr.float32) == "chainrule.float32"


def test_tensor_infers_pytorch_dtypes():
    assert cr.tensor([1.0, 2.0]).dtype == cr.float32  # default float
    assert cr.tensor(3.0).dtype == cr.float32
    assert cr.tensor([1, 2]).dtype == cr.int64
    assert cr.tensor([True]).dtype == cr.bool
    assert cr.tensor([1, 2.5]).dtype == cr.float32
    assert cr.tensor([]).dtype == cr.float32
    assert cr.tensor(np.array([1.0])).dtype == cr.float64  # arrays keep theirs
    assert cr.tensor(np.float64(1.0)).dtype == cr.float64
    assert cr.tensor(np.array([1, 2], dtype=np.int32)).dtype == cr.int32
    assert cr.tensor([1, 2], dtype=cr.float64).dtype == cr.float64
    assert cr.tensor([[1.0, 2.0], [3.0, 4.0]]).shape == (2, 2)


def test_tensor_copies_its_data():
    array = np.array([1.0, 2.0])
    t = cr.tensor(array)
    array[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    source = cr.tensor([1.0])
    copy = cr.tensor(source)
    copy.add_(1)
    assert source.item() == 1.0


def test_tensor_from_a_list_of_tensors():
    # as PyTorch 2.13: each tensor in a list counts as its one value; stack joins bigger ones
    t = cr.tensor([cr.tensor([1.0]), cr.tensor(2.0)])
    assert t.shape == (2,) and t.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="only one element tensors"):
        cr.tensor([cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])])


def test_from_numpy_and_as_tensor_share_memory():
    array = np.arange(3.0)
    t = cr.from_numpy(array)
    array[0] = 7.0
    assert t.dtype == cr.float64 and t[0].item() == 7.0
    t.mul_(2)
    assert array.tolist() == [14.0, 2.0, 4.0]
    shared = cr.as_tensor(array)
    array[1] = -1.0
    assert shared.tolist()[1] == -1.0
    converted = cr.as_tensor(array, dtype=cr.float32)
    array[2] = 100.0
    assert converted.dtype == cr.float32 and converted.tolist()[2] == 4.0
    assert cr.as_tensor(t) is t
    assert cr.as_tensor([1, 2]).dtype == cr.int64


def test_from_numpy_bad_input():
    with pytest.raises(TypeError, match="numpy.ndarray"):
        cr.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="not supported"):
        cr.from_numpy(np.array([1 + 2j]))


def test_constant_factories():
    assert cr.zeros(2, 3).tolist() == [[0.0] * 3] * 2 and cr.zeros(2, 3).dtype == cr.float32
    assert cr.zeros((2, 3)).shape == cr.zeros([2, 3]).shape == cr.zeros(cr.Size([2, 3])).shape
    assert cr.ones(2, dtype=cr.int64).tolist() == [1, 1]
    assert cr.empty(4, 5).shape == (4, 5)
    assert cr.full((2,), 1.5).dtype == cr.float32 and cr.full((2,), 1.5).tolist() == [1.5, 1.5]
    assert cr.full((2,), 7).dtype == cr.int64
    assert cr.full((2,), True).dtype == cr.bool
    assert cr.full((1,), 2, dtype=cr.float64).dtype == cr.float64
    np.testing.assert_array_equal(cr.eye(3).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(cr.eye(2, 3).numpy(), np.eye(2, 3))
    z = cr.zeros(2, requires_grad=True)
    assert z.requires_grad and z.is_leaf


def test_factories_take_the_size_as_a_keyword_too():
    # PyTorch: torch.empty(size=(2, 3)) (the GAT example), x.new_zeros(size=...), never both
    x = cr.ones(1, dtype=cr.float64)
    for made in (cr.empty(size=(2, 3)), cr.zeros(size=[2, 3]), cr.ones(size=cr.Size([2, 3])),
                 cr.rand(size=(2, 3)), cr.randn(size=(2, 3)), x.new_zeros(size=(2, 3)),
                 x.new_ones(size=(2, 3)), x.new_empty(size=(2, 3))):
        assert tuple(made.shape) == (2, 3)
    assert x.new_zeros(size=(2,)).dtype == cr.float64
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        cr.zeros(2, size=(3,))


def test_arange():
    assert cr.arange(5).tolist() == [0, 1, 2, 3, 4] and cr.arange(5).dtype == cr.int64
    assert cr.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert cr.arange(5, 0, -2).tolist() == [5, 3, 1]
    t = cr.arange(0, 1, 0.1)
    assert t.dtype == cr.float32 and t.numel() == 10
    # each value is start + i * step, rounded once to float32
    np.testing.assert_array_equal(t.numpy(), (np.arange(10) * 0.1).astype(np.float32))
    assert cr.arange(3.0).tolist() == [0.0, 1.0, 2.0]
    assert cr.arange(3, dtype=cr.float64).dtype == cr.float64
    with pytest.raises(ValueError, match="nonzero"):
        cr.arange(0, 5, 0)


def test_linspace():
    t = cr.linspace(0, 1, 5)
    assert t.dtype == cr.float32
    np.testing.assert_allclose(t.numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert cr.linspace(-1, 1, 3, dtype=cr.float64).tolist() == [-1.0, 0.0, 1.0]


def test_like_factories_follow_the_input():
    base = cr.ones(2, 3, dtype=cr.float64)
    for like in (cr.zeros_like, cr.ones_like, cr.empty_like, cr.rand_like, cr.randn_like):
        t = like(base)
        assert t.shape == (2, 3) and t.dtype == cr.float64
    assert cr.zeros_like(base).tolist() == [[0.0] * 3] * 2
    assert cr.ones_like(cr.tensor([1, 2])).dtype == cr.int64
    assert cr.full_like(base, 4.0).tolist() == [[4.0] * 3] * 2
    assert cr.zeros_like(base, dtype=cr.float32).dtype == cr.float32
    r = cr.randint_like(cr.zeros(50, dtype=cr.int64), 3, 6)
    assert r.dtype == cr.int64 and 3 <= r.min().item() and r.max().item() < 6
    assert cr.zeros_like(base, requires_grad=True).requires_grad


def test_bad_sizes_and_dtypes():
    with pytest.raises(TypeError, match="size"):
        cr.zeros("abc")
    with pytest.raises(TypeError, match="size"):
        cr.ones(2.5)
    with pytest.raises(RuntimeError, match="non-negative"):
        cr.zeros(-1)
    with pytest.raises(TypeError, match="not supported"):
        cr.zeros(2, dtype=np.complex64)
    with pytest.raises(ValueError, match="could not make a tensor"):
        cr.tensor([[1.0, 2.0], [3.0]])
