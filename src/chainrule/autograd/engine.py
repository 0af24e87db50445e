"""The backward sweep: one iterative pass over the graph in reverse topological order.

``_Sweep.run`` is the algorithm, its common case inline; the extras (tensor hooks, observers,
``retain_graph``, ``create_graph``, ``inputs=``) are in the methods beside it, each where its
step is. docs/engine.md walks a two-layer network through this file.

The engine alone owns the cross-cutting rules, so ops never repeat them: ordering, summing the
gradients that reach a node from several uses, undoing broadcasting, casting a gradient to its
input's dtype, skipping inputs that need no gradient, freeing saved tensors, the ownership of
gradient memory (``leaves.Borrowed``) and grad mode (backward rules are recorded only under
``create_graph=True``).
"""

import threading
from heapq import heapify, heappop, heappush

import numpy as np
from numpy import ndarray

from . import function, grad_mode, leaves
from .function import TensorBase
from .grad_ops import Accumulate, Cast, SumToSize
from .graph import nodes_leading_to, topological_order
from .leaves import Borrowed, accumulate_into_leaf, run_leaf_hooks

_observers = []
_start_observers = []
_end_observers = []


class _Running(threading.local):
    depth = 0  # backward passes running on this thread (a hook may start another inside one)


_running = _Running()


def backward_running():
    """True while a backward pass runs on this thread: an op called now is a backward rule's
    (recorded under ``create_graph=True``) or a hook's, not the forward computation's."""
    return _running.depth > 0


def backward_depth():
    """How many backward passes run on this thread now (a hook or an observer may start one
    inside another): an op called while it is above what it was at some point runs in a
    backward started since."""
    return _running.depth


def add_observer(observer):
    """Call ``observer(node, grad_inputs)`` after every node's backward (diagnostics attach
    here). Returns a function that removes it again."""
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


def add_backward_end_observer(observer):
    """Call ``observer()`` at the end of every backward pass, once every gradient is delivered
    (still inside the pass: ``backward_running()`` is true). A tap that notes which leaves got
    a gradient (a post-accumulate hook that only appends) reads them all here, in one warm
    loop, before the optimizer uses them. Returns a function that removes it again."""
    _end_observers.append(observer)
    return lambda: _end_observers.remove(observer) if observer in _end_observers else None


def add_backward_start_observer(observer):
    """Call ``observer()`` as every backward pass begins, before any node runs (the profiler
    times each node from here). Returns a function that removes it again."""
    _start_observers.append(observer)
    return lambda: _start_observers.remove(observer) if observer in _start_observers else None


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


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None):
    """Propagate ``grad_tensors`` from ``tensors`` back through the graph.

    Without ``inputs``, gradients are accumulated into the ``.grad`` of leaves. With ``inputs``
    (``autograd.grad``), nothing is accumulated: the gradients of ``inputs`` are returned, in
    order, with None for those the outputs do not depend on.
    """
    sweep = _Sweep(create_graph, retain_graph, inputs)
    previous_mode = grad_mode._state.enabled
    grad_mode._state.enabled = create_graph  # backward rules record only under create_graph
    _running.depth += 1
    try:
        for observer in _start_observers:
            observer()
        sweep.start(tensors, grad_tensors)  # the output gradients, e.g. d loss / d loss = 1
        sweep.run()  # each node's backward, in order, its gradients sent on to its inputs
        sweep.finish()  # leaves that were outputs themselves
        for observer in _end_observers:
            observer()
    finally:
        grad_mode._state.enabled = previous_mode
        _running.depth -= 1
    return sweep.results


