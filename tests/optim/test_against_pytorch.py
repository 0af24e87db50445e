"""The optimizers PyTorch added after SGD/Adam, against PyTorch's own trajectories.

``torch_optimizers.json`` is written by ``bench/record_layer_fixtures.py`` (PyTorch 2.13 CPU):
five steps on a float64 problem with a matrix and a vector parameter, and three L-BFGS steps
on the Rosenbrock function. chainrule reproduces them here without torch."""

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

FIXTURE = json.loads((Path(__file__).parent / "torch_optimizers.json").read_text())
PROBLEM = {key: np.array(value) for key, value in FIXTURE["problem"].items()}


def objective(w, b):
    """The fixture's f(W, b) = sum(A W^2)/2 + sum(C W) + sum(tanh(W) 1 * b) + sum(b^2)."""
    a, c = cr.from_numpy(PROBLEM["A"]), cr.from_numpy(PROBLEM["C"])
    return ((a * w * w).sum() / 2 + (c * w).sum() + (w.tanh().sum(1) * b).sum()
            + (b * b).sum())


def _kwargs(raw):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def _run(case):
    if case["class"] == "Muon":
        w0 = PROBLEM["W0"].T if case["transpose"] else PROBLEM["W0"]
        params = [cr.from_numpy(w0.copy()).requires_grad_()]
    else:
        params = [cr.from_numpy(PROBLEM["W0"].copy()).requires_grad_(),
                  cr.from_numpy(PROBLEM["B0"].copy()).requires_grad_()]
    opt = getattr(optim, case["class"])(params, **_kwargs(case["kwargs"]))
    history = []
    for _ in range(FIXTURE["steps"]):
        opt.zero_grad()
        if case["class"] == "Muon":
            w = params[0] if not case["transpose"] else params[0].T
            loss = objective(w, cr.zeros(w.shape[0], dtype=cr.float64))
        else:
            loss = objective(*params)
        loss.backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


@pytest.mark.parametrize("name", sorted(FIXTURE["cases"]))
def test_steps_match_pytorch(name):
    case = FIXTURE["cases"][name]
    # Muon's Newton-Schulz runs in bfloat16 (8 bits of mantissa): PyTorch's GEMM rounds its
    # sums once, ours may round a few values the other way, so compare to bfloat16 precision.
    rtol, atol = (2e-2, 2e-3) if case["class"] == "Muon" else (1e-11, 1e-13)
    for step, (ours, theirs) in enumerate(zip(_run(case), case["history"]), start=1):
        for got, want in zip(ours, theirs):
            np.testing.assert_allclose(got, np.array(want), rtol=rtol, atol=atol,
                                       err_msg=f"{name}, step {step}")


def test_the_fixture_cases_move_far_from_the_start():
    # the table must be able to fail: every case moves its parameters well beyond tolerance
    for name, case in FIXTURE["cases"].items():
        start = PROBLEM["W0"].T if case.get("transpose") else PROBLEM["W0"]
        assert np.abs(np.array(case["history"][-1][0]) - start).max() > 1e-3, name


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


@pytest.mark.parametrize("name", sorted(FIXTURE["lbfgs"]["cases"]))
def test_lbfgs_matches_pytorch(name):
    case = FIXTURE["lbfgs"]["cases"][name]
    # Unit steps without a line search on Rosenbrock amplify rounding differences (summation
    # order in dot products) about 1000x per 20 iterations: 1e-14, 3e-11, 3e-8 after steps
    # 1, 2, 3. The line-search runs stay within 1e-13.
    rtol = 1e-6 if "line_search_fn" not in case["kwargs"] else 1e-11
    x = cr.tensor(FIXTURE["lbfgs"]["x0"], dtype=cr.float64, requires_grad=True)
    opt = optim.LBFGS([x], **case["kwargs"])
    evaluations = [0]

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        evaluations[0] += 1
        return loss

    for step, want in enumerate(case["history"], start=1):
        loss = opt.step(closure)
        assert evaluations[0] == want["evaluations"], f"{name}, step {step}"
        np.testing.assert_allclose(float(loss), want["loss"], rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(x.detach().numpy(), want["x"], rtol=rtol, atol=1e-12,
                                   err_msg=f"{name}, step {step}")


@pytest.mark.parametrize("name", sorted(FIXTURE["cases"]))
def test_float32_parameters_stay_float32(name):
    case = FIXTURE["cases"][name]
    params = [cr.from_numpy(np.array(p, dtype=np.float32)).requires_grad_()
              for p in case["history"][0]]
    opt = getattr(optim, case["class"])(params, **_kwargs(case["kwargs"]))
    for p in params:
        p.grad = cr.ones_like(p)
    opt.step()
    for p in params:
        assert p.dtype == cr.float32
        for key, value in opt.state[p].items():
            assert value.dtype == cr.float32, (key, value.dtype)


def test_lbfgs_needs_a_closure():
    x = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="needs a closure"):
        optim.LBFGS([x]).step(None)


@pytest.mark.parametrize("name", sorted(FIXTURE["defaults"]))
def test_defaults_are_pytorchs(name):
    made = getattr(optim, name)([cr.zeros(2, 2, requires_grad=True)])
    ours = {k: list(v) if isinstance(v, tuple) else v for k, v in made.defaults.items()}
    assert ours == FIXTURE["defaults"][name]
