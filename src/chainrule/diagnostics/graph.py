"""``draw_graph``: the backward graph behind a tensor, as Graphviz DOT text (or SVG/PNG)."""

import shutil
import subprocess


def _dtype(dtype):
    return str(dtype).replace("float", "f").replace("int", "i").replace("bool", "b")


def _shape(meta):
    if meta is None:
        return "?"
    shape, dtype = meta
    return f"{tuple(shape)} {_dtype(dtype)}"


def _quote(text):
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def _dot(tensor, params):
    names = {id(p): name for name, p in (params or {}).items()}
    lines = ["digraph backward {", '  rankdir="BT";',
             '  node [shape=box, fontname="Helvetica", fontsize=10];']
    ids = {}

    def node_id(obj):
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
        return ids[id(obj)]

    root = tensor.grad_fn
    output = node_id(tensor)
    label = _quote("output " + _shape((tuple(tensor.shape), tensor._data.dtype)))
    lines.append(f"  {output} [label={label}, style=filled, fillcolor=lightblue];")
    if root is None:
        lines.append("}")
        return "\n".join(lines)
    lines.append(f"  {node_id(root)} -> {output};")
    stack, seen = [root], {id(root)}
    while stack:
        node = stack.pop()
        outputs = "\n".join(_shape(m) for m in node.output_meta)
        fused = getattr(node, "fused_ops", None)  # (a node that stands for several ops)
        title = node.name() + ("" if fused is None else "\n" + " > ".join(fused))
        text = _quote(title + "\n" + outputs)
        lines.append(f"  {node_id(node)} [label={text}];")
        for edge, meta in zip(node.next_edges, node.input_meta):
            if edge is None:
                continue
            child = edge[0] if isinstance(edge, tuple) else edge
            if not isinstance(edge, tuple) and id(child) not in seen:
                label = names.get(id(child), "leaf")
                text = _quote(label + "\n" + _shape(meta))
                lines.append(f"  {node_id(child)} [label={text}, style=filled, "
                             "fillcolor=lightyellow];")
            lines.append(f"  {node_id(child)} -> {node_id(node)};")
            if id(child) not in seen:
                seen.add(id(child))
                if isinstance(edge, tuple):
                    stack.append(child)
    lines.append("}")
    return "\n".join(lines)


def draw_graph(tensor, params=None, format="dot"):
    """The graph that ``tensor.backward()`` would walk: one node per op (its name, output
    shapes and dtypes), one per leaf (named from ``params``: ``dict(model.named_parameters())``).
    ``format="dot"`` returns DOT text; ``"svg"`` or ``"png"`` render it with Graphviz's ``dot``
    program (bytes for png, text for svg).

    >>> model = chainrule.nn.Linear(3, 2)
    >>> loss = model(chainrule.ones(1, 3)).sum()
    >>> print(draw_graph(loss, dict(model.named_parameters())))  # doctest: +ELLIPSIS
    digraph backward {
    ...
    }
    """
    text = _dot(tensor, params)
    if format == "dot":
        return text
    if format not in ("svg", "png"):
        raise ValueError(f"format must be 'dot', 'svg' or 'png', got {format!r}")
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(
            f"draw_graph(format={format!r}) needs the Graphviz 'dot' program, which is not on "
            "PATH; install Graphviz (apt install graphviz, brew install graphviz, conda install "
            "graphviz), or use format='dot' and paste the text into any Graphviz viewer"
        )
    result = subprocess.run([program, f"-T{format}"], input=text.encode(), capture_output=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"dot failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode() if format == "svg" else result.stdout
