"""``GradientMonitor``: watches a model train and says when backpropagation goes wrong.

Every step it reads the loss and the total gradient norm and watches for non-finite values
(cheap: a few sums). On sampled steps (every ``every`` steps, and steps 1, 2, 4, 8, 16, 32 so that
problems present from the start show at once) it records, per layer, the gradient norm, the
weight norm and the update-to-weight ratio, and, through forward hooks, the share of dead ReLU
units and of saturated sigmoid/tanh outputs. ``Rules`` turn these into findings.

    monitor = GradientMonitor(model)
    for x, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        for finding in monitor.step(loss):
            print(finding)
"""

import math

import numpy as np

from .activations import ActivationProbe
from .nonfinite import NonFiniteWatch
from .rules import Finding, Rules, Thresholds

EARLY_STEPS = (1, 2, 4, 8, 16, 32)
HISTOGRAM_VALUES = 4096  # gradient values kept per layer for the histograms (last sample)


def _norm(array):
    """The 2-norm of an array, without float32 overflow."""
    flat = array.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(np.sqrt(np.dot(flat, flat)))
    if math.isinf(value) and np.isfinite(flat).all():
        value = float(np.linalg.norm(flat.astype(np.float64)))
    return value


def weighted_layers(model):
    """[(layer name, module, [(parameter name, parameter)])] for modules owning parameters that
    require grad, in registration order (the forward order of a Sequential)."""
    layers = []
    for name, module in model.named_modules():
        own = [(f"{name}.{p}" if name else p, param)
               for p, param in module._parameters.items()
               if param is not None and param.requires_grad]
        if own:
            layers.append((name or type(module).__name__, module, own))
    return layers


class GradientMonitor:
    """Records gradient flow through ``model`` and reports findings (see module docstring).

    ``every``: sampling period in steps; ``thresholds``: a ``rules.Thresholds``;
    ``record_sites``: record every op's call site at once (slower; normally sites are found by
    re-running the step only after a first NaN/Inf). Use as a context manager, or call
    ``close()``, to remove its hooks.
    """

    def __init__(self, model, every=50, thresholds=None, record_sites=False, start_step=0):
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.model = model
        self.every = every
        self.thresholds = thresholds or Thresholds()
        self.rules = Rules(self.thresholds)
        self.layers = weighted_layers(model)
        self.probe = ActivationProbe(model, self.thresholds.saturation_eps)
        self.watch = NonFiniteWatch(model, record_sites)
        self.step_count = start_step
        self.findings = []
        self.samples = []  # one dict per sampled step (see Rules.on_sample)
        self.steps = []  # (step, loss, total gradient norm) for every step
        self.histograms = {}  # layer -> sampled gradient values at the last sample
        self._before = None  # weight copies taken just before a sampled step's update
        self.on_finding = None  # optional callable(finding), called as soon as one is made
        self._pending = []  # findings made inside a forward or backward, for the next step()
        self.watch.on_origin = self._origin_found
        self._prepare(start_step + 1)

    def _origin_found(self):
        self._pending += self._report(self._nonfinite(self.step_count + 1, None, 0.0))

    def _report(self, found):
        self.findings += found
        if self.on_finding is not None:
            for finding in found:
                self.on_finding(finding)
        return found

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Remove every hook this monitor installed."""
        self.probe.close()
        self.watch.close()

    def is_sampled(self, step):
        return step % self.every == 0 or step in EARLY_STEPS

    def _prepare(self, step):
        """Before step ``step``'s forward: if it is sampled, arm the activation probe and copy
        the weights (the update-to-weight ratio needs them)."""
        if not self.is_sampled(step):
            self._before = None
            return
        self.probe.arm()
        self._before = {id(p): p._data.copy() for _, _, params in self.layers for _, p in params}

    def step(self, loss=None, grad_norm=None, lr=None):
        """Call once per training step, after ``optimizer.step()`` (gradients still in
        ``.grad``). ``loss``: the step's loss (tensor or float); ``grad_norm``: the total
        gradient norm if already known (else computed); ``lr``: the current learning rate.
        Returns the findings new at this step."""
        self.step_count += 1
        step = self.step_count
        loss = None if loss is None else float(loss)
        if grad_norm is None:
            grad_norm = self._total_grad_norm()
        else:
            grad_norm = float(grad_norm)
        self.steps.append((step, loss, grad_norm))
        found = self._nonfinite(step, loss, grad_norm)
        if not any(f.rule == "nonfinite" for f in self.findings + found):
            found += self.rules.on_step(step, loss, grad_norm)
            if self._before is not None:
                sample = self._sample(step)
                self.samples.append(sample)
                found += self.rules.on_sample(sample, lr)
        self.probe.disarm()
        self._prepare(step + 1)
        found = self._report(found)
        pending, self._pending = self._pending, []
        return pending + found

    def _total_grad_norm(self):
        total = 0.0
        for _, _, params in self.layers:
            for _, p in params:
                if p.grad is not None:
                    total += _norm(p.grad._data) ** 2
        return math.sqrt(total)

    def _nonfinite(self, step, loss, grad_norm):
        if any(f.rule == "nonfinite" for f in self.findings):
            return []
        watch = self.watch
        if watch.origin is None and (loss is not None and not math.isfinite(loss)):
            watch.origin = _loss_origin()
        if watch.origin is None and not math.isfinite(grad_norm):
            watch.origin = watch._from_parameters("backward", None)
        if watch.origin is None:
            return []
        return [Finding("nonfinite", watch.origin.layer, step, watch.message(step))]

    def _sample(self, step):
        layers = {}
        rng = np.random.default_rng(step)
        for name, _, params in self.layers:
            grad_sq = weight_sq = update_sq = 0.0
            has_grad = False
            values = []
            for _, p in params:
                data = p._data
                weight_sq += _norm(data) ** 2
                before = self._before.get(id(p))
                if before is not None and data.ndim >= 2:
                    update_sq += _norm(data - before) ** 2
                if p.grad is not None:
                    has_grad = True
                    g = p.grad._data
                    grad_sq += _norm(g) ** 2
                    flat = g.reshape(-1)
                    if flat.size > HISTOGRAM_VALUES:
                        flat = flat[rng.integers(0, flat.size, HISTOGRAM_VALUES)]
                    values.append(flat)
            matrices_sq = sum(_norm(p._data) ** 2 for _, p in params if p._data.ndim >= 2)
            ratio = math.sqrt(update_sq / matrices_sq) if matrices_sq > 0 else None
            layers[name] = {
                "grad_norm": math.sqrt(grad_sq) if has_grad else None,
                "weight_norm": math.sqrt(weight_sq),
                "update_ratio": ratio if has_grad else None,
            }
            if values:
                self.histograms[name] = np.concatenate(values).astype(np.float64)
        return {"step": step, "layers": layers, "activations": self.probe.collect()}

    def summary(self):
        """{layer: last sampled stats} merged with the activation stats, for the table."""
        if not self.samples:
            return {}, {}
        last = self.samples[-1]
        return last["layers"], last["activations"]


def _loss_origin():
    from .nonfinite import Origin

    return Origin("loss", "forward", "nan or inf")
