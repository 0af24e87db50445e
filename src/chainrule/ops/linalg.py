"""Matrix products: ``matmul`` (and its strict forms ``mm``, ``bmm``, ``dot``), ``outer`` and
``einsum``. The work goes to BLAS through NumPy; each gradient is another product of the same
kind, so gradients of gradients come for free."""

import string

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..kernels.threads import blas_matmul
from ._operands import as_tensor_arg, wrap
from .registry import register


def _shapes_error(op, a, b, problem):
    return RuntimeError(
        f"{op}: cannot multiply shapes {tuple(a.shape)} and {tuple(b.shape)}: {problem}"
    )


def _check_matmul(op, a, b):
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise _shapes_error(op, a, b, "both arguments need at least 1 dimension; use * to "
                                      "multiply by a scalar")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"{op}: expected both operands to have the same dtype, but got {a.dtype} and "
            f"{b.dtype}; convert one, e.g. b.to(a.dtype)"
        )
    inner_a = a._data.shape[-1]
    inner_b = b._data.shape[-2] if b._data.ndim > 1 else b._data.shape[0]
    if inner_a != inner_b:
        raise _shapes_error(op, a, b, f"the inner sizes differ ({inner_a} != {inner_b})")
    if a._data.ndim <= 2 and b._data.ndim <= 2:
        return  # no batch dims to broadcast (the common case; broadcast_shapes costs ~5 us)
    try:
        np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
    except ValueError:
        raise _shapes_error(op, a, b, "the batch dimensions cannot be broadcast together") \
            from None


class MatMul(Function):
    """z = a @ b (1-D operands act as a row / column vector, batch dims broadcast);
    da = dz @ b^T,  db = a^T @ dz."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return wrap(np.asarray(blas_matmul(a._data, b._data)))

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        if not grad_mode.is_grad_enabled():
            # NOTE: without create_graph nobody differentiates these gradients: compute them on
            # arrays (BLAS calls, no intermediate tensors); the tensor path below, which records
            # under create_graph=True, gives the same values.
            needs_a, needs_b = ctx.needs_input_grad
            return _backward_arrays(a._data, b._data, grad_out._data, needs_a, needs_b)
        # Work on matrices: a 1-D a is a (1, k) row, a 1-D b a (k, 1) column.
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        grad = grad_out
        if a.ndim == 1:
            grad = grad.unsqueeze(-2 if b.ndim > 1 else 0)
        if b.ndim == 1:
            grad = grad.unsqueeze(-1)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = matmul(grad, b2.mT)
            grad_a = grad_a.squeeze(-2) if a.ndim == 1 else grad_a
        if ctx.needs_input_grad[1]:
            grad_b = matmul(a2.mT, grad)
            grad_b = grad_b.squeeze(-1) if b.ndim == 1 else grad_b
        return grad_a, grad_b  # the engine sums over broadcast batch dims


def _backward_arrays(a, b, grad, needs_a, needs_b):
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    a2 = a[None, :] if a_vector else a
    b2 = b[:, None] if b_vector else b
    if a_vector:
        grad = np.expand_dims(grad, -2 if not b_vector else 0)
    if b_vector:
        grad = grad[..., None]
    if b2.ndim == 2 and a2.ndim > 2:
        # A stack of matrices times one matrix is one GEMM over the stacked rows (far faster in
        # BLAS than a batched product), and db needs no sum over the batch afterwards.
        rows, grad_rows = a2.reshape(-1, a2.shape[-1]), grad.reshape(-1, grad.shape[-1])
        grad_a = _times_transposed(grad_rows, b2).reshape(a2.shape) if needs_a else None
        grad_b = _transposed_times(rows, grad_rows) if needs_b else None
    elif a2.ndim == 2 and b2.ndim == 2:
        grad_a = _times_transposed(grad, b2) if needs_a else None
        grad_b = _transposed_times(a2, grad) if needs_b else None
    else:
        grad_a = blas_matmul(grad, np.swapaxes(b2, -1, -2)) if needs_a else None
        grad_b = blas_matmul(np.swapaxes(a2, -1, -2), grad) if needs_b else None
    if grad_a is not None:
        grad_a = wrap(np.asarray(grad_a[..., 0, :] if a_vector else grad_a))
    if grad_b is not None:
        grad_b = wrap(np.asarray(grad_b[..., 0] if b_vector else grad_b))
    return grad_a, grad_b  # the engine sums over broadcast batch dims


# With the inner dimension the longest one, OpenBLAS (2 threads) was measured up to 25x slower
# for one orientation of the same product than for its transpose: x @ y^T is fast when x has at
# least as many rows as y, x^T @ y when x has at most as many columns as y.
def _times_transposed(x, y):
    """x @ y^T for matrices."""
    if y.shape[0] > x.shape[0] and x.shape[1] > max(x.shape[0], y.shape[0]):
        return blas_matmul(y, x.T).T
    return blas_matmul(x, y.T)


def _transposed_times(x, y):
    """x^T @ y for matrices."""
    if x.shape[1] > y.shape[1] and x.shape[0] > max(x.shape[1], y.shape[1]):
        return blas_matmul(y.T, x).T
    return blas_matmul(x.T, y)


def matmul(input, other):
    """Matrix product with PyTorch's rules for 1-D operands and broadcast batch dims."""
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    _check_matmul("matmul", a, b)
    return MatMul.apply(a, b)


