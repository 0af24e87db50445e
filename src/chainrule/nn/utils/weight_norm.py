"""``nn.utils.weight_norm``: a weight re-parameterised as a magnitude times a direction,
``w = g * v / ||v||`` (Salimans & Kingma, 2016), recomputed before every forward.

As in PyTorch, the module's ``weight`` parameter is replaced by two parameters, ``weight_g``
(the norm of ``weight`` over every dim but ``dim``, keeping dims) and ``weight_v`` (``weight``
itself), added after the module's other parameters; ``weight`` becomes a plain tensor
computed from them by a forward pre-hook. ``dim=None`` (or -1) takes one norm over the whole
tensor. PyTorch deprecates this form in favour of ``nn.utils.parametrizations.weight_norm``
and warns; so does chainrule."""

import warnings

from ..parameter import Parameter

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]


def norm_except_dim(v, pow=2, dim=0):  # noqa: A002 - PyTorch's name
    """The ``pow``-norm of ``v`` over every dim but ``dim`` (kept, so it broadcasts against
    ``v``); over the whole tensor when ``dim`` is -1."""
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.dim()
    others = tuple(d for d in range(v.dim()) if d != dim)
    return v.abs() if not others else v.norm(pow, dim=others, keepdim=True)


def parameter_to_normalise(module, name, hook_type, what):
    """``module``'s parameter ``name``, which no ``hook_type`` hook normalises yet."""
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, hook_type) and hook.name == name:
            raise RuntimeError(f"Cannot register two {what} hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise AttributeError(f"module {type(module).__name__} has no parameter {name!r} "
                             "to normalise")
    return weight


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, 2, self.dim))

    @staticmethod
    def apply(module, name, dim):
        weight = parameter_to_normalise(module, name, WeightNorm, "weight_norm")
        fn = WeightNorm(name, dim)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Re-parameterise ``module.<name>`` as ``g * v / ||v||`` (parameters ``<name>_g`` and
    ``<name>_v``); returns ``module``."""
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                  "torch.nn.utils.parametrizations.weight_norm.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``module.<name>`` becomes one parameter again (its current value)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
