"""Check analytic gradients against central finite differences, in float64."""

import numpy as np

from . import grad_mode


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _differentiable_outputs(fn, inputs):
    return [o for o in _as_tuple(fn(*inputs)) if hasattr(o, "_data") and o._data.dtype.kind == "f"]


def _checked_inputs(inputs):
    checked = [i for i, t in enumerate(inputs) if hasattr(t, "_data") and t.requires_grad]
    for i in checked:
        if inputs[i]._data.dtype != np.float64:
            raise ValueError(
                f"gradcheck needs float64 inputs for finite differences to be accurate, but "
                f"input {i} is {inputs[i].dtype}; pass it as x.double()"
            )
    return checked


@grad_mode.no_grad()  # the perturbed evaluations need no graph
def _numerical_jacobians(fn, inputs, position, eps):
    """One (output size x input size) matrix per output, by central differences."""
    array = inputs[position]._data  # perturbed in place, so non-contiguous inputs work too
    if not array.flags.writeable:
        raise ValueError(
            f"gradcheck perturbs input {position} in place, but its array is read-only (an "
            "expanded or broadcast view?); pass a copy, e.g. x.clone().detach().requires_grad_()"
        )
    columns = []
    for k in range(array.size):
        index = np.unravel_index(k, array.shape)
        original = array[index]
        array[index] = original + eps
        plus = [o._data.astype(np.float64).ravel() for o in _differentiable_outputs(fn, inputs)]
        array[index] = original - eps
        minus = [o._data.astype(np.float64).ravel() for o in _differentiable_outputs(fn, inputs)]
        array[index] = original
        columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_outputs = len(columns[0]) if columns else 0
    return [np.stack([c[j] for c in columns], axis=1) if columns else None
            for j in range(n_outputs)]


def _analytical_jacobians(fn, inputs, checked):
    """Per output, per checked input: the Jacobian, built row by row with ``autograd.grad``."""
    from . import grad as autograd_grad

    outputs = _differentiable_outputs(fn, inputs)
    jacobians = []
    for out in outputs:
        per_input = [np.zeros((out._data.size, inputs[i]._data.size)) for i in checked]
        if out.requires_grad:
            for row in range(out._data.size):
                seed = np.zeros(out._data.size, dtype=out._data.dtype)
                seed[row] = 1.0
                grads = autograd_grad(
                    out, [inputs[i] for i in checked],
                    grad_outputs=out._from_array(seed.reshape(out._data.shape)),
                    retain_graph=True, allow_unused=True,
                )
                for j, g in enumerate(grads):
                    if g is not None:
                        per_input[j][row] = g._data.reshape(-1)
        jacobians.append(per_input)
    return jacobians


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when every analytic gradient of ``fn`` at ``inputs`` matches finite differences.

    >>> x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    >>> chainrule.autograd.gradcheck(chainrule.tanh, (x,))
    True
    """
    inputs = _as_tuple(inputs)
    checked = _checked_inputs(inputs)
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    analytical = _analytical_jacobians(fn, inputs, checked)
    for j, position in enumerate(checked):
        numerical = _numerical_jacobians(fn, inputs, position, eps)
        for out_index, (num, per_input) in enumerate(zip(numerical, analytical)):
            ana = per_input[j]
            if not np.allclose(ana, num, atol=atol, rtol=rtol):
                worst = np.unravel_index(np.argmax(np.abs(ana - num)), ana.shape)
                message = (
                    f"Jacobian mismatch for output {out_index} with respect to input {position}: "
                    f"worst at (output element {worst[0]}, input element {worst[1]}): analytical "
                    f"{ana[worst]:.6g} vs numerical {num[worst]:.6g}\nanalytical:\n{ana}\n"
                    f"numerical:\n{num}"
                )
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0):
    """Check second derivatives: gradcheck of the vector-Jacobian product of ``fn``."""
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    checked = _checked_inputs(inputs)
    outputs = _differentiable_outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(
            o._from_array(rng.standard_normal(o._data.shape)).requires_grad_() for o in outputs
        )
    grad_outputs = _as_tuple(grad_outputs)
    n_inputs = len(inputs)

    @grad_mode.enable_grad()  # also when gradcheck evaluates it for finite differences
    def vjp(*args):
        primal, cotangents = args[:n_inputs], args[n_inputs:]
        outs = _differentiable_outputs(fn, primal)
        grads = autograd_grad(outs, [primal[i] for i in checked], grad_outputs=list(cotangents),
                              create_graph=True, allow_unused=True, materialize_grads=True)
        return grads

    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
