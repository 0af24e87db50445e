"""``GradientMonitor``: watches one model train and says when backpropagation goes wrong.

Every step it reads the loss and gradient norms (one dot product per parameter, taken the
end of the backward that completes it; weight matrices whose biases stand for them only on sampled
steps, see tap.py) and watches for non-finite values (see watch.py).
On sampled steps (every ``every`` steps, and steps 1, 2, 4, 8, 16, 32 so that problems present
from the start show at once) it also records, per layer, the weight norm, how much the update
moved the weights and how large the gradient is relative to them, and, through forward hooks,
the share of dead ReLU units and of saturated sigmoid/tanh outputs. ``Rules`` turn these into
findings.

    monitor = GradientMonitor(model)
    for x, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        for finding in monitor.step(loss):
            print(finding)

Everything it attaches is scoped to ``model``: its parameters' hooks, its forward hooks, and
ops it sees only between the end of the model's forward and the end of the step. Two monitors
on two models report independently.
"""

import functools
import math
import numbers
import weakref

import numpy as np

from ..nn.modules.module import Module
from ..optim.optimizer import live_optimizers, registry_version
from .activations import RECURRENT_MODULES, ActivationProbe
from .nonfinite import explain
from .rules import Rules, Thresholds
from .stale import WITHIN_STEP, StaleGradientCheck
from .tap import BIASED_LAYERS, GradientTap, covered_weights, squared_norm
from .unregistered import UnregisteredCheck
from .updates import UpdateMeter, settings_problems
from .watch import NonFiniteWatch

EARLY_STEPS = (1, 2, 4, 8, 16, 32)
HISTOGRAM_VALUES = 4096  # gradient values kept per layer for the histograms (last sample)
FOREIGN_KEPT = 64  # other models' weights in the loss remembered (_loss_moves): a few suffice


def weighted_layers(model, trainable=True):
    """[(layer name, module, [(parameter name, parameter)])] for modules owning parameters
    that require grad (``trainable``) or that do not, in registration order. A parameter
    shared by several modules (tied weights) belongs to the first."""
    layers, seen = [], set()
    for name, module in model.named_modules():
        own = []
        for p, param in module._parameters.items():
            if param is not None and param.requires_grad == trainable and id(param) not in seen:
                seen.add(id(param))
                own.append((f"{name}.{p}" if name else p, param))
        if own:
            layers.append((name or type(module).__name__, module, own))
    return layers


@functools.lru_cache(maxsize=256)  # (a sample asks again for every matrix: the same answers)
def _stride(least, dims):
    """The smallest prime at least ``least`` that divides none of ``dims``."""
    stride = max(least, 2)
    while (any(stride % d == 0 for d in range(2, math.isqrt(stride) + 1))
           or any(d % stride == 0 for d in dims)):
        stride += 1
    return stride


def matrix_norm(params):
    """The norm of the weight matrices (two dimensions or more) among ``params`` together."""
    return math.sqrt(sum(squared_norm(p._data) for _, p in params if p.ndim >= 2))


def natural_norm(params):
    """The norm PyTorch's default initialisation gives these matrices (uniform with variance
    1 / (3 fan_in)): a layer's natural size, the floor under its weight norm in ratios."""
    return math.sqrt(sum(p.shape[0] / 3 for _, p in params if p.ndim >= 2))


def broadcast_only(module, params):
    """Whether the module's own parameters of two dimensions or more are all shaped to be
    broadcast over a batch (a leading 1, three dimensions or more: a class token (1, 1, D),
    learned positions (1, T, D)) and it is no layer of a known kind (a convolution with one
    output channel has such a weight): parameters added to what passes, not a map of an input,
    so nothing passing through them is amplified inside them."""
    if isinstance(module, BIASED_LAYERS):
        return False
    matrices = [p for _, p in params if p.ndim >= 2]
    return bool(matrices) and all(p.ndim >= 3 and p.shape[0] == 1 for p in matrices)


def layer_facts(layers):
    """What the monitor needs of ``layers`` (``weighted_layers``): ({layer: natural size} of
    those with weight matrices, [recurrent layers], ids of the weights their biases stand for
    in the tap, [layers whose matrices are all broadcast: ``broadcast_only``])."""
    natural = {name: natural_norm(params) for name, _, params in layers
               if any(p.ndim >= 2 for _, p in params)}
    recurrent = [name for name, module, _ in layers if isinstance(module, RECURRENT_MODULES)]
    covered = set()
    for _, module, params in layers:
        covered |= covered_weights(module, params)
    broadcast = [name for name, module, params in layers if broadcast_only(module, params)]
    return natural, recurrent, covered, broadcast


