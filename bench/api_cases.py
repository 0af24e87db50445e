"""The torch-namespace function cases ``record_api_fixtures.py`` records (same format as
``layer_cases.py``: an expression in PyTorch's vocabulary, input specs, options); chainrule's
``tests/compat/test_api_against_pytorch.py`` evaluates each with its own names."""


def _case(expr, *inputs, **options):
    return dict({"expr": expr, "inputs": list(inputs)}, **options)


def _normal(*shape):
    return {"shape": list(shape)}


def _positive(*shape):
    return {"shape": list(shape), "kind": "positive"}


def _ints(values):
    return {"values": values, "dtype": "int64"}


_INDEX = "torch.tensor([[0, 2, 2, 1], [2, 2, 0, 1]])"

API_CASES = {}
for reduce in ("sum", "prod", "mean", "amax", "amin"):
    for include_self in (True, False):
        API_CASES[f"scatter_reduce-{reduce}-{include_self}"] = _case(
            f"lambda x, s: x.scatter_reduce(0, {_INDEX}, s, {reduce!r}, "
            f"include_self={include_self})", _normal(3, 4), _normal(2, 4))
for reduce in ("prod", "mean", "amax", "amin"):
    for include_self in (True, False):
        API_CASES[f"index_reduce-{reduce}-{include_self}"] = _case(
            f"lambda x, s: torch.index_reduce(x, 1, torch.tensor([0, 2, 0, 0]), s, {reduce!r}, "
            f"include_self={include_self})", _normal(2, 3), _normal(2, 4))
API_CASES["scatter_reduce-prod-zeros"] = _case(
    "lambda x, s: x.scatter_reduce(0, torch.tensor([0, 0, 1, 2, 2]), s, 'prod')",
    {"values": [2.0, 3.0, 0.0]}, {"values": [0.0, 5.0, 4.0, 0.0, 7.0]})
API_CASES["scatter_reduce-int-mean"] = _case(
    "lambda x, s: x.scatter_reduce(0, torch.tensor([0, 0, 1, 2]), s, 'mean')",
    _ints([-5, 7, 3]), _ints([2, -4, 4, -9]))
API_CASES["kthvalue-ties"] = _case(
    "lambda x: torch.kthvalue(x, 3, 1)",
    {"values": [[3.0, 1.0, 3.0, 1.0, 2.0, 3.0, 1.0], [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]]})

# -- linear algebra: factors in one output (the recorder differentiates the first), singular
# vectors through sign-invariant functions of them
_FLAT = "lambda *ts: torch.cat([t.flatten() for t in ts])"
_SVD_INVARIANT = ("lambda u, s, vh: torch.cat([(u[..., :s.shape[-1]] ** 2).flatten(), s.flatten(), "
                  "(vh[..., :s.shape[-1], :] ** 2).flatten()])")
API_CASES.update({
    "linalg-qr-tall": _case(f"lambda a: ({_FLAT})(*torch.linalg.qr(a))", _normal(5, 3)),
    "linalg-qr-wide": _case(f"lambda a: ({_FLAT})(*torch.linalg.qr(a))", _normal(2, 3, 5)),
    "linalg-qr-complete": _case(f"lambda a: ({_FLAT})(*torch.linalg.qr(a, 'complete'))",
                                _normal(3, 3)),
    "qr-some": _case(f"lambda a: ({_FLAT})(*torch.qr(a))", _normal(4, 3)),
    "linalg-svd-reduced": _case(
        f"lambda a: ({_SVD_INVARIANT})(*torch.linalg.svd(a, full_matrices=False))",
        _normal(5, 3)),
    "linalg-svd-full-wide": _case(f"lambda a: ({_SVD_INVARIANT})(*torch.linalg.svd(a))",
                                  _normal(2, 3, 4)),
    "svd-v": _case("lambda a: (lambda u, s, v: torch.cat([(u @ v.mT).flatten(), s]))"
                   "(*torch.svd(a))", _normal(4, 3)),
    "linalg-lu-factor": _case("lambda a: torch.linalg.lu_factor(a)", _normal(2, 4, 4)),
    "linalg-lu": _case(f"lambda a: (lambda p, l, u: ({_FLAT})(l, u, p))(*torch.linalg.lu(a))",
                       _normal(4, 4)),
    "lu-unpack-wide": _case("lambda a: (lambda p, l, u: torch.cat([l.flatten(), u.flatten(), "
                            "p.flatten()]))(*torch.lu_unpack(*torch.linalg.lu_factor(a)))",
                            _normal(3, 5), grad=False),
    "linalg-lu-solve": _case("lambda a, b: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), b)",
                             _normal(3, 3), _normal(3, 2)),
    "lu-solve": _case("lambda a, b: torch.lu_solve(b, *torch.linalg.lu_factor(a))",
                      _normal(2, 3, 3), _normal(2, 3, 1)),
    "triangular-solve": _case(
        f"lambda b, a: ({_FLAT})(*torch.triangular_solve(b, a, upper=False, "
        "unitriangular=True))", _normal(3, 2), _normal(3, 3)),
})

