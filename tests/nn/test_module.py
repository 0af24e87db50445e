"""Module: registration and naming, modes, dtype conversion, state dicts, hooks, repr."""

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(cr.ones(4))
        self.register_buffer("running", cr.zeros(4))
        self.register_buffer("scratch", cr.zeros(2), persistent=False)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block()
        self.head = nn.Linear(4, 2)
        self.shared = self.head  # the same module twice: its parameters are listed once

    def forward(self, x):
        return self.head(self.first(x))


def test_registration_order_and_dotted_names():
    net = Net()
    # each module's own parameters first, then its children's (PyTorch's order)
    assert [n for n, _ in net.named_parameters()] == [
        "first.scale", "first.fc.weight", "first.fc.bias", "head.weight", "head.bias"]
    assert [n for n, _ in net.named_buffers()] == ["first.running", "first.scratch"]
    assert [n for n, _ in net.named_children()] == ["first", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "first", "first.fc", "first.act", "head"]
    assert len(list(net.named_parameters(remove_duplicate=False))) == 7
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert [n for n, _ in net.first.named_parameters(prefix="x", recurse=False)] == ["x.scale"]
    assert net.get_parameter("first.fc.bias") is net.first.fc.bias
    assert net.get_submodule("first.act") is net.first.act
    with pytest.raises(AttributeError, match="no attribute `nope`"):
        net.get_submodule("first.nope")


def test_setattr_rules_and_delattr():
    block = Block()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        block.scale = cr.ones(4)
    block.scale = None
    assert "scale" in block._parameters and block.scale is None
    block.running = cr.ones(4)  # a buffer accepts a plain tensor
    assert block.running.tolist() == [1.0] * 4 and "running" in block._buffers
    block.extra = nn.Buffer(cr.ones(1))
    assert "extra" in block._buffers
    del block.fc
    assert "fc" not in block._modules and not hasattr(block, "fc")
    assert "act" in dir(block) and "running" in dir(block)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_train_eval_propagate():
    net = Net()
    assert net.training and net.first.act.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.first.train()
    assert net.first.fc.training and not net.training


def test_zero_grad_requires_grad_and_apply():
    net = Net()
    net(cr.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Block", "Linear", "Net"]


def test_to_double_converts_in_place_keeping_identity():
    net = Net()
    weight = net.head.weight
    net.head.weight.grad = cr.ones(2, 4)
    assert net.double() is net
    assert net.head.weight is weight and weight.dtype == cr.float64
    assert weight.grad.dtype == cr.float64 and net.first.running.dtype == cr.float64
    net.to(cr.float32)
    assert weight.dtype == cr.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(cr.int64)


def test_state_dict_round_trip_gives_identical_outputs():
    cr.manual_seed(0)
    source, target = Net(), Net()
    source.first.running.fill_(3.0)
    state = source.state_dict()
    assert list(state) == ["first.scale", "first.running", "first.fc.weight", "first.fc.bias",
                           "head.weight", "head.bias", "shared.weight", "shared.bias"]
    assert all(not t.requires_grad for t in state.values())
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = cr.randn(5, 3)
    np.testing.assert_array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    assert target.first.running.tolist() == [3.0] * 4
    assert isinstance(target.head.weight, nn.Parameter)
    assert source.state_dict(keep_vars=True)["head.weight"] is source.head.weight


def test_strict_load_errors_list_every_problem_and_load_nothing():
    net = Net()
    before = net.head.weight.detach().numpy().copy()
    state = Net().state_dict()
    del state["first.scale"]
    state["bogus"] = cr.zeros(1)
    state["first.fc.bias"] = cr.zeros(7)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    message = str(error.value)
    assert 'Missing key(s) in state_dict: "first.scale"' in message
    assert 'Unexpected key(s) in state_dict: "bogus"' in message
    assert "size mismatch for first.fc.bias" in message and "[7]" in message and "[4]" in message
    np.testing.assert_array_equal(net.head.weight.detach().numpy(), before)  # nothing loaded
    del state["first.fc.bias"]
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["first.scale", "first.fc.bias"] and unexpected == ["bogus"]
    np.testing.assert_array_equal(net.head.weight.detach().numpy(),
                                  state["head.weight"].numpy())


def test_forward_hooks_fire_with_the_right_arguments():
    net = Net()
    calls = []
    x = cr.randn(2, 3)

    def pre(module, args):
        calls.append(("pre", module, args))
        return (args[0] * 2,)

    def post(module, args, output):
        calls.append(("post", module, args, output))
        return output + 1

    h1 = net.register_forward_pre_hook(pre)
    h2 = net.register_forward_hook(post)
    out = net(x)
    np.testing.assert_allclose(out.detach().numpy(),
                               net.forward(x * 2).detach().numpy() + 1, rtol=1e-6)
    assert calls[0][0] == "pre" and calls[0][1] is net and calls[0][2][0] is x
    assert calls[1][0] == "post" and calls[1][3].shape == (2, 2)
    h1.remove()
    h2.remove()
    np.testing.assert_array_equal(net(x).detach().numpy(), net.forward(x).detach().numpy())

    seen = {}
    handle = net.register_forward_hook(
        lambda m, args, kwargs, out: seen.update(kwargs=kwargs), with_kwargs=True)
    net.first.register_forward_pre_hook(
        lambda m, args, kwargs: (args, kwargs), with_kwargs=True)
    net(x)
    assert seen["kwargs"] == {}
    handle.remove()


def test_full_backward_hook_sees_input_and_output_gradients():
    layer = nn.Linear(3, 2).double()
    x = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
    record = {}

    def hook(module, grad_input, grad_output):
        record.update(module=module, grad_input=grad_input, grad_output=grad_output)
        return (grad_input[0] * 10,)

    layer.register_full_backward_hook(hook)
    weights = cr.randn(4, 2, dtype=cr.float64)
    (layer(x) * weights).sum().backward()
    w = layer.weight.detach().numpy()
    assert record["module"] is layer
    np.testing.assert_allclose(record["grad_output"][0].numpy(), weights.numpy())
    np.testing.assert_allclose(record["grad_input"][0].numpy(), weights.numpy() @ w)
    np.testing.assert_allclose(x.grad.numpy(), 10 * weights.numpy() @ w)  # replaced


def test_a_gradient_returned_by_a_full_backward_hook_is_copied_into_grad():
    layer = nn.Linear(2, 2).double()
    x = cr.randn(3, 2, dtype=cr.float64, requires_grad=True)
    mine = cr.ones(3, 2, dtype=cr.float64)
    layer.register_full_backward_hook(lambda module, grad_input, grad_output: (mine,))
    for _ in range(2):
        layer(x).sum().backward()
    np.testing.assert_allclose(mine.numpy(), np.ones((3, 2)))
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 2), 2.0))


