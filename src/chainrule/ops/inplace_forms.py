"""In-place forms ``x.op_(...)`` of the elementwise methods, all made one way: compute the
out-of-place result and write it into ``x`` through ``inplace.modify_in_place`` (which checks
the dtype and shape, bumps the version and records the op when a gradient is needed).

They are forms of registered ops, not ops of their own (``registry.register_in_place_forms``
makes them places of their op): the op is tested by its row, and
``tests/ops/test_inplace_forms.py`` holds every form to its op. The in-place ops with code of
their own (``add_``, ``exp_``, ``copy_`` ...) are in ``inplace``.
Imported last by ``chainrule.ops``, after every method it wraps exists."""

from .inplace import modify_in_place
from .registry import register_in_place_forms

# Methods whose in-place form PyTorch has and chainrule builds here (ones already defined,
# such as add_ or clamp_, keep their own faster versions).
IN_PLACE = [
    "abs", "absolute", "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
    "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "ceil", "clamp_max", "clamp_min", "copysign", "cos", "cosh", "cumprod", "cumsum",
    "deg2rad", "digamma", "divide", "eq", "erf", "erfc", "erfinv", "exp2", "expm1", "fix",
    "float_power", "floor", "floor_divide", "fmod", "frac", "gcd", "ge", "greater",
    "greater_equal", "gt", "heaviside", "hypot", "lcm", "ldexp", "le", "less", "less_equal",
    "lgamma", "log", "log10", "log1p", "log2", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logit", "lt", "multiply", "mvlgamma", "nan_to_num", "ne", "negative",
    "nextafter", "not_equal", "polygamma", "rad2deg", "reciprocal", "remainder", "renorm",
    "round", "rsqrt", "sgn", "sign", "sin", "sinc", "sinh", "square", "subtract", "tan",
    "tril", "triu", "true_divide", "trunc", "xlogy", "index_fill", "masked_scatter",
    "index_add", "scatter", "scatter_add", "index_put", "addbmm", "addmm", "addmv", "addr",
    "baddbmm", "index_copy", "put", "scatter_reduce", "index_reduce", "i0", "igamma",
    "igammac",
]


register_in_place_forms(set(IN_PLACE), modify_in_place)
