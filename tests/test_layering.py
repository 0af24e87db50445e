"""The layer table of docs/architecture.md: a module imports only from its own layer or the
layers before it (the engine never imports nn; nn never imports training).

Three ways a dependency can flow the wrong way, and the check for each:
- an import statement naming a higher layer (read from the source);
- an import of a name through the package root (``from .. import __version__``): the root
  imports every layer, so such an import depends on all of them;
- a method that a higher layer attaches to ``Tensor`` at run time (the ops attach ``exp``,
  ``sum``, ...): only the tensor layer itself and the op registry may attach methods (read
  from the source, and checked again on ``Tensor`` itself once everything is loaded), and the
  engine and tensor layers are loaded alone and run a backward pass without them.
"""

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chainrule"
ROOT = "the package root"

# docs/architecture.md's table, top to bottom: a module may import layers at or above its own
# index.
LAYERS = [
    ("version", ["_version"]),
    ("kernels", ["kernels"]),  # compiled array kernels and the thread policy: arrays only
    ("engine", ["autograd"]),
    ("tensor", ["tensor", "return_types", "_device", "_dtypes", "_tensor_str", "creation",
                "random", "_grad", "_transforms", "_settings", "_legacy", "_module_paths",
                "_torch_paths", "_torch_functions", "_foreach", "_tensor_extras", "testing",
                "_sparse", "sparse", "jit"]),
    ("ops", ["ops", "special", "linalg", "functional", "_jacobians", "_vmap",
             "_func_transforms"]),
    ("nn", ["nn"]),
    ("optim", ["optim"]),
    ("distributions", ["distributions"]),
    ("data", ["data"]),
    ("io", ["serialization", "io"]),
    ("device answers", ["cuda", "backends", "accelerator", "mps", "xpu", "amp", "version",
                        "multiprocessing"]),
    ("export", ["onnx"]),
    ("diagnostics", ["diagnostics", "explain"]),
    ("training", ["train"]),
    ("distributed", ["distributed"]),
    ("command line", ["cli", "__main__"]),
    ("PyTorch paths", ["utils", "as_torch", "_torch_shim", "_swa_utils", "func", "signal",
                       "profiler"]),
]
LAYER_OF = {name: index for index, (_, names) in enumerate(LAYERS) for name in names}
# Only these attach methods to Tensor: the tensor layer's own modules and the op registry.
MAY_ATTACH = {("creation",), ("ops", "registry")}


def layer_of(module_path):
    """The layer index of a module given as path parts below the package ('nn', 'linear')."""
    return LAYER_OF[module_path[0]]


