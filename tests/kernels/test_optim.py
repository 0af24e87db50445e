import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels


def _train(make_optimizer, steps=3):
    """Parameters and optimizer state after a few steps on fixed gradients."""
    rng = np.random.default_rng(0)
    params = [cr.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
              for shape in [(33, 17), (5,)]]
    optimizer = make_optimizer(params)
    for _ in range(steps):
        for p in params:
            p.grad = cr.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
        optimizer.step()
    state = [np.asarray(v) for p in params for v in optimizer.state[p].values()]
    return [p.detach().numpy() for p in params] + state


def _both(make_optimizer):
    with kernels.use_kernels(True, min_size=0):
        fast = _train(make_optimizer)
    with kernels.use_kernels(False):
        reference = _train(make_optimizer)
    return fast, reference


OPTIMIZERS = {
    "adam": lambda p: cr.optim.Adam(p, lr=1e-2),
    "adam_l2_amsgrad_max": lambda p: cr.optim.Adam(p, lr=1e-2, weight_decay=0.1, amsgrad=True,
                                                   maximize=True),
    "adamw": lambda p: cr.optim.AdamW(p, lr=1e-2, weight_decay=0.5),
    "sgd": lambda p: cr.optim.SGD(p, lr=0.1),
    "sgd_momentum_decay": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.2,
                                                 weight_decay=0.01),
    "sgd_nesterov_max": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                               maximize=True),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fused_update_matches_reference(name):
    fast, reference = _both(OPTIMIZERS[name])
    assert len(fast) == len(reference)
    for a, b in zip(fast, reference):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_adam_first_step_is_lr_times_sign():
    """Hand-derived: Adam's first step moves each weight by lr * g / (|g| + eps) = lr sign(g)."""
    p = cr.tensor(np.zeros(10, np.float32), requires_grad=True)
    p.grad = cr.tensor(np.linspace(-1, 1, 10, dtype=np.float32) + 0.05)
    with kernels.use_kernels(True, min_size=0):
        cr.optim.Adam([p], lr=0.5).step()
    np.testing.assert_allclose(p.detach().numpy(), -0.5 * np.sign(p.grad.numpy()), rtol=1e-6)


def test_non_contiguous_parameter_takes_the_reference_path():
    base = np.zeros((8, 8), np.float32)
    p = cr.tensor(base, requires_grad=True)
    p._data = base.T  # a view the kernel could not write through
    p.grad = cr.tensor(np.ones((8, 8), np.float32))
    with kernels.use_kernels(True, min_size=0):
        cr.optim.SGD([p], lr=0.5).step()
    np.testing.assert_allclose(p.detach().numpy(), -0.5)


@pytest.mark.parametrize("path", ["pool", "side by side", "jobs"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_takes_a_group_in_one_call_split_anywhere(monkeypatch, amsgrad, path):
    """Adam's group kernel cuts the parameters' elements, laid end to end, into one range per
    thread: with three threads the cuts fall inside the first and the last parameter; parameters
    of any size (a scalar, a 3-element bias) and a non-contiguous one (the reference's) mixed;
    the ranges run as the pool's tasks, side by side, or as jobs on the GEMM board."""
    from chainrule.kernels import optim as kernels_optim
    from chainrule.kernels import threads

    cores = 2 if path == "jobs" else 3  # (the board takes one job per pool thread)
    monkeypatch.setattr(threads, "free_cores", lambda: cores)
    monkeypatch.setitem(threads._state, "cap", cores)
    monkeypatch.setattr(threads, "_pool_spinning", lambda: path == "jobs")
    if path == "pool":
        monkeypatch.setattr(threads, "_side_by_side_usable", lambda: False)
    posted = []
    if path == "jobs":
        pool = threads._pool()
        hand_off_ranges = pool.hand_off_ranges
        monkeypatch.setattr(pool, "hand_off_ranges", lambda *args: posted.append(
            hand_off_ranges(*args)) or posted[-1])
    calls = []
    bounds_of = threads.range_bounds
    monkeypatch.setattr(threads, "range_bounds", lambda *args: calls.append(
        bounds_of(*args)) or calls[-1])

    def train():
        rng = np.random.default_rng(1)
        shapes = [(300_001,), (3,), (), (40, 9), (120_345,)]
        params = [cr.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
                  for s in shapes]
        params[3]._data = np.ascontiguousarray(params[3]._data.T).T  # not writable in place
        optimizer = cr.optim.Adam(params, lr=1e-2, weight_decay=0.1, amsgrad=amsgrad)
        for _ in range(3):
            for p in params:
                p.grad = cr.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
            optimizer.step()
        return [p.detach().numpy() for p in params]

    with kernels.use_kernels(True, min_size=1000):
        fast = train()
    assert len(calls) == 3 and all(len(bounds) == cores + 1 for bounds in calls)  # 1 a step
    assert posted == ([True] * 3 if path == "jobs" else [])
    # all but the non-contiguous parameter, each with its call's cost
    assert calls[0][-1] == 300_001 + 3 + 1 + 120_345 + 4 * kernels_optim.CALL_COST
    with kernels.use_kernels(False):
        reference = train()
    for a, b in zip(fast, reference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
