"""Gradient clipping, applied to ``.grad`` in place between ``backward()`` and ``step()``."""

import warnings

import numpy as np

from ...tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm"]


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _norm_order(norm_type):
    norm_type = float(norm_type)
    if norm_type <= 0 and norm_type != 0:
        raise ValueError(f"norm_type must be non-negative, got {norm_type}")
    return norm_type


def _vector_norm(array, order):
    flat = array.reshape(-1)
    if order == np.inf:
        return np.max(np.abs(flat)) if flat.size else np.zeros((), flat.dtype)
    # A norm past the dtype's range is inf, as in PyTorch; NumPy's overflow warning would only
    # repeat that.
    with np.errstate(over="ignore"):
        if order == 2:
            return np.sqrt(np.dot(flat, flat))
        return np.linalg.norm(flat, ord=order)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector
    (a 0-d tensor)."""
    tensors = _as_list(tensors)
    order = _norm_order(norm_type)
    if not tensors:
        return Tensor._from_array(np.zeros((), dtype=np.float32))
    dtype = np.result_type(*[t._data.dtype for t in tensors])
    norms = np.array([_vector_norm(t._data, order) for t in tensors], dtype=dtype)
    total = np.asarray(_vector_norm(norms, order), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._from_array(total)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients so that their total norm is at most ``max_norm``; returns the total
    norm before clipping (a tensor).

    >>> w = chainrule.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()              # w.grad is [6, 8], of norm 10
    >>> chainrule.nn.utils.clip_grad_norm_([w], max_norm=1.0)
    tensor(10.)
    >>> w.grad
    tensor([0.6000, 0.8000])
    """
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))``, in place: the second
    half of ``clip_grad_norm_``, for a ``total_norm`` computed apart (``get_total_norm``, or
    one reduced across processes)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = float(total_norm._data if isinstance(total_norm, Tensor) else total_norm)
    # As PyTorch: multiply always, by min(1, max_norm / (norm + 1e-6)).
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)
    for grad in grads:
        grad._data *= np.asarray(coefficient, dtype=grad._data.dtype)
        grad._bump_version()


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The old name of ``clip_grad_norm_`` (still in older training scripts): warns as
    PyTorch does and clips in place."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for param in _as_list(parameters):
        if param.grad is not None:
            np.clip(param.grad._data, -clip_value, clip_value, out=param.grad._data)
            param.grad._bump_version()
