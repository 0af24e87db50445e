"""Jacobians, Hessians and Jacobian-vector products, as ``torch.autograd.functional`` offers
them (reachable at that path) and as the ``torch.func`` transforms ``jacrev``, ``jacfwd``,
``hessian``, ``vjp`` and ``jvp`` use them.

Everything runs in reverse mode: a Jacobian is one backward pass per output element (with a
one-hot gradient), a Jacobian-vector product is the "double backward" trick (the vjp with a
dummy cotangent u is linear in u; differentiating it by u in the direction v gives J v). So
``jacfwd`` and ``jvp`` give forward mode's values, at reverse mode's cost, and need every op on
the way to be twice differentiable (the recurrent and CTC ops are not)."""

import numpy as np

from .autograd import grad as autograd_grad
from .autograd import grad_mode
from .ops.join import stack
from .tensor import Tensor


def jacobian_blocks(outputs, inputs, create_graph, strict=False):
    """[[d outputs[i] / d inputs[j], of shape out.shape + in.shape]] by one backward pass per
    output element."""
    blocks = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        for k in range(out.numel()):
            grads = [None] * len(inputs)
            if out.requires_grad:
                one_hot = np.zeros(out._data.size, dtype=out._data.dtype)
                one_hot[k] = 1
                grads = autograd_grad(out, inputs, Tensor._from_array(one_hot.reshape(out.shape)),
                                      retain_graph=True, create_graph=create_graph,
                                      allow_unused=True)
            for j, g in enumerate(grads):
                if g is None and strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent "
                                       f"of input {j}. This is not allowed in strict mode.")
                rows[j].append(g if g is not None else inputs[j].new_zeros(inputs[j].shape))
        blocks.append([stack(r).reshape(tuple(out.shape) + tuple(x.shape)) if r
                       else x.new_zeros(tuple(out.shape) + tuple(x.shape))
                       for r, x in zip(rows, inputs)])
    return blocks


def vector_jacobian(outputs, inputs, cotangents, create_graph, strict=False):
    """sum_i cotangents[i]^T d outputs[i] / d inputs[j], for each input j."""
    live = [(o, v) for o, v in zip(outputs, cotangents) if o.requires_grad]
    grads = [None] * len(inputs)
    if live:
        grads = autograd_grad([o for o, _ in live], inputs, [v for _, v in live],
                              retain_graph=True, create_graph=create_graph, allow_unused=True)
    for j, g in enumerate(grads):
        if g is None and strict:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {j}. This is not allowed in strict mode.")
    return [g if g is not None else x.new_zeros(x.shape) for g, x in zip(grads, inputs)]


def jacobian_vector(outputs, inputs, tangents, create_graph, strict=False):
    """d outputs[i] / d inputs . tangents, by differentiating the vjp with respect to a dummy
    cotangent in the direction of the tangents."""
    dummies = [o.new_zeros(o.shape).requires_grad_() for o in outputs]
    with grad_mode.enable_grad():
        pulled = vector_jacobian(outputs, inputs, dummies, create_graph=True, strict=strict)
        live = [(p, t) for p, t in zip(pulled, tangents) if p.requires_grad]
        if not live:
            return [o.new_zeros(o.shape) for o in outputs]
        results = autograd_grad([p for p, _ in live], dummies, [t for _, t in live],
                                retain_graph=True, create_graph=create_graph, allow_unused=True)
    return [r if r is not None else o.new_zeros(o.shape) for r, o in zip(results, outputs)]


# -- torch.autograd.functional -------------------------------------------------------------------
def _as_tuple(value, what, fn_name):
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for position, item in enumerate(items):
        if not isinstance(item, Tensor):
            kind = "outputs of the user-provided function" if what == "outputs" else what
            raise TypeError(
                f"The {kind} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but the value at index {position} has type {type(item)}."
            )
    return is_tuple, items


def _prepare_inputs(inputs, create_graph, fn_name):
    is_tuple, items = _as_tuple(inputs, "inputs", fn_name)
    handles = []
    for x in items:
        if create_graph and x.requires_grad:
            handles.append(x.view_as(x))  # stays connected to the caller's graph
        else:
            handles.append(x.detach().requires_grad_(x.is_floating_point()))
    return is_tuple, handles


