"""``torch.func``: function transforms over functions of tensors.

``grad``/``grad_and_value``/``value_and_grad`` (``_grad``), ``jacrev``/``jacfwd``/``hessian``/
``vjp``/``jvp`` (``_func_transforms``), ``vmap`` (``_vmap``), ``functional_call`` and
``stack_module_state`` (``nn.utils.stateless``). Transforms nest and compose
(``vmap(grad(f))``, ``jacrev(jacrev(f))``)."""

from ._func_transforms import grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ._grad import grad, value_and_grad
from ._vmap import vmap
from .nn.utils.stateless import call_with as functional_call
from .nn.utils.stateless import stack_module_state

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "stack_module_state", "value_and_grad", "vjp", "vmap"]
