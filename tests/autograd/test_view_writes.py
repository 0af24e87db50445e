"""Writing in place through views while the graph is recorded (ops/view_writes.py).

Each pattern PyTorch supports is checked against finite differences (and its second
derivative too), three of them also against gradients recorded from PyTorch 2.13; the cases
PyTorch refuses are refused here too, and saved tensors still notice the write."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops.view_writes import flat_positions

X = (np.arange(20, dtype=np.float64).reshape(4, 5) - 7.5) / 4
W = np.linspace(-1, 1, 20).reshape(4, 5)


def leaf():
    return cr.tensor(X, requires_grad=True)


def f64(values):
    return cr.tensor(values, dtype=cr.float64)


# Each pattern is a function of x (4, 5) that writes through a view of a tensor in the graph.
def slice_mul(x):
    y = x * 2
    y[:, :2].mul_(3)
    return y


def view_of_view_zero(x):
    y = x * 2
    y.view(-1)[:3].zero_()
    return y


def narrow_copy(x):
    y = x * 2
    y.narrow(1, 0, 2).copy_(x[:, 3:5] ** 2)
    return y


def t_add(x):
    y = x * 2
    y.t().add_(x.t() ** 2)
    return y


def unsqueeze_clamp(x):
    y = x * 2
    y.unsqueeze(0).clamp_(min=0.3)
    return y


def select_relu(x):
    y = x * 2
    y[0].relu_()
    return y


def diagonal_fill(x):
    y = x.clone()
    y.diagonal().fill_(0)
    return y


def diagonal_mul(x):
    y = x.clone()
    y.diagonal(1).mul_(x[0, :4])
    return y


def transpose_setitem(x):
    y = x * 2
    z = y.transpose(0, 1)
    z[0] = 5
    z[1, 1:3] = x[0, :2] * 3
    return y


def zeros_slice_copy(x):
    y = cr.zeros(4, 5, dtype=cr.float64)  # no gradient until the write
    y[:, 1:3].copy_(x[:, :2])
    return y


def view_sigmoid(x):
    y = x * 2
    y.view(5, 4).sigmoid_()
    return y


def in_place_operators_on_a_view(x):
    y = x * 2
    v = y[1:3]
    v += x[:2]
    v *= x[2:]
    return y


def setitem_on_a_view(x):
    y = x * 2
    v = y[:, 1:]
    v[v > 0] = 0
    v[0, 0] = x[3, 3] * 4
    return y


def stale_view_after_base_write(x):
    y = x * 2
    v = y[0]
    y.mul_(3)  # v shows the write: later uses of v must see it
    return v * 1


def stale_view_after_sibling_write(x):
    y = x * 2
    v = y[0]
    y.t()[1].mul_(3)  # through another view: v[1] changed
    return v * 1


def rnn_fill(x):
    h = x[0] * 0
    out = cr.zeros(4, 5, dtype=cr.float64)  # a preallocated output, filled step by step
    for t in range(4):
        h = cr.tanh(x[t] + h * 0.5)
        out[t].copy_(h)
    return out


def rnn_fill_setitem(x):
    h = x[:, 0] * 0
    out = cr.zeros(4, 5, dtype=cr.float64)
    for t in range(5):
        h = cr.tanh(x[:, t] + h * 0.5)
        out[:, t] = h
    return out


def exp_through_reshape(x):
    y = x.clone()
    y.reshape(20)[5:15].exp_()
    return y


def base_then_view(x):
    y = x * 2
    a = y[:, 1]
    y.add_(1)
    a.mul_(x[:, 0])
    return y * a.unsqueeze(1)


PATTERNS = [slice_mul, view_of_view_zero, narrow_copy, t_add, unsqueeze_clamp, select_relu,
            diagonal_fill, diagonal_mul, transpose_setitem, zeros_slice_copy, view_sigmoid,
            in_place_operators_on_a_view, setitem_on_a_view, stale_view_after_base_write,
            stale_view_after_sibling_write, rnn_fill, rnn_fill_setitem, exp_through_reshape,
            base_then_view]


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.__name__)
def test_gradients_through_view_writes_match_finite_differences(pattern):
    x = leaf()
    assert gradcheck(pattern, (x,))
    assert gradgradcheck(pattern, (x,))


# (x * W).sum()'s gradient for three patterns, recorded from PyTorch 2.13 with the same x
PYTORCH_GRADIENTS = {
    stale_view_after_sibling_write: [
        [-1.684210526316, -2.526315789474, -0.0, 0.842105263158, 1.684210526316],
        [0.0] * 5, [0.0] * 5, [0.0] * 5],
    base_then_view: [
        [-3.648848684211, 7.981085526316, -6.661184210526, -5.773026315789, -4.884868421053],
        [0.084703947368, 0.316611842105, 0.082236842105, 0.049342105263, 0.016447368421],
        [13.686677631579, 6.138980263158, 0.904605263158, 1.266447368421, 1.628289473684],
        [185.183388157895, 124.132401315789, 15.542763157895, 17.615131578947, 19.6875]],
    rnn_fill_setitem: [
        [-0.092229183373, -0.054156029115, -0.078139654956, -0.113249679195, -0.140044075465],
        [-0.448461833647, -0.34797944725, -0.299700697262, -0.180503033525, -0.046984290159],
        [0.057218388493, 0.060007801641, 0.047856764348, 0.037351158379, 0.027582484139],
        [0.052660842879, 0.014983347328, 0.010140657871, 0.006944671832, 0.00469068385]],
}


@pytest.mark.parametrize("pattern", list(PYTORCH_GRADIENTS), ids=lambda p: p.__name__)
def test_gradients_match_pytorch(pattern):
    x = leaf()
    (pattern(x) * f64(W)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), PYTORCH_GRADIENTS[pattern], atol=1e-9)


def test_the_written_values_and_the_views_that_see_them():
    x = leaf()
    y = x * 2
    v = y[0]
    y[:, :2].mul_(3)
    expected = X * 2
    expected[:, :2] *= 3
    np.testing.assert_allclose(y.detach().numpy(), expected)
    np.testing.assert_allclose(v.detach().numpy(), expected[0])
    assert y.grad_fn.name() == "CopySlicesBackward" and v.requires_grad


def test_gradients_of_gradients_through_a_view_write():
    # PyTorch: y = x * 1; y[:, :2].mul_(x[:, :2]); d/dx sum(d y.sum() / dx) = 2 on those columns
    x = leaf()
    y = x * 1
    y[:, :2].mul_(x[:, :2])
    (grad,) = cr.autograd.grad(y.sum(), x, create_graph=True)
    grad.sum().backward()
    expected = np.zeros((4, 5))
    expected[:, :2] = 2
    np.testing.assert_allclose(x.grad.numpy(), expected)


# -- what stays refused ----------------------------------------------------------------------
def test_saved_tensors_notice_a_write_through_a_view():
    x = leaf()
    y = x * 2
    z = y * y  # saves y
    y[0].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()
    y = x * 2
    v = y[0]
    z = v * v  # saves the view
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


@pytest.mark.parametrize("piece", [
    lambda y: y.chunk(2, dim=1)[0],
    lambda y: y.split(2, dim=0)[1],
    lambda y: y.unbind(0)[2],
    lambda y: y.chunk(2, dim=1)[0][0],  # a view of such a view is one too
], ids=["chunk", "split", "unbind", "view_of_chunk"])
def test_outputs_of_multi_view_ops_may_not_be_written_while_recording(piece):
    x = leaf()
    with pytest.raises(RuntimeError, match="several views"):
        piece(x * 2).mul_(2)
    with pytest.raises(RuntimeError, match="several views"):
        piece(cr.zeros(4, 5, dtype=cr.float64)).copy_(piece(x))
    with cr.no_grad():
        piece(x * 2).mul_(2)  # nothing recorded: allowed, as in PyTorch


@pytest.mark.parametrize("write", [
    lambda x: x.t().mul_(2), lambda x: x[0].zero_(), lambda x: x.view(-1)[1:].add_(1),
    lambda x: x.diagonal().fill_(0)])
def test_views_of_leaves_that_require_grad_may_not_be_written_while_recording(write):
    x = leaf()
    with pytest.raises(RuntimeError, match="view of a leaf"):
        write(x)
    with cr.no_grad():
        write(x)


def test_a_view_made_under_no_grad_may_not_be_written_with_grad_mode_on():
    x = leaf()
    y = x * 2
    with cr.no_grad():
        v = y[0]
    with pytest.raises(RuntimeError, match="no_grad"):
        v.mul_(2)
    with cr.no_grad():
        v.mul_(2)
    before = y.grad_fn
    y.mul_(3)  # the base: the no_grad view stays outside the graph
    assert v.grad_fn is None and y.grad_fn is not before


def test_a_view_whose_base_lost_its_memory_is_refused():
    x = leaf()
    y = x * 2
    v = y[0]
    y.data = f64(X.copy())
    with pytest.raises(RuntimeError, match="no longer holds"):
        v.mul_(x[0])


# -- views know their base --------------------------------------------------------------------
def test_views_answer_base_and_is_view_as_pytorch():
    x = leaf()
    y = x * 2
    for view in (y[0], y.t(), y.t()[1:], y.view(-1), y.diagonal(), y.unsqueeze(0)):
        assert view._is_view() and view._base is y
    assert not y._is_view() and y._base is None
    assert not y.detach()._is_view() and not (y + 1)._is_view()


def test_a_tensor_viewed_at_every_step_keeps_a_short_list_of_views():
    weight = cr.ones(3, 4, requires_grad=True)
    for _ in range(1000):
        weight.t()
    assert len(weight._views.refs) < 64


def test_deepcopy_of_a_view_owns_its_memory():
    import copy

    base = cr.zeros(3, 4)
    view = copy.deepcopy(base[1])
    assert not view._is_view()
    view.add_(1)
    assert base.sum().item() == 0


# -- where a view lies in its root -------------------------------------------------------------
def _positions_by_address(view, root):
    """Brute force: the root's flat index of each view element, matched by address."""
    item = root.itemsize
    start = root.__array_interface__["data"][0]
    index = np.indices(root.shape).reshape(root.ndim, -1).T
    address = {start + int(np.dot(i, root.strides)): n for n, i in enumerate(index)}
    vstart = view.__array_interface__["data"][0]
    out = np.empty(view.shape, np.int64)
    for i in np.ndindex(*view.shape):
        out[i] = address[vstart + int(np.dot(i, view.strides))]
    assert item  # (same dtype)
    return out


@pytest.mark.parametrize("layout", [
    lambda a: a, lambda a: np.asfortranarray(a), lambda a: a[::-1, ::2],
    lambda a: a.transpose(2, 0, 1)[:, 1:, ::-1]], ids=["c", "fortran", "reversed", "mixed"])
@pytest.mark.parametrize("view", [
    lambda r: r[1], lambda r: r[:, ::2], lambda r: r.transpose(1, 0, 2)[..., -1],
    lambda r: r[..., None, 0]], ids=["row", "strided", "transposed", "unsqueezed"])
def test_flat_positions_find_each_element_of_the_view(layout, view):
    root = layout(np.arange(4 * 6 * 5, dtype=np.float32).reshape(4, 6, 5).copy())
    v = view(root)
    positions = flat_positions(v, root)
    np.testing.assert_array_equal(positions, _positions_by_address(v, root))
    np.testing.assert_array_equal(root.reshape(-1)[positions], v)


def test_flat_positions_refuse_memory_outside_the_root():
    whole = np.arange(20.0)
    assert flat_positions(whole[10:], whole[:10]) is None
    assert flat_positions(whole[:5].view(np.int64), whole) is None