# -- special functions: values over their ranges and gradients
_WIDE = {"values": [-40.0, -31.0, -5.0, -1.5, -0.25, 0.0, 0.3, 2.0, 12.0, 29.5, 30.5, 80.0]}
_UNIT = {"values": [-0.99, -0.6, -0.1, 0.0, 0.2, 0.75, 0.995]}
_PROB = {"values": [1e-6, 0.01, 0.3, 0.5, 0.8, 0.999]}
_POS = {"values": [0.05, 0.5, 1.0, 2.5, 7.0, 30.0]}
API_CASES.update({
    "special-i0": _case("torch.special.i0", _WIDE),
    "special-i0e": _case("torch.special.i0e", _WIDE),
    "special-i1": _case("torch.special.i1", _WIDE),
    "special-i1e": _case("torch.special.i1e", _WIDE),
    "i0-method": _case("lambda x: x.i0()", _normal(3, 2)),
    "special-erfinv": _case("torch.special.erfinv", _UNIT),
    "special-expit": _case("torch.special.expit", _WIDE),
    "special-logit-eps": _case("lambda p: torch.special.logit(p, eps=1e-3)", _PROB),
    "special-xlogy": _case("torch.special.xlogy", _POS, _normal(6)),
    "special-gammaln": _case("torch.special.gammaln", _POS),
    # PyTorch's trigamma (digamma's derivative) is off by up to 3e-10 (e.g. at 0.5, where
    # the exact value is pi^2 / 2; chainrule's agrees with it to 1e-16)
    "special-digamma": _case("torch.special.digamma", _POS, rtol=1e-9),
    "special-ndtri": _case("torch.special.ndtri", _PROB),
    "special-ndtr": _case("torch.special.ndtr", _WIDE),
    "special-log-ndtr": _case("torch.special.log_ndtr", _WIDE),
    "special-sinc": _case("torch.special.sinc", {"values": [-2.5, -1.0, 0.0, 1e-9, 0.4, 3.0]}),
    # at 0 PyTorch's gradient is -(1 + log 0) = inf; chainrule's is 0 (entr's row says so)
    "special-entr": _case("torch.special.entr", {"values": [1e-9, 0.3, 1.0, 4.0]}),
    "special-erfcx": _case("torch.special.erfcx", _WIDE),
    "special-xlog1py": _case("torch.special.xlog1py", _POS, _POS),
    "special-multigammaln": _case("lambda x: torch.special.multigammaln(x, 3)",
                                  {"values": [1.2, 2.0, 5.5]}),
    "special-polygamma": _case("lambda x: torch.special.polygamma(2, x)", _POS),
    "special-log1p": _case("torch.special.log1p", _POS),
    "special-logsumexp": _case("lambda x: torch.special.logsumexp(x, 1)", _normal(3, 4)),
    "special-softmax": _case("lambda x: torch.special.softmax(x, 0)", _normal(3, 4)),
})

