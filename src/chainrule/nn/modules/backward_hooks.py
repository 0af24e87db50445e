"""Module backward hooks (``register_full_backward_hook``, ``register_full_backward_pre_hook``).

A module call with such hooks wraps its tensor inputs and its tensor outputs in one identity
node each (``_BackwardHookIdentity``); backward reaches the output node first, which gives
the hooks the gradients of the outputs, then the input node, which gives them the gradients
of the inputs. What the hooks return replaces those gradients: the identity node is not a
built-in op, so the engine treats its gradients as user code's (the ownership rule)."""

from ...autograd import grad_mode
from ...autograd.function import Function
from ...tensor import Tensor


class _BackwardHookIdentity(Function):
    """y_i = x_i for every tensor;  dx_i = dy_i, after the module's backward hooks see them.

    Applied once to a module's tensor inputs and once to its outputs, so the two nodes see
    the gradients with respect to exactly those tensors."""

    @staticmethod
    def forward(ctx, *tensors, state, side):
        ctx.state, ctx.side = state, side
        ctx.set_materialize_grads(False)
        return tuple(Tensor._from_array(t._data) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        if ctx.side == "output":
            return ctx.state.on_grad_outputs(grads)
        return ctx.state.on_grad_inputs(grads)


class BackwardHookState:
    """Carries the gradients of one call's outputs to the hooks that fire at its inputs."""

    def __init__(self, module):
        self.module = module
        self.n_inputs = 0
        self.inputs_tracked = False
        self.grad_outputs = None

    def wrap_inputs(self, args):
        tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(tensor_positions)
        # slot in grad_input of every input that needs a gradient; the others get None
        self.tracked_slots = [slot for slot, i in enumerate(tensor_positions)
                              if args[i].requires_grad]
        self.inputs_tracked = grad_mode.is_grad_enabled() and bool(self.tracked_slots)
        if not self.inputs_tracked:
            return args
        positions = [tensor_positions[slot] for slot in self.tracked_slots]
        wrapped = _BackwardHookIdentity.apply(*(args[i] for i in positions), state=self,
                                              side="input")
        args = list(args)
        for position, tensor in zip(positions, wrapped):
            args[position] = tensor
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        outputs = (output,) if single else output
        if not isinstance(outputs, tuple) or not all(isinstance(o, Tensor) for o in outputs):
            return output  # hooks see only tensor outputs, as a tuple of tensors
        if not any(o.requires_grad for o in outputs) or not grad_mode.is_grad_enabled():
            return output
        wrapped = _BackwardHookIdentity.apply(*outputs, state=self, side="output")
        return wrapped[0] if single else wrapped

    def on_grad_outputs(self, grads):
        module = self.module
        for hook in list(module._backward_pre_hooks.values()):
            result = hook(module, grads)
            if result is not None:
                grads = tuple(result)
        self.grad_outputs = grads
        if not self.inputs_tracked:
            # No input needs a gradient: the hooks fire now, with None for every input.
            self._run_hooks((None,) * self.n_inputs)
        return grads

    def on_grad_inputs(self, grads):
        grad_input = [None] * self.n_inputs
        for slot, grad in zip(self.tracked_slots, grads):
            grad_input[slot] = grad
        grad_input = self._run_hooks(tuple(grad_input))
        return tuple(grad_input[slot] for slot in self.tracked_slots)

    def _run_hooks(self, grad_input):
        module = self.module
        for hook in list(module._backward_hooks.values()):
            result = hook(module, grad_input, self.grad_outputs)
            if result is not None:
                if len(result) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook returned {len(result)} gradients, but the module has "
                        f"{len(grad_input)} tensor inputs; return one per input"
                    )
                grad_input = tuple(result)
        return grad_input
