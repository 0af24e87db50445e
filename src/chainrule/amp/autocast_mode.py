"""``autocast``: a region that PyTorch would run in lower precision.

chainrule records the region (so code that asks ``is_autocast_enabled`` sees PyTorch's answer)
but computes in the inputs' own dtype: results match a full-precision run."""

import functools
import threading
import warnings

from .. import _dtypes
from .._device import DEVICE_TYPES

# PyTorch's default autocast dtypes, and the ones CPU autocast accepts.
_DEFAULT_DTYPE = {"cpu": "bfloat16", "cuda": "float16", "mps": "float16", "xpu": "bfloat16"}
_CPU_DTYPES = ("bfloat16", "float16")

_state = threading.local()


def _region_state():
    if not hasattr(_state, "enabled"):
        _state.enabled, _state.dtype = {}, {}
    return _state


def _dtype_name(d):
    return d.name if isinstance(d, _dtypes.dtype) else str(d).replace("torch.", "")


def _dtype_named(name):
    found = getattr(_dtypes, name, None)
    return found if isinstance(found, _dtypes.dtype) else name


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(
            f"Expected `device_type` of type `str`, got: `{type(device_type)}`; "
            "e.g. autocast(device_type='cpu')"
        )
    if device_type not in DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: "
            f"{device_type}"
        )


def is_autocast_available(device_type):
    """Whether ``device_type`` has an autocast at all (PyTorch answers True for cpu and cuda)."""
    _check_device_type(device_type)
    return device_type in _DEFAULT_DTYPE


def is_autocast_enabled(device_type="cuda"):
    """Whether code runs inside an enabled autocast region for ``device_type``."""
    return _region_state().enabled.get(device_type, False)


def set_autocast_enabled(device_type, enabled):
    _region_state().enabled[device_type] = bool(enabled)


def get_autocast_dtype(device_type):
    """The dtype autocast names for ``device_type`` (bfloat16 on the CPU by default)."""
    name = _region_state().dtype.get(device_type, _DEFAULT_DTYPE.get(device_type, "float32"))
    return _dtype_named(name)


def set_autocast_dtype(device_type, dtype):
    _region_state().dtype[device_type] = _dtype_name(dtype)


class autocast:  # noqa: N801 - PyTorch's spelling
    """``with autocast(device_type="cpu", dtype=None, enabled=True):`` (also a decorator).

    Ops inside still compute in their inputs' dtype (see the module docstring); an autocast for
    a device other than the CPU warns and disables itself, as on a CPU-only PyTorch."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device_type(device_type)
        self.device = device_type
        self.fast_dtype = _dtype_name(dtype) if dtype is not None else (
            _dtype_name(get_autocast_dtype(device_type)))
        self._enabled = bool(enabled)
        if not self._enabled:
            return
        if device_type != "cpu":
            warnings.warn(
                f"{device_type.upper()} is not available (chainrule computes on the CPU). "
                "Disabling autocast.", stacklevel=2)
            self._enabled = False
        elif self.fast_dtype not in _CPU_DTYPES:
            warnings.warn(
                "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                stacklevel=2)
            self._enabled = False

    def __enter__(self):
        state = _region_state()
        self._previous = (state.enabled.get(self.device), state.dtype.get(self.device))
        state.enabled[self.device] = self._enabled
        state.dtype[self.device] = self.fast_dtype
        return self

    def __exit__(self, *exc_info):
        state = _region_state()
        for table, value in zip((state.enabled, state.dtype), self._previous):
            if value is None:
                table.pop(self.device, None)
            else:
                table[self.device] = value
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def run_inside(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return run_inside


def custom_fwd(fwd=None, *, device_type="cuda", cast_inputs=None):
    """Decorator for a custom ``Function.forward``; inputs are left in their dtype here."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type="cuda"):
    """Decorator for a custom ``Function.backward`` (nothing to change without autocast casts)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
