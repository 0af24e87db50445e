"""``Function._array_forward``: the ops that say their forward works on arrays alone run it
without grad mode switched off (Function.apply skips the switch). Each such op is checked here:
its forward applies no other op and returns a new tensor, so the switch could not matter."""

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from chainrule.autograd import engine
from chainrule.autograd.function import Function
from chainrule.ops import elementwise
from chainrule.ops.linear_chain import linear_chain


def _float(*shape):
    return chainrule.from_numpy(np.random.default_rng(0).uniform(0.5, 2.0, shape).astype(
        np.float32)).requires_grad_()


def _linear():
    return F.linear(_float(3, 4), _float(5, 4), _float(5))


def _linear_chain():
    layers = [(_float(5, 4), _float(5)), (_float(2, 5), None)]
    return linear_chain(_float(3, 4), layers, [elementwise.Tanh, None])


SAMPLES = {
    "Add": lambda: _float(3) + _float(3),
    "Sub": lambda: _float(3) - _float(3),
    "Mul": lambda: _float(3) * _float(3),
    "Div": lambda: _float(3) / _float(3),
    "Neg": lambda: -_float(3),
    "Exp": lambda: _float(3).exp(),
    "Expm1": lambda: _float(3).expm1(),
    "Log": lambda: _float(3).log(),
    "Log1p": lambda: _float(3).log1p(),
    "Sqrt": lambda: _float(3).sqrt(),
    "Rsqrt": lambda: _float(3).rsqrt(),
    "Abs": lambda: _float(3).abs(),
    "Sign": lambda: _float(3).sign(),
    "Rounding": lambda: _float(3).floor(),
    "Sin": lambda: _float(3).sin(),
    "Cos": lambda: _float(3).cos(),
    "Tanh": lambda: _float(3).tanh(),
    "Sigmoid": lambda: _float(3).sigmoid(),
    "Relu": lambda: _float(3).relu(),
    "Linear": _linear,
    "LinearChain": _linear_chain,
    "MseLoss": lambda: F.mse_loss(_float(3), _float(3)),
}


def _array_forward_ops():
    found, stack = {}, [Function]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub.__dict__.get("_array_forward"):
                found[sub.__name__] = sub
            stack.append(sub)
    return found


def test_every_array_forward_op_is_checked_here():
    assert set(_array_forward_ops()) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_forward_applies_no_op_and_returns_a_new_tensor(name):
    seen = []
    remove = engine.add_forward_observer(lambda node, args, outputs: seen.append(
        (type(node).__name__, args, outputs)))
    try:
        out = SAMPLES[name]()
    finally:
        remove()
    assert [op for op, _, _ in seen] == [name]  # nothing else ran inside its forward
    _, args, outputs = seen[0]
    assert all(outputs is not a for a in args)
    assert type(out.grad_fn).__name__ == name and chainrule.is_grad_enabled()


def test_an_op_without_the_mark_runs_its_forward_with_grad_mode_off():
    modes = []

    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            modes.append(chainrule.is_grad_enabled())
            return x * 2  # applies Mul: not recorded inside a forward

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 2

    x = _float(3)
    y = Twice.apply(x)
    y.sum().backward()
    assert modes == [False] and chainrule.is_grad_enabled()
    assert type(y.grad_fn) is Twice
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 2, np.float32))