class _Sweep:
    """The state of one backward pass and its steps.

    ``pending`` holds, per node, the gradients that have reached its outputs so far (one slot
    per output, summed as they arrive). A leaf's gradient is summed in ``leaf_grads`` and
    delivered once, as soon as the last edge into it is settled (``leaf_uses`` counts them down),
    so its hooks and post-accumulate hooks see the total during the sweep, as in PyTorch
    (data-parallel training starts communicating a gradient while backward still computes).

    The counted sweep needs a walk over the whole graph first (``order``). When no leaf in
    the process has ever had a hook (``leaves.hooked_leaves_seen``) and nothing is captured
    or recorded, the sweep is unwalked instead: it finds its nodes as gradients reach them
    (``ready``, a heap by decreasing ``_sequence_nr``), and a leaf needs no count, since no
    user code waits for its total: see ``_reach_unhooked_leaf``.
    """

    __slots__ = ("create_graph", "retain_graph", "borrowed", "pending", "leaf_grads",
                 "leaf_uses", "roots", "capture", "results", "wanted_leaves", "wanted_outputs",
                 "useful", "like", "ready", "fresh")

    def __init__(self, create_graph, retain_graph, inputs):
        self.create_graph = create_graph
        self.retain_graph = create_graph if retain_graph is None else retain_graph
        self.borrowed = Borrowed()
        self.pending = {}  # node -> [gradient of each output, or None]
        self.leaf_grads = {}  # id(leaf) -> [leaf, its gradient summed so far]
        self.leaf_uses = {}  # id(leaf) -> edges into it not settled yet
        self.roots = []
        # NOTE: unwalked (see the class docstring): the walk over every edge and its sort
        # were a twelfth of a small network's backward (tiny step: 30k instructions of 385k)
        unwalked = not (create_graph or inputs is not None or leaves.hooked_leaves_seen)
        self.ready = [] if unwalked else None  # heap of (-_sequence_nr, id, node)
        self.fresh = set() if unwalked else None  # id(leaf): .grad set by this sweep
        # inputs= (autograd.grad): capture these gradients instead of accumulating into .grad
        self.capture = inputs is not None
        self.results = None
        if self.capture:
            self.wanted_leaves = {id(t): i for i, t in enumerate(inputs) if t.grad_fn is None}
            self.wanted_outputs = {(t.grad_fn, t._output_nr): i
                                   for i, t in enumerate(inputs) if t.grad_fn}
            self.results = [None] * len(inputs)

    # -- the steps -------------------------------------------------------------------------------
    def start(self, tensors, grad_tensors):
        """Seed the sweep with the gradients of the outputs it starts from."""
        self.like = tensors[0]  # makes zero gradients of the user-facing tensor class
        pending = self.pending
        for tensor, grad in zip(tensors, grad_tensors):
            node = tensor.grad_fn
            if node is None:
                self._add_leaf_grad(tensor, grad)
            elif node in pending:
                self._add_to_slot(node, tensor._output_nr, grad)
            else:  # (_add_to_slot's first gradient, inline: a loss is the usual one output)
                slots = pending[node] = [None] * len(node.output_meta)
                slots[tensor._output_nr] = grad
                self.roots.append(node)
        self.borrowed.add_all(grad_tensors)  # the caller's own arrays

    def order(self):
        """The nodes to visit, each after every node that sends it a gradient."""
        ready = self.ready
        if ready is not None:  # unwalked: each node as the gradients reach it
            ready.extend([(-node._sequence_nr, id(node), node) for node in self.roots])
            heapify(ready)
            return _by_sequence(ready)
        order = topological_order(self.roots, self.leaf_uses)
        self.useful = nodes_leading_to(order, self.wanted_leaves, self.wanted_outputs) \
            if self.capture else None
        return order

    def run(self):
        """The sweep: for each node in order, the gradients that reached its outputs, its
        backward (the chain rule, one step), and each gradient it returns sent along its edge.

        NOTE: one loop with the common case inline, the extras (hooks, ``inputs=``, a node no
        gradient reached, gradients to fit or to check) in the methods below: on a small
        network the sweep's own bookkeeping, not the arithmetic, was half of backward.
        Without ``create_graph`` a built-in op with a backward on arrays
        (``Function._array_backward``) gets and returns bare arrays, which travel to the next
        such op without a tensor around them; a gradient becomes a tensor where anything else
        meets it (another op's backward, a hook, an observer, a leaf)."""
        pending, leaf_uses, leaf_grads = self.pending, self.leaf_uses, self.leaf_grads
        plain = not self.capture
        release = not self.retain_graph
        create_graph, borrowed = self.create_graph, self.borrowed
        wrap = self.like._from_array
        ready, fresh = self.ready, self.fresh  # (None: counted, the walk found every node)
        for node in self.order():  # each node after every node that sends it a gradient
            grads = pending.pop(node, None)  # summed over every use of its outputs
            if grads is None or node._output_hooks or not plain or len(grads) > 1:
                if grads is not None:  # (hooks and captures see tensors)
                    # (in place, in the list the sweep made: a comprehension is one more
                    # Python call per hooked node, as a monitored model's output is every step)
                    for nr, g in enumerate(grads):
                        if g is not None and not isinstance(g, TensorBase):
                            grads[nr] = wrap(g)
                grads = self.gradients_of(node, grads)
                if grads is None:
                    continue  # no gradient reached this node (or none is wanted from it)
            if (node._array_backward is not None and not create_graph and len(grads) == 1
                    and not (_observers or node._node_hooks)):
                on_arrays = True
                grad = grads[0]
                grad_inputs = node._array_backward(
                    node, grad._data if isinstance(grad, TensorBase) else grad)
            else:
                on_arrays = False
                grad = grads[0]
                if grad is not None and not isinstance(grad, TensorBase):
                    grads = [wrap(grad)]  # (an array, from a backward on arrays)
                grad_inputs = node.backward(node, *grads)
            edges = node.next_edges
            if type(grad_inputs) is not tuple or len(grad_inputs) != len(edges):
                # (_checked's common case inline: a unary op returns its one gradient bare)
                grad_inputs = (grad_inputs,) if len(edges) == 1 and (
                    type(grad_inputs) is ndarray if on_arrays
                    else isinstance(grad_inputs, TensorBase)
                ) else _checked(node, grad_inputs)
            if release and node._saved:  # its saved tensors are not needed again
                node._saved = ()  # (_release, inline)
                node._freed = True
                for name in node._transient:
                    setattr(node, name, None)
            if _observers or node._node_hooks:
                _notify(node, grad_inputs, grads)
            if not node._builtin_op:
                borrowed.add_all(grad_inputs)  # user code made them (the ownership rule)
            # on to the nodes and leaves that made its inputs
            for edge, grad in zip(edges, grad_inputs):
                if edge is None:
                    continue  # this input needs no gradient
                if type(edge) is tuple:
                    if grad is None:
                        continue
                    child, nr = edge
                    meta = child.output_meta[nr]  # the input's (shape, dtype)
                    try:
                        data = grad if on_arrays else grad._data
                        fits = (data.shape, data.dtype) == meta
                    except AttributeError:
                        fits = False  # not a tensor: _fit_to_input explains
                    if not fits:
                        grad = _fit_to_input(node, grad_inputs, grad, meta,
                                             wrap if on_arrays else None)
                    slots = pending.get(child)
                    if slots is None:
                        slots = pending[child] = [None] * len(child.output_meta)
                        if ready is not None:
                            heappush(ready, (-child._sequence_nr, id(child), child))
                    slots[nr] = grad if slots[nr] is None else _sum(slots[nr], grad, wrap)
                    continue
                if grad is not None:  # (to a leaf, whose shape and dtype the input's are)
                    try:
                        data = grad if on_arrays else grad._data
                        fits = (data.shape == edge._data.shape
                                and data.dtype == edge._data.dtype)
                    except AttributeError:
                        fits = False
                    if not fits:
                        meta = (edge._data.shape, edge._data.dtype)
                        grad = _fit_to_input(node, grad_inputs, grad, meta,
                                             wrap if on_arrays else None)
                    elif on_arrays:
                        grad = wrap(grad)  # (a leaf keeps a tensor)
                    if ready is not None:  # unwalked
                        if (edge._grad is None and not leaf_grads and not edge._hooks
                                and not edge._post_accumulate_hooks):
                            # (_reach_unhooked_leaf's common case: a .grad set to none
                            # before, as after optimizer.zero_grad(), takes its first gradient)
                            fresh.add(id(edge))
                            accumulate_into_leaf(edge, grad, False, borrowed)
                        else:
                            self._reach_unhooked_leaf(edge, grad)
                        continue
                    if (plain and leaf_uses[id(edge)] == 1 and not edge._hooks
                            and id(edge) not in leaf_grads):
                        # (_reach_leaf's common case: the last edge into a leaf, and the only
                        # one that brought a gradient, as for a parameter used once)
                        leaf_uses[id(edge)] = 0
                        accumulate_into_leaf(edge, grad, create_graph, borrowed)
                        continue
                if ready is None:
                    self._reach_leaf(edge, grad)

    def gradients_of(self, node, grads):
        """The gradients that reached ``node``'s outputs (``grads``), after the hooks
        registered on those outputs; None when the node need not run."""
        if grads is None:
            self._settle_leaf_edges(node)  # no gradient will flow along its edges
            return None
        if node._output_hooks:  # hooks registered on non-leaf outputs; each may replace
            for nr, hooks in node._output_hooks.items():  # its gradient
                for hook in hooks:
                    if grads[nr] is not None:
                        result = hook(grads[nr])
                        if result is not None and result is not grads[nr]:
                            grads[nr] = result
                            self.borrowed.add(result)  # user code made it
        if self.capture:
            self._capture_outputs(node, grads)
            if node not in self.useful:
                self._settle_leaf_edges(node)
                return None
        # a single output always has its gradient here; only multi-output nodes can miss one
        if len(grads) > 1 and node.materialize_grads and any(g is None for g in grads):
            grads = [g if g is not None else _zeros(self.like, *node.output_meta[nr])
                     for nr, g in enumerate(grads)]
        return grads

    def finish(self):
        """Deliver what is left: the gradients of leaves that were among the outputs."""
        for leaf, grad in self.leaf_grads.values():
            self._deliver(leaf, grad)

    # -- summing, and delivering to leaves -------------------------------------------------------
    def _add_to_slot(self, node, nr, grad):
        slots = self.pending.get(node)
        if slots is None:
            slots = self.pending[node] = [None] * len(node.output_meta)
            self.roots.append(node)
        slots[nr] = grad if slots[nr] is None else Accumulate.apply(slots[nr], grad)

    def _add_leaf_grad(self, leaf, grad):
        """Sum ``grad`` into ``leaf``'s total so far (an output that is a leaf itself)."""
        earlier = self.leaf_grads.get(id(leaf))
        if earlier is not None:
            grad = Accumulate.apply(earlier[1], grad)  # a new array, made by the engine
        self.leaf_grads[id(leaf)] = (leaf, grad)

    def _reach_leaf(self, leaf, grad):
        """One edge into ``leaf`` is settled, bringing ``grad`` (None: no gradient came along
        it). After the leaf's last edge its gradient is total, and it is delivered."""
        key = id(leaf)
        left = self.leaf_uses[key] - 1
        self.leaf_uses[key] = left
        if self.capture and key not in self.wanted_leaves:
            grad = None  # autograd.grad: only the wanted leaves' gradients are summed
        earlier = self.leaf_grads.pop(key, None)  # (leaf, what its earlier edges brought)
        if earlier is not None:
            grad = earlier[1] if grad is None else Accumulate.apply(earlier[1], grad)
        if grad is None:
            return
        if left:
            self.leaf_grads[key] = (leaf, grad)  # more edges are still to come
        elif leaf._hooks or self.capture:
            self._deliver(leaf, grad)
        else:  # (_deliver's common case, inline: one call less per parameter)
            accumulate_into_leaf(leaf, grad, self.create_graph, self.borrowed)

    def _reach_unhooked_leaf(self, leaf, grad):
        """An unwalked sweep's edge into ``leaf``, bringing ``grad``; how many more edges lead
        there is unknown. A ``.grad`` this sweep set is replaced by its sum with each later
        gradient (the additions of the counted sum, in its order: a + b, then + c; new memory,
        as the first gradient may also be on its way to another node); a ``.grad`` from
        earlier passes gets the sum at the end (g + (a + b), as counted), and so does a leaf
        given a hook other than by ``register_hook`` (a copy of one): its hooks see the total,
        once, at the end of the sweep."""
        key = id(leaf)
        if key in self.fresh:
            leaf._grad = Accumulate.apply(leaf._grad, grad)
            return
        earlier = self.leaf_grads.get(key)
        if earlier is not None:
            self.leaf_grads[key] = (leaf, Accumulate.apply(earlier[1], grad))
        elif leaf._grad is None and not (leaf._hooks or leaf._post_accumulate_hooks):
            self.fresh.add(key)
            accumulate_into_leaf(leaf, grad, False, self.borrowed)
        else:
            self.leaf_grads[key] = (leaf, grad)

    def _deliver(self, leaf, grad):
        if leaf._hooks:
            grad = run_leaf_hooks(leaf, grad, self.borrowed)
        if self.capture:
            index = self.wanted_leaves.get(id(leaf))
            if index is not None:
                self.results[index] = grad
        else:
            accumulate_into_leaf(leaf, grad, self.create_graph, self.borrowed)

    def _settle_leaf_edges(self, node):
        for edge in node.next_edges:
            if edge is not None and type(edge) is not tuple:
                self._reach_leaf(edge, None)

    def _capture_outputs(self, node, grads):
        for nr, grad in enumerate(grads):
            index = self.wanted_outputs.get((node, nr))
            if index is not None and grad is not None:
                self.results[index] = grad


