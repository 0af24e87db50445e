import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import elementwise as ew
from chainrule.ops import index as ix
from chainrule.ops import join
from chainrule.ops import shape as sh
from tests.opcheck import OpCase, check_case


def _np_pad_constant(a, widths, value=0.0):
    return np.pad(a, widths, constant_values=value)


CASES = [
    # views and rearrangements
    OpCase("reshape", lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [(3, 4)],
           (sh.Reshape,)),
    OpCase("reshape_infer", lambda a: cr.reshape(a, (-1, 2)), lambda a: a.reshape(-1, 2),
           [(2, 3, 2)], (sh.Reshape,)),
    OpCase("reshape_0d", lambda a: a.reshape(1, 1), lambda a: a.reshape(1, 1), [()],
           (sh.Reshape,)),
    OpCase("reshape_size0", lambda a: a.reshape(3, 0), lambda a: a.reshape(3, 0), [(0, 3)],
           (sh.Reshape,)),
    # splitting the last dim is a view even of a strided input
    OpCase("view_split_dim", lambda a: a.view(3, 2, 2), lambda a: a.reshape(3, 2, 2), [(3, 4)],
           (sh.Reshape,)),
    OpCase("view_as", lambda a, b: a.contiguous().view_as(b), lambda a, b: a.reshape(b.shape),
           [(2, 6), (3, 4)], (sh.Reshape, ew.Clone)),
    OpCase("reshape_as", lambda a, b: a.reshape_as(b), lambda a, b: a.reshape(b.shape),
           [(2, 6), (4, 3)], (sh.Reshape,)),
    OpCase("expand", lambda a: a.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)),
           [(3, 1)], (sh.Expand,)),
    OpCase("expand_keep", lambda a: a.expand(-1, 5), lambda a: np.broadcast_to(a, (2, 5)),
           [(2, 1)], (sh.Expand,)),
    OpCase("expand_as", lambda a, b: a.expand_as(b), lambda a, b: np.broadcast_to(a, b.shape),
           [(1, 4), (3, 4)], (sh.Expand,)),
    OpCase("sum_to_size", lambda a: a.sum_to_size(3, 1),
           lambda a: a.sum(axis=(0, 2), keepdims=True)[0], [(2, 3, 4)], (sh.SumToSize,)),
    OpCase("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
           [(2, 3, 4)], (sh.Permute,)),
    OpCase("permute_neg", lambda a: cr.permute(a, (-1, 0, 1)), lambda a: a.transpose(2, 0, 1),
           [(2, 1, 3)], (sh.Permute,)),
    OpCase("transpose", lambda a: a.transpose(0, -1), lambda a: a.swapaxes(0, -1), [(2, 3, 4)],
           (sh.Permute,)),
    OpCase("swapdims", lambda a: cr.swapdims(a, 1, 2), lambda a: a.swapaxes(1, 2), [(2, 3, 4)],
           (sh.Permute,)),
    OpCase("t", lambda a: a.t(), lambda a: a.T, [(2, 3)], (sh.Permute,)),
    OpCase("t_1d", lambda a: a.t() * 1, lambda a: a, [(3,)], (ew.Mul,)),
    OpCase("T", lambda a: a.T, lambda a: a.transpose(2, 1, 0), [(2, 3, 4)], (sh.Permute,)),
    OpCase("mT", lambda a: a.mT, lambda a: a.swapaxes(-1, -2), [(2, 3, 4)], (sh.Permute,)),
    OpCase("squeeze_all", lambda a: a.squeeze(), np.squeeze, [(1, 3, 1, 2)], (sh.Reshape,)),
    OpCase("squeeze_dim", lambda a: a.squeeze(-2), lambda a: a.squeeze(-2), [(3, 1, 2)],
           (sh.Reshape,)),
    OpCase("squeeze_non1_dim", lambda a: a.squeeze(0), lambda a: a, [(3, 1)], (sh.Reshape,)),
    OpCase("squeeze_tuple", lambda a: a.squeeze((0, 2)), lambda a: a.reshape(3),
           [(1, 3, 1)], (sh.Reshape,)),
    OpCase("unsqueeze_neg", lambda a: a.unsqueeze(-1), lambda a: a[..., None], [(2, 3)],
           (sh.Reshape,)),
    OpCase("unsqueeze_0d", lambda a: cr.unsqueeze(a, 0), lambda a: a.reshape(1), [()],
           (sh.Reshape,)),
    OpCase("flatten", lambda a: a.flatten(), np.ravel, [(2, 3, 4)], (sh.Reshape,)),
    OpCase("flatten_range", lambda a: cr.flatten(a, 1, -1), lambda a: a.reshape(2, 12),
           [(2, 3, 4)], (sh.Reshape,)),
    OpCase("unflatten", lambda a: a.unflatten(1, (2, -1)), lambda a: a.reshape(3, 2, 2),
           [(3, 4)], (sh.Reshape,)),
    OpCase("contiguous", lambda a: a.t().contiguous(), lambda a: a.T, [(3, 2)],
           (sh.Permute, ew.Clone)),
    # joining
    OpCase("cat", lambda a, b: cr.cat([a, b], dim=-1), lambda a, b: np.concatenate([a, b], -1),
           [(2, 3), (2, 1)], (join.Cat,)),
    OpCase("cat_three_dim0", lambda a, b, c: cr.concat((a, b, c)), lambda a, b, c:
           np.concatenate([a, b, c]), [(1, 2), (3, 2), (2, 2)], (join.Cat,)),
    OpCase("cat_size0", lambda a, b: cr.concatenate([a, b], 1),
           lambda a, b: np.concatenate([a, b], 1), [(2, 0), (2, 3)], (join.Cat,)),
    OpCase("cat_one", lambda a: cr.cat([a]), lambda a: a, [(2, 3)], (join.Cat,)),
    OpCase("stack", lambda a, b: cr.stack([a, b], 1), lambda a, b: np.stack([a, b], 1),
           [(2, 3), (2, 3)], (join.Cat, sh.Reshape)),
    OpCase("stack_neg", lambda a, b: cr.stack((a, b), -1), lambda a, b: np.stack([a, b], -1),
           [(2,), (2,)], (join.Cat, sh.Reshape)),
    OpCase("hstack", lambda a, b: cr.hstack([a, b]), lambda a, b: np.hstack([a, b]),
           [(2, 1), (2, 3)], (join.Cat,)),
    OpCase("vstack", lambda a, b: cr.vstack([a, b]), lambda a, b: np.vstack([a, b]),
           [(3,), (2, 3)], (join.Cat, sh.Reshape)),
    # splitting (several outputs of one node)
    OpCase("split_int", lambda a: a.split(2, dim=1), lambda a: tuple(np.split(a, [2, 4], 1)),
           [(3, 5)], (join.Split,)),
    OpCase("split_sizes", lambda a: cr.split(a, [1, 3, 0, 1], -1),
           lambda a: tuple(np.split(a, [1, 4, 4], -1)), [(2, 5)], (join.Split,)),
    OpCase("split_one_output_used", lambda a: a.split(2)[1] * 3,
           lambda a: a[2:4] * 3, [(5, 2)], (join.Split, ew.Mul)),
    OpCase("chunk", lambda a: a.chunk(4), lambda a: tuple(np.split(a, [2, 4])), [(6, 2)],
           (join.Split,)),
    OpCase("chunk_uneven_neg_dim", lambda a: cr.chunk(a, 3, -1),
           lambda a: tuple(np.split(a, [2, 4], -1)), [(2, 5)], (join.Split,)),
    OpCase("unbind", lambda a: a.unbind(1), lambda a: tuple(a[:, i] for i in range(3)),
           [(2, 3)], (join.Unbind,)),
    OpCase("unbind_to_0d", lambda a: cr.unbind(a), lambda a: tuple(a), [(3,)], (join.Unbind,)),
    OpCase("unbind_one_used", lambda a: a.unbind(-1)[0].exp(), lambda a: np.exp(a[:, 0]),
           [(2, 3)], (join.Unbind, ew.Exp)),
    # triangles
    OpCase("tril", lambda a: a.tril(), np.tril, [(3, 4)], (sh.Tril,)),
    OpCase("tril_batched_neg", lambda a: cr.tril(a, -1), lambda a: np.tril(a, -1), [(2, 3, 3)],
           (sh.Tril,)),
    OpCase("triu", lambda a: a.triu(1), lambda a: np.triu(a, 1), [(4, 3)], (sh.Triu,)),
    OpCase("triu_batched", lambda a: cr.triu(a, diagonal=-1), lambda a: np.triu(a, -1),
           [(2, 3, 4)], (sh.Triu,)),
    # padding
    OpCase("pad_constant", lambda a: cr.nn.functional.pad(a, (1, 2)), lambda a: _np_pad_constant(
        a, ((0, 0), (1, 2))), [(2, 3)], (sh.Pad,)),
    OpCase("pad_constant_value_2d", lambda a: cr.nn.functional.pad(a, (1, 0, 0, 2), value=0.5),
           lambda a: _np_pad_constant(a, ((0, 0), (0, 2), (1, 0)), 0.5), [(2, 3, 2)], (sh.Pad,)),
    OpCase("pad_negative_crops", lambda a: cr.nn.functional.pad(a, (-1, 2, 1, -1)),
           lambda a: _np_pad_constant(a[:-1, 1:], ((1, 0), (0, 2))), [(3, 4)], (sh.Pad,)),
    OpCase("pad_size0", lambda a: cr.nn.functional.pad(a, (1, 1)), lambda a: _np_pad_constant(
        a, ((0, 0), (1, 1))), [(0, 2)], (sh.Pad,)),
    OpCase("pad_reflect", lambda a: cr.nn.functional.pad(a, (2, 1), mode="reflect"),
           lambda a: np.pad(a, ((0, 0), (2, 1)), mode="reflect"), [(2, 4)], (ix.Index,)),
    OpCase("pad_reflect_2d", lambda a: cr.nn.functional.pad(a, (1, 1, 2, 1), mode="reflect"),
           lambda a: np.pad(a, ((0, 0), (2, 1), (1, 1)), mode="reflect"), [(1, 3, 4)],
           (ix.Index,)),
    OpCase("pad_replicate", lambda a: cr.nn.functional.pad(a, (3, 1), mode="replicate"),
           lambda a: np.pad(a, ((0, 0), (0, 0), (3, 1)), mode="edge"), [(1, 2, 3)], (ix.Index,)),
    OpCase("pad_circular", lambda a: cr.nn.functional.pad(a, (2, 3, 1, 0), mode="circular"),
           lambda a: np.pad(a, ((0, 0), (1, 0), (2, 3)), mode="wrap"), [(2, 2, 3)], (ix.Index,)),
    # PyTorch crops first, then wraps around what is left
    OpCase("pad_circular_negative", lambda a: cr.nn.functional.pad(a, (-1, 2), mode="circular"),
           lambda a: np.pad(a[..., 1:], ((0, 0), (0, 2)), mode="wrap"), [(2, 3)],
           (ix.Index,)),
    # repeating, reversing, rolling, moving
    OpCase("repeat", lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), [(2, 3)],
           (sh.Reshape, sh.Expand)),
    OpCase("repeat_zero_and_ones", lambda a: a.repeat(1, 0), lambda a: np.tile(a, (1, 0)),
           [(2, 3)], (sh.Reshape, sh.Expand)),
    OpCase("repeat_identity_copies", lambda a: a.repeat(1, 1), lambda a: a, [(2, 3)],
           (sh.Reshape, ew.Clone)),
    OpCase("tile", lambda a: a.tile((2,)), lambda a: np.tile(a, 2), [(2, 3)],
           (sh.Reshape, sh.Expand)),
    OpCase("flip", lambda a: a.flip(0, -1), lambda a: np.flip(a, (0, 2)), [(2, 3, 2)],
           (sh.Flip,)),
    OpCase("flip_dims_kw", lambda a: cr.flip(a, dims=[1]), lambda a: a[:, ::-1], [(2, 3)],
           (sh.Flip,)),
    OpCase("fliplr_flipud", lambda a: cr.flipud(cr.fliplr(a)), lambda a: a[::-1, ::-1],
           [(3, 2)], (sh.Flip,)),
    OpCase("flip_0d", lambda a: a.flip(0), lambda a: a, [()], (sh.Flip,)),
    OpCase("roll", lambda a: a.roll(1, 0), lambda a: np.roll(a, 1, 0), [(3, 4)], (sh.Roll,)),
    OpCase("roll_multi", lambda a: cr.roll(a, (1, -2), (0, -1)),
           lambda a: np.roll(a, (1, -2), (0, 1)), [(3, 4)], (sh.Roll,)),
    OpCase("roll_flat", lambda a: a.roll(5), lambda a: np.roll(a, 5), [(3, 4)], (sh.Roll,)),
    OpCase("movedim", lambda a: a.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1),
           [(2, 3, 4)], (sh.Permute,)),
    OpCase("moveaxis_tuple", lambda a: cr.moveaxis(a, (0, 1), (2, 0)),
           lambda a: np.moveaxis(a, (0, 1), (2, 0)), [(2, 3, 4)], (sh.Permute,)),
    OpCase("narrow", lambda a: a.narrow(1, 1, 2), lambda a: a[:, 1:3], [(2, 4)], (ix.Index,)),
    OpCase("narrow_neg_start", lambda a: cr.narrow(a, -1, -3, 3), lambda a: a[:, -3:],
           [(2, 4)], (ix.Index,)),
    OpCase("narrow_empty", lambda a: a.narrow(0, 2, 0), lambda a: a[2:2], [(2, 4)],
           (ix.Index,)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_shape_op(case):
    check_case(case)


@pytest.mark.parametrize("op", [
    lambda a: cr.cat([a, a * 2], 1),
    lambda a: a.split([1, 2], 1)[1] * a.split([1, 2], 1)[0],
    lambda a: a.unbind(0)[1] * a.unbind(0)[0],
    lambda a: cr.nn.functional.pad(a, (1, 1), mode="reflect") ** 2,
    lambda a: cr.nn.functional.pad(a, (1, -1, 1, 1), value=2.0) ** 2,
    lambda a: a.roll(1, 1).flip(0).tril() ** 2,
    lambda a: a.repeat(2, 2) ** 2,
], ids=["cat", "split", "unbind", "pad_reflect", "pad_constant", "roll_flip_tril", "repeat"])
def test_double_backward(op):
    a = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)
    assert gradgradcheck(op, (a,))


