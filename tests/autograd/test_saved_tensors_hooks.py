"""saved_tensors_hooks, as PyTorch's: what an op saves inside the block is stored packed and
unpacked at each read by backward (after the block too); outside a block nothing changes."""

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.autograd.function import Function
from chainrule.autograd.graph import save_on_cpu, saved_tensors_hooks


def _model_and_input():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    return model, cr.randn(5, 3, dtype=cr.float64)


def test_offloaded_activations_give_the_same_gradients():
    model, x = _model_and_input()
    (model(x) ** 2).sum().backward()
    plain = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    packed, unpacked = [], []

    def pack(tensor):  # to a NumPy copy, as an offload would
        packed.append(tensor.shape)
        return tensor.detach().numpy().copy()

    def unpack(array):
        unpacked.append(array.shape)
        return cr.from_numpy(array)

    with saved_tensors_hooks(pack, unpack):
        loss = (model(x) ** 2).sum()
    loss.backward()  # after the block: the nodes made inside still unpack
    assert packed and unpacked
    for grad, expected in zip((p.grad.numpy() for p in model.parameters()), plain):
        np.testing.assert_allclose(grad, expected, rtol=1e-12)


def test_what_unpack_returns_is_what_backward_uses():
    y = cr.ones(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach() * 0 + 5, lambda t: t):
        z = (y * y).sum()  # d/dy = 2 * (saved y), and the saved y now reads 5
    z.backward()
    assert y.grad.tolist() == [10.0, 10.0, 10.0]


def test_blocks_nest_and_leave_the_plain_save_behind():
    plain = Function.__dict__["save_for_backward"]
    calls = []
    with saved_tensors_hooks(lambda t: calls.append("outer") or t, lambda t: t):
        with saved_tensors_hooks(lambda t: calls.append("inner") or t, lambda t: t):
            (cr.ones(2, requires_grad=True).exp()).sum()
        (cr.ones(2, requires_grad=True).exp()).sum()
    assert calls == ["inner", "outer"]
    assert Function.__dict__["save_for_backward"] is plain
    with save_on_cpu(pin_memory=True):  # (chainrule keeps every tensor in CPU memory already)
        x = cr.ones(2, requires_grad=True)
        x.exp().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.e)
