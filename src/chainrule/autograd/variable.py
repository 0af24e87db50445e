"""``torch.autograd.Variable``: since PyTorch 0.4 every tensor is a Variable; ``Variable(t)``
gives ``t``'s values outside the graph (shared memory) with the ``requires_grad`` asked for."""

from .function import TensorBase

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, TensorBase)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False, volatile=False)`` (``volatile`` is ignored, as
    in PyTorch >= 0.4)."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, TensorBase):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
