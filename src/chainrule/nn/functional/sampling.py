"""Spatial transformers: ``affine_grid`` (where to sample) and ``grid_sample`` (sample there),
composed from differentiable tensor operations, so gradients reach both the input and the
grid (and through it the affine parameters)."""

import itertools
import warnings

import numpy as np

from ...ops.registry import register
from ...tensor import Tensor

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.")


def _base_coordinates(size, align_corners):
    """Normalised pixel-centre coordinates in [-1, 1] of ``size`` pixels."""
    if size == 1:
        return np.zeros(1)
    coords = np.linspace(-1.0, 1.0, size)
    return coords if align_corners else coords * (size - 1) / size


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) of affine maps theta (N, 2, 3) for an output of
    ``size`` (N, C, H, W), or (N, D, H, W, 3) of theta (N, 3, 4) for (N, C, D, H, W)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    size = tuple(int(s) for s in size)
    spatial = size[2:]
    if len(spatial) not in (2, 3):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    dims = len(spatial)
    if theta.dim() != 3 or tuple(theta.shape[1:]) != (dims, dims + 1):
        raise ValueError(f"Expected a batch of {dims}D affine matrices of shape Nx{dims}x"
                         f"{dims + 1} for size {list(size)}. Got {list(theta.shape)}.")
    if theta.shape[0] != size[0]:
        raise ValueError(f"Expected theta to have {size[0]} matrices (the batch of size), got "
                         f"{theta.shape[0]}")
    axes = [_base_coordinates(n, align_corners) for n in spatial]
    # (..., x, y[, z], 1): x runs along the last spatial dim
    mesh = list(np.meshgrid(*axes, indexing="ij"))[::-1]
    base = np.stack(mesh + [np.ones(spatial)], axis=-1).reshape(-1, dims + 1)
    base = Tensor._from_array(base.astype(theta._data.dtype))
    grid = base @ theta.transpose(1, 2)  # (N, prod(spatial), dims)
    return grid.reshape((size[0],) + spatial + (dims,))


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """Reflect coordinates into [twice_low / 2, twice_high / 2] (PyTorch's formula)."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    flips = np.floor(distance.detach().numpy() / span)
    extra = distance - Tensor._from_array(flips * span)
    even = Tensor._from_array(flips % 2 == 0)
    return (extra + low).where(even, span - extra + low)


def _clip(coord, size):
    """coord clamped to [0, size - 1], its gradient 0 at the borders too (PyTorch's
    clip_coordinates_set_grad counts them as outside; clamp would pass the gradient there)."""
    inside = (coord > 0) & (coord < size - 1)
    return coord.where(inside, coord.detach().clamp(0, size - 1))


def _pad(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size)
    return coord


def _gather(flat, coords, sizes):
    """Values of flat (N, C, prod(sizes)) at integer pixel coordinates ``coords`` (x, y[, z]
    arrays (N, P), x along the last dim, whose size is ``sizes[0]``); 0 outside."""
    inside = np.ones(coords[0].shape, bool)
    index, stride = np.zeros(coords[0].shape, np.int64), 1
    for c, size in zip(coords, sizes):
        inside &= (c >= 0) & (c < size)
        index += np.clip(c, 0, size - 1) * stride
        stride *= size
    index = np.where(inside, index, 0)
    n, channels = flat.shape[:2]
    index = np.broadcast_to(index[:, None, :], (n, channels, index.shape[1]))
    values = flat.gather(2, Tensor._from_array(np.ascontiguousarray(index)))
    return values * Tensor._from_array(inside[:, None, :].astype(flat._data.dtype))


def _cubic_weights(t):
    """The four weights of taps -1, 0, 1, 2 at fraction ``t`` (Keys' kernel, A = -0.75, as
    PyTorch's bicubic)."""
    a = -0.75
    near = lambda d: ((a + 2) * d - (a + 3)) * d * d + 1  # noqa: E731 - |d| <= 1
    far = lambda d: ((a * d - 5 * a) * d + 8 * a) * d - 4 * a  # noqa: E731 - 1 < |d| < 2
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bounded_taps(tap, size, padding_mode, align_corners):
    """Integer tap positions moved inside as ``padding_mode`` says (zeros: left as they are,
    read as 0 outside) - PyTorch pads bicubic's taps, not the sampling point."""
    if padding_mode == "zeros":
        return tap
    moved = _pad(Tensor._from_array(tap.astype(np.float64)), size, padding_mode, align_corners)
    return moved.numpy().astype(np.int64)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample (N, C, H, W) ``input`` at the normalised (x, y) points of ``grid`` (N, Ho, Wo, 2),
    or (N, C, D, H, W) at (x, y, z) points of (N, Do, Ho, Wo, 3); -1 and 1 are the edges
    (``align_corners=False``) or the edge pixels' centres (True). Modes 'bilinear' (trilinear
    in 5-D), 'nearest' and, in 4-D, 'bicubic'; padding 'zeros', 'border' or 'reflection'."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if input.dim() not in (4, 5):
        raise RuntimeError(f"grid_sample(): expected 4D or 5D input, got {input.dim()}D")
    if mode == "bicubic" and input.dim() != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    n, channels, *spatial = input.shape
    dims = len(spatial)
    if grid.dim() != dims + 2 or grid.shape[0] != n or grid.shape[-1] != dims:
        raise RuntimeError(f"grid_sample(): expected a grid of shape (N={n}, "
                           f"{'D_out, ' if dims == 3 else ''}H_out, W_out, {dims}), got "
                           f"{tuple(grid.shape)}")
    out_spatial = tuple(grid.shape[1:-1])
    points = grid.reshape(n, -1, dims)
    sizes = spatial[::-1]  # x runs along the last dim
    flat = input.reshape(n, channels, -1)
    unnormalized = [_unnormalize(points[..., k], sizes[k], align_corners) for k in range(dims)]
    if mode == "bicubic":
        out = _bicubic(flat, unnormalized, sizes, padding_mode, align_corners)
        return out.reshape((n, channels) + out_spatial)
    coords = [_pad(c, size, padding_mode, align_corners) for c, size in zip(unnormalized, sizes)]
    if mode == "nearest":
        # round half to even, as PyTorch
        nearest = [np.rint(c.detach().numpy()).astype(np.int64) for c in coords]
        return _gather(flat, nearest, sizes).reshape((n, channels) + out_spatial)
    low = [np.floor(c.detach().numpy()).astype(np.int64) for c in coords]
    # the fractions are differentiable: gradients reach the grid through them
    fractions = [c - Tensor._from_array(l.astype(input._data.dtype)) for c, l in zip(coords, low)]
    out = None
    for corner in itertools.product((0, 1), repeat=dims):
        weight = None
        for k, step in enumerate(corner):
            factor = fractions[k] if step else 1 - fractions[k]
            weight = factor if weight is None else weight * factor
        taps = [low[k] + corner[k] for k in range(dims)]
        term = _gather(flat, taps, sizes) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out.reshape((n, channels) + out_spatial)


def _bicubic(flat, unnormalized, sizes, padding_mode, align_corners):
    """4 x 4 taps around each point, weighted by Keys' cubic kernel in x and in y."""
    x, y = unnormalized
    x0 = np.floor(x.detach().numpy()).astype(np.int64)
    y0 = np.floor(y.detach().numpy()).astype(np.int64)
    wx = _cubic_weights(x - Tensor._from_array(x0.astype(flat._data.dtype)))
    wy = _cubic_weights(y - Tensor._from_array(y0.astype(flat._data.dtype)))
    out = None
    for j in range(4):
        row = None
        ty = _bounded_taps(y0 - 1 + j, sizes[1], padding_mode, align_corners)
        for i in range(4):
            tx = _bounded_taps(x0 - 1 + i, sizes[0], padding_mode, align_corners)
            term = _gather(flat, [tx, ty], sizes) * wx[i].unsqueeze(1)
            row = term if row is None else row + term
        term = row * wy[j].unsqueeze(1)
        out = term if out is None else out + term
    return out


register(affine_grid, top=False, method=False, functional=True)
register(grid_sample, top=False, method=False, functional=True)
