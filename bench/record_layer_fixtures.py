"""Record PyTorch's results for the optimizers, layers and losses that chainrule mirrors.

Run with a Python that has torch (PyTorch 2.13 CPU was used):

    PYTHONPATH=src /work/torchenv/bin/python bench/record_layer_fixtures.py

It writes JSON fixtures beside the tests that read them (``tests/optim/torch_optimizers.json``
...). Every number is float64; the tests compare chainrule against them without torch."""

import json
import zlib
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
torch.set_default_dtype(torch.float32)  # PyTorch's scalar optimizer state follows this


def _write(path, payload):
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
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
    defaults = {}
    for cls_name in sorted({c for c, _ in OPTIMIZER_CASES.values()} | {"Muon", "LBFGS"}):
        made = getattr(torch.optim, cls_name)([torch.zeros(2, 2, requires_grad=True)])
        defaults[cls_name] = {k: list(v) if isinstance(v, tuple) else v
                              for k, v in made.defaults.items()}
    _write(ROOT / "tests/optim/torch_optimizers.json", {
        "defaults": defaults,
        "torch": torch.__version__, "steps": OPTIMIZER_STEPS,
        "problem": {"W0": W0.tolist(), "B0": B0.tolist(), "A": A_W.tolist(), "C": C_W.tolist()},
        "cases": cases,
        "lbfgs": {"x0": LBFGS_X0, "steps": LBFGS_STEPS, "cases": lbfgs},
    })


# -- layers, functions and losses -------------------------------------------------------------
# Each case: an expression in PyTorch's vocabulary (``nn``, ``F``, ``torch``) that is either a
# module (called on the inputs, or by the case's "call" lambda of the module and the inputs,
# which passes masks and options) or a function of the inputs x0, x1, ...; input specs: a shape
# of standard normals, "positive" (U(0.5, 2)), "unit" (U(0.05, 0.95)), "int": n (integers in
# [0, n)), or explicit "values"; "const" marks a float input that takes no gradient. The
# recorded outputs and the gradients of sum(output * weights) are float64.
from layer_cases import LAYER_CASES  # noqa: E402 - the table is long; it has its own file


def _input(spec, rng):
    if "values" in spec:
        return torch.tensor(spec["values"], dtype=getattr(torch, spec.get("dtype", "float64")))
    shape = spec["shape"]
    if "int" in spec:
        return torch.tensor(rng.integers(spec.get("low", 0), spec["int"], shape))
    if spec.get("kind") == "positive":
        return torch.tensor(rng.uniform(0.5, 2.0, shape))
    if spec.get("kind") == "unit":
        return torch.tensor(rng.uniform(0.05, 0.95, shape))
    return torch.tensor(rng.standard_normal(shape))


def pattern(shape, phase):
    """Deterministic values of a shape (the tests compute the same): cos(0.53 k + phase)."""
    count = int(np.prod(shape)) if len(shape) else 1
    return np.cos(0.53 * np.arange(count) + phase).reshape(shape)