def _call(func, inputs, fn_name):
    with grad_mode.enable_grad():
        out = func(*inputs)
    return _as_tuple(out, "outputs", fn_name)


def _finish(items, is_tuple, create_graph):
    items = tuple(x if create_graph else x.detach() for x in items)
    return items if is_tuple else items[0]


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: a tensor of shape output.shape + input.shape,
    or tuples of them (over outputs, then inputs) when either is a tuple. ``vectorize`` and
    ``strategy`` are accepted; the values are the same either way."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         f"Got {strategy}.")
    inputs_tuple, handles = _prepare_inputs(inputs, create_graph, "jacobian")
    outputs_tuple, outputs = _call(func, handles, "jacobian")
    with grad_mode.enable_grad():
        blocks = jacobian_blocks(outputs, handles, create_graph, strict)
    rows = [_finish(row, inputs_tuple, create_graph) for row in blocks]
    return tuple(rows) if outputs_tuple else rows[0]


def _single_scalar(outputs_tuple, outputs, fn_name):
    if outputs_tuple or len(outputs) != 1:
        raise RuntimeError(f"The function given in {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: shape input.shape + input.shape, or a tuple of tuples
    of the blocks for a tuple of inputs."""
    inputs_tuple, handles = _prepare_inputs(inputs, create_graph, "hessian")

    def gradient(*xs):
        outputs_tuple, outputs = _call(func, xs, "hessian")
        _single_scalar(outputs_tuple, outputs, "hessian")
        return tuple(vector_jacobian(outputs, list(xs), [outputs[0].new_ones(outputs[0].shape)],
                                     create_graph=True, strict=strict))

    with grad_mode.enable_grad():
        blocks = jacobian_blocks(list(gradient(*handles)), handles, create_graph, strict)
    rows = tuple(_finish(row, inputs_tuple, create_graph) for row in blocks)
    return rows if inputs_tuple else rows[0]


def _vectors(v, like, fn_name, what):
    """``v`` as a tuple matching ``like`` (None allowed only for one single-element tensor)."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {what} to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        return (like[0].new_ones(like[0].shape),)
    _, items = _as_tuple(v, "v", fn_name)
    if len(items) != len(like) or any(tuple(a.shape) != tuple(b.shape)
                                     for a, b in zip(items, like)):
        raise RuntimeError(f"{fn_name}: v has shapes {[tuple(a.shape) for a in items]} but "
                           f"must have the {what}'s {[tuple(b.shape) for b in like]}")
    return items


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product."""
    inputs_tuple, handles = _prepare_inputs(inputs, create_graph, "vjp")
    outputs_tuple, outputs = _call(func, handles, "vjp")
    vectors = _vectors(v, outputs, "vjp", "output")
    with grad_mode.enable_grad():
        pulled = vector_jacobian(outputs, handles, vectors, create_graph, strict)
    return (_finish(outputs, outputs_tuple, create_graph),
            _finish(pulled, inputs_tuple, create_graph))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product."""
    inputs_tuple, handles = _prepare_inputs(inputs, create_graph, "jvp")
    vectors = _vectors(v, handles, "jvp", "input")
    outputs_tuple, outputs = _call(func, handles, "jvp")
    pushed = jacobian_vector(outputs, handles, vectors, create_graph, strict)
    return (_finish(outputs, outputs_tuple, create_graph),
            _finish(pushed, outputs_tuple, create_graph))


def _hessian_vector(func, inputs, v, create_graph, strict, fn_name):
    inputs_tuple, handles = _prepare_inputs(inputs, create_graph, fn_name)
    vectors = _vectors(v, handles, fn_name, "input")
    outputs_tuple, outputs = _call(func, handles, fn_name)
    _single_scalar(outputs_tuple, outputs, fn_name)
    with grad_mode.enable_grad():
        gradient = vector_jacobian(outputs, handles, [outputs[0].new_ones(outputs[0].shape)],
                                   create_graph=True, strict=strict)
        # the Hessian is symmetric: v^T H and H v are the same vector
        product = vector_jacobian(gradient, handles, vectors, create_graph, strict)
    return (_finish(outputs, False, create_graph), _finish(product, inputs_tuple, create_graph))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar ``func``."""
    return _hessian_vector(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar ``func``."""
    return _hessian_vector(func, inputs, v, create_graph, strict, "hvp")