def _by_sequence(ready):
    """The nodes of an unwalked sweep, by decreasing ``_sequence_nr``: a node is pushed when
    the first gradient reaches it, always after every node that can send it one (those were
    made after it, so their numbers are larger), and is never pushed again."""
    while ready:
        yield heappop(ready)[2]


def _checked(node, grad_inputs):
    """What ``node.backward`` returned, as a tuple of one gradient (or None) per input."""
    if type(grad_inputs) is not tuple:
        grad_inputs = tuple(grad_inputs) if type(grad_inputs) is list else (grad_inputs,)
    if len(grad_inputs) != len(node.next_edges):
        raise RuntimeError(
            f"{node.name()} returned {len(grad_inputs)} gradients but its forward took "
            f"{len(node.next_edges)} positional arguments; return one per argument "
            "(None for those without a gradient)"
        )
    return grad_inputs


def _fit_to_input(node, grad_inputs, grad, meta, wrap=None):
    """Reduce a broadcast gradient back to its input's shape and cast it to the input's dtype
    (``wrap``, for a backward on arrays: its bare array becomes a tensor first)."""
    position = next(i for i, g in enumerate(grad_inputs) if g is grad)
    shape, dtype = meta
    if wrap is not None and not isinstance(grad, TensorBase):
        grad = wrap(grad)
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


def _sum(earlier, grad, wrap):
    """Two gradients of one node output, summed: bare arrays (from backwards on arrays, or
    NumPy scalars, their 0-d results) as an array, else as tensors (recorded under
    ``create_graph``)."""
    earlier_is, grad_is = isinstance(earlier, TensorBase), isinstance(grad, TensorBase)
    if not (earlier_is or grad_is):
        return earlier + grad
    return Accumulate.apply(earlier if earlier_is else wrap(earlier),
                            grad if grad_is else wrap(grad))


def _zeros(like, shape, dtype):
    return like._from_array(np.zeros(shape, dtype))
