"""The engine delivers a leaf's gradient as soon as it is complete, during the sweep: what lets
DistributedDataParallel start communicating while backward still computes."""

import chainrule as torch


def test_a_finished_leaf_is_accumulated_before_earlier_layers_run_backward():
    events = []
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w1 = torch.tensor([3.0, 4.0], requires_grad=True)
    w2 = torch.tensor([5.0, 6.0], requires_grad=True)
    for name, leaf in (("w1", w1), ("w2", w2)):
        leaf.register_post_accumulate_grad_hook(lambda t, name=name: events.append(name))
    h = x * w1
    h.register_hook(lambda grad: events.append("h"))  # runs when backward reaches x * w1
    (h * w2).sum().backward()
    assert events == ["w2", "h", "w1"]
    assert w2.grad.tolist() == [3.0, 8.0] and w1.grad.tolist() == [5.0, 12.0]


def test_a_leaf_used_twice_gets_one_delivery_of_the_total():
    calls = []
    w = torch.tensor([2.0], requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
    ((w * 3.0) * (w * w)).sum().backward()  # d(3 w^3)/dw = 9 w^2 = 36
    assert calls == [[36.0]]
