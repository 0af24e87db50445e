import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradgradcheck
from chainrule.ops import conv as C
from tests.opcheck import OpCase, check_case

CONV = (C.Conv, C.ConvTranspose, C.ConvWeight)  # backward of Conv runs the other two


def conv_reference(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct nested-loop N-d cross-correlation (PyTorch's definition), symmetric padding."""
    nd = x.ndim - 2
    stride, padding, dilation = ((v,) * nd if isinstance(v, int) else v
                                 for v in (stride, padding, dilation))
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    kernel = w.shape[2:]
    out = tuple((xp.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
                for i in range(nd))
    n, o_channels, cg = x.shape[0], w.shape[0], w.shape[1]
    per_group = o_channels // groups
    y = np.zeros((n, o_channels) + out)
    for index in np.ndindex(y.shape):
        batch, o, pos = index[0], index[1], index[2:]
        group = o // per_group
        total = 0.0 if b is None else b[o]
        for c in range(cg):
            for k in np.ndindex(*kernel):
                src = tuple(pos[i] * stride[i] + k[i] * dilation[i] for i in range(nd))
                total += w[(o, c) + k] * xp[(batch, group * cg + c) + src]
        y[index] = total
    return y


def conv_transpose_reference(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                             dilation=1):
    """Direct scatter form: every input element adds w times itself to its output window."""
    nd = x.ndim - 2
    stride, padding, output_padding, dilation = (
        (v,) * nd if isinstance(v, int) else v for v in (stride, padding, output_padding, dilation))
    kernel = w.shape[2:]
    c_in, per_group = w.shape[0], w.shape[1]
    in_group = c_in // groups
    full = tuple((x.shape[2 + i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
                 + output_padding[i] for i in range(nd))
    y = np.zeros((x.shape[0], per_group * groups) + full)
    for index in np.ndindex(x.shape):
        batch, c, pos = index[0], index[1], index[2:]
        group = c // in_group
        for o in range(per_group):
            for k in np.ndindex(*kernel):
                dst = tuple(pos[i] * stride[i] + k[i] * dilation[i] for i in range(nd))
                y[(batch, group * per_group + o) + dst] += x[index] * w[(c, o) + k]
    crop = tuple(slice(p, f - p) for p, f in zip(padding, full))
    y = y[(slice(None), slice(None)) + crop]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    return y


CASES = [
    OpCase("conv1d", F.conv1d, conv_reference, [(2, 3, 7), (4, 3, 3), (4,)], CONV),
    OpCase("conv1d_stride_pad_dilation",
           lambda x, w: F.conv1d(x, w, stride=2, padding=2, dilation=2),
           lambda x, w: conv_reference(x, w, stride=2, padding=2, dilation=2),
           [(1, 2, 9), (3, 2, 3)], CONV),
    OpCase("conv2d", F.conv2d, conv_reference, [(2, 3, 5, 4), (2, 3, 3, 2), (2,)], CONV),
    OpCase("conv2d_options",
           lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                    groups=2),
           lambda x, w, b: conv_reference(x, w, b, (2, 1), (1, 2), (1, 2), 2),
           [(2, 4, 6, 5), (4, 2, 3, 2), (4,)], CONV),
    OpCase("conv2d_depthwise", lambda x, w: F.conv2d(x, w, groups=3, padding=1),
           lambda x, w: conv_reference(x, w, padding=1, groups=3),
           [(1, 3, 4, 4), (6, 1, 3, 3)], CONV),
    OpCase("conv2d_same_even_kernel", lambda x, w: F.conv2d(x, w, padding="same"),
           # PyTorch pads the odd extra element on the high side: left 0, right 1 for k=2
           lambda x, w: conv_reference(np.pad(x, [(0, 0), (0, 0), (1, 2), (0, 1)]), w),
           [(1, 2, 4, 5), (2, 2, 4, 2)], CONV),
    OpCase("conv3d", lambda x, w: F.conv3d(x, w, padding=1, stride=2),
           lambda x, w: conv_reference(x, w, padding=1, stride=2),
           [(1, 2, 3, 4, 3), (2, 2, 2, 2, 2)], CONV),
    OpCase("conv_transpose1d",
           lambda x, w, b: F.conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=2),
           lambda x, w, b: conv_transpose_reference(x, w, b, 3, 1, 2),
           [(2, 2, 4), (2, 3, 3), (3,)], CONV),
    OpCase("conv_transpose2d",
           lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                              groups=2, dilation=(1, 2)),
           lambda x, w, b: conv_transpose_reference(x, w, b, 2, 1, 1, 2, (1, 2)),
           [(1, 4, 3, 3), (4, 3, 3, 2), (6,)], CONV),
    OpCase("conv_transpose3d", lambda x, w: F.conv_transpose3d(x, w, stride=2, padding=1),
           lambda x, w: conv_transpose_reference(x, w, stride=2, padding=1),
           [(1, 2, 2, 3, 2), (2, 1, 2, 2, 3)], CONV),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_op(case):
    check_case(case)


def test_conv2d_double_backward():
    rng = np.random.default_rng(0)
    x = cr.from_numpy(rng.standard_normal((1, 2, 4, 4))).requires_grad_()
    w = cr.from_numpy(rng.standard_normal((2, 1, 2, 3))).requires_grad_()
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2), (x, w))


def test_conv_transpose2d_double_backward():
    rng = np.random.default_rng(1)
    x = cr.from_numpy(rng.standard_normal((1, 2, 3, 3))).requires_grad_()
    w = cr.from_numpy(rng.standard_normal((2, 2, 3, 3))).requires_grad_()
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2), (x, w))


