"""``torch.autograd.forward_ad``: forward-mode derivatives with dual tensors.

>>> import chainrule.autograd.forward_ad as fwAD
>>> x, v = chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 0.0])
>>> with fwAD.dual_level():
...     y = (fwAD.make_dual(x, v) ** 2).sum()
...     fwAD.unpack_dual(y).tangent                # d/dt sum((x + t v)^2) = 2 x . v
tensor(2.)

The tangent of an output is the Jacobian-vector product (dy/dx) v. chainrule has one engine,
the reverse one, so it computes the product when the output is unpacked, from two reverse
passes: g(u) = (dy/dx)^T u is linear in u, and its own vector-Jacobian product with v is
(dy/dx) v. A dual tensor is therefore a leaf that records the ops made with it (the graph the
two passes walk), and ``unpack_dual`` costs about two backward passes; every op with a
backward that can itself be differentiated (all of chainrule's) works.
"""

from collections import namedtuple

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
_levels = []  # per open level: the (dual tensor, tangent) pairs made in it


def enter_dual_level():
    _levels.append([])
    return len(_levels) - 1


def exit_dual_level(*, level=None):
    if not _levels:
        raise RuntimeError("exit_dual_level: no dual level is open")
    _levels.pop()


class dual_level:  # noqa: N801 - PyTorch's spelling
    """``with dual_level():``: dual tensors made inside belong to it and lose their tangents
    when it closes."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc_info):
        exit_dual_level()
        return False


def _open_level(what):
    if not _levels:
        raise RuntimeError(f"{what} must be called inside a dual_level() block (forward-mode "
                           "AD): with torch.autograd.forward_ad.dual_level(): ...")
    return _levels[-1]


def make_dual(tensor, tangent, *, level=None):
    """A tensor with ``tensor``'s values that carries ``tangent`` (same shape) as its
    derivative along the direction being followed."""
    duals = _open_level("make_dual")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(f"make_dual: the tangent's shape {tuple(tangent.shape)} must match "
                           f"the primal's {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        raise RuntimeError(f"make_dual: forward-mode derivatives need a floating tensor, got "
                           f"{tensor.dtype}")
    dual = tensor.detach().requires_grad_()
    duals.append((dual, tangent.detach().to(tensor.dtype)))
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor``: its values, and the derivative of them along the
    tangents given to ``make_dual`` (None when it does not depend on any dual tensor)."""
    duals = _levels[-1] if _levels else []
    for dual, tangent in duals:
        if tensor is dual:
            return UnpackedDualTensor(tensor.detach(), tangent)
    if not duals or not tensor.requires_grad:
        return UnpackedDualTensor(tensor, None)
    from . import grad  # (the package's: it imports this module)

    sources = [dual for dual, _ in duals]
    probe = tensor.detach().mul(0).requires_grad_()  # u, zeros: g(u) = J^T u is linear in u
    pulled = grad(tensor, sources, grad_outputs=probe, create_graph=True, retain_graph=True,
                  allow_unused=True)
    used = [(g, tangent) for g, (_, tangent) in zip(pulled, duals)
            if g is not None and g.requires_grad]
    if not used:
        return UnpackedDualTensor(tensor.detach(), None)
    (jvp,) = grad([g for g, _ in used], probe, grad_outputs=[t for _, t in used],
                  allow_unused=True)
    return UnpackedDualTensor(tensor.detach(), jvp if jvp is not None else tensor.detach() * 0)
