"""``Optimizer``: the base class of every optimizer.

The base class owns what all optimizers share: parameter groups, per-parameter ``state``, the
loop over parameters in ``step``, ``zero_grad`` and ``state_dict``. An optimizer adds three
things: ``_validate_group`` (reject bad hyperparameters), ``_init_state`` (the buffers one
parameter needs) and ``_update`` (the update rule for one parameter, written in place on its
array with NumPy ``out=``); ``_update_many`` hands a group's parameters to ``_update`` one by
one, unless an optimizer with a kernel for many parameters at once overrides it.
"""

import copy
import functools
import warnings
import weakref
from collections import defaultdict
from itertools import chain

import numpy as np

from .._dtypes import default_float, is_float
from ..autograd import grad_mode
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor, _RemovableHandle

__all__ = ["Optimizer"]

# Every optimizer made, held weakly: the gradient diagnostics look here for those that step a
# monitored model's parameters (their settings can be the cause of what the run shows)
_live = weakref.WeakSet()
_changes = [0]  # optimizers made or given a parameter group, ever (``registry_version``)


def live_optimizers():
    """The optimizers alive now (one that is dropped leaves)."""
    return list(_live)


def registry_version():
    """A number that changes whenever an optimizer is made or given a parameter group: a
    reader that keeps the optimizers of its own parameters asks ``live_optimizers()`` again
    only then (iterating the weak set is most of what reading the settings costs)."""
    return _changes[0]


def _mark_called(step):
    """Wrap ``step`` so that an optimizer records that it stepped (schedulers check it)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        return step(self, *args, **kwargs)

    return wrapper


def _step_with_hooks(optimizer, step, *args, **kwargs):
    """``step`` of an optimizer with step hooks: the pre-hooks (which may change the
    arguments), the step, the post-hooks."""
    for hook in optimizer._hooks("_step_pre_hooks"):
        changed = hook(optimizer, args, kwargs)
        if changed is not None:
            if not (isinstance(changed, tuple) and len(changed) == 2):
                raise RuntimeError(f"a step pre-hook must return None or (args, kwargs), "
                                   f"got {changed!r}")
            args, kwargs = changed
    result = step(optimizer, *args, **kwargs)
    for hook in optimizer._hooks("_step_post_hooks"):
        hook(optimizer, args, kwargs)
    return result


def _check(ok, message):
    """Raise ValueError(message) unless ok; optimizers validate hyperparameters with it."""
    if not ok:
        raise ValueError(message)


def check_lr(group):
    """The learning-rate check every optimizer shares (PyTorch's wording)."""
    _check(group["lr"] >= 0, f"Invalid learning rate: {group['lr']} (it must be >= 0)")


def check_betas(betas):
    """A (beta1, beta2) pair, each in [0, 1)."""
    _check(len(betas) == 2, f"betas must be a pair (beta1, beta2), got {betas!r}")
    for position, beta in enumerate(betas):
        _check(0.0 <= beta < 1.0,
               f"Invalid beta parameter at index {position}: {beta} (it must be in [0, 1))")


def check_non_negative(group, *names):
    """``group[name] >= 0`` for each name (epsilon, weight_decay, momentum ...)."""
    for name in names:
        label = "epsilon" if name == "eps" else name
        _check(group[name] >= 0, f"Invalid {label} value: {group[name]} (it must be >= 0)")


def check_cpu_flags(group):
    """Refuse ``differentiable`` and ``capturable`` (when the optimizer has them): updates
    happen in place outside the graph, and there are no CUDA graphs on the CPU."""
    _check(not group.get("differentiable", False),
           "differentiable=True is not supported: chainrule's optimizers update the "
           "parameters' arrays in place, outside the graph")
    _check(not group.get("capturable", False),
           "capturable=True is for CUDA graphs, which chainrule (NumPy on the CPU) does "
           "not have; leave capturable=False")


def check_adam_like(group, *more_non_negative):
    """The checks Adam's family shares: lr, eps, betas, weight_decay (and ``more``), flags."""
    check_lr(group)
    check_non_negative(group, "eps")
    check_betas(group["betas"])
    check_non_negative(group, "weight_decay", *more_non_negative)
    check_cpu_flags(group)


def decoupled_decay(param, lr, weight_decay, decoupled):
    """AdamW's decay, ``param *= 1 - lr * weight_decay``, when ``decoupled``; returns the
    weight decay still to add to the gradient (none once it was decoupled)."""
    if not decoupled:
        return weight_decay
    if weight_decay != 0:
        param *= 1 - lr * weight_decay
    return 0.0


def scratch_like(array):
    """An uninitialised array of ``array``'s shape and dtype to compute into with ``out=``:
    an ndarray even for a 0-d parameter, where NumPy's ufuncs would return a scalar that later
    ``out=`` arguments cannot take."""
    return np.empty_like(array)


def update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2):
    """Adam's running averages, in place: m += (1 - beta1)(g - m) (PyTorch's lerp, the same
    average as beta1 m + (1 - beta1) g) and v = beta2 v + (1 - beta2) g^2. Returns a scratch
    array of the gradient's shape, free for the caller to reuse."""
    scratch = np.subtract(grad, exp_avg, out=scratch_like(exp_avg))
    scratch *= 1 - beta1
    exp_avg += scratch
    exp_avg_sq *= beta2
    np.multiply(grad, 1 - beta2, out=scratch)
    scratch *= grad
    exp_avg_sq += scratch
    return scratch


