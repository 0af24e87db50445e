"""``nn.utils.prune``: zero a parameter's entries or channels by a mask, as PyTorch's pruning
tutorial does. ``prune.l1_unstructured(module, "weight", amount=0.3)`` keeps the parameter as
``weight_orig``, the mask as the buffer ``weight_mask``, and makes ``module.weight`` their
product before every forward; pruning the same tensor again narrows the mask among the
entries still kept (a ``PruningContainer``); ``prune.remove`` makes the pruned weight the
parameter again."""

import numbers
from abc import ABC, abstractmethod

import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import ones_like
from ...random import numpy_generator
from ...tensor import Tensor
from .convert_parameters import parameters_to_vector

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
           "PruningContainer", "RandomStructured", "RandomUnstructured", "custom_from_mask",
           "global_unstructured", "identity", "is_pruned", "l1_unstructured", "ln_structured",
           "random_structured", "random_unstructured", "remove"]


class BasePruningMethod(ABC):
    """A forward pre-hook that recomputes ``module.<name>`` as ``<name>_orig * <name>_mask``;
    subclasses define ``compute_mask(t, default_mask)``."""

    _tensor_name = None
    PRUNING_TYPE = "unstructured"

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for ``t``, given the mask already applied (``default_mask``)."""

    def apply_mask(self, module):
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new instance of the method (combined with any
        pruning it already has); returns the method now in charge of the tensor."""
        earlier = None
        for key, hook in list(module._forward_pre_hooks.items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                earlier = hook
                del module._forward_pre_hooks[key]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if earlier is not None:
            container = earlier if isinstance(earlier, PruningContainer) else \
                PruningContainer(earlier)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        scores = orig if importance_scores is None else importance_scores
        if scores.shape != orig.shape:
            raise ValueError(f"importance_scores should have the same shape as parameter "
                             f"{name} of {module}")
        if earlier is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        with no_grad():
            mask = method.compute_mask(scores.detach(), default_mask=default_mask)
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` times the mask this method computes for it."""
        scores = t if importance_scores is None else importance_scores
        default_mask = ones_like(t) if default_mask is None else default_mask
        with no_grad():
            return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module):
        """Make the pruned tensor ``module.<name>`` a plain parameter again (its zeros kept)."""
        if self._tensor_name is None:
            raise ValueError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        with no_grad():
            orig.copy_(weight)
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        module.register_parameter(self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """Methods applied one after another to the same tensor: each new mask is computed among
    the entries (or channels) the earlier ones kept."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if self._tensor_name is not None and method._tensor_name != self._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, index):
        return self._pruning_methods[index]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        mask = default_mask._data.copy()
        if method.PRUNING_TYPE == "unstructured":
            kept = default_mask._data == 1
            partial = method.compute_mask(Tensor._from_array(t._data[kept]),
                                          Tensor._from_array(default_mask._data[kept]))
            mask[kept] = partial._data
        elif method.PRUNING_TYPE == "structured":
            dim = method.dim % t.dim()
            others = tuple(d for d in range(t.dim()) if d != dim)
            alive = np.flatnonzero(default_mask._data.sum(axis=others) != 0)
            index = [slice(None)] * t.dim()
            index[dim] = alive
            partial = method.compute_mask(Tensor._from_array(t._data[tuple(index)]),
                                          Tensor._from_array(default_mask._data[tuple(index)]))
            mask[tuple(index)] = partial._data
        elif method.PRUNING_TYPE == "global":
            mask = method.compute_mask(t, default_mask)._data * mask
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        return Tensor._from_array(mask.astype(default_mask._data.dtype))


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _check_amount(amount):
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _count(amount, size):
    """How many of ``size`` entries ``amount`` (a count, or a fraction rounded) names."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of "
                             f"parameters to prune={size}")
        return int(amount)
    return int(round(float(amount) * size))


def _smallest(values, k):
    """Indices of the k smallest values (stable: ties go to the earlier index)."""
    return np.argsort(values, kind="stable")[:k]


class _ByScore(BasePruningMethod):
    """Zeroes the ``amount`` entries of lowest score (``_scores(t)``, one per entry)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        mask = default_mask._data.copy()
        prune = _count(self.amount, t.numel())
        if prune:
            mask.reshape(-1)[_smallest(self._scores(t), prune)] = 0
        return Tensor._from_array(mask)


class RandomUnstructured(_ByScore):
    """Zeroes ``amount`` entries chosen at random."""

    def _scores(self, t):
        return numpy_generator().random(t.numel())

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_ByScore):
    """Zeroes the ``amount`` entries of smallest magnitude."""

    def _scores(self, t):
        return np.abs(t._data).reshape(-1)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t, default_mask, dim, channels):
    """``default_mask`` with everything outside the chosen ``channels`` along ``dim`` zeroed."""
    keep = np.zeros(t.shape[dim], dtype=bool)
    keep[channels] = True
    shape = [1] * t.dim()
    shape[dim] = -1
    return Tensor._from_array(default_mask._data * keep.reshape(shape))


class RandomStructured(BasePruningMethod):
    """Zeroes ``amount`` whole channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        if t.dim() < 1:
            raise ValueError("structured pruning needs a tensor of at least one dimension")
        channels = t.shape[self.dim]
        keep = channels - _count(self.amount, channels)
        chosen = np.argsort(numpy_generator().random(channels), kind="stable")[:keep]
        return _channel_mask(t, default_mask, self.dim % t.dim(), chosen)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Zeroes the ``amount`` channels along ``dim`` of smallest L``n`` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _check_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        if t.dim() < 1:
            raise ValueError("structured pruning needs a tensor of at least one dimension")
        dim = self.dim % t.dim()
        channels = t.shape[dim]
        keep = channels - _count(self.amount, channels)
        others = tuple(d for d in range(t.dim()) if d != dim)
        norms = t.norm(p=self.n, dim=others)._data if others else np.abs(t._data)
        chosen = np.argsort(-norms, kind="stable")[:keep]
        return _channel_mask(t, default_mask, dim, chosen)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Applies a given mask."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise ValueError(f"the mask has shape {tuple(self.mask.shape)}, the tensor "
                             f"{tuple(default_mask.shape)}")
        return Tensor._from_array(default_mask._data * self.mask._data.astype(
            default_mask._data.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the (module, name) pairs of ``parameters`` together, as one vector: e.g. the
    smallest 20% of all their weights by magnitude, wherever they are."""
    parameters = list(parameters)
    importance_scores = importance_scores or {}
    scores = parameters_to_vector([importance_scores.get((m, n), getattr(m, n))
                                   for m, n in parameters]).detach()
    masks = parameters_to_vector([getattr(m, n + "_mask", ones_like(getattr(m, n)))
                                  for m, n in parameters]).detach()
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    method._tensor_name = "temp"
    container = PruningContainer(method)
    final = container.compute_mask(scores, masks)._data
    start = 0
    for module, name in parameters:
        size = getattr(module, name).numel()
        shape = tuple(getattr(module, name).shape)
        custom_from_mask(module, name, Tensor._from_array(final[start:start + size]
                                                          .reshape(shape)))
        start += size


def remove(module, name):
    """Undo the pruning of ``module.<name>``: the pruned values become the parameter."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module):
    """Whether any submodule of ``module`` has a pruned tensor."""
    return any(isinstance(hook, BasePruningMethod) for m in module.modules()
               for hook in m._forward_pre_hooks.values())
