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
