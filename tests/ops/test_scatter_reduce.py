import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import scatter_reduce as sr
from tests.opcheck import OpCase, check_case

INDEX = np.array([[0, 2, 2, 1], [2, 2, 0, 1]])  # repeats within columns; row 1 of x not hit
ROW_INDEX = np.array([0, 2, 0])
REDUCE = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}


def np_scatter_reduce(x, dim, index, src, reduce, include_self=True):
    """A loop over the positions: the definition, independent of the op's ufunc.at."""
    gathered = {}
    for pos in np.ndindex(index.shape):
        target = list(pos)
        target[dim] = index[pos]
        gathered.setdefault(tuple(target), []).append(src[pos])
    out = x.copy()
    for target, values in gathered.items():
        values = ([x[target]] if include_self else []) + values
        out[target] = REDUCE[reduce](values)
    return out


def _index():
    return cr.tensor(INDEX)


def _row(reduce, include_self, domain="real"):
    return OpCase(
        f"scatter_reduce_{reduce}_{'self' if include_self else 'noself'}",
        lambda x, s: x.scatter_reduce(0, _index(), s, reduce, include_self=include_self),
        lambda x, s: np_scatter_reduce(x, 0, INDEX, s[:2], reduce, include_self),
        [(3, 4), (3, 4)], (sr.ScatterReduce,), domain=domain)


CASES = [_row(r, s, "nonzero" if r == "prod" else "real")
         for r in REDUCE for s in (True, False)] + [
    OpCase("scatter_reduce_fn_dim1",
           lambda x, s: cr.scatter_reduce(x, 1, _index().T[:, :2], s, "mean"),
           lambda x, s: np_scatter_reduce(x, 1, INDEX.T[:, :2], s[:, :2], "mean"),
           [(4, 3), (4, 2)], (sr.ScatterReduce,)),
    OpCase("index_reduce_prod",
           lambda x, s: x.index_reduce(0, cr.tensor(ROW_INDEX), s, "prod"),
           lambda x, s: np_scatter_reduce(x, 0, np.repeat(ROW_INDEX[:, None], 2, 1), s, "prod"),
           [(3, 2), (3, 2)], domain="nonzero"),
    OpCase("index_reduce_amax_noself",
           lambda x, s: cr.index_reduce(x, 1, cr.tensor(ROW_INDEX), s, "amax",
                                        include_self=False),
           lambda x, s: np_scatter_reduce(x, 1, np.repeat(ROW_INDEX[None], 2, 0), s, "amax",
                                          False),
           [(2, 3), (2, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_op_table(case):
    check_case(case)


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = cr.tensor([2.0, 3.0, 0.0], dtype=cr.float64, requires_grad=True)
    src = cr.tensor([0.0, 5.0, 4.0, 0.0, 7.0], dtype=cr.float64, requires_grad=True)
    index = cr.tensor([0, 0, 1, 2, 2])
    # position 0: 2*0*5 (one zero), 1: 3*4, 2: 0*0*7 (two zeros)
    out = x.scatter_reduce(0, index, src, "prod")
    np.testing.assert_array_equal(out.detach().numpy(), [0.0, 12.0, 0.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 0.0])
    np.testing.assert_array_equal(src.grad.numpy(), [10.0, 0.0, 3.0, 0.0, 0.0])
    assert gradcheck(lambda a, b: a.scatter_reduce(0, index, b, "prod"), (x, src))
    assert gradgradcheck(lambda a, b: a.scatter_reduce(0, index, b, "prod"), (x, src))


def test_amax_shares_the_gradient_among_ties():
    x = cr.tensor([1.0, 5.0], requires_grad=True)
    src = cr.tensor([1.0, 1.0, 2.0], requires_grad=True)
    out = x.scatter_reduce(0, cr.tensor([0, 0, 1]), src, "amax")
    out.backward(cr.tensor([3.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(src.grad.numpy(), [1.0, 1.0, 0.0])


def test_integer_mean_floors_as_pytorch():
    # PyTorch 2.13: tensor([-5, 7, 3]).scatter_reduce(0, [0, 0, 1], [2, -4, 4], "mean")
    x, src = cr.tensor([-5, 7, 3]), cr.tensor([2, -4, 4])
    index = cr.tensor([0, 0, 1])
    assert x.scatter_reduce(0, index, src, "mean").tolist() == [-3, 5, 3]
    assert x.index_reduce(0, index, src, "mean", include_self=False).tolist() == [-1, 4, 3]
    assert x.scatter_reduce(0, index, src, "amin").dtype == cr.int64


def test_in_place_forms_write_into_the_tensor():
    x = cr.zeros(3)
    y = x.scatter_reduce_(0, cr.tensor([0, 0, 2]), cr.tensor([1.0, 2.0, 3.0]), "sum")
    assert y is x and x.tolist() == [3.0, 0.0, 3.0]
    x.index_reduce_(0, cr.tensor([2]), cr.tensor([4.0]), "amax", include_self=False)
    assert x.tolist() == [3.0, 0.0, 4.0]


def test_bad_arguments_raise_pytorch_errors():
    x = cr.zeros(3)
    with pytest.raises(RuntimeError, match="reduce argument must be one of"):
        x.scatter_reduce(0, cr.tensor([0]), x, "max")
    with pytest.raises(RuntimeError, match="self.dtype to be equal to src.dtype"):
        x.scatter_reduce(0, cr.tensor([0]), x.double(), "sum")
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.scatter_reduce(0, cr.tensor([3]), x, "sum")
    with pytest.raises(RuntimeError, match="reduce argument must be one of prod"):
        x.index_reduce(0, cr.tensor([0]), x[:1], "sum")
    with pytest.raises(RuntimeError, match="must match input"):
        cr.zeros(2, 3).index_reduce(0, cr.tensor([0]), cr.zeros(1, 2), "prod")
