"""The order of a backward sweep: which nodes it visits, and in which order.

A node may run its backward only once every node that sends it a gradient has run; so the
sweep visits the nodes reachable from the outputs in a reverse topological order, found
without recursion (a chain of 100,000 ops must work).
"""


def topological_order(root_nodes, leaf_uses):
    """Nodes reachable from the roots, each after every node that sends it a gradient. Counts
    into ``leaf_uses`` how many edges lead to each leaf (by id)."""
    roots = dict.fromkeys(root_nodes)  # (once each, in order)
    dependencies = {}  # node -> how many edges lead into it
    stack = list(roots)
    while stack:
        for edge in stack.pop().next_edges:
            if type(edge) is tuple:
                child = edge[0]
                if child in dependencies:
                    dependencies[child] += 1
                else:  # reached for the first time: its own edges are counted next
                    dependencies[child] = 1
                    if child not in roots:  # (a root is on the stack already)
                        stack.append(child)
            elif edge is not None:
                leaf_uses[id(edge)] = leaf_uses.get(id(edge), 0) + 1
    order = []
    ready = [node for node in roots if node not in dependencies]
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
