"""The error of an export that cannot be written (its own module, so that ``import chainrule``
does not load the exporter)."""


class UnsupportedOperatorError(RuntimeError):
    """An op or layer that cannot be written as ONNX (the message names both)."""
