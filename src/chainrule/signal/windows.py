"""``torch.signal.windows``: the window functions of SciPy's conventions, as PyTorch offers
them. Each takes the length M and, keyword-only, its shape parameter, ``sym`` (True: symmetric,
for filter design; False: periodic, for spectral analysis: the symmetric window of M + 1
points without its last), ``dtype``, ``device``, ``requires_grad``."""

import numpy as np

from .. import _dtypes
from .._device import as_cpu
from ..ops.bessel import _scaled_bessel
from ..tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _window(name, M, sym, dtype, device, requires_grad, values, one_is_one=True):  # noqa: N803
    """The window ``values(n, length)`` at n = 0..M-1 (periodic: of M + 1 points); a window of
    one point is [1] (unless ``one_is_one`` is False: an off-centre exponential)."""
    if not isinstance(M, (int, np.integer)) or isinstance(M, bool) or M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    as_cpu(device)
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else _dtypes.default_float()
    if not _dtypes.is_float(np_dtype):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    if M == 0 or (M == 1 and one_is_one):
        data = np.ones(M, dtype=np.float64)
    else:
        length = M if sym else M + 1
        data = values(np.arange(M, dtype=np.float64), length)
    tensor = Tensor._from_array(data.astype(np_dtype))
    return tensor.requires_grad_() if requires_grad else tensor


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: N803
    """sin(pi (n + 1/2) / M)."""
    return _window("cosine", M, sym, dtype, device, requires_grad,
                   lambda n, length: np.sin(np.pi * (n + 0.5) / length))


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,  # noqa: N803
                requires_grad=False):
    """exp(-|n - center| / tau), centred by default."""
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    return _window("exponential", M, sym, dtype, device, requires_grad,
                   lambda n, length: np.exp(-np.abs(n - ((length - 1) / 2 if center is None
                                                         else center)) / tau),
                   one_is_one=center is None)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None,  # noqa: N803
             requires_grad=False):
    """exp(-((n - (M - 1) / 2) / std)^2 / 2)."""
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    return _window("gaussian", M, sym, dtype, device, requires_grad,
                   lambda n, length: np.exp(-((n - (length - 1) / 2) / std) ** 2 / 2))


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None,  # noqa: N803
                   requires_grad=False):
    """sum_k (-1)^k a_k cos(2 pi k n / (M - 1))."""
    coefficients = [float(c) for c in a]

    def values(n, length):
        angle = 2 * np.pi * n / (length - 1)
        return sum((-1) ** k * c * np.cos(k * angle) for k, c in enumerate(coefficients))

    return _window("general_cosine", M, sym, dtype, device, requires_grad, values)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None,  # noqa: N803
                    requires_grad=False):
    """alpha - (1 - alpha) cos(2 pi n / (M - 1))."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: N803
    return general_hamming(M, sym=sym, dtype=dtype, device=device, requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: N803
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: N803
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: N803
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: N803
    """1 - |2n / (M - 1) - 1|."""
    return _window("bartlett", M, sym, dtype, device, requires_grad,
                   lambda n, length: 1 - np.abs(2 * n / (length - 1) - 1))


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None,  # noqa: N803
           requires_grad=False):
    """I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)."""
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")

    def values(n, length):
        ratio = np.sqrt(np.clip(1 - (2 * n / (length - 1) - 1) ** 2, 0, None))
        # scaled Bessel functions: I0(b r) / I0(b) = i0e(b r) / i0e(b) * e^(b r - b)
        return (_scaled_bessel(0, beta * ratio) / _scaled_bessel(0, np.array([beta]))[0]
                * np.exp(beta * ratio - beta))

    return _window("kaiser", M, sym, dtype, device, requires_grad, values)

