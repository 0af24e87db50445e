"""The update meter (diagnostics/updates.py): a large matrix's update measured on every
ROW_STRIDE-th row as a lower bound, whole copies where that bound does not decide, and the
stall rule's findings the same as with whole copies always."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, updates
from chainrule.diagnostics.updates import ROW_STRIDE, UpdateMeter
from chainrule.nn import functional as F


def reference(array):
    wide = np.asarray(array, np.float64).reshape(-1)
    return float(np.dot(wide, wide))


def big_layer():
    torch.manual_seed(0)
    return nn.Linear(300, 256)  # 76,800 weights: more than WHOLE_UP_TO, 256 rows


def moved_by(layer, rows):
    """The update written into ``rows`` of the layer's weight; returns the weights before."""
    before = layer.weight._data.copy()
    step = np.zeros_like(before)
    step[rows] = np.random.default_rng(1).standard_normal(step[rows].shape) * 1e-3
    layer.weight._data += step
    return before


def test_sampled_rows_bound_the_update_and_scale_to_an_estimate():
    layer = big_layer()
    meter = UpdateMeter(stall_low=1e-6)
    meter.take([("fc", layer, list(layer.named_parameters()))])
    before = moved_by(layer, slice(None))
    after_square, before_square, moved, estimate, whole = meter.norms(layer.weight)
    weights = layer.weight._data
    assert not whole
    # estimated from the sampled rows, whose norms agree (an initialised layer): within a few
    # ESTIMATE_ERROR (a standard error), before and after the update alike
    assert after_square == pytest.approx(reference(weights), rel=2 * updates.ESTIMATE_ERROR)
    assert after_square != reference(weights)
    assert before_square == pytest.approx(reference(before), rel=2 * updates.ESTIMATE_ERROR)
    assert before_square != reference(before)
    assert moved == pytest.approx(reference((weights - before)[::ROW_STRIDE]), rel=1e-4)
    assert moved <= reference(weights - before)
    assert estimate == pytest.approx(moved * ROW_STRIDE)
    assert estimate == pytest.approx(reference(weights - before), rel=0.2)  # every row moved alike


def test_weights_grown_in_every_row_are_estimated_grown():
    # an explosion grows every row: the estimate from the sampled rows follows it (the
    # weight-growth rule's 2x), and is never below what those rows alone hold after it
    layer = big_layer()
    meter = UpdateMeter(stall_low=1e-6)
    meter.take([("fc", layer, list(layer.named_parameters()))])
    before = layer.weight._data.copy()
    layer.weight._data *= 3.0
    after_square, before_square, _, _, whole = meter.norms(layer.weight)
    assert not whole
    assert after_square / before_square == pytest.approx(9.0, rel=0.1)
    assert after_square == pytest.approx(reference(layer.weight._data), rel=0.1)
    assert before_square == pytest.approx(reference(before), rel=2 * updates.ESTIMATE_ERROR)
    assert updates._after_estimate(10.0, 1.0, 5.0, 16) == 1.0  # the rows' own norm at least


def compiled_or_not(compiled, monkeypatch):
    if compiled:
        pytest.importorskip("numba")  # (the kernels are used once numba is loaded)
    else:
        monkeypatch.setattr(updates, "_sampled_kernels", lambda array: None)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("rows", ["grown", "dead", "zero", "alike"])
def test_a_matrix_whose_sampled_rows_differ_is_read_whole_before_the_update(
        rows, compiled, monkeypatch):
    # some units grown 10x, or dead (zero weights), among the sampled rows: their norm no
    # longer stands for the whole, which is read exactly; all zero: nothing to scale
    compiled_or_not(compiled, monkeypatch)
    layer = big_layer()
    weights = layer.weight._data
    if rows == "zero":
        weights[:] = 0.0
    elif rows != "alike":
        weights[::4 * ROW_STRIDE] *= 10.0 if rows == "grown" else 0.0
    meter = UpdateMeter(stall_low=1e-6)
    meter.take([("fc", layer, list(layer.named_parameters()))])
    _, before_square, _, _, whole = meter.norms(layer.weight)
    exact = before_square == pytest.approx(reference(weights), rel=1e-6)
    assert not whole and exact == (rows != "alike")
    assert before_square == pytest.approx(reference(weights), rel=2 * updates.ESTIMATE_ERROR)


