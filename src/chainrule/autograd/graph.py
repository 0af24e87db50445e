"""The order of a backward sweep: which nodes it visits, and in which order.

A node may run its backward only once every node that sends it a gradient has run; so the
sweep visits the nodes reachable from the outputs in a reverse topological order, found
without recursion (a chain of 100,000 ops must work).
"""

import abc
from operator import attrgetter

from .function import AccumulateGrad, Function


class Node(abc.ABC):  # noqa: B024 - an isinstance() target only, as PyTorch's
    """What ``grad_fn`` and ``next_functions`` hold, for ``isinstance`` checks: every op's node
    (a ``Function``) and a leaf's ``AccumulateGrad``."""


Node.register(Function)
Node.register(AccumulateGrad)


def topological_order(root_nodes, leaf_uses):
    """Nodes reachable from the roots, each after every node that sends it a gradient. Counts
    into ``leaf_uses`` how many edges lead to each leaf (by id).

    A node is made after the nodes that made its inputs, so its ``_sequence_nr`` (the count of
    recorded nodes when it was made) is larger than theirs: the reachable nodes by decreasing
    ``_sequence_nr`` are in a valid order (PyTorch's engine also runs nodes in that order).
    NOTE: one walk and a sort in C, instead of counting every node's incoming edges and then
    releasing nodes as their counts reach zero (a second walk): half the Python lines of a
    small network's backward sweep ordering."""
    reached = set(root_nodes)
    stack = list(reached)
    while stack:
        for edge in stack.pop().next_edges:
            if type(edge) is tuple:
                child = edge[0]
                if child not in reached:
                    reached.add(child)
                    stack.append(child)
            elif edge is not None:
                key = id(edge)
                leaf_uses[key] = leaf_uses.get(key, 0) + 1
    return sorted(reached, key=_sequence_nr, reverse=True)


_sequence_nr = attrgetter("_sequence_nr")


def nodes_leading_to(order, wanted_leaves, wanted_outputs):
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


class save_on_cpu:  # noqa: N801 - PyTorch's spelling
    """``torch.autograd.graph.save_on_cpu()``: inside the block, the tensors an op saves for
    backward are kept in CPU memory. chainrule keeps every tensor there (NumPy arrays), so the
    block changes nothing; ``pin_memory`` and ``device_type`` are accepted as PyTorch's."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        self.pin_memory, self.device_type = pin_memory, device_type

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False



# -- hooks on saved tensors ---------------------------------------------------------------------
_saved_hooks = []  # (pack_hook, unpack_hook) of the open saved_tensors_hooks blocks, innermost last
_plain_save = Function.__dict__["save_for_backward"]


class _Unchecked:
    """A saved tensor's version when hooks packed it: what unpack gives back is not the tensor
    whose counter was read, so no in-place check applies (it compares unequal to nothing)."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


_UNCHECKED = _Unchecked()


class _Packed(tuple):
    """A node's saved tensors as the pack hook made them: every read unpacks them again (the
    unpack hook runs at each access, as PyTorch's)."""

    def __new__(cls, packed, unpack):
        self = super().__new__(cls, packed)
        self.unpack = unpack
        return self

    def __iter__(self):
        unpack = self.unpack
        return iter([None if p is None else unpack(p) for p in tuple.__iter__(self)])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self)[index]
        packed = tuple.__getitem__(self, index)
        return None if packed is None else self.unpack(packed)


def _save_with_hooks(ctx, *tensors):
    _plain_save(ctx, *tensors)
    if True in ctx.needs_input_grad and tensors:  # (recorded: the plain save kept them)
        pack, unpack = _saved_hooks[-1]
        ctx._saved = _Packed([None if t is None else pack(t) for t in tensors], unpack)
        ctx._saved_versions = [_UNCHECKED] * len(tensors)


class saved_tensors_hooks:  # noqa: N801 - PyTorch's spelling
    """``with saved_tensors_hooks(pack_hook, unpack_hook):`` every tensor an op saves for
    backward inside the block is stored as ``pack_hook(tensor)`` (anything), and
    ``unpack_hook(packed)`` gives a tensor back each time backward reads it, after the block
    too (to offload, compress or count saved activations). While no block is open, saving costs
    nothing extra: the hooked save replaces the plain one only inside a block."""

    def __init__(self, pack_hook, unpack_hook):
        self.hooks = (pack_hook, unpack_hook)

    def __enter__(self):
        _saved_hooks.append(self.hooks)
        Function.save_for_backward = _save_with_hooks
        return self

    def __exit__(self, *exc_info):
        _saved_hooks.remove(self.hooks)
        if not _saved_hooks:
            Function.save_for_backward = _plain_save
        return False
