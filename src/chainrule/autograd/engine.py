"""The backward sweep: one iterative pass over the graph in reverse topological order.

The engine alone owns the cross-cutting rules, so ops never repeat them: ordering, summing the
gradients that reach a node from several uses, undoing broadcasting, casting a gradient to its
input's dtype, skipping inputs that need no gradient, freeing saved tensors, and grad mode
(backward rules are recorded only under ``create_graph=True``).
"""

import numpy as np

from . import grad_mode
from .function import TensorBase

_observers = []


def add_observer(observer):
    """Call ``observer(node, grad_inputs)`` after every node's backward (diagnostics attach
    here). Returns a function that removes it again."""
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


def _topological_order(root_nodes):
    """Nodes reachable from the roots, each after every node that sends it a gradient."""
    dependencies = {}
    seen = set(root_nodes)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if type(edge) is tuple:
                child = edge[0]
                dependencies[child] = dependencies.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    order = []
    ready = [n for n in dict.fromkeys(root_nodes) if n not in dependencies]
    while ready:
        node = ready.pop()
        order.append(node)
        for edge in node.next_edges:
            if type(edge) is tuple:
                child = edge[0]
                dependencies[child] -= 1
                if dependencies[child] == 0:
                    ready.append(child)
    return order


def _nodes_leading_to(order, wanted_leaves, wanted_outputs):
    """The nodes whose backward can contribute to one of the wanted gradients."""
    leads = set()
    for node in reversed(order):
        for edge in node.next_edges:
            if edge is None:
                continue
            if type(edge) is tuple:
                if edge[0] in leads or edge in wanted_outputs:
                    leads.add(node)
                    break
            elif id(edge) in wanted_leaves:
                leads.add(node)
                break
    return leads


def _fit_to_input(node, position, grad, meta):
    """Reduce a broadcast gradient back to its input's shape and cast it to the input's dtype."""
    shape, dtype = meta
    if not isinstance(grad, TensorBase):
        raise TypeError(
            f"{node.name()} returned {type(grad).__name__} for input {position}; backward must "
            "return tensors (or None)"
        )
    if grad._data.shape != shape:
        try:
            grad = grad.sum_to_size(shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(
                f"{node.name()} returned a gradient of shape {tuple(grad.shape)} for input "
                f"{position}, whose shape is {tuple(shape)}; the shapes are not broadcast-"
                "compatible"
            ) from None
    if grad._data.dtype != dtype:
        grad = grad.to(dtype)
    return grad


def _owned(grad, delivered):
    """A gradient array safe to keep as ``.grad`` and to update in place later."""
    array = grad._data
    if array.base is not None or not array.flags.writeable or id(array) in delivered:
        grad = grad.clone()
    delivered.add(id(grad._data))
    return grad


def _accumulate_into_leaf(leaf, grad, create_graph, delivered):
    for hook in leaf._hooks or ():
        result = hook(grad)
        if result is not None:
            grad = result
    if create_graph:
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
    elif leaf.grad is None:
        leaf.grad = _owned(grad.detach(), delivered)
    elif leaf.grad.requires_grad or leaf.grad._data.shape != grad._data.shape:
        leaf.grad = (leaf.grad + grad).detach()
    else:
        np.add(leaf.grad._data, grad._data, out=leaf.grad._data)
        leaf.grad._version_box[0] += 1
    for hook in leaf._post_accumulate_hooks or ():
        hook(leaf)


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None):
    """Propagate ``grad_tensors`` from ``tensors`` back through the graph.

    Without ``inputs``, gradients are accumulated into the ``.grad`` of leaves. With ``inputs``
    (``autograd.grad``), nothing is accumulated: the gradients of ``inputs`` are returned, in
    order, with None for those the outputs do not depend on.
    """
    if retain_graph is None:
        retain_graph = create_graph
    capture = inputs is not None
    if capture:
        wanted_leaves = {id(t): i for i, t in enumerate(inputs) if t.grad_fn is None}
        wanted_outputs = {(t.grad_fn, t._output_nr): i for i, t in enumerate(inputs) if t.grad_fn}
        results = [None] * len(inputs)
    delivered = set()  # ids of arrays already kept as some leaf's .grad in this sweep

    def deliver_to_leaf(leaf, grad):
        if capture:
            index = wanted_leaves.get(id(leaf))
            if index is not None:
                results[index] = grad if results[index] is None else results[index] + grad
        else:
            _accumulate_into_leaf(leaf, grad, create_graph, delivered)

    pending = {}
    root_nodes = []
    previous_mode = grad_mode.is_grad_enabled()
    grad_mode._set_enabled(create_graph)
    try:
        for tensor, grad in zip(tensors, grad_tensors):
            node = tensor.grad_fn
            if node is None:
                deliver_to_leaf(tensor, grad)
                continue
            slots = pending.setdefault(node, [None] * len(node.output_meta))
            nr = tensor._output_nr
            slots[nr] = grad if slots[nr] is None else slots[nr] + grad
            root_nodes.append(node)

        order = _topological_order(root_nodes)
        useful = _nodes_leading_to(order, wanted_leaves, wanted_outputs) if capture else None

        for node in order:
            grads = pending.pop(node, None)
            if grads is None:
                continue  # no gradient reached this node
            if node._output_hooks:
                for nr, hooks in node._output_hooks.items():
                    for hook in hooks:
                        if grads[nr] is not None:
                            result = hook(grads[nr])
                            if result is not None:
                                grads[nr] = result
            if capture:
                for nr, grad in enumerate(grads):
                    index = wanted_outputs.get((node, nr))
                    if index is not None and grad is not None:
                        results[index] = grad
                if node not in useful:
                    continue
            if node.materialize_grads:
                grads = [
                    g if g is not None else _zeros(tensors[0], *node.output_meta[nr])
                    for nr, g in enumerate(grads)
                ]
            grad_inputs = node.backward(node, *grads)
            if not isinstance(grad_inputs, tuple):
                grad_inputs = (grad_inputs,)
            if len(grad_inputs) != len(node.next_edges):
                raise RuntimeError(
                    f"{node.name()} returned {len(grad_inputs)} gradients but its forward took "
                    f"{len(node.next_edges)} positional arguments; return one per argument "
                    "(None for those without a gradient)"
                )
            if not retain_graph:
                node._release()
            if _observers:
                for observer in _observers:
                    observer(node, grad_inputs)
            for position, (edge, grad) in enumerate(zip(node.next_edges, grad_inputs)):
                if edge is None or grad is None:
                    continue
                grad = _fit_to_input(node, position, grad, node.input_meta[position])
                if type(edge) is tuple:
                    child, nr = edge
                    slots = pending.get(child)
                    if slots is None:
                        slots = pending[child] = [None] * len(child.output_meta)
                    slots[nr] = grad if slots[nr] is None else slots[nr] + grad
                else:
                    deliver_to_leaf(edge, grad)
    finally:
        grad_mode._set_enabled(previous_mode)
    return results if capture else None


def _zeros(like, shape, dtype):
    return like._from_array(np.zeros(shape, dtype))