def _check_ndim(op, a, b, ndim):
    if a._data.ndim != ndim or b._data.ndim != ndim:
        raise _shapes_error(op, a, b, f"{op} expects two {ndim}-D tensors")


def mm(input, mat2):
    """Product of two matrices."""
    _check_ndim("mm", input, mat2, 2)
    _check_matmul("mm", input, mat2)
    return MatMul.apply(input, mat2)


def bmm(input, mat2):
    """Batched product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    _check_ndim("bmm", input, mat2, 3)
    if input._data.shape[0] != mat2._data.shape[0]:
        raise _shapes_error("bmm", input, mat2, "the batch sizes differ")
    _check_matmul("bmm", input, mat2)
    return MatMul.apply(input, mat2)


def dot(input, other):
    """Inner product of two 1-D tensors of the same length."""
    _check_ndim("dot", input, other, 1)
    _check_matmul("dot", input, other)
    return MatMul.apply(input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors: out[i, j] = input[i] * vec2[j]."""
    _check_ndim("outer", input, vec2, 1)
    return input.unsqueeze(1) * vec2.unsqueeze(0)




# -- einsum ------------------------------------------------------------------------------------
class Einsum(Function):
    """z = einsum(equation, *operands) (explicit, no ellipsis);  d operand_i =
    einsum(z's subscripts and the other operands' -> operand_i's subscripts) of dz. Labels that
    only operand_i has are summed in forward, so dz is broadcast over them; a label repeated in
    operand_i (a diagonal) gets dz on the diagonal and 0 off it."""

    @staticmethod
    def forward(ctx, *operands, equation):
        ctx.save_for_backward(*operands)
        ctx.equation = equation
        try:
            return wrap(np.asarray(np.einsum(equation, *[o._data for o in operands],
                                             optimize=True)))
        except ValueError as error:
            shapes = ", ".join(str(tuple(o.shape)) for o in operands)
            raise RuntimeError(
                f"einsum(): {equation!r} does not fit the operand shapes {shapes}: {error}"
            ) from None

    @staticmethod
    def backward(ctx, grad_out):
        operands = ctx.saved_tensors
        inputs, output = ctx.equation.split("->")
        inputs = inputs.split(",")
        grads = []
        for i, (labels, operand) in enumerate(zip(inputs, operands)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(operands) if j != i]
            other_labels = [s for j, s in enumerate(inputs) if j != i]
            grads.append(_einsum_operand_grad(grad_out, output, others, other_labels, labels,
                                              operand.shape))
        return tuple(grads)


