"""``torch._foreach_*``: one op over every tensor of a list, PyTorch's multi-tensor functions
that optimizers and weight-averaging code (timm's EMA, ``swa_utils``) call directly.
chainrule has no fused multi-tensor kernels: each is a loop over the tensors' own methods, with
PyTorch's argument forms (a number, a tensor, or a list of either, one per tensor), results and
in-place forms (``_foreach_mul_``)."""

_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "pow", "clamp_min", "clamp_max")
_UNARY = ("abs", "neg", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt",
          "sigmoid", "sign", "reciprocal", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin",
          "acos", "atan", "erf", "erfc", "lgamma", "ceil", "floor", "round", "trunc", "frac")


def _per_tensor(values, count, name):
    """A list of ``count`` operands: a list as given (of the right length), else ``values``
    repeated (a number, or one tensor for every tensor)."""
    if isinstance(values, (list, tuple)):
        if len(values) != count:
            raise RuntimeError(f"torch._foreach_{name}: tensor lists must have the same number "
                               f"of tensors, got {count} and {len(values)}")
        return list(values)
    return [values] * count


def _in_place(tensor, op, *args, **kwargs):
    """``tensor.op_(...)``, or the out-of-place op copied back where there is no method."""
    method = getattr(tensor, op + "_", None)
    if method is not None:
        return method(*args, **kwargs)
    return tensor.copy_(getattr(tensor, op)(*args, **kwargs))


def _binary(op):
    def apply(self, other, **kwargs):
        others = _per_tensor(other, len(self), op)
        return [getattr(t, op)(o, **kwargs) for t, o in zip(self, others)]

    def apply_(self, other, **kwargs):
        for t, o in zip(self, _per_tensor(other, len(self), op)):
            _in_place(t, op, o, **kwargs)

    apply.__doc__ = f"``[t.{op}(o) for t, o in zip(self, other)]`` (``other``: one or a list)."
    apply_.__doc__ = f"``t.{op}_(o)`` for each tensor, in place."
    return apply, apply_


def _unary(op):
    def apply(self):
        return [getattr(t, op)() for t in self]

    def apply_(self):
        for t in self:
            _in_place(t, op)

    apply.__doc__ = f"``[t.{op}() for t in self]``."
    apply_.__doc__ = f"``t.{op}_()`` for each tensor, in place."
    return apply, apply_


__all__ = []
for _op in _BINARY:
    globals()[f"_foreach_{_op}"], globals()[f"_foreach_{_op}_"] = _binary(_op)
    __all__ += [f"_foreach_{_op}", f"_foreach_{_op}_"]
for _op in _UNARY:
    globals()[f"_foreach_{_op}"], globals()[f"_foreach_{_op}_"] = _unary(_op)
    __all__ += [f"_foreach_{_op}", f"_foreach_{_op}_"]


def _foreach_addcmul(self, tensor1, tensor2, value=1):
    """``t + value * t1 * t2`` for each tensor (``value``: a number or one per tensor)."""
    values = _per_tensor(value, len(self), "addcmul")
    return [t.addcmul(a, b, value=v) for t, a, b, v in zip(self, tensor1, tensor2, values)]


def _foreach_addcmul_(self, tensor1, tensor2, value=1):
    values = _per_tensor(value, len(self), "addcmul_")
    for t, a, b, v in zip(self, tensor1, tensor2, values):
        t.addcmul_(a, b, value=v)


def _foreach_addcdiv(self, tensor1, tensor2, value=1):
    """``t + value * t1 / t2`` for each tensor."""
    values = _per_tensor(value, len(self), "addcdiv")
    return [t.addcdiv(a, b, value=v) for t, a, b, v in zip(self, tensor1, tensor2, values)]


def _foreach_addcdiv_(self, tensor1, tensor2, value=1):
    values = _per_tensor(value, len(self), "addcdiv_")
    for t, a, b, v in zip(self, tensor1, tensor2, values):
        t.addcdiv_(a, b, value=v)


def _foreach_lerp(self, tensors1, weight):
    """``t + weight * (end - t)`` for each tensor (``weight``: a number, tensor or list)."""
    weights = _per_tensor(weight, len(self), "lerp")
    return [t.lerp(end, w) for t, end, w in zip(self, tensors1, weights)]


def _foreach_lerp_(self, tensors1, weight):
    for t, end, w in zip(self, tensors1, _per_tensor(weight, len(self), "lerp_")):
        t.lerp_(end, w)


def _foreach_copy_(self, src, non_blocking=False):
    for t, s in zip(self, _per_tensor(src, len(self), "copy_")):
        t.copy_(s)


def _foreach_zero_(self):
    for t in self:
        t.zero_()


def _foreach_norm(self, ord=2, dtype=None):
    """Each tensor's ``ord``-norm over all its elements, as 0-d tensors."""
    norms = [t.reshape(-1).norm(p=ord) for t in self]
    return norms if dtype is None else [n.to(dtype) for n in norms]


def _foreach_max(self):
    return [t.max() for t in self]


__all__ += ["_foreach_addcmul", "_foreach_addcmul_", "_foreach_addcdiv", "_foreach_addcdiv_",
            "_foreach_lerp", "_foreach_lerp_", "_foreach_copy_", "_foreach_zero_",
            "_foreach_norm", "_foreach_max"]
del _op
