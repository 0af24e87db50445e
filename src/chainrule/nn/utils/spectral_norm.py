"""``nn.utils.spectral_norm``: a weight divided by its largest singular value, estimated by
power iteration (Miyato et al., 2018), recomputed before every forward.

As in PyTorch, the module's ``weight`` parameter becomes ``weight_orig``, with two buffers
``weight_u`` and ``weight_v`` (the singular-vector estimates, refined in place by
``n_power_iterations`` steps at each forward in training mode, and used as they are in eval
mode); ``weight`` is a plain tensor, ``weight_orig / sigma`` with ``sigma = u . (W v)``, so the
gradient flows through sigma too. The state dict holds ``weight_orig``, ``weight_u`` and
``weight_v``, the keys PyTorch's checkpoints of SN-GANs carry."""

from ...autograd.grad_mode import no_grad
from ...ops.normalization import normalize
from ..modules.conv import _ConvTransposeNd
from ..parameter import Parameter
from .weight_norm import parameter_to_normalise

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


def weight_matrix(weight, dim):
    """``weight`` as a (size along ``dim``) x (everything else) matrix."""
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.dim()) if d != dim])
    return weight.reshape(weight.shape[0], -1)


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        matrix = weight_matrix(weight, self.dim)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(matrix.t().mv(u), dim=0, eps=self.eps))
                    u.copy_(normalize(matrix.mv(v), dim=0, eps=self.eps))
            # the buffers change in place at the next step: sigma keeps this step's copies
            u, v = u.clone(), v.clone()
        sigma = u.dot(matrix.mv(v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        weight = parameter_to_normalise(module, name, SpectralNorm, "spectral_norm")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        with no_grad():
            height, width = weight_matrix(weight, dim).shape
            u = normalize(weight.new_empty(height).normal_(0, 1), dim=0, eps=eps)
            v = normalize(weight.new_empty(width).normal_(0, 1), dim=0, eps=eps)
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.data)
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def default_dim(module):
    """The output-channel dim of a module's weight: 1 for transposed convolutions, else 0."""
    return 1 if isinstance(module, _ConvTransposeNd) else 0


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm before every forward; returns ``module``.
    ``dim`` is the output-channel dim: 1 for transposed convolutions, else 0."""
    SpectralNorm.apply(module, name, n_power_iterations,
                       default_dim(module) if dim is None else dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``module.<name>`` becomes one parameter again, its current
    normalised value."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
