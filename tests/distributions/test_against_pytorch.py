"""chainrule.distributions against PyTorch's values, recorded in float64 by
bench/record_distributions.py over the cases in cases.py: statistics, log-densities, cdf/icdf,
entropies, enumerated supports, KL divergences, and the gradients of each with respect to the
parameters."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd

from .cases import CASES, KL_PAIRS, METHODS, STATISTICS, build, kl, run

TORCH = json.loads((Path(__file__).parent / "torch_distributions.json").read_text())


def numbers(x):
    return np.array(x if not isinstance(x, list) else [numbers(v) for v in x], dtype=float) \
        if not isinstance(x, str) else float(x)


def check(result, params, entry, rtol=1e-12, grad_rtol=1e-10):
    assert str(result.dtype).split(".")[-1] == entry["dtype"].split(".")[-1]
    np.testing.assert_allclose(result.detach().double().numpy(), numbers(entry["value"]),
                               rtol=rtol, atol=1e-12)
    if "grads" in entry:
        grads = autograd.grad(result.sum(), params, allow_unused=True)
        for grad, expected in zip(grads, entry["grads"]):
            if expected is None:
                assert grad is None
            else:
                np.testing.assert_allclose(grad.numpy(), numbers(expected), rtol=grad_rtol,
                                           atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes(name):
    dist, _ = build(cr, name)
    assert [list(dist.batch_shape), list(dist.event_shape)] == TORCH[f"{name}|shape"]


@pytest.mark.parametrize("what", STATISTICS + METHODS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients(name, what):
    result, params = run(cr, name, what)
    entry = TORCH[f"{name}|{what}"]
    if entry is None:
        assert result is None, f"PyTorch raises NotImplementedError for {name}.{what}"
        return
    # Python-number parameters become float32 tensors (as in PyTorch), whose float32 log is
    # PyTorch's vectorised one: 1 float32 ulp apart from NumPy's correctly rounded one
    rtol = 1e-7 if name.endswith("_scalar") else 1e-12
    check(result, params if result.requires_grad else [], entry, rtol, _grad_rtol(name))


@pytest.mark.parametrize("pair", KL_PAIRS, ids=["|".join(p) for p in KL_PAIRS])
def test_kl_divergence(pair):
    result, params = kl(cr, *pair)
    check(result, params, TORCH[f"kl|{pair[0]}|{pair[1]}"], grad_rtol=_grad_rtol(pair[0]))


def _grad_rtol(name):
    """Gradients through digamma's derivative (trigamma: Beta's, Dirichlet's and Student's t
    entropies and KL divergences): PyTorch's trigamma is off by up to 5e-10 (relative; ours is
    within 3e-16 of the series sum), which cancellation in these sums makes 1e-8."""
    return 1e-7 if name.startswith(("beta", "dirichlet", "student_t")) else 1e-10


def test_the_table_covers_every_recorded_entry():
    recorded = {k for k in TORCH if not k.startswith("kl|")}
    ours = {f"{n}|{w}" for n in CASES for w in (*STATISTICS, *METHODS, "shape")}
    assert recorded == ours
    assert math.isfinite(len(KL_PAIRS))
