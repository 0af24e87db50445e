"""``torch.functional``: the module PyTorch keeps a few of its top-level functions in
(``torch.functional.einsum`` is ``torch.einsum``); here the same functions as chainrule's."""

from .ops.registry import TOP, namespace

_TOP = namespace(TOP)
__all__ = [name for name in ("atleast_1d", "atleast_2d", "atleast_3d", "block_diag",
                             "broadcast_shapes", "broadcast_tensors", "cartesian_prod", "cdist",
                             "chain_matmul", "einsum", "meshgrid", "norm", "split",
                             "tensordot", "unique", "unique_consecutive", "unravel_index")
           if name in _TOP]
globals().update({name: _TOP[name] for name in __all__})
