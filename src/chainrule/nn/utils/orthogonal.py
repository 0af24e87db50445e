"""``nn.utils.parametrizations.orthogonal``: a weight kept orthogonal (or with orthonormal
rows or columns when it is not square) while it trains, as PyTorch does it.

The stored ``original`` is an unconstrained matrix mapped to an orthogonal one by the matrix
exponential or the Cayley map of a skew-symmetric matrix made from its lower triangle, or by a
product of Householder reflections made from its strictly lower triangle. With
``use_trivialization=True`` (the default) the result is multiplied by the buffer ``base``, an
orthogonal matrix set by ``right_inverse``: assigning a weight stores it (orthogonalised) in
``base`` and resets ``original`` to ``-I``, the point each map sends to the identity, so
training starts from the assigned weight. The state-dict keys are PyTorch's
(``parametrizations.weight.original``, ``parametrizations.weight.0.base``)."""

from ..._torch_functions import finfo
from ...autograd.grad_mode import no_grad
from ...creation import eye, randn
from ...linalg import solve
from ...ops.compare import allclose
from ...ops.decompositions import matrix_exp
from ...ops.elementwise import where
from ...ops.householder import geqrf, householder_product
from ...ops.join import cat
from ...tensor import Tensor
from ..modules.module import Module
from .parametrize import register_parametrization

MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(q):
    """Whether the columns of the tall ``q`` are orthonormal, to PyTorch's tolerance."""
    n, k = q.shape[-2], q.shape[-1]
    return allclose(q.mH @ q, eye(k, dtype=q.dtype), atol=10.0 * n * finfo(q.dtype).eps)


def _make_orthogonal(a):
    """The Q of ``a = QR`` (``a`` tall) with diag(R) >= 0, so the answer is unique."""
    reflectors, tau = geqrf(a)
    q = householder_product(reflectors, tau)
    return q * reflectors.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    """Maps ``original`` (the weight's shape) to a matrix with orthonormal columns (rows when
    it is wide); see the module docstring."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x):
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:  # work on the tall matrix
            x = x.mT
            n, k = k, n
        if self.orthogonal_map == "householder":
            reflectors = x.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (reflectors * reflectors).sum(dim=-2))
            q = householder_product(reflectors, tau)
            # the diagonal of x (1 or -1, truncated as PyTorch's int cast does) picks each
            # column's sign; it is not trained
            q = q * x.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        else:
            x = x.tril()
            if n != k:  # embed into a square matrix: n k - k (k - 1) / 2 free parameters
                x = cat([x, x.new_zeros(n, n - k).expand(*x.shape[:-2], -1, -1)], dim=-1)
            skew = x - x.mH
            if self.orthogonal_map == "matrix_exp":
                q = matrix_exp(skew)
            else:  # Cayley: (I - A/2)^-1 (I + A/2)
                identity = eye(n, dtype=skew.dtype)
                q = solve(identity - 0.5 * skew, identity + 0.5 * skew)
            if n != k:
                q = q[..., :k]
        if "base" in self._buffers:
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q):
        with no_grad():
            return self._right_inverse(q)

    def _right_inverse(self, q):
        if q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {q.shape}.")
        assigned = q
        n, k = q.shape[-2], q.shape[-1]
        transposed = n < k
        if transposed:
            q = q.mT
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False.")
            # the reflectors of q's QR, with the signs of R's diagonal on the diagonal (a
            # reflection LAPACK skipped, tau == 0, flips it back)
            reflectors, tau = geqrf(q)
            signs = reflectors.diagonal(dim1=-2, dim2=-1).sign()
            signs = where(tau == 0.0, -signs, signs)
            reflectors = where(eye(n, k, dtype=bool), signs.unsqueeze(-2), reflectors)
            return reflectors.mT if transposed else reflectors
        if n == k:
            q = q.clone() if _is_orthogonal(q) else _make_orthogonal(q)
        else:  # complete q's columns to an orthogonal n x n matrix with random ones
            filler = randn(*(tuple(q.shape[:-2]) + (n, n - k)), dtype=q.dtype)
            q = _make_orthogonal(cat([q, filler], dim=-1))
        self.base = q
        # -I: each map sends it to the identity, so the weight becomes base itself
        rows, columns = assigned.shape[-2], assigned.shape[-1]
        return -eye(rows, columns, dtype=assigned.dtype).expand(assigned.shape).clone()


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Keep ``module.<name>`` orthogonal (orthonormal columns, or rows when wide): by default
    the matrix exponential for a square weight and Householder reflections otherwise, as
    PyTorch chooses; returns ``module``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    parametrization = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    register_parametrization(module, name, parametrization, unsafe=True)
    return module