# -- function transforms: results, and gradients of them (gradients of gradients)
_CUBIC = "lambda x: (x ** 3 * torch.sin(x)).sum()"
_SYSTEM = "lambda x, y: torch.stack([x[0] * y.sum(), torch.tanh(x[1]) * y[1], x.pow(2).sum()])"
API_CASES.update({
    "func-jacrev": _case("lambda x: torch.func.jacrev(torch.tanh)(x)", _normal(3)),
    "func-jacrev-argnums": _case(f"lambda x, y: torch.func.jacrev({_SYSTEM}, argnums=1)(x, y)",
                                 _normal(2), _normal(3)),
    "func-jacfwd": _case(f"lambda x, y: torch.cat([j.flatten() for j in torch.func.jacfwd("
                         f"{_SYSTEM}, argnums=(0, 1))(x, y)])", _normal(2), _normal(3)),
    "func-hessian": _case(f"lambda x: torch.func.hessian({_CUBIC})(x)", _normal(3)),
    "func-grad-of-grad": _case(f"lambda x: torch.func.grad(lambda z: torch.func.grad({_CUBIC})"
                               "(z).sum())(x)", _normal(4)),
    "func-vmap": _case("lambda a, b: torch.func.vmap(torch.dot)(a, b)", _normal(4, 3),
                       _normal(4, 3)),
    "func-vmap-in-dims": _case("lambda a, b: torch.vmap(lambda r, v: r @ v, in_dims=(1, None))"
                               "(a, b)", _normal(3, 5), _normal(3)),
    "func-vmap-grad": _case(f"lambda x: torch.func.vmap(torch.func.grad({_CUBIC}))(x)",
                            _normal(5, 2)),
    "func-vjp": _case("lambda x, v: torch.func.vjp(torch.sin, x)[1](v)[0]", _normal(4),
                      _normal(4)),
    "func-jvp": _case("lambda x, v: torch.func.jvp(torch.exp, (x,), (v,))[1]", _normal(4),
                      _normal(4)),
    "func-functional-call": _case(
        "lambda x, w, b: torch.func.functional_call(torch.nn.Linear(3, 2).double(), "
        "{'weight': w, 'bias': b}, (x,))", _normal(4, 3), _normal(2, 3), _normal(2)),
    "autograd-jacobian": _case(f"lambda x, y: torch.cat([j.flatten() for j in "
                               f"torch.autograd.functional.jacobian({_SYSTEM}, (x, y), "
                               "create_graph=True)])", _normal(2), _normal(3)),
    "autograd-hessian": _case(f"lambda x: torch.autograd.functional.hessian({_CUBIC}, x, "
                              "create_graph=True)", _normal(3)),
    "autograd-vjp": _case("lambda x, v: torch.autograd.functional.vjp(torch.tanh, x, v, "
                          "create_graph=True)[1]", _normal(3), _normal(3)),
    "autograd-jvp": _case("lambda x, v: torch.autograd.functional.jvp(torch.tanh, x, v, "
                          "create_graph=True)[1]", _normal(3), _normal(3)),
    "autograd-hvp": _case(f"lambda x, v: torch.autograd.functional.hvp({_CUBIC}, x, v, "
                          "create_graph=True)[1]", _normal(3), _normal(3)),
    "autograd-vhp": _case(f"lambda x, v: torch.autograd.functional.vhp({_CUBIC}, x, v)[1]",
                          _normal(3), _normal(3), grad=False),
})

# PyTorch's igamma/igammac are off by up to ~2e-9 for large a (mpmath: P(155.8, 110.3) =
# 2.52972908870502e-05; PyTorch 2.529729084799e-05, chainrule 2.529729088705e-05)
_GAMMA_A = {"values": [0.3, 1.0, 2.5, 7.0, 40.0, 150.0], "const": True}
_GAMMA_X = {"values": [0.2, 1.5, 2.0, 9.0, 35.0, 110.0]}
API_CASES.update({
    "igamma": _case("torch.igamma", _GAMMA_A, _GAMMA_X, rtol=1e-8),
    "igammac": _case("lambda a, x: a.igammac(x)", _GAMMA_A, _GAMMA_X, rtol=1e-8),
    "special-gammainc": _case("torch.special.gammainc", _GAMMA_A, _GAMMA_X, rtol=1e-8),
    "special-gammaincc": _case("torch.special.gammaincc", _GAMMA_A, _GAMMA_X, rtol=1e-8),
    "linalg-tensorinv": _case("lambda a: torch.linalg.tensorinv(a, ind=1)", _normal(6, 2, 3)),
    "linalg-tensorsolve": _case("lambda a, b: torch.linalg.tensorsolve(a, b, dims=(0,))",
                                _normal(4, 2, 2), _normal(2, 2)),
    "func-linearize": _case("lambda x, v: torch.func.linearize(torch.sin, x)[1](v)",
                            _normal(3), _normal(3)),
})