def test_the_compiled_row_reads_match_numpy():
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((256, 300)).astype(np.float32)
    copy = matrix[::ROW_STRIDE].copy()
    matrix += rng.standard_normal(matrix.shape).astype(np.float32) * 1e-3
    numba_loaded = pytest.importorskip("numba")
    assert numba_loaded and updates._sampled_kernels(matrix) is not None
    wide, rows = copy.astype(np.float64), matrix[::ROW_STRIDE].astype(np.float64)
    from chainrule.kernels import sampled

    out = np.empty_like(copy)
    total, spread = sampled.copy_rows(matrix, ROW_STRIDE, out)
    np.testing.assert_array_equal(out, matrix[::ROW_STRIDE])
    squares = updates._row_squares(out)
    assert (total, spread) == pytest.approx((squares.sum(), (squares ** 2).sum()), rel=1e-12)
    after, before, moved = sampled.update_rows(matrix, copy, ROW_STRIDE)
    assert after == pytest.approx((rows ** 2).sum(), rel=1e-12)
    assert before == pytest.approx((wide ** 2).sum(), rel=1e-12)
    assert moved == pytest.approx(((rows - wide) ** 2).sum(), rel=1e-9)


def test_rows_that_stood_still_make_the_next_samples_exact():
    layer = big_layer()
    meter = UpdateMeter(stall_low=1e-6)
    layers = [("fc", layer, list(layer.named_parameters()))]
    unsampled = [r for r in range(256) if r % ROW_STRIDE]  # the sampled rows stand still
    meter.take(layers)
    moved_by(layer, unsampled)
    _, before, moved, estimate, whole = meter.norms(layer.weight)
    ratio = meter.ratio("fc", before ** 0.5, moved ** 0.5, estimate ** 0.5, whole, 0.0)
    assert moved == 0.0 and ratio == 0.0 and "fc" in meter.exact  # a lower bound, not decided
    meter.take(layers)
    previous = moved_by(layer, unsampled)
    _, before, moved, estimate, whole = meter.norms(layer.weight)
    assert whole and moved == pytest.approx(reference(layer.weight._data - previous), rel=1e-6)
    ratio = meter.ratio("fc", before ** 0.5, moved ** 0.5, estimate ** 0.5, whole, 0.0)
    assert ratio > 1e-4 and "fc" not in meter.exact  # measured above the threshold: rows again


class Sliced(nn.Module):
    """A large layer of which only some outputs reach the loss: the others get no gradient."""

    def __init__(self, used):
        super().__init__()
        self.big = nn.Linear(300, 256)
        self.head = nn.Linear(len(used), 4)
        self.used = torch.tensor(used)

    def forward(self, x):
        return self.head(torch.relu(self.big(x))[:, self.used])


def findings(model_fn, optimizer_fn, exact, steps=40, monkeypatch=None):
    if exact:
        monkeypatch.setattr(updates, "WHOLE_UP_TO", 1 << 40)
    torch.manual_seed(0)
    model = model_fn()
    optimizer = optimizer_fn(model)
    x, y = torch.randn(64, 300), torch.randn(64, 4)
    found = []
    with GradientMonitor(model, every=5) as monitor:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            found += [(f.rule, f.layer, f.step) for f in monitor.step(loss, lr=1e-3)]
    if exact:
        monkeypatch.undo()
    return found


@pytest.mark.parametrize("stalled", [True, False])
def test_findings_are_those_of_whole_copies(monkeypatch, stalled):
    # stalled: the large layer is left out of the optimizer (it has a gradient, never an
    # update); else only outputs that are not sampled rows reach the loss, so that the sampled
    # rows stand still while the layer learns
    used = [r for r in range(256) if r % ROW_STRIDE]

    def optimizer_fn(model):
        params = model.head.parameters() if stalled else model.parameters()
        return torch.optim.Adam(params, lr=1e-3)

    rows_first = findings(lambda: Sliced(used), optimizer_fn, exact=False)
    whole = findings(lambda: Sliced(used), optimizer_fn, exact=True, monkeypatch=monkeypatch)
    assert rows_first == whole
    assert [f[:2] for f in rows_first] == ([("stalled", "big")] if stalled else [])


