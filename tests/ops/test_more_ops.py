"""One row per composed op of chainrule.ops.arithmetic, .matrix, .rearrange, .stats and
.tensor_misc that the other tables do not call: forward against NumPy, backward against finite
differences where the op is differentiable."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import math as Mt
from tests.opcheck import OpCase, check_case


def _ints(a, scale=10):
    return (a * scale).round().long() if isinstance(a, cr.Tensor) else np.round(a * scale).astype(
        np.int64)


def _lgamma(a):
    return np.vectorize(math.lgamma)(a)


def _digamma_np(a):
    # d/dx lgamma by Richardson-extrapolated central differences (independent of chainrule's)
    def one(v):
        def d(h):
            return (math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h)
        return (4 * d(1e-3) - d(2e-3)) / 3 * 16 / 15 - (4 * d(2e-3) - d(4e-3)) / 3 / 15
    return np.vectorize(one)(a)


def _expm_series(a):
    out, term = np.eye(len(a)), np.eye(len(a))
    for k in range(1, 40):
        term = term @ a / k
        out = out + term
    return out


def _bisect_erfinv(y):
    def one(v):
        lo, hi = -6.0, 6.0
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if math.erf(mid) < v else (lo, mid)
        return (lo + hi) / 2
    return np.vectorize(one)(y)


NO_GRAD = {"grad": False}
def _erfcx_asymptotic(x):
    """exp(x^2) erfc(x) for large x: 1/(x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4) - ...)."""
    y = 1 / (2 * x * x)
    return (1 - y + 3 * y ** 2 - 15 * y ** 3 + 105 * y ** 4 - 945 * y ** 5) / (
        x * math.sqrt(math.pi))


CASES = [
    # -- arithmetic -------------------------------------------------------------------------
    OpCase("addcmul", lambda a, b, c: cr.addcmul(a, b, c, value=0.5),
           lambda a, b, c: a + 0.5 * b * c, [(3,), (3,), (3,)]),
    OpCase("clamp_min_fn", lambda a: cr.clamp_min(a, 0.1), lambda a: np.maximum(a, 0.1),
           [(5,)], domain="nonzero"),
    OpCase("clamp_max_fn", lambda a: cr.clamp_max(a, 0.1), lambda a: np.minimum(a, 0.1),
           [(5,)], domain="nonzero"),
    OpCase("deg2rad", cr.deg2rad, np.deg2rad, [(4,)]),
    OpCase("rad2deg", cr.rad2deg, np.rad2deg, [(4,)]),
    OpCase("fix", cr.fix, np.fix, [(4,)], domain="nonzero", grad=False),
    OpCase("fmin", cr.fmin, np.fmin, [(4,), (4,)], domain="nonzero"),
    OpCase("true_divide", cr.true_divide, np.true_divide, [(3,), (3,)], domain="positive"),
    OpCase("rsub", lambda a, b: cr.rsub(a, b, alpha=2), lambda a, b: b - 2 * a, [(3,), (3,)]),
    OpCase("nan_to_num", cr.nan_to_num, np.nan_to_num, [(4,)]),
    OpCase("heaviside", lambda a: cr.heaviside(a, cr.tensor(0.5, dtype=a.dtype)),
           lambda a: np.heaviside(a, 0.5), [(4,)], **NO_GRAD),
    OpCase("signbit", cr.signbit, np.signbit, [(4,)], **NO_GRAD),
    OpCase("sgn", cr.sgn, np.sign, [(4,)], domain="nonzero", **NO_GRAD),
    OpCase("isposinf", lambda a: cr.isposinf(a * math.inf), lambda a: np.isposinf(a * np.inf),
           [(4,)], domain="nonzero", **NO_GRAD),
    OpCase("isneginf", lambda a: cr.isneginf(a * math.inf), lambda a: np.isneginf(a * np.inf),
           [(4,)], domain="nonzero", **NO_GRAD),
    OpCase("isreal", cr.isreal, np.isreal, [(3,)], **NO_GRAD),
    OpCase("gcd", lambda a, b: cr.gcd(_ints(a), _ints(b)), lambda a, b: np.gcd(_ints(a),
                                                                               _ints(b)),
           [(4,), (4,)], domain="positive", **NO_GRAD),
    OpCase("lcm", lambda a, b: cr.lcm(_ints(a), _ints(b)), lambda a, b: np.lcm(_ints(a),
                                                                               _ints(b)),
           [(4,), (4,)], domain="positive", **NO_GRAD),
    OpCase("bitwise_left_shift", lambda a: cr.bitwise_left_shift(_ints(a), 2),
           lambda a: np.left_shift(_ints(a), 2), [(4,)], domain="positive", **NO_GRAD),
    OpCase("bitwise_right_shift", lambda a: cr.bitwise_right_shift(_ints(a), 1),
           lambda a: np.right_shift(_ints(a), 1), [(4,)], domain="positive", **NO_GRAD),
    OpCase("nextafter", lambda a, b: cr.nextafter(a, b), np.nextafter, [(4,), (4,)],
           **NO_GRAD),
    OpCase("ldexp", lambda a: cr.ldexp(a, cr.tensor([1, 2, 3])), lambda a: a * 2.0 ** np.array(
        [1, 2, 3]), [(3,)]),
    OpCase("mvlgamma", lambda a: cr.mvlgamma(a + 2, 2),
           lambda a: _lgamma(a + 2) + _lgamma(a + 1.5) + 0.5 * math.log(math.pi), [(4,)],
           domain="positive"),
    OpCase("multigammaln", lambda a: cr.special.multigammaln(a + 2, 2),
           lambda a: _lgamma(a + 2) + _lgamma(a + 1.5) + 0.5 * math.log(math.pi), [(4,)],
           domain="positive"),
    OpCase("gammaln", cr.special.gammaln, _lgamma, [(4,)], domain="positive"),
    OpCase("psi", cr.special.psi, _digamma_np, [(4,)], domain="positive"),
    OpCase("expit", cr.special.expit, lambda a: 1 / (1 + np.exp(-a)), [(4,)]),
    OpCase("entr", cr.special.entr, lambda a: -a * np.log(a), [(4,)], domain="positive"),
    OpCase("xlog1py", cr.special.xlog1py, lambda a, b: a * np.log1p(b), [(3,), (3,)],
           domain="positive"),
    OpCase("ndtri", lambda a: cr.special.ndtri(a * 0.4 + 0.5),
           lambda a: math.sqrt(2) * _bisect_erfinv(2 * (a * 0.4 + 0.5) - 1), [(4,)],
           domain="unit"),
    OpCase("log_ndtr", cr.special.log_ndtr,
           lambda a: np.log(np.vectorize(math.erfc)(-a / math.sqrt(2)) / 2), [(4,)]),
    OpCase("erfcx", cr.special.erfcx, lambda a: np.exp(a * a) * np.vectorize(math.erfc)(a),
           [(4,)], (Mt.Erfcx,)),
    # beyond x = 25 (the continued fraction): the asymptotic series, to 1e-13 there
    OpCase("erfcx_tail", lambda a: cr.special.erfcx(a * 10 + 30),
           lambda a: _erfcx_asymptotic(a * 10 + 30), [(4,)], (Mt.Erfcx,), domain="positive"),
    OpCase("log_ndtr_far_tail", lambda a: cr.special.log_ndtr(a * 10 - 60),
           lambda a: np.log(_erfcx_asymptotic((60 - a * 10) / math.sqrt(2)) / 2)
           - (a * 10 - 60) ** 2 / 2, [(4,)], domain="positive"),
    # -- matrix -----------------------------------------------------------------------------
    OpCase("logdet", lambda a: cr.logdet(a @ a.t() + cr.eye(3, dtype=a.dtype)),
           lambda a: np.linalg.slogdet(a @ a.T + np.eye(3))[1], [(3, 3)]),
    OpCase("matrix_power", lambda a: cr.matrix_power(a, 3), lambda a: a @ a @ a, [(3, 3)]),
    OpCase("diag", cr.diag, np.diag, [(4,)]),
    OpCase("diagflat", lambda a: cr.diagflat(a, 1), lambda a: np.diagflat(a, 1), [(2, 2)]),
    OpCase("cross", lambda a, b: cr.cross(a, b, dim=1), lambda a, b: np.cross(a, b, axis=1),
           [(2, 3), (2, 3)]),
    OpCase("addmv", cr.addmv, lambda a, m, v: a + m @ v, [(2,), (2, 3), (3,)]),
    OpCase("addr", cr.addr, lambda a, u, v: a + np.outer(u, v), [(2, 3), (2,), (3,)]),
    OpCase("addbmm", cr.addbmm, lambda a, x, y: a + (x @ y).sum(0), [(2, 4), (3, 2, 5),
                                                                     (3, 5, 4)]),
    OpCase("baddbmm", cr.baddbmm, lambda a, x, y: a + x @ y, [(3, 2, 4), (3, 2, 5), (3, 5, 4)]),
    OpCase("mv", cr.mv, lambda m, v: m @ v, [(2, 3), (3,)]),
    OpCase("inner", cr.inner, np.inner, [(2, 3), (4, 3)]),
    OpCase("vdot", cr.vdot, np.vdot, [(4,), (4,)]),
    OpCase("chain_matmul", cr.chain_matmul, lambda a, b, c: a @ b @ c, [(2, 3), (3, 4), (4, 2)]),
    # -- rearrange --------------------------------------------------------------------------
    OpCase("select", lambda a: cr.select(a, 1, -1), lambda a: a[:, -1], [(2, 3)]),
    OpCase("broadcast_to", lambda a: cr.broadcast_to(a, (2, 3)), lambda a: np.broadcast_to(
        a, (2, 3)), [(3,)]),
    OpCase("broadcast_tensors", lambda a, b: cr.broadcast_tensors(a, b)[0] * 2
           + cr.broadcast_tensors(a, b)[1], lambda a, b: np.broadcast_to(a, (2, 3)) * 2 + b,
           [(3,), (2, 3)]),
    OpCase("broadcast_shapes", lambda a: a.reshape(cr.broadcast_shapes((1, 3), (2, 1))[1:]),
           lambda a: a, [(3,)]),
    OpCase("atleast_1d", cr.atleast_1d, np.atleast_1d, [()]),
    OpCase("atleast_2d", cr.atleast_2d, np.atleast_2d, [(3,)]),
    OpCase("atleast_3d", cr.atleast_3d, np.atleast_3d, [(2, 3)]),
    OpCase("ravel", cr.ravel, np.ravel, [(2, 3)]),
    OpCase("column_stack", lambda a, b: cr.column_stack([a, b]),
           lambda a, b: np.column_stack([a, b]), [(3,), (3, 2)]),
    OpCase("row_stack", lambda a, b: cr.row_stack([a, b]), lambda a, b: np.vstack([a, b]),
           [(3,), (2, 3)]),
    OpCase("dstack", lambda a, b: cr.dstack([a, b]), lambda a, b: np.dstack([a, b]),
           [(2, 3), (2, 3)]),
    OpCase("hsplit", lambda a: cr.hsplit(a, 2)[1], lambda a: np.hsplit(a, 2)[1], [(2, 4)]),
    OpCase("vsplit", lambda a: cr.vsplit(a, [1])[1], lambda a: np.vsplit(a, [1])[1], [(3, 2)]),
    OpCase("dsplit", lambda a: cr.dsplit(a, 2)[0], lambda a: np.dsplit(a, 2)[0], [(1, 2, 4)]),
    OpCase("tensor_split", lambda a: cr.tensor_split(a, 3)[0],
           lambda a: np.array_split(a, 3)[0], [(7,)]),
    OpCase("split_with_sizes", lambda a: cr.split_with_sizes(a, [2, 3])[1], lambda a: a[2:],
           [(5,)]),
    OpCase("unsafe_split", lambda a: cr.unsafe_split(a, 2)[1], lambda a: a[2:4], [(5,)]),
    OpCase("unsafe_chunk", lambda a: cr.unsafe_chunk(a, 2)[1], lambda a: a[3:], [(5,)]),
    OpCase("take", lambda a: cr.take(a, cr.tensor([[0, 5], [2, 2]])),
           lambda a: np.take(a, [[0, 5], [2, 2]]), [(2, 3)]),
    OpCase("meshgrid", lambda a, b: cr.meshgrid(a, b, indexing="xy")[0] * cr.meshgrid(
        a, b, indexing="xy")[1], lambda a, b: np.prod(np.meshgrid(a, b), axis=0), [(2,), (3,)]),
    OpCase("index_fill", lambda a: cr.index_fill(a, 1, cr.tensor([0, 2]), -1.0),
           lambda a: np.where(np.isin(np.arange(3), [0, 2]), -1.0, a), [(2, 3)]),
    OpCase("index_copy", lambda a, b: cr.index_copy(a, 0, cr.tensor([2, 0]), b),
           lambda a, b: np.stack([b[1], a[1], b[0]]), [(3, 2), (2, 2)]),
    OpCase("masked_scatter", lambda a, b: cr.masked_scatter(a, cr.tensor([True, False, True]),
                                                            b),
           lambda a, b: np.array([b[0], a[1], b[1]]), [(3,), (4,)]),
    OpCase("unravel_index", lambda a: cr.unravel_index(_ints(a, 3).abs(), (3, 4))[1],
           lambda a: np.unravel_index(np.abs(_ints(a, 3)), (3, 4))[1], [(4,)], **NO_GRAD),
    OpCase("vander", lambda a: cr.vander(a, 3), lambda a: np.vander(a, 3), [(4,)]),
    OpCase("tril_indices", lambda a: a[cr.tril_indices(3, 3)[0]], lambda a: a[np.tril_indices(
        3)[0]], [(3,)]),
    OpCase("triu_indices", lambda a: a[cr.triu_indices(3, 3, 1)[1]],
           lambda a: a[np.triu_indices(3, 1)[1]], [(3,)]),
    OpCase("cartesian_prod", cr.cartesian_prod,
           lambda a, b: np.stack([g.ravel() for g in np.meshgrid(a, b, indexing="ij")], 1),
           [(2,), (3,)]),
    OpCase("combinations", cr.combinations,
           lambda a: np.array([[a[i], a[j]] for i in range(4) for j in range(i + 1, 4)]),
           [(4,)]),
    OpCase("block_diag", cr.block_diag,
           lambda a, b: np.block([[a, np.zeros((2, 1))], [np.zeros((1, 2)), b]]),
           [(2, 2), (1, 1)]),
    OpCase("as_strided", lambda a: cr.as_strided(a, (2, 2), (1, 2), 1),
           lambda a: np.lib.stride_tricks.as_strided(a[1:], (2, 2), (8, 16)), [(6,)]),
    OpCase("select_scatter", lambda a, b: cr.select_scatter(a, b, 0, 1),
           lambda a, b: np.concatenate([a[:1], b[None], a[2:]]), [(3, 2), (2,)]),
    OpCase("slice_scatter", lambda a, b: cr.slice_scatter(a, b, 1, 0, 3, 2),
           lambda a, b: np.stack([b[:, 0], a[:, 1], b[:, 1]], 1), [(2, 3), (2, 2)]),
    OpCase("diagonal_scatter", cr.diagonal_scatter,
           lambda a, b: a * (1 - np.eye(3)) + np.diag(b), [(3, 3), (3,)]),
    OpCase("as_strided_scatter", lambda a, b: cr.as_strided_scatter(a, b, (2,), (2,), 1),
           lambda a, b: np.array([a[0], b[0], a[2], b[1], a[4]]), [(5,), (2,)]),
    OpCase("put", lambda a, b: cr.put(a, cr.tensor([3, 0]), b),
           lambda a, b: np.array([[b[1], a[0, 1]], [a[1, 0], b[0]]]), [(2, 2), (2,)]),
    OpCase("cholesky_inverse", lambda a: cr.cholesky_inverse(cr.linalg.cholesky(
        a @ a.t() + cr.eye(3, dtype=a.dtype))), lambda a: np.linalg.inv(a @ a.T + np.eye(3)),
        [(3, 3)]),
    OpCase("cholesky_solve", lambda a, b: cr.cholesky_solve(b, cr.linalg.cholesky(
        a @ a.t() + cr.eye(3, dtype=a.dtype))), lambda a, b: np.linalg.solve(
        a @ a.T + np.eye(3), b), [(3, 3), (3, 2)]),
    OpCase("pinverse", cr.pinverse, np.linalg.pinv, [(3, 2)]),
    OpCase("matrix_exp", lambda a: cr.matrix_exp(a * 0.5),
           lambda a: _expm_series(a * 0.5), [(3, 3)]),
    OpCase("frexp", lambda a: cr.frexp(a).mantissa * cr.frexp(a).exponent,
           lambda a: np.frexp(a)[0] * np.frexp(a)[1], [(4,)], domain="nonzero", **NO_GRAD),
    # -- stats ------------------------------------------------------------------------------
    OpCase("cummin", lambda a: cr.cummin(a, 1).values, lambda a: np.minimum.accumulate(a, 1),
           [(2, 4)]),
    OpCase("kthvalue", lambda a: cr.kthvalue(a, 2, 1).values, lambda a: np.sort(a, 1)[:, 1],
           [(2, 4)]),
    OpCase("mode", lambda a: cr.mode(cr.round(a * 2), 0).values,
           lambda a: np.array([np.unique(np.round(c * 2))[np.argmax(np.unique(
               np.round(c * 2), return_counts=True)[1])] for c in a.T]), [(7, 2)], **NO_GRAD),
    OpCase("nanmedian", lambda a: cr.nanmedian(a, 0).values, lambda a: np.sort(a, 0)[1],
           [(4, 2)]),
    OpCase("nanquantile", lambda a: cr.nanquantile(a, 0.5, dim=0),
           lambda a: np.nanquantile(a, 0.5, axis=0), [(5, 2)]),
    OpCase("nansum", lambda a: cr.nansum(a, 0), lambda a: np.nansum(a, 0), [(3, 2)]),
    OpCase("nanmean", lambda a: cr.nanmean(a, 1), lambda a: np.nanmean(a, 1), [(3, 2)]),
    OpCase("std_mean", lambda a: cr.std_mean(a, 1)[0] + cr.std_mean(a, 1)[1],
           lambda a: a.std(1, ddof=1) + a.mean(1), [(2, 5)]),
    OpCase("var_mean", lambda a: cr.var_mean(a, 0)[0] * cr.var_mean(a, 0)[1],
           lambda a: a.var(0, ddof=1) * a.mean(0), [(4, 2)]),
    OpCase("aminmax", lambda a: cr.aminmax(a, dim=1).max - cr.aminmax(a, dim=1).min,
           lambda a: a.max(1) - a.min(1), [(2, 4)]),
    OpCase("histc", lambda a: cr.histc(a, 4, -2, 2),
           lambda a: np.histogram(a, 4, (-2, 2))[0].astype(float), [(20,)], **NO_GRAD),
    OpCase("histogram", lambda a: cr.histogram(a, 3, range=(-2.0, 2.0)).hist,
           lambda a: np.histogram(a, 3, (-2, 2))[0].astype(float), [(10,)], **NO_GRAD),
    OpCase("bincount", lambda a: cr.bincount(_ints(a, 3).abs()),
           lambda a: np.bincount(np.abs(_ints(a, 3))), [(10,)], **NO_GRAD),
    OpCase("dist", lambda a, b: cr.dist(a, b, 3), lambda a, b: (np.abs(a - b) ** 3).sum()
           ** (1 / 3), [(2, 3), (2, 3)], domain="positive"),
    OpCase("cov", cr.cov, np.cov, [(3, 5)]),
    OpCase("corrcoef", cr.corrcoef, np.corrcoef, [(3, 5)]),
    OpCase("unique", lambda a: cr.unique(cr.round(a)), lambda a: np.unique(np.round(a)),
           [(8,)], **NO_GRAD),
    OpCase("unique_consecutive", lambda a: cr.unique_consecutive(cr.round(a)),
           lambda a: np.round(a)[np.r_[True, np.diff(np.round(a)) != 0]], [(8,)], **NO_GRAD),
    OpCase("searchsorted", lambda a, b: cr.searchsorted(cr.sort(a).values, b),
           lambda a, b: np.searchsorted(np.sort(a), b), [(5,), (3,)], **NO_GRAD),
    OpCase("bucketize", lambda a, b: cr.bucketize(b, cr.sort(a).values),
           lambda a, b: np.searchsorted(np.sort(a), b), [(5,), (3,)], **NO_GRAD),
    OpCase("isin", lambda a: cr.isin(cr.round(a), cr.tensor([0.0, 1.0], dtype=a.dtype)),
           lambda a: np.isin(np.round(a), [0.0, 1.0]), [(6,)], **NO_GRAD),
    OpCase("trapezoid", cr.trapezoid, np.trapezoid, [(5,)]),
    OpCase("cumulative_trapezoid", cr.cumulative_trapezoid,
           lambda a: np.cumsum((a[1:] + a[:-1]) / 2), [(5,)]),
    OpCase("renorm", lambda a: cr.renorm(a, 2, 0, 1.0),
           lambda a: a * np.where(np.linalg.norm(a, axis=1, keepdims=True) > 1,
                                  1.0 / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-7), 1.0),
           [(3, 4)]),
    OpCase("msort", cr.msort, lambda a: np.sort(a, 0), [(4, 2)]),
    OpCase("gradient", lambda a: cr.gradient(a, spacing=0.5, dim=1)[0],
           lambda a: np.gradient(a, 0.5, axis=1), [(2, 5)]),
    OpCase("histogramdd", lambda a: cr.histogramdd(a, bins=2, range=[-3.0, 3.0, -3.0, 3.0]).hist,
           lambda a: np.histogramdd(a, 2, [(-3, 3), (-3, 3)])[0], [(8, 2)], **NO_GRAD),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_composed_op(case):
    check_case(case)
