import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradgradcheck
from chainrule.ops import pooling as P
from tests.opcheck import OpCase, check_case

MAX = (P.MaxPool, P.MaxPoolGrad)
AVG = (P.AvgPool, P.AvgPoolGrad)


def out_length(size, k, s, p, d, ceil_mode):
    """PyTorch's documented output length, written out from the formula."""
    raw = (size + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(raw) if ceil_mode else math.floor(raw)) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_reference(x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False, mode="max",
                   count_include_pad=True, return_indices=False):
    """Nested-loop pooling over the last 1 or 2 dims, with PyTorch's divisor rules."""
    nd = x.ndim - 2
    as_tuple = lambda v: (v,) * nd if isinstance(v, int) else tuple(v)  # noqa: E731
    kernel = as_tuple(kernel)
    stride = kernel if stride is None else as_tuple(stride)
    padding, dilation = as_tuple(padding), as_tuple(dilation)
    spatial = x.shape[2:]
    out = tuple(out_length(spatial[i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode)
                for i in range(nd))
    y = np.zeros(x.shape[:2] + out)
    indices = np.zeros(x.shape[:2] + out, dtype=np.int64)
    for index in np.ndindex(y.shape):
        lead, pos = index[:2], index[2:]
        best, best_at, total, inside, padded = -np.inf, -1, 0.0, 0, 1
        for i in range(nd):
            start = pos[i] * stride[i] - padding[i]
            padded *= min(start + kernel[i], spatial[i] + padding[i]) - start
        for k in np.ndindex(*kernel):
            src = tuple(pos[i] * stride[i] - padding[i] + k[i] * dilation[i] for i in range(nd))
            if all(0 <= src[i] < spatial[i] for i in range(nd)):
                value = x[lead + src]
                inside += 1
                total += value
                if value > best:
                    best, best_at = value, int(np.ravel_multi_index(src, spatial))
        if mode == "max":
            y[index], indices[index] = best, best_at
        else:
            y[index] = total / (padded if count_include_pad else inside)
    return (y, indices) if return_indices else y


def adaptive_reference(x, out):
    """Adaptive average pooling over the last len(out) dims: window i of n over size s covers
    [floor(i s / n), ceil((i + 1) s / n))."""
    spatial, lead = x.shape[2:], (slice(None), slice(None))
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in np.ndindex(*out):
        window = tuple(slice((p * s) // n, math.ceil((p + 1) * s / n))
                       for p, s, n in zip(pos, spatial, out))
        y[lead + pos] = x[lead + window].mean(axis=tuple(range(2, x.ndim)))
    return y


def adaptive_max_reference(x, out):
    """(values, indices) of adaptive max pooling, with adaptive_reference's windows."""
    spatial, lead = x.shape[2:], (slice(None), slice(None))
    values = np.zeros(x.shape[:2] + tuple(out))
    indices = np.zeros(x.shape[:2] + tuple(out), dtype=np.int64)
    for pos in np.ndindex(*out):
        starts = [(p * s) // n for p, s, n in zip(pos, spatial, out)]
        window = tuple(slice(a, math.ceil((p + 1) * s / n))
                       for a, p, s, n in zip(starts, pos, spatial, out))
        block = x[lead + window].reshape(x.shape[:2] + (-1,))
        values[lead + pos] = block.max(-1)
        local = np.unravel_index(block.argmax(-1), x[lead + window].shape[2:])
        indices[lead + pos] = np.ravel_multi_index(
            tuple(a + i for a, i in zip(starts, local)), spatial)
    return values, indices


CASES = [
    OpCase("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1),
           lambda x: pool_reference(x, 3, 2, 1), [(2, 3, 8)], MAX),
    OpCase("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: pool_reference(x, 2),
           [(2, 3, 4, 6)], MAX),
    OpCase("max_pool2d_overlapping_padded", lambda x: F.max_pool2d(x, 3, stride=(2, 1), padding=1),
           lambda x: pool_reference(x, 3, (2, 1), 1), [(1, 2, 5, 4)], MAX),
    OpCase("max_pool2d_dilation_ceil",
           lambda x: F.max_pool2d(x, (2, 3), stride=2, dilation=(2, 1), ceil_mode=True),
           lambda x: pool_reference(x, (2, 3), 2, 0, (2, 1), True), [(1, 2, 6, 7)], MAX),
    OpCase("max_pool2d_indices", lambda x: F.max_pool2d(x, 2, return_indices=True)[0],
           lambda x: pool_reference(x, 2), [(1, 1, 4, 4)], MAX),
    OpCase("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1),
           lambda x: pool_reference(x, 3, 2, 1, mode="avg"), [(2, 2, 7)], AVG),
    OpCase("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: pool_reference(x, 2, mode="avg"),
           [(2, 3, 4, 6)], AVG),
    OpCase("avg_pool2d_ceil_count_include_pad",
           lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
           lambda x: pool_reference(x, 3, 2, 1, ceil_mode=True, mode="avg"), [(1, 2, 6, 5)], AVG),
    OpCase("avg_pool2d_exclude_pad",
           lambda x: F.avg_pool2d(x, (3, 2), (2, 1), (1, 1), ceil_mode=True,
                                  count_include_pad=False),
           lambda x: pool_reference(x, (3, 2), (2, 1), (1, 1), ceil_mode=True, mode="avg",
                                    count_include_pad=False), [(1, 2, 6, 5)], AVG),
    OpCase("avg_pool2d_divisor_override", lambda x: F.avg_pool2d(x, 2, divisor_override=3),
           lambda x: pool_reference(x, 2, mode="avg") * 4 / 3, [(1, 2, 4, 4)], AVG),
    OpCase("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
           lambda x: adaptive_reference(x, (3, 2)), [(2, 2, 7, 5)], (P.AdaptiveAvgPool,)),
    OpCase("adaptive_avg_pool2d_global", lambda x: F.adaptive_avg_pool2d(x, 1),
           lambda x: x.mean(axis=(2, 3), keepdims=True), [(2, 3, 4, 5)], (P.AdaptiveAvgPool,)),
    OpCase("adaptive_avg_pool2d_upsample_and_none",
           lambda x: F.adaptive_avg_pool2d(x, (5, None)),
           lambda x: adaptive_reference(x, (5, 3)), [(1, 2, 3, 3)], (P.AdaptiveAvgPool,)),
    OpCase("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 3),
           lambda x: adaptive_reference(x[..., None], (3, 1))[..., 0], [(2, 2, 7)],
           (P.AdaptiveAvgPool,)),
    OpCase("max_pool3d", lambda x: F.max_pool3d(x, 2, stride=(1, 2, 2)),
           lambda x: pool_reference(x, 2, stride=(1, 2, 2)), [(1, 2, 3, 4, 4)],
           (P.MaxPool, P.MaxPoolGrad)),
    OpCase("avg_pool3d", lambda x: F.avg_pool3d(x, 2, padding=1),
           lambda x: pool_reference(x, 2, padding=1, mode="avg"), [(1, 2, 3, 4, 3)],
           (P.AvgPool, P.AvgPoolGrad)),
    OpCase("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 3, 1)),
           lambda x: adaptive_reference(x, (2, 3, 1)), [(1, 2, 3, 5, 2)],
           (P.AdaptiveAvgPool,)),
    # (values, indices) forms; the indices are positions in the flattened spatial dims
    OpCase("max_pool1d_with_indices", lambda x: F.max_pool1d_with_indices(x, 3, 2, 1),
           lambda x: pool_reference(x, 3, 2, 1, return_indices=True), [(2, 3, 7)],
           (P.MaxPool,)),
    OpCase("max_pool3d_with_indices", lambda x: F.max_pool3d_with_indices(x, 2),
           lambda x: pool_reference(x, 2, return_indices=True), [(1, 2, 2, 4, 4)],
           (P.MaxPool,)),
    OpCase("adaptive_max_pool1d_with_indices",
           lambda x: F.adaptive_max_pool1d_with_indices(x, 3),
           lambda x: adaptive_max_reference(x, (3,)), [(2, 2, 7)]),
    OpCase("adaptive_max_pool2d_with_indices",
           lambda x: F.adaptive_max_pool2d_with_indices(x, (3, 2)),
           lambda x: adaptive_max_reference(x, (3, 2)), [(1, 2, 5, 5)]),
    OpCase("adaptive_max_pool3d_with_indices",
           lambda x: F.adaptive_max_pool3d_with_indices(x, (2, 1, 2)),
           lambda x: adaptive_max_reference(x, (2, 1, 2)), [(1, 2, 3, 2, 4)]),
    # windows of one element at every position: the values are the input, whatever the
    # random placement, and the indices count the positions
    OpCase("fractional_max_pool2d_with_indices",
           lambda x: F.fractional_max_pool2d_with_indices(x, 1, output_size=(3, 4)),
           lambda x: (x, np.arange(12).reshape(1, 1, 3, 4).repeat(2, 1)), [(1, 2, 3, 4)]),
    OpCase("fractional_max_pool3d_with_indices",
           lambda x: F.fractional_max_pool3d_with_indices(x, 1, output_size=(2, 2, 3)),
           lambda x: (x, np.arange(12).reshape(1, 1, 2, 2, 3).repeat(2, 1)),
           [(1, 2, 2, 2, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_pooling_op(case):
    check_case(case)


@pytest.mark.parametrize("pool", [
    lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
    lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
    lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
])
def test_pooling_double_backward(pool):
    x = cr.from_numpy(np.random.default_rng(0).standard_normal((1, 2, 5, 5))).requires_grad_()
    assert gradgradcheck(pool, (x,))


def test_max_pool_indices_match_the_reference():
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 7))
    y, indices = F.max_pool2d(cr.from_numpy(x), 3, stride=2, padding=1, dilation=1,
                              ceil_mode=True, return_indices=True)
    want_y, want_indices = pool_reference(x, 3, 2, 1, ceil_mode=True, return_indices=True)
    assert indices.dtype == cr.int64
    np.testing.assert_array_equal(indices.numpy(), want_indices)
    np.testing.assert_allclose(y.numpy(), want_y)


def test_max_pool_gradient_goes_to_the_maximum_and_adds_up_over_overlapping_windows():
    x = cr.zeros(1, 1, 3, 3)
    x[0, 0, 1, 1] = 5.0  # the centre is the max of all four overlapping 2x2 windows
    x.requires_grad_()
    F.max_pool2d(x, 2, stride=1).sum().backward()
    expected = np.zeros((1, 1, 3, 3), dtype=np.float32)
    expected[0, 0, 1, 1] = 4.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_pooling_keeps_float32_and_accepts_unbatched_input():
    x = cr.randn(3, 6, 6)
    for y in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 3)):
        assert y.dtype == cr.float32 and tuple(y.shape) == (3, 3, 3)


def test_max_pool_propagates_nan():
    x = cr.tensor([[[1.0, float("nan"), 0.5, 2.0]]])
    assert np.isnan(F.max_pool1d(x, 2).numpy()[0, 0, 0])


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(cr.randn(1, 1, 4, 4), 2, padding=2), "half of the kernel"),
    (lambda: F.avg_pool2d(cr.randn(1, 1, 2, 2), 3), "too small"),
    (lambda: F.max_pool2d(cr.randn(4, 4), 2), "3-D .* or 4-D"),
    (lambda: F.adaptive_avg_pool2d(cr.randn(1, 1, 4, 4), (2, 2, 2)), "output_size"),
])
def test_pooling_errors_name_the_problem(call, message):
    with pytest.raises((RuntimeError, ValueError), match=message):
        call()