def test_backward_hook_without_input_grad_gets_none():
    layer = nn.Linear(3, 2)
    record = []
    layer.register_full_backward_hook(lambda m, gi, go: record.append((gi, go)))
    layer(cr.randn(4, 3)).sum().backward()
    assert record[0][0] == (None,) and record[0][1][0].shape == (4, 2)


def test_repr_is_nested_like_pytorch():
    assert repr(Net()) == (
        "Net(\n"
        "  (first): Block(\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (act): ReLU()\n"
        "  )\n"
        "  (head): Linear(in_features=4, out_features=2, bias=True)\n"
        "  (shared): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )


def test_parameter_basics_and_deepcopy():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, cr.Tensor)
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter(cr.ones(1), requires_grad=False).requires_grad
    t = cr.zeros(3)
    shared = nn.Parameter(t)
    t[0] = 5.0
    assert shared[0].item() == 5.0  # shares memory with the tensor it wraps
    assert type(p * 2) is cr.Tensor
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.head.weight is not net.head.weight
    assert clone.shared is clone.head
    np.testing.assert_array_equal(clone.head.weight.detach().numpy(),
                                  net.head.weight.detach().numpy())


def test_missing_forward_is_a_clear_error():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(cr.ones(1))


def test_full_backward_pre_hook_can_replace_the_output_gradient():
    layer = nn.Linear(2, 2).double()
    x = cr.randn(3, 2, dtype=cr.float64, requires_grad=True)
    layer.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * 0,))
    layer(x).sum().backward()
    assert not x.grad.numpy().any() and not layer.weight.grad.numpy().any()


def test_share_memory_reaches_every_parameter_and_buffer_and_returns_the_module():
    # PyTorch: Module.share_memory() calls share_memory_() on each parameter and buffer
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    seen = []
    original = cr.Tensor.share_memory_
    cr.Tensor.share_memory_ = lambda self: seen.append(self) or self
    try:
        assert model.share_memory() is model
    finally:
        cr.Tensor.share_memory_ = original
    expected = [*model.parameters(), *model.buffers()]
    assert len(seen) == len(expected) and all(a is b for a, b in zip(seen, expected))
