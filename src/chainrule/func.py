"""``torch.func``: function transforms over functions of tensors.

``grad``/``grad_and_value``/``value_and_grad`` (``_grad``), ``jacrev``/``jacfwd``/``hessian``/
``vjp``/``jvp`` (``_func_transforms``), ``vmap`` (``_vmap``), ``functional_call`` and
``stack_module_state`` (``nn.utils.stateless``). Transforms nest and compose
(``vmap(grad(f))``, ``jacrev(jacrev(f))``)."""

from ._func_transforms import grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._grad import grad, value_and_grad
from ._vmap import vmap
from .nn.modules.batchnorm import _BatchNorm
from .nn.utils.stateless import call_with as functional_call
from .nn.utils.stateless import stack_module_state

__all__ = ["debug_unwrap", "functional_call", "functionalize", "grad", "grad_and_value",
           "hessian", "jacfwd", "jacrev", "jvp", "linearize", "replace_all_batch_norm_modules_",
           "stack_module_state", "value_and_grad", "vjp", "vmap"]


def functionalize(func, *, remove="mutations"):
    """``func`` itself: PyTorch's functionalize rewrites in-place ops and views as
    out-of-place ones for its graph compilers, with the same results; chainrule runs eagerly,
    so the function already gives them."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError("functionalize(f, remove='mutations'): received invalid argument "
                           f"for remove={remove}. Valid options are:\n     remove='mutations'"
                           "\n     remove='mutations_and_views'")
    return func


def debug_unwrap(tensor, *, recurse=True):
    """The tensor itself: chainrule's transforms pass ordinary tensors to the function, so
    there is no wrapper to take off."""
    return tensor


def replace_all_batch_norm_modules_(root):
    """Make every batch-norm module in ``root`` use batch statistics only (no running
    statistics), in place, so that ``vmap`` over it keeps no state; returns ``root``."""
    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