def test_split_views_share_memory_and_version():
    x = cr.arange(6.0).reshape(2, 3)
    first, second = x.split([1, 2], dim=1)
    second.mul_(10)
    assert x.tolist() == [[0.0, 10.0, 20.0], [3.0, 40.0, 50.0]]
    assert x._version == second._version == 1


def test_unused_split_outputs_get_zero_gradient():
    x = cr.randn(5, 2, requires_grad=True)
    pieces = x.split(2)
    assert len(pieces) == 3 and [tuple(p.shape) for p in pieces] == [(2, 2), (2, 2), (1, 2)]
    pieces[2].sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0]] * 4 + [[1.0, 1.0]]


def test_chunk_may_give_fewer_chunks_like_pytorch():
    assert [p.shape[0] for p in cr.arange(6).chunk(4)] == [2, 2, 2]
    assert [p.shape[0] for p in cr.zeros(0, 2).chunk(3)] == [0, 0, 0]


def test_split_keeps_dtype_for_integer_tensors():
    pieces = cr.arange(5).split(2)
    assert [p.tolist() for p in pieces] == [[0, 1], [2, 3], [4]]
    assert pieces[0].dtype == cr.int64


def test_cat_promotes_dtypes_and_returns_gradients_in_each_dtype():
    a = cr.ones(2, dtype=cr.float64, requires_grad=True)
    b = cr.ones(1, requires_grad=True)
    out = cr.cat([a, b, cr.tensor([3])])
    assert out.dtype == cr.float64 and out.tolist() == [1.0, 1.0, 1.0, 3.0]
    (out * cr.tensor([1.0, 2.0, 3.0, 4.0], dtype=cr.float64)).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [3.0]
    assert b.grad.dtype == cr.float32


