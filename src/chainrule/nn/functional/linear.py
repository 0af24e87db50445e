"""``bilinear``, built from the fused ``linear`` (``chainrule.ops.nn_linear``)."""

from ...ops.nn_linear import linear
from ...ops.registry import register
from ...tensor import Tensor


def bilinear(input1, input2, weight, bias=None):
    """y_k = input1^T weight_k input2 + bias_k, for inputs of shapes (..., in1) and (..., in2)
    and weight of shape (out, in1, in2)."""
    for name, value in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"bilinear(): {name} must be a Tensor, got {type(value).__name__}")
    if weight.ndim != 3:
        raise RuntimeError(
            f"bilinear(): weight must be 3-D (out, in1, in2), got shape {tuple(weight.shape)}"
        )
    out_features, in1, in2 = weight.shape
    if (input1.ndim == 0 or input2.ndim == 0 or input1.shape[-1] != in1
            or input2.shape[-1] != in2 or input1.shape[:-1] != input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear(): inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} do "
            f"not fit weight {tuple(weight.shape)}: they need the same leading dims and last "
            f"dims {in1} and {in2}"
        )
    leading = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (x2 A_k^T) for all k and rows of A at once is one GEMM; then contract with x1.
    mixed = linear(x2, weight.reshape(out_features * in1, in2))
    out = (mixed.reshape(-1, out_features, in1) * x1.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(leading + (out_features,))


register(bilinear, method=False, functional=True)  # also chainrule.bilinear
