"""``nn.utils.parametrize``: a module's tensor computed by small modules from other tensors
(``register_parametrization``), as in PyTorch.

After ``register_parametrization(module, "weight", p)``, ``module.weight`` is a property of a
subclass made for that module (``ParametrizedLinear``): reading it runs
``module.parametrizations.weight`` (a ``ParametrizationList``) on the stored original, and the
original parameter moves to ``parametrizations.weight.original`` — or ``original0``,
``original1`` ... when ``p.right_inverse`` splits it into several tensors (weight norm's
g and v). Parameter names, state-dict keys and gradients follow PyTorch's."""

import contextlib

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, run in order on its stored original(s)."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        stored = original
        for module in reversed(list(modules)):
            if hasattr(module, "right_inverse"):
                # one that cannot invert counts as the identity here, as in PyTorch (only
                # assigning a new value later refuses)
                with no_grad(), contextlib.suppress(NotImplementedError):
                    stored = module.right_inverse(stored)
        self.is_tensor = isinstance(stored, Tensor)
        self.ntensors = 1 if self.is_tensor else len(stored)
        requires_grad = original.requires_grad
        if self.is_tensor:
            self._register_original("original", stored, requires_grad)
        else:
            for i, value in enumerate(stored):
                self._register_original(f"original{i}", value, requires_grad)

    def _register_original(self, name, value, requires_grad):
        parameter = Parameter(value.detach().clone(), requires_grad=requires_grad)
        self.register_parameter(name, parameter)

    def right_inverse(self, value):
        """Store ``value`` as the tensor's new value (through the right inverses)."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
            if self.is_tensor:
                self.original.copy_(value)
            else:
                for i, part in enumerate(value):
                    getattr(self, f"original{i}").copy_(part)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _parametrized_class(module):
    """The class of ``module`` with properties for its parametrized tensors (made once)."""
    cls = type(module)
    if getattr(cls, "_parametrized_from", None) is not None:
        return cls
    return type("Parametrized" + cls.__name__, (cls,), {"_parametrized_from": cls})


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` the output of ``parametrization`` (appended after any it
    already has); returns ``module``."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    original = getattr(module, tensor_name)
    if not isinstance(original, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name "
                         f"'{tensor_name}'")
    module._parameters.pop(tensor_name, None)
    module._buffers.pop(tensor_name, None)
    if "parametrizations" not in module._modules:
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = ParametrizationList(
        [parametrization], original, unsafe)
    cls = _parametrized_class(module)
    setattr(cls, tensor_name, property(
        lambda self: self.parametrizations[tensor_name](),
        lambda self, value: self.parametrizations[tensor_name].right_inverse(value)))
    module.__class__ = cls
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has parametrizations (on ``tensor_name``, when given)."""
    parametrizations = module._modules.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else (
        tensor_name in parametrizations)


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Make ``module.<tensor_name>`` a plain parameter again: its current value
    (``leave_parametrized``) or its stored original (one original tensor only)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name)
        requires_grad = (plist.original if plist.is_tensor else plist.original0).requires_grad
        restored = Parameter(value.detach().clone(), requires_grad=requires_grad)
    elif plist.is_tensor:
        restored = plist.original
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    module.register_parameter(tensor_name, restored)
    if not is_parametrized(module):
        del module.parametrizations
        module.__class__ = type(module)._parametrized_from
    return module


def type_before_parametrizations(module):
    """The class ``module`` had before ``register_parametrization`` changed it."""
    return getattr(type(module), "_parametrized_from", None) or type(module)


@contextlib.contextmanager
def cached():
    """PyTorch caches parametrized tensors inside this block; chainrule recomputes them (the
    values are the same)."""
    yield
