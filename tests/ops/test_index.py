import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import elementwise as ew
from chainrule.ops import index as ix
from chainrule.ops import shape as sh
from tests.opcheck import OpCase, check_case

MASK = np.array([[True, False, True, False], [False, False, False, False], [True, True, False,
                                                                            True]])
ROWS = np.array([0, 2, 0])  # a repeated row


def _t(array):
    return cr.tensor(array)


def _np_scatter_add(a, dim, index, src):
    out = a.copy()
    for pos in np.ndindex(index.shape):
        target = list(pos)
        target[dim] = index[pos]
        out[tuple(target)] += src[pos]
    return out


def _np_scatter(a, dim, index, src):
    out = a.copy()
    for pos in np.ndindex(index.shape):
        target = list(pos)
        target[dim] = index[pos]
        out[tuple(target)] = src[pos]
    return out


def _setitem_on_non_leaf(a, v):
    b = a * 2
    b[[0, 2], 1:] = v
    return b * b


def _np_setitem(a, v):
    b = a * 2
    b[[0, 2], 1:] = v
    return b * b


GATHER_INDEX = np.array([[0, 0], [3, 1], [2, 2]])  # repeats inside rows
SCATTER_INDEX = np.array([[1, 1, 0], [0, 2, 2]])  # repeats inside rows