def _scalar_dtype():
    """PyTorch's dtype for an optimizer's scalar state (``step``, ``mu_product``, ``eta`` ...):
    float64 while the default dtype is float64, else float32 (torch.optim's _get_scalar_dtype)."""
    return np.dtype(np.float64) if default_float() == np.float64 else np.dtype(np.float32)


def scalar_state(value):
    """A 0-d state tensor (``mu_product``, ``eta`` ...) of PyTorch's scalar dtype (float32
    unless the default dtype is float64), rounded to it every step as PyTorch's is."""
    return Tensor._from_array(np.asarray(value, dtype=_scalar_dtype()))


def regularized_gradient(param, grad, weight_decay, maximize):
    """The gradient an update rule uses: negated when maximizing, plus L2 weight decay
    (``weight_decay * param``). Returns ``grad`` itself when neither applies; never writes to it.
    """
    if weight_decay:
        out = np.multiply(param, weight_decay, out=scratch_like(param))  # (0-d: an array)
        # -g + wd*p and wd*p - g are the same float, so maximize costs no extra array.
        (np.subtract if maximize else np.add)(out, grad, out=out)
        return out
    if maximize:
        return np.negative(grad)
    return grad


def new_state_tensor(array):
    """A state buffer: a chainrule Tensor (so ``state_dict`` holds tensors) around ``array``."""
    return Tensor._from_array(array)


def step_counter():
    """The ``step`` entry of an optimizer's state: a 0-d tensor of PyTorch's scalar dtype."""
    return Tensor._from_array(np.zeros((), dtype=_scalar_dtype()))


def advance(counter):
    """Add one to a ``step`` tensor in place and return the new count as a Python float."""
    np.add(counter._data, 1, out=counter._data)
    return float(counter._data)


