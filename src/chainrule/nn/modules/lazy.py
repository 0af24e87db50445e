"""What lazy layers share: ``LazyLinear``, ``LazyConv*d``, ``LazyConvTranspose*d``,
``LazyBatchNorm*d`` and ``LazyInstanceNorm*d`` (each beside its eager layer) learn their input
size (``in_features``, ``in_channels``, ``num_features``) from their first call.

Until then their parameters are ``UninitializedParameter`` objects; the first call gives them
their shapes in place, initialises them as the eager layer would, and turns the module into
that layer (a ``LazyLinear`` becomes a ``Linear``), as PyTorch does. A state dict loaded
before the first call gives the parameters the checkpoint's shapes.

>>> model = nn.Sequential(nn.LazyLinear(32), nn.ReLU(), nn.LazyLinear(1))
>>> model(chainrule.randn(4, 7)).shape        # the first call sets in_features = 7
chainrule.Size([4, 1])
>>> model[0]
Linear(in_features=7, out_features=32, bias=True)
"""

from ... import _dtypes, creation
from ...autograd import grad_mode
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .module import save_extra_state

__all__ = ["LazyModuleMixin"]


class LazyModuleMixin:
    """The machinery every lazy layer shares: a forward pre-hook that calls
    ``initialize_parameters(*args, **kwargs)`` on the first call, then removes itself and
    turns the module into ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters,
                                                               with_kwargs=True)

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this module (not its children) has no shape yet."""
        members = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(member) for member in members)

    def initialize_parameters(self, *args, **kwargs):
        """Give the parameters their shapes from the first call's arguments (each layer)."""
        raise NotImplementedError(f"{type(self).__name__} must define initialize_parameters")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # (an uninitialised parameter goes in as itself: it has no values to detach)
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars or is_lazy(param) \
                    else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars or is_lazy(buffer) \
                    else buffer.detach()
        save_extra_state(self, destination, prefix)


def _infer_parameters(module, args, kwargs):
    with grad_mode.no_grad():
        module.initialize_parameters(*args, **kwargs)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


def checked_input(module, input):
    if not hasattr(input, "shape"):
        raise TypeError(f"{type(module).__name__}: the first call must pass the input tensor, "
                        f"from which the layer learns its input size; got "
                        f"{type(input).__name__}")
    return input


class LazyConvMixin(LazyModuleMixin):
    """In-channels from the first input: dim 1 of a batch, dim 0 of one unbatched sample."""

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _lazy_init(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def initialize_parameters(self, input, *args, **kwargs):
        input = checked_input(self, input)
        ranks = (self._nd + 1, self._nd + 2)
        if input.dim() not in ranks:
            raise RuntimeError(
                f"{type(self).__name__}: expected a {ranks[0]}-D (unbatched) or {ranks[1]}-D "
                f"(batched) input, got shape {tuple(input.shape)}"
            )
        self.in_channels = int(input.shape[1] if input.dim() == ranks[1] else input.shape[0])
        if not self.has_uninitialized_params():
            return  # (a state dict gave the weight its shape before the first call)
        if self.in_channels % self.groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({self.in_channels}) must be "
                             f"divisible by groups ({self.groups})")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight.materialize(shape)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()


class LazyNormMixin(LazyModuleMixin):
    """``num_features`` from the first input's channel dim; the affine parameters and the
    running statistics are uninitialised until then."""

    _unbatched_rank = None  # instance norm takes one sample without its batch dim

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = creation.tensor(0, dtype=_dtypes.int64)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        input = checked_input(self, input)
        if input.dim() < 2 and input.dim() != self._unbatched_rank:
            raise RuntimeError(f"{type(self).__name__}: expected an input with a channel dim, "
                               f"got shape {tuple(input.shape)}")
        unbatched = input.dim() == self._unbatched_rank
        # (also without affine parameters or running statistics, which have nothing lazy)
        self.num_features = int(input.shape[0] if unbatched else input.shape[1])
        lazy = [member for member in (self.weight, self.bias, self.running_mean,
                                      self.running_var) if member is not None and is_lazy(member)]
        for member in lazy:
            member.materialize((self.num_features,))
        if lazy:
            self.reset_parameters()