def test_pooling_layers_match_the_functional_form():
    x = cr.randn(2, 3, 7, 6)
    pairs = [
        (cr.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
         F.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
        (cr.nn.AvgPool2d(2, count_include_pad=False), F.avg_pool2d(x, 2)),
        (cr.nn.AdaptiveAvgPool2d((2, None)), F.adaptive_avg_pool2d(x, (2, 6))),
        (cr.nn.MaxPool1d(2), F.max_pool1d(x.reshape(2, 3, 42), 2)),
    ]
    for layer, want in pairs:
        got = layer(x if "1d" not in type(layer).__name__ else x.reshape(2, 3, 42))
        np.testing.assert_allclose(got.numpy(), want.numpy())
    out, indices = cr.nn.MaxPool2d(2, return_indices=True)(x)
    assert tuple(indices.shape) == tuple(out.shape) == (2, 3, 3, 3)


def test_pooling_layer_repr_is_pytorch_like():
    assert repr(cr.nn.MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)")
    assert repr(cr.nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"


def test_max_pool_indices_first_of_ties_and_first_nan():
    # ties go to the first window position and a NaN beats every number, as np.argmax does
    x = np.array([[[[1.0, 1.0, 0.0, float("nan")],
                    [0.0, 1.0, float("nan"), float("nan")]]]], dtype=np.float32)
    out, index = F.max_pool2d(cr.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(index.numpy(), [[[[0, 3]]]])
    assert out.numpy()[0, 0, 0, 0] == 1.0 and np.isnan(out.numpy()[0, 0, 0, 1])
    x = cr.tensor(x, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[1, 0, 0, 1], [0, 0, 0, 0]]]])
    assert x.grad.dtype == cr.float32


def test_max_pool_frees_its_indices_once_backward_is_done():
    # the indices are a quarter of the input: a conv net's peak comes later in its backward
    x = cr.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32),
                  requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.sum().backward(retain_graph=True)
    first = x.grad.numpy().copy()
    assert y.grad_fn.index is not None
    y.sum().backward()  # retained once: a second pass adds the same gradient again
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    assert y.grad_fn.index is None
    with pytest.raises(RuntimeError, match="retain_graph"):  # as PyTorch: saved values freed
        y.sum().backward()
