"""``torch.return_types``: the named tuples that ``max(dim)``, ``sort``, ``topk``, ``median``,
``linalg.qr`` ... return, printed as PyTorch prints them (one field per line), so that a
tutorial's ``print(torch.max(x, 1))`` shows the same text (``chainrule`` for ``torch`` unless
chainrule stands in for torch)."""

from collections import namedtuple

from ._dtypes import shown_name

__all__ = []


def _repr(self):
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"{shown_name()}.return_types.{type(self).__name__}(\n{fields})"


def _structseq(name, fields):
    """A named tuple class called ``name`` (PyTorch's), kept in this module under that name."""
    cls = namedtuple(name, fields, module=__name__)
    cls.__repr__ = _repr
    globals()[name] = cls
    __all__.append(name)
    return cls


for _name in ("max", "min", "sort", "topk", "median", "nanmedian", "mode", "kthvalue",
              "cummax", "cummin"):
    _structseq(_name, ["values", "indices"])
_structseq("aminmax", ["min", "max"])
_structseq("frexp", ["mantissa", "exponent"])
_structseq("histogram", ["hist", "bin_edges"])
_structseq("histogramdd", ["hist", "bin_edges"])
_structseq("qr", ["Q", "R"])
_structseq("linalg_qr", ["Q", "R"])
_structseq("linalg_svd", ["U", "S", "Vh"])
_structseq("svd", ["U", "S", "V"])
_structseq("linalg_eigh", ["eigenvalues", "eigenvectors"])
_structseq("slogdet", ["sign", "logabsdet"])
_structseq("linalg_slogdet", ["sign", "logabsdet"])
_structseq("triangular_solve", ["solution", "cloned_coefficient"])
_structseq("geqrf", ["a", "tau"])
_structseq("linalg_inv_ex", ["inverse", "info"])
_structseq("linalg_cholesky_ex", ["L", "info"])
_structseq("linalg_solve_ex", ["result", "info"])
_structseq("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_structseq("linalg_lu_factor", ["LU", "pivots"])
_structseq("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_structseq("linalg_lu", ["P", "L", "U"])
del _name