# -- Householder forms and low-rank factorizations (low-rank inputs: PyTorch's randomized
# answers are exact there; singular vectors through sign-invariant products)
_LOW_RANK = "lambda a, b: a @ b"
API_CASES.update({
    "geqrf": _case(f"lambda a: ({_FLAT})(*torch.geqrf(a))", _normal(2, 5, 3), grad=False),
    "householder-product": _case("lambda a, t: torch.linalg.householder_product(a, t)",
                                 _normal(5, 3), _normal(3)),
    "orgqr": _case("lambda a, t: torch.orgqr(a, t)", _normal(4, 4), _normal(2)),
    "ormqr-right-transposed": _case("lambda a, t, c: torch.ormqr(a, t, c, left=False, "
                                    "transpose=True)", _normal(4, 3), _normal(3), _normal(2, 4)),
    "svd-lowrank": _case(f"lambda a, b: (lambda u, s, v: torch.cat([((u * s) @ v.mT).flatten(), "
                         f"s]))(*torch.svd_lowrank(({_LOW_RANK})(a, b), q=2))",
                         _normal(6, 2), _normal(2, 5), rtol=1e-8),
    "pca-lowrank": _case(f"lambda a, b: torch.pca_lowrank(({_LOW_RANK})(a, b), q=2)[1]",
                         _normal(6, 2), _normal(2, 5), rtol=1e-8),
})

# -- special functions without derivatives (values only; PyTorch's J0/J1 are off by up to
# ~2e-4 relative near their zeros, against mpmath; chainrule's by 3e-13: tests/ops)
_X = {"values": [-7.5, -1.0, 0.0, 0.3, 1.5, 2.5, 4.0, 12.0, 30.0]}
_XPOS = {"values": [1e-3, 0.3, 1.5, 2.5, 7.0, 24.0, 26.0, 300.0]}
_DEGREES = {"values": [0, 1, 2, 3, 5, 7, 9, -1, 12], "dtype": "int64"}
for _name in ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
              "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
              "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
              "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
              "laguerre_polynomial_l", "legendre_polynomial_p"):
    API_CASES[f"special-{_name}"] = _case(f"lambda x, n: torch.special.{_name}(x / 8, n)",
                                          _X, _DEGREES, grad=False)
for _name in ("modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
              "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"):
    API_CASES[f"special-{_name}"] = _case(f"torch.special.{_name}", _XPOS, grad=False)
API_CASES.update({
    "special-spherical-bessel-j0": _case("torch.special.spherical_bessel_j0", _X, grad=False),
    "special-bessel-j0-away-from-zeros": _case("torch.special.bessel_j0", _X, grad=False,
                                               rtol=1e-6),
    "special-bessel-j1-away-from-zeros": _case("torch.special.bessel_j1", _X, grad=False,
                                               rtol=1e-5),
    "special-zeta": _case("torch.special.zeta", {"values": [2.0, 3.5, 1.2, 7.0, 2.0]},
                          {"values": [1.0, 0.25, 4.0, 2.0, 1e-3]}, grad=False),
})

# -- torch.signal.windows (symmetric and periodic)
for _sym in (True, False):
    for _name, _options in (("cosine", ""), ("exponential", ", tau=2.0"),
                            ("gaussian", ", std=1.7"), ("general_cosine", ", a=[0.5, 0.3, 0.2]"),
                            ("general_hamming", ", alpha=0.6"), ("hamming", ""), ("hann", ""),
                            ("blackman", ""), ("nuttall", ""), ("bartlett", ""),
                            ("kaiser", ", beta=5.0")):
        API_CASES[f"signal-{_name}-{'sym' if _sym else 'periodic'}"] = _case(
            f"lambda: torch.signal.windows.{_name}(9, sym={_sym}{_options}, "
            "dtype=torch.float64)", grad=False)
API_CASES["signal-exponential-off-centre"] = _case(
    "lambda: torch.signal.windows.exponential(6, center=1.0, sym=False)", grad=False)
