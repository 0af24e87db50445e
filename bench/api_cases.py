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
