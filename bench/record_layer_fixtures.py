"""Record PyTorch's results for the optimizers, layers and losses that chainrule mirrors.

Run with a Python that has torch (PyTorch 2.13 CPU was used):

    PYTHONPATH=src /work/torchenv/bin/python bench/record_layer_fixtures.py

It writes JSON fixtures beside the tests that read them (``tests/optim/torch_optimizers.json``
...). Every number is float64; the tests compare chainrule against them without torch."""

import json
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
torch.set_default_dtype(torch.float32)  # PyTorch's scalar optimizer state follows this


def _write(path, payload):
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")


# -- optimizers ------------------------------------------------------------------------------
W0 = np.linspace(-1.5, 1.7, 12).reshape(3, 4)
B0 = np.array([0.5, -1.2, 0.8])
A_W = np.linspace(0.5, 2.0, 12).reshape(3, 4)
C_W = np.linspace(-0.4, 0.3, 12).reshape(3, 4)


def optimizer_objective(w, b):
    """f(W, b) = sum(A W^2)/2 + sum(C W) + sum(tanh(W) 1 * b) + sum(b^2): both a matrix and a
    vector parameter (Adafactor treats them differently), coupled through tanh."""
    a, c = torch.tensor(A_W), torch.tensor(C_W)
    return ((a * w * w).sum() / 2 + (c * w).sum() + (w.tanh().sum(1) * b).sum()
            + (b * b).sum())


def muon_objective(w):
    """Muon takes matrices only: f(W, 0), or f(W^T, 0) for the tall case."""
    w = w if w.shape == A_W.shape else w.T
    return optimizer_objective(w, torch.zeros(w.shape[0], dtype=torch.float64))


OPTIMIZER_CASES = {
    "adadelta-defaults": ("Adadelta", {}),
    "adadelta-options": ("Adadelta", {"lr": 0.5, "rho": 0.6, "eps": 1e-3, "weight_decay": 0.1,
                                      "maximize": True}),
    "adamax-defaults": ("Adamax", {}),
    "adamax-options": ("Adamax", {"lr": 0.1, "betas": [0.6, 0.5], "eps": 0.05,
                                  "weight_decay": 0.2}),
    "nadam-defaults": ("NAdam", {}),
    "nadam-options": ("NAdam", {"lr": 0.1, "betas": [0.7, 0.8], "eps": 0.01,
                                "weight_decay": 0.1, "momentum_decay": 0.3}),
    "nadam-decoupled": ("NAdam", {"lr": 0.1, "weight_decay": 0.3, "decoupled_weight_decay": True,
                                  "maximize": True}),
    "radam-defaults": ("RAdam", {}),
    # beta2 = 0.5 makes rho_t pass 5 at step 4 (rho_inf = 3: never; so 0.6 -> rho_inf 4; use
    # 0.8: rho_inf = 9, rho_t > 5 from step 3), so both branches of the rule run
    "radam-rectified": ("RAdam", {"lr": 0.1, "betas": [0.5, 0.8], "eps": 0.01,
                                  "weight_decay": 0.1}),
    "radam-decoupled": ("RAdam", {"lr": 0.1, "betas": [0.5, 0.8], "weight_decay": 0.2,
                                  "decoupled_weight_decay": True, "maximize": True}),
    "asgd-defaults": ("ASGD", {}),
    "asgd-averaging": ("ASGD", {"lr": 0.1, "lambd": 0.3, "alpha": 0.5, "t0": 2,
                                "weight_decay": 0.1}),
    "rprop-defaults": ("Rprop", {}),
    "rprop-options": ("Rprop", {"lr": 0.3, "etas": [0.3, 1.5], "step_sizes": [0.05, 0.4],
                                "maximize": True}),
    "adafactor-defaults": ("Adafactor", {}),
    "adafactor-options": ("Adafactor", {"lr": 0.3, "beta2_decay": -0.5, "eps": [1e-3, 0.01],
                                        "d": 1.5, "weight_decay": 0.1, "maximize": True}),
}
MUON_CASES = {
    "muon-defaults": {},
    "muon-options": {"lr": 0.05, "weight_decay": 0.2, "momentum": 0.8, "nesterov": False,
                     "ns_steps": 3, "adjust_lr_fn": "match_rms_adamw"},
    "muon-tall": {"lr": 0.05},  # more rows than columns: the iteration runs on the transpose
}
OPTIMIZER_STEPS = 5


def _optimizer_history(cls_name, kwargs, params):
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    opt = getattr(torch.optim, cls_name)(params, **kwargs)
    history = []
    for _ in range(OPTIMIZER_STEPS):
        opt.zero_grad()
        loss = optimizer_objective(*params) if len(params) == 2 else muon_objective(params[0])
        loss.backward()
        opt.step()
        history.append([p.detach().numpy().tolist() for p in params])
    return history


def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


LBFGS_CASES = {
    "lbfgs-defaults": {},
    "lbfgs-short": {"lr": 0.5, "max_iter": 4, "history_size": 2},
    "lbfgs-strong-wolfe": {"line_search_fn": "strong_wolfe", "max_iter": 6},
    "lbfgs-strong-wolfe-history": {"line_search_fn": "strong_wolfe", "max_iter": 5,
                                   "history_size": 3, "max_eval": 9},
}
LBFGS_X0 = [-1.2, 1.0, -0.5, 0.8]
LBFGS_STEPS = 3


def _lbfgs_history(kwargs):
    x = torch.tensor(LBFGS_X0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([x], **kwargs)
    evaluations = [0]

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        evaluations[0] += 1
        return loss

    history = []
    for _ in range(LBFGS_STEPS):
        loss = opt.step(closure)
        history.append({"loss": float(loss.detach()), "x": x.detach().numpy().tolist(),
                        "evaluations": evaluations[0]})
    return history


def record_optimizers():
    cases = {}
    for name, (cls_name, kwargs) in OPTIMIZER_CASES.items():
        params = [torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)]
        cases[name] = {"class": cls_name, "kwargs": kwargs,
                       "history": _optimizer_history(cls_name, kwargs, params)}
    for name, kwargs in MUON_CASES.items():
        w0 = W0.T.copy() if name == "muon-tall" else W0
        params = [torch.tensor(w0, requires_grad=True)]
        cases[name] = {"class": "Muon", "kwargs": kwargs, "transpose": name == "muon-tall",
                       "history": _optimizer_history("Muon", kwargs, params)}
    lbfgs = {name: {"kwargs": kwargs, "history": _lbfgs_history(kwargs)}
             for name, kwargs in LBFGS_CASES.items()}
    _write(ROOT / "tests/optim/torch_optimizers.json", {
        "torch": torch.__version__, "steps": OPTIMIZER_STEPS,
        "problem": {"W0": W0.tolist(), "B0": B0.tolist(), "A": A_W.tolist(), "C": C_W.tolist()},
        "cases": cases,
        "lbfgs": {"x0": LBFGS_X0, "steps": LBFGS_STEPS, "cases": lbfgs},
    })


if __name__ == "__main__":
    record_optimizers()
