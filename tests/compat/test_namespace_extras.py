"""Top-level helpers (chainrule._torch_functions) and Tensor extras (chainrule.ops.tensor_misc):
PyTorch's documented answers, checked by hand-derived values."""

import math

import numpy as np
import pytest

import chainrule as torch


def test_queries():
    x = torch.ones(2, 3)
    assert torch.is_tensor(x) and not torch.is_tensor(np.ones(2)) and not torch.is_storage(x)
    assert torch.numel(x) == 6 and x.nelement() == 6 and x.ndimension() == 2
    assert torch.is_floating_point(x) and not torch.is_floating_point(torch.tensor([1]))
    assert torch.is_nonzero(torch.tensor([1.5])) and torch.is_same_size(x, torch.zeros(2, 3))
    assert torch.tensor([1]).is_signed() and not torch.tensor([1], dtype=torch.uint8).is_signed()
    with pytest.raises(RuntimeError, match="ambiguous"):
        torch.is_nonzero(x)
    assert (torch.e, torch.pi) == (math.e, math.pi) and math.isnan(torch.nan)


def test_dtype_limits():
    assert torch.finfo(torch.float32).eps == np.finfo(np.float32).eps
    assert torch.finfo(torch.float64).max == np.finfo(np.float64).max
    assert torch.finfo().tiny == np.finfo(np.float32).tiny
    # resolution is 10 ** -(decimal digits the type holds) as a Python float, as PyTorch's
    for dtype, resolution in [(torch.float16, 1e-3), (torch.bfloat16, 1e-2),
                              (torch.float32, 1e-6), (torch.float64, 1e-15)]:
        assert torch.finfo(dtype).resolution == resolution, dtype
    assert repr(torch.finfo(torch.float32)).startswith("finfo(resolution=1e-06, min=-3.40282e+38")
    assert torch.iinfo(torch.int8).min == -128 and torch.iinfo(torch.uint8).max == 255
    with pytest.raises(TypeError):
        torch.iinfo(torch.float32)


def test_factories():
    a = np.arange(3.0)
    assert torch.asarray(a).numpy() is a
    assert torch.asarray([1, 2]).dtype == torch.int64
    assert torch.scalar_tensor(3).dtype == torch.float32 and torch.scalar_tensor(3).shape == ()
    with pytest.warns(UserWarning, match="deprecated"):
        assert torch.range(1, 4).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert torch.frombuffer(bytearray(b"\x01\x02"), dtype=torch.uint8).tolist() == [1, 2]
    np.testing.assert_allclose(torch.hann_window(4).numpy(), [0.0, 0.5, 1.0, 0.5], atol=1e-7)
    np.testing.assert_allclose(torch.hamming_window(5, periodic=False).numpy(),
                               np.hamming(5), rtol=1e-6)
    np.testing.assert_allclose(torch.blackman_window(6, periodic=False).numpy(),
                               np.blackman(6), atol=1e-6)
    np.testing.assert_allclose(torch.bartlett_window(5, periodic=False).numpy(),
                               np.bartlett(5), atol=1e-7)
    assert torch.empty_strided((2, 3), (3, 1)).shape == (2, 3)


def test_tensor_extras():
    t = torch.arange(6.0)
    assert t.new(2, 2).shape == (2, 2) and t.new([1, 2]).dtype == torch.float32
    assert t.byte().dtype == torch.uint8 and t.char().dtype == torch.int8
    assert t.short().dtype == torch.int16
    assert t.unfold(0, 2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert torch.as_strided(t, (2, 2), (1, 2)).tolist() == [[0.0, 2.0], [1.0, 3.0]]
    m = torch.zeros(3, 4)
    m.fill_diagonal_(1.0)
    assert m.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    u = torch.zeros(1000)
    u.uniform_(-2, 3, generator=torch.Generator().manual_seed(0))
    assert -2 <= u.min().item() and u.max().item() < 3 and abs(u.mean().item() - 0.5) < 0.2
    v = torch.zeros(1000, dtype=torch.int64)
    v.random_(0, 5)
    assert set(v.tolist()) == {0, 1, 2, 3, 4}
    s = torch.ones(2, 3)
    assert s.unsqueeze_(0).shape == (1, 2, 3) and s.squeeze_().shape == (2, 3)
    assert s.t_().shape == (3, 2)
    r = torch.arange(4.0)
    r.resize_(2, 3)
    assert r.tolist() == [[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]]
    k = torch.tensor([1.0, 2.0])
    k.apply_(lambda x: x * 10)
    assert k.tolist() == [10.0, 20.0]
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out-of-place"):
        w.unsqueeze_(0)


def test_print_options():
    try:
        torch.set_printoptions(precision=2)
        assert repr(torch.tensor([1.23456])) == "tensor([1.23])"
    finally:
        torch.set_printoptions(profile="default")
    assert repr(torch.tensor([1.23456])) == "tensor([1.2346])"


def test_removed_functions_raise_as_in_pytorch():
    for call in (lambda: torch.solve(torch.eye(2), torch.eye(2)), lambda: torch.symeig(
            torch.eye(2)), lambda: torch.eye(2).lstsq(torch.eye(2)),
                 lambda: torch.ones(2).reinforce(1)):
        with pytest.raises(RuntimeError, match="removed"):
            call()


def test_conv_gradients_of_nn_grad_match_backward():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(1, 3, 2, 2, dtype=torch.float64)
    (torch.nn.functional.conv2d(x, w, stride=2) * grad_out).sum().backward()
    np.testing.assert_allclose(torch.nn.grad.conv2d_input(x.shape, w, grad_out, stride=2)
                               .numpy(), x.grad.numpy())
    np.testing.assert_allclose(torch.nn.functional.grad.conv2d_weight(x, w.shape, grad_out, 2)
                               .numpy(), w.grad.numpy())


def test_deprecated_norm_spellings_and_lazy_multiprocessing():
    m = torch.tensor([[3.0, 0.0], [0.0, 4.0]])
    assert torch.nuclear_norm(m).item() == pytest.approx(7.0)
    assert torch.frobenius_norm(m).item() == pytest.approx(5.0)
    assert callable(torch.multiprocessing.spawn)
    assert torch.ones(2).grad_dtype == torch.float32
