"""Small answers PyTorch programs read: ``Tensor.type()``, ``torch.__version__`` under the
alias, the ``pin_memory`` warning, ``kthvalue``'s index among ties (each value below was
printed by PyTorch 2.13)."""

import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, TensorDataset
from tests.compat.torch_alias import torch_is_chainrule


@pytest.mark.parametrize("dtype, name", [
    (cr.float32, "torch.FloatTensor"), (cr.float64, "torch.DoubleTensor"),
    (cr.float16, "torch.HalfTensor"), (cr.bfloat16, "torch.BFloat16Tensor"),
    (cr.int64, "torch.LongTensor"), (cr.int32, "torch.IntTensor"),
    (cr.int16, "torch.ShortTensor"), (cr.int8, "torch.CharTensor"),
    (cr.uint8, "torch.ByteTensor"), (cr.bool, "torch.BoolTensor"),
])
def test_type_names_the_legacy_tensor_type(dtype, name):
    x = cr.zeros(2, dtype=dtype)
    assert x.type() == name and cr.typename(x) == name
    assert cr.zeros(2).type(name).dtype == dtype  # and converts back from the name


def test_type_converts_to_a_dtype_or_legacy_class():
    x = cr.tensor([1.5, -2.5])
    assert x.type(cr.DoubleTensor).dtype == cr.float64
    assert x.type(cr.int32).tolist() == [1, -2]
    with pytest.raises(RuntimeError, match="computes on the CPU"):
        x.type(cr.cuda.FloatTensor)
    with pytest.raises(RuntimeError, match="computes on the CPU"):
        x.type("torch.cuda.FloatTensor")
    with pytest.raises(ValueError, match="invalid type"):  # PyTorch 2.13's class
        x.type("torch.ComplexTensor")


def test_version_is_chainrules_own_outside_the_alias():
    assert cr.__version__ == "0.1.0" and cr.version.__version__ == "0.1.0"


def test_version_under_the_alias_takes_modern_pytorch_branches():
    with torch_is_chainrule():
        import torch

        v = torch.__version__
        assert v == "2.13.0+chainrule.0.1.0" and torch.version.__version__ == v
        assert v.split("+")[0] == "2.13.0"
        # PyTorch 2.13's answers for its "2.13.0+cpu"
        assert v >= "2" and v >= "1.13.1" and v > "2.13.0" and v < "2.14" and v < "10"
        assert v >= (2, 0) and v < (2, 14) and v != "2.13.0" and v != (2, 13, 0)
        assert int(v.split(".")[0]) >= 2
        packaging = pytest.importorskip("packaging.version")
        assert packaging.parse(v) >= packaging.parse("2.0")
    assert sys.modules.get("torch") is not cr and cr.__version__ == "0.1.0"


def test_pin_memory_warns_at_each_epoch_as_pytorch_without_an_accelerator():
    loader = DataLoader(TensorDataset(cr.zeros(4, 2)), batch_size=2, pin_memory=True)
    for _ in range(2):
        with pytest.warns(UserWarning, match="no accelerator is found"):
            assert len(list(loader)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(DataLoader(TensorDataset(cr.zeros(4, 2)), batch_size=2))


def test_kthvalue_reports_pytorchs_index_among_ties():
    x = cr.tensor([[3.0, 1, 3, 1, 2, 3, 1], [5, 5, 5, 5, 5, 5, 5]])
    torch_indices = {1: [1, 3], 2: [3, 4], 3: [6, 5], 4: [4, 0], 5: [2, 2], 6: [5, 1],
                     7: [0, 6]}
    for k, indices in torch_indices.items():
        values, got = cr.kthvalue(x, k)
        assert got.tolist() == indices, k
        np.testing.assert_array_equal(x.gather(1, got[:, None])[:, 0].numpy(), values.numpy())
    # NaN sorts last, and ties among NaNs are broken the same way (PyTorch: index 0, then 2)
    nan = float("nan")
    values, index = cr.tensor([nan, 1.0, nan, 0.0]).kthvalue(4)
    assert np.isnan(values.item()) and index.item() == 0
    assert cr.tensor([nan, 1.0, nan, 0.0]).kthvalue(3).indices.item() == 2
    assert cr.tensor([nan, 1.0, nan, 0.0]).kthvalue(2).indices.item() == 1


def test_nonzero_static_method_pads_and_cuts_as_pytorch():
    assert cr.tensor([0, 3, 0, 5]).nonzero_static(size=3).tolist() == [[1], [3], [-1]]
    assert cr.tensor([[1, 0], [0, 1]]).nonzero_static(size=1).tolist() == [[0, 0]]


def test_signal_windows_check_arguments_as_pytorch():
    windows = cr.signal.windows
    with pytest.raises(ValueError, match="non-negative window length"):
        windows.hann(-1)
    with pytest.raises(ValueError, match="Center must be None for symmetric windows"):
        windows.exponential(5, center=1.0)
    with pytest.raises(ValueError, match="float32 or float64"):
        windows.cosine(4, dtype=cr.int64)
    with pytest.raises(RuntimeError, match="computes on the CPU"):
        windows.kaiser(4, device="cuda")
    assert windows.cosine(0).shape == (0,) and windows.cosine(1).tolist() == [1.0]
    assert windows.gaussian(3).dtype == cr.float32
    assert windows.hann(3, requires_grad=True).requires_grad
