import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.nn import functional as F

from .check import assert_directional_derivative, assert_paths_agree


@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), ((1, 2), (2, 0), (2, 1), 1), (1, 1, 1, 2), (3, 2, 2, 2)])
def test_conv_input_gradient_matches_reference(stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 2)).astype(np.float32)

    def run(t, weight):
        y = F.conv2d(t, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
        upstream = np.random.default_rng(5).standard_normal(tuple(y.shape)).astype(np.float32)
        (y * cr.tensor(upstream)).sum().backward()
        return [y.detach().numpy(), t.grad.numpy(), weight.grad.numpy()]

    # the kernel adds each plane's kernel positions in another order than the reference
    assert_paths_agree(run, x, w, rtol=1e-5, atol=1e-5)


def test_conv_transpose_matches_reference():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 6, 7)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)

    def run(t, weight):
        y = F.conv_transpose2d(t, weight, stride=2, padding=1, output_padding=1)
        return [y.detach().numpy()]

    assert_paths_agree(run, x, w, rtol=1e-5, atol=1e-5)


def test_conv_input_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    w = cr.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    upstream = cr.tensor(rng.standard_normal((2, 4, 4, 4)).astype(np.float32))

    def loss(a):
        return float((F.conv2d(cr.tensor(a), w, stride=2, padding=1) * upstream).sum())

    def gradient(a):
        t = cr.tensor(a, requires_grad=True)
        (F.conv2d(t, w, stride=2, padding=1) * upstream).sum().backward()
        return t.grad.numpy()

    assert_directional_derivative(loss, gradient, x)


def test_col2im_kernel_is_used_for_float32_2d():
    cols = np.zeros((2, 3, 3, 1, 2, 2), np.float32)
    with kernels.use_kernels(True, min_size=0):
        assert kernels.load("conv", cols) is not None


def test_kernels_are_chosen_by_the_work_size_when_given():
    x = np.zeros((1, 1, 4, 4), np.float32)  # a small input whose columns can be large
    with kernels.use_kernels(True, min_size=100):
        assert kernels.load("conv", x) is None
        assert kernels.load("conv", x, size=144) is not None
        assert kernels.load("conv", x, size=99) is None
        assert kernels.load("conv", x.astype(np.float64), size=144) is None
