"""nn.Sequential's fused runs of Linear layers and activations (nn/modules/fusion.py,
ops/linear_chain.py): the same values and gradients as the modules one by one, bit for bit;
taken where nothing can tell, and not taken where something can."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.nn.modules import fusion
from chainrule.ops import elementwise
from chainrule.ops.linear_chain import LinearChain, linear_chain
from tests.opcheck import OpCase, check_case


def _chain_reference(x, w1, b1, w2):
    return 1 / (1 + np.exp(-(np.tanh(x @ w1.T + b1) @ w2.T)))


CASES = [
    OpCase("linear_chain", lambda x, w1, b1, w2: linear_chain(
        x, [(w1, b1), (w2, None)], [elementwise.Tanh, elementwise.Sigmoid]),
        _chain_reference, [(4, 3), (5, 3), (5,), (2, 5)], (LinearChain,)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_linear_chain_op(case):
    check_case(case)


def _nets():
    """Sequentials whose runs are fused, each with a different shape of run."""
    return {
        "tanh mlp": lambda: nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                                          nn.Linear(8, 1)),
        "every activation, no bias, Linear after Linear": lambda: nn.Sequential(
            nn.Linear(6, 5, bias=False), nn.ReLU(), nn.Linear(5, 4), nn.Linear(4, 7),
            nn.Sigmoid(), nn.Linear(7, 3), nn.ReLU(inplace=True)),
        "runs split by other modules": lambda: nn.Sequential(
            nn.Linear(6, 5), nn.Tanh(), nn.Dropout(0.0), nn.LayerNorm(5), nn.Linear(5, 4),
            nn.ReLU(), nn.Linear(4, 2), nn.Softmax(-1)),
    }


def _run(make, fused, x_array, dtype, create_graph=False):
    """Output, parameter gradients and input gradient of a fresh net, fused or not."""
    cr.manual_seed(0)
    net = make().to(dtype)
    if not fused:  # the modules one by one, through Sequential's own loop
        net.__dict__["_fusion_plan"] = (tuple(net._modules.values()), None)
    x = cr.tensor(x_array.astype(dtype)).requires_grad_()
    y = net(x)
    weights = cr.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape).astype(dtype))
    (y * weights).sum().backward(create_graph=create_graph)
    return y, [y.detach().numpy()] + [p.grad.detach().numpy() for p in net.parameters()] + [
        x.grad.detach().numpy()]


@pytest.mark.parametrize("name", sorted(_nets()))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 6), (2, 3, 6), (6,)], ids=["2d", "3d", "1d"])
def test_fused_runs_give_the_modules_values_and_gradients_bit_for_bit(name, dtype, shape):
    make = _nets()[name]
    x = np.random.default_rng(1).standard_normal(shape)
    y, fused = _run(make, True, x, dtype)
    _, plain = _run(make, False, x, dtype)
    assert y.grad_fn.name() in ("LinearChainBackward", "SoftmaxBackward")
    for a, b in zip(fused, plain):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_the_fused_mlp_passes_gradcheck_and_gradgradcheck_in_float64():
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.Sigmoid(),
                        nn.Linear(4, 2)).double()
    x = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)
    assert net(x).grad_fn.name() == "LinearChainBackward"
    inputs = (x, *net.parameters())  # (gradcheck moves their values in place)

    def run(x, *parameters):
        return net(x)

    assert gradcheck(run, inputs)
    assert gradgradcheck(run, inputs)


def test_second_derivatives_match_the_modules_one_by_one():
    x = np.random.default_rng(2).standard_normal((4, 6))
    make = _nets()["tanh mlp"]
    results = []
    for fused in (True, False):
        cr.manual_seed(0)
        net = make().double()
        if not fused:
            net.__dict__["_fusion_plan"] = (tuple(net._modules.values()), None)
        xt = cr.tensor(x, requires_grad=True)
        (gx,) = cr.autograd.grad(net(xt).pow(2).sum(), xt, create_graph=True)
        gx.pow(2).sum().backward()  # a gradient penalty, as WGAN-GP's
        results.append([p.grad.numpy() for p in net.parameters()] + [xt.grad.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def _tiny():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def _node_name(net, x=None):
    return net(cr.randn(2, 4) if x is None else x).grad_fn.name()


def test_taken_for_a_plain_run():
    assert _node_name(_tiny()) == "LinearChainBackward"


@pytest.mark.parametrize("watch", ["forward hook", "forward pre-hook", "full backward hook",
                                   "forward set on the instance"])
@pytest.mark.parametrize("position", [0, 1])
def test_not_taken_when_a_module_of_the_run_is_watched(watch, position):
    net = _tiny()
    module, seen = net[position], []
    if watch == "forward hook":
        module.register_forward_hook(lambda m, i, o: seen.append(o))
    elif watch == "forward pre-hook":
        module.register_forward_pre_hook(lambda m, i: seen.append(i))
    elif watch == "full backward hook":
        module.register_full_backward_hook(lambda m, gi, go: seen.append(go))
    else:
        plain = module.forward
        module.forward = lambda x: seen.append(x) or plain(x)
    net(cr.randn(2, 4)).sum().backward()
    assert seen  # the module ran as itself
    assert _node_name(net) == "LinearBackward"


def test_not_taken_while_ops_are_observed_or_profiled():
    net = _tiny()
    with cr.autograd.detect_anomaly():
        assert _node_name(net) == "LinearBackward"
    with cr.autograd.profiler.profile() as prof:
        assert _node_name(net) == "LinearBackward"
    assert "Relu" in prof.key_averages().table()
    assert _node_name(net) == "LinearChainBackward"


def test_not_taken_for_subclasses_whose_forward_may_differ():
    class Scaled(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    cr.manual_seed(0)
    net = nn.Sequential(Scaled(4, 3), nn.ReLU())
    x = cr.randn(2, 4)
    expected = (x @ net[0].weight.T + net[0].bias).mul(2).relu()
    assert np.array_equal(net(x).detach().numpy(), expected.detach().numpy())


def test_the_plan_follows_changes_to_the_sequential():
    net = _tiny()
    x = cr.randn(2, 4)
    net[1] = nn.Sigmoid()
    expected = (x @ net[0].weight.T + net[0].bias).sigmoid() @ net[2].weight.T + net[2].bias
    np.testing.assert_allclose(net(x).detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    net.append(nn.Tanh())
    assert _node_name(net) == "LinearChainBackward"
    np.testing.assert_allclose(net(x).detach().numpy(), np.tanh(expected.detach().numpy()),
                               rtol=1e-6)
    del net[2:]
    assert _node_name(net) == "LinearChainBackward"


def test_writing_into_the_output_is_refused_only_where_the_modules_refuse_it():
    net = _tiny()
    out = net(cr.randn(2, 4))
    out.add_(1)  # after a Linear, as in PyTorch: its backward does not need its output
    out.sum().backward()
    net.append(nn.Tanh())
    out = net(cr.randn(2, 4))
    out.mul_(2)  # tanh's backward needs its output
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_a_weight_written_before_backward_is_refused():
    net = _tiny()
    out = net(cr.randn(2, 4))
    with cr.no_grad():
        net[2].weight.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_frozen_layers_shared_layers_and_an_input_without_grad():
    cr.manual_seed(0)
    shared = nn.Linear(4, 4)
    make = lambda: nn.Sequential(nn.Linear(4, 4), nn.Tanh(), shared, nn.ReLU(), shared,  # noqa: E731
                                 nn.Linear(4, 1))
    x = cr.randn(3, 4)
    grads = []
    for fused in (True, False):
        cr.manual_seed(1)
        net = make()
        net[0].requires_grad_(False)
        if not fused:
            net.__dict__["_fusion_plan"] = (tuple(net._modules.values()), None)
        net(x).sum().backward()
        assert net[0].weight.grad is None
        grads.append([p.grad.numpy().copy() for p in net.parameters() if p.requires_grad])
        shared.zero_grad()
    for a, b in zip(*grads):
        assert np.array_equal(a, b)


def test_an_input_that_does_not_fit_gets_linears_error():
    with pytest.raises(RuntimeError, match="does not fit weight"):
        _tiny()(cr.randn(2, 5))
    with pytest.raises(RuntimeError, match="same dtype"):
        _tiny()(cr.randn(2, 4, dtype=cr.float64))


def test_no_grad_and_eval_run_fused_with_the_same_values():
    net = _tiny()
    x = cr.randn(2, 4)
    with_grad = net(x).detach().numpy()
    with cr.no_grad():
        out = net.eval()(x)
    assert out.grad_fn is None and np.array_equal(out.numpy(), with_grad)


def test_plan_groups_runs():
    lin, relu, drop = nn.Linear(2, 2), nn.ReLU(), nn.Dropout()
    assert fusion.plan((lin, drop)) is None  # a Linear alone is one op already
    steps = fusion.plan((lin, relu, drop, lin, lin))
    assert steps[0] == ((lin, relu), (lin,), (elementwise.Relu,))
    assert steps[1] is drop
    assert steps[2] == ((lin, lin), (lin, lin), (None, None))
