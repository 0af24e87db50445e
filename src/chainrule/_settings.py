"""Process-wide switches PyTorch programs set at the top (``torch.X(...)``), kept with
PyTorch's answers. chainrule's ops are deterministic and compute float32 matmuls in float32, so
the determinism and precision switches are remembered but change no result."""

_state = {"matmul_precision": "highest", "deterministic": False, "warn_only": False}


def set_float32_matmul_precision(precision):
    """``"highest"``, ``"high"`` or ``"medium"``; NumPy's float32 matmul is always "highest"."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(
            f"Invalid precision {precision!r}: use 'highest', 'high' or 'medium'"
        )
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _state["matmul_precision"]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Accepted and remembered: every chainrule op is already deterministic on the CPU."""
    _state["deterministic"], _state["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """``torch.compile``: chainrule has no compiler; the model (or function) is returned as it
    is, so ``model = torch.compile(model)`` runs unchanged, at eager speed."""
    if model is None:
        return lambda function: function
    return model