CASES = [
    # basic indexing: views
    OpCase("getitem_int", lambda a: a[1], lambda a: a[1], [(3, 4)], (ix.Index,)),
    OpCase("getitem_ints_to_0d", lambda a: a[-1, 2], lambda a: a[-1, 2], [(3, 4)], (ix.Index,)),
    OpCase("getitem_slices_steps", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 5)],
           (ix.Index,)),
    OpCase("getitem_none_ellipsis", lambda a: a[None, ..., 1], lambda a: a[None, ..., 1],
           [(2, 3, 4)], (ix.Index,)),
    OpCase("getitem_empty_slice", lambda a: a[2:2], lambda a: a[2:2], [(3, 2)], (ix.Index,)),
    OpCase("getitem_size1_dim", lambda a: a[:, 0], lambda a: a[:, 0], [(3, 1)], (ix.Index,)),
    OpCase("getitem_0d_int_tensor", lambda a: a[_t(2)], lambda a: a[2], [(3, 2)], (ix.Index,)),
    # advanced indexing: copies, gradients accumulate
    OpCase("getitem_list_repeats", lambda a: a[[0, 0, 2]], lambda a: a[[0, 0, 2]], [(3, 4)],
           (ix.Index,)),
    OpCase("getitem_tensor_neg", lambda a: a[:, _t([-1, 1, -1])], lambda a: a[:, [-1, 1, -1]],
           [(2, 3)], (ix.Index,)),
    OpCase("getitem_broadcast_tensors", lambda a: a[_t([0, 2]), _t([[1], [3], [1]])],
           lambda a: a[[0, 2], [[1], [3], [1]]], [(3, 4)], (ix.Index,)),
    OpCase("getitem_separated_tensors", lambda a: a[[0, 1], :, [2, 2]],
           lambda a: a[[0, 1], :, [2, 2]], [(2, 3, 4)], (ix.Index,)),
    # PyTorch applies the int first, then the list: (3, 2), where NumPy gives (2, 3)
    OpCase("getitem_int_then_list", lambda a: a[0, :, [1, 2]], lambda a: a[0][:, [1, 2]],
           [(2, 3, 4)], (ix.Index,)),
    OpCase("getitem_mask", lambda a: a[_t(MASK)], lambda a: a[MASK], [(3, 4)], (ix.Index,)),
    OpCase("getitem_row_mask", lambda a: a[_t([True, False, True]), 1:],
           lambda a: a[[True, False, True], 1:], [(3, 4)], (ix.Index,)),
    OpCase("getitem_empty_list", lambda a: a[[]], lambda a: a[np.zeros(0, int)], [(3, 2)],
           (ix.Index,)),
    OpCase("getitem_size0_input", lambda a: a[:, [0, 0]], lambda a: a[:, [0, 0]], [(0, 2)],
           (ix.Index,)),
    # index_put / __setitem__
    OpCase("index_put", lambda a, v: a.index_put((_t([0, 2]),), v),
           lambda a, v: _np_put(a, ([0, 2],), v), [(3, 4), (2, 4)], (ix.IndexPut,)),
    OpCase("index_put_broadcast_values", lambda a, v: cr.index_put(a, [_t([1]), _t([0])], v),
           lambda a, v: _np_put(a, ([1], [0]), v), [(3, 4), ()], (ix.IndexPut,)),
    OpCase("index_put_accumulate_repeats", lambda a, v: a.index_put((_t(ROWS),), v, True),
           lambda a, v: _np_put(a, (ROWS,), v, accumulate=True), [(3, 4), (3, 1)],
           (ix.IndexPut,)),
    OpCase("index_put_slice_key", lambda a, v: a.index_put((slice(None), 1), v),
           lambda a, v: _np_put(a, (slice(None), 1), v), [(3, 4), (3,)], (ix.IndexPut,)),
    OpCase("setitem_non_leaf", _setitem_on_non_leaf, _np_setitem, [(3, 4), (2, 3)],
           (ix.IndexPut, ew.Mul, ew.Clone)),
    OpCase("index_add", lambda a, s: a.index_add(1, _t([2, 0, 2]), s, alpha=2.0),
           lambda a, s: _np_index_add(a, 1, [2, 0, 2], 2.0 * s), [(2, 4), (2, 3)],
           (ix.IndexPut, ew.Mul)),
    OpCase("index_select", lambda a: a.index_select(-1, _t([3, 0, 3])),
           lambda a: a[:, [3, 0, 3]], [(2, 4)], (ix.Index,)),
    OpCase("index_select_0d_index", lambda a: cr.index_select(a, 0, _t(1)), lambda a: a[[1]],
           [(3, 2)], (ix.Index,)),
    # gather / scatter
    OpCase("gather", lambda a: a.gather(1, _t(GATHER_INDEX)),
           lambda a: np.take_along_axis(a, GATHER_INDEX, 1), [(3, 4)], (ix.Gather,)),
    OpCase("gather_smaller_index_neg_dim", lambda a: cr.gather(a, -2, _t([[2, 0]])),
           lambda a: np.take_along_axis(a[:, :2], np.array([[2, 0]]), 0), [(3, 4)],
           (ix.Gather,)),
    OpCase("gather_size0", lambda a: a.gather(0, _t(np.zeros((0, 2), np.int64))),
           lambda a: np.zeros((0, 2)), [(3, 2)], (ix.Gather,)),
    OpCase("scatter", lambda a, s: a.scatter(1, _t(np.array([[1, 3], [0, 2]])), s),
           lambda a, s: _np_scatter(a, 1, np.array([[1, 3], [0, 2]]), s), [(2, 4), (3, 3)],
           (ix.Scatter, ix.Gather)),
    OpCase("scatter_value", lambda a: cr.scatter(a, 0, _t([[1, 0]]), value=-1.0),
           lambda a: _np_scatter(a, 0, np.array([[1, 0]]), np.full((1, 2), -1.0)),
           [(2, 3)], (ix.Scatter,)),
    OpCase("scatter_add_repeats", lambda a, s: a.scatter_add(-1, _t(SCATTER_INDEX), s),
           lambda a, s: _np_scatter_add(a, 1, SCATTER_INDEX, s), [(2, 4), (2, 4)],
           (ix.ScatterAdd, ix.Gather)),
    OpCase("take_along_dim_broadcast", lambda a: a.take_along_dim(_t([[0], [2]]), 0),
           lambda a: np.take_along_axis(a, np.array([[0], [2]]), 0), [(3, 4)],
           (ix.Gather, sh.Expand)),
    OpCase("take_along_dim_flat", lambda a: cr.take_along_dim(a, _t([5, 0, 5])),
           lambda a: a.ravel()[[5, 0, 5]], [(2, 3)], (ix.Gather, sh.Reshape)),
    # masks
    OpCase("masked_fill_number", lambda a: a.masked_fill(_t(MASK), 0.5),
           lambda a: np.where(MASK, 0.5, a), [(3, 4)], (ew.Where,)),
    OpCase("masked_fill_tensor_broadcast_mask", lambda a, v: cr.masked_fill(a, _t(MASK[0]), v),
           lambda a, v: np.where(MASK[0], v, a), [(3, 4), ()], (ew.Where,)),
    OpCase("masked_select", lambda a: a.masked_select(_t(MASK[2])), lambda a: a[:, MASK[2]]
           .ravel(), [(2, 4)], (ix.Index, sh.Expand)),
    # sorting
    OpCase("sort", lambda a: a.sort(), lambda a: (np.sort(a, -1), np.argsort(a, -1)), [(3, 4)],
           (ix.Gather,)),
    OpCase("sort_descending_dim0", lambda a: cr.sort(a, 0, descending=True),
           lambda a: (-np.sort(-a, 0), np.argsort(-a, 0)), [(3, 2)], (ix.Gather,)),
    OpCase("argsort", lambda a: a.argsort(dim=0), lambda a: np.argsort(a, 0), [(4, 3)], (),
           grad=False),
    OpCase("topk", lambda a: a.topk(2), lambda a: (-np.sort(-a, -1)[:, :2],
                                                   np.argsort(-a, -1)[:, :2]), [(3, 5)],
           (ix.Gather,)),
    OpCase("topk_smallest", lambda a: cr.topk(a, 1, dim=0, largest=False),
           lambda a: (np.sort(a, 0)[:1], np.argsort(a, 0)[:1]), [(4, 2)], (ix.Gather,)),
    OpCase("nonzero", lambda a: cr.nonzero(a > 0), lambda a: np.argwhere(a > 0), [(3, 4)],
           (), grad=False),
    OpCase("nonzero_as_tuple", lambda a: (a > 0).nonzero(as_tuple=True),
           lambda a: np.nonzero(a > 0), [(3, 4)], (), grad=False),
    OpCase("argwhere", lambda a: cr.argwhere(a > 0), lambda a: np.argwhere(a > 0), [(3, 4)],
           grad=False),
    OpCase("iterate", lambda a: cr.stack(list(a)), lambda a: np.stack(list(a)), [(3, 2)],
           (ix.Index,)),
]


