"""``nn.utils.parametrizations``: ready-made parametrizations (``weight_norm``)."""

from ..modules.module import Module
from .parametrize import register_parametrization
from .weight_norm import norm_except_dim

__all__ = ["weight_norm"]


class _WeightNorm(Module):
    """``weight = g * v / ||v||`` from ``original0`` (g) and ``original1`` (v)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / norm_except_dim(weight_v, 2, self.dim))

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Weight normalisation as a parametrization: ``module.parametrizations.<name>`` holds
    ``original0`` (the magnitude g) and ``original1`` (the direction v); returns ``module``."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
