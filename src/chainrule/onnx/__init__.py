"""Export to ONNX (``torch.onnx`` under ``import chainrule as torch``): ``export`` traces a
model's forward pass and writes it with the ``onnx`` package (``pip install
'chainrule[onnx]'``). The exporter and ``onnx`` are imported only when ``export`` is used, so
that ``import chainrule`` stays fast."""

from .errors import UnsupportedOperatorError

__all__ = ["export", "ONNXProgram", "UnsupportedOperatorError"]


def __getattr__(name):
    if name == "export":
        from .exporter import export

        return export
    if name == "ONNXProgram":
        from .program import ONNXProgram

        return ONNXProgram
    raise AttributeError(f"module 'chainrule.onnx' has no attribute {name!r}")
