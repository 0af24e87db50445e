"""``Function._array_backward``: without create_graph the sweep hands a built-in op bare arrays
and passes on the arrays it returns. Each such op is checked here against its tensor backward
(the one create_graph records) and against finite differences, and the sweep is checked to
take the array path where it may and the tensor path where something watches."""

import warnings

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from chainrule.autograd import engine
from chainrule.autograd.function import Function
from chainrule.ops import elementwise
from chainrule.ops.linear_chain import linear_chain


def _leaf(*shape, dtype=np.float64, seed=0):
    values = np.random.default_rng(seed).uniform(0.5, 2.0, shape).astype(dtype)
    return chainrule.from_numpy(values).requires_grad_()


# name -> (inputs, function of them); float64, so that finite differences are sharp
SAMPLES = {
    "Mul": (lambda: (_leaf(3, 4), _leaf(4, seed=1)), lambda a, b: a * b),
    "Tanh": (lambda: (_leaf(3, 4),), lambda x: x.tanh()),
    "Sigmoid": (lambda: (_leaf(3, 4),), lambda x: x.sigmoid()),
    "Relu": (lambda: (_leaf(3, 4) - 1.2,), lambda x: x.relu()),
    "Linear": (lambda: (_leaf(5, 4), _leaf(3, 4, seed=1), _leaf(3, seed=2)), F.linear),
    "LinearChain": (lambda: (_leaf(5, 4), _leaf(3, 4, seed=1), _leaf(3, seed=2),
                             _leaf(2, 3, seed=3)),
                    lambda x, w1, b1, w2: linear_chain(x, [(w1, b1), (w2, None)],
                                                       [elementwise.Relu, elementwise.Sigmoid])),
    "MseLoss": (lambda: (_leaf(3, 4), _leaf(3, 4, seed=1)), F.mse_loss),
    "Sum": (lambda: (_leaf(3, 4),), lambda x: x.sum(1)),
}


def _array_backward_ops():
    found, stack = {}, [Function]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub.__dict__.get("_array_backward") is not None:
                found[sub.__name__] = sub
            stack.append(sub)
    return found


def test_every_array_backward_op_is_checked_here():
    assert set(_array_backward_ops()) == set(SAMPLES)


def _gradients(name, create_graph, monkeypatch):
    """The op's input gradients for a fixed output gradient, and how often its tensor
    backward ran."""
    cls = _array_backward_ops()[name]
    calls = []
    tensor_backward = cls.backward

    def counted(ctx, *grads):
        calls.append(1)
        return tensor_backward(ctx, *grads)

    monkeypatch.setattr(cls, "backward", staticmethod(counted))
    make, op = SAMPLES[name]
    inputs = make()
    out = op(*inputs)
    assert type(out.grad_fn) is cls
    seed = chainrule.from_numpy(np.linspace(-1, 1, out.numel()).reshape(out.shape))
    grads = chainrule.autograd.grad(out, inputs, seed, create_graph=create_graph)
    monkeypatch.undo()
    return [g.detach().numpy() for g in grads], len(calls)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_array_path_gives_the_tensor_paths_gradients(name, monkeypatch):
    on_arrays, tensor_calls = _gradients(name, False, monkeypatch)
    assert tensor_calls == 0  # the sweep called _array_backward
    on_tensors, tensor_calls = _gradients(name, True, monkeypatch)
    assert tensor_calls == 1
    for a, t in zip(on_arrays, on_tensors):
        assert a.dtype == t.dtype and a.shape == t.shape
        np.testing.assert_allclose(a, t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_array_path_matches_finite_differences(name):
    make, op = SAMPLES[name]
    assert chainrule.autograd.gradcheck(op, make())


def test_a_chain_of_array_ops_into_leaves_and_a_shared_input():
    # x feeds two array ops whose gradients meet as arrays; the leaves get tensors they own
    x, w, b = _leaf(4, 3), _leaf(2, 3, seed=1), _leaf(2, seed=2)
    h = F.linear(x, w, b).tanh()
    loss = F.mse_loss(h * h.sigmoid(), chainrule.zeros(4, 2, dtype=chainrule.float64))
    loss.backward()
    reference = [g.detach() for g in chainrule.autograd.grad(
        F.mse_loss(F.linear(x, w, b).tanh() * F.linear(x, w, b).tanh().sigmoid(),
                   chainrule.zeros(4, 2, dtype=chainrule.float64)),
        (x, w, b), create_graph=True)]
    for leaf, expected in zip((x, w, b), reference):
        assert type(leaf.grad) is chainrule.Tensor and leaf.grad.grad_fn is None
        assert leaf.grad._data.flags.writeable and leaf.grad._data.base is None
        np.testing.assert_allclose(leaf.grad.numpy(), expected.numpy(), rtol=1e-12)


def test_a_broadcast_gradient_is_summed_back_and_a_mixed_dtype_product_cast():
    a, b = _leaf(3, 4), _leaf(4, dtype=np.float32)
    (a * b).sum().backward()
    assert b.grad.shape == (4,) and b.grad.dtype == chainrule.float32
    np.testing.assert_allclose(b.grad.numpy(), a.detach().numpy().sum(0), rtol=1e-6)
    x, y = _leaf(3, 1), _leaf(3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the target's broadcast, as PyTorch warns
        F.mse_loss(x, y).backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (3,)


def test_observers_and_node_hooks_see_tensors():
    seen = []
    remove = engine.add_observer(lambda node, grads: seen.extend(
        type(g) for g in grads if g is not None))
    try:
        x = _leaf(3)
        x.tanh().sum().backward()
    finally:
        remove()
    assert seen and set(seen) == {chainrule.Tensor}
    hooked = []
    x = _leaf(3)
    y = x.tanh()
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: hooked.append(
        (type(grad_inputs[0]), type(grad_outputs[0]))))
    y.sum().backward()
    assert hooked == [(chainrule.Tensor, chainrule.Tensor)]
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh(x.detach().numpy()) ** 2)


def test_a_custom_function_returning_an_array_still_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out.numpy() * 2

    x = _leaf(3)
    with pytest.raises(TypeError, match="backward must return tensors"):
        Bad.apply(x.tanh()).sum().backward()
