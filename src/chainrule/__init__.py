"""chainrule: backpropagation on NumPy, with PyTorch's API.

>>> import chainrule as torch
>>> x = torch.tensor([1.0, 2.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4.])
"""

import sys

from . import _version
from . import autograd, ops  # noqa: E402
from ._dtypes import (  # noqa: E402
    bool_ as bool,
)
from ._device import get_default_device, set_default_device  # noqa: E402
from ._dtypes import (
    bfloat16,
    can_cast,
    double,
    dtype,
    get_default_dtype,
    set_default_dtype,
    float,
    float16,
    float32,
    float64,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    short,
    uint8,
)
from .autograd import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import *  # noqa: E402,F403
from .kernels.threads import get_num_threads, set_num_threads  # noqa: E402
from .ops._operands import result_type  # noqa: E402
from .ops.registry import TOP, namespace  # noqa: E402
from .random import (  # noqa: E402
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from ._legacy import (  # noqa: E402
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    set_default_tensor_type,
)
from ._torch_functions import *  # noqa: E402,F403
from ._foreach import *  # noqa: E402,F403 - torch._foreach_* (multi-tensor ops)
from ._sparse import *  # noqa: E402,F403 - sparse COO tensors, stored densely
from . import _tensor_extras  # noqa: E402 - Tensor methods that are not ops (byte(), uniform_)
from ._settings import (  # noqa: E402
    are_deterministic_algorithms_enabled,
    compile,
    get_float32_matmul_precision,
    is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision,
    use_deterministic_algorithms,
)
from .serialization import load, save  # noqa: E402
from .tensor import Size, Tensor, device  # noqa: E402

# The layers above the engine, so that `import chainrule as torch; torch.nn.Linear` works.
from . import data, distributed, func, functional, linalg, nn, onnx  # noqa: E402
from . import optim, profiler, signal, sparse, special, testing  # noqa: E402
from . import utils  # noqa: E402 (torch.multiprocessing: import chainrule.multiprocessing)

# What a CPU-only PyTorch build answers about devices (torch.cuda, torch.backends, ...).
from . import accelerator, amp, backends, cuda, mps, version, xpu  # noqa: E402
from .amp import GradScaler, autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402
from .autograd.anomaly_mode import (  # noqa: E402
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly as set_anomaly_enabled,
)

# Every op registered for chainrule.X (chainrule/ops/registry.py): exp, matmul, cat, ...
globals().update(namespace(TOP))
from .nn.torch_namespace import *  # noqa: E402,F403 - torch.conv2d and the other kernels
del TOP, namespace

# torch.optim.swa_utils needs nn.Module and optim's schedulers; optim may not import nn, so the
# module lives above both and takes its PyTorch path here.
from . import _swa_utils  # noqa: E402
from ._module_paths import alias_submodules as _alias_submodules  # noqa: E402

_alias_submodules("chainrule.optim", swa_utils=_swa_utils)
# torch.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) needs ops; the engine may
# not import them, so the module lives in the ops layer and takes its PyTorch path here.
from . import _jacobians  # noqa: E402

_alias_submodules("chainrule.autograd", functional=_jacobians)
vmap = func.vmap  # torch.vmap is torch.func.vmap


# Deprecated torch.X spellings of torch.linalg functions.
def nuclear_norm(input, dim=None, keepdim=False):
    return linalg.matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim)


def frobenius_norm(input, dim=(-2, -1), keepdim=False):
    return linalg.matrix_norm(input, "fro", dim, keepdim)


# Imported only when first used, so that `import chainrule` stays quick: torch.multiprocessing
# pulls in sockets and threads that most programs never need; torch.distributions is a package
# of its own most programs never touch; torch.jit (eager stand-ins) only scriptable code uses.
_LAZY = ("distributions", "jit", "multiprocessing")


def __getattr__(name):
    if name == "__version__":  # chainrule's own, or PyTorch's API version under the alias
        package = sys.modules[__name__]
        if _version.standing_in_for_torch(package):
            return _version.as_torch_version()
        return _version.__version__
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# While `torch` is aliased to chainrule (sys.modules["torch"] = chainrule, or
# chainrule.as_torch), every torch.X.Y path resolves to chainrule.X.Y; otherwise it does nothing.
from ._torch_paths import FINDER as _FINDER  # noqa: E402

_FINDER.register()