class Optimizer:
    """Base class of optimizers: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter
    groups, each with its own options; missing options come from ``defaults``).

    >>> w = chainrule.ones(2, requires_grad=True)
    >>> b = chainrule.zeros(1, requires_grad=True)
    >>> opt = chainrule.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.01)
    >>> loss = (w.sum() + b).sum()
    >>> loss.backward(); opt.step(); opt.zero_grad()
    >>> w, b                       # each group stepped with its own learning rate
    (tensor([0.9900, 0.9900], requires_grad=True), tensor([-0.1000], requires_grad=True))
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A subclass that writes its own step (as PyTorch optimizers do) is still recorded.
        if "step" in cls.__dict__:
            cls.step = _mark_called(cls.__dict__["step"])

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._validate_group(defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got a {type(params).__name__}; pass [tensor] or "
                "model.parameters()"
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list; pass the tensors to optimize, e.g. "
                "model.parameters() of a model that has parameters"
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)
        _live.add(self)

    # -- what each optimizer provides ------------------------------------------------------
    def _validate_group(self, group):
        """Raise ValueError for a hyperparameter out of range (defaults and each group)."""

    def _init_state(self, param, group):
        """The state of a parameter before its first update: a dict of tensors."""
        return {}

    def _update(self, param, grad, state, group):
        """Update one parameter in place: ``param`` and ``grad`` are its arrays."""
        raise NotImplementedError(
            f"{type(self).__name__} must define _update(param, grad, state, group), or "
            "override step()"
        )

    def _update_many(self, items, group):
        """Update a group's parameters, ``items`` being (param, grad, state) with arrays:
        ``_update`` on each. An optimizer whose kernel takes many parameters in one call
        (Adam's, split over the threads by their total size) overrides this."""
        for param, grad, state in items:
            self._update(param, grad, state, group)

    # -- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (e.g. a new layer to fine-tune)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry with its tensors")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        _changes[0] += 1
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
            params = [p[1] for p in params]
        param_group["params"] = params
        for position, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but parameter "
                    f"{position} of the group is a {type(param).__name__}"
                )
            if not (param.is_leaf or param.retains_grad):
                raise ValueError(
                    "can't optimize a non-leaf Tensor (it was computed by "
                    f"{param.grad_fn.name()}); optimize the leaf it came from, or "
                    "x.detach().requires_grad_()"
                )
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self._validate_group(param_group)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; they are "
                "updated once per appearance. List each tensor once.",
                stacklevel=3,
            )
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add "
                    "param group "
                    f"{'with' if 'param_names' in param_group else 'without'} names to the "
                    "optimizer"
                )
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(
                "some parameters appear in more than one parameter group; each tensor may "
                "belong to one group only"
            )
        self.param_groups.append(param_group)

    # -- the update ----------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` (optional) re-evaluates the
        model and returns the loss, which ``step`` returns."""
        self._opt_called = True
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # no_grad, without its context object (this loop runs every step of every model)
        mode = grad_mode._state
        previous, mode.enabled = mode.enabled, False
        try:
            states, update_many = self.state, self._update_many
            # (an optimizer without state, such as plain SGD, skips asking for it every step)
            init_state = None if type(self)._init_state is Optimizer._init_state \
                else self._init_state
            for group in self.param_groups:
                stepped, items = [], []
                for param in group["params"]:
                    grad = param._grad
                    if grad is None:
                        continue
                    state = states[param]
                    if not state and init_state is not None:
                        state.update(init_state(param, group))
                    stepped.append(param)
                    items.append((param._data, grad._data, state))
                try:
                    update_many(items, group)
                finally:
                    for param in stepped:
                        param._bump_version()  # the parameter changed in place
        finally:
            mode.enabled = previous
        return loss

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (the default), or to zeros with ``set_to_none=False``."""
        for group in self.param_groups:
            for param in group["params"]:
                if param._grad is None:
                    continue
                if set_to_none:
                    param._grad = None
                else:
                    if param.grad.grad_fn is not None:
                        param.grad.detach_()
                    else:
                        param.grad.requires_grad_(False)
                    param.grad.zero_()

    # -- hooks ---------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each ``step``; it may return new
        ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
        return self._add_hook("_step_pre_hooks", hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each ``step``."""
        return self._add_hook("_step_post_hooks", hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` before ``state_dict()`` packs the state."""
        return self._add_hook("_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` after; it may return a state dict to use instead."""
        return self._add_hook("_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` before ``load_state_dict``; it may return the state
        dict to load instead."""
        return self._add_hook("_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` after ``load_state_dict``."""
        return self._add_hook("_load_state_dict_post_hooks", hook, prepend)

    def _add_hook(self, kind, hook, prepend=False):
        hooks = self.__dict__.setdefault(kind, [])
        if kind.startswith("_step") and "step" not in self.__dict__:
            # NOTE: the hooks run from a step of this instance's own, set here: an optimizer
            # without step hooks pays nothing on each step for them
            self.step = functools.partial(_step_with_hooks, self, type(self).step)
        hooks.insert(0 if prepend else len(hooks), hook)
        return _RemovableHandle(hooks, hook)

    def _hooks(self, kind):
        return list(self.__dict__.get(kind, ()))

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [...]}``, with
        parameters referred to by their position (PyTorch's format). The tensors are shared,
        not copied: copy them before training on if the dict must keep today's values."""
        for hook in self._hooks("_state_dict_pre_hooks"):
            hook(self)
        index = {}
        param_groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for param in group["params"]:
                index.setdefault(id(param), len(index))
            packed["params"] = [index[id(param)] for param in group["params"]]
            param_groups.append(packed)
        state = {}
        for key, value in self.state.items():
            if isinstance(key, Tensor):
                if value:
                    state[index[id(key)]] = dict(value)
            else:
                state[key] = value
        packed = {"state": state, "param_groups": param_groups}
        for hook in self._hooks("_state_dict_post_hooks"):
            packed = hook(self, packed) or packed
        return packed

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()`` into an optimizer built over the same parameters (in the
        same order). State tensors are copied and cast to their parameter's dtype."""
        for hook in self._hooks("_load_state_dict_pre_hooks"):
            state_dict = hook(self, state_dict) or state_dict
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(
                "load_state_dict expects the dict made by Optimizer.state_dict(), with keys "
                "'state' and 'param_groups'"
            )
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than this optimizer ({len(groups)})"
            )
        for position, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {position} has {len(saved['params'])} "
                    f"parameters in the state dict and {len(group['params'])} here"
                )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = {
                    name: _copy_state_value(param, key, name, item) for name, item in value.items()
                }
            else:
                state[key] = copy.deepcopy(value)
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
        self.state = state
        self.param_groups = saved_groups
        for hook in self._hooks("_load_state_dict_post_hooks"):
            hook(self)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for position, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {position}")
            lines.extend(
                f"    {key}: {group[key]}" for key in sorted(group) if key != "params"
            )
        lines.append(")")
        return "\n".join(lines)


def _fits(state_shape, param_shape):
    """A state buffer's shape suits its parameter: the same, or one that broadcasts to it
    (Adafactor's factored row and column averages)."""
    if len(state_shape) != len(param_shape):
        return False
    return all(s in (1, p) for s, p in zip(state_shape, param_shape))


def _copy_state_value(param, index, name, value):
    """A state entry loaded from a state dict: tensors copied, and cast to the parameter's
    floating dtype except for ``step`` (which keeps its dtype, as in PyTorch)."""
    if isinstance(value, np.ndarray):
        value = Tensor._from_array(value)
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    array = value._data
    if name == "step" and array.size == 1:
        # A step counter is 0-d; a file format may have stored it with shape (1,).
        return Tensor._from_array(array.reshape(()).copy())
    if array.ndim and not _fits(array.shape, param._data.shape):
        raise ValueError(
            f"loaded state dict: state {name!r} of parameter {index} has shape "
            f"{array.shape}, but that parameter has shape {tuple(param.shape)}; was the state "
            "dict saved for a different model?"
        )
    if name != "step" and is_float(param._data.dtype) and is_float(array.dtype):
        return Tensor._from_array(array.astype(param._data.dtype, copy=True))
    return Tensor._from_array(array.copy())