def _einsum_operand_grad(grad_out, output, others, other_labels, labels, shape):
    distinct = list(dict.fromkeys(labels))
    available = set(output).union(*other_labels)
    wanted = [c for c in distinct if c in available]
    grad = einsum(",".join([output, *other_labels]) + "->" + "".join(wanted), grad_out, *others)
    if len(wanted) < len(distinct):
        # Labels summed in forward by this operand alone: the gradient is constant along them.
        sizes = dict(zip(labels, shape)) | dict(zip(wanted, grad.shape))
        grad = grad.reshape([sizes[c] if c in available else 1 for c in distinct])
        grad = grad.expand([sizes[c] for c in distinct])
    if len(distinct) == len(labels):
        return grad
    # A repeated label (a diagonal such as "ii"): put the gradient on the diagonal only.
    first = {c: labels.index(c) for c in distinct}
    grad = grad.reshape([grad.shape[distinct.index(c)] if first[c] == k else 1
                         for k, c in enumerate(labels)])
    index = np.indices(shape, sparse=True)
    on_diagonal = np.ones(shape, dtype=bool)
    for k, c in enumerate(labels):
        on_diagonal = on_diagonal & (index[k] == index[first[c]])
    return grad * wrap(on_diagonal.astype(grad._data.dtype))


def _explicit_equation(equation, operands):
    """The equation with '...' replaced by letters and the output written out (the implicit
    form's output: the ellipsis, then the labels used once, in alphabetical order)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(operands):
        raise ValueError(
            f"einsum(): the equation {equation!r} names {len(inputs)} operands but "
            f"{len(operands)} were given"
        )
    for labels in inputs + [output]:
        bad = set(labels.replace("...", "")) - set(string.ascii_letters)
        if bad:
            raise ValueError(
                f"einsum(): invalid subscript(s) {sorted(bad)} in {equation!r}; use letters "
                "a-z, A-Z and '...'"
            )
    unused = [c for c in string.ascii_letters if c not in equation]
    rank = max(
        (o.ndim - len(s.replace("...", "")) for s, o in zip(inputs, operands) if "..." in s),
        default=0,
    )
    ellipsis = "".join(unused[:rank])
    expanded = []
    for labels, operand in zip(inputs, operands):
        if "..." in labels:
            own = operand.ndim - len(labels.replace("...", ""))
            labels = labels.replace("...", ellipsis[rank - own:] if own > 0 else "")
        if len(labels) != operand.ndim:
            raise RuntimeError(
                f"einsum(): the subscripts {labels!r} have {len(labels)} labels but the operand "
                f"has shape {tuple(operand.shape)}"
            )
        expanded.append(labels)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        counts = "".join(expanded)
        output = ellipsis + "".join(
            sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ellipsis)
        )
    return ",".join(expanded) + "->" + output


def _sublist_equation(arguments):
    """PyTorch's sublist format, ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (dims labelled by ints
    below 52, ``...`` as Ellipsis), as (equation, operands)."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def labels(sublist):
        text = ""
        for label in sublist:
            if label is Ellipsis:
                text += "..."
            elif isinstance(label, (int, np.integer)) and 0 <= label < len(letters):
                text += letters[label]
            else:
                raise ValueError(f"einsum(): subscript in a sublist must be Ellipsis or an int "
                                 f"in [0, 52), got {label!r}")
        return text

    arguments = list(arguments)
    output = labels(arguments.pop()) if len(arguments) % 2 else None
    operands, inputs = arguments[0::2], [labels(sub) for sub in arguments[1::2]]
    equation = ",".join(inputs) + ("" if output is None else "->" + output)
    return equation, operands


def einsum(equation, *operands):
    """Sum of products over the labelled dims, e.g. ``einsum('bij,bjk->bik', a, b)``, or in
    PyTorch's sublist format, ``einsum(a, [0, 1, 2], b, [0, 2, 3], [0, 1, 3])``."""
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = tuple(as_tensor_arg(o) for o in operands)
    return Einsum.apply(*operands, equation=_explicit_equation(equation, operands))


# -- registration: chainrule.X and Tensor.X, unless stated otherwise ---------------------------
register(matmul, MatMul, operators=("__matmul__",), reflected=("__rmatmul__",))
register(mm, MatMul)
register(bmm, MatMul)
register(dot, MatMul)
register(outer, aliases=("ger",))
register(einsum, Einsum, method=False)
