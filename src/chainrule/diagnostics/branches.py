"""Which of a model's layers feed which, read from the autograd graph of one sampled forward.

A layer that feeds no other is one of the model's heads, whatever the model does with their
outputs (returns them as a tuple or a dict, reshapes or concatenates them): the amplification
rule must not judge a head against the heads computed after it, which are beside it, not on
its way to the loss (rules.py, ``_amplified``).
"""


def feeding_layers(calls, producers):
    """The layers whose outputs reach another layer's inputs. ``calls``: [(layer, its input
    tensors)] of the forward; ``producers``: {autograd node that made a layer's output: that
    layer}. The walk back from an input stops at the first layer output on each path (the
    layers behind that one feed it, not the layer called), and each node is walked once."""
    behind = {}  # node -> the layers whose outputs are the nearest behind it, on any path
    feeding = set()
    for layer, inputs in calls:
        for tensor in inputs:
            node = tensor.grad_fn
            if node is not None:
                feeding |= _nearest(node, producers, behind) - {layer}  # (a cell fed itself)
    return feeding


def _nearest(root, producers, behind):
    """The layers in ``producers`` whose outputs are the nearest behind ``root``, with every
    node walked kept in ``behind``. Iterative, children before parents: a graph may be far
    deeper than Python's recursion (a recurrent cell over a long sequence)."""
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if node in behind:
            continue
        owner = producers.get(node)
        if owner is not None:
            behind[node] = frozenset((owner,))
            continue
        children = [edge[0] for edge in node.next_edges if type(edge) is tuple]
        if children_done:
            behind[node] = frozenset().union(*(behind[child] for child in children))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in children if child not in behind)
    return behind[root]
