"""ONNX for each chainrule op: one converter per ``Function`` class, or per public function
whose calls the trace records whole (trace.py), writing the ONNX nodes (opset 17) that compute
the same outputs.

A converter is ``convert(g, step)``: ``g`` is the graph under construction (graph.py), ``step``
the traced op with its tensors, options and outputs. ``@op("Relu")`` registers one for the
``Function`` class ``Relu`` (options: the keywords the op was applied with); ``@call("max_pool2d")``
one for the public function (options: every argument by parameter name, as the caller passed
it). A step's options must be the same in both traced runs (graph.py), except sizes that
follow a dynamic axis when the converter writes them from their records (``sizes=True``, with
``g.size``/``g.shape``), and the options named in ``varying``, which the converter checks
itself.
An op without a converter cannot be exported, and the error names it and its layer.
"""

FUNCTIONS = {}  # Function class name -> converter
CALLS = {}  # public function name -> converter


def _registrar(table, names, sizes, varying):
    def register(converter):
        converter.sizes, converter.varying = sizes, tuple(varying)
        for name in names:
            table[name] = converter
        return converter
    return register


def op(*names, sizes=False, varying=()):
    """Register a converter for the ``Function`` classes ``names``."""
    return _registrar(FUNCTIONS, names, sizes, varying)


def call(*names, sizes=False, varying=()):
    """Register a converter for calls of the public functions ``names``."""
    return _registrar(CALLS, names, sizes, varying)


# Public functions that are never exported, and why (the error says it).
REFUSED = {
    **dict.fromkeys(["rand", "randn", "randint", "randperm", "normal", "bernoulli",
                     "multinomial", "rand_like", "randn_like", "randint_like", "gumbel_softmax",
                     "fractional_max_pool2d", "fractional_max_pool3d",
                     "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"],
                    "it draws random numbers, which an exported graph cannot repeat"),
}


def converter_for(step):
    return (CALLS if step.is_call else FUNCTIONS).get(step.op)


from . import (activation, conv, elementwise, factory, index, norm, pool, reduce,  # noqa: E402
               sequence, shape, write)
