"""torch.func (vmap, jacrev/jacfwd/hessian, vjp/jvp, functional_call, stack_module_state)
and torch.autograd.functional: structures, options and errors. Values and their gradients
against PyTorch are in test_api_against_pytorch.py (func-* and autograd-* cases); the
Jacobians here are checked against finite differences."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import func, nn
from chainrule.autograd import functional as AF


def _f64(*shape, seed=0):
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape))


def _numeric_jacobian(f, x, eps=1e-6):
    base = x.numpy().copy()
    columns = []
    for k in range(base.size):
        step = np.zeros(base.size)
        step[k] = eps
        plus = f(cr.tensor(base + step.reshape(base.shape))).numpy()
        minus = f(cr.tensor(base - step.reshape(base.shape))).numpy()
        columns.append(((plus - minus) / (2 * eps)).reshape(-1))
    return np.stack(columns, -1).reshape(f(x).shape + x.shape)


def test_jacobians_match_finite_differences_and_agree_with_each_other():
    def f(x):
        return cr.stack([x.prod(), x.sin().sum() * x[0], (x ** 2).mean()])

    x = _f64(4)
    expected = _numeric_jacobian(f, x)
    for jac in (func.jacrev(f)(x), func.jacfwd(f)(x), AF.jacobian(f, x)):
        np.testing.assert_allclose(jac.numpy(), expected, rtol=1e-6, atol=1e-8)


def test_structures_follow_pytorch():
    x, y = _f64(2), _f64(3, seed=1)

    def two_out(a, b):
        return a * 2, (a.sum() * b, b.exp())

    jac = func.jacrev(two_out, argnums=(0, 1))(x, y)
    assert isinstance(jac, tuple) and len(jac) == 2 and len(jac[1]) == 2
    assert jac[1][0][1].shape == (3, 3) and jac[0][0].shape == (2, 2)
    blocks = AF.jacobian(lambda a, b: (a * b.sum(), b), (x, y))
    assert blocks[0][1].shape == (2, 3) and blocks[1][0].shape == (3, 2)
    params = {"w": _f64(2, 2), "b": _f64(2, seed=2)}
    grads = func.grad(lambda p, v: (p["w"] @ v + p["b"]).sum())(params, x)
    assert set(grads) == {"w", "b"} and grads["w"].shape == (2, 2)
    hess = AF.hessian(lambda a, b: (a ** 2).sum() * b.sum(), (x, y))
    assert hess[0][1].shape == (2, 3)
    jac, aux = func.jacrev(lambda a: (a.exp(), "aux"), has_aux=True)(x)
    assert aux == "aux" and jac.shape == (2, 2)


def test_vjp_jvp_hvp_values():
    x, v = _f64(3), _f64(3, seed=3)
    out, vjp_fn = func.vjp(cr.sin, x)
    np.testing.assert_allclose(vjp_fn(v)[0].numpy(), (v * x.cos()).numpy())
    assert isinstance(vjp_fn(v), tuple)
    out, tangent = func.jvp(lambda a: a.exp() * 2, (x,), (v,))
    np.testing.assert_allclose(tangent.numpy(), (2 * x.exp() * v).numpy())
    cube = lambda a: (a ** 3).sum()  # noqa: E731
    for product in (AF.hvp, AF.vhp):
        value, hv = product(cube, x, v)
        np.testing.assert_allclose(hv.numpy(), (6 * x * v).numpy())
        assert not value.requires_grad and not hv.requires_grad


def test_transform_errors_are_pytorchs():
    x = _f64(3)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, _f64(2)), strict=True)
    with pytest.raises(RuntimeError, match="single element"):
        AF.hessian(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(lambda a: a * 2, x)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        AF.jacobian(lambda a: 3.0, x)
    with pytest.raises(RuntimeError, match="Expected primals and tangents to be tuples"):
        func.jvp(cr.sin, x, x)


def test_vmap_in_dims_out_dims_and_nesting():
    a, b = _f64(5, 3), _f64(3, 4, seed=1)
    np.testing.assert_allclose(cr.vmap(cr.mv, in_dims=(None, 1))(a, b).numpy(), (a @ b).T.numpy())
    outer = cr.vmap(cr.vmap(lambda u, w: u * w, in_dims=(None, 0)), in_dims=(0, None))
    np.testing.assert_allclose(outer(a[:, 0], b[0]).numpy(), np.outer(a[:, 0], b[0]))
    first, second = cr.vmap(lambda r: (r.sum(), r * 2), out_dims=(0, 1))(a)
    assert first.shape == (5,) and second.shape == (3, 5)
    pairs = cr.vmap(lambda d: d["u"] + d["v"], in_dims=({"u": 0, "v": None},))(
        {"u": a, "v": a[0]})
    np.testing.assert_allclose(pairs.numpy(), (a + a[0]).numpy())
    x = a.clone().requires_grad_()
    cr.vmap(lambda r: (r ** 2).sum())(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * a.numpy())


def test_vmap_randomness_same_gives_every_sample_the_same_draw():
    draws = cr.vmap(lambda r: r + cr.randn(2), randomness="same")(cr.zeros(3, 2))
    assert (draws == draws[0]).all()
    different = cr.vmap(lambda r: r + cr.randn(2), randomness="different")(cr.zeros(3, 2))
    assert not (different == different[0]).all()


def test_vmap_errors_are_pytorchs():
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        cr.vmap(cr.add)(cr.zeros(2), cr.zeros(3))
    with pytest.raises(ValueError, match="at least one input must be batched"):
        cr.vmap(cr.sin, in_dims=None)(cr.zeros(2))
    with pytest.raises(ValueError, match="in_dims is not compatible"):
        cr.vmap(cr.add, in_dims=(0,))(cr.zeros(2), cr.zeros(2))
    with pytest.raises(ValueError, match="cannot vmap over non-Tensor arguments"):
        cr.vmap(lambda n: n)(3)
    with pytest.raises(ValueError, match="expected in_dim to satisfy"):
        cr.vmap(cr.sin, in_dims=2)(cr.zeros(2, 2))
    with pytest.raises(ValueError, match="must return only tensors"):
        cr.vmap(lambda r: 1.0)(cr.zeros(2))


def test_functional_call_swaps_for_the_call_only():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    x = _f64(4, 3)
    original = model[0].weight
    weight = cr.zeros(2, 3, dtype=cr.float64, requires_grad=True)
    out = func.functional_call(model, {"0.weight": weight}, (x,))
    assert model[0].weight is original
    out.sum().backward()
    assert weight.grad is not None and original.grad is None
    with pytest.raises(RuntimeError, match="Missing key"):
        func.functional_call(model, {"0.weight": weight}, x, strict=True)
    with pytest.raises(ValueError, match="multiple dictionaries"):
        func.functional_call(model, ({"0.bias": weight}, {"0.bias": weight}), x)
    with pytest.raises(RuntimeError):
        func.functional_call(model, {"0.weight": cr.zeros(5, 5, dtype=cr.float64)}, x)
    assert model[0].weight is original  # restored after an error too
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        nn.utils.stateless.functional_call(model, {}, x)


def test_functional_call_ties_shared_weights():
    first, second = nn.Linear(2, 2, bias=False).double(), nn.Linear(2, 2, bias=False).double()
    second.weight = first.weight
    model = nn.Sequential(first, second)
    weight = cr.eye(2, dtype=cr.float64) * 3
    x = cr.ones(1, 2, dtype=cr.float64)
    out = func.functional_call(model, {"0.weight": weight}, (x,))
    np.testing.assert_allclose(out.numpy(), [[9.0, 9.0]])
    untied = func.functional_call(model, {"0.weight": weight}, (x,), tie_weights=False)
    expected = (x @ weight.T) @ first.weight.T
    np.testing.assert_allclose(untied.detach().numpy(), expected.detach().numpy())


def test_ensemble_with_stack_module_state_and_vmap_matches_a_loop():
    cr.manual_seed(0)
    models = [nn.Linear(3, 2).double() for _ in range(4)]
    params, buffers = func.stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad
    base = nn.Linear(3, 2).double()
    x = _f64(5, 3)
    ensemble = cr.vmap(lambda p, b: func.functional_call(base, (p, b), (x,)))(params, buffers)
    looped = cr.stack([m(x) for m in models])
    np.testing.assert_allclose(ensemble.detach().numpy(), looped.detach().numpy())


def test_functionalize_debug_unwrap_and_batch_norm_replacement():
    def scale_in_place(x):
        y = x.clone()
        y.mul_(2)
        return y

    x = _f64(3)
    np.testing.assert_allclose(func.functionalize(scale_in_place)(x).numpy(), 2 * x.numpy())
    with pytest.raises(RuntimeError, match="invalid argument for remove"):
        func.functionalize(scale_in_place, remove="views")
    assert func.debug_unwrap(x) is x
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert func.replace_all_batch_norm_modules_(model) is model
    bn = model[1]
    assert bn.running_mean is None and not bn.track_running_stats
    model.eval()
    batch = cr.randn(5, 3)
    per_sample = cr.vmap(lambda r: model(r.unsqueeze(0).expand(2, 3)), randomness="same")(batch)
    assert per_sample.shape == (5, 2, 4)
