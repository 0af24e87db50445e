"""``grad_fn.next_functions``: the graph walked from a loss, as PyTorch's tutorials and graph
drawers (torchviz) walk it, down to one AccumulateGrad per parameter."""

import chainrule as cr
from chainrule import nn
from chainrule.autograd.graph import Node


def _walk(node, seen):
    if node is None or id(node) in seen:
        return
    seen[id(node)] = node
    for child, _ in node.next_functions:
        _walk(child, seen)


def test_walking_next_functions_reaches_every_parameter_once():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    loss = model(cr.randn(2, 3)).pow(2).mean()
    seen = {}
    _walk(loss.grad_fn, seen)
    leaves = [n.variable for n in seen.values() if n.name() == "AccumulateGrad"]
    assert sorted(map(id, leaves)) == sorted(map(id, model.parameters()))
    assert all(isinstance(n, Node) for n in seen.values())


def test_next_functions_name_inputs_by_position():
    x = cr.ones(2, requires_grad=True)
    y = cr.ones(2)  # needs no gradient
    product = x * y
    (to_x, nr_x), (to_y, nr_y) = product.grad_fn.next_functions
    assert to_x.variable is x and nr_x == 0 and (to_y, nr_y) == (None, 0)
    assert product.grad_fn.next_functions[0][0] is to_x  # the same node each time
    total = product.sum()
    assert total.grad_fn.next_functions == ((product.grad_fn, 0),)
    assert to_x.next_functions == () and repr(to_x).startswith("<AccumulateGrad object at")
