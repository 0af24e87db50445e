"""Spatial transformers: ``affine_grid`` (where to sample) and ``grid_sample`` (sample there),
composed from differentiable tensor operations, so gradients reach both the input and the
grid (and through it the affine parameters)."""

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


def _pad(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def _gather(flat, x, y, width, height):
    """Values of flat (N, C, H*W) at integer pixel (x, y) arrays (N, P); 0 outside."""
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    index = np.where(inside, np.clip(y, 0, height - 1) * width + np.clip(x, 0, width - 1), 0)
    n, channels = flat.shape[:2]
    index = np.broadcast_to(index[:, None, :], (n, channels, index.shape[1]))
    values = flat.gather(2, Tensor._from_array(np.ascontiguousarray(index)))
    return values * Tensor._from_array(inside[:, None, :].astype(flat._data.dtype))


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample (N, C, H, W) ``input`` at the normalised (x, y) points of ``grid`` (N, Ho, Wo, 2),
    -1 and 1 being the edges (``align_corners=False``) or the edge pixels' centres (True).
    Modes 'bilinear' and 'nearest'; padding 'zeros', 'border' or 'reflection'."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if input.dim() != 4 or mode == "bicubic":
        raise NotImplementedError(
            "grid_sample: chainrule samples 4-D (N, C, H, W) inputs in 'bilinear' or "
            f"'nearest' mode; got a {input.dim()}-D input in mode {mode!r}")
    n, channels, height, width = input.shape
    if grid.dim() != 4 or grid.shape[0] != n or grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sample(): expected a grid of shape (N={n}, H_out, W_out, 2), "
                           f"got {tuple(grid.shape)}")
    out_h, out_w = grid.shape[1:3]
    points = grid.reshape(n, out_h * out_w, 2)
    x = _pad(_unnormalize(points[..., 0], width, align_corners), width, padding_mode,
             align_corners)
    y = _pad(_unnormalize(points[..., 1], height, align_corners), height, padding_mode,
             align_corners)
    flat = input.reshape(n, channels, height * width)
    if mode == "nearest":
        xi = np.rint(x.detach().numpy()).astype(np.int64)  # round half to even, as PyTorch
        yi = np.rint(y.detach().numpy()).astype(np.int64)
        out = _gather(flat, xi, yi, width, height)
        return out.reshape(n, channels, out_h, out_w)
    x0 = np.floor(x.detach().numpy()).astype(np.int64)
    y0 = np.floor(y.detach().numpy()).astype(np.int64)
    fx = x - Tensor._from_array(x0.astype(input._data.dtype))  # in [0, 1), differentiable
    fy = y - Tensor._from_array(y0.astype(input._data.dtype))
    corners = [(x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)),
               (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)]
    out = None
    for cx, cy, weight in corners:
        term = _gather(flat, cx, cy, width, height) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out.reshape(n, channels, out_h, out_w)


register(affine_grid, top=False, method=False, functional=True)
register(grid_sample, top=False, method=False, functional=True)
