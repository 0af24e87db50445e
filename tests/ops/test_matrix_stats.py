"""Matrix functions (chainrule.ops.matrix), order statistics and scans (chainrule.ops.stats)
and the rearranging helpers (chainrule.ops.rearrange): forward against NumPy, backward against
finite differences."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import decompositions as Dc
from chainrule.ops import factorizations as Fz
from chainrule.ops import matrix as Mx
from chainrule.ops import stats as St
from tests.opcheck import OpCase, check_case

EYE3 = np.eye(3)


def _scattered_diagonal(a):
    """Zeros (3, 4, 2) with a[k, j] at [j, 1 + j, k]: the -1 diagonal of the (dim 1, dim 0)
    planes, written by hand."""
    out = np.zeros((3, 4, 2), a.dtype)
    for j in range(3):
        out[j, 1 + j, :] = a[:, j]
    return out


def _well_conditioned(a):
    return a + 3 * cr.eye(3, dtype=a.dtype)


CASES = [
    OpCase("inverse", lambda a: cr.inverse(_well_conditioned(a)),
           lambda a: np.linalg.inv(a + 3 * EYE3), [(3, 3)], (Mx.Inverse,)),
    OpCase("det", lambda a: cr.det(_well_conditioned(a)),
           lambda a: np.linalg.det(a + 3 * EYE3), [(2, 3, 3)], (Mx.Det,)),
    OpCase("slogdet", lambda a: cr.slogdet(_well_conditioned(a)).logabsdet,
           lambda a: np.linalg.slogdet(a + 3 * EYE3)[1], [(3, 3)], (Mx.Slogdet,)),
    OpCase("cholesky", lambda a: cr.linalg.cholesky(a @ a.t() + cr.eye(3, dtype=a.dtype)),
           lambda a: np.linalg.cholesky(a @ a.T + EYE3), [(3, 3)], (Dc.Cholesky,)),
    OpCase("eigh", lambda a: cr.linalg.eigh(a + a.t()).eigenvalues * 1.0
           + cr.linalg.eigh(a + a.t()).eigenvectors.abs().sum(0),
           lambda a: np.linalg.eigh(a + a.T)[0] + np.abs(np.linalg.eigh(a + a.T)[1]).sum(0),
           [(3, 3)], (Dc.Eigh,)),
    OpCase("svdvals", cr.linalg.svdvals, lambda a: np.linalg.svd(a, compute_uv=False),
           [(3, 2)], (Fz.Svd,)),
    OpCase("cumprod", lambda a: cr.cumprod(a, 1), lambda a: np.cumprod(a, 1), [(3, 4)],
           (St.Cumprod,)),
    OpCase("cumprod_with_zero", lambda a: cr.cumprod(a * cr.tensor([1.0, 0.0, 1.0, 1.0],
                                                                    dtype=a.dtype), 0),
           lambda a: np.cumprod(a * [1.0, 0.0, 1.0, 1.0], 0), [(4,)], (St.Cumprod,)),
    OpCase("trace", cr.trace, np.trace, [(3, 3)]),
    OpCase("diagonal", lambda a: cr.diagonal(a, 1, 0, 2),
           lambda a: np.diagonal(a, 1, 0, 2), [(3, 2, 4)], (Mx.Diagonal,)),
    OpCase("diagonal_backward", lambda a: Mx.DiagonalScatter.apply(
        a, shape=(3, 4, 2), offset=-1, d1=1, d2=0), _scattered_diagonal, [(2, 3)],
           (Mx.DiagonalScatter,)),
    OpCase("diag_embed", lambda a: cr.diag_embed(a, -1),
           lambda a: np.stack([np.diag(r, -1) for r in a]), [(2, 3)]),
    OpCase("kron", cr.kron, np.kron, [(2, 3), (3, 2)]),
    OpCase("addmm", lambda a, b, c: cr.addmm(a, b, c, beta=0.5, alpha=2.0),
           lambda a, b, c: 0.5 * a + 2.0 * b @ c, [(2, 4), (2, 3), (3, 4)]),
    OpCase("tensordot", lambda a, b: cr.tensordot(a, b, ([1, 2], [1, 0])),
           lambda a, b: np.tensordot(a, b, ([1, 2], [1, 0])), [(2, 3, 4), (4, 3, 2)]),
    OpCase("cdist", cr.cdist, lambda a, b: np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1)),
           [(3, 2), (4, 2)]),
    OpCase("median", lambda a: cr.median(a, 1).values, lambda a: np.sort(a, 1)[:, 1],
           [(2, 4)]),
    OpCase("median of all", cr.median, lambda a: np.sort(a.ravel())[(a.size - 1) // 2],
           [(3, 3)], covers=(St.SpreadOverTies,)),
    OpCase("cummax", lambda a: cr.cummax(a, 0).values, lambda a: np.maximum.accumulate(a, 0),
           [(5, 2)]),
    OpCase("logcumsumexp", lambda a: cr.logcumsumexp(a, 1),
           lambda a: np.logaddexp.accumulate(a, 1), [(2, 5)]),
    OpCase("quantile", lambda a: cr.quantile(a, 0.3, dim=1),
           lambda a: np.quantile(a, 0.3, axis=1), [(3, 5)]),
    OpCase("rot90", lambda a: cr.rot90(a, 1, (0, 1)), lambda a: np.rot90(a, 1, (0, 1)),
           [(2, 3)]),
    OpCase("repeat_interleave", lambda a: cr.repeat_interleave(a, 2, dim=0),
           lambda a: np.repeat(a, 2, 0), [(2, 3)]),
    OpCase("unfold", lambda a: a.unfold(0, 3, 2),
           lambda a: np.stack([a[i:i + 3] for i in range(0, 5, 2)]), [(7,)]),
    OpCase("diff", lambda a: cr.diff(a, n=2, dim=0), lambda a: np.diff(a, 2, 0), [(5, 2)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix_or_stats_op(case):
    check_case(case)


def test_order_statistics_and_counts():
    v = cr.tensor([1.0, 3.0, 3.0, 2.0, 7.0, 3.0])
    assert cr.median(v).item() == 3.0 and cr.mode(v).values.item() == 3.0
    assert cr.kthvalue(v, 2).values.item() == 2.0
    assert cr.unique(v, return_counts=True)[1].tolist() == [1, 1, 3, 1]
    assert cr.unique_consecutive(v).tolist() == [1.0, 3.0, 2.0, 7.0, 3.0]
    assert cr.bincount(cr.tensor([0, 2, 2, 5])).tolist() == [1, 0, 2, 0, 0, 1]
    assert cr.searchsorted(cr.tensor([1.0, 3.0, 5.0]), cr.tensor([3.0, 6.0])).tolist() == [1, 3]
    assert cr.nansum(cr.tensor([1.0, float("nan"), 2.0])).item() == 3.0
    assert cr.logdet(cr.eye(3) * 2).item() == pytest.approx(3 * np.log(2))
    sign, logabs = cr.slogdet(cr.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert sign.item() == -1.0 and logabs.item() == 0.0
    with pytest.raises(RuntimeError, match="singular"):
        cr.inverse(cr.zeros(2, 2))
