"""The op table's rows for the deprecated upsampling names, against NumPy (interpolate itself is
checked against PyTorch's recorded results in test_against_pytorch.py)."""

import warnings

import numpy as np
import pytest

import chainrule.nn.functional as F
from tests.opcheck import OpCase, check_case


def nearest_twice(x):
    """Each element repeated twice along every spatial dim."""
    for axis in range(2, x.ndim):
        x = np.repeat(x, 2, axis=axis)
    return x


def _resample(line, positions):
    return np.interp(positions, np.arange(len(line)), line)


def linear_corners(x, size):
    """Linear interpolation with the corners aligned: output i samples input position
    i * (n - 1) / (size - 1), separably along each spatial dim."""
    for axis, out in zip(range(2, x.ndim), size):
        n = x.shape[axis]
        x = np.apply_along_axis(_resample, axis, x, np.linspace(0, n - 1, out))
    return x


def _quietly(function):
    def call(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "upsample is deprecated"
            return function(*args)

    return call


CASES = [
    OpCase("upsample_nearest", _quietly(lambda x: F.upsample_nearest(x, scale_factor=2)),
           nearest_twice, [(1, 2, 3, 2)]),
    OpCase("upsample", _quietly(lambda x: F.upsample(x, scale_factor=2)), nearest_twice,
           [(1, 2, 3)]),
    OpCase("upsample_bilinear", _quietly(lambda x: F.upsample_bilinear(x, size=(4, 5))),
           lambda x: linear_corners(x, (4, 5)), [(1, 2, 3, 2)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_upsample_op(case):
    check_case(case)