def _np_put(a, key, v, accumulate=False):
    out = a.copy()
    if accumulate:
        np.add.at(out, key, v)
    else:
        out[key] = v
    return out


def _np_index_add(a, dim, index, source):
    out = a.copy()
    for j, i in enumerate(index):
        out[(slice(None),) * dim + (i,)] += source[(slice(None),) * dim + (j,)]
    return out


@pytest.mark.parametrize("case", CASES, ids=str)
def test_index_op(case):
    check_case(case)


def test_repeated_integer_indices_accumulate():
    x = cr.zeros(3, requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    assert x.grad.tolist() == [2.0, 1.0, 0.0]


def test_repeated_indices_accumulate_through_two_index_tensors():
    x = cr.zeros(2, 2, requires_grad=True)
    (x[_t([1, 1, 0, 1]), _t([0, 0, 1, 0])] * cr.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [[0.0, 3.0], [7.0, 0.0]]


def test_basic_indexing_returns_a_view_sharing_the_version_counter():
    a = cr.randn(3, 4, requires_grad=True)
    b = a.exp()  # saves its output b for backward
    view = b[0, 1:]
    assert view._version_box is b._version_box
    with cr.no_grad():
        view.mul_(2)
    assert b._version == 1 and np.allclose(b[0, 1:].detach().numpy(), view.detach().numpy())
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        b.sum().backward()


def test_advanced_indexing_returns_a_copy():
    x = cr.arange(4.0)
    picked = x[[0, 1]]
    picked.add_(10)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0] and picked._version_box is not x._version_box


def test_boolean_mask_selects_and_routes_the_gradient():
    x = cr.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    picked = x[x > 0]
    assert picked.tolist() == [1.0, 4.0]
    (picked * cr.tensor([5.0, 6.0])).sum().backward()
    assert x.grad.tolist() == [[5.0, 0.0], [0.0, 6.0]]


def test_setitem_on_a_non_leaf_matches_finite_differences():
    a = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    v = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)
    assert gradcheck(_setitem_on_non_leaf, (a, v))