def test_a_settled_layer_is_not_copied_whole():
    # the sampled rows stand still, so their lower bound never decides and the layer is copied
    # whole; once its gradient falls below `settled` of its peak (the loss scaled down 1e5x,
    # as a model that has fit its data) its update is not judged, and not measured exactly
    torch.manual_seed(0)
    model = Sliced([r for r in range(256) if r % ROW_STRIDE])
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    x, y = torch.randn(64, 300), torch.randn(64, 4)
    exact, found = [], []
    with GradientMonitor(model, every=5) as monitor:
        for step in range(1, 41):
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean() * (1e-5 if step > 20 else 1.0)
            loss.backward()
            optimizer.step()
            found += monitor.step(loss, lr=1e-2)
            exact.append("big" in monitor.updates.exact)
    assert exact[19] and not any(exact[30:])
    assert found == []


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_numpy_path_reads_the_weights_before_the_update(monkeypatch, dtype):
    # NumPy's path (numba not loaded, or a float64 model) writes the update over the copy:
    # the norm before the step must be read from the copy first, else it is the update's norm
    # (and the weight-growth rule then sees every layer larger than twice its natural size,
    # an N(0, 1) embedding among them, "grow" on the first sample)
    monkeypatch.setattr(updates, "update_kernel", lambda array: None)
    torch.manual_seed(0)
    layer = nn.Linear(8, 4).to(dtype)
    meter = UpdateMeter(stall_low=1e-6)
    meter.take([("fc", layer, list(layer.named_parameters()))])
    before = moved_by(layer, slice(None))
    after_square, before_square, moved, estimate, whole = meter.norms(layer.weight)
    assert whole
    assert after_square == pytest.approx(reference(layer.weight._data))
    assert before_square == pytest.approx(reference(before))
    assert moved == estimate == pytest.approx(reference(layer.weight._data - before))


def test_an_embedding_at_its_default_initialisation_does_not_grow_without_numba(monkeypatch):
    monkeypatch.setattr(updates, "update_kernel", lambda array: None)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(100, 16), nn.Flatten(), nn.Linear(64, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randint(0, 100, (32, 4)), torch.randint(0, 2, (32,))
    with GradientMonitor(model) as monitor:
        for _ in range(4):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            monitor.step(loss, lr=1e-3)
    assert monitor.findings == [], [str(f) for f in monitor.findings]


def _trained(optimizer_of, clip=None, steps=5):
    """A small MLP trained ``steps`` steps by ``optimizer_of(parameters)``: the optimizer."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
    optimizer = optimizer_of(model.parameters())
    x, y = torch.randn(64, 16), torch.randint(0, 2, (64,))
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    return optimizer


@pytest.mark.parametrize("optimizer_of, clip, kinds", [
    (lambda p: torch.optim.Adam(p, 1e-3), None, []),
    (lambda p: torch.optim.Adam(p, 1e-3, eps=1e-4), None, []),  # a large eps still below
    (lambda p: torch.optim.Adam(p, 1e-3, betas=(0.999, 0.9)), None, []),  # swapped: trains
    (lambda p: torch.optim.SGD(p, 0.05, momentum=0.99), None, []),
    (lambda p: torch.optim.SGD(p, 0.05, momentum=1.0), None, ["momentum"]),
    (lambda p: torch.optim.RMSprop(p, 1e-3, momentum=1.0), None, ["momentum"]),
    (lambda p: torch.optim.Adam(p, 1e-3, betas=(0.9, 0.0)), None, ["beta2"]),
    (lambda p: torch.optim.AdamW(p, 1e-3, eps=1.0), None, ["eps"]),
    (lambda p: torch.optim.Adam(p, 1e-3), 1e-8, ["eps"]),  # a clip makes the default eps huge
])
def test_settings_that_make_the_optimizer_another_one(optimizer_of, clip, kinds):
    problems = updates.settings_problems(_trained(optimizer_of, clip))
    assert [kind for kind, _, _ in problems] == kinds


def test_eps_is_judged_against_the_moments_once_the_optimizer_has_stepped():
    # before its first step Adam has no second moment: nothing to weigh eps against
    assert updates.settings_problems(_trained(lambda p: torch.optim.Adam(p, eps=1.0), steps=0)) \
        == []
    # the group index is said: one group of two at a huge eps
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
    optimizer = torch.optim.Adam([{"params": model[0].parameters()},
                                  {"params": model[2].parameters(), "eps": 10.0}], 1e-3)
    F.cross_entropy(model(torch.randn(64, 16)), torch.randint(0, 2, (64,))).backward()
    optimizer.step()
    assert [(kind, group) for kind, group, _ in updates.settings_problems(optimizer)] == \
        [("eps", 1)]
