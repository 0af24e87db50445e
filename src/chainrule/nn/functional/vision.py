"""Rearranging pixels and patches: ``pixel_shuffle``/``pixel_unshuffle``,
``channel_shuffle``, and ``unfold``/``fold`` (sliding patches to columns and back), composed
from reshapes, permutations and indexing, so their gradients come from those ops."""

import numpy as np

from ...ops.rearrange import unfold_windows
from ...ops.registry import register
from ...ops.shape import pad
from ...tensor import Tensor


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    *lead, channels, height, width = input.shape
    if r <= 0 or channels % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{channels} is not divisible by {r * r}")
    lead = tuple(lead)
    x = input.reshape(lead + (channels // (r * r), r, r, height, width))
    k = len(lead)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(lead + (channels // (r * r), height * r, width * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of ``pixel_shuffle``."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    *lead, channels, height, width = input.shape
    if r <= 0 or height % r or width % r:
        raise RuntimeError(f"pixel_unshuffle expects height ({height}) and width ({width}) to "
                           f"be divisible by downscale_factor ({r})")
    lead = tuple(lead)
    x = input.reshape(lead + (channels, height // r, r, width // r, r))
    k = len(lead)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(lead + (channels * r * r, height // r, width // r))


def channel_shuffle(input, groups):
    """(N, C, *) with the channels regrouped: (g, C/g) -> (C/g, g), as in ShuffleNet."""
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    n, channels = input.shape[:2]
    if groups <= 0 or channels % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} "
                           f"channels and {groups} groups.")
    rest = tuple(input.shape[2:])
    x = input.reshape((n, groups, channels // groups) + rest).transpose(1, 2)
    return x.reshape((n, channels) + rest)




def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return value


def _patch_index(padded, kernel, dilation, stride, op):
    """Flat positions in the padded (Hp * Wp) plane of every patch element: shape
    (kh * kw, blocks), in unfold's order (kernel row, kernel col) x (block row, block col)."""
    counts = [(p - d * (k - 1) - 1) // s + 1 for p, k, d, s in
              zip(padded, kernel, dilation, stride)]
    if any(c <= 0 for c in counts):
        raise RuntimeError(f"{op}: the padded input of spatial size {padded} is too small for "
                           f"kernel {kernel} with dilation {dilation}; no block fits")
    rows = (np.arange(kernel[0])[:, None] * dilation[0]
            + np.arange(counts[0])[None, :] * stride[0])  # (kh, bh)
    cols = (np.arange(kernel[1])[:, None] * dilation[1]
            + np.arange(counts[1])[None, :] * stride[1])  # (kw, bw)
    flat = rows[:, None, :, None] * padded[1] + cols[None, :, None, :]  # (kh, kw, bh, bw)
    return flat.reshape(kernel[0] * kernel[1], -1), counts


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of (N, C, H, W) as columns: (N, C * kh * kw, L), L = number of blocks."""
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {input.dim()}D)")
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding, stride = _pair(padding, "padding"), _pair(stride, "stride")
    x = pad(x, (padding[1], padding[1], padding[0], padding[0]))
    n, c, hp, wp = x.shape
    index, _ = _patch_index((hp, wp), kernel, dilation, stride, "unfold")
    cols = x.reshape(n, c, hp * wp).index_select(2, Tensor._from_array(index.reshape(-1)))
    out = cols.reshape(n, c * index.shape[0], index.shape[1])
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns (N, C * kh * kw, L) back into (N, C, H, W): the adjoint of ``unfold``
    (overlapping patch elements add up)."""
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.dim()}D)")
    batched = input.dim() == 3
    cols = input if batched else input.unsqueeze(0)
    size, kernel = _pair(output_size, "output_size"), _pair(kernel_size, "kernel_size")
    dilation, padding = _pair(dilation, "dilation"), _pair(padding, "padding")
    stride = _pair(stride, "stride")
    padded = (size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    index, counts = _patch_index(padded, kernel, dilation, stride, "fold")
    n, width, blocks = cols.shape
    per_patch = kernel[0] * kernel[1]
    if width % per_patch or blocks != index.shape[1]:
        raise RuntimeError(
            f"fold: expected an input of shape (N, C * {per_patch}, {index.shape[1]}) for "
            f"output_size {size}, kernel {kernel}, dilation {dilation}, padding {padding} and "
            f"stride {stride} ({counts[0]} x {counts[1]} blocks); got {tuple(cols.shape)}")
    channels = width // per_patch
    canvas = cols.new_zeros(n, channels, padded[0] * padded[1])
    values = cols.reshape(n, channels, per_patch * blocks)
    canvas = canvas.index_add(2, Tensor._from_array(index.reshape(-1)), values)
    out = canvas.reshape(n, channels, padded[0], padded[1])
    out = out[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    return out if batched else out.squeeze(0)


register(pixel_shuffle, method=False, functional=True)
register(pixel_unshuffle, method=False, functional=True)
register(channel_shuffle, aliases=("native_channel_shuffle",), method=False, functional=True)
register(unfold, top=False, method=unfold_windows, functional=True)  # Tensor.unfold differs
register(fold, top=False, method=False, functional=True)
