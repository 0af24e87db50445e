"""Linear layers, each followed by a pointwise activation or by none, as one graph node.

``nn.Sequential`` runs its runs of ``Linear`` layers (each alone, or followed by ``Tanh``,
``Sigmoid`` or ``ReLU``) through here when nothing can tell them from the modules run one by one
(see ``nn/modules/fusion.py``). The values and gradients are those of the separate ops, bit for
bit: the same array functions in the same order (each activation written over the product
before it, which nobody else holds), and in backward each activation's rule on its output,
then Linear's rule on arrays. Under ``create_graph`` the hidden values are computed again as
the separate ops, recorded, so that the gradients are differentiable in all they depend on.

NOTE: why one node: on a small network the per-op bookkeeping (a tensor, a node, an entry in
the backward sweep, a module call) costs more than the arithmetic. In the tiny workload
(16-16-16-1 tanh, batch 8) each activation cost 7.4 us a step, 1.25 of them in NumPy.
"""

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._operands import wrap, wrap_each
from .nn_linear import Linear, _fits, affine_array, backward_arrays, backward_tensors, linear
from .registry import register


class LinearChain(Function):
    """h_0 = x,  h_i = act_i(h_{i-1} W_i^T + b_i)  (no act_i: the identity),  y = h_n.
    Backward from dh_n = dy, layer by layer: dz_i = act_i'(h_i) dh_i (the activation's rule on
    its output), dh_{i-1} = dz_i W_i,  dW_i = dz_i^T h_{i-1},  db_i = dz_i summed over the
    leading dims. Inputs: x, then each layer's weight and bias (None for a layer without one);
    ``activations``: per layer, ``Tanh``, ``Sigmoid`` or ``Relu`` (ops whose gradient is a
    function of their output), or None."""

    _array_forward = True
    _transient = ("hidden",)

    @staticmethod
    def forward(ctx, x, *parameters, activations):
        ctx.activations = activations
        h = x._data
        hidden = [h]
        for layer, activation in enumerate(activations):
            bias = parameters[2 * layer + 1]
            h = affine_array(h, parameters[2 * layer]._data, None if bias is None else bias._data)
            if activation is not None:
                h = activation.output_array(h)  # (over the product: nobody else holds it)
            hidden.append(h)
        ctx.hidden = hidden
        y = wrap(h)
        # The output's value is needed by the last activation's rule: writing into it in place
        # before backward is then the error it is for the activation alone.
        last = (y,) if activations[-1] is not None else ()
        ctx.save_for_backward(x, *parameters, *last)
        return y

    @property
    def fused_ops(self):
        """The ops this node stands for, in forward order (drawn by diagnostics.draw_graph)."""
        names = []
        for activation in self.activations:
            names += ["Linear"] if activation is None else ["Linear", activation.__name__]
        return tuple(names)

    @staticmethod
    def backward(ctx, grad_out):
        if not grad_mode.is_grad_enabled():
            return wrap_each(LinearChain._array_backward(ctx, grad_out._data))
        saved, activations = ctx.saved_tensors, ctx.activations
        # the hidden values again, as the ops they are, recorded (create_graph)
        hidden = [saved[0]]
        for layer, activation in enumerate(activations):
            h = Linear.apply(hidden[-1], saved[1 + 2 * layer], saved[2 + 2 * layer])
            hidden.append(h if activation is None else activation.apply(h))
        weights = [saved[1 + 2 * layer] for layer in range(len(activations))]
        return _chain_rule(ctx, grad_out, hidden, weights, backward_tensors, "input_gradient")

    @staticmethod
    def _array_backward(ctx, grad):
        saved = ctx.saved_tensors  # (checks that none was written in place since)
        weights = [saved[1 + 2 * layer]._data for layer in range(len(ctx.activations))]
        return _chain_rule(ctx, grad, ctx.hidden, weights, backward_arrays,
                           "input_gradient_array")


def _chain_rule(ctx, grad, hidden, weights, linear_rule, activation_rule):
    """The gradients of x and of every layer's weight and bias, from the output's ``grad``,
    through ``hidden`` (h_0 .. h_n), with Linear's rule and the activations' (by name): on
    arrays or on tensors alike."""
    needs, activations = ctx.needs_input_grad, ctx.activations
    grads = [None] * len(needs)
    for layer in range(len(activations) - 1, -1, -1):
        activation = activations[layer]
        if activation is not None:
            grad = getattr(activation, activation_rule)(grad, hidden[layer + 1])
        first = 1 + 2 * layer
        needs_below = True in needs[:first]  # x, or a layer before this one
        grad, grads[first], grads[first + 1] = linear_rule(
            hidden[layer], weights[layer], grad, needs_below, needs[first], needs[first + 1])
        if not needs_below:
            break
    grads[0] = grad if needs[0] else None
    return tuple(grads)


def linear_chain(input, layers, activations):
    """``input`` through ``layers`` ((weight, bias), ...), each followed by its activation op
    (or None): ``F.linear`` and the activations one after the other, as one node; the
    separate ops for an input they refuse, so that their errors explain it. Not a PyTorch
    function: ``nn.Sequential`` calls it (nn/modules/fusion.py)."""
    if not chain_fits(input, layers):  # the separate ops, which explain what does not fit
        for (weight, bias), activation in zip(layers, activations):
            input = linear(input, weight, bias)
            input = input if activation is None else activation.apply(input)
        return input
    return LinearChain.apply(input, *[t for layer in layers for t in layer],
                             activations=tuple(activations))


def chain_fits(input, layers):
    """Whether ``input`` flows through every layer as ``F.linear`` takes it, without a cast."""
    weight, bias = layers[0]
    if not _fits(input, weight, bias):
        return False
    dtype, width = input._data.dtype, weight._data.shape[0]
    for weight, bias in layers[1:]:
        if not isinstance(weight, Tensor):
            return False
        w = weight._data
        if len(w.shape) != 2 or w.dtype != dtype or w.shape[1] != width:
            return False
        if bias is not None and not (isinstance(bias, Tensor) and bias._data.dtype == dtype
                                     and bias._data.shape == w.shape[:1]):
            return False
        width = w.shape[0]
    return True


register(linear_chain, LinearChain, top=False, method=False)
