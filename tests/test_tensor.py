"""The Tensor: properties, conversions, NumPy interop, autograd attributes and repr."""

import numpy as np
import pytest

import chainrule as cr


def test_shape_properties():
    t = cr.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, cr.Size)
    assert repr(t.shape) == "chainrule.Size([2, 3, 4])"
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == t.dim() == 3 and t.numel() == 24 and t.shape.numel() == 24
    assert len(t) == 2
    assert cr.tensor(5.0).shape == () and cr.tensor(5.0).numel() == 1


def test_size_arithmetic_and_slices_stay_sizes():
    # PyTorch: Size + tuple, tuple + Size, Size * n and Size[a:b] are Sizes; Size[i] an int
    s = cr.Size([2, 3])
    for made, expected in [(s + (1,), (2, 3, 1)), ((1,) + s, (1, 2, 3)), (s * 2, (2, 3, 2, 3)),
                           (s[1:], (3,)), (s + cr.Size([4]), (2, 3, 4))]:
        assert isinstance(made, cr.Size) and made == expected
    assert s[0] == 2 and type(s[0]) is int


def test_transposes():
    t = cr.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(t.T.numpy(), np.arange(6).reshape(2, 3).T)
    b = cr.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(b.mT.numpy(), np.swapaxes(np.arange(24).reshape(2, 3, 4), -1, -2))
    np.testing.assert_array_equal(b.T.numpy(), np.arange(24).reshape(2, 3, 4).T)
    with pytest.raises(RuntimeError, match="mT"):
        _ = cr.ones(3).mT


def test_dtype_conversions():
    t = cr.tensor([1.7, -2.2])
    assert t.dtype == cr.float32 and t.is_floating_point()
    assert t.double().dtype == cr.float64
    assert t.long().dtype == cr.int64 and t.long().tolist() == [1, -2]  # truncates like PyTorch
    assert t.int().dtype == cr.int32
    assert t.to(cr.float64).dtype == cr.float64
    assert t.to(cr.float32) is t  # same dtype: no copy
    assert cr.tensor([1, 2]).float().dtype == cr.float32
    assert t.to(cr.zeros(1, dtype=cr.float64)).dtype == cr.float64
    assert t.to("cpu", cr.float64).dtype == cr.float64
    assert t.bool().tolist() == [True, True]


def test_conversions_keep_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_numpy_interop_shares_memory():
    t = cr.tensor([1.0, 2.0])
    array = t.numpy()
    array[0] = 9.0
    assert t.tolist() == [9.0, 2.0]
    assert np.asarray(t) is array or np.shares_memory(np.asarray(t), array)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(t).tolist() == [9.0, 2.0]


def test_numpy_on_a_tensor_that_requires_grad():
    x = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


def test_item_and_tolist():
    assert cr.tensor(2.5).item() == 2.5 and isinstance(cr.tensor(2.5).item(), float)
    assert isinstance(cr.tensor(3).item(), int) and cr.tensor(True).item() is True
    assert cr.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert float(cr.tensor([1.5])) == 1.5 and int(cr.tensor(7)) == 7
    with pytest.raises(RuntimeError, match="exactly one element"):
        cr.tensor([1.0, 2.0]).item()


def test_requires_grad_leaf_and_grad_fn():
    x = cr.tensor([1.0])
    assert not x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert y.requires_grad and not y.is_leaf and type(y.grad_fn).__name__ == "Mul"
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    x.requires_grad_(False)
    assert not x.requires_grad


def test_detach_shares_memory_and_version():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    with cr.no_grad():
        d.add_(1)
    assert x.detach().tolist() == [2.0, 3.0]
    assert x._version == d._version == 1


def test_clone_copies_and_keeps_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and not np.shares_memory(c.detach().numpy(), x.detach().numpy())
    (c * c).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_contiguous():
    t = cr.arange(6.0).reshape(2, 3).T
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.tolist() == t.tolist()
    assert c.contiguous() is c


def test_retain_grad_on_a_leaf_is_harmless():
    x = cr.tensor([1.0], requires_grad=True)
    x.retain_grad()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


