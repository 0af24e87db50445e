"""The backward sweep: one iterative pass over the graph in reverse topological order.

The engine alone owns the cross-cutting rules, so ops never repeat them: ordering, summing the
gradients that reach a node from several uses, undoing broadcasting, casting a gradient to its
input's dtype, skipping inputs that need no gradient, freeing saved tensors, and grad mode
(backward rules are recorded only under ``create_graph=True``).
"""

import numpy as np

from . import function, grad_mode
from .function import TensorBase
from .grad_ops import Accumulate, Cast, Clone, SumToSize

_observers = []


def add_observer(observer):
    """Call ``observer(node, grad_inputs)`` after every node's backward (diagnostics attach
    here). Returns a function that removes it again."""
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


def add_forward_observer(observer):
    """Call ``observer(node, args, outputs)`` after every op's forward, recorded or not (``node``
    is the op's ``Function`` instance; ``node.forward_options`` holds the keyword options it was
    called with). Returns a function that removes it again."""
    observers = function._forward_observers
    observers.append(observer)
    return lambda: observers.remove(observer) if observer in observers else None


def _notify(node, grad_inputs, grad_outputs):
    """After ``node``'s backward: the global observers, then the node's own hooks."""
    for observer in _observers:
        observer(node, grad_inputs)
    for hook in node._node_hooks or ():
        if hook(grad_inputs, tuple(grad_outputs)) is not None:
            raise RuntimeError(
                f"a hook registered on {node.name()} returned a value: node hooks observe "
                "gradients but may not replace them in chainrule; register the hook on the "
                "tensor instead (tensor.register_hook), whose return value replaces its gradient"
            )