class GradientMonitor:
    """Records gradient flow through ``model`` and reports findings (see module docstring).

    ``every``: sampling period in steps; ``thresholds``: a ``Thresholds``; ``record_sites``:
    watch every op of every step live, with its call site (slower; normally the step is run
    again only after a first NaN/Inf). ``findings``: the alarms; ``notes``: information (frozen
    layers). Use as a context manager, or call ``close()``, to remove its hooks.
    """

    def __init__(self, model, every=50, thresholds=None, record_sites=False, start_step=0):
        if not isinstance(model, Module):
            raise TypeError(
                f"GradientMonitor watches an nn.Module (the model being trained), got "
                f"{type(model).__name__}: pass the model, not its forward or an output")
        if isinstance(every, bool) or not isinstance(every, numbers.Integral):
            raise TypeError(f"every must be a whole number of steps, got {every!r}")
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.model = model
        self.every = every
        if isinstance(thresholds, dict):  # (its keys are Thresholds' fields)
            thresholds = Thresholds(**thresholds)
        elif thresholds is not None and not isinstance(thresholds, Thresholds):
            raise TypeError(f"thresholds must be a Thresholds (Thresholds(patience=2)) or a "
                            f"dict of its fields, got {type(thresholds).__name__}")
        self.thresholds = thresholds or Thresholds()
        self.layers = weighted_layers(model)
        frozen = weighted_layers(model, trainable=False)
        # (frozen now: watched by the tap from their first gradient, and by the samples once
        # a sample finds them trainable, ``_watch_unfrozen``)
        self._frozen_at_start = [p for _, _, params in frozen for _, p in params]
        self._parameters = list(model.parameters())  # (those frozen too: see _frozen)
        self._parameter_ids = {id(p) for p in self._parameters}
        self.natural, recurrent, covered, broadcast = layer_facts(self.layers)
        # the frozen parameters too: an observer costs nothing until its parameter gets a
        # gradient, and a backbone unfrozen later (a second stage of fine-tuning) is then read
        # from its first backward on, an explosion it starts named there
        self.tap = GradientTap([(name, p) for name, _, params in self.layers + frozen
                                for _, p in params], self._gradient_nonfinite, covered)
        self.rules = Rules(self.thresholds, self._weights_grown, recurrent,
                           self.tap.norms_of)
        self.rules.decay_source = self._decay_source
        self.rules.weights_now = self._weights_now
        self.rules.broadcast.update(broadcast)
        self.rules.explosions.loss_moves = self._loss_moves
        self._penalised = False  # a parameter entered the loss by itself (an L2 penalty)
        # id -> (weak reference, version when first seen) of trainable weights of other models
        # that the loss computation takes (a critic, a teacher): see _loss_moves
        self._foreign = {}
        self.watch = NonFiniteWatch(model, record_sites)
        self.watch.on_origin = self._origin_found
        self.watch.on_loss_leaf = self._loss_leaf  # a weight the loss uses by itself
        self.probe = ActivationProbe(model, self.thresholds.saturation_eps,
                                     self.thresholds.min_inputs, {n for n, _, _ in self.layers},
                                     dead_share=self.thresholds.dead_fraction)
        self.step_count = start_step
        self.findings = []  # alarms
        self.notes = []  # information: frozen layers
        self.samples = []  # one dict per sampled step (see Rules.on_sample)
        self.steps = []  # (step, loss, total gradient norm) for every step
        # layer -> sampled gradient values at the last sample: slices of one buffer written over
        # at each sample (fresh memory made the next backward slower); ``histograms`` copies
        self._histograms = {}
        self._histogram_buffer = None
        self.activations = {}  # activation -> its latest measurement
        self.on_finding = None  # optional callable(finding), called as soon as one is made
        self.updates = UpdateMeter(self.thresholds.stall_low)  # copies before a sampled step
        self.stale = StaleGradientCheck()  # gradients never cleared (stale.py)
        self.unregistered = UnregisteredCheck(model)  # layers in plain lists (unregistered.py)
        self._last_weights = {}  # layer -> norm of its matrices at the last sample
        self._pending = []  # findings made inside a forward or backward, for the next step()
        self._current = None  # the step being reported, inside step()
        self._read = {}  # id(parameter) -> squared norm, for the gradients read last step
        # (registry_version() when read, [weak references to the optimizers that step this
        # model's parameters]): see _optimizer_settings
        self._optimizers = (None, [])
        self._prepare(start_step + 1)
        self._arm_fresh()

    def _arm_fresh(self):
        """The stale check armed before the first step watched (else first armed after a
        sample's update): a closure that never clears its gradients blows L-BFGS up within
        step 1 (lr=1, no line search), which must be judged in that step. Once: not on every
        step, nor at each ``attach`` (the bench attaches before every block it times, and the
        step after an attach is not a run's first)."""
        if not self.stale.armed:
            self.stale.arm([p for _, _, params in self.layers for _, p in params], fresh=True)

    @property
    def histograms(self):
        """{layer: evenly spaced gradient values at the last sample}, copies the caller may
        keep (the monitor writes the next sample's over its own)."""
        return {name: values.copy() for name, values in self._histograms.items()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Remove every hook this monitor installed (``attach()`` installs them again)."""
        self.stale.disarm()
        self.probe.close()
        self.watch.close()
        self.tap.close()

    def attach(self):
        """Install the hooks again after ``close()``: the monitor goes on from its step count
        and history, as though the steps run while it was closed had not happened (a loop that
        watches only some of its steps; the bench's plain blocks)."""
        self.tap.attach()
        self.watch.attach()
        self._prepare(self.step_count + 1)  # the weight copies of a sampled step, taken anew

    def is_sampled(self, step):
        return step % self.every == 0 or step in EARLY_STEPS

    def _prepare(self, step):
        """Before step ``step``'s forward: a new step for the tap (reading every gradient if
        the step is sampled), the activation probe armed if it is sampled (or a measurement
        still waits for inputs), and if it is sampled the weights copied."""
        sampled = step % self.every == 0 or step in EARLY_STEPS  # (is_sampled, inline)
        self.tap.reset(full=sampled)
        probe = self.probe
        if sampled or (probe.tallies and probe.wants_more()):
            probe.arm(step)
        if sampled:
            self.updates.take(self.layers)
        elif self.updates.before is not None:  # (only after a sampled step)
            self.updates.clear()

    # -- reporting --------------------------------------------------------------------------------
    def _report(self, found):
        for finding in found:
            (self.findings if finding.severity == "alarm" else self.notes).append(finding)
            if self.on_finding is not None:
                self.on_finding(finding)
        return [f for f in found if f.severity == "alarm"]

    def _origin_found(self, origin):
        step = self._current or self.step_count + 1  # found during the step in progress
        if self.stale.armed and self.stale.within_step():
            # the closure's gradients added up before the value went non-finite: that is the
            # cause, said first (the step's verdict never comes: its gradients are not finite)
            self._pending += self._report(self.rules.on_stale(
                step, WITHIN_STEP, self.stale.name(self.model)))
        self._pending += self._report(self.rules.on_nonfinite(
            step, origin, explain(origin), update_checked=self._update_checked(origin)))

    def _update_checked(self, origin):
        """For a parameter found non-finite: whether the gradient of its last update was read
        (and so known finite). A covered weight's was not on an unsampled step."""
        if origin.op != "parameter":
            return True
        param = dict(self.model.named_parameters()).get(origin.layer)
        return param is None or id(param) not in self.tap.covered or id(param) in self._read

    def _gradient_nonfinite(self, layer, kind):
        self.watch.gradient_nonfinite(layer, kind)

    # -- every step -------------------------------------------------------------------------------
    def step(self, loss=None, grad_norm=None, lr=None):
        """Call once per training step, after ``optimizer.step()`` (gradients still in
        ``.grad``), or instead of it when the loop stops on a non-finite loss. ``loss``: the
        step's loss (tensor or float); ``grad_norm``: the total gradient norm when the monitor
        cannot measure it (gradients set by hand); ``lr``: the current learning rate. Returns the
        alarms new at this step."""
        data = getattr(loss, "_data", None)  # a tensor's array: float() without two calls
        try:
            loss_value = (None if loss is None else
                          float(data) if data is not None and data.size == 1 else float(loss))
        except (TypeError, ValueError) as error:
            if data is not None:  # (a tensor of several values: its own message says so)
                raise
            raise TypeError(f"monitor.step(loss): the loss must be the step's loss, a "
                            f"one-element tensor or a number, got {type(loss).__name__} "
                            f"{loss!r:.40}") from error
        # (counted once the loss is read: a call refused above is no step)
        self.step_count += 1
        step = self._current = self.step_count
        tap = self.tap
        computed = None
        if tap.watched:
            total = tap.total_norm
            # the rules turn this step's reads into layer norms only when they need them,
            # possibly steps later (a jump's reference step): the tap starts new dicts each step
            norms = tap.watched
        else:  # no backward this step, or gradients set by hand
            computed = self._norms_from_grads()
            total = math.sqrt(sum(n * n for n in computed.values())) if computed else (
                float(grad_norm) if grad_norm is not None else 0.0)
            norms = functools.partial(dict, computed)
        self.steps.append((step, loss_value, total))
        if tap.joined:  # (layers made trainable: the totals before are of fewer parameters)
            tap.joined = False
            self.rules.explosions.rebase()
        found = None
        if loss_value is not None and not math.isfinite(loss_value):
            self.watch.loss_nonfinite("nan" if math.isnan(loss_value) else "inf")
        elif not math.isfinite(total):
            self.watch.gradient_nonfinite(None, "nan")
        else:
            found = self.rules.on_step(step, loss_value, total, norms, lr)
            if self.stale.armed:  # (the step after a sample only)
                found = found + self._stale_verdict(step)
            probe = self.probe
            activations = probe.collect(step) if probe.tallies or probe.repeats else None
            if activations:
                self.activations.update(activations)
            if self.updates.before is not None or activations:
                found = found + self._on_sample(step, computed, activations or {}, lr)
        if self.probe.armed:
            self.probe.disarm()
        self._read = tap.squares  # the gradients this step's update used, as read
        self.watch.end_step()
        self._prepare(step + 1)
        self._current = None
        alarms = self._report(found) if found else []
        if self._pending:
            alarms, self._pending = self._pending + alarms, []
        return alarms

    def _on_sample(self, step, computed, activations, lr):
        """A sampled step's measurements (or an activation measurement that completed): the
        sample, and the findings its rules make."""
        if self._frozen_at_start and self.updates.before is not None:
            self._watch_unfrozen()
        sampled_norms = self.tap.layer_norms(full=True) if computed is None else dict(computed)
        sample = self._sample(step, sampled_norms, activations)
        found = self.rules.on_sample(sample, lr)
        # a settled layer's update is not judged: no whole copy to measure it exactly
        self.updates.exact.difference_update(self.rules.settled)
        if self.updates.before is not None:
            self.samples.append(sample)
            found += self._frozen(step)
            found += self._optimizer_settings(step)
            # (the parameters the monitor watches: those the model had, a walk less)
            self.stale.arm([p for _, _, params in self.layers for _, p in params],
                           squares=self.tap.squares)
            if self.unregistered.params:
                found += self.rules.on_unregistered(step, self.unregistered.stalled())
        return found

    def _watch_unfrozen(self):
        """Layers frozen when the monitor started and trainable now (a backbone unfrozen for
        the second stage of fine-tuning) join the samples' measurements from this sample on:
        their sizes, updates, activations and place in the forward order. (The tap reads
        their gradients from their first backward already.) NOTE: one walk over the
        parameters frozen at the start, on samples only."""
        if all(not p.requires_grad for p in self._frozen_at_start):
            return
        self._frozen_at_start = [p for p in self._frozen_at_start if not p.requires_grad]
        self.layers = weighted_layers(self.model)
        natural, recurrent, covered, broadcast = layer_facts(self.layers)
        for name, size in natural.items():
            self.natural.setdefault(name, size)
        self.tap.covered |= covered
        self.rules.recurrent.update(recurrent)
        self.rules.broadcast.update(broadcast)
        self.probe.add_layers({name for name, _, _ in self.layers})

    def _loss_leaf(self, tensor):
        """A trainable leaf the loss computation takes (outside the model's forward): one of
        the model's parameters by itself (an L2 penalty or a tied weight; its bias no longer
        stands for it, tap.read_in_full), or another model's weight (a critic's, a teacher's:
        its forward runs in this model's loss)."""
        if id(tensor) in self._parameter_ids:
            self._penalised = True
            self.tap.read_in_full(tensor)
        elif id(tensor) not in self._foreign and len(self._foreign) < FOREIGN_KEPT:
            self._foreign[id(tensor)] = (weakref.ref(tensor), tensor._version)

    def _loss_moves(self):
        """Whether the loss runs through another model that is trained alongside: a weight of
        it that the loss computation takes changed since it was first seen there (a GAN's
        critic; not a teacher trained before and only used since). This model's gradient then
        scales with that model's training (a generator's grew 40x in 40 steps as its critic
        learnt, its own weights unchanged). Asked only on evidence (a jump that lasts)."""
        for ref, version in self._foreign.values():
            tensor = ref()
            if tensor is not None and tensor._version != version:
                return True
        return False

    def _model_optimizers(self):
        """The live optimizers that step this model's parameters (the loop's is not given to
        the monitor), looked for again only when one was made or given a group since."""
        if self._optimizers[0] != registry_version():
            mine = self._parameter_ids
            self._optimizers = (registry_version(), [
                weakref.ref(optimizer) for optimizer in live_optimizers()
                if any(id(p) in mine for group in optimizer.param_groups
                       for p in group["params"])])
        return [o for o in (r() for r in self._optimizers[1]) if o is not None]

    def _decay_source(self):
        """Whether something besides the loss's gradient can pull the weights toward zero by
        ``decay_shrink`` of their size a step: a parameter in the loss by itself (a penalty),
        or an optimizer's decay (a decoupled one, AdamW's, takes lr x weight_decay a step, and
        ASGD's lr x lambd: 1e-3 x 1e-2 cannot; a coupled weight_decay is added to the gradient,
        and under Adam can outweigh it at any size). None where it cannot tell: no optimizer
        of the model is known (an update written by hand), or one is not the package's own (a
        subclass may decay by other settings)."""
        if self._penalised:
            return True
        optimizers = self._model_optimizers()
        if not optimizers or any(not type(o).__module__.startswith("chainrule.optim.")
                                 for o in optimizers):
            return None
        least = self.thresholds.decay_shrink / 2
        for optimizer in optimizers:
            decoupled = type(optimizer).__name__ in ("AdamW", "Adafactor")
            for group in optimizer.param_groups:
                lr = float(group.get("lr", 0.0))
                decay = float(group.get("weight_decay") or 0.0)
                if decoupled or group.get("decoupled_weight_decay"):
                    if lr * decay >= least:
                        return True
                elif decay > 0:
                    return True
                if lr * float(group.get("lambd") or 0.0) >= least:  # (ASGD's decay term)
                    return True
        return False

    def _optimizer_settings(self, step):
        """Findings on the settings of the optimizers that step this model's parameters (any
        optimizer alive: the loop's is not given to the monitor), those that make it another
        optimizer than meant (``updates.settings_problems``)."""
        # eps against the gradients only on the first samples (the early steps'): a mistake in
        # the settings is there from the start, and the read costs ~100 us a sample on the
        # bench MLP; later, a run that has converged has gradients eps may rightly dwarf
        moments = len(self.samples) <= len(EARLY_STEPS)
        problems = []
        for optimizer in self._model_optimizers():
            problems += settings_problems(optimizer, moments)
        return self.rules.on_optimizer(step, problems) if problems else []

    def _stale_verdict(self, step):
        verdict = self.stale.verdict()
        # (the parameter's name only where a finding may use it: a walk over the parameters)
        name = self.stale.name(self.model) if verdict else None
        return self.rules.on_stale(step, verdict, name)

    def _norms_from_grads(self):
        norms = {}
        for name, _, params in self.layers:
            squares = [squared_norm(p.grad._data) for _, p in params if p.grad is not None]
            if squares:
                norms[name] = math.sqrt(sum(squares))
        return norms

    # -- sampled steps ----------------------------------------------------------------------------
    def _sample(self, step, norms, activations):
        layers = {}
        sampled = self.updates.before is not None
        values, spans, size = [], {}, 0  # every layer's histogram values; its span in them
        for name, _, params in self.layers if sampled else ():
            params = [p for _, p in params if p.requires_grad]
            if not params:
                continue  # frozen since the monitor started
            layers[name] = self._layer_stats(name, params, norms.get(name))
            start = size
            for p in params:
                if p._grad is not None:
                    values.append(self._histogram_values(p._grad._data))
                    size += values[-1].size
            if size > start:
                spans[name] = slice(start, size)
        if values:
            # NOTE: one array for all the layers, each a slice (a call per layer cost ~15 us
            # cold), and the same array at every sample: a new one, fresh memory, made the
            # backward of the step after a sample ~40 us slower (bench mlp, one thread)
            joined = self._histogram_buffer
            if joined is None or joined.size != size:
                joined = self._histogram_buffer = np.empty(size)
            np.concatenate(values, out=joined, casting="unsafe")
            for name, span in spans.items():
                self._histograms[name] = joined[span]
        if sampled:
            self._last_weights = {n: s["weight_matrices"] for n, s in layers.items()
                                  if s["weight_matrices"] is not None}
        return {"step": step, "layers": layers, "activations": activations,
                "order": self.probe.order_of([n for n, _, _ in self.layers]),
                "heads": self.probe.output_layers,
                "natural": self.natural}

    def _layer_stats(self, name, params, grad_norm):
        # each array is read once: the matrices' norms make the weight norm with the rest's,
        # and their gradients' squared norms are the tap's (read in full on a sampled step)
        matrices = [p for p in params if p.ndim >= 2]
        squares, before, moved, estimate, whole = {}, 0.0, 0.0, 0.0, True
        for p in matrices:
            if id(p) in self.updates.before:
                squares[id(p)], weight_before, rows_moved, scaled, copied_whole = \
                    self.updates.norms(p)
                before, moved, estimate = before + weight_before, moved + rows_moved, \
                    estimate + scaled
                whole = whole and copied_whole
        for p in params:
            if id(p) not in squares:
                squares[id(p)] = squared_norm(p._data)
        stats = {"grad_norm": grad_norm, "weight_norm": math.sqrt(sum(squares.values())),
                 "weight_matrices": None, "weight_before": None, "update_ratio": None,
                 "rho": None, "ever_grad": name in self.tap.ever}
        if matrices:
            natural = self.natural[name]
            after = math.sqrt(sum(squares[id(p)] for p in matrices))
            before = math.sqrt(before)
            stats.update(weight_matrices=after, weight_before=before)
            if grad_norm is not None:
                grads = [self._grad_square(p) for p in matrices if p.grad is not None]
                stats["update_ratio"] = self.updates.ratio(
                    name, before, math.sqrt(moved), math.sqrt(estimate), whole, natural)
                stats["rho"] = math.sqrt(sum(grads)) / max(after, natural) if grads else None
        return stats

    def _grad_square(self, param):
        """``param``'s squared gradient norm: as the tap read it, else read now."""
        value = self.tap.squares.get(id(param))
        return squared_norm(param.grad._data) if value is None else value

    @staticmethod
    def _histogram_values(grad):
        """At most HISTOGRAM_VALUES of ``grad``'s values, evenly spaced through it: a strided
        read, which the memory prefetches, not a gather at random places (a cache miss per
        value). The stride is a prime that divides none of the trailing dimensions, so that
        every row, column and channel is visited (a stride that divided the row length would
        read the same few columns of every row)."""
        flat = grad.reshape(-1)
        if flat.size > HISTOGRAM_VALUES:
            flat = flat[::_stride(-(-flat.size // HISTOGRAM_VALUES), grad.shape[1:])]
        return flat

    def _weights_grown(self):
        """(factor, layer): how much the weights grew since the last sample, for the layer
        that grew most (against its natural size). Read only to confirm an explosion."""
        best = (0.0, None)
        for name, _, params in self.layers:
            if name not in self.natural:
                continue
            now = matrix_norm(params)
            factor = now / max(self._last_weights.get(name, 0.0), self.natural[name])
            if factor > best[0]:
                best = (factor, name)
        return best

    def _weights_now(self, name):
        """The norm of ``name``'s weight matrices now, over their natural size (None where the
        layer has none). Read only to name an explosion's start."""
        for layer, _, params in self.layers:
            if layer == name and name in self.natural:
                return matrix_norm(params) / self.natural[name]
        return None

    def _frozen(self, step):
        if not self.tap.ever:
            return []  # nothing is trained: freezing is not a choice worth a note
        # NOTE: the walk over the model's modules (~30 us cold) only where one of the
        # parameters it had when the monitor started is frozen (now or from the start)
        if all(p.requires_grad for p in self._parameters):
            return []
        frozen = [name for name, _, _ in weighted_layers(self.model, trainable=False)]
        return self.rules.frozen(step, frozen) if frozen else []

    def summary(self):
        """{layer: last sampled stats} merged with the activation stats, for the table."""
        if not self.samples:
            return {}, {}
        return self.samples[-1]["layers"], self.activations
