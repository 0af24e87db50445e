"""The operand kinds and ops of the type-promotion table, written once for both libraries:
``bench/record_promotion.py`` runs them on PyTorch and records the results; the test runs them
on chainrule and compares. ``m`` is the library module (torch or chainrule)."""

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
NUMBERS = {"py:bool": True, "py:int": 3, "py:float": 2.5, "py:negint": -2}
KINDS = (list(NUMBERS) + [f"0d:{d}" for d in DTYPES] + [f"1d:{d}" for d in DTYPES])


def operand(m, kind):
    """A Python number, a 0-d tensor or a 1-d tensor of the named dtype (values nonzero, so
    that divisions stay finite)."""
    if kind in NUMBERS:
        return NUMBERS[kind]
    tier, dtype_name = kind.split(":")
    dtype = getattr(m, dtype_name)
    if dtype_name == "bool":
        return m.tensor(True if tier == "0d" else [True, True], dtype=dtype)
    return m.tensor(3 if tier == "0d" else [3, 2], dtype=dtype)


def _both_tensors(fn):
    def op(m, a, b):
        if not (hasattr(a, "dtype") and hasattr(b, "dtype")):
            raise TypeError("this op takes two tensors")
        return fn(m, a, b)

    return op


OPS = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "truediv": lambda m, a, b: a / b,
    "floordiv": lambda m, a, b: a // b,
    "pow": lambda m, a, b: a**b,
    "maximum": _both_tensors(lambda m, a, b: m.maximum(a, b)),
    "where": lambda m, a, b: m.where(m.tensor([True, False]), a, b),
    "eq": lambda m, a, b: a == b,
    "lt": lambda m, a, b: a < b,
    "clamp_min": lambda m, a, b: m.clamp(a, min=b),
}


def pairs():
    """Every (op, a, b) of the table; two Python numbers are not an op on tensors."""
    for op in OPS:
        for a in KINDS:
            for b in KINDS:
                if not (a in NUMBERS and b in NUMBERS):
                    yield op, a, b
