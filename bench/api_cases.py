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
