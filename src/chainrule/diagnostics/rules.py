"""The rules that turn a monitor's measurements into findings: what is wrong, in which layer,
since which step, and what to do. Every threshold lives in ``Thresholds`` (see
docs/diagnostics.md for why each default keeps healthy models silent)."""

import dataclasses
import math
import statistics


@dataclasses.dataclass
class Thresholds:
    """When each rule fires. Pass your own to ``GradientMonitor(thresholds=...)``."""

    patience: int = 3  # samples in a row a layer condition must hold (vanishing, dead, ...)
    vanishing_ratio: float = 1e-5  # a layer's gradient norm below this x the largest layer's
    vanishing_floor: float = 1e-12  # or below this, absolutely
    growth_factor: float = 2.0  # exploding: total gradient norm multiplied by this per step...
    growth_steps: int = 4  # ...this many steps in a row
    spike_factor: float = 20.0  # exploding: total gradient norm above this x its running median
    loss_spike_factor: float = 3.0  # loss above this x max(running median, first loss)
    median_window: int = 50  # steps in the running medians
    min_history: int = 10  # steps of history before the gradient-spike rule may fire
    dead_fraction: float = 0.5  # dead units: more than this share inactive on every sample
    saturation_eps: float = 0.02  # saturated: within this of a sigmoid/tanh asymptote
    saturated_fraction: float = 0.5  # saturation: more than this share of outputs saturated
    stall_low: float = 1e-6  # stalled: update/weight ratio below this...
    stall_high: float = 0.3  # ...or above this (a healthy step is near 1e-3)
    decayed_lr: float = 0.1  # ignore a low ratio once the lr is below this x its peak


@dataclasses.dataclass
class Finding:
    """One diagnosis: ``rule`` (vanishing, exploding, dead, saturation, stalled, nonfinite),
    the ``layer`` (or None for the whole model), the ``step`` it was first seen at, and the
    message, which names the remedy."""

    rule: str
    layer: str | None
    step: int
    message: str

    def __str__(self):
        return f"[{self.rule}] step {self.step}: {self.message}"


REMEDIES = {
    "vanishing": "use ReLU-family activations with Kaiming initialisation "
                 "(nn.init.kaiming_normal_), add normalisation (LayerNorm/BatchNorm) or residual "
                 "connections, or use fewer layers",
    "exploding": "lower the learning rate, clip the gradient norm "
                 "(nn.utils.clip_grad_norm_(params, 1.0)), add normalisation, or warm up the "
                 "learning rate",
    "dead": "lower the learning rate, initialise biases at zero or slightly positive, or use "
            "LeakyReLU/GELU instead of ReLU",
    "saturation": "initialise weights smaller (nn.init.xavier_uniform_), normalise inputs, add "
                  "LayerNorm before the activation, or use ReLU-family activations",
    "stalled_low": "raise this layer's learning rate, check that it is in the optimizer and "
                   "that gradients reach it (see the vanishing rule)",
    "stalled_high": "lower the learning rate (or this layer's), or clip gradients",
}


def _fmt(value):
    return f"{value:.2e}"


