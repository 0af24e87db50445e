"""Export to ONNX (``torch.onnx`` under ``import chainrule as torch``): ``export`` traces a
model's forward pass and writes it with the ``onnx`` package (``pip install
'chainrule[onnx]'``). The package is imported only when ``export`` runs."""

from .graph import UnsupportedOperatorError
from .export import export

__all__ = ["export", "UnsupportedOperatorError"]