def test_setitem_with_mask_broadcast_and_extra_leading_dims():
    def f(a, v):
        b = a * 3  # (exp would save its output, which the assignment below modifies)
        b[a > 0] = v.sum()
        b[1] = v  # values (1, 3) into a row of shape (3,), as PyTorch allows
        return b

    a = cr.tensor([[0.5, -1.0, 2.0], [1.0, 1.5, -0.5]], dtype=cr.float64, requires_grad=True)
    v = cr.randn(1, 3, dtype=cr.float64, requires_grad=True)
    assert gradcheck(f, (a, v))
    out = f(a, v)
    assert out.shape == (2, 3) and np.allclose(out[1].detach().numpy(), v.detach().numpy()[0])


def test_setitem_in_grad_mode_counts_as_an_in_place_change():
    a = cr.randn(3, requires_grad=True)
    b = a * 1
    b[0] = 5.0
    assert b._version == 1 and b.grad_fn.name() == "IndexPutBackward"
    b.sum().backward()
    assert a.grad.tolist() == [0.0, 1.0, 1.0]


def test_index_put_accepts_a_list_of_index_tensors_and_accumulates():
    x = cr.zeros(2, 3)
    out = x.index_put([_t([0, 0, 1]), _t([2, 2, 0])], cr.tensor([1.0, 2.0, 3.0]),
                      accumulate=True)
    assert out.tolist() == [[0.0, 0.0, 3.0], [3.0, 0.0, 0.0]] and x.sum().item() == 0


def test_in_place_index_variants():
    x = cr.zeros(3)
    x.index_add_(0, _t([1, 1]), cr.tensor([1.0, 2.0]))
    x.scatter_(0, _t([0]), cr.tensor([7.0]))
    x.scatter_add_(0, _t([2, 2]), cr.tensor([1.0, 1.0]))
    x.index_put_((_t([2]),), cr.tensor(9.0), accumulate=True)
    assert x.tolist() == [7.0, 3.0, 11.0] and x._version == 4


@pytest.mark.parametrize("op", [
    lambda a: a[[0, 0, 1], 1:] ** 2,
    lambda a: a.gather(1, _t([[0, 0], [2, 1]])) ** 2,
    lambda a: a.scatter_add(1, _t([[0, 0], [2, 1]]), a[:, :2] ** 2),
    lambda a: a.index_put((_t([1, 1]),), a[0] ** 2, accumulate=True) ** 2,
    lambda a: a.scatter(0, _t([[1, 0, 1]]), a[:1] ** 2) ** 2,
    lambda a: a.sort(dim=0).values ** 2,
], ids=["getitem", "gather", "scatter_add", "index_put", "scatter", "sort"])
def test_double_backward(op):
    a = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)
    assert gradgradcheck(op, (a,))