class Rules:
    """Stateful rule checks fed by a monitor: ``on_step`` every step, ``on_sample`` every
    sampled step. Each returns new findings; a (rule, layer) pair is reported once."""

    def __init__(self, thresholds=None):
        self.t = thresholds or Thresholds()
        self.losses = []
        self.norms = []
        self.streaks = {}  # (rule, name) -> samples in a row the condition held
        self.reported = set()
        self.peak_lr = 0.0

    def _finding(self, rule, layer, step, message, remedy_key=None):
        key = (rule, layer)
        if key in self.reported:
            return []
        self.reported.add(key)
        remedy = REMEDIES[remedy_key or rule]
        return [Finding(rule, layer, step, f"{message}. Remedy: {remedy}.")]

    def _streak(self, key, holds):
        count = self.streaks.get(key, 0) + 1 if holds else 0
        self.streaks[key] = count
        return count >= self.t.patience

    # -- every step: loss and total gradient norm ------------------------------------------
    def on_step(self, step, loss, grad_norm):
        found = []
        t = self.t
        if grad_norm is not None and math.isfinite(grad_norm):
            recent = self.norms[-t.median_window:]
            if len(recent) >= t.min_history:
                median = statistics.median(recent)
                if median > 0 and grad_norm > t.spike_factor * median:
                    found += self._finding(
                        "exploding", None, step,
                        f"gradient norm spiked to {_fmt(grad_norm)}, {grad_norm / median:.0f}x "
                        f"its running median {_fmt(median)}")
            self.norms.append(grad_norm)
            tail = self.norms[-(t.growth_steps + 1):]
            if len(tail) == t.growth_steps + 1 and all(
                    b > t.growth_factor * a > 0 for a, b in zip(tail, tail[1:])):
                found += self._finding(
                    "exploding", None, step,
                    f"gradient norm grew geometrically from {_fmt(tail[0])} to {_fmt(tail[-1])} "
                    f"over the last {t.growth_steps} steps (more than {t.growth_factor}x each)")
        if loss is not None and math.isfinite(loss):
            if self.losses:
                reference = max(statistics.median(self.losses[-t.median_window:]),
                                abs(self.losses[0]))
                if reference > 0 and loss > t.loss_spike_factor * reference:
                    found += self._finding(
                        "exploding", None, step,
                        f"loss spiked to {loss:.4g}, {loss / reference:.1f}x both its running "
                        f"median and its first value ({reference:.4g})")
            self.losses.append(loss)
        return found

    # -- every sampled step: per layer --------------------------------------------------------
    def on_sample(self, sample, lr=None):
        """``sample``: {"step", "layers": {name: {grad_norm, weight_norm, update_ratio}},
        "activations": {name: {kind, dead, saturated}}}, layers in forward order."""
        step = sample["step"]
        found = self._activations(step, sample["activations"])
        # Dead or saturated units starve the layers below them of gradient, and vanishing
        # gradients stall layers: say the cause, not each consequence.
        explained = any(self.streaks.get((rule, name), 0) > 0 for name in sample["activations"]
                        for rule in ("dead", "saturation"))
        if not explained:
            found += self._vanishing(step, sample["layers"])
        explained = explained or any(rule == "vanishing" for rule, _ in self.reported)
        found += self._stalled(step, sample["layers"], lr, check_low=not explained)
        return found

    def _vanishing(self, step, layers):
        norms = {name: s["grad_norm"] for name, s in layers.items()
                 if s.get("grad_norm") is not None and math.isfinite(s["grad_norm"])}
        if len(norms) < 2:
            return []
        largest_name = max(norms, key=norms.get)
        largest = norms[largest_name]
        found = []
        for name, norm in norms.items():
            ratio = norm / largest if largest > 0 else 0.0
            low = ratio < self.t.vanishing_ratio or norm < self.t.vanishing_floor
            if self._streak(("vanishing", name), low):
                found += self._finding(
                    "vanishing", name, step,
                    f"vanishing gradients in layer '{name}': gradient norm {_fmt(norm)}, "
                    f"{ratio:.1e} of the largest layer's ('{largest_name}', {_fmt(largest)}), "
                    f"for {self.t.patience} samples in a row")
                break  # the earliest such layer says it; the later ones follow from it
        return found

    def _stalled(self, step, layers, lr, check_low=True):
        if lr is not None:
            self.peak_lr = max(self.peak_lr, lr)
        decayed = lr is not None and lr < self.t.decayed_lr * self.peak_lr
        found = []
        for name, s in layers.items():
            ratio = s.get("update_ratio")
            if ratio is None or not math.isfinite(ratio):
                continue
            low = check_low and ratio < self.t.stall_low and not decayed
            if self._streak(("stalled_low", name), low):
                found += self._finding(
                    "stalled", name, step,
                    f"layer '{name}' has stalled: its update is {_fmt(ratio)} of its weights per "
                    f"step (healthy is near 1e-3) for {self.t.patience} samples in a row",
                    "stalled_low")
            if self._streak(("stalled_high", name), ratio > self.t.stall_high):
                found += self._finding(
                    "stalled", name, step,
                    f"layer '{name}' moves too fast: each update is {_fmt(ratio)} of its "
                    f"weights (healthy is near 1e-3) for {self.t.patience} samples in a row",
                    "stalled_high")
        return found

    def _activations(self, step, activations):
        found = []
        for name, s in activations.items():
            dead = s.get("dead")
            if dead is not None and self._streak(("dead", name), dead > self.t.dead_fraction):
                found += self._finding(
                    "dead", name, step,
                    f"dead units after '{name}': {dead:.0%} of its units output zero for every "
                    f"sample of the batch, for {self.t.patience} samples in a row")
            saturated = s.get("saturated")
            if saturated is not None and self._streak(
                    ("saturation", name), saturated > self.t.saturated_fraction):
                found += self._finding(
                    "saturation", name, step,
                    f"saturated {s['kind']} '{name}': {saturated:.0%} of its outputs are within "
                    f"{self.t.saturation_eps} of an asymptote, where its gradient is nearly "
                    f"zero, for {self.t.patience} samples in a row")
        return found
