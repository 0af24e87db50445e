"""DESIGN.md's layer table: a module imports only from its own layer or the layers above it
(the engine never imports nn; nn never imports training)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chainrule"

# DESIGN.md's table, top to bottom: a module may import layers at or above its own index.
LAYERS = [
    ("version", ["_version"]),
    ("kernels", ["kernels"]),  # compiled array kernels and the thread policy: arrays only
    ("engine", ["autograd"]),
    ("tensor", ["tensor", "_device", "_dtypes", "_tensor_str", "creation", "random", "func",
                "_settings", "_legacy", "_module_paths", "_torch_paths"]),
    ("ops", ["ops", "special"]),
    ("nn", ["nn"]),
    ("optim", ["optim"]),
    ("data", ["data"]),
    ("io", ["serialization", "io"]),
    ("device answers", ["cuda", "backends", "accelerator", "mps", "xpu", "amp", "version",
                        "multiprocessing"]),
    ("export", ["onnx"]),
    ("diagnostics", ["diagnostics", "explain"]),
    ("training", ["train"]),
    ("distributed", ["distributed"]),
    ("command line", ["cli", "__main__"]),
    ("PyTorch paths", ["utils", "as_torch"]),
]
LAYER_OF = {name: index for index, (_, names) in enumerate(LAYERS) for name in names}


def layer_of(module_path):
    """The layer index of a module given as path parts below the package ('nn', 'linear')."""
    return LAYER_OF[module_path[0]]


def imported_modules(source, parts):
    """The chainrule subpackages or modules (first name below ``chainrule``) that ``source``
    imports; ``parts`` is the module's path below the package, e.g. ("nn", "linear")."""
    package = list(parts[:-1])  # relative imports start from the containing package
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            found.update(target[:1] or [alias.name for alias in node.names])
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = node.module.split(".")
            if names[0] == "chainrule":
                found.update(names[1:2] or [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "chainrule" and len(names) > 1:
                    found.add(names[1])
    return found


def violations_in(source, parts):
    own = layer_of(parts)
    return [f"{'/'.join(parts)} ({LAYERS[own][0]}) imports {name} "
            f"({LAYERS[LAYER_OF[name]][0]})"
            for name in sorted(imported_modules(source, parts))
            if name in LAYER_OF and LAYER_OF[name] > own]


def test_every_module_belongs_to_a_layer():
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if parts == ("__init__.py",):
            continue
        assert parts[0].removesuffix(".py") in LAYER_OF, f"{path} is in no layer of DESIGN.md"


def test_imports_flow_one_way():
    violations = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts != ("__init__",):  # the package root re-exports every layer
            violations += violations_in(path.read_text(), parts)
    assert not violations, "\n".join(violations)


def test_the_check_catches_an_upward_import():
    assert violations_in("from ..nn import Module", ("autograd", "engine"))
    assert violations_in("import chainrule.train.loop", ("nn", "linear"))
    assert violations_in("from chainrule import train", ("optim", "sgd"))
    assert not violations_in("from ..tensor import Tensor", ("nn", "modules", "linear"))
