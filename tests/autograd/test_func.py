"""chainrule.func.grad and value_and_grad, against hand-derived derivatives."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.func import grad, value_and_grad


def f64(values, requires_grad=False):
    return cr.tensor(values, dtype=cr.float64, requires_grad=requires_grad)


def cube_sum(x):
    return (x**3).sum()


def test_grad_of_a_scalar_function():
    x = f64([1.0, -2.0])
    g = grad(cube_sum)(x)
    np.testing.assert_allclose(g.numpy(), 3 * np.array([1.0, 4.0]))
    assert not g.requires_grad and g.grad_fn is None
    assert not x.requires_grad and x.grad is None  # the input is left alone


def test_argnums_int_and_tuple():
    def f(a, b, c):
        return (a * b * b + c).sum()

    a, b, c = f64([2.0]), f64([3.0]), f64([5.0])
    np.testing.assert_allclose(grad(f, argnums=1)(a, b, c).numpy(), [2 * 2.0 * 3.0])
    ga, gc = grad(f, argnums=(0, 2))(a, b, c)
    np.testing.assert_allclose(ga.numpy(), [9.0])
    np.testing.assert_allclose(gc.numpy(), [1.0])
    (gb,) = grad(f, argnums=(1,))(a, b, c)
    np.testing.assert_allclose(gb.numpy(), [12.0])


def test_value_and_grad_and_has_aux():
    x = f64([1.0, 2.0])
    value, g = value_and_grad(cube_sum)(x)
    assert value.item() == 9.0 and not value.requires_grad
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])

    def with_aux(x):
        y = x * 2
        return (y**2).sum(), {"y": y}

    (value, aux), g = value_and_grad(with_aux, has_aux=True)(x)
    assert value.item() == 20.0
    np.testing.assert_allclose(aux["y"].numpy(), [2.0, 4.0])
    assert not aux["y"].requires_grad
    np.testing.assert_allclose(g.numpy(), [8.0, 16.0])
    g2, aux2 = grad(with_aux, has_aux=True)(x)
    np.testing.assert_allclose(g2.numpy(), g.numpy())


def test_nested_grad_gives_higher_derivatives():
    x = f64([0.5, 2.0])
    second = grad(lambda t: grad(cube_sum)(t).sum())(x)
    np.testing.assert_allclose(second.numpy(), 6 * np.array([0.5, 2.0]))
    third = grad(lambda t: grad(lambda u: grad(cube_sum)(u).sum())(t).sum())(x)
    np.testing.assert_allclose(third.numpy(), [6.0, 6.0])


def test_grad_connects_to_an_outer_graph():
    x = f64([1.5], requires_grad=True)
    g = grad(cube_sum)(x)  # 3 x^2, still a function of x
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6 * 1.5])


def test_structured_arguments():
    params = {"w": f64([2.0, 3.0]), "b": [f64([1.0]), f64([4.0])]}

    def loss(p, x):
        return (p["w"] * x).sum() * p["b"][0].sum() + p["b"][1].sum() ** 2

    g = grad(loss)(params, f64([10.0, 20.0]))
    assert set(g) == {"w", "b"} and isinstance(g["b"], list)
    np.testing.assert_allclose(g["w"].numpy(), [10.0, 20.0])
    np.testing.assert_allclose(g["b"][0].numpy(), [80.0])
    np.testing.assert_allclose(g["b"][1].numpy(), [8.0])


def test_unused_argument_gets_zeros():
    g = grad(lambda a, b: (a * 2).sum(), argnums=(0, 1))(f64([1.0]), f64([1.0, 2.0]))
    np.testing.assert_allclose(g[1].numpy(), [0.0, 0.0])
    const = grad(lambda a: cr.tensor(1.0, dtype=cr.float64))(f64([1.0]))
    np.testing.assert_allclose(const.numpy(), [0.0])


def test_grad_works_under_no_grad_and_keeps_float32():
    x = cr.tensor([1.0, 2.0])
    with cr.no_grad():
        g = grad(cube_sum)(x)
    assert g.dtype == cr.float32
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])


def test_errors():
    with pytest.raises(RuntimeError, match="one element"):
        grad(lambda x: x * 2)(f64([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="floating point"):
        grad(lambda x: x.sum())(cr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="out of range"):
        grad(cube_sum, argnums=1)(f64([1.0]))
    with pytest.raises(RuntimeError, match="argnums"):
        grad(cube_sum, argnums=[0])(f64([1.0]))
    with pytest.raises(RuntimeError, match=r"tuple \(output, aux\)"):
        grad(cube_sum, has_aux=True)(f64([1.0]))
    with pytest.raises(RuntimeError, match="tensors"):
        grad(lambda s: s)(3.0)