def test_cat_skips_legacy_empty_1d_tensors():
    a = cr.randn(2, 3, requires_grad=True)
    e = cr.zeros(0, requires_grad=True)
    out = cr.cat([e, a, e], 0)
    assert out.shape == (2, 3)
    out.sum().backward()
    assert e.grad.shape == (0,) and a.grad.tolist() == [[1.0] * 3] * 2


def test_cat_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"dimension 1.*\(2, 3\).*\(3, 3\)"):
        cr.cat([cr.ones(2, 3), cr.ones(3, 3)], dim=1)
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(2, 3\)"):
        cr.cat([cr.ones(2), cr.ones(2, 3)])
    with pytest.raises(ValueError, match="non-empty"):
        cr.cat([])
    with pytest.raises(RuntimeError, match="zero-dimensional"):
        cr.cat([cr.tensor(1.0), cr.tensor(2.0)])
    with pytest.raises(IndexError, match="dimension out of range"):
        cr.cat([cr.ones(2), cr.ones(2)], dim=1)


def test_stack_and_split_errors():
    with pytest.raises(RuntimeError, match=r"equal size.*\(2,\).*\(3,\) at entry 1"):
        cr.stack([cr.ones(2), cr.ones(3)])
    with pytest.raises(RuntimeError, match="sum exactly to 5"):
        cr.ones(5).split([2, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        cr.ones(5).chunk(0)


def test_pad_errors():
    x = cr.ones(1, 2, 3)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        cr.nn.functional.pad(x, (1,))
    with pytest.raises(RuntimeError, match="less than the size 3"):
        cr.nn.functional.pad(x, (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="wraps around"):
        cr.nn.functional.pad(x, (4, 0), mode="circular")
    with pytest.raises(ValueError, match="mode must be one of"):
        cr.nn.functional.pad(x, (1, 1), mode="symmetric")
    with pytest.raises(RuntimeError, match="negative"):
        cr.nn.functional.pad(x, (-2, -2))
    with pytest.raises(RuntimeError, match="2-D or 3-D"):
        cr.nn.functional.pad(cr.ones(1, 1, 2, 3), (1, 1), mode="replicate")


def test_pad_keeps_float32_and_int_dtypes():
    assert cr.nn.functional.pad(cr.ones(2, 2), (1, 1), value=0.5).dtype == cr.float32
    padded = cr.nn.functional.pad(cr.arange(3).reshape(1, 3), (1, 1), mode="replicate")
    assert padded.dtype == cr.int64 and padded.tolist() == [[0, 0, 1, 2, 2]]


def test_replicate_pad_gradient_collects_every_copy():
    x = cr.zeros(1, 3, requires_grad=True)
    cr.nn.functional.pad(x, (2, 1), mode="replicate").sum().backward()
    assert x.grad.tolist() == [[3.0, 1.0, 2.0]]


def test_flip_and_repeat_return_copies():
    x = cr.arange(4.0)
    flipped, repeated = x.flip(0), x.repeat(1)
    flipped.add_(1)
    repeated.add_(1)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_narrow_is_a_view_and_checks_its_range():
    x = cr.zeros(2, 4)
    x.narrow(1, 1, 2).fill_(1)
    assert x.tolist() == [[0, 1, 1, 0]] * 2
    with pytest.raises(RuntimeError, match=r"start \(3\) \+ length \(2\) exceeds"):
        x.narrow(1, 3, 2)


def test_shape_argument_errors():
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        cr.ones(2, 2).roll((1, 1), 0)
    with pytest.raises(RuntimeError, match="can not be smaller"):
        cr.ones(2, 2).repeat(2)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.ones(3).tril()
    with pytest.raises(RuntimeError, match="same number of dims"):
        cr.ones(2, 3).movedim((0, 1), 0)
    with pytest.raises(IndexError, match="dimension out of range"):
        cr.ones(2, 3).flip(2)


def test_reshape_and_view_errors():
    with pytest.raises(RuntimeError, match=r"invalid for input of size 6"):
        cr.ones(2, 3).reshape(4, 2)
    with pytest.raises(RuntimeError, match="Use .reshape"):
        cr.ones(3, 4).t().view(12)


def test_expand_gradient_sums_over_the_broadcast_dims():
    x = cr.ones(3, 1, requires_grad=True)
    (x.expand(2, 3, 4) * 2).sum().backward()
    assert x.grad.tolist() == [[16.0]] * 3


def test_gradcheck_of_a_view_chain_on_a_strided_input():
    base = cr.randn(4, 6, dtype=cr.float64)
    a = base[::2, 1::2].detach().requires_grad_()
    assert gradcheck(lambda t: t.T.unsqueeze(0).flatten(1).narrow(1, 1, 4).exp(), (a,))
