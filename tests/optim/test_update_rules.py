"""Each optimizer against its documented algorithm, written out in float64 NumPy.

The problem: f(p) = sum(a * p^2) / 2 + sum(b * p), so grad f = a * p + b. The chainrule side
gets its gradients from backward(); the reference computes them by hand. Hyperparameters are
far from the defaults so that every term (eps placement, bias correction, dampening ...)
changes the numbers well beyond the tolerance."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

P0 = np.array([0.5, -1.5, 2.0])
A = np.array([1.0, 2.0, 0.5])
B = np.array([0.3, -0.2, 0.1])
STEPS = 3


def grad_f(p):
    return A * p + B


def run(make_optimizer, steps=STEPS):
    """Parameter values after each step, optimizing f with chainrule in float64."""
    p = cr.tensor(P0, dtype=cr.float64, requires_grad=True)
    a, b = cr.tensor(A, dtype=cr.float64), cr.tensor(B, dtype=cr.float64)
    opt = make_optimizer([p])
    history = []
    for _ in range(steps):
        opt.zero_grad()
        ((a * p * p).sum() * 0.5 + (b * p).sum()).backward()
        opt.step()
        history.append(p.detach().numpy().copy())
    return np.array(history)


# -- the documented algorithms, one plain loop each ---------------------------------------------
def sgd_reference(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                  maximize=False):
    p, buf, history = P0.copy(), None, []
    for t in range(1, STEPS + 1):
        g = -grad_f(p) if maximize else grad_f(p)
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = g if t == 1 else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        history.append(p)
    return np.array(history)


def adam_reference(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   maximize=False, decoupled=False):
    b1, b2 = betas
    p, m, v, v_max, history = P0.copy(), 0.0, 0.0, 0.0, []
    for t in range(1, STEPS + 1):
        g = -grad_f(p) if maximize else grad_f(p)
        if decoupled:
            p = p - lr * weight_decay * p
        elif weight_decay != 0:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2**t)
        else:
            v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p)
    return np.array(history)


def rmsprop_reference(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False, maximize=False):
    p, v, g_avg, buf, history = P0.copy(), 0.0, 0.0, 0.0, []
    for _ in range(STEPS):
        g = -grad_f(p) if maximize else grad_f(p)
        if weight_decay != 0:
            g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v_tilde - g_avg**2
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
        history.append(p)
    return np.array(history)


def adagrad_reference(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                      eps=1e-10, maximize=False):
    p, history = P0.copy(), []
    state_sum = np.full_like(P0, initial_accumulator_value)
    for t in range(1, STEPS + 1):
        g = -grad_f(p) if maximize else grad_f(p)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        if weight_decay != 0:
            g = g + weight_decay * p
        state_sum = state_sum + g**2
        p = p - lr_t * g / (np.sqrt(state_sum) + eps)
        history.append(p)
    return np.array(history)


CASES = {
    "sgd-defaults": (lambda ps: optim.SGD(ps), sgd_reference()),
    "sgd-plain": (lambda ps: optim.SGD(ps, lr=0.1), sgd_reference(lr=0.1)),
    "sgd-momentum": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                     sgd_reference(lr=0.1, momentum=0.9)),
    "sgd-dampening-decay": (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.2),
        sgd_reference(lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.2)),
    "sgd-nesterov": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                     sgd_reference(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd-maximize": (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.3, maximize=True),
        sgd_reference(lr=0.1, momentum=0.5, weight_decay=0.3, maximize=True)),
    "adam-defaults": (lambda ps: optim.Adam(ps), adam_reference()),
    "adam-betas-eps": (lambda ps: optim.Adam(ps, lr=0.1, betas=(0.5, 0.7), eps=0.3),
                       adam_reference(lr=0.1, betas=(0.5, 0.7), eps=0.3)),
    "adam-weight-decay": (lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5, eps=0.1),
                          adam_reference(lr=0.1, weight_decay=0.5, eps=0.1)),
    "adam-amsgrad": (
        # beta2 = 0.3 lets v shrink between steps, so the running maximum matters.
        lambda ps: optim.Adam(ps, lr=0.5, betas=(0.5, 0.3), eps=0.1, amsgrad=True),
        adam_reference(lr=0.5, betas=(0.5, 0.3), eps=0.1, amsgrad=True)),
    "adam-maximize": (lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.2, maximize=True),
                      adam_reference(lr=0.1, weight_decay=0.2, maximize=True)),
    "adamw-defaults": (lambda ps: optim.AdamW(ps), adam_reference(weight_decay=1e-2,
                                                                 decoupled=True)),
    "adamw-options": (
        lambda ps: optim.AdamW(ps, lr=0.2, betas=(0.6, 0.4), eps=0.2, weight_decay=0.5,
                               amsgrad=True, maximize=True),
        adam_reference(lr=0.2, betas=(0.6, 0.4), eps=0.2, weight_decay=0.5, amsgrad=True,
                       maximize=True, decoupled=True)),
    "rmsprop-defaults": (lambda ps: optim.RMSprop(ps), rmsprop_reference()),
    "rmsprop-alpha-eps-decay": (
        lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.5, eps=0.3, weight_decay=0.2),
        rmsprop_reference(lr=0.1, alpha=0.5, eps=0.3, weight_decay=0.2)),
    "rmsprop-momentum": (lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.6, momentum=0.9),
                         rmsprop_reference(lr=0.1, alpha=0.6, momentum=0.9)),
    "rmsprop-centered": (lambda ps: optim.RMSprop(ps, lr=0.05, alpha=0.6, centered=True),
                         rmsprop_reference(lr=0.05, alpha=0.6, centered=True)),
    "rmsprop-all": (
        lambda ps: optim.RMSprop(ps, lr=0.05, alpha=0.7, eps=0.1, weight_decay=0.1,
                                 momentum=0.5, centered=True, maximize=True),
        rmsprop_reference(lr=0.05, alpha=0.7, eps=0.1, weight_decay=0.1, momentum=0.5,
                          centered=True, maximize=True)),
    "adagrad-defaults": (lambda ps: optim.Adagrad(ps), adagrad_reference()),
    "adagrad-lr-decay": (lambda ps: optim.Adagrad(ps, lr=0.5, lr_decay=0.7),
                         adagrad_reference(lr=0.5, lr_decay=0.7)),
    "adagrad-accumulator-eps": (
        lambda ps: optim.Adagrad(ps, lr=0.5, initial_accumulator_value=0.4, eps=0.2),
        adagrad_reference(lr=0.5, initial_accumulator_value=0.4, eps=0.2)),
    "adagrad-decay-maximize": (
        lambda ps: optim.Adagrad(ps, lr=0.3, lr_decay=0.2, weight_decay=0.4, maximize=True),
        adagrad_reference(lr=0.3, lr_decay=0.2, weight_decay=0.4, maximize=True)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_three_steps_match_the_documented_algorithm(name):
    make_optimizer, expected = CASES[name]
    np.testing.assert_allclose(run(make_optimizer), expected, rtol=1e-12, atol=1e-15)


def test_the_cases_move_the_parameters():
    # Guards the table itself: a reference that does nothing would match a broken optimizer.
    for name, (_, expected) in CASES.items():
        assert not np.allclose(expected[-1], P0, rtol=0, atol=1e-5), name


def test_options_change_the_result():
    # Each option must matter on this problem, or its row above would prove nothing.
    pairs = [
        ("sgd-plain", "sgd-momentum"), ("sgd-momentum", "sgd-nesterov"),
        ("adam-betas-eps", "adam-amsgrad"), ("rmsprop-momentum", "rmsprop-centered"),
    ]
    for first, second in pairs:
        assert not np.allclose(CASES[first][1], CASES[second][1]), (first, second)
    amsgrad = adam_reference(lr=0.5, betas=(0.5, 0.3), eps=0.1, amsgrad=True)
    plain = adam_reference(lr=0.5, betas=(0.5, 0.3), eps=0.1)
    assert not np.allclose(amsgrad, plain)
    coupled = adam_reference(lr=0.1, weight_decay=0.5)
    decoupled = adam_reference(lr=0.1, weight_decay=0.5, decoupled=True)
    assert not np.allclose(coupled, decoupled)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_parameters_stay_float32(name):
    make_optimizer, expected = CASES[name]
    p = cr.tensor(P0.astype(np.float32), requires_grad=True)
    a, b = cr.tensor(A.astype(np.float32)), cr.tensor(B.astype(np.float32))
    opt = make_optimizer([p])
    for _ in range(STEPS):
        opt.zero_grad()
        ((a * p * p).sum() * 0.5 + (b * p).sum()).backward()
        opt.step()
    assert p.dtype == cr.float32
    for state in opt.state.values():
        for key, value in state.items():
            assert value.dtype == cr.float32, (key, value.dtype)
    np.testing.assert_allclose(p.detach().numpy(), expected[-1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["adam-decay", "sgd-decay"])
def test_a_scalar_parameter_with_weight_decay(name):
    """A 0-d parameter takes the L2 decay too (NumPy's product of 0-d arrays is a scalar, which
    the in-place subtraction after it cannot write into)."""
    make = {"adam-decay": lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5),
            "sgd-decay": lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.5, maximize=True)}[name]
    p = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    p.grad = cr.tensor(1.0, dtype=cr.float64)
    make([p]).step()
    # Adam's first step is lr * sign(g + wd p) = 0.1; SGD's is lr * (wd p - g) = 0.1 * 0.0
    expected = {"adam-decay": 1.9, "sgd-decay": 2.0}[name]
    assert p.shape == () and float(p) == pytest.approx(expected)


def test_plain_sgd_is_numpy_bit_for_bit_in_every_dtype():
    """Plain SGD's small-parameter loop takes lr as a 0-d array of each gradient's dtype: the
    bits NumPy gives for ``param - lr * grad`` with lr a Python float, in a group that mixes
    dtypes (float16, float32, float64, a 0-d parameter) and with lr changed between steps."""
    rng = np.random.default_rng(0)
    shapes_dtypes = [((3, 4), np.float32), ((5,), np.float16), ((), np.float64), ((2,), np.float32)]
    params = [cr.tensor(rng.standard_normal(s).astype(d), requires_grad=True)
              for s, d in shapes_dtypes]
    opt = optim.SGD(params, lr=0.1)
    for lr in (0.1, 1 / 3):
        opt.param_groups[0]["lr"] = lr
        expected = []
        for p, (shape, dtype) in zip(params, shapes_dtypes):
            grad = (rng.standard_normal(shape) * 3).astype(dtype)
            p.grad = cr.tensor(grad)
            want = p.detach().numpy().copy()
            want -= lr * grad
            expected.append(want)
        opt.step()
        for p, want in zip(params, expected):
            assert p.dtype == cr.tensor(want).dtype
            np.testing.assert_array_equal(p.detach().numpy(), want)
