"""One registration per op: where its public function is reachable, and which graph nodes it
applies.

An op is a ``Function`` subclass (forward and backward side by side) and the public function
that applies it; one ``register`` line below them makes the function reachable where PyTorch
has it, as ``chainrule.X``, ``Tensor.X`` and ``chainrule.nn.functional.X``::

    class Exp(Function):
        ...

    def exp(input):
        return Exp.apply(input)

    register(exp, Exp)                   # chainrule.exp and Tensor.exp

The registry is also what the tests read: ``tests/ops/test_op_coverage.py`` fails when a
registered op has no row in an op table (``tests/opcheck.py``), when a ``Function`` class in
``chainrule.ops`` is applied by no registered op, and when an op is missing from a namespace
where PyTorch has it. Registering a class also vouches for it as a built-in op: its backward
returns arrays nobody else holds (see ``Function._builtin_op`` and the engine's ownership rule).
"""

from dataclasses import dataclass

from ..tensor import Tensor

# The namespaces an op can be reachable in, as PyTorch names them.
TOP, METHOD, FUNCTIONAL, SPECIAL = "chainrule", "Tensor", "nn.functional", "special"


@dataclass(frozen=True)
class Op:
    """A registered op: its name, public function, graph nodes, and where users reach it
    (namespace -> {name: the callable there}, aliases included)."""

    name: str
    function: object
    classes: tuple
    places: dict


OPS = {}  # name -> Op, in registration order


def register(function, *classes, name=None, aliases=(), top=True, method=True,
             functional=False, special=False, operators=(), reflected=()):
    """Register ``function`` (which applies the ``Function`` subclasses ``classes``).

    top: reachable as ``chainrule.<name>``.
    method: ``Tensor.<name>`` is the function itself (True), a callable of its own (when the
        method's arguments differ from the function's), or absent (False).
    functional: ``nn.functional.<name>`` is the function (True), a callable of its own (when
        the functional form takes other arguments, e.g. ``inplace=``), or absent (False).
    special: reachable as ``chainrule.special.<name>``.
    aliases: other names for the same op, reachable in the same namespaces.
    operators: Tensor operators that are this function (``"__add__"``); reflected: operators
        that are it with the operands swapped (``"__radd__"``: ``other + self``).
    """
    name = name or function.__name__
    if name in OPS:
        raise ValueError(f"op {name!r} is registered twice; register each op once")
    for cls in classes:
        cls._builtin_op = True
    names = (name, *aliases)
    places = {}
    if top:
        places[TOP] = dict.fromkeys(names, function)
    if method:
        places[METHOD] = dict.fromkeys(names, function if method is True else _named(method, name))
    if functional:
        form = function if functional is True else _named(functional, name)
        places[FUNCTIONAL] = dict.fromkeys(names, form)
    if special:
        places[SPECIAL] = dict.fromkeys(names, function)
    for attribute, value in places.get(METHOD, {}).items():
        setattr(Tensor, attribute, value)
    for operator in operators:
        setattr(Tensor, operator, function)
    for operator in reflected:
        setattr(Tensor, operator, _swapped(function, operator))
    OPS[name] = Op(name, function, classes, places)
    return function


def _named(form, name):
    """A method or functional form of its own shows the op's name (``F.relu.__name__``)."""
    if hasattr(form, "__code__"):
        form.__name__ = form.__qualname__ = name
    return form


def _swapped(function, operator):
    def reflected(self, other):
        return function(other, self)

    reflected.__name__ = operator
    reflected.__doc__ = f"``{function.__name__}(other, self)``: self on the right."
    return reflected


def register_in_place_forms(method_names, write):
    """Give the registered ops' methods ``method_names`` their in-place forms
    ``Tensor.<name>_``: the method's result written into the tensor by ``write(tensor,
    out_of_place, *others)`` (``inplace.modify_in_place``). The forms are places of their op
    (like aliases), so the reachability tests see them; forms with code of their own
    (``add_``, ``exp_`` ...) are registered as ops instead and are left alone here."""
    for op in OPS.values():
        methods = op.places.get(METHOD, {})
        for name, method in list(methods.items()):
            if name in method_names and not hasattr(Tensor, name + "_"):
                form = _in_place_form(method, name + "_", write)
                methods[name + "_"] = form
                setattr(Tensor, name + "_", form)


def _in_place_form(method, name, write):
    def in_place(self, *args, **kwargs):
        others = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        return write(self, lambda tensor: method(tensor, *args, **kwargs), *others)

    in_place.__name__ = in_place.__qualname__ = name
    in_place.__doc__ = f"In place: ``{name[:-1]}``'s result written into this tensor."
    return in_place


def namespace(place):
    """{name: callable} of every op reachable in ``place`` (TOP, METHOD, FUNCTIONAL, SPECIAL)."""
    return {name: value for op in OPS.values() for name, value in op.places.get(place, {}).items()}
