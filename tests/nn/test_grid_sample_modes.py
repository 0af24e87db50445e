"""grid_sample's bicubic mode and 5-D (trilinear and nearest) sampling, every padding mode and
both corner conventions, against PyTorch 2.13's values and gradients (recorded into
torch_grid_sample.json by the recipe below, run under torch), and the bicubic weights against
Keys' kernel by hand."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional as F

TORCH = json.loads((Path(__file__).parent / "torch_grid_sample.json").read_text())


def inp(shape, k):
    return (cr.sin(cr.arange(math.prod(shape), dtype=cr.float64) * 0.7 + k)).view(shape)


def grid(shape, k):  # points in (-1.3, 1.3): inside and outside, away from pixel centres
    return (cr.cos(cr.arange(math.prod(shape), dtype=cr.float64) * 1.3 + k) * 1.3).view(shape)


@pytest.mark.parametrize("case", sorted(TORCH))
def test_values_and_gradients_match_pytorch(case):
    mode, padding, align = case.split("|")
    dims = 2 if mode == "bicubic" else 3
    x = inp((2, 2, 4, 5) if dims == 2 else (2, 2, 3, 4, 5), 0).requires_grad_()
    g = grid((2, 3, 4, 2) if dims == 2 else (2, 2, 3, 4, 3), 1).requires_grad_()
    out = F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align == "True")
    (out * out).sum().backward()
    expected = TORCH[case]
    np.testing.assert_allclose(out.detach().numpy().ravel(), expected["out"], atol=1e-10)
    np.testing.assert_allclose(x.grad.numpy().ravel(), expected["grad_input"], atol=1e-10)
    if expected["grad_grid"] is not None:
        np.testing.assert_allclose(g.grad.numpy().ravel(), expected["grad_grid"], atol=1e-9)


def _sample_row(row, xs):
    """Bicubic samples of a one-row image at pixel x coordinates (align_corners=True)."""
    image = cr.tensor(np.tile(row, (6, 1))[None, None])
    normalised = np.asarray(xs) / (len(row) - 1) * 2 - 1
    points = cr.tensor(np.stack([normalised, np.zeros(len(xs))], -1)[None, None])
    return F.grid_sample(image, points, mode="bicubic", align_corners=True).numpy().ravel()


def test_bicubic_weights_by_hand():
    # halfway between pixels (t = 0.5) Keys' kernel with A = -0.75 weighs the four taps
    # -3/32, 19/32, 19/32, -3/32; on x^2 at x = 3.5: (-3 * 4 + 19 * 9 + 19 * 16 - 3 * 25) / 32
    row = np.arange(8, dtype=np.float64) ** 2
    assert _sample_row(row, [3.5])[0] == pytest.approx(388 / 32, rel=1e-12)
    # a quarter of the way (t = 0.25): -27/256, 225/256, 67/256, -9/256 on pixels 1..4
    assert _sample_row(row, [2.25])[0] == pytest.approx(
        (-27 * 1 + 225 * 4 + 67 * 9 - 9 * 16) / 256, rel=1e-12)


def test_bicubic_needs_a_4d_input():
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D"):
        F.grid_sample(cr.ones(1, 1, 2, 2, 2), cr.zeros(1, 1, 1, 1, 3), mode="bicubic",
                      align_corners=False)
