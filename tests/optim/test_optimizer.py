"""The Optimizer base class: parameter groups, state, zero_grad, step(closure), state_dict."""

import ast
import copy
import pathlib
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

RNG = np.random.default_rng(0)


def param(values, dtype=cr.float32):
    return cr.tensor(values, dtype=dtype, requires_grad=True)


def set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = cr.tensor(g, dtype=p.dtype)


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd-nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1),
    "adam-amsgrad": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, maximize=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, amsgrad=True),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "adadelta": lambda ps: optim.Adadelta(ps, lr=0.5, weight_decay=0.1),
    "adamax": lambda ps: optim.Adamax(ps, lr=0.01, weight_decay=0.1),
    "nadam": lambda ps: optim.NAdam(ps, lr=0.01, weight_decay=0.1),
    "radam": lambda ps: optim.RAdam(ps, lr=0.01, betas=(0.5, 0.8), decoupled_weight_decay=True,
                                    weight_decay=0.1),
    "asgd": lambda ps: optim.ASGD(ps, lr=0.1, t0=2),
    "rprop": lambda ps: optim.Rprop(ps, lr=0.1),
    "adafactor": lambda ps: optim.Adafactor(ps, lr=0.1, weight_decay=0.1),
}


# -- groups -------------------------------------------------------------------------------------
def test_param_groups_with_different_learning_rates():
    w, b = param([1.0, 2.0]), param([3.0])
    opt = optim.SGD([{"params": [w]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.0)
    set_grads([w, b], [[1.0, -1.0], [2.0]])
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.9, 2.1], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [2.0], rtol=1e-6)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b]  # a lone tensor becomes a list
    assert opt.param_groups[1]["momentum"] == 0.0  # missing options come from the defaults


def test_add_param_group_then_step_updates_the_new_group():
    w, b = param([1.0]), param([1.0])
    opt = optim.Adam([w], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01, "betas": (0.5, 0.9)})
    set_grads([w, b], [[1.0], [1.0]])
    opt.step()
    # Adam's first step moves each coordinate by about lr (m_hat / sqrt(v_hat) = sign(g)).
    np.testing.assert_allclose(w.detach().numpy(), [0.9], rtol=1e-5)
    np.testing.assert_allclose(b.detach().numpy(), [0.99], rtol=1e-5)


def test_a_parameter_in_two_groups_is_an_error():
    w = param([1.0])
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [param([2.0]), w]}], lr=0.1)


def test_duplicate_parameter_in_a_group_warns():
    w = param([1.0])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)


def test_bad_params_arguments():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(param([1.0]), lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {param([1.0])}}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    x = param([1.0])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([x * 2], lr=0.1)


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr=-0.1), "Invalid learning rate"),
    (lambda ps: optim.SGD(ps, momentum=-1), "Invalid momentum value"),
    (lambda ps: optim.SGD(ps, weight_decay=-1), "Invalid weight_decay value"),
    (lambda ps: optim.SGD(ps, nesterov=True), "Nesterov momentum requires"),
    (lambda ps: optim.SGD(ps, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda ps: optim.Adam(ps, lr=-1e-3), "Invalid learning rate"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), "beta parameter at index 0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda ps: optim.Adam(ps, eps=-1), "Invalid epsilon value"),
    (lambda ps: optim.AdamW(ps, weight_decay=-1), "Invalid weight_decay value"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.5), "Invalid alpha value"),
    (lambda ps: optim.RMSprop(ps, eps=-1), "Invalid epsilon value"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-1), "Invalid lr_decay value"),
    (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda ps: optim.SGD([{"params": ps, "lr": -1.0}]), "Invalid learning rate"),
    (lambda ps: optim.Adadelta(ps, rho=1.5), "Invalid rho value"),
    (lambda ps: optim.Adamax(ps, betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
    (lambda ps: optim.NAdam(ps, momentum_decay=-1), "Invalid momentum_decay value"),
    (lambda ps: optim.RAdam(ps, eps=-1), "Invalid epsilon value"),
    (lambda ps: optim.ASGD(ps, weight_decay=-1), "Invalid weight_decay value"),
    (lambda ps: optim.Rprop(ps, etas=(1.1, 1.2)), "Invalid eta values"),
    (lambda ps: optim.Adafactor(ps, d=0.5), "Clipping threshold d"),
    (lambda ps: optim.Adafactor(ps, beta2_decay=0.5), "beta2_decay should be <= 0"),
    (lambda ps: optim.Muon(ps), "Muon only supports 2D parameters"),
    (lambda ps: optim.Muon([param([[1.0]])], adjust_lr_fn="x"), "is not supported"),
    (lambda ps: optim.LBFGS(ps, line_search_fn="armijo"), "strong_wolfe"),
    (lambda ps: optim.LBFGS([{"params": ps}, {"params": [param([2.0])]}]),
     "doesn't support per-parameter options"),
    (lambda ps: optim.NAdam(ps, differentiable=True), "differentiable=True is not supported"),
])
def test_invalid_hyperparameters_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make([param([1.0])])