def test_conv_transpose_inverts_the_shape_of_a_strided_conv():
    x = cr.randn(2, 3, 9, 8)
    w = cr.randn(5, 3, 3, 3)
    y = F.conv2d(x, w, stride=2, padding=1)
    back = F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=(0, 1))
    assert tuple(y.shape) == (2, 5, 5, 4) and tuple(back.shape) == (2, 3, 9, 8)


def test_conv_keeps_float32_and_accepts_unbatched_input():
    x, w = cr.randn(3, 6, 6), cr.randn(4, 3, 3, 3)
    y = F.conv2d(x, w, padding="valid")
    assert y.dtype == cr.float32 and tuple(y.shape) == (4, 4, 4)
    batched = F.conv2d(x.reshape(1, 3, 6, 6), w)
    np.testing.assert_allclose(y.numpy(), batched.numpy()[0])


def test_conv_gradients_reach_input_weight_and_bias_in_float32():
    x = cr.randn(2, 3, 5, 5, requires_grad=True)
    w = cr.randn(4, 3, 3, 3, requires_grad=True)
    b = cr.zeros(4, requires_grad=True)
    F.conv2d(x, w, b, padding=1).sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == cr.float32
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 2 * 5 * 5))


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(cr.randn(1, 3, 5, 5), cr.randn(4, 2, 3, 3)), "channels"),
    (lambda: F.conv2d(cr.randn(1, 4, 5, 5), cr.randn(3, 2, 3, 3), groups=2), "divisible"),
    (lambda: F.conv2d(cr.randn(1, 3, 5, 5), cr.randn(4, 3, 3, 3), stride=2, padding="same"),
     "strided"),
    (lambda: F.conv2d(cr.randn(1, 3, 2, 2), cr.randn(4, 3, 3, 3)), "smaller than the kernel"),
    (lambda: F.conv2d(cr.randn(5, 5), cr.randn(4, 3, 3, 3)), "3-D .* or 4-D"),
    (lambda: F.conv2d(cr.randn(1, 3, 5, 5).double(), cr.randn(4, 3, 3, 3)), "same dtype"),
    (lambda: F.conv_transpose2d(cr.randn(1, 2, 3, 3), cr.randn(2, 2, 3, 3), stride=2,
                                output_padding=2), "output padding"),
])
def test_conv_errors_name_the_problem(call, message):
    with pytest.raises((RuntimeError, ValueError), match=message):
        call()


# -- layers ------------------------------------------------------------------------------------
def test_conv2d_layer_parameters_and_default_init():
    cr.manual_seed(0)
    layer = cr.nn.Conv2d(6, 8, (3, 2), groups=2)
    names = [name for name, _ in layer.named_parameters()]
    assert names == ["weight", "bias"]
    assert tuple(layer.weight.shape) == (8, 3, 3, 2) and tuple(layer.bias.shape) == (8,)
    bound = 1 / np.sqrt(3 * 3 * 2)  # kaiming_uniform_(a=sqrt(5)) == uniform(+-1/sqrt(fan_in))
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert p.dtype == cr.float32
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.7 * bound


def test_conv_transpose2d_layer_init_uses_pytorch_fan_in_of_the_weight_layout():
    layer = cr.nn.ConvTranspose2d(4, 6, 3, stride=2)
    assert tuple(layer.weight.shape) == (4, 6, 3, 3)
    bound = 1 / np.sqrt(6 * 3 * 3)  # fan_in is read from dim 1, as PyTorch does
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound


def test_conv_layers_match_the_functional_form():
    x = cr.randn(2, 3, 8, 7)
    layer = cr.nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=1, bias=True)
    want = F.conv2d(x, layer.weight, layer.bias, stride=2, padding=1)
    np.testing.assert_allclose(layer(x).detach().numpy(), want.detach().numpy())
    one = cr.nn.Conv1d(3, 5, 4, padding="same", bias=False)
    assert one.bias is None and tuple(one(cr.randn(2, 3, 9)).shape) == (2, 5, 9)


def test_conv_padding_modes_pad_before_convolving():
    x = cr.randn(1, 2, 5, 6)
    layer = cr.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
    xn = x.numpy()
    padded = np.pad(xn, [(0, 0), (0, 0), (1, 1), (1, 1)], mode="reflect")
    want = conv_reference(padded.astype(np.float64), layer.weight.detach().numpy(),
                          layer.bias.detach().numpy())
    np.testing.assert_allclose(layer(x).detach().numpy(), want, rtol=1e-4, atol=1e-5)
    circular = cr.nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    xs = cr.arange(4.0).reshape(1, 1, 4)
    wrapped = np.array([3.0, 0.0, 1.0, 2.0, 3.0, 0.0])
    want = np.convolve(wrapped, circular.weight.detach().numpy().ravel()[::-1], mode="valid")
    np.testing.assert_allclose(circular(xs).detach().numpy().ravel(), want, rtol=1e-5)


def test_conv_transpose_output_size_picks_the_output_padding():
    layer = cr.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    x = cr.randn(1, 3, 4, 4)
    assert tuple(layer(x).shape) == (1, 2, 7, 7)
    assert tuple(layer(x, output_size=(8, 7)).shape) == (1, 2, 8, 7)
    with pytest.raises(ValueError, match="valid sizes"):
        layer(x, output_size=(10, 10))


def test_conv_layer_repr_is_pytorch_like():
    assert repr(cr.nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)) == (
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)")
    assert repr(cr.nn.ConvTranspose1d(4, 2, 3)) == (
        "ConvTranspose1d(4, 2, kernel_size=(3,), stride=(1,))")


def test_conv_layer_trains_weight_and_bias():
    layer = cr.nn.Conv1d(2, 3, 2)
    layer(cr.randn(4, 2, 6)).pow(2).mean().backward()
    assert layer.weight.grad is not None and tuple(layer.weight.grad.shape) == (3, 2, 2)
    assert layer.bias.grad is not None