def _set_parameters(module):
    """Every parameter set to a fixed pattern, so the fixture need not store them."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            phase = zlib.crc32(name.encode()) % 1000 / 100
            param.copy_(torch.tensor(0.5 * pattern(tuple(param.shape), phase)))


def _record_layer(name, case):
    nn, F = torch.nn, torch.nn.functional
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    torch.manual_seed(0)
    made = eval(case["expr"], {"nn": nn, "F": F, "torch": torch, "math": __import__("math")})
    inputs = [_input(spec, rng) for spec in case["inputs"]]
    needs_grad = [x.is_floating_point() and case.get("grad", True) and not spec.get("const")
                  for x, spec in zip(inputs, case["inputs"])]
    for x, flag in zip(inputs, needs_grad):
        x.requires_grad_(flag)
    buffers, record_repr, params = {}, None, []
    if isinstance(made, nn.Module):
        made = made.double()
        made.train(case.get("train", False))
        _set_parameters(made)
        params = list(made.named_parameters())
        buffers = {k: v.detach().numpy().tolist() for k, v in made.named_buffers()}
        record_repr = repr(made)
        call = eval(case.get("call", "lambda m, *xs: m(*xs)"), {"nn": nn, "F": F, "torch": torch})
        outputs = call(made, *inputs)
        buffers_after = {k: v.detach().numpy().tolist() for k, v in made.named_buffers()}
    else:
        outputs = made(*inputs)
        buffers_after = {}
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    record = {"inputs": [x.detach().numpy().tolist() for x in inputs],
              "input_dtypes": [str(x.dtype).replace("torch.", "") for x in inputs],
              "input_grad": needs_grad, "buffers": buffers, "buffers_after": buffers_after,
              "repr": record_repr,
              "outputs": [o.detach().numpy().tolist() for o in outputs],
              "output_dtypes": [str(o.dtype).replace("torch.", "") for o in outputs]}
    first = outputs[0]
    if case.get("grad", True) and first.requires_grad:
        # d/d(inputs, params) of sum(output * pattern); parameter gradients are stored as their
        # dot product with a second pattern (one number each keeps the file small)
        loss = (first * torch.tensor(pattern(tuple(first.shape), 0.1))).sum()
        wrt = [x for x in inputs if x.requires_grad] + [p for _, p in params]
        grads = torch.autograd.grad(loss, wrt, allow_unused=True)
        inputs_with_grad = sum(1 for x in inputs if x.requires_grad)
        record["input_grads"] = [None if g is None else g.numpy().tolist()
                                 for g in grads[:inputs_with_grad]]
        record["param_grads"] = {
            pname: None if g is None else float((g.numpy() * pattern(tuple(g.shape), 0.7)).sum())
            for (pname, _), g in zip(params, grads[inputs_with_grad:])}
    return record


def record_layers():
    cases = {}
    for name, case in LAYER_CASES.items():
        cases[name] = dict(case, **_record_layer(name, case))
    _write(ROOT / "tests/nn/torch_layers.json", {"torch": torch.__version__, "cases": cases})


# -- schedulers -------------------------------------------------------------------------------
SCHEDULER_CASES = {
    "multiplicative": ("sgd", "lr_scheduler.MultiplicativeLR(opt, lr_lambda=lambda e: 0.9)"),
    "constant": ("sgd", "lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3)"),
    "polynomial": ("sgd", "lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)"),
    "warm-restarts": ("sgd", "lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, "
                             "eta_min=0.01)"),
    "cyclic-sgd": ("sgd", "lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2, "
                          "step_size_down=3)"),
    "cyclic-adam-triangular2": ("adam", "lr_scheduler.CyclicLR(opt, [0.01, 0.02], [0.1, 0.3], "
                                        "step_size_up=2, mode='triangular2')"),
    "cyclic-exp-range": ("sgd", "lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=3, "
                                "mode='exp_range', gamma=0.9, cycle_momentum=False)"),
    "chained": ("sgd", "lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt, 0.5, 2), "
                       "lr_scheduler.ExponentialLR(opt, 0.9)])"),
}
SCHEDULER_STEPS = 12


def _scheduler_optimizer(kind):
    w, b = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    if kind == "adam":
        return torch.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    return torch.optim.SGD([w, b], lr=0.1, momentum=0.9)


def record_schedulers():
    cases = {}
    for name, (kind, expr) in SCHEDULER_CASES.items():
        opt = _scheduler_optimizer(kind)
        sched = eval(expr, {"lr_scheduler": torch.optim.lr_scheduler, "opt": opt})
        history = []
        for _ in range(SCHEDULER_STEPS):
            opt.step()
            sched.step()
            history.append([[g["lr"], g.get("momentum"), list(g["betas"]) if "betas" in g
                             else None] for g in opt.param_groups])
        cases[name] = {"optimizer": kind, "expr": expr, "history": history}
    _write(ROOT / "tests/optim/torch_schedulers.json", {"torch": torch.__version__,
                                                        "cases": cases})


# -- bfloat16 rounding ---------------------------------------------------------------------------
def record_bfloat16():
    """PyTorch's float32 -> bfloat16 rounding (round to nearest even), as bit patterns."""
    values = np.array([0.0, -0.0, 1.0, 3.14159, -2.7, 1e-3, 1.00390625, 1.01171875, 3e38, 3.4e38,
                       1e-40, -1e-45, np.inf, -np.inf, 65504.0, 0.1, -123.456],
                      dtype=np.float32)
    rounded = torch.from_numpy(values).bfloat16()
    _write(ROOT / "tests/torch_bfloat16.json", {
        "torch": torch.__version__, "float32": [float(v) for v in values],
        "bits": rounded.view(torch.int16).numpy().astype(np.uint16).tolist(),
        "back_to_float32": [float(v) for v in rounded.float().numpy()],
    })


if __name__ == "__main__":
    record_optimizers()
    record_layers()
    record_bfloat16()
    record_schedulers()