def test_defaults_and_signatures_follow_pytorch():
    p = [param([1.0])]
    assert optim.SGD(p).defaults["lr"] == 1e-3
    adam = optim.Adam(p).defaults
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"]) == (
        1e-3, (0.9, 0.999), 1e-8, 0)
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    rms = optim.RMSprop(p).defaults
    assert (rms["lr"], rms["alpha"], rms["eps"]) == (1e-2, 0.99, 1e-8)
    ada = optim.Adagrad(p).defaults
    assert (ada["lr"], ada["eps"], ada["initial_accumulator_value"]) == (1e-2, 1e-10, 0)
    with pytest.raises(TypeError):
        optim.Adam(p, 1e-3, (0.9, 0.999), 1e-8, 0, False, False)  # maximize is keyword-only


# -- step and zero_grad ---------------------------------------------------------------------
def test_parameters_without_grad_are_skipped():
    w, frozen = param([1.0]), param([5.0])
    opt = optim.Adam([w, frozen], lr=0.1)
    set_grads([w], [[1.0]])
    opt.step()
    assert frozen.detach().numpy().tolist() == [5.0]
    assert frozen not in opt.state and w in opt.state
    assert opt.state[w]["step"].item() == 1.0


def test_step_bumps_the_version_counter():
    w = param([1.0, 2.0])
    opt = optim.SGD([w], lr=0.1)
    before = w._version
    set_grads([w], [[1.0, 1.0]])
    opt.step()
    opt.step()
    assert w._version == before + 2


def test_zero_grad():
    w = param([1.0, 2.0])
    opt = optim.SGD([w], lr=0.1)
    set_grads([w], [[3.0, 4.0]])
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and w.grad.detach().numpy().tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_closure_is_evaluated_with_grad_enabled_and_its_loss_returned():
    w = param([2.0])
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    assert w.detach().numpy().tolist() == [1.0]  # 2 - 0.25 * (2 * 2)
    assert optim.SGD([w]).step() is None


def test_step_leaves_the_gradient_untouched():
    w = param([1.0, -1.0])
    opt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5, maximize=True)
    set_grads([w], [[0.5, 0.25]])
    opt.step()
    opt.step()
    assert w.grad.detach().numpy().tolist() == [0.5, 0.25]


def test_named_parameters():
    w, b = param([1.0]), param([2.0])
    opt = optim.SGD([("weight", w), ("bias", b)], lr=0.1)
    assert opt.param_groups[0]["params"] == [w, b]
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_custom_optimizer_in_pytorch_style():
    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            with cr.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            p.sub_(p.grad.sign() * group["lr"])

    w = param([1.0, -1.0])
    opt = SignSGD([w])
    set_grads([w], [[3.0, -0.5]])
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.9, -0.9], rtol=1e-6)
    assert opt._opt_called  # schedulers rely on this to check the call order


def test_repr_lists_the_groups():
    text = repr(optim.SGD([param([1.0])], lr=0.5))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.5" in text


# -- state_dict ---------------------------------------------------------------------------------
def test_state_dict_format():
    w, b = param([1.0, 2.0]), param([3.0])
    opt = optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    set_grads([w, b], [[1.0, 1.0], [1.0]])
    opt.step()
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert set(sd["state"]) == {0, 1}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    step = sd["state"][0]["step"]
    assert isinstance(step, cr.Tensor) and step.dtype == cr.float32 and step.item() == 2.0
    assert isinstance(sd["state"][0]["exp_avg"], cr.Tensor)


def test_sgd_without_momentum_has_no_state():
    w = param([1.0])
    opt = optim.SGD([w], lr=0.1)
    set_grads([w], [[1.0]])
    opt.step()
    assert opt.state_dict()["state"] == {}


