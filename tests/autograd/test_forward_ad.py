"""Forward-mode derivatives (torch.autograd.forward_ad): a dual tensor's tangent carried to an
output is the Jacobian-vector product, checked against central finite differences."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.autograd.forward_ad as fwAD
from chainrule import nn
from chainrule.func import functional_call


def _f(x):
    return (x.sin() * x.exp()).cumsum(0) / (1 + x * x)


def _finite_difference(fn, x, v, step=1e-6):
    return (fn(x + step * v).numpy() - fn(x - step * v).numpy()) / (2 * step)


def test_the_tangent_is_the_jacobian_vector_product():
    x = cr.tensor([0.3, -1.2, 2.0], dtype=cr.float64)
    v = cr.tensor([1.0, 0.5, -2.0], dtype=cr.float64)
    with fwAD.dual_level():
        primal, tangent = fwAD.unpack_dual(_f(fwAD.make_dual(x, v)))
    np.testing.assert_allclose(primal.numpy(), _f(x).numpy())
    np.testing.assert_allclose(tangent.numpy(), _finite_difference(_f, x, v), rtol=1e-7)


def test_tangents_of_parameters_through_functional_call():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = cr.randn(5, 3, dtype=cr.float64)
    params = {name: p.detach() for name, p in model.named_parameters()}
    directions = {name: cr.randn(*p.shape, dtype=cr.float64) for name, p in params.items()}
    with fwAD.dual_level():
        duals = {name: fwAD.make_dual(p, directions[name]) for name, p in params.items()}
        tangent = fwAD.unpack_dual(functional_call(model, duals, (x,))).tangent
    step = 1e-6

    def moved(sign):
        moved_params = {n: p + sign * step * directions[n] for n, p in params.items()}
        return functional_call(model, moved_params, (x,)).detach().numpy()

    np.testing.assert_allclose(tangent.numpy(), (moved(1) - moved(-1)) / (2 * step), rtol=1e-6)


def test_what_does_not_depend_on_a_dual_has_no_tangent_and_levels_are_required():
    with fwAD.dual_level():
        dual = fwAD.make_dual(cr.ones(2), cr.tensor([1.0, 0.0]))
        assert fwAD.unpack_dual(cr.ones(2)).tangent is None
        assert fwAD.unpack_dual(dual).tangent.tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match="inside a dual_level"):
        fwAD.make_dual(cr.ones(2), cr.ones(2))
    with fwAD.dual_level(), pytest.raises(RuntimeError, match="tangent's shape"):
        fwAD.make_dual(cr.ones(2), cr.ones(3))
