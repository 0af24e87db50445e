"""Normalisation functions (``torch.nn.functional`` names); the fused ops live in
``chainrule.ops.normalization``. Instance norm and local response norm are composed here."""

from ...autograd import grad_mode
from ...ops.normalization import batch_norm
from ...ops.pooling import avg_pool2d, avg_pool3d
from ...ops.registry import register
from ...ops.shape import pad


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Standardise each channel of each sample of (N, C, *) over its spatial dims.

    As in PyTorch, this is batch norm of the input seen as (1, N * C, *); the running
    statistics (when given) move towards the batch average of the per-instance statistics."""
    if input.dim() < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *) with at least "
                         f"one spatial dim, got shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    if use_input_stats and input.numel() // (n * c) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    repeated_mean = running_mean.repeat(n) if running_mean is not None else None
    repeated_var = running_var.repeat(n) if running_var is not None else None
    out = batch_norm(input.reshape((1, n * c) + tuple(input.shape[2:])), repeated_mean,
                     repeated_var, weight.repeat(n) if weight is not None else None,
                     bias.repeat(n) if bias is not None else None, use_input_stats, momentum,
                     eps)
    with grad_mode.no_grad():
        if running_mean is not None and use_input_stats:
            running_mean.copy_(repeated_mean.reshape(n, c).mean(0))
        if running_var is not None and use_input_stats:
            running_var.copy_(repeated_var.reshape(n, c).mean(0))
    return out.reshape(tuple(input.shape))


def _pad_channels(x, size):
    """Zero-pad dim 2 of (N, 1, C, ...) by size // 2 before and (size - 1) // 2 after: the
    channel window of local response norm."""
    return pad(x, [0, 0] * (x.dim() - 3) + [size // 2, (size - 1) // 2])


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels)^beta, for (N, C, *)
    (the window is zero-padded at the channel ends and always divides by ``size``)."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    squares = (input * input).unsqueeze(1)  # (N, 1, C, ...): channels become a pooled dim
    if dim == 3:
        squares = _pad_channels(squares, size)
        div = avg_pool2d(squares, (size, 1), stride=1).squeeze(1)
    else:
        shape = tuple(input.shape)
        squares = squares.reshape(shape[0], 1, shape[1], shape[2], -1)
        div = avg_pool3d(_pad_channels(squares, size), (size, 1, 1), stride=1).squeeze(1)
        div = div.reshape(shape)
    return input / (div * alpha + k) ** beta


register(instance_norm, top=False, method=False, functional=True)
register(local_response_norm, top=False, method=False, functional=True)
