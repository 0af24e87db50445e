"""Grad-CAM (Selvaraju et al., 2017): where in the image a convolutional layer's features drive
the explained output.

With ``A`` the layer's output (samples, channels, *spatial) and ``g`` the gradient of the
explained output with respect to it, each channel weighs ``w_k = mean over space of g_k``, and
the map is ``relu(sum_k w_k A_k)``, brought to the input's spatial size by (bi)linear
interpolation.

    heatmaps = grad_cam(model, images, target=labels, layer="features.3")
"""

import numpy as np

from .. import autograd, nn
from ..creation import from_numpy
from ._core import array_of, explaining, float_dtype, rows_per_chunk, select, target_indices

__all__ = ["grad_cam"]

CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def grad_cam(model, x, target=None, layer=None, upsample=True):
    """Grad-CAM maps of the module named ``layer`` (default: the model's last convolution),
    shaped (samples, *input spatial size), or the layer's own spatial size with
    ``upsample=False``. Any module whose output is (samples, channels, *spatial) will do,
    e.g. the ReLU after a convolution."""
    name, module = _layer(model, layer)
    array = array_of(x)
    targets = target_indices(target, len(array))
    maps = []
    with explaining(model):
        chunk = rows_per_chunk(array)
        for start in range(0, len(array), chunk):
            rows = slice(start, start + chunk)
            activations, grads = _activation_gradient(
                model, module, name, array[rows], None if targets is None else targets[rows])
            spatial = tuple(range(2, activations.ndim))
            weights = grads.mean(axis=spatial, keepdims=True)
            maps.append(np.maximum((weights * activations).sum(axis=1), 0.0))
    found = np.concatenate(maps)
    if upsample and array.ndim == found.ndim + 1 and found.shape[1:] != array.shape[2:]:
        found = resize_linear(found, array.shape[2:])
    return from_numpy(found.astype(float_dtype(array)))


def _layer(model, layer):
    modules = dict(model.named_modules())
    if layer is None:
        convolutions = [n for n, m in modules.items() if isinstance(m, CONVOLUTIONS)]
        if not convolutions:
            raise ValueError("the model has no convolution: name the layer to explain with "
                             "layer=")
        layer = convolutions[-1]
    if isinstance(layer, nn.Module):
        named = [n for n, m in modules.items() if m is layer]
        if not named:
            raise ValueError("layer= is a module that is not part of the model")
        return named[0], layer
    if layer not in modules:
        shown = [n for n, m in modules.items() if isinstance(m, CONVOLUTIONS)]
        raise ValueError(f"the model has no layer {layer!r}; its convolutions are: "
                         f"{', '.join(shown) or 'none'}")
    return layer, modules[layer]


def _activation_gradient(model, module, name, inputs, targets):
    """The layer's output for ``inputs`` and the gradient of the explained outputs with
    respect to it, as float64 arrays."""
    found = []

    def capture(module, args, output):
        if found:
            raise ValueError(f"layer {name!r} runs more than once in a forward; Grad-CAM needs "
                             "a layer that runs once")
        if not hasattr(output, "dim") or output.dim() < 3:
            shape = tuple(output.shape) if hasattr(output, "shape") else type(output).__name__
            raise ValueError(f"layer {name!r} gives {shape}; Grad-CAM needs an output of shape "
                             "(samples, channels, *spatial), such as a convolution's")
        leaf = output.detach().requires_grad_(True)
        found.append(leaf)
        return leaf

    handle = module.register_forward_hook(capture)
    try:
        selected = select(model(from_numpy(np.ascontiguousarray(inputs))), targets)
    finally:
        handle.remove()
    if not found:
        raise ValueError(f"layer {name!r} did not run in the model's forward")
    (grad,) = autograd.grad(selected.sum(), found, allow_unused=True, materialize_grads=True)
    return array_of(found[0]).astype(np.float64), array_of(grad).astype(np.float64)


def resize_linear(maps, size):
    """(N, *spatial) maps resized to ``size`` by linear interpolation along each spatial axis,
    with half-pixel centres (PyTorch's ``interpolate(..., align_corners=False)``)."""
    for axis, new in enumerate(size, start=1):
        old = maps.shape[axis]
        position = np.clip((np.arange(new) + 0.5) * old / new - 0.5, 0, old - 1)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, old - 1)
        fraction = (position - low).reshape((-1,) + (1,) * (maps.ndim - axis - 1))
        maps = (np.take(maps, low, axis=axis) * (1 - fraction)
                + np.take(maps, high, axis=axis) * fraction)
    return maps