@pytest.mark.parametrize("make, expected", [
    (lambda: cr.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: cr.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: cr.tensor(3.0, dtype=cr.float64), "tensor(3., dtype=chainrule.float64)"),
    (lambda: cr.tensor(3.5), "tensor(3.5000)"),
    (lambda: cr.tensor([1.5, 2.0]), "tensor([1.5000, 2.0000])"),
    (lambda: cr.tensor([-0.5, 0.25]), "tensor([-0.5000,  0.2500])"),
    (lambda: cr.tensor([1e-5, 1e5]), "tensor([1.0000e-05, 1.0000e+05])"),
    (lambda: cr.tensor([0.1, 123456.7]), "tensor([1.0000e-01, 1.2346e+05])"),
    (lambda: cr.tensor([float("nan"), 1.0, float("inf")]), "tensor([nan, 1., inf])"),
    (lambda: cr.tensor([True, False]), "tensor([ True, False])"),
    (lambda: cr.tensor([1, 2], dtype=cr.int32), "tensor([1, 2], dtype=chainrule.int32)"),
    (lambda: cr.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: cr.zeros(0), "tensor([])"),
    (lambda: cr.tensor([], dtype=cr.int64), "tensor([], dtype=chainrule.int64)"),
    (lambda: cr.zeros(0, 3, dtype=cr.bool), "tensor([], size=(0, 3), dtype=chainrule.bool)"),
    (lambda: cr.tensor(True), "tensor(True)"),
    (lambda: cr.tensor(3), "tensor(3)"),
    (lambda: cr.tensor(-0.0), "tensor(-0.)"),
    (lambda: cr.tensor([[1e10, 1.5]]), "tensor([[1.0000e+10, 1.5000e+00]])"),
    (lambda: cr.tensor([1.123456789e-3, 2.0]), "tensor([1.1235e-03, 2.0000e+00])"),
    (lambda: cr.tensor([1.0, 2.0], dtype=cr.float16), "tensor([1., 2.], dtype=chainrule.float16)"),
    (lambda: cr.tensor([1.0, 2.0], requires_grad=True) * 2,
     "tensor([2., 4.], grad_fn=<MulBackward>)"),
    (lambda: cr.tensor([[1.0, 2.0], [3.0, 40.0]]), "tensor([[ 1.,  2.],\n        [ 3., 40.]])"),
    (lambda: cr.tensor([[1.5, -2.25], [3.0, 4.0]]),
     "tensor([[ 1.5000, -2.2500],\n        [ 3.0000,  4.0000]])"),
    (lambda: cr.tensor([[1, -20], [300, 4]]), "tensor([[  1, -20],\n        [300,   4]])"),
    (lambda: cr.arange(12.0).reshape(2, 2, 3),
     "tensor([[[ 0.,  1.,  2.],\n         [ 3.,  4.,  5.]],\n\n"
     "        [[ 6.,  7.,  8.],\n         [ 9., 10., 11.]]])"),
])
def test_repr_matches_pytorch_layout(make, expected):
    # expected strings are PyTorch 2.x output with "torch." spelled "chainrule."
    assert repr(make()) == expected
    assert str(make()) == expected


def test_repr_leaves_out_the_default_dtype_whichever_it_is():
    # PyTorch 2.13's output under set_default_dtype(torch.float64), "torch." as "chainrule."
    previous = cr.get_default_dtype()
    cr.set_default_dtype(cr.float64)
    try:
        assert repr(cr.ones(2)) == "tensor([1., 1.])"
        assert repr(cr.ones(2, dtype=cr.float32)) == "tensor([1., 1.], dtype=chainrule.float32)"
        assert repr(cr.empty(0)) == "tensor([])"
        assert repr(cr.empty(0, dtype=cr.float32)) == "tensor([], dtype=chainrule.float32)"
        assert repr(cr.tensor([], dtype=cr.int64)) == "tensor([], dtype=chainrule.int64)"
    finally:
        cr.set_default_dtype(previous)
    assert repr(cr.ones(1, dtype=cr.float64)) == "tensor([1.], dtype=chainrule.float64)"


def test_print_options_sci_mode_as_pytorch():
    # PyTorch 2.13's output for the same calls, "torch." spelled "chainrule."
    try:
        cr.set_printoptions(precision=2, sci_mode=False)
        assert repr(cr.tensor([1e-5, 3.14159, 1e5])) == "tensor([     0.00,      3.14, 100000.00])"
        cr.set_printoptions(sci_mode=True)
        assert repr(cr.tensor([1.5, 2.0])) == "tensor([1.50e+00, 2.00e+00])"
        cr.set_printoptions(profile="default")  # (each call sets sci_mode: back to automatic)
        automatic = "tensor([1.0000e-05, 3.1416e+00, 1.0000e+05])"
        assert repr(cr.tensor([1e-5, 3.14159, 1e5])) == automatic
    finally:
        cr.set_printoptions(profile="default")


def test_repr_of_a_large_tensor_is_summarized_like_pytorch():
    expected = ("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
                "        1.9990e+03])")
    assert repr(cr.arange(2000.0)) == expected
    row = "[0., 0., 0.,  ..., 0., 0., 0.]"
    rows = [row] * 3 + ["..."] + [row] * 3
    assert repr(cr.zeros(100, 100)) == "tensor([" + ",\n        ".join(rows) + "])"


def test_format_of_a_scalar_tensor():
    assert f"{cr.tensor(2.5):.2f}" == "2.50"


def test_float_and_int_of_a_tensor_need_one_element():
    assert float(cr.tensor([[2.5]])) == 2.5 and int(cr.tensor([7])) == 7
    for convert in (float, int):
        with pytest.raises(ValueError, match=r"only one element tensors .* shape \(2,\)"):
            convert(cr.tensor([1.0, 2.0]))


def test_bool_of_a_tensor():
    assert bool(cr.tensor([1.0])) and not bool(cr.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(cr.tensor([1.0, 2.0]))


def test_device():
    t = cr.zeros(1)
    assert t.device == cr.device("cpu") and t.cpu() is t
    with pytest.raises(RuntimeError, match="cpu"):
        t.to("cuda")


def test_deepcopy_copies_leaves_and_refuses_graph_nodes():
    import copy

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    y = copy.deepcopy(x)
    assert y.requires_grad and y.is_leaf and y.grad.tolist() == [3.0, 3.0]
    y.detach().add_(1)
    assert x.detach().tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="leaves"):
        copy.deepcopy(x * 2)