def _topological_order(root_nodes, leaf_uses):
    """Nodes reachable from the roots, each after every node that sends it a gradient. Counts
    into ``leaf_uses`` how many edges lead to each leaf (by id)."""
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
            elif edge is not None:
                leaf_uses[id(edge)] = leaf_uses.get(id(edge), 0) + 1
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
            grad = SumToSize.apply(grad, shape=shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(
                f"{node.name()} returned a gradient of shape {grad._data.shape} for input "
                f"{position}, whose shape is {tuple(shape)}; the shapes are not broadcast-"
                "compatible"
            ) from None
    if grad._data.dtype != dtype:
        grad = Cast.apply(grad, dtype=dtype)
    return grad


class Borrowed:
    """The ownership rule: which gradient arrays the engine may keep as a ``.grad``.

    A leaf's ``.grad`` is updated in place by later backward passes and by optimizers, so it
    must own its memory. An array that came from user code (the caller's ``gradient=``, what a
    tensor hook returns, what the backward of a Function that is not a built-in op returns) may
    still be held there, and an array already kept as one leaf's ``.grad`` belongs to that
    leaf: both are borrowed, and a leaf keeps a copy of them. Everything else was made by
    built-in ops during this sweep and is kept as it is. Built-in ops may pass a borrowed array
    on unchanged, so the rule follows arrays by identity; the dict also keeps them alive, so
    that an id is never reused during the sweep."""

    def __init__(self):
        self._arrays = {}

    def add(self, grad):
        if isinstance(grad, TensorBase):
            self._arrays[id(grad._data)] = grad._data

    def add_all(self, grads):
        for grad in grads:
            self.add(grad)

    def owned(self, grad):
        """Whether ``grad``'s array may become a ``.grad`` without a copy."""
        array = grad._data
        return (id(array) not in self._arrays and array.base is None
                and array.flags.writeable)


def _run_leaf_hooks(leaf, grad, borrowed):
    """A leaf's tensor hooks, once, on its total gradient; a replacement is user code's."""
    for hook in leaf._hooks:
        result = hook(grad)
        if result is not None and result is not grad:
            grad = result
            borrowed.add(grad)
    return grad


def _accumulate_into_leaf(leaf, grad, create_graph, borrowed):
    """Add ``grad`` into ``leaf.grad``, copying it first unless the engine owns it."""
    current = leaf._grad
    if current is None:
        if not borrowed.owned(grad):
            grad = Clone.apply(grad)  # under create_graph, a recorded copy: differentiable
        elif not create_graph:
            grad = grad.detach()
        borrowed.add(grad)  # now the leaf's: no other leaf may keep the same array
        leaf._grad = grad
    elif create_graph:
        leaf._grad = Accumulate.apply(current, grad)
    elif (current._requires_grad or current._data.shape != grad._data.shape
          or not current._data.flags.writeable):
        leaf._grad = Accumulate.apply(current, grad).detach()
    else:
        np.add(current._data, grad._data, out=current._data, casting="same_kind")
        current._bump_version()
    if leaf._post_accumulate_hooks:
        for hook in leaf._post_accumulate_hooks:
            hook(leaf)


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None):
    """Propagate ``grad_tensors`` from ``tensors`` back through the graph.

    Without ``inputs``, gradients are accumulated into the ``.grad`` of leaves. With ``inputs``
    (``autograd.grad``), nothing is accumulated: the gradients of ``inputs`` are returned, in
    order, with None for those the outputs do not depend on.

    A leaf's gradient contributions are summed first and delivered once, as soon as the last
    node that can send it one has run, so its hooks and post-accumulate hooks see the total
    gradient, during the sweep, as in PyTorch (data-parallel training starts communicating a
    gradient while the rest of backward still computes).
    """
    if retain_graph is None:
        retain_graph = create_graph
    capture = inputs is not None
    wanted_leaves = wanted_outputs = None
    if capture:
        wanted_leaves = {id(t): i for i, t in enumerate(inputs) if t.grad_fn is None}
        wanted_outputs = {(t.grad_fn, t._output_nr): i for i, t in enumerate(inputs) if t.grad_fn}
        results = [None] * len(inputs)
    # id(leaf) -> [leaf, its gradient summed so far]
    leaf_grads = {}
    borrowed = Borrowed()

    pending = {}
    root_nodes = []
    previous_mode = grad_mode._state.enabled
    grad_mode._state.enabled = create_graph
    try:
        for tensor, grad in zip(tensors, grad_tensors):
            node = tensor.grad_fn
            if node is None:
                _add_leaf_grad(leaf_grads, tensor, grad)
                continue
            slots = pending.setdefault(node, [None] * len(node.output_meta))
            nr = tensor._output_nr
            slots[nr] = grad if slots[nr] is None else Accumulate.apply(slots[nr], grad)
            root_nodes.append(node)
        borrowed.add_all(grad_tensors)  # the caller's own arrays

        leaf_uses = {}
        order = _topological_order(root_nodes, leaf_uses)
        useful = _nodes_leading_to(order, wanted_leaves, wanted_outputs) if capture else None

        def deliver(leaf, grad):
            if leaf._hooks:
                grad = _run_leaf_hooks(leaf, grad, borrowed)
            if capture:
                index = wanted_leaves.get(id(leaf))
                if index is not None:
                    results[index] = grad
            else:
                _accumulate_into_leaf(leaf, grad, create_graph, borrowed)

        def use_done(leaf):
            """One edge into ``leaf`` is settled; after the last one, its gradient is total."""
            left = leaf_uses[id(leaf)] - 1
            leaf_uses[id(leaf)] = left
            if left == 0 and id(leaf) in leaf_grads:
                deliver(*leaf_grads.pop(id(leaf)))

        for node in order:
            grads = pending.pop(node, None)
            if grads is None or (capture and node not in useful):
                for edge in node.next_edges:
                    if edge is not None and type(edge) is not tuple:
                        use_done(edge)
            if grads is None:
                continue  # no gradient reached this node
            if node._output_hooks:
                _run_output_hooks(node, grads, borrowed)
            if capture:
                for nr, grad in enumerate(grads):
                    index = wanted_outputs.get((node, nr))
                    if index is not None and grad is not None:
                        results[index] = grad
                if node not in useful:
                    continue
            # a single output always has its gradient here; only multi-output nodes can miss one
            if len(grads) > 1 and node.materialize_grads and any(g is None for g in grads):
                grads = [
                    g if g is not None else _zeros(tensors[0], *node.output_meta[nr])
                    for nr, g in enumerate(grads)
                ]
            grad_inputs = node.backward(node, *grads)
            if type(grad_inputs) is not tuple:
                grad_inputs = tuple(grad_inputs) if type(grad_inputs) is list else (grad_inputs,)
            if len(grad_inputs) != len(node.next_edges):
                raise RuntimeError(
                    f"{node.name()} returned {len(grad_inputs)} gradients but its forward took "
                    f"{len(node.next_edges)} positional arguments; return one per argument "
                    "(None for those without a gradient)"
                )
            if not retain_graph and node._saved:
                node._release()
            if _observers or node._node_hooks:
                _notify(node, grad_inputs, grads)
            if not node._builtin_op:
                borrowed.add_all(grad_inputs)  # user code made them
            for position, (edge, grad) in enumerate(zip(node.next_edges, grad_inputs)):
                if edge is None:
                    continue
                if grad is None:
                    if type(edge) is not tuple:
                        use_done(edge)
                    continue
                meta = node.input_meta[position]
                try:
                    fits = grad._data.shape == meta[0] and grad._data.dtype == meta[1]
                except AttributeError:
                    fits = False  # not a tensor: _fit_to_input explains
                if not fits:
                    grad = _fit_to_input(node, position, grad, meta)
                if type(edge) is tuple:
                    child, nr = edge
                    slots = pending.get(child)
                    if slots is None:
                        slots = pending[child] = [None] * len(child.output_meta)
                    slots[nr] = grad if slots[nr] is None else Accumulate.apply(slots[nr], grad)
                else:
                    if not capture or id(edge) in wanted_leaves:
                        _add_leaf_grad(leaf_grads, edge, grad)
                    use_done(edge)

        for leaf, grad in leaf_grads.values():  # leaves that were roots themselves
            deliver(leaf, grad)
    finally:
        grad_mode._state.enabled = previous_mode
    return results if capture else None


def _add_leaf_grad(leaf_grads, leaf, grad):
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, grad]
    else:
        entry[1] = Accumulate.apply(entry[1], grad)  # a new array, made by the engine


def _run_output_hooks(node, grads, borrowed):
    """Hooks registered on a non-leaf output tensor; each may replace its gradient."""
    for nr, hooks in node._output_hooks.items():
        for hook in hooks:
            if grads[nr] is not None:
                result = hook(grads[nr])
                if result is not None and result is not grads[nr]:
                    grads[nr] = result
                    borrowed.add(result)


def _zeros(like, shape, dtype):
    return like._from_array(np.zeros(shape, dtype))