def _is_module(package, name):
    """Whether ``name`` is a module or subpackage of the package at path parts ``package``."""
    folder = PACKAGE.joinpath(*package)
    return (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()


def imported_modules(source, parts):
    """The chainrule subpackages or modules (first name below ``chainrule``) that ``source``
    imports, with ROOT for a name imported through the package root; ``parts`` is the
    module's path below the package, e.g. ("nn", "linear")."""
    package = list(parts[:-1])  # relative imports start from the containing package
    found = set()

    def from_package(target, names):
        if target:
            found.add(target[0])
        else:  # the root itself: its submodules are fine, any other name comes through it
            for name in names:
                found.add(name if _is_module([], name) else f"{ROOT}: {name}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            from_package(target, [alias.name for alias in node.names])
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = node.module.split(".")
            if names[0] == "chainrule":
                from_package(names[1:], [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "chainrule":
                    found.add(names[1] if len(names) > 1 else f"{ROOT}: import chainrule")
    return found


def violations_in(source, parts):
    own = layer_of(parts)
    found = imported_modules(source, parts)
    # the root imports every layer: only the top layer (PyTorch's paths, which alias torch to
    # the whole package) may import it back
    through_root = sorted(name.split(": ")[1] for name in found
                          if name.startswith(ROOT) and own < len(LAYERS) - 1)
    problems = [f"{'/'.join(parts)} imports {', '.join(through_root)} through the package "
                "root; import from the module that defines it"] if through_root else []
    return problems + [f"{'/'.join(parts)} ({LAYERS[own][0]}) imports {name} "
                       f"({LAYERS[LAYER_OF[name]][0]})"
                       for name in sorted(found) if name in LAYER_OF and LAYER_OF[name] > own]


def tensor_attachments(source):
    """Lines that attach an attribute to Tensor (``Tensor.x = ...``, ``setattr(Tensor, ...)``)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
               and t.value.id == "Tensor" for t in targets):
            lines.append(node.lineno)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "setattr" and node.args
                and isinstance(node.args[0], ast.Name) and node.args[0].id == "Tensor"):
            lines.append(node.lineno)
    return lines


def _library_modules():
    """(path, parts below the package) of every module; a package's own module ends in
    "__init__" (its relative imports start from the package itself)."""
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts != ("__init__",):  # the package root re-exports every layer
            yield path, parts


def test_every_module_belongs_to_a_layer():
    for path, parts in _library_modules():
        assert parts[0] in LAYER_OF, f"{path} is in no layer of docs/architecture.md"


def test_imports_flow_one_way():
    violations = []
    for path, parts in _library_modules():
        violations += violations_in(path.read_text(), parts)
    assert not violations, "\n".join(violations)


def test_docs_architecture_md_shows_this_table():
    rows = []
    for line in (PACKAGE.parents[1] / "docs" / "architecture.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 4 and cells[1][:1].isdigit():  # | # | layer | modules | what it owns |
            modules = re.findall(r"`([\w.]+)/?`", cells[3])
            rows.append((cells[2], sorted(name.removesuffix(".py") for name in modules)))
    assert rows == [(name, sorted(modules)) for name, modules in LAYERS]


def test_the_check_catches_an_upward_import():
    assert violations_in("from ..nn import Module", ("autograd", "engine"))
    assert violations_in("import chainrule.train.loop", ("nn", "linear"))
    assert violations_in("from chainrule import train", ("optim", "sgd"))
    assert not violations_in("from ..tensor import Tensor", ("nn", "modules", "linear"))


def test_the_check_catches_an_import_through_the_package_root():
    assert violations_in("from .. import __version__", ("train", "checkpoint"))
    assert violations_in("from chainrule import manual_seed", ("train", "diagnose"))
    assert violations_in("import chainrule", ("diagnostics", "monitor"))
    assert violations_in("from ... import zeros", ("nn", "modules", "linear"))
    assert not violations_in("from .._version import __version__", ("train", "checkpoint"))
    assert not violations_in("from .. import creation", ("nn", "init"))  # a module, not a name


def test_only_the_tensor_layer_and_the_op_registry_attach_methods_to_tensor():
    attaching = [f"{'/'.join(parts)}:{line}" for path, parts in _library_modules()
                 if parts not in MAY_ATTACH and parts[0] not in LAYERS[3][1]
                 for line in tensor_attachments(path.read_text())]
    assert not attaching, (
        "Tensor methods are attached by chainrule/ops/registry.py's register() only:\n"
        + "\n".join(attaching))
    assert tensor_attachments("Tensor.exp = exp") and tensor_attachments(
        "setattr(Tensor, name, f)")


def foreign_tensor_attributes(tensor_class):
    """Attributes of ``tensor_class`` (all of chainrule loaded) defined above the tensor layer
    that no op registered: the run-time view of the rule above, which also sees an attachment
    written in a way the source check does not read (an alias of the class, a loop)."""
    import chainrule.ops.registry as registry

    registered = {id(value) for op in registry.OPS.values()
                  for place in op.places.values() for value in place.values()}
    registered |= {id(op.function) for op in registry.OPS.values()}  # (its operators)
    foreign = []
    for name, value in vars(tensor_class).items():
        function = value.fget if isinstance(value, property) else getattr(value, "__func__",
                                                                          value)
        parts = (getattr(function, "__module__", None) or "").split(".")
        if parts[0] != "chainrule" or len(parts) < 2 or id(value) in registered:
            continue
        if LAYER_OF[parts[1]] > LAYER_OF["tensor"] and parts[1:] != ["ops", "registry"]:
            foreign.append(f"Tensor.{name} from {'.'.join(parts)}")
    return foreign


def test_every_tensor_attribute_comes_from_the_tensor_layer_or_a_registered_op():
    import chainrule

    assert not foreign_tensor_attributes(chainrule.Tensor)

    class Probe(chainrule.Tensor):
        pass

    def attached(self):
        return self

    attached.__module__ = "chainrule.nn.functional"
    Probe.attached = attached  # as an alias of the class would: the source check cannot tell
    assert foreign_tensor_attributes(Probe) == ["Tensor.attached from chainrule.nn.functional"]


def _run_alone(layers, script=""):
    """Import every module of ``layers`` (and nothing else of chainrule: the package root is a
    stand-in that imports nothing), run ``script``, and return the chainrule modules loaded."""
    program = textwrap.dedent(f"""
        import importlib, pkgutil, sys, types
        root = types.ModuleType("chainrule")
        root.__path__ = [{str(PACKAGE)!r}]
        sys.modules["chainrule"] = root
        for name in {sorted(layers)!r}:
            module = importlib.import_module("chainrule." + name)
            for info in pkgutil.walk_packages(getattr(module, "__path__", []), module.__name__
                                              + "."):
                importlib.import_module(info.name)
        """) + textwrap.dedent(script) + textwrap.dedent("""
        print(sorted({m.split(".")[1] for m in sys.modules if m.startswith("chainrule.")}))
        """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return set(ast.literal_eval(done.stdout.strip().splitlines()[-1]))


def test_the_lowest_layers_load_without_the_layers_above():
    for up_to in ("engine", "tensor", "ops"):
        index = [name for name, _ in LAYERS].index(up_to)
        allowed = {module for _, names in LAYERS[: index + 1] for module in names}
        loaded = _run_alone(set(LAYERS[index][1]) - {"__main__"})
        assert loaded <= allowed, f"{up_to} loads {sorted(loaded - allowed)}"


ENGINE_ALONE = """
    import numpy as np
    from chainrule import autograd
    from chainrule.tensor import Tensor

    class Scale(autograd.Function):
        # y = x * w with w broadcast; backward leaves dw unreduced and float32 for a float64 w,
        # so the engine must sum it to w's shape and cast it to w's dtype by itself
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return Tensor._from_array(x._data * w._data)

        @staticmethod
        def backward(ctx, dy):
            x, w = ctx.saved_tensors
            return Scale.apply(dy, w), Tensor._from_array((dy._data * x._data).astype("f4"))

    x = Tensor._from_array(np.arange(6.0).reshape(2, 3)).requires_grad_()
    w = Tensor._from_array(np.array([1.0, 2.0, 3.0])).requires_grad_()
    seen = []
    w.register_hook(lambda g: seen.append(g))
    h = Scale.apply(x, w)
    h.retain_grad()
    y = Scale.apply(h, w)
    ones = Tensor._from_array(np.ones((2, 3)))
    autograd.backward(y, ones, retain_graph=True)   # w used twice: its gradients are summed
    autograd.backward(y, ones, create_graph=True)   # and accumulated into .grad again
    assert np.allclose(x.grad._data, 2 * np.array([1.0, 4.0, 9.0]))
    assert np.allclose(w.grad._data, 2 * np.array([6.0, 20.0, 42.0]))
    assert w.grad._data.dtype == np.float64 and len(seen) == 2
    assert np.allclose(h.grad._data, 2 * np.array([1.0, 2.0, 3.0]))
    (gx,) = autograd.grad(Scale.apply(x, w), x, ones)
    assert np.allclose(gx._data, [[1.0, 2.0, 3.0]] * 2)
"""


def test_the_engine_and_tensor_layers_backpropagate_without_the_ops_layer():
    # Broadcast gradients summed back, dtypes cast back, gradients from several uses summed,
    # accumulation into .grad, hooks, retain_grad, create_graph and autograd.grad: everything
    # the engine does to gradients needs nothing that the ops attach to Tensor.
    loaded = _run_alone({"autograd", "tensor"}, ENGINE_ALONE)
    assert "ops" not in loaded