def test_index_errors_name_the_dim_the_index_and_the_size():
    x = cr.ones(2, 4)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 4"):
        x[0, 5]
    with pytest.raises(IndexError, match="index -3 is out of bounds for dimension 0 with size 2"):
        x[[0, -3]]
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        x[:, _t([1, 4])]
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
        x.index_select(0, _t([2]))
    with pytest.raises(RuntimeError, match="index 4 is out of bounds for dimension 1 with size 4"):
        x.gather(1, _t([[4]]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0"):
        x.scatter_add(0, _t([[-1]]), cr.ones(1, 1))
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        x[0, 0, 0]


def test_negative_step_error_suggests_flip():
    with pytest.raises(ValueError, match="step must be greater than zero.*flip"):
        cr.arange(4)[::-1]


def test_index_key_errors():
    x = cr.ones(2, 3)
    with pytest.raises(IndexError, match="must be long, int or bool"):
        x[cr.tensor([0.0])]
    with pytest.raises(IndexError, match=r"mask \[3\] does not match the shape \[2\]"):
        x[_t([True, False, True])]
    with pytest.raises(IndexError, match="cannot be broadcast"):
        x[_t([0, 1]), _t([0, 1, 2])]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(RuntimeError, match=r"values of shape \(4,\).*\(3,\)"):
        x.index_put((0,), cr.ones(4))


def test_gather_and_scatter_argument_errors():
    x = cr.ones(2, 3)
    with pytest.raises(RuntimeError, match="int64 index"):
        x.gather(0, cr.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(0, _t([0]))
    with pytest.raises(RuntimeError, match="larger than input"):
        x.gather(0, _t([[0, 0, 0, 0]]))
    with pytest.raises(RuntimeError, match="larger than src"):
        x.scatter(0, _t([[0, 1]]), cr.ones(1, 1))


def test_mask_argument_errors():
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        cr.ones(3).masked_fill(_t([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        cr.ones(3).masked_fill(_t([True, False, True]), cr.ones(3))


def test_masked_fill_keeps_dtype_and_blocks_the_gradient_where_masked():
    x = cr.ones(3, requires_grad=True)
    value = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    out = x.masked_fill(_t([True, False, True]), value)
    assert out.dtype == cr.float32 and out.tolist() == [2.0, 1.0, 2.0]
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0] and value.grad.item() == 2.0
    assert value.grad.dtype == cr.float64


def test_integer_tensors_index_and_keep_their_dtype():
    x = cr.arange(6).reshape(2, 3)
    assert x[1, [0, 2]].tolist() == [3, 5] and x[1, [0, 2]].dtype == cr.int64
    assert x[x > 2].tolist() == [3, 4, 5]
    assert x[1, 2].item() == 5 and x[1, 2].shape == ()


def test_true_false_and_uint8_keys_follow_pytorch():
    x = cr.arange(3.0)
    assert x[True].shape == (1, 3) and x[False].shape == (0, 3)
    assert x[cr.tensor([1, 0, 1], dtype=cr.uint8)].tolist() == [0.0, 2.0]


def test_sort_is_stable_on_ties_and_puts_nan_where_pytorch_does():
    x = cr.tensor([2.0, 1.0, 2.0, float("nan"), 1.0])
    assert x.sort(stable=True).indices.tolist() == [1, 4, 0, 2, 3]
    down = x.sort(descending=True, stable=True)
    assert down.indices.tolist() == [3, 0, 2, 1, 4] and down.indices.dtype == cr.int64


def test_sort_and_topk_send_gradients_to_the_selected_elements():
    x = cr.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    values, indices = x.topk(2)
    assert values.tolist() == [[3.0, 2.0], [5.0, 4.0]]
    assert indices.tolist() == [[0, 2], [1, 2]] and indices.dtype == cr.int64
    (values * cr.tensor([[1.0, 10.0], [100.0, 1000.0]])).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 10.0], [0.0, 100.0, 1000.0]]
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(4)


def test_nonzero_shapes_and_dtype():
    x = cr.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert x.nonzero().tolist() == [[0, 1], [1, 0]] and x.nonzero().dtype == cr.int64
    rows, cols = cr.nonzero(x, as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert cr.argwhere(cr.zeros(2, 2)).shape == (0, 2)


def test_scatter_writes_src_and_gathers_its_gradient_back():
    x = cr.zeros(2, 3, requires_grad=True)
    src = cr.tensor([[1.0, 2.0, 9.0], [3.0, 4.0, 9.0]], requires_grad=True)
    out = x.scatter(1, _t([[2, 0], [1, 1]]), src)
    assert out.tolist() == [[2.0, 0.0, 1.0], [0.0, 4.0, 0.0]]
    (out * cr.arange(1.0, 7.0).reshape(2, 3)).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 0.0], [4.0, 0.0, 6.0]]
    assert src.grad.tolist() == [[3.0, 1.0, 0.0], [5.0, 5.0, 0.0]]


def test_setitem_outside_the_graph_uses_pytorch_indexing_rules():
    x = cr.zeros(2, 3, 4)
    x[0, :, [1, 2]] = cr.ones(3, 2)
    expected = np.zeros((2, 3, 4), dtype=np.float32)
    expected[0, :, 1:3] = 1
    np.testing.assert_array_equal(x.numpy(), expected)
    with pytest.raises(ValueError, match="flip"):
        x[::-1] = 1.0
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        x[0] = cr.ones(5)