def test_adagrad_state_exists_from_construction():
    w = param([1.0, 2.0])
    sd = optim.Adagrad([w], initial_accumulator_value=0.3).state_dict()
    assert sd["state"][0]["step"].item() == 0.0
    np.testing.assert_allclose(sd["state"][0]["sum"].numpy(), [0.3, 0.3], rtol=1e-6)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_resuming_from_a_state_dict_gives_bit_identical_steps(name):
    make = OPTIMIZERS[name]
    shapes = [(3, 2), (4,)]
    grads = [[RNG.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(6)]
    params = [param(RNG.standard_normal(s)) for s in shapes]
    opt = make(params)
    for step_grads in grads[:3]:
        set_grads(params, step_grads)
        opt.step()
    saved = opt.state_dict()
    copies = [param(p.detach().numpy().copy()) for p in params]
    resumed = make(copies)
    resumed.load_state_dict(saved)
    for step_grads in grads[3:]:
        set_grads(params, step_grads)
        set_grads(copies, step_grads)
        opt.step()
        resumed.step()
    for original, copy_ in zip(params, copies):
        assert np.array_equal(original.detach().numpy(), copy_.detach().numpy())
    # The loaded state is a copy: stepping one optimizer leaves the other's buffers alone.
    for p, q in zip(params, copies):
        for key in opt.state[p]:
            assert opt.state[p][key]._data is not resumed.state[q][key]._data


def test_load_state_dict_restores_hyperparameters():
    w = param([1.0])
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.param_groups[0]["lr"] = 0.01
    sd = copy.deepcopy(opt.state_dict())
    other = optim.SGD([param([1.0])], lr=0.5)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.01 and other.param_groups[0]["momentum"] == 0.9


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    w64 = param([1.0, 2.0], dtype=cr.float64)
    opt = optim.Adam([w64], lr=0.1)
    set_grads([w64], [[1.0, 1.0]])
    opt.step()
    w32 = param([1.0, 2.0])
    other = optim.Adam([w32], lr=0.1)
    other.load_state_dict(opt.state_dict())
    assert other.state[w32]["exp_avg"].dtype == cr.float32
    assert other.state[w32]["step"].dtype == cr.float32


def test_load_state_dict_mismatches_are_errors():
    w, b = param([1.0]), param([2.0, 3.0])
    opt = optim.Adam([w, b], lr=0.1)
    set_grads([w, b], [[1.0], [1.0, 1.0]])
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": [param([1.0])]}, {"params": [param([1.0])]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam([param([1.0])]).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"has shape \(2,\)"):
        optim.Adam([param([1.0]), param([1.0, 2.0, 3.0])]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.Adam([w]).load_state_dict({"state": {}})


# -- whole problems ---------------------------------------------------------------------------
def test_adam_fits_a_linear_regression():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    true_w = np.array([[1.5], [-2.0], [0.5]], dtype=np.float32)
    y = x @ true_w + 0.3 + 0.01 * rng.standard_normal((64, 1)).astype(np.float32)
    xt, yt = cr.tensor(x), cr.tensor(y)
    w, b = param(np.zeros((3, 1))), param([0.0])
    opt = optim.Adam([w, b], lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        loss = ((xt @ w + b - yt) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3
    np.testing.assert_allclose(w.detach().numpy(), true_w, atol=0.02)


def test_optim_does_not_import_nn():
    package = pathlib.Path(optim.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                assert "nn" not in module.lstrip(".").split("."), (path.name, module)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("chainrule.nn") for a in node.names)


def test_no_warnings_in_a_plain_training_step():
    w = param([1.0])
    opt = optim.Adam([w])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        set_grads([w], [[1.0]])
        opt.step()
        opt.zero_grad()


def test_a_step_counter_stored_with_shape_one_is_accepted():
    w = param([1.0, 2.0])
    opt = optim.Adam([w], lr=0.1)
    set_grads([w], [[1.0, 1.0]])
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = cr.tensor([1.0])
    other = optim.Adam([param([1.0, 2.0])], lr=0.1)
    other.load_state_dict(sd)
    assert other.state_dict()["state"][0]["step"].shape == ()


def test_scalar_state_follows_the_default_dtype_as_in_pytorch():
    # torch.optim keeps step (and NAdam's mu_product, ASGD's eta and mu) in float64 while the
    # default dtype is float64, in float32 otherwise (_get_scalar_dtype)
    import chainrule as cr

    previous = cr.get_default_dtype()
    with cr.random.fork_rng():  # (the models' draws leave the other tests' numbers alone)
        try:
            for dtype in (cr.float32, cr.float64):
                cr.set_default_dtype(dtype)
                model = cr.nn.Linear(2, 1)
                for make in (cr.optim.Adam, cr.optim.NAdam, cr.optim.ASGD):
                    opt = make(model.parameters())
                    model(cr.ones(1, 2)).sum().backward()
                    opt.step()
                    state = opt.state_dict()["state"][0]
                    assert state["step"].dtype == dtype
                    for name in ("mu_product", "eta", "mu"):
                        if name in state:
                            assert state[name].dtype == dtype, name
        finally:
            cr.set_default_dtype(previous)
