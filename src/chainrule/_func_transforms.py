"""The ``torch.func`` transforms beyond ``grad``: ``jacrev``, ``jacfwd``, ``hessian``, ``vjp``,
``jvp`` and ``grad_and_value``, over functions whose arguments and results are tensors or
tuples/lists/dicts of them. Transforms nest (``jacrev(jacrev(f))``); when an argument already
takes part in an outer graph, the results stay differentiable with respect to it. The
computations are ``_jacobians``' (reverse mode throughout)."""

import functools

from . import _jacobians as J
from ._grad import value_and_grad
from ._transforms import Traced, argument_positions, detach_all, flatten
from .autograd import grad_mode
from .tensor import Tensor


class _Traced(Traced):
    """``Traced``, with func's result split into output and aux and the output's tensors
    flattened (``outputs``, ``rebuild_output``)."""

    def __init__(self, name, func, args, kwargs, positions, has_aux, argnums=None):
        super().__init__(name, func, args, kwargs, positions,
                         positions if argnums is None else argnums)
        result = self.result
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{name}(f, has_aux=True): f must return a tuple (output, "
                                   f"aux), got {type(result).__name__}")
            result, self.aux = result
        else:
            self.aux = None
        self.output = result
        self.outputs, self.rebuild_output = flatten(result, None)
        if not self.outputs or (not isinstance(result, Tensor) and len(self.outputs) != len(
                _leaves(result))):
            raise RuntimeError(f"{name}: the function must return a tensor or a tuple, list or "
                               f"dict of tensors, got {type(result).__name__}")


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """A function computing the Jacobian of ``func`` with respect to the arguments at
    ``argnums``: for each output, a tensor of shape output.shape + argument.shape (tuples or
    dicts of them, following the outputs' and arguments' structure).

    >>> chainrule.func.jacrev(chainrule.sin)(chainrule.tensor([0.0, 1.0]))
    tensor([[1.0000, 0.0000],
            [0.0000, 0.5403]])
    """
    positions = argument_positions(argnums)
    single = not isinstance(argnums, tuple)

    @functools.wraps(func)
    def jacobian_of_func(*args, **kwargs):
        traced = _Traced("jacrev", func, args, kwargs, positions, has_aux, argnums)
        with grad_mode.enable_grad():
            blocks = J.jacobian_blocks(traced.outputs, traced.inputs, traced.create_graph)
        jac = traced.rebuild_output([traced.per_argument(row, single) for row in blocks])
        jac = traced.finish(jac)
        return (jac, traced.finish(traced.aux)) if has_aux else jac

    return jacobian_of_func


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """``jacrev``'s Jacobian (computed in reverse mode; the values are forward mode's)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: ``jacfwd(jacrev(func, argnums), argnums)``."""
    return jacfwd(jacrev(func, argnums), argnums)


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn) (and aux): ``vjp_fn(cotangents)`` gives the tuple of
    cotangents^T d func / d primal, one per primal, each shaped as its primal."""
    traced = _Traced("vjp", func, primals, {}, tuple(range(len(primals))), has_aux)

    def vjp_fn(*cotangents):
        given = cotangents[0] if len(cotangents) == 1 else cotangents
        vectors, _ = flatten(given, "cotangents")
        if len(vectors) != len(traced.outputs) or any(
                tuple(v.shape) != tuple(o.shape) for v, o in zip(vectors, traced.outputs)):
            raise RuntimeError("vjp_fn: the cotangents must have the output's structure and "
                               f"shapes {[tuple(o.shape) for o in traced.outputs]}")
        with grad_mode.enable_grad():
            pulled = J.vector_jacobian(traced.outputs, traced.inputs, vectors,
                                       traced.create_graph)
        return traced.finish(traced.per_argument(pulled, single=False))

    output = traced.finish(traced.output)
    return (output, vjp_fn, traced.finish(traced.aux)) if has_aux else (output, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian of func at primals applied to tangents) (and aux)."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be "
                           "tuples")
    traced = _Traced("jvp", func, primals, {}, tuple(range(len(primals))), has_aux)
    vectors, _ = flatten(tangents, "tangents")
    if len(vectors) != len(traced.inputs) or any(
            tuple(v.shape) != tuple(x.shape) for v, x in zip(vectors, traced.inputs)):
        raise RuntimeError("jvp(f, primals, tangents): Expected tangents to have the same "
                           "structure and shapes as primals")
    pushed = J.jacobian_vector(traced.outputs, traced.inputs, list(vectors),
                               traced.create_graph, strict)
    output = traced.finish(traced.output)
    result = traced.finish(traced.rebuild_output(pushed))
    return (output, result, traced.finish(traced.aux)) if has_aux else (output, result)


def grad_and_value(func, argnums=0, has_aux=False):
    """Like ``grad``, returning ``(gradient, value)`` (with ``has_aux``:
    ``(gradient, (value, aux))``), computing ``func`` once."""
    both = value_and_grad(func, argnums, has_aux)

    @functools.wraps(func)
    def gradient_and_value_of_func(*args, **kwargs):
        value, gradients = both(*args, **kwargs)
        return gradients, value

    return gradient_and_value_of_func


def linearize(func, *primals):
    """(func(*primals), jvp_fn): ``jvp_fn(*tangents)`` is the Jacobian at primals applied to
    the tangents (``jvp`` with the function evaluated once). As in PyTorch, the linearization
    point is fixed: jvp_fn's result depends on the tangents only (not differentiably on the
    primals)."""
    fixed = tuple(detach_all(p) for p in primals)
    traced = _Traced("linearize", func, fixed, {}, tuple(range(len(primals))), False)

    def jvp_fn(*tangents):
        vectors, _ = flatten(tangents, "tangents")
        if len(vectors) != len(traced.inputs) or any(
                tuple(v.shape) != tuple(x.shape) for v, x in zip(vectors, traced.inputs)):
            raise RuntimeError("linearize: jvp_fn expects tangents with the primals' structure "
                               f"and shapes {[tuple(x.shape) for x in traced.inputs]}")
        keep = traced.create_graph or (grad_mode.is_grad_enabled()
                                       and any(v.requires_grad for v in vectors))
        pushed = J.jacobian_vector(traced.outputs, traced.inputs, list(vectors), keep)
        result = traced.rebuild_output(pushed)
        return result if keep else detach_all(result)

    return traced.finish(traced.output), jvp_fn
