"""The rules that turn a monitor's measurements into findings: what is wrong, where it starts,
since which step, and what to do. Thresholds live in ``Thresholds`` (findings.py);
docs/diagnostics.md gives the reason for each number.

One cause is one finding: when a rule fires in several layers at once it names the first in
forward order and lists the others (``Finding.layers``); layers that join later are added to
the same finding. A symptom explained by a cause already seen is not reported again (the layers
below dead or saturated units, or below vanishing gradients, stop learning because of them).
"""

import bisect
import collections
import functools
import math
import operator
import statistics

from .explosion import ExplosionTracker, amplified, reference_ratio, unbounded, weight_growth
from .findings import Finding, Thresholds, fmt, remedy
from .gates import AMPLIFIED_THROUGH_TIME
from .stale import INNER_PASSES, WITHIN_STEP

__all__ = ["Rules", "Finding", "Thresholds"]


def _listing(names, limit=6):
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# a learning rate below -NEGATIVE_LR x its peak is below 0 (``_negative_lr``); nearer is
# rounding: LinearLR from 1/3 to an end_factor of 0 ends at -4e-18 for a peak of 0.1
NEGATIVE_LR = 1e-9

# measurements of what an op was given (activations.py)
INPUT_KINDS = ("probabilities", "drowned", "uniform_targets", "saturated_output", "repeated",
               "depth")


class Rules:
    """Stateful checks fed by a monitor: ``on_step`` every step, ``on_sample`` every sampled
    step, ``on_nonfinite`` once. Each returns the findings new at that step."""

    def __init__(self, thresholds=None, weight_growth_now=None, recurrent=(), norms_of=None):
        self.t = thresholds or Thresholds()
        self.explosions = ExplosionTracker(self.t, weight_growth_now or (lambda: (0.0, None)),
                                           norms_of)
        self.recurrent = set(recurrent)  # names of recurrent layers (their own remedy)
        self.explosions.amplifying = self.recurrent
        # layers whose matrices are broadcast parameters (a class token, learned positions:
        # the monitor's ``broadcast_only``), added to what passes: they amplify nothing
        self.broadcast = set()
        # whether a weight decay or a penalty can shrink the weights (the monitor's answer:
        # True, False, or None where it cannot tell)
        self.decay_source = lambda: None
        # layer -> its weight matrices' size now over their natural size, or None (the
        # monitor's ``_weights_now``; read only to name where an explosion starts)
        self.weights_now = lambda name: None
        self.looped = set()  # layers run in a loop in one forward (``_looped``), at the last sample
        self.order = []  # the layers in forward order, as the last sample saw them
        self.frozen_norms = []  # batch norms in eval mode before activations (last sample)
        self.oversized = None  # (layer, size): a layer out of scale with those before it
        self.started_oversized = None  # the same at the first sample, () for none
        self.init_large = None  # ([layers], gain, [sizes]): weights too large across depth
        self.collapsed = False  # the last sample's gradients rose steadily through depth
        # (layer, calls, gain): a layer applied again and again in one forward that amplifies
        # the signal init_gain times or more across its calls, as measured on the last sample
        self.repeated = None
        self.depth = None  # (layer, gain): the same across the model's depth, from that layer
        self.started_depth = None  # whether it did at the first sample
        self.started_large = None  # whether they were at the first sample
        self.first_sizes = {}  # layer -> its weights over their natural size at the first sample
        # layer -> its gradient/weight ratio at step 1, before any update ({} where the first
        # sample came later): see _thrown_from_the_start
        self.first_rho = None
        self.start_judged = False  # whether _thrown_from_the_start has had its losses
        self.ever_fitted = False  # whether a sample found the loss at its floor (``_fitted``)
        # (step, layers, {layer: growth}, first loss, peak): the first updates' growth, awaiting
        # the losses after it (_compounded_from_the_start); False once judged
        self.compounded = None
        self.climb_lowest = math.inf  # the lowest median of five losses the climb rule has seen
        # the squared gradient norm per unit of loss over the first three steps, a median
        # (``_steepness``; None until known, or where a loss was not above 0)
        self.first_steepness = None
        self.shrunk = {}  # layer -> its weights over their natural size, where under ``shrunk``
        self.floorless_loss = None  # the loss at the last sample (``_falls_as_weights_grow``)
        self.floorless_low = None  # the lower of it and its median of three there
        self.floorless_from = None  # and where its fall began
        self.streaks = {}  # (rule, name) -> samples in a row the condition held
        self.groups = {}  # cause -> its Finding
        self.peak_lr = 0.0
        self.low_since = [None, None]  # first step of the lr's run at lr_slowed, lr_collapsed
        self.last_lr = None
        self.rises = (None, None)  # the last two steps the lr rose back from lr_slowed of its peak
        self.peak_step = 0  # the last step the lr was at its peak
        # a fall by one ratio at every step since the peak (ExponentialLR stepped per batch):
        # [the previous step's lr, the ratio of its last fall, the step that run of falls began]
        self.geometric = [None, None, None]
        # (the lr, the step it took that value) while at lr_slowed or below: a staircase
        # stepped as meant keeps cutting, one whose milestones were epochs stepped per batch
        # stops after its last, early, and stays (see _schedule)
        self.level = None
        self.lowest = (math.inf, 0)  # (the lowest loss so far, its step), while an lr is given
        # how the lr's cuts came: None (none yet), "plateau" (every one plateau_steps or more
        # after the lowest loss), "timetable" (one sooner: then nothing more is tracked)
        self.cuts = None
        # a plateau schedule's wait: the steps from the lowest loss to its first cut (its
        # patience + 1), and the step of its last cut (``_cut_kind``)
        self.cut_wait, self.last_cut = None, 0
        self.last_update = None  # (step, the largest update ratio) of the last sample
        self.peak_update = None  # the largest update ratio of any sample so far
        self.peak_grad = {}  # layer -> its largest sampled gradient norm
        self.settled = set()  # layers whose gradient has fallen below settled x that peak
        self.decay_last = {}  # layer -> its weights' norm after the last sample's update
        self.frozen_noted = set()
        self.loss = None  # the last step's loss (before that step's update)
        self.streak_lr = {}  # (rule, activation) -> the lr when its current streak began
        self.measured = {}  # activation -> how many measurements of it the rules have seen
        self.measured_at = {}  # activation -> the step of its last measurement
        self.first_dead = {}  # activation -> its share of dead units at its first measurement
        self.dead_units = {}  # activation -> [(its units off, samples)] of its last windows
        self.first_off = {}  # activation -> its units off at its first measurement
        # tanh or sigmoid units -> their share of saturated outputs at their first measurement
        self.first_saturated = {}
        self.first_softmax = {}  # softmax -> (share of saturated rows, their median margin) at
        # its first measurement
        self.first_output = {}  # an output sigmoid or tanh -> (its saturated share, the step
        # it began) at its first measurement
        # whether the model's output activation was saturated at its first measurement and
        # still is at its last (an explosion measured against its gradient is none: see
        # _explosion)
        self.output_saturated = False
        self.sampled_flat = {}  # sampled softmax -> [sum of its shares of flat rows, samples]
        self.doubled = None  # a doubling update awaiting the loss after it (see _growth)
        self.doubled_norm = None  # the total gradient norm of the doubling update's step
        # (step, {layer: its weights after the update}) at the last sample (``_grown_between``)
        self.last_weights = None
        self.divided = {}  # layer -> (gradient norm, lr): an update made its weights inf from
        # a gradient that could not overflow them (``_divided_by_zero``)
        self.large_update = None  # (step, layer, ratio): the last update as large as the layer
        self.moved_since = {}  # layer -> the sample its run of updates as large as it began
        self.sample_before = None  # the step of the sample before the growth rule's last one
        self.last_growth = None  # the step of the last sample the growth rule read
        self.thrown_before = None  # large_update, where it was the doubling's sample before
        self.standing_grew = None  # (layer, growth): _origin named it by _thrown_since_standing
        self.first_standing = []  # the layer whose gradient stood out at each of the first
        # samples, or None (``_stands_out``)
        self.step_lr = None  # the lr of the step being judged (set on sampled or evidence steps)
        self.lr_before = self.lr_now = None  # the last two steps' learning rates
        self.exploding_lr = None  # the lr when the explosion was found (``_found_before``)
        self.streak_update = {}  # (rule, activation) -> large_update when its streak began
        self.recurrent_ratios = {}  # layer -> its last gradient/weight ratios against the
        # layers after it (``_through_time``)
        self.recurrent_gains = {}  # layer -> its last measured gains through time
        self.closure_stale = None  # the finding of a closure that does not clear (on_stale)
        self.depth_rises = []  # the gradient's rise through depth at the last samples, in
        # decades, while it is steady (``_through_depth``)
        self.early_losses = None  # the first recent_steps losses, sorted (``_keep_early``)
        self.fall = None  # (step, loss level, its fall per step since the sample before) at
        # the last mark (``_falls_ever_faster``)

    # -- reporting ------------------------------------------------------------------------------
    def _group(self, cause, rule, layers, step, message, remedy_key, severity="alarm"):
        """One finding per cause; later layers join it. Returns the new finding or []."""
        existing = self.groups.get(cause)
        if existing is not None:
            existing.layers += [n for n in layers if n not in existing.layers]
            return []
        if cause == "exploding":
            self.exploding_lr = self.step_lr
        finding = Finding(rule, layers[0] if layers else None, step,
                          f"{message}. Remedy: {remedy(remedy_key)}.", list(layers), severity,
                          remedy=remedy_key)
        self.groups[cause] = finding
        return [finding]

    def _streak(self, key, holds):
        count = self.streaks.get(key, 0) + 1 if holds else 0
        self.streaks[key] = count
        return count >= self.t.patience

    # -- every step -------------------------------------------------------------------------------
    def on_step(self, step, loss, grad_norm, layer_norms, lr=None):
        """``loss`` and ``grad_norm`` finite (non-finite steps go to ``on_nonfinite``);
        ``layer_norms``: {layer: gradient norm}, a callable returning it, or what ``norms_of``
        (given to the constructor) turns into it."""
        if self.doubled:
            self.step_lr = lr  # (evidence only: a doubling awaits its losses)
            found = self._doubling_confirmed(loss, grad_norm)
            if not found and self.doubled is None:  # (judged no explosion: the start's turn)
                found = self._thrown_from_the_start(step)
        else:
            found = []
        if lr is not None:
            # (below rounding: a recursive schedule that ends at 0 can land just under it)
            negative = lr < -NEGATIVE_LR * self.peak_lr or (lr < 0 and self.peak_lr == 0)
            if negative:
                found += self._negative_lr(step, lr)
            self.lr_before, self.lr_now = self.lr_now, lr
            if lr >= self.peak_lr:
                self.peak_lr, self.peak_step = lr, step
            self._track_geometric(step, lr)
            if self.cuts != "timetable":  # (the lowest loss matters only until then)
                # (a new lowest by ReduceLROnPlateau's own default threshold, 1e-4 relative:
                # a smaller gain does not reset its patience)
                lowest = self.lowest[0]
                if loss is not None and (loss < lowest - 1e-4 * abs(lowest)
                                         or lowest == math.inf):
                    self.lowest = (loss, step)
                if self.last_lr is not None and lr < self.last_lr:
                    self.cuts = self._cut_kind(step)
                self.last_lr = lr
            # (1% slack: a rate divided by 10 twice lands on 1e-2 of its peak up to rounding)
            if self.peak_lr > 0 and lr <= 1.01 * self.t.lr_slowed * self.peak_lr:
                if not negative:  # (below 0 it climbs the loss: _negative_lr's alone)
                    found += self._schedule(step, lr)
            elif self.low_since[0] is not None:
                self.low_since, self.level = [None, None], None
                # (a rate back from near 0: only on such steps, so no cost to the others; a
                # schedule that dips to 0 and back every few steps leaves every other update
                # at 0, and a sample may land on them all: see _stalled)
                self.rises = (step, self.rises[0])
        self.loss = loss
        explosion = self.explosions.on_step(step, loss, grad_norm, layer_norms, lr)
        if explosion:
            self.step_lr = lr
            return found + self._explosion(explosion)
        return found

    def _negative_lr(self, step, lr):
        """A learning rate below 0: each update adds the gradient, so the optimizer climbs the
        loss. The optimizers refuse one at construction, so it comes from a schedule (a linear
        decay written without its floor at 0 passes below it and keeps falling: the loss
        climbed from step 21 to 1e19 by step 60, where the stalled rule had called the rate
        near 0 a schedule stepped per batch). Certain at its first step; grouped with the
        explosions it causes."""
        self.step_lr = lr
        return self._group(
            "exploding", "exploding", list(self.order), step,
            f"training is diverging: the learning rate is {lr:.3g}, below 0 (its peak was "
            f"{self.peak_lr:.3g}), so every update adds the gradient and climbs the loss",
            "negative_lr")

    def _explosion(self, e):
        f = e.figures
        if e.kind == "jump" and self.output_saturated and f["norm"] != math.inf:
            # a jump from the gradient of a model whose output activation is saturated from the
            # start (the confident, wrong outputs pass almost none back) to a few samples'
            # worth: not an explosion. An MF recommender's embeddings at std 10: 1.2e-4 at
            # step 1 against weights of norm ~280, 0.24 at step 4 with the weights unchanged,
            # while 98% of its ratings stayed at 0 or 1 (_saturated_output names it)
            return []
        if (e.kind == "diverging" and f["lr"] >= self.peak_lr
                and abs(f["lr"] - f["best_lr"]) <= 1e-3 * f["lr"]):
            # back up at the very rate its best loss was made at, the highest it has had: the
            # schedule did not raise it since, so whatever undid the fall, the rule's cause
            # is not it. A CNN at batch size 1 whose warmup ended at step 30: its median of five
            # per-sample losses 0.32 at step 98 and 1.02 at 103-105, at 0.02 from step 30 on,
            # and down to 0.25 by step 135 (a rate still higher, or back up after a restart,
            # still counts)
            return []
        taking_part = e.layers
        thrown = f.get("weights_layer")
        if (thrown is not None and thrown not in taking_part
                and f.get("weights", 0.0) >= self.t.weight_growth):
            # a layer whose weights doubled takes part whatever its gradient did: the gradient
            # grows most one layer after the weights that grew (it is their outputs times the
            # signal back), so the gradients alone name a layer downstream of the start (Rprop
            # at etaplus 3 grew an MLP's first layer 100x its natural size by step 16, its
            # gradient 87x; the next layer's gradient grew 290x, its weights 22x)
            taking_part = taking_part + [thrown]
        layers = self._origin(taking_part, e.norms)
        layer = layers[0] if layers else None
        where = f" starting in layer '{layer}'{self._gain(layer)}" if layer else ""
        if e.kind == "diverging":
            if f["loss"] >= self.t.overshoot * f["first_loss"]:
                level = f"{f['loss'] / f['first_loss']:.3g}x its untrained level"
            else:
                level = "its untrained level"
            message = (f"training is diverging{where}: the loss is back at {f['loss']:.4g}, "
                       f"{level} ({f['first_loss']:.4g}), after falling to "
                       f"{f['best_loss']:.4g}, and the learning rate rose from "
                       f"{f['first_lr']:.3g} at the start to {f['lr']:.3g}")
            return self._group("exploding", "exploding", layers, e.step, message, "diverging")
        if f["norm"] == math.inf:
            message = (f"exploding gradients{where}: the gradient norm jumped above "
                       f"{self.t.jump_factor:g}x its earlier maximum ({fmt(f['reference'])}) at "
                       f"step {f['since']} and the next step turned non-finite")
        else:
            grown = (f" and the weights of layer '{f['weights_layer']}' grew "
                     f"{f['weights']:.1f}x" if f["weights"] >= self.t.weight_growth else "")
            start = self.explosions.start_loss
            fell = (f["loss"] is not None and start is not None
                    and self._unbounded(f["loss"], start))
            moved = (self._no_floor(f["loss"]) if fell
                     else f"; the loss rose to {f['loss']:.4g}")
            message = (f"exploding gradients{where}: the gradient norm jumped to "
                       f"{fmt(f['norm'])}, {f['norm'] / f['reference']:.0f}x its earlier "
                       f"maximum ({fmt(f['reference'])}), and stayed there since step "
                       f"{f['since']}{moved}{grown}")
            if fell:
                return self._group("exploding", "exploding", layers, e.step, message,
                                   "unbounded_loss")
        remedy_key = self._exploding_remedy(layer)
        first, lr, before = self.explosions.first_lr, self.lr_now, self.lr_before
        if (remedy_key == "exploding" and first and lr is not None and before is not None
                and lr > before and lr >= self.t.lr_rise * first):
            # a jump while the schedule is still raising the rate, lr_rise x its first value
            # or more: the schedule's (an inverted LambdaLR decay, 1.1 ** step, jumped 34x at
            # step 25 at seed 2, before the loss's median of five was back at twice its start).
            # A rate that rose and stays (a warm-up that ended) is not enough
            message += (f"; training is diverging as the learning rate rises, from "
                        f"{first:.3g} at the start to {lr:.3g}")
            remedy_key = "diverging"
        return self._group("exploding", "exploding", layers, e.step, message, remedy_key)

    def _cut_kind(self, step):
        """Whether the cut of the rate at ``step``, and every one before it, is one that
        ReduceLROnPlateau stepped on this loss could make ("plateau"), else "timetable". Such a
        schedule cuts when its patience has run out since its best loss or its last cut
        (whichever is later; a cooldown only lengthens the second), so every cut that follows
        a new lowest loss comes the same number of steps after it as the first did, at least
        ``plateau_steps``. A timetable on a noisy loss meets the first test by chance (one
        lucky batch made the lowest loss five steps before StepLR's cut, at seeds 5 and 6 of a
        GRU) and fails the second at the next new lowest (11 steps before the next cut)."""
        lowest = self.lowest[1]
        after_cut = self.last_cut > lowest  # (no new lowest loss since the last cut)
        wait = step - max(lowest, self.last_cut)
        self.last_cut = step
        if self.cuts is None:
            self.cut_wait = wait
            return "plateau" if wait >= self.t.plateau_steps else "timetable"
        follows = wait >= self.cut_wait if after_cut else wait == self.cut_wait
        return "plateau" if follows else "timetable"

    def _track_geometric(self, step, lr):
        """Whether the lr fell at every step by one ratio: a schedule that multiplies it by its
        gamma each time it is stepped (ExponentialLR, or a LambdaLR/MultiplicativeLR of a
        power), stepped at every step."""
        previous, ratio, since = self.geometric
        if previous is None or not 0 < lr < previous:
            self.geometric = [lr, None, None]
            return
        now = lr / previous
        # (1e-6: the ratio of two products by gamma is gamma to double rounding; a cosine's
        # or a polynomial's falls change by more than that from one step to the next)
        if ratio is None or abs(now - ratio) > 1e-6 * ratio:
            since = step
        self.geometric = [lr, now, since]

    def _geometric_hit(self, step):
        """For a rate at ``lr_slowed`` of its peak or below: (since, level) where it fell
        there by one ratio at every step from its peak on and has stayed for
        ``geometric_share`` of the steps before (at least ``patience``), else None."""
        _, ratio, began = self.geometric
        since = self.low_since[0]
        if ratio is None or since is None or began is None or began > self.peak_step + 1:
            return None
        if step - since + 1 >= max(self.t.geometric_share * (since - 1), self.t.patience):
            return since, self.t.lr_slowed
        return None

    def _schedule(self, step, lr):
        """The learning rate fell to ``lr_slowed`` (or ``lr_collapsed``) of its peak and has
        stayed there for ``slowed_share`` (``collapsed_share``) times the steps the run took to get
        there: a schedule far faster than the run (see docs/diagnostics.md, stalled)."""
        if "schedule" in self.groups:
            return []  # (reported once)
        t, peak = self.t, self.peak_lr
        levels = ((t.lr_slowed, t.slowed_share), (t.lr_collapsed, t.collapsed_share))
        hit = None
        for i, (level, share) in enumerate(levels):
            if lr > 1.01 * level * peak:
                self.low_since[i] = None
                continue
            since = self.low_since[i] = self.low_since[i] or step
            if hit is None and step - since + 1 >= max(share * (since - 1), t.patience):
                hit = (since, level)
        level = self.level
        # (1e-9: the same value recomputed, a closed form's rounding; a schedule's cut is 10%
        # or more, a per-batch decay's smallest change ~1e-4)
        if level is None or abs(lr - level[0]) > 1e-9 * level[0]:
            level = self.level = (lr, step)
        if hit is None and step - level[1] + 1 >= max(t.level_share * (level[1] - 1),
                                                      t.patience):
            collapsed = lr <= 1.01 * t.lr_collapsed * peak
            hit = (self.low_since[1 if collapsed else 0],
                   t.lr_collapsed if collapsed else t.lr_slowed)
        if hit is None:
            hit = self._geometric_hit(step)
        # (every cut on a plateau: the rate follows the loss, ReduceLROnPlateau; but no such
        # schedule reaches exactly 0, which stops every layer whoever set it: a second stage
        # at step 30 that wrote lr * 0 for lr * 0.1, seven steps after the loss's lowest, was
        # taken for a plateau's cut and never reported)
        if hit is None or (self.cuts == "plateau" and lr > 0):
            return []
        (since, level), last = hit, self.last_update
        if lr == 0:
            # nothing moves at all: every layer stalls, named as the layer rule would name them
            # (which needs three samples: at the default rate a schedule that reached 0 at
            # step 20 of 200, or 51, was found at step 100, or 200)
            return self._group(
                "schedule", "stalled", list(self.order), step,
                f"training has stopped: the learning rate has been 0 since step {since} "
                f"({step - since + 1} steps; its peak was {peak:.3g}), so no layer moves: a "
                "schedule that reached 0 long before the run ends (its length, total_iters or "
                "T_max counted in epochs while it is stepped after every batch, or a gamma of 0)",
                "schedule_zero")
        moved = (f"; the updates moved the weights by at most {last[1]:.1e} of their size at "
                 f"step {last[0]} (healthy is near 1e-3)" if last and last[0] >= since else "")
        if step - self.level[1] + 1 >= t.level_share * (self.level[1] - 1):
            moved += (f"; it has not changed since step {self.level[1]}: its cuts stopped "
                      "early rather than going on once a period")
        _, ratio, began = self.geometric
        if ratio is not None and began is not None and began <= self.peak_step + 1:
            moved += (f"; it has been multiplied by {ratio:.4g} at every step since its peak "
                      "(a gamma per epoch applied per batch)")
        return self._group(
            "schedule", "stalled", [], step,
            f"training has effectively stopped: the learning rate fell to {level:g} of its peak "
            f"({peak:.3g}) or below at step {since}, and has stayed there for {step - since + 1} "
            f"steps, now {lr:.3g}{moved}. A schedule that falls this far this early in a run is "
            "most likely stepped after every batch where it was meant per epoch (StepLR's "
            "step_size, MultiStepLR's milestones or ExponentialLR's gamma counted in "
            "epochs)", "schedule")

    def _exploding_remedy(self, layer):
        if layer in self.recurrent:
            return "exploding_recurrent"
        if layer in self.looped:
            return "exploding_loop"
        if not self.oversized and self.repeated and layer == self.repeated[0]:
            return "exploding_repeated"
        if not self.oversized and self.init_large and layer == self.init_large[0][0]:
            return "exploding_init"
        if self._grows_from(layer):
            return "exploding_depth"
        return "exploding_layer" if self._gain(layer) else "exploding"

    def _grows_from(self, layer):
        """Whether ``layer`` is named as where the measured growth across depth starts, with
        no cause nearer to hand (an oversized layer, a repeated one, weights too large)."""
        return (not self.oversized and not self.repeated and not self.init_large
                and bool(self.depth) and self.depth[0] == layer)

    def _origin(self, layers, norms=None):
        """``layers`` (all taking part in one explosion) with the one it starts in first, the
        rest after it. Whichever layer grows most is no guide: once one layer amplifies, every
        layer grows with it (those after it through their inputs, those before it through the
        gradient it passes back), the smallest ones relative to their weights the most (one
        update grew a 32-2 head 62x and the ReLU RNN before it, where it began, 15x). A
        recurrent layer amplifies inside itself, over time: of those taking part, the one with
        the largest gradient (``norms``: {layer: gradient norm}; its gradient sums the
        amplified signal over every time step, the others' carry it once), else the first in
        forward order, is named. Across depth, a layer whose weights are out of scale with
        those before it (``_out_of_scale``) amplifies everything after it while its own update
        stays small (its gradient is that of the others over its gain): it is named even if it
        did not grow itself. Else the growth compounds from layer to layer and starts at the
        first in forward order."""
        if not layers:
            return []
        position = {name: i for i, name in enumerate(self.order)}
        forward = sorted(layers, key=lambda n: position.get(n, len(position)))
        large = (self.oversized[0] if self.oversized else
                 self.repeated[0] if self.repeated else
                 self.init_large[0][0] if self.init_large else
                 self.depth[0] if self.depth else None)
        # (a layer run in a loop compounds its gain over its calls as a recurrent layer does
        # over time: ``_looped``)
        recurrent = [n for n in forward if n in self.recurrent or n in self.looped]
        if recurrent and norms:
            recurrent.sort(key=lambda n: -norms.get(n, 0.0))  # (stable: ties keep their order)
        # a recurrent layer whose weights can amplify by themselves (``_amplifies``: started
        # ``recurrent_size`` x their natural size) before those that only carry the growth:
        # the gradient norms alone order a stack by chance (three stacked ReLU RNNs, the
        # middle one with recurrent gain 4: 9.6e9 against 4.9e9 for the last at seed 0, but
        # 8.4e8 against 9.8e8 at seed 5 and the last was named)
        recurrent.sort(key=lambda n: not self._amplifies(n))
        standing = self._standing()
        grew = 0.0 if standing in layers else self._thrown_since_standing(standing, forward)
        if grew:
            forward = [standing] + forward
            self.standing_grew = (standing, grew)
        first = (recurrent[0] if recurrent else large or
                 (standing if standing in forward else forward[0]))
        return [first] + [n for n in forward if n != first]

    def _thrown_since_standing(self, standing, layers):
        """How many times larger the weights of the layer whose gradient stood out from the
        start (``_standing``), before ``layers`` in forward order, grew since the first sample
        where ``weight_growth`` x or more, else 0: the multiplied gradient threw it over
        several updates, none doubling it, and the layers after it grew through their inputs,
        one doubling at last (a reversal 1000x too strong grew the features' last layer 3.9x
        by step 8 in updates of 0.2-0.6x its size, then the label head read the grown features
        and one update made it 3.8x larger: the head was named, seeds 9 and 14)."""
        if standing is None or not layers or standing not in self.order:
            return 0.0
        position = {name: i for i, name in enumerate(self.order)}
        if position[standing] > min(position.get(n, len(position)) for n in layers):
            return 0.0
        now, first = self.weights_now(standing), self.first_sizes.get(standing)
        if now is None or first is None:
            return 0.0
        grew = now / max(first, 1.0)
        return grew if grew >= self.t.weight_growth else 0.0

    def _stands_out(self, layers, order, heads):
        """The layer nearest the loss whose gradient/weight ratio is ``jump_factor`` times
        that of the layers after it (``amplified``), not a head, else None: the backward signal
        is multiplied where it enters that layer (a gradient reversal a thousand times too
        strong, a hook scaling a layer's output gradient, a custom backward)."""
        order = _parents_first(order)
        flagged = [n for n in amplified(order, self._ratios(layers, order), self.t.jump_factor)
                   if n not in heads]
        return flagged[-1] if flagged else None

    def _ratios(self, layers, order):
        """{layer: its gradient/weight ratio} for the layers of ``order`` that have one, but
        those whose matrices are broadcast parameters (``broadcast``): a class token's or
        learned positions' ratio is no gain (trained from zero, 0.25-0.36 in norm, their
        gradients were 6-10x that, 105x the ratio of the layers after them, in a healthy patch
        transformer)."""
        return {n: layers[n]["rho"] for n in order
                if layers[n].get("rho") is not None and n not in self.broadcast}

    def _standing(self):
        """The layer whose gradient stood out (``_stands_out``) at most of the first
        ``patience`` samples read so far, else None. A multiplier inside the backward pass
        shows from the first sample, before any explosion: a reversal 1000x too strong put
        the features' last layer at 17 to 31x the layers after it at steps 1-4 (seeds 0, 6,
        shift 303), while every layer before it grew alike once the weights were thrown, and
        the first in forward order was named. Once thrown, the ratios say nothing of where it
        began (the head's input grew with the features: 1.2 to 2.5x at steps 8 and 16)."""
        readings = [n for n in self.first_standing if n is not None]
        if not readings:
            return None
        layer, count = collections.Counter(readings).most_common(1)[0]
        return layer if 2 * count > len(self.first_standing) else None

    def on_nonfinite(self, step, origin, message, update_checked=True):
        """The first non-finite value: its finding, and an explosion it confirms.
        ``update_checked``: for a non-finite parameter, whether the gradients of its last update
        were read and finite (then the update itself made it non-finite: an explosion)."""
        found = self._doubling_confirmed(None) if self.doubled else []
        # an explosion reported before this step (the one the tracker may confirm now is not:
        # a jump the non-finite step proves is this step's news)
        earlier = self.groups.get("exploding")
        # a value from outside the model (inputs, targets, another model's output) proves
        # nothing about its weights: a student's gradient that rose tenfold when its teacher's
        # softmax turned one-hot, the step before that teacher's logits overflowed, was called
        # an explosion of the student's first layer
        explosion = None if origin.op == "data" else self.explosions.on_nonfinite(step)
        if explosion is not None:
            found += self._explosion(explosion)
        made_by_update = origin.op == "parameter" and step > 1 and update_checked
        # a parameter found non-finite was made so by the updates (explain's remedy: the rate)
        key = "exploding" if origin.op == "parameter" else None
        divided = self.divided.get((origin.layer or "").rpartition(".")[0] or origin.layer)
        if made_by_update and divided is not None and "inf" in origin.kind:
            grad_norm, lr = divided
            rate = "" if lr is None else f" at lr {lr:.2g}"
            message = (message.partition(". Remedy:")[0] + "; the last update made it inf from "
                       f"finite weights and a gradient of norm {fmt(grad_norm)}{rate}, a step "
                       "too small to overflow them: the optimizer divided by zero, such as "
                       "Adam's eps in float16 (1e-8 rounds to 0 below float16's smallest value, "
                       "6e-8, and so do the squares of gradients below 2e-4) or eps=0. Remedy: "
                       f"{remedy('inf_update')}")
            key = "inf_update"
        elif made_by_update and "inf" in origin.kind and "exploding" not in self.groups:
            layer = origin.layer.rpartition(".")[0] or origin.layer
            found += self._group(
                "exploding", "exploding", [layer], step,
                f"exploding weights in layer '{layer}': an update made parameter "
                f"'{origin.layer}' {origin.kind} from finite gradients", "exploding")
        elif made_by_update and explosion is None and earlier is None:
            # nan straight from finite weights and gradients: growth overflows to inf first,
            # so this is a 0/0 (or inf * 0) inside the update, not an explosion
            message = (message.partition(". Remedy:")[0] + "; the last update made it nan "
                       "from finite weights and gradients (an overflow would have made inf "
                       "first): a 0/0 in the optimizer, such as Adam, Adagrad or RMSprop with "
                       "eps=0 on entries whose gradient has been 0 so far, or a trust ratio or "
                       f"normalisation over a zero norm. Remedy: {remedy('nan_update')}")
            key = "nan_update"
        if earlier is not None and (earlier.step < step
                                    or earlier is self.closure_stale):
            # an overflow after weights already found exploding (or, in the same step, after
            # a closure's gradients were found adding up): its consequence
            head, _, rest = message.partition(". Remedy:")
            what = ("gradients adding up over a closure's evaluations were found before it"
                    if earlier is self.closure_stale else "an explosion was found before it")
            message = (f"{head}; {what} (step {earlier.step}), most likely its cause: treat "
                       "that first" + (f". Remedy:{rest}" if rest else ""))
        finding = Finding("nonfinite", origin.layer, step, message, origin=origin, remedy=key)
        self.groups["nonfinite"] = finding
        return found + [finding]

    def on_stale(self, step, verdict, parameter):
        """The step after a sample: whether its gradient still held the sample's (see
        stale.py); None says nothing either way."""
        if verdict is None:
            return []
        if verdict == WITHIN_STEP:  # (decisive at once: see stale.py)
            found = self._group(
                "exploding", "exploding", [], step,
                f"gradients are never cleared between the evaluations of one step: the "
                f"gradient of '{parameter}' found by each of {INNER_PASSES} backward passes in a "
                "row, after the optimizer moved the weights in between, was what the pass "
                "before left plus the new one, so an optimizer that calls its closure several "
                "times a step (L-BFGS) adds up every evaluation's gradient; its direction and "
                "its steps grow with each evaluation", "stale_closure")
            if found:
                self.closure_stale = found[0]
            return found
        if not self._streak(("stale", None), verdict):
            return []
        return self._group(
            "exploding", "exploding", [], step,
            f"gradients are never cleared between steps: on {self.t.patience} checks in a row "
            f"the gradient of '{parameter}' after a step's backward still held the previous "
            "step's gradient plus the new one, so each update adds up every earlier gradient "
            "and the updates grow as the run goes on", "stale")

    def on_optimizer(self, step, problems):
        """Settings that make the optimizer another one than meant (``problems`` from
        ``updates.settings_problems``): each is the cause of what its run will show, said at
        once, before the explosion or the stall it leads to is measured."""
        found = []
        for kind, group, value in problems:
            where = f" in parameter group {group}" if group else ""
            if kind == "momentum":
                found += self._group(
                    "exploding", "exploding", [], step,
                    f"the optimizer's momentum is {value:g}{where}: at 1 or above the velocity "
                    "never decays, so each update adds up every gradient since the start and "
                    "the weights keep moving, and swinging further, long after the gradient "
                    "has fallen", "momentum")
            elif kind == "beta2":
                found += self._group(
                    "exploding", "exploding", [], step,
                    f"Adam's beta2 is {value:g}{where}: its second moment remembers under two "
                    "steps' squared gradients, so where a gradient shrinks its step m / sqrt(v) "
                    "has no bound (the first moment still holds the earlier, larger "
                    "gradients)", "beta2")
            elif kind == "eps":
                found += self._group(
                    "stalled", "stalled", list(self.order), step,
                    f"Adam's eps is {value:.3g}x the gradients' RMS{where} (the square root of "
                    "its second moment, in the median parameter): it divides by eps instead, "
                    "a step of lr / eps times the gradient, SGD at a rate far too small",
                    "eps")
        return found

    def on_unregistered(self, step, stalled):
        """``stalled``: parameters held outside the model's registered ones (a plain list of
        layers) that had a gradient and did not move since the last sample (unregistered.py)."""
        layers = list(dict.fromkeys(_module_of(name) for name in stalled))
        hits = [n for n in layers if self._streak(("unregistered", n), True)]
        for key in [k for k in self.streaks if k[0] == "unregistered" and k[1] not in layers]:
            self.streaks[key] = 0
        if not hits:
            return []
        attribute = hits[0].partition("[")[0]
        return self._group(
            "unregistered", "stalled", hits, step,
            f"layer '{hits[0]}' is not trained"
            f"{f' ({len(hits)} layers)' if len(hits) > 1 else ''}: the model holds it in "
            f"'{attribute}', a plain Python list, tuple or dict, which nn.Module does not "
            "register, so model.parameters() and an optimizer built from it leave it out; its "
            f"weights have a gradient but no update has moved them, for {self.t.patience} "
            f"samples in a row{_also(hits)}", "unregistered")

    # -- every sampled step -------------------------------------------------------------------
    def on_sample(self, sample, lr=None):
        """``sample``: {"step", "order": layer names in forward order, "layers": {name: stats},
        "activations": {name: {kind, dead or saturated, inputs, after}}} (see monitor.py)."""
        step = sample["step"]
        self.step_lr = lr
        if self.first_steepness is None:
            self._steepness()  # (kept from the first steps, for the climb rule)
        layers = sample["layers"]
        order = [n for n in sample["order"] if n in layers]
        if order:
            self.order = order
        inputs = {s["kind"]: s for s in sample["activations"].values()
                  if s.get("kind") in INPUT_KINDS}
        if inputs:  # (what the loss or a normalisation was given, not units of the model)
            sample = dict(sample, activations={n: s for n, s in sample["activations"].items()
                                               if s.get("kind") not in INPUT_KINDS})
        found_given = []
        if "natural" in sample:
            repeated = inputs.get("repeated")
            self.repeated = ((repeated["layer"], repeated["calls"], repeated["gain"])
                             if repeated and repeated["gain"] >= self.t.init_gain
                             and repeated["layer"] not in self.recurrent else None)
            # (only a growth there at the first sample: weights an explosion threw large make
            # the stream grow after it; L-BFGS summing its gradients, a transformer's norm named)
            depth = inputs.get("depth")
            depth = ((depth["layer"], depth["gain"])
                     if depth and depth["gain"] >= self.t.init_gain else None)
            if self.started_depth is None:
                self.started_depth = depth is not None
            self.depth = depth if self.started_depth else None
        if "natural" in sample or inputs:
            found_given += self._probabilities_as_logits(step, inputs.get("probabilities"))
            found_given += self._drowned(step, inputs.get("drowned"))
            found_given += self._uniform_targets(step, inputs.get("uniform_targets"),
                                                 sample.get("heads", ()))
            found_given += self._saturated_output(step, inputs.get("saturated_output"))
        if "natural" in sample:
            oversized = _out_of_scale(layers, order, sample["natural"], self.t.oversized)
            # only a layer that was out of scale at the first sample: one that an update threw
            # there grew with an explosion that starts in the updates (a critic regressed on
            # returns in the thousands: its head 62x its natural size after one SGD step was
            # named as the cause, with the remedy "initialise this layer's weights smaller")
            started = oversized and self.first_sizes.get(oversized[0], oversized[1])
            self.oversized = oversized if started and started >= self.t.oversized else None
            if self.started_oversized is None:
                self.started_oversized = oversized or ()
        if "natural" in sample and layers:  # (not an activation measurement between samples)
            large = _init_gain(layers, order, sample["natural"], self.recurrent,
                               self.t.init_gain)
            # only weights that started too large: weights grow over a long run, while the
            # gradients shrink
            if self.started_large is None:
                self.started_large = large is not None
                self.first_sizes = {n: layers[n]["weight_before"] / sample["natural"][n]
                                    for n in order if layers[n].get("weight_before")
                                    and sample["natural"].get(n)}
            self.init_large = large if self.started_large else None
        if "natural" in sample:
            # weights (above 0: a zero-initialised layer is another story) shrunk far below
            # their natural size: units after them are held by their biases, not dead
            self.shrunk = {n: layers[n]["weight_before"] / sample["natural"][n] for n in order
                           if layers[n].get("weight_before") and sample["natural"].get(n)
                           and layers[n]["weight_before"]
                           < self.t.shrunk * sample["natural"][n]}
        moved = [s["update_ratio"] for s in layers.values() if s.get("update_ratio") is not None]
        if moved:
            self.last_update = (step, max(moved))
            self.peak_update = max(max(moved), self.peak_update or 0.0)
        if sample["activations"]:
            self.looped = _looped(sample["activations"])
        starved = _starved(layers, order)
        self.frozen_norms = sorted({s.get("after") for s in sample["activations"].values()
                                    if s.get("frozen_norm")} - {None},
                                   key=lambda n: order.index(n) if n in order else len(order))
        self.collapsed = self._collapsed_through_depth(layers, order, sample["activations"])
        self._keep_early()
        found = self._activations(step, sample["activations"], lr, starved)
        explained = not self.collapsed and any(self.streaks.get((rule, name), 0) > 0
                        for name, s in sample["activations"].items()
                        if not self._learned_sharpness(name, s)
                        for rule in ("dead", "saturation"))
        # a run at its loss's floor has nothing left to learn: its gradients collapse by orders
        # of magnitude (to exactly 0 in float32), and their ratios and an optimizer's steps
        # around the minimum say nothing about the model (see ``_fitted``). Every size and
        # ratio rule below is judged false on such a sample, which also breaks its streak
        fitted = self._fitted()
        self.ever_fitted = self.ever_fitted or fitted
        if len(self.first_standing) < self.t.patience and not fitted and any(
                layers[n].get("rho") for n in order):
            self.first_standing.append(self._stands_out(layers, order,
                                                        sample.get("heads", ())))
        if self.first_rho is None:
            # (step 1 only: after an update the ratios are an explosion's, not the data's)
            self.first_rho = self._ratios(layers, order) if step == 1 else {}
        found += self._growth(step, layers, order, sample["natural"], fitted, lr,
                              sample.get("heads", ()))
        found += self._compounded_from_the_start(step, layers, order, sample["natural"])
        found += self._thrown_from_the_start(step)
        found += self._no_floor_fall(step, layers, order, sample["natural"])
        found += self._climbing(step, layers, order, sample["natural"], lr)
        found += self._multiplied(step, layers, order, sample["natural"], fitted)
        found += self._thrown(step, layers, order, sample["natural"])
        found += self._overshot(step, layers, fitted)
        found += self._amplified(step, layers, order, sample["activations"], fitted,
                                 sample.get("heads", ()))
        found += self._outsized(step, layers, order, fitted)
        found += self._too_large(step, layers, order, fitted)
        if not explained:
            found += self._vanishing(step, layers, order, starved, fitted)
            found += self._through_depth(step, layers, order)
            found += self._starved_by_the_loss(step, layers, order)
            found += self._shrunk_weights(step, order)
        found += self._stalled(step, layers, order, lr,
                               self._explained(sample["activations"], order))
        found += self._decaying(step, layers, order, sample.get("natural") or {})
        found += self._unscaled(step)
        return found_given + found

    def _unscaled(self, step):
        """Stalled at the data's scale: a run whose untrained loss was ``data_loss`` or more
        (an untrained model on data of unit scale starts near 1) that has not learned from step
        ``scale_from`` on, ``patience`` samples in a row: the median of its recent losses still
        ``scale_kept`` of it or more, or its later losses no lower than its first ones beyond
        their batch-to-batch spread (``_fell_beyond_spread``). Adam's steps are bounded by its
        rate: a regression on targets near 3000 (standardised by the inputs' statistics) moved
        its outputs a few units in 50 steps and its loss stayed at 1.0e7, while every layer's
        update ratio looked healthy."""
        e = self.explosions
        start = e.start_loss
        if start is None or start < self.t.data_loss:
            return []
        held = list(e.losses)
        n = self.t.recent_steps
        level = statistics.median(held[-n:]) if held else None
        fell = self._fell_beyond_spread(held[n:])
        holds = (step >= self.t.scale_from and level is not None
                 and (level >= self.t.scale_kept * start
                      or (fell is not None and fell <= self.t.scale_fell)))
        if not self._streak(("stalled", "scale"), holds):
            return []
        spread = ("" if level >= self.t.scale_kept * start else
                  f" (a later loss is below one of its first {n} in only {fell:.0%} of their "
                  "pairs, about the half that batches drawn alike give: their spread, not a "
                  "fall)")
        return self._group(
            "scale", "stalled", [], step,
            f"training has stalled at the data's scale: the loss started at {start:.4g} (an "
            "untrained model on inputs and targets of unit scale starts near 1) and is still "
            f"{level:.4g} after {step} steps{spread}, for {self.t.patience} samples "
            "in a row, while updates of a healthy size move the outputs only a little at each "
            "step: the targets (or inputs) are far from unit scale", "stalled_scale")

    def _keep_early(self):
        """Keep the run's first ``recent_steps`` losses (sorted), read at the first sample
        with twice as many in the loss window while it still begins at step 1: the level and
        the batch-to-batch spread the run started from (``_fell_beyond_spread``,
        ``_learned_saturation``)."""
        if self.early_losses is None:
            held, n = self.explosions.losses, self.t.recent_steps
            if 2 * n <= len(held) < held.maxlen:
                self.early_losses = sorted(list(held)[:n])

    def _fell_beyond_spread(self, later):
        """The share of (early, later) pairs of losses in which the later is the lower (ties
        half), early being the run's first ``recent_steps``: near 1 for a run that learns,
        however slowly, near 0.5 for one whose losses are its batches' spread around one level
        (a rank, so neither the scale nor a heavy tail moves it). None before it is known."""
        early = self.early_losses
        if early is None or not later:
            return None
        below = sum(len(early) - bisect.bisect_right(early, loss)
                    + 0.5 * (bisect.bisect_right(early, loss) - bisect.bisect_left(early, loss))
                    for loss in later)
        return below / (len(early) * len(later))

    def _drowned(self, step, given):
        """Vanishing where a layer norm's input is the same for every sample of the batch up to
        ``DROWNED`` of its size (activations.py, ``drowned_input``), on ``patience`` samples in a
        row: one term of the sum it normalises (positional embeddings started 1000x too
        large, std 20 for 0.02) drowns the data's part, which the norm divides by the whole;
        the layers before the norms get ~1/100 of the head's gradient and the loss stays at
        its guessing level. Named at the layer that made the largest term (else the norm)."""
        if not self._streak(("vanishing", "drowned"), given is not None):
            return []
        layer = given["layer"] or given["norm"]
        return self._group(
            "vanishing", "vanishing", [layer], step,
            f"vanishing gradients, starting at '{layer}': the input of the normalisation in "
            f"'{given['norm']}' differs between the samples of the batch by only "
            f"{given['share']:.2g} of its size for {self.t.patience} samples in a row"
            + (f"; '{layer}', its largest term, is the same for every sample and drowns the "
               "data's part" if given["layer"] else "")
            + ", which the norm divides by the whole: the signal from the data, and the "
            "gradient to the layers before it, are a small share of what they would be",
            "drowned_input")

    def _uniform_targets(self, step, given, heads=()):
        """Stalled, born in the loss: a cross-entropy whose targets are the same for every class
        in every row (``uniform_targets``: label_smoothing=1.0, or soft targets made uniform),
        on ``patience`` samples in a row. Its minimum is a model that scores every class alike,
        the loss log C, and the gradient falls to nothing on the way there: the model learns
        nothing from its inputs, and no size or ratio looks wrong. Named at the model's last
        layer, where the loss's (empty) signal enters: the layer that made the model's output
        (the last in forward order is an attention's projection in a transformer whose head
        ran before its fused attention's weights were read)."""
        if not self._streak(("stalled", "uniform_targets"), given is not None):
            return []
        made = [n for n in self.order if n in heads]
        layer = made[-1] if made else self.order[-1] if self.order else None
        by = (f"label_smoothing={given['smoothing']:g} turns every target into 1/"
              f"{given['classes']} of each class" if given["smoothing"] >= 1.0 - 1e-6 else
              "the soft targets it is given are 1/C of each class in every row")
        return self._group(
            "uniform_targets", "stalled", [layer] if layer else [], step,
            f"training has stalled in the loss, at the model's last layer '{layer}': "
            f"cross_entropy's targets are the same for all {given['classes']} classes in every "
            f"row for {self.t.patience} samples in a row ({by}); its minimum is a model that "
            f"scores all classes alike, the loss log {given['classes']} = "
            f"{math.log(given['classes']):.4g} whatever the inputs, so there is nothing to "
            "learn and the gradient falls to zero on the way there", "uniform_targets")

    def _saturated_output(self, step, given):
        """Saturation at the model's output: a sigmoid or tanh whose output is the model's,
        with more than ``saturated_fraction`` of its outputs within ``saturation_eps`` of an
        asymptote at its first measurement (the untrained model's forward) and at each of
        ``patience`` measurements in a row since, while the median of the recent losses is
        above ``unlearned_drop`` of the untrained one (``start_loss``: it has not learned).
        A trained classifier's output sigmoid is meant to be confident, and its loss has
        fallen: the units' rule leaves output activations out for it. One confident before
        any training was given inputs far too large (a matrix-factorisation recommender's
        sigmoid of the dot product of two embeddings drawn at std 10: scores of std 400,
        every rating 0 or 1 to within 0.02, the BCE ~49 and not falling under Adam 1e-2, the
        few unsaturated pairs its only gradient)."""
        if given is None:
            return []  # (no measurement completed on this sample: the streak waits)
        t, e = self.t, self.explosions
        layer = given["layer"]
        first = self.first_output.setdefault(layer, (given["saturated"], given["started"]))
        # (where a loss compared the outputs with their targets: confident and wrong, not a
        # trained model's confidence, which a run fine-tuning or resuming one starts with)
        wrong = given.get("wrong")
        self.output_saturated = (given["saturated"] > t.saturated_fraction
                                 and first[0] > t.saturated_fraction
                                 and (wrong is None or wrong > t.confident_wrong))
        recent = list(e.losses)[-t.recent_steps:]
        level = statistics.median(recent) if len(recent) >= 3 else None
        holds = (self.output_saturated and e.relapse_level is not None and level is not None
                 and level >= e.relapse_level)
        if not self._streak(("saturation", "output"), holds):
            return []
        after = f" (after '{given['after']}')" if given.get("after") else ""
        since = " (the untrained model's)" if first[1] <= 1 else ""
        return self._group(
            "saturated_output", "saturation", [layer], step,
            f"saturated units at the model's output '{layer}'{after}: "
            f"{given['saturated']:.0%} of its outputs are within {t.saturation_eps} of an "
            f"asymptote, as {first[0]:.0%} were at its first measurement, from step "
            f"{first[1]}{since}, on {t.patience} measurements in a row, while the loss "
            f"({level:.4g}, the median of the recent steps) is above {t.unlearned_drop:g}x "
            f"its untrained level ({e.start_loss:.4g}): its inputs were far too large from the "
            "start, so it is confident and wrong, and its flat slope passes almost no gradient "
            "back",
            "saturated_output")

    def _probabilities_as_logits(self, step, given):
        """Vanishing born in the loss: a cross-entropy (or a log-softmax) given a softmax's
        output as its logits, on ``patience`` samples in a row (``probabilities_as_logits``).
        Its softmax of rows in [0, 1] is nearly flat, so the gradient it sends is a small
        share of what the logits would get and cannot fall to zero as the model learns (ten
        classes under SGD 0.1: the loss stayed at 2.30 for 50 steps, every layer's gradient
        small alike, no layer to blame but the head where the shrunk signal enters). Named at
        the model's last layer, where the vanishing starts."""
        if not self._streak(("vanishing", "probabilities"), given is not None):
            return []
        layer = self.order[-1] if self.order else None
        if given["op"] == "BinaryCrossEntropyWithLogits":
            return self._group(
                "vanishing", "vanishing", [layer] if layer else [], step,
                f"vanishing gradients from the loss, starting at the model's last layer "
                f"'{layer}': binary_cross_entropy_with_logits is given probabilities as its "
                f"logits (every value in [0, 1], a sigmoid's output) for {self.t.patience} "
                "samples in a row; its own sigmoid of them lies between 0.5 and 0.73 (the loss "
                f"at best {math.log(2):.3g} where the target is 0, {math.log1p(math.exp(-1)):.3g} "
                "where it is 1), and the model's gradient passes two sigmoids",
                "probabilities_as_logits")
        op = "cross_entropy" if given["op"] == "CrossEntropy" else "log_softmax"
        floor = math.log(1 + (given["classes"] - 1) / math.e)
        made = ("every row in [0, 1] and summing to 1, a softmax's output"
                if given.get("over") != "batch" else
                "every value in [0, 1] and each class's column summing to 1 over the batch, a "
                "softmax taken over the batch axis, dim=0, where the classes' was meant")
        return self._group(
            "vanishing", "vanishing", [layer] if layer else [], step,
            f"vanishing gradients from the loss, starting at the model's last layer "
            f"'{layer}': {op} is given probabilities as its logits ({made}) for "
            f"{self.t.patience} samples in a row; its "
            f"own softmax of them is nearly flat (no two of the {given['classes']} classes more "
            f"than e:1 apart, the loss at best {floor:.3g}), so the gradient the model gets "
            "is a small share of the logits' and never falls to zero", "probabilities_as_logits")

    def _explained(self, activations, order):
        """The layers whose tiny updates vanishing gradients (any layer: with SGD a tiny gradient
        is a tiny update, and the gradient shrinks all along the path) or dead or saturated
        units may explain: those at or before the layer such units follow (their gradient
        passes through the units), and the layer they feed (its inputs are those units' flat
        values, so its weights get almost no gradient). Not the layers after that: a head left
        out of the optimizer went unreported behind dead units two layers before it."""
        if "vanishing" in self.groups:
            return set(order)
        reach = -1
        t = self.t
        for name, s in activations.items():
            if self._learned_sharpness(name, s):
                continue
            # (flat now, whether or not reported: units after a layer that receives only zeros
            # are not, and the layer they feed gets no gradient either)
            if ((s.get("dead", 0) > t.dead_fraction and s.get("after") not in self.shrunk)
                    or s.get("saturated", 0) > self._saturated_fraction(name, s)
                    or any(self.streaks.get((r, name), 0) > 0 for r in ("dead", "saturation"))):
                after = s.get("after")
                reach = max(reach, order.index(after) + 1 if after in order else len(order))
        return set(order[:reach + 1])

    def _activations(self, step, activations, lr=None, starved=()):
        dead, saturated, pooled = [], [], {}  # pooled: sampled softmaxes, their pooled share
        shut = []  # recurrent layers whose memory gate is held shut
        t = self.t
        if lr is not None and self.explosions.first_lr is None:
            self.explosions.first_lr = lr
        if self._fitted():
            return []  # nothing left to learn: units that stopped passing gradients cost nothing
        found = self._constant_inputs(step, activations)
        for name, s in activations.items():
            if s.get("constant"):
                continue  # (dead or alive together by the sign of a constant: the data's doing)
            self.measured[name] = self.measured.get(name, 0) + 1
            since, self.measured_at[name] = self.measured_at.get(name, 0), step
            if s.get("dead") is not None:
                self.first_dead.setdefault(name, s["dead"])
                if s.get("off") is not None:
                    self.first_off.setdefault(name, s["off"])
            if s.get("kind") in LEARNED_SATURATION and s.get("saturated") is not None:
                self.first_saturated.setdefault(name, s["saturated"])
            if s.get("kind") == "softmax":
                self.first_softmax.setdefault(name, (s["saturated"], s.get("margin", 0.0)))
            if s.get("sampled"):
                # a sampled softmax's flat rows are drawn anew at every step: its share pooled
                # over the samples is each row's chance of being flat on a step (one sample's
                # few rows spread it by +-0.05 or more: 32 rows of a Gumbel-VAE at tau 0.03 read
                # 0.72 to 0.94)
                pool = self.sampled_flat.setdefault(name, [0.0, 0])
                pool[0] += s["saturated"]
                pool[1] += 1
                s = pooled[name] = dict(s, saturated=pool[0] / pool[1])
            # units after a layer whose inputs are all zero are not dead by themselves: the
            # signal was cut before them (Dropout(p=1), a mask of zeros), which the layers
            # above show as an exactly zero gradient (vanishing names the first of them)
            both = self._dead_twice(name, s) if s.get("dead") is not None else None
            if s.get("dead") is not None and self._unit_streak(
                    ("dead", name), self._dead_share(name, s) > self._dead_fraction(name, s)
                    and s.get("after") not in starved and s.get("after") not in self.shrunk
                    and not self.collapsed,
                    lr, since
            ) and both > self._dead_fraction(name, s) and not self._learned_tail(name, s) \
                    and not self._learned_off(name, s):
                dead.append(name)
            if s.get("saturated") is not None and self._unit_streak(
                    ("saturation", name), s["saturated"] > self._saturated_fraction(name, s),
                    lr, since) and not self._learned_tail(name, s) \
                    and not self._learned_saturation(name, s):
                saturated.append(name)
            if s.get("memory_shut") is not None and self._unit_streak(
                    ("memory", name), s["memory_shut"] > t.memory_shut
                    and s["memory_open"] < t.memory_open, lr, since):
                shut.append(name)
        if dead:
            s = activations[dead[0]]
            found += self._group(
                "dead", "dead", dead, step,
                f"dead units{_count(dead)}, starting at '{dead[0]}'{_after(s)}: {s['dead']:.0%} "
                f"of its units output {_flat(s)} for every one of {s['inputs']} inputs, for "
                f"{t.patience} samples in a row{_also(dead)}{self._zero_scale(s)}"
                f"{self._cause(('dead', dead[0]))}",
                "dead_zero_norm" if s.get("zero_scale")
                else self._units_remedy("dead", ("dead", dead[0]), s["kind"]))
        if shut and "exploding" not in self.groups:
            # (after an explosion the gates are thrown anywhere: the explosion is the cause)
            found += self._memory_shut(step, shut, activations[shut[0]])
        if saturated:
            s = pooled.get(saturated[0], activations[saturated[0]])
            key = ("saturation", saturated[0])
            first = self.first_softmax.get(saturated[0], (0.0, 0.0))
            tau = s.get("temperature")
            learned = ("learned attention" if s.get("attention") else
                       "a softmax that learning sharpened")
            sharp = (f"its scores divided by a temperature of {tau:.3g}, which makes them so "
                     "sharp" if tau else f"its scores far too large: {learned} keeps "
                     f"them under {t.softmax_margin:.0f}")
            from_start = ("" if first[0] <= t.saturated_fraction / 2
                          or first[1] <= t.softmax_margin else
                          f" from the first sample on, the two largest scores {first[1]:.0f} "
                          f"apart ({sharp})")
            # (below a temperature a row is flat only nearer to one-hot: see activations.py)
            top = 1 - t.saturation_eps * (tau or 1.0)
            # as many decimals as the margin below 100% needs (at tau 1e-3 it is 99.998%: with
            # two it read "more than 100.00%")
            digits = max(0, math.ceil(-math.log10(t.saturation_eps * (tau or 1.0) * 100)))
            what = (f"{s['saturated']:.0%} of its rows put more than {top:.{digits}%} "
                    f"of their weight on one position{from_start}, where the scores get almost "
                    "no gradient"
                    if s["kind"] == "softmax" else
                    f"{s['saturated']:.0%} of its outputs are within {t.saturation_eps} of an "
                    "asymptote, where the gradient is nearly zero")
            remedy = self._units_remedy("saturation", key, s["kind"], s.get("temperature"),
                                        s.get("attention"))
            bias, by_bias = s.get("saturating_bias"), ""
            # (a bias that holds the units at the asymptote by itself is the cause, whatever
            # the weights: smaller weights leave it there; an attention softmax's positions are
            # not its layer's units, and an explosion or a too-large step threw it there)
            if bias is not None and remedy in ("saturation", "softmax_scores") and not tau:
                by_bias = (f"; the bias of '{s['after']}' puts it there by itself, whatever the "
                           + (f"input: its two largest entries are {bias:.3g} apart, so every "
                              "row goes to the same position"
                              if s["kind"] == "softmax" else
                              f"input: its median entry is {bias:+.3g}"))
                remedy = "softmax_bias" if s["kind"] == "softmax" else "saturation_bias"
            found += self._group(
                "saturation", "saturation", saturated, step,
                f"saturated units{_count(saturated)}, starting at '{saturated[0]}' "
                f"({s['kind']}){_after(s)}: {what}, for "
                f"{t.patience} samples in a row{by_bias}{self._large_gates(saturated[0], s)}"
                f"{_also(saturated)}{self._cause(key)}", remedy)
        return found

    @staticmethod
    def _zero_scale(s):
        """Why the units are off: the normalisation before them has a weight of all zeros."""
        if not s.get("zero_scale"):
            return ""
        return (f"; the normalisation '{s['after']}' before them has its weight (its scale) all "
                "zero: its output is its bias alone, the same for every input, and a ReLU at 0 "
                "passes no gradient back, so the scale never leaves 0")

    def _memory_shut(self, step, shut, s):
        """Vanishing through time: the gate that carries a recurrent layer's state from step to
        step (an LSTM's forget gate, c = f * c + i * g; a GRU's update gate, h = (1 - z) * n +
        z * h) held shut, within saturation_eps of 0, on more than ``memory_shut`` of its values
        and open on fewer than ``memory_open``: the state is wiped at every step, and the path
        made to carry the gradient back through time with it; what is left is the recurrent
        weights' path, a plain RNN's, which at a natural size fades within a few steps. The
        layer's own gradient is not small (its last steps still learn): its inputs' gradient
        at the earlier steps is what vanishes, so the gradient norms cannot show it. A forget
        bias of -5 (an LSTM, 30 steps) shuts 79-100% and opens none, the loss 0.69 -> 0.66 in
        200 steps where the default twin reaches 0.06; healthy runs in the suite peak at 16%;
        weights too large shut and open alike (53% and 47%: docs/diagnostics.md)."""
        t = self.t
        return self._group(
            "memory_shut", "vanishing", shut, step,
            f"vanishing gradients through time in '{shut[0]}': the gate that carries its state "
            f"from step to step (an LSTM's forget gate, a GRU's update gate) is shut, within "
            f"{t.saturation_eps} of 0, on {s['memory_shut']:.0%} of its values and open on "
            f"{s['memory_open']:.0%}, for {t.patience} samples in a row: the state is wiped at "
            "every step, so neither memory nor the gradient is carried back past a step or "
            f"two{_also(shut)}", "memory_shut")

    def _dead_twice(self, name, stats):
        """The share of ``name``'s units off on every input of this measurement and of the one
        before (``stats["dead"]`` where the probe gave no units, or at the first). Units dead
        for good stay dead, the same ones each time; sparse units (detectors that fire on a few
        inputs, behind a bias of -1) are each off on most windows of a few inputs, and the
        share off on one window crosses the threshold by turns while each unit comes back on
        the next: with two sequences a batch, 56%, 56% and 75% on three samples in a row, 44%
        on the next, while the units off on two windows in a row stayed at 44% (reported as
        dead units at step 130 before this). Units an update too large kills are off at the
        last two samples of their streak, whatever they did before it (Adam at 0.3: 56% and
        62% of a layer off at steps 2 and 4, a quarter of them the same units, then the same
        88% and more from step 8 on). Where those two windows hold fewer than ``min_inputs``
        samples (rows: a sequence's positions are one sample's, as an image's pixels are), the
        units must be off on as many of the latest windows as hold that many: a unit off on
        every position of two sequences says little of the next sequence (the detectors at
        seed 10, 62% off at steps 8 and 10, four windows of two sequences, back to 38% by step
        20: reported as dead units at step 10 before this)."""
        off = stats.get("off")
        if off is None:
            self.dead_units.pop(name, None)
            return stats["dead"]
        kept = [w for w in self.dead_units.get(name, ()) if w[0].shape == off.shape]
        kept.append((off, stats.get("samples", self.t.min_inputs)))
        while len(kept) > 2 and sum(n for _, n in kept[1:]) >= self.t.min_inputs:
            kept.pop(0)
        self.dead_units[name] = kept
        if len(kept) < 2:
            return stats["dead"]
        both = functools.reduce(operator.and_, (units for units, _ in kept))
        return int(both.sum()) / off.size

    def _dead_share(self, name, stats):
        """The share of ``name``'s units that count as dead: those off on every input now,
        or, in a layer judged by chance (``_dead_fraction``), those off now that were off at
        its first measurement already. In such a layer each unit is on or off by the sign of
        its bias, and updates of a healthy size (its dead units' biases still in their initial
        range) nudge the biases near zero across it: the units that then go off are the
        loss's choice, not a coin's, and revive with the signal (an unnormalised depthwise-
        separable Conv1d under Adam at 3e-3: 53% of its last ReLU's 32 units off at step 1,
        75% by step 30 one unit at a time, the loss at chance until step 80, then 0.02 at step
        140 with 38% off; reported as dead units at step 40 before this)."""
        off, first = stats.get("off"), self.first_off.get(name)
        if (off is None or first is None or first.shape != off.shape
                or self._dead_fraction(name, stats) <= self.t.dead_fraction):
            return stats["dead"]
        return int((off & first).sum()) / off.size

    def _dead_fraction(self, name, stats):
        """The share of dead units above which ``name``'s units count as dead:
        ``dead_fraction``, or, for a layer not clearly alive at its first measurement (more
        than a quarter of its units dead, half of ``dead_fraction``, as for smooth tails) whose
        dead units' biases are all still in their initial range (``biases_natural``), the share
        a coin gives by chance (``_chance_share``). In a deep stack of ReLU layers without
        normalisation at PyTorch's default initialisation the signal shrinks about sixfold (in
        its second moment) per layer while the biases keep their size, so from the fourth or
        fifth layer on a unit is on or off for every input by the sign of its bias, a coin
        toss: up to 47% of such layers of width 8 or 32 start more than half dead, and of a
        depthwise convolution's, whose channels each read one channel of non-negative values,
        14 to 21% (30 seeds). They revive as the layers before them learn and the signal grows
        (a depthwise-separable CNN that trained to 0.001 was reported dead at step 4)."""
        first = self.first_dead.get(name, 0.0)
        if (first > self.t.dead_fraction / 2 and stats.get("biases_natural")
                and stats.get("units")):
            return max(self.t.dead_fraction, _chance_share(stats["units"]))
        return self.t.dead_fraction

    def _constant_inputs(self, step, activations):
        """The data as the cause: the model's inputs were the same for every row of each batch
        (all zero: a mask that zeroed the batch, a normalisation dividing by inf) on
        ``patience`` measurements in a row. Every unit is then the same on every input, dead or
        alive by the sign of a constant (a ReLU MLP fed zeros was reported as 53% dead units in
        its second layer), so the finding names the data and the first layer, which reads it."""
        constant = next((s["constant"] for s in activations.values() if s.get("constant")),
                        None)
        if not self._streak(("dead", "constant inputs"), constant is not None):
            return []
        names = [n for n, s in activations.items() if s.get("constant")]
        first = self.order[0] if self.order else activations[names[0]].get("after") or names[0]
        dead = [n for n in names if activations[n].get("dead", 0) > self.t.dead_fraction]
        what = ("all zero" if constant == "zero" else
                "the same for every sample of the batch")
        return self._group(
            "constant_inputs", "dead", [first], step,
            f"the data: the model's inputs are {what}, for {self.t.patience} samples in a row, "
            f"so every unit from layer '{first}' on is the same on every input, dead or alive "
            "by the sign of a constant"
            + (f" ('{dead[0]}': {activations[dead[0]]['dead']:.0%} of its units output zero)"
               if dead else ""), "constant_inputs")

    def _saturated_fraction(self, name, stats):
        """The share of saturated outputs above which ``name``'s units count as saturated:
        ``gate_saturated_fraction`` for the gates of an LSTM or GRU whose weights started
        ``recurrent_size`` times their natural size or more, else ``saturated_fraction``.
        Weights too large saturate the gates from the first sample on and keep them there
        (ten times too large, width 16: 30 to 47%, the loss at step 300 3 to 10 times its
        default twin's), while gates of layers started large that train peak at 17%. Gates
        of weights of natural size fed inputs ten times their scale reach 30% and still train:
        the general threshold holds there (see docs/diagnostics.md, saturation)."""
        if (stats.get("kind") == "gates"
                and self._first_size(name) >= self.t.recurrent_size):
            return self.t.gate_saturated_fraction
        if stats.get("sampled"):
            # the rows of a sampled softmax that are not flat pass 1/tau times the gradient:
            # each row learns on the steps where its draw is near a tie (see
            # docs/diagnostics.md, saturation)
            return self.t.sampled_saturated_fraction
        return self.t.saturated_fraction

    def _first_size(self, activation):
        """The first size of the layer whose gates ``activation`` measures ('rnn' for 'rnn[1]':
        a recurrent layer called more than once is measured per call), 0 if unknown."""
        sizes = self.first_sizes
        if activation in sizes:
            return sizes[activation]
        head, bracket, _ = activation.rpartition("[")
        return sizes.get(head, 0.0) if bracket and activation.endswith("]") else 0.0

    def _large_gates(self, name, stats):
        """Why gates were reported below ``saturated_fraction``: the weights' size."""
        if self._saturated_fraction(name, stats) >= self.t.saturated_fraction:
            return ""
        return (f" (more than {self.t.gate_saturated_fraction:.0%} of the gates of a layer whose "
                f"weights started at {self._first_size(name):.1f}x their natural "
                "size, which hold them there)")

    def _learned_sharpness(self, name, stats):
        """Whether ``name`` is a softmax that learning made sharp (``_learned_tail``): it
        explains no small gradient elsewhere (an induction head's sharp attention is not why
        a layer stalls or vanishes)."""
        return stats.get("kind") == "softmax" and self._learned_tail(name, stats)

    def _learned_tail(self, name, stats):
        """Whether units of a smooth activation (GELU, Softplus, ...) were measured alive and
        went into its flat tail since, with no cause seen (no explosion, no update as large as
        a layer, no rise of the learning rate): learning put them there. A tail has a small
        gradient, not none, and a Softplus that keeps a variance or a rate positive is meant to
        go deep into it when the data asks for a small one (a Gaussian head on targets with
        noise 0.01, a Poisson rate of counts that are mostly 0: reported as dead units at steps
        150 to 200 before this). Units in the tail from the first measurement (a bias far too
        negative) are reported, as a ReLU's are."""
        key = ("dead", name)
        if stats.get("kind") == "softmax":
            # a softmax that learning made sharp (attention that copies a token, finds the
            # previous occurrence) is doing its job, also when it was trained before the
            # monitor started (fine-tuning); one sharp from the first sample with its two
            # largest scores far apart has scores far too large (query/key weights too large,
            # a missing 1/sqrt(d) scale): learning stops widening that gap once a row is sharp
            # (the gradient falls as exp(-gap)), so trained rows keep it at 4 to 7
            if "exploding" in self.groups:
                return False
            share, margin = self.first_softmax.get(name, (0.0, 0.0))
            return not (share > self.t.saturated_fraction / 2 and margin > self.t.softmax_margin)
        if stats.get("kind") not in SMOOTH_NAMES:
            return False
        if "exploding" in self.groups or self.first_dead.get(name, 1.0) > self.t.dead_fraction / 2:
            return False  # (not clearly alive at first: a BatchNorm shift of -5 before a GELU
            # held 40 to 62% of its channels in the tail, around the threshold from the start)
        return self._no_cause_seen(key)

    def _learned_off(self, name, stats):
        """Whether ReLU units that were measured alive went off since while the loss learned
        (``_has_learned``), their biases still in their natural range and no cause seen (no
        explosion, no update as large as a layer, no rise of the learning rate): learning switched
        them off. A unit whose every input the loss wants lower is pushed off a little at each
        step, and does no harm there; one killed by a step too large has a cause on record, or its
        bias thrown far below its range (a segmenter under Adam at 1e-2: 5 of its second ReLU's 8
        channels off one at a time from step 2 to 30, the loss 0.25 to 0.01, as at lr 3e-3 with
        none off; a U-Net's decoder, 5 of 8 off at steps 60-80, two back by step 100, the loss 0.63
        to 0.27 and falling: reported as dead units at steps 40 and 80 before this). Units off from
        the first measurement, or while the loss has not learned, are judged as before."""
        if stats.get("kind") != "relu" or "exploding" in self.groups:
            return False
        if self.first_dead.get(name, 1.0) > self.t.dead_fraction / 2 \
                or not stats.get("biases_natural"):
            return False
        key = ("dead", name)
        return self._has_learned() and self._no_cause_seen(key)

    def _learned_saturation(self, name, stats):
        """Whether tanh or sigmoid units that were unsaturated at their first measurement went
        to their asymptotes since while the loss fell to ``unlearned_drop`` of its untrained
        level or below, or below all of the run's first losses, with no cause seen (no
        explosion, no update as large as a layer, no rise of the learning rate): learning put
        them there. A tanh RNN that carries a review's first word over its last few steps
        learns a memory of +-1 (60-66% of its outputs within 0.02 of an asymptote at steps
        80-100, the loss from 0.75 to 0.03); reported as saturated units at step 100 before
        this. Units saturated from the start (weights or inputs far too large), or while the
        loss has not learned (``_has_learned``), are reported."""
        if stats.get("kind") not in LEARNED_SATURATION or "exploding" in self.groups:
            return False
        if self.first_saturated.get(name, 1.0) > self.t.saturated_fraction / 2:
            return False
        key = ("saturation", name)
        return self._has_learned() and self._no_cause_seen(key)

    def _has_learned(self):
        """Whether the loss (the median of the last ``recent_steps``) has fallen to
        ``unlearned_drop`` of its untrained level, or below every one of the run's first
        losses: out of their spread, so learning, however far it has yet to go (a tanh RNN on
        another draw of its reviews began to fall at step 50, 0.70 to 0.47 at step 110 with
        52% of its outputs at +-1, and 0.32 at 120; an autoencoder's BCE on pixel intensities,
        whose floor is the pixels' own entropy, from 0.69 to 0.38 and never halved)."""
        e = self.explosions
        recent = list(e.losses)[-self.t.recent_steps:]
        if len(recent) < 3:
            return False
        level, early = statistics.median(recent), self.early_losses
        return ((e.relapse_level is not None and level < e.relapse_level)
                or (early is not None and level < early[0]))

    def _fitted(self):
        """Whether the loss has fallen to ``settled`` times its first value (the median of the
        first three) or below: a model that has fit its data (L-BFGS memorising a batch drove
        98% of a tanh layer to its asymptotes on the way to a loss of 1e-6). Its gradients
        then collapse with the loss, by many orders of magnitude: a residual CNN that
        memorised a batch of 16 reached a loss of exactly 0 in float32 by step 13 with
        gradient norms of 1e-20 to 1e-35 (under ``vanishing_floor`` in every layer), an MLP
        1e-14; what is left is rounding, not a signal to compare layers by."""
        return self.explosions.fitted(self.loss)

    def _unit_streak(self, key, holds, lr, since=0):
        """``_streak``, noting the learning rate on the measurement its streak began at, and an
        update as large as a layer made since the measurement before (``since``: its step)."""
        if holds and not self.streaks.get(key):
            self.streak_lr[key] = lr
            large = self.large_update
            self.streak_update[key] = large if large is not None and large[0] >= since else None
        return self._streak(key, holds)

    def _raised_lr(self, key):
        """(learning rate, its first value) when the units were fine on an earlier measurement
        and turned dead or saturated once the learning rate had risen ``lr_rise`` times above
        its first value (a schedule's peak too high: CyclicLR, one-cycle, warm-up to a rate the
        model cannot take), else None."""
        lr, first = self.streak_lr.get(key), self.explosions.first_lr
        if lr is None or not first or not self._began_late(key) or lr < self.t.lr_rise * first:
            return None
        return lr, first

    def _cause(self, key):
        if "exploding" in self.groups:
            return self._since_explosion()
        raised = self._raised_lr(key)
        if raised is not None:
            return (f"; they were fine before the learning rate rose to {raised[0]:.3g}, "
                    f"{raised[0] / raised[1]:.0f}x its first value ({raised[1]:.3g}): most "
                    "likely the cause")
        large = self._large_update(key)
        if large is None:
            return ""
        moved = (f"; they were fine before the update of step {large[0]} moved layer "
                 f"'{large[1]}' by {large[2]:.2g}x its size (healthy is near 1e-3)")
        # (a layer out of scale since the first sample makes the gradient it passes back as
        # much too large: the update is its consequence, and a lower rate only slows it; a
        # decoder's transposed convolutions at 30x threw the encoder 2.7x at step 1, its
        # loss falling, so no explosion was confirmed, and its ReLUs died)
        if self.started_oversized:
            return (f"{moved}, and layer '{self.started_oversized[0]}' was "
                    f"{self.started_oversized[1]:.0f}x its natural size at the first sample: "
                    "the gradient it passes back is as much too large, most likely the cause")
        return f"{moved}: most likely the cause, a learning rate too high for this loss's scale"

    def _large_update(self, key):
        """(step, layer, ratio) of an update as large as a layer's weights (``update_size``)
        seen before the units turned dead or saturated, when they were fine on an earlier
        measurement: one or two such updates (too few in a row for an explosion) throw the
        biases far enough to kill a layer (a loss summed over a batch of 64 at a rate meant
        for its mean)."""
        return self.streak_update.get(key) if self._began_late(key) else None

    def _began_late(self, key):
        """Whether the streak ``key`` (rule, activation) began after the activation's first
        measurement: its units were fine on an earlier one."""
        return self.measured.get(key[1], 0) > self.streaks.get(key, 0)

    def _no_cause_seen(self, key):
        """Whether the streak ``key`` began late with no cause on record: no rise of the
        learning rate, no update as large as a layer (``_raised_lr``, ``_large_update``)."""
        return (self._began_late(key) and self._raised_lr(key) is None
                and self._large_update(key) is None)

    def _units_remedy(self, rule, key, kind=None, temperature=None, attention=False):
        if "exploding" in self.groups:
            if self._exploded_at_raised_lr():
                return "raised_lr"
            return "large_update_oversized" if self._exploded_at_oversized() else rule
        if self._raised_lr(key):
            return "raised_lr"
        if self._large_update(key):
            return "large_update_oversized" if self.started_oversized else "large_update"
        if rule == "saturation" and kind == "softmax":
            if temperature:
                return "softmax_temperature"
            return "softmax" if attention else "softmax_scores"
        if rule == "dead" and kind == "shrink":
            return "dead_zone"
        return "dead_tail" if rule == "dead" and kind in SMOOTH_NAMES else rule

    def _climbing(self, step, layers, order, natural, lr=None):
        """The loss climbs: its last ``climb_steps`` losses (a median) are ``climb`` times
        its untrained level and the first third of the window of recent losses, the medians of
        the window's thirds rise from each to the next, and the loss never halved: the
        updates ascend the loss from the start (``(-loss).backward()`` for a loss to be
        minimised, a step that adds the gradient). Its gradients stay the loss's own size
        (a classifier's grow only once its logits are huge), and with Adam its steps stay lr
        by lr, so neither the jump nor the growth rule sees it: a CNN under Adam at 1e-3 went
        from 0.69 to 89 in 60 steps unseen, an MLP under SGD at 0.1 from 0.71 to 17 at step 50,
        called exploding at 53. Read on sampled steps only, from the tracker's losses."""
        tracker = self.explosions
        start, losses = tracker.start_loss, tracker.losses
        t = self.t
        if (not start or start <= 0 or tracker.has_fit or len(losses) < 2 * t.climb_steps
                or "exploding" in self.groups):
            return []
        window = list(losses)
        now = statistics.median(window[-t.climb_recent:])
        third = len(window) // 3
        thirds = [statistics.median(window[i * third:(i + 1) * third]) for i in range(3)]
        smooth = [statistics.median(window[i:i + 5]) for i in range(len(window) - 4)]
        # never halved over the whole run, not only the window: the window's medians of five,
        # kept from sample to sample (the window holds 50 losses: samples up to 46 steps apart
        # see every step). A DQN whose target network is synced every ten steps halved its
        # TD loss by step 16 (0.11 to 0.04) and rose to 2 by step 70 as its values grew
        # towards the returns, each sync raising the targets; its window from step 21 had
        # never halved
        lowest = self.climb_lowest = min(self.climb_lowest, min(smooth))
        # a climb, not a jump that stays (the jump rule's) nor a noisy plateau: each third of
        # the window above the one before, the last steps ``climb`` x the first third
        if not (now >= t.climb * max(start, thirds[0]) and thirds[0] < thirds[1] < thirds[2]
                and lowest > t.unlearned_drop * start):
            return []
        # and the updates moved the weights enough to have done it: a loss that rises while
        # every update is a few millionths of its weights rises with the batches' draw (a
        # trained MLP fine-tuned under Adam at 1e-6, 3e-6 of its weights a step: its batch
        # losses 0.001-0.3, three easy ones first, "12x its untrained level"), not up a slope
        if self.peak_update is not None and self.peak_update * step < t.climb_moved:
            return []
        # named where the weights grew most against their natural size since the first sample
        # (an ascent grows the logits' layers first); the layers grown with it follow
        growth = self._growth_since_first(layers, order, natural, least=0.0)
        if growth and max(growth.values()) < t.climb_growth:
            # an ascent by the model's own updates moves its outputs, and its weights with
            # them; a loss that climbs while no layer grew was raised by its targets: a student
            # distilled from a teacher trained alongside (KL 0.014 to 0.09 by step 40, 6.5x,
            # its layers 1.02x and 1.05x the first sample's) as the teacher sharpens
            return []
        if max(growth.values(), default=0.0) < t.weight_growth:
            # and climbs onto steeper ground: the squared gradient norm per unit of loss grew
            # with the weights an ascent grows (near a squared error's minimum it is twice
            # the loss's curvature along the outputs, their Jacobian squared: 3.1x to 5.9x
            # for a TinyGPT under maximize=True at step 30, 10x to 110x for a CNN whose
            # backward took the negated loss), where a loss raised by its targets leaves the
            # model where it was: a student distilled from a teacher trained alongside
            # climbed 5x with its head 1.3x larger, at 0.2x to 1.5x its first steps' slope.
            # (Weights grown weight_growth x are evidence enough.)
            steep = self._steepness()
            first = self.first_steepness
            if steep is not None and first and steep < t.climb_steep * first:
                return []
        # named as every explosion of the whole model is (``_origin``): where it starts, in
        # forward order, of the layers it grew; the one grown most is no guide (an ascent
        # grows the head most, its gradient entering there: a negated squared error, data
        # drawn anew, had its head 3x larger at step 32 and its first layer taking part)
        grown = self._origin([n for n in growth if growth[n] > 1.0],
                             {n: (layers[n].get("grad_norm") or 0.0) for n in growth})
        named = grown or [n for n in order if n in layers][:1]
        where = f" in layer '{named[0]}'" if named else ""
        # weights grown as a whole (every layer, weight_growth x or more) were multiplied, not
        # stepped: Adam's lr-sized steps up the loss left some layer of a CNN (32 steps) and
        # of a TinyGPT (50) under 2x, a hand-written decay adding lr * wd * p (1.05x a step)
        # grew every layer of a TinyGPT 11x or more in 50
        multiplied = len(growth) > 1 and min(growth.values()) >= t.weight_growth
        grew = (f"; the weights of every layer grew {min(growth.values()):.3g}x or more since "
                "the first sample: something multiplies them each step" if multiplied else "")
        message = (f"the loss climbs{where}: {now:.4g} over its last {t.climb_recent} steps (a "
                   f"median), {now / start:.3g}x its untrained level ({start:.4g}), having "
                   f"never fallen below half of it; the updates go up the loss, not "
                   f"down{grew}")
        first_lr, peak = self.explosions.first_lr, self.peak_lr
        if (first_lr and lr is not None and peak >= t.lr_rise * first_lr
                and lr * t.lr_rise <= peak and self.peak_step > step - len(window)):
            # a rate that swung up lr_rise x or more above its first value within the climb and
            # back down (a cyclic schedule, warm restarts): the climb is the schedule's, the
            # diverging rule's cause, which a noisy loss can keep it from confirming (its median
            # of the latest three fell back below twice the untrained level every few steps in
            # a GRU under warm restarts whose eta_min was 10x the base, each cycle 0.37 up to 3:
            # its loss 2.4 to 8 from step 25, a climb at 32, the rate restarted low). A rate
            # still at its peak (a warm-up just ended) is not enough: a loss minimised with the
            # wrong sign climbs under a warm-up too, and its cause is the sign
            message = (f"training is diverging{where}: the loss climbs to {now:.4g} over its "
                       f"last {t.climb_recent} steps (a median), {now / start:.3g}x its "
                       f"untrained level ({start:.4g}), having never fallen below half of it, "
                       f"and the learning rate rose from {first_lr:.3g} at the start to "
                       f"{peak:.3g} at step {self.peak_step}")
            return self._group("exploding", "exploding", named, step, message, "diverging")
        return self._group("exploding", "exploding", named, step, message, "climbing")

    def _steepness(self):
        """The median over the last ``recent_steps`` steps of the squared gradient norm per
        unit of loss, from the tracker's history; None where a loss was not above 0 or the
        history is short. Kept, the first time three steps are in, as ``first_steepness``."""
        tracker = self.explosions
        recent = [norm for norm, _ in tracker.recent]
        losses = list(tracker.losses)[-len(recent):] if recent else []
        if len(recent) < 3 or len(losses) != len(recent) or min(losses) <= 0:
            return None
        if self.first_steepness is None and len(tracker.losses) == len(recent):
            # (the history from the first step: its first three)
            self.first_steepness = statistics.median(
                n * n / loss for n, loss in zip(recent[:3], losses[:3]))
        return statistics.median(n * n / loss for n, loss in zip(recent, losses))

    def _multiplied(self, step, layers, order, natural, fitted=False):
        """Weights multiplied at every step: each update grew most layers' weights (at least
        two) by ``decay_shrink`` of their norm or more, ``decay_aligned`` of the update along
        the weights themselves, ``patience`` samples in a row, and those weights have grown
        ``weight_growth`` x against their natural size since the first sample, while the loss
        has not fallen to ``unlearned_drop`` of its untrained level: the mirror of a weight
        decay (``_decaying``) that grows instead. A hand-written decay with the wrong sign
        (p.add_(p, alpha=lr * wd)) grew an MLP's every layer 1.1x a step, each update 10% of
        the weights and all of it along them; the gradient rose smoothly with them, 9.8x its
        earlier maximum at most, under the jump rule's 10x, and the loss climbed only from step
        19. A gradient step points along the weights only by chance (a decay's or this);
        healthy training grows weights a little, and not twofold within a few samples."""
        if fitted or "exploding" in self.groups:
            return []
        growth = self._growth_since_first(layers, order, natural)
        hits = []
        for name in order:
            gain, aligned = _along_weights(layers[name], natural.get(name), 1)
            holds = gain >= self.t.decay_shrink and self.t.decay_aligned <= aligned <= 1.5
            # (from a layer that started at half its natural size or more: one initialised
            # small grows along itself as it leaves the saddle at 0, at a steady rate as a
            # multiplication would: a matrix factorisation's embeddings at std 0.01, 1.6-1.7%
            # a step at steps 50-70 while its ratings left 0.5, then its loss fell)
            if (self._streak(("multiplied", name), holds)
                    and growth.get(name, 0.0) >= self.t.weight_growth
                    and self.first_sizes.get(name, 0.0) * self.t.weight_growth >= 1.0):
                hits.append((name, gain))
        weighted = [n for n in order if layers[n].get("weight_before")]
        if len(hits) < 2 or 2 * len(hits) <= len(weighted):
            return []
        e = self.explosions
        recent = list(e.losses)[-self.t.recent_steps:]
        if (not e.start_loss or e.start_loss <= 0 or not recent
                or statistics.median(recent) < self.t.unlearned_drop * e.start_loss):
            return []
        names = [n for n, _ in hits]
        name, gain = hits[0]
        return self._group(
            "exploding", "exploding", names, step,
            f"exploding weights{_count(names)}, starting in layer '{name}': each update grew "
            f"its weights by {gain:.1%} of their norm, along the weights themselves, for "
            f"{self.t.patience} samples in a row, {growth[name]:.3g}x against their natural "
            f"size since the first sample{_also(names)}: something multiplies them each step "
            "(a hand-written weight decay that adds lr * wd * p instead of subtracting it, a "
            "decay or penalty of the wrong sign)", "multiplied")

    def _thrown(self, step, layers, order, natural):
        """Exploding after a fall: the loss's last ``recent_steps`` (a median) are ``climb``
        times its untrained level while a layer's weights have grown ``oversized`` times or
        more against their natural size since the first sample. The climb rule asks that the
        loss never halved, and the jump and doubling rules see one update at a time: a
        hand-written RNN whose sixteen micro-batch gradients were summed and never divided
        fit its batches (0.002 at step 10), then its updates threw the weights 17x to 46x up
        by step 32, with no update doubling them on a sample, and its loss to 10-20 (0.7
        untrained). A model that learns keeps its loss below its untrained level."""
        tracker = self.explosions
        start, losses = tracker.start_loss, list(tracker.losses)[-self.t.recent_steps:]
        if (not start or start <= 0 or len(losses) < self.t.recent_steps
                or "exploding" in self.groups):
            return []
        now = statistics.median(losses)
        # measured from the loss before any update where that is lower, so long as the loss is
        # back at the untrained level too: a model trained before the monitor started (a
        # fine-tuning run, a resumed one) is not at its untrained level, and an update that
        # throws it makes the first three losses' median the explosion's: a trained MLP (0.085)
        # fine-tuned under SGD at lr 1.0 with momentum scored 0.96 and 0.69 after its first two
        # updates, then a median of 2.7 over steps 3-10 (its head 14x its natural size): under
        # 4x the median of 0.69, and only its dead units were found, at step 20. (Both levels:
        # one easy first batch of a noisy run is no level to climb from)
        first = self.explosions.first_losses[0]
        level = min(start, first) if first > 0 else start
        measured = f"over its last {self.t.recent_steps} steps (a median)"
        if now < self.t.climb * level or now < start:
            # or on a third of the last 2 x recent_steps steps: a classifier thrown to huge
            # logits scores 0 on the batches it gets right and far above untrained on the
            # rest, and where a batch is one sequence the median follows the right ones (an
            # RNN whose sixteen micro-batch gradients were summed by hand: weights 87x their
            # first size, losses of 0 to 0.33 on 7 of steps 17-32 and 3.9 to 36 on the other
            # 9, a median of the last 8 at 5e-5). A fit
            # model scores that high on a stray batch: L-BFGS's line search, its weights 13x,
            # one loss in eight of its first steps; the median is what it gives after
            wider = sorted(list(tracker.losses)[-2 * self.t.recent_steps:])
            now = wider[-math.ceil(len(wider) / 3)]
            measured = f"or more on a third of its last {len(wider)} steps"
            if now < self.t.climb * level or now < start:
                return []
        growth = self._growth_since_first(layers, order, natural)
        grown = sorted((n for n in growth if growth[n] >= self.t.oversized),
                       key=lambda n: -growth[n])
        if not grown:
            return []
        what = ("untrained level" if level == start
                else "level before the first update (a model trained before the monitor)")
        return self._group(
            "exploding", "exploding", grown, step,
            f"exploding weights, largest in layer '{grown[0]}': they grew "
            f"{growth[grown[0]]:.3g}x against their natural size since the first sample, "
            f"and the loss is {now:.4g} {measured}, "
            f"{now / level:.3g}x its {what} ({level:.4g}){_also(grown)}", "exploding")

    def _overshot(self, step, layers, fitted=False):
        """Exploding at a layer out of scale since the first sample (``oversized``): the loss
        of the last three steps (a median) is ``overshoot`` times the first (taken before
        any update) or more. Such a layer multiplies what passes through it and, on the way
        back, the gradient of the layers after it, so their updates throw them while its own
        stays small; the doubling rule waits for one of them to double, which need not come:
        an MLP whose middle layer was initialised 100x too large moved its head by 0.5, 0.9
        and 1.1 of its size at steps 1, 2 and 4 (1.5, 2.4, 0.9 at seed 5), its loss 3.3 to
        17x its first, and fell back to chance with its last ReLUs dead (98% at seed 5) with
        nothing reported. A layer of sound size is no cause; nor is a loss that rose alone
        (the other explosion rules judge it)."""
        large = self.oversized
        losses = list(self.explosions.losses)[-3:]
        first = self.explosions.first_losses[0] if self.explosions.first_losses else None
        if (fitted or large is None or "exploding" in self.groups or len(losses) < 3
                or not first or first <= 0 or large[0] not in layers):
            return []
        now = statistics.median(losses)
        if now < self.t.overshoot * first:
            return []
        return self._group(
            "exploding", "exploding", [large[0]], step,
            f"exploding in layer '{large[0]}', whose weights are {large[1]:.0f}x their natural "
            f"size since the first sample: the loss is {now:.4g} over its last 3 steps (a "
            f"median), {now / first:.3g}x its first ({first:.4g}); the layer amplifies what "
            "passes through it and the gradient of the layers after it, whose updates throw "
            "them", "exploding_layer")

    def _exploded_at_oversized(self):
        """Whether the explosion found started at the layer out of scale since the first
        sample (``started_oversized``): that layer, not the throw, is the root of what dies
        after it."""
        earlier, large = self.groups.get("exploding"), self.started_oversized
        return earlier is not None and bool(large) and earlier.layer == large[0]

    def _since_explosion(self):
        """For units found dead or saturated after an explosion was: most likely its
        consequence (weights thrown far by the updates), so its remedy comes first. An
        explosion found while the learning rate stood ``lr_rise`` times above its first value
        was most likely made by the schedule that raised it (CyclicLR's max_lr 4000x its
        base_lr threw a CNN's weights at step 8, seeds 1 and 2, and its ReLUs died later: the
        explosion was named the cause, and the schedule not at all)."""
        if not self._exploded_at_raised_lr():
            if self._exploded_at_oversized():
                earlier, large = self.groups["exploding"], self.started_oversized
                # the root of both, as where no explosion was confirmed (``_cause``): the units
                # die whether the loss after the throw rose (a decoder's transposed
                # convolutions at 30x: 104 to 1059 at shift 303) or fell (106 to 18, seed 0)
                return (f"; an explosion was found before it (step {earlier.step}), started "
                        f"where layer '{large[0]}' was {large[1]:.0f}x its natural size at the "
                        "first sample: most likely its cause: treat that first")
            return self._found_before("exploding", "an explosion")
        lr, first = self.exploding_lr, self.explosions.first_lr
        earlier = self.groups.get("exploding")
        if earlier is None:
            return ""
        return (f"; an explosion was found before it (step {earlier.step}), after the learning "
                f"rate rose to {lr:.3g}, {lr / first:.0f}x its first value ({first:.3g}): most "
                "likely its cause: treat that first")

    def _exploded_at_raised_lr(self):
        lr, first = self.exploding_lr, self.explosions.first_lr
        return lr is not None and bool(first) and lr >= self.t.lr_rise * first

    def _found_before(self, cause, what):
        """``what`` (the finding of ``cause``), found before this one, named as its likeliest
        cause; "" where there is none."""
        earlier = self.groups.get(cause)
        if earlier is None:
            return ""
        return (f"; {what} was found before it (step {earlier.step}), most likely its cause: "
                "treat that first")

    def _growth(self, step, layers, order, natural, fitted=False, lr=None, heads=()):
        growth = weight_growth(layers, natural)
        between, updates = self._grown_between(step, layers, natural)
        self.divided.update(self._divided_by_zero(layers, order, growth, lr))
        grown = [n for n in order if growth.get(n, 0.0) >= self.t.weight_growth
                 and n not in self.divided]
        # updates as large as the weights, whatever their direction: a step that flips or
        # turns the weights need not grow them (doubling is the special case of one that does)
        moved = {n: layers[n].get("update_ratio") or 0.0 for n in order}
        largest = max(order, key=moved.get, default=None)
        # an update as large as a layer's weights at the sample just before (not a head, nor
        # the last layer, one where the heads are not known: its gradient is its input's,
        # which the layers before it threw; a critic's value head moved 60x by returns in the
        # thousands, then its first layer grew 30x: the first layer is named, as for data
        # out of scale)
        before = self.large_update
        before = (before if before and before[0] == self.last_growth and before[1] in order
                  and before[1] not in heads and before[1] != order[-1]
                  and before[1] not in self.divided else None)
        self.sample_before, self.last_growth = self.last_growth, step
        if largest is not None and moved[largest] >= self.t.update_size:
            self.large_update = (step, largest, moved[largest])
        thrashed = []
        for n in order:
            large = moved[n] >= self.t.update_size and not fitted
            if large and not self.streaks.get(("moved", n)):
                self.moved_since[n] = step
            if self._streak(("moved", n), large) and not self._fell_each_step(
                    self.moved_since[n], step):
                thrashed.append(n)
        if fitted:
            # (Adam at a minimum: its second moments decayed with the gradient, so a tiny one
            # makes a large step; a loss thrown back up by it is the jump rule's to judge)
            return []
        span = None
        if not grown:
            # the updates between the samples, unseen one by one: weights grown weight_growth x
            # a step on average (a geometric mean) were doubled by one of them at least. SGD
            # at a rate 64 times too high (micro-batch gradients summed, never divided) grew
            # an MLP's head 2.9x in the update of step 3, between the samples of steps 2 and
            # 4, whose own updates grew it 1.4x and 1.0x: the loss 0.70 to 2.2, and 72% of a
            # ReLU layer dead by step 16
            grown = [n for n in order if between.get(n, 0.0) >= self.t.weight_growth
                     and n not in self.divided]
            if not grown:
                return self._thrashed(step, thrashed, moved, layers) if thrashed else []
            growth, span = between, (step - updates, step - 1)
        everywhere = self._thrown_with(grown, layers, order, natural, moved, heads)
        if everywhere is None and step <= self.t.data_steps and self._scaled_from_the_start():
            # the data's scale reached every layer through the loss's gradient from step 1:
            # the rate, not the gradient, kept some layer's move under its size (targets in
            # the thousands: the head 13.7x its natural size after one SGD step, the first
            # layer moved 0.85x its size by a gradient 84x its weights), and the explosion is
            # everywhere at once, as _thrown_with names it
            everywhere = [n for n in order if n not in grown and n not in heads
                          and n not in self.divided and n in self.first_rho]
        grown = self._origin(grown + (everywhere or []),
                             {n: layers[n].get("grad_norm") or 0.0 for n in order})
        self.thrown_before = None
        amplifying = self.recurrent | self.looped
        if before is not None and before[1] not in grown[:1] and (
                before[1] in amplifying
                or (grown[0] not in amplifying and not self._gain(grown[0]))):
            # the update of the sample before threw a layer as far as its weights, and this
            # one doubled another: the explosion started in the first (a trained LSTM under
            # SGD at lr 5 on longer sequences: its first update moved the LSTM 1.5x its size,
            # 1.78x larger, short of doubling; the second doubled the head, which was named).
            # A layer that amplifies by itself (recurrent, looped, out of scale) stays first
            self.thrown_before = before
            grown = [before[1]] + [n for n in grown if n != before[1]]
        recent = self.explosions.recent  # (this step's norm is in: on_step came first)
        self.doubled_norm = recent[-1][0] if recent else None
        self.doubled = (step, grown, {n: growth.get(n, 0.0) for n in grown}, self.loss, [],
                        {n: moved.get(n, 0.0) for n in grown}, span)
        if span is not None:
            # judged as a sampled one, by the losses from the span's first update on: those
            # up to this step are known
            losses = list(self.explosions.losses)[-(updates + 1):]
            if self.loss is None or len(losses) < updates + 1:
                return self._doubling_confirmed(None)
            self.doubled = self.doubled[:3] + (losses[0], losses[1:-1]) + self.doubled[5:]
            return self._doubling_confirmed(losses[-1])
        # judged by the losses after the update (the next steps): a step that doubled the
        # weights and lowered the loss went towards a solution (L-BFGS's first line-searched
        # step)
        return self._doubling_confirmed(None) if self.loss is None else []

    def _compounded_from_the_start(self, step, layers, order, natural):
        """Exploding, the first updates together: a layer's weights grew ``weight_growth`` x
        since the first sample (against their natural size) within the first ``data_steps``
        + 1 updates (the samples at steps 1, 2 and 4), while the loss rose ``jump_factor`` x
        the first one, which no update had touched, within ``data_steps`` steps; and the
        losses since (a median, over ``recent_steps`` steps or more) stayed ``overshoot`` x
        that first loss or more: the throw lasted. The doubling rule sees one update at a
        time: a trained LSTM fine-tuned under SGD at lr 5 grew 1.23x and 1.67x in its first
        two updates (2.05x together) as its loss went 0.129, 3.62, 11.3, and sat at 0.6-1.5
        for the rest of the run (its fitted level lost); nothing was reported. A throw the
        loss comes back from is left to the other rules (Adam at 0.3 grew a depthwise CNN
        2.1-2.7x in two updates, its loss 0.70, 10.1, 0.66, 29.9, then 0.66-0.75 at chance
        with its ReLUs dead: the dead units and the update that killed them are the
        finding). Read on samples only."""
        if self.compounded is None:
            self.compounded = self._first_throw(step, layers, order, natural)
            return []
        if not self.compounded or "exploding" in self.groups:
            return []
        thrown, grown, growth, first, peak = self.compounded
        since = list(self.explosions.losses)[-(step - thrown):]
        if len(since) < self.t.recent_steps:
            return []
        self.compounded = False  # (judged once)
        level = statistics.median(since)
        if level < self.t.overshoot * first:
            return []
        top = grown[0]
        return self._group(
            "exploding", "exploding", grown, thrown,
            f"exploding weights{_count(grown)}, starting in layer '{top}'{self._gain(top)}: "
            f"the first {thrown} updates together made its weights {growth[top]:.1f}x larger "
            f"than at the first sample (against the natural size), as the loss rose from "
            f"{first:.4g} before any update to {peak:.4g}; it has stayed at {level:.4g} (a "
            f"median) since, {level / first:.3g}x where it started{_also(grown)}",
            self._exploding_remedy(top))

    def _first_throw(self, step, layers, order, natural):
        """(step, layers, growth, first loss, peak) for ``_compounded_from_the_start`` once
        its first signs hold at a sample, None while they may still, False once they cannot."""
        if step > self.t.data_steps + 1 or "exploding" in self.groups:
            return False
        losses = list(self.explosions.losses)[:self.t.data_steps]
        if not layers or len(losses) < 2 or not losses[0] > 0:
            return None
        peak = max(losses[1:])
        if peak < self.t.jump_factor * losses[0]:
            return None
        growth = self._growth_since_first(layers, order, natural)
        grown = [n for n in order if growth.get(n, 0.0) >= self.t.weight_growth
                 and n not in self.divided]
        if not grown:
            return None
        grown = self._origin(grown, {n: layers[n].get("grad_norm") or 0.0 for n in order})
        return step, grown, growth, losses[0], peak

    def _thrown_from_the_start(self, step):
        """Exploding, born in the data's scale: before any update (the sample of step 1) every
        layer's gradient was ``data_rho`` times its weights or more, and within the first
        ``data_steps`` updates the loss rose ``jump_factor`` times its first value. On data of
        unit scale an untrained layer's gradient is about its weights' size or less (0.1 to 4
        over the suite's healthy setups, but for scaled float16 gradients, whose loss holds
        still); inputs or targets far out of scale, or a loss summed where it is meant
        averaged, make every layer's gradient scale with them. The jump rule sees no jump:
        its reference is the first step, already out of scale, and under cross-entropy the
        saturated softmax bounds the gradient while the loss grows with the logits. Raw
        measurements of the breast-cancer table (areas up to 2500) into an MLP under SGD:
        gradients 24 to 77 times the weights at step 1, the loss 7.8 then 99, then at chance
        for good with the first ReLU layer dead; no update doubled a layer (1.2x to 1.5x), and
        nothing was reported. Named as an explosion everywhere at once is (``_origin``: the
        first layer, unless a layer out of scale or a recurrent one amplifies). Judged on the
        samples until those losses are in, once (and where a doubling update awaited its
        losses, when it was judged no explosion: the same table at another draw, its head
        doubled at step 2 as the loss fell from 162 back to chance, 0.7)."""
        if self.start_judged or "exploding" in self.groups or self.doubled:
            return []
        losses = list(self.explosions.losses)[:self.t.data_steps + 1]
        # (judged once all those losses are in; a doubling awaiting its losses first)
        self.start_judged = len(losses) > self.t.data_steps
        least = self._scaled_from_the_start()
        if least is None or len(losses) < 2 or not losses[0] > 0:
            return []
        peak = max(losses[1:])
        if not peak >= self.t.jump_factor * losses[0]:
            return []
        named = self._origin([n for n in self.order if n in self.first_rho])
        first = named[0]
        remedy_key = self._exploding_remedy(first)
        scale = ""
        if remedy_key == "exploding":
            remedy_key, scale = "exploding_data", ": " + DATA_SCALE
        return self._group(
            "exploding", "exploding", named, step,
            f"exploding gradients{_count(named)}, starting in layer '{first}'"
            f"{self._gain(first)}: before any update every layer's gradient was {least:.3g}x "
            f"its weights or more, and the first updates threw the loss from {losses[0]:.4g} "
            f"to {peak:.4g} at step {losses.index(peak) + 1}{_also(named)}{scale}", remedy_key)

    def _scaled_from_the_start(self):
        """The least gradient/weight ratio of the layers at step 1, before any update, where
        every one was ``data_rho`` or more (the data's scale, or a summed loss's, reaching
        every layer); else None."""
        least = min(self.first_rho.values()) if self.first_rho else None
        return least if least is not None and least >= self.t.data_rho else None

    def _grown_between(self, step, layers, natural):
        """({layer: how many times larger its weights grew per update, a geometric mean,
        over the updates between the last sample's and this one's}, how many updates), each
        update's growth measured as the doubling rule's, against the natural size where the
        weights are smaller. ({}, 0) where no update came between."""
        weights = {n: s["weight_matrices"] for n, s in layers.items()
                   if s.get("weight_before") is not None and s.get("weight_matrices") is not None}
        if not weights:  # (an activation measurement between samples: no update measured)
            return {}, 0
        last, self.last_weights = self.last_weights, (step, weights)
        if last is None or step - last[0] < 2:
            return {}, 0
        updates = step - last[0] - 1
        found = {}
        for name, after in last[1].items():
            before = (layers.get(name) or {}).get("weight_before")
            if before is not None and name in natural and math.isfinite(after):
                found[name] = (before / max(after, natural[name])) ** (1 / updates)
        return found, updates

    def _thrown_with(self, grown, layers, order, natural, moved, heads):
        """The layers an update that doubled ``grown`` threw too, where it threw every layer
        of the model: each doubled, or moved by as much as its weights (``update_size``) or a
        tenth of the largest update (``jump_factor``, as the jump rule counts a gradient's
        growth) by a gradient ``init_rho`` x its weights or more (an explosive one: the step
        was the gradient's). An explosion everywhere at once (a rate, a summed loss or data
        out of scale for the whole model) starts at the first layer, as the growth rule names
        it once every layer doubled; the layer that doubles first is only the one whose
        weights are smallest against its step. SGD at a rate 64 times too high (micro-batch
        gradients summed) doubled an MLP's head (2.2x) while moving its first layer by 0.42x
        its size, its gradient 4.9x its weights; the step after, all three grew 3x or more.
        None where some layer was not thrown: the explosion is local (a custom backward's
        gradient at one layer, a reversed domain gradient into the features), and the layers
        before it moved by the gradient it passed back. Nor where the step was the rate's, not
        the gradient's: Adam's first step moves every weight by lr, and threw a trained CNN's
        head 3.6x its size while moving its convolutions 0.5x and 1.3x by gradients 0.14x and
        0.2x their weights. (A head that did not double is not named: its gradient is its
        input's, which the layers before it threw.)"""
        largest = max((moved[n] for n in order), default=0.0)
        floor = min(self.t.update_size, largest / self.t.jump_factor)
        thrown = [n for n in order if n not in grown and n not in self.divided
                  and moved[n] >= floor and moved[n] > 0  # (0: no update measured)
                  and self._gradient_share(layers[n], natural.get(n)) >= self.t.init_rho]
        if len(thrown) + len([n for n in order if n in grown]) < len(order):
            return None
        return [n for n in thrown if n not in heads]

    @staticmethod
    def _gradient_share(stats, natural):
        """A layer's gradient norm over its weights' norm before the update (its natural
        size, if larger); 0 where either is unknown."""
        grad_norm, before = stats.get("grad_norm"), stats.get("weight_before")
        size = max(before or 0.0, natural or 0.0)
        return grad_norm / size if grad_norm and size > 0 else 0.0

    @staticmethod
    def _divided_by_zero(layers, order, growth, lr):
        """{layer: (gradient norm, lr)} for layers whose weights one update made non-finite
        from finite weights and a finite gradient whose step (lr times its norm, lr 1 when
        unknown) is no larger than the weights: such a step cannot overflow them, so the
        optimizer divided by zero. A float16 Adam at eps=1e-8 (0 in float16, whose smallest
        value is 6e-8) over gradients whose squares underflow to 0 steps m / 0 = inf on its
        first update; it was called exploding ('infx larger'), with the remedy 'lower the
        learning rate', which cannot help. Growth overflows only from a step as large as the
        largest float (SGD at lr 10 on a float16 gradient of 1e4)."""
        found = {}
        for name in order:
            s = layers[name]
            before, grad_norm = s.get("weight_before"), s.get("grad_norm")
            # (nan too: a norm over inf entries of opposite signs can come out nan)
            if (not math.isfinite(growth.get(name, 0.0)) and before and math.isfinite(before)
                    and grad_norm is not None and math.isfinite(grad_norm)
                    and (lr if lr is not None else 1.0) * grad_norm <= before):
                found[name] = (grad_norm, lr)
        return found

    def _doubling_confirmed(self, loss_after, norm_after=None):
        """The doubling update's finding, unless the losses after it are ``progress`` times
        both the loss before it and the first loss of the run or less (a model already thrown
        above its untrained loss is not making progress by falling back a little), the next
        one and the median of the next ``patience``: one batch is noise (a GRU whose recurrent
        weights started 10x too large grew 4.8x at step 1 and its next batch scored 0.63
        against 0.71 before it, taken for progress, then 0.79 and 0.81; its gates saturated).
        Called with each loss after the doubling (and its step's total gradient norm) until
        it is judged; None: non-finite or unknown, so it counts. No step towards a solution
        takes a layer's weights to ``jump_factor`` squared times their natural size (L-BFGS's
        first steps grow them 2 to 9x): such a growth counts whatever the loss does (an RNN's
        orthogonal recurrence at 3x over 100 steps: a gradient of 6e9 grew it 2e7x at step 1,
        every tanh saturated, and the loss fell from an unlucky 0.84 to chance, 0.69)."""
        step, grown, factors, before, after, moved, span = self.doubled
        self.doubled = None
        first = self.explosions.first_losses[0] if self.explosions.first_losses else None
        # a loss that fell while the gradient (``norm_after``, the step's total norm) rose
        # ``jump_factor`` x that of the doubling's step is the next batch's, not progress: a
        # step towards a solution flattens the gradient, weights thrown large steepen it (a
        # reward left at 1e4: a batch holding one scored 6.3e6, the head grew 31x, and the
        # next batch, holding none, scored 1.5e5 with the gradient 2.4e3 -> 8.8e4)
        steeper = (norm_after is not None and self.doubled_norm
                   and norm_after >= self.t.jump_factor * self.doubled_norm)
        if (loss_after is not None and before is not None and not steeper
                and max(factors.values()) < self.t.jump_factor ** 2
                and not self._unbounded(loss_after, before)):
            after = after + [loss_after]
            level = self.t.progress * min(before, first)
            since, now = self.sample_before or step, step + len(after)  # (this loss's step)
            if _falling(list(self.explosions.losses)[-(now - since):] + [loss_after]):
                # (the loss fell at every step from the sample before the doubling through
                # those after it: a fast descent, as for updates as large as the weights; the
                # same L-BFGS with a line search at another draw doubled its weights at step 4
                # and its loss fell 0.0259 -> 0.0236, 9% (progress asks 10%), then to 0)
                return []
            if len(after) < self.t.patience and after[0] <= level:
                self.doubled = (step, grown, factors, before, after, moved, span)
                return []
            if sorted(after)[len(after) // 2] <= level:
                return []
        first, most = grown[0], max(grown, key=factors.get)
        thrown = ""
        earlier = self.thrown_before
        if earlier is not None and earlier[1] == first:
            most = max(grown[1:], key=factors.get)
            grew = (f"the weights of '{most}' {factors[most]:.1f}x larger, after the update of "
                    f"step {earlier[0]} had moved those of '{first}' by {earlier[2]:.2g}x their "
                    "size")
        elif self.standing_grew and self.standing_grew[0] == first:
            grew = (f"the weights of '{most}' {factors[most]:.1f}x larger, after those of "
                    f"'{first}', whose gradient stood out {self.t.jump_factor:g}x or more "
                    f"from those of the layers after it from the start, had grown "
                    f"{self.standing_grew[1]:.1f}x since the first sample")
        elif factors[first] >= self.t.weight_growth:
            grew = f"its weights {factors[first]:.1f}x larger" + (
                f", and those of '{most}' {factors[most]:.1f}x" if most != first else "")
        elif self._gain(first):  # an oversized layer: it amplifies, the others grow
            grew = f"the weights of '{most}' {factors[most]:.1f}x larger"
        elif span is not None:  # (its own updates between the samples were not measured)
            grew = f"the weights of '{most}' {factors[most]:.1f}x larger"
            thrown = (f"; this step's update moved those of '{first}' by {moved[first]:.2g}x "
                      "their size")
        else:  # the first layer the update threw, though it did not double it
            grew = (f"the weights of '{most}' {factors[most]:.1f}x larger and moved those of "
                    f"'{first}' by {moved[first]:.2g}x their size")
        which = "one update"
        if span is not None:
            which = (f"the update of step {span[0]}" if span[0] == span[1] else
                     f"the updates of steps {span[0]} to {span[1]}, between two samples, each")
            if span[0] != span[1]:
                grew = grew.replace(" larger", " larger on average")
        fell = (loss_after is not None and before is not None
                and self._unbounded(loss_after, before))
        remedy_key = "unbounded_loss" if fell else self._exploding_remedy(first)
        scale = ""
        start = self.explosions.first_losses[0] if self.explosions.first_losses else None
        # an untrained model on standardised data starts near 1 (a squared error) or log of
        # its classes (cross-entropy): a first loss a hundredfold that, followed at once by a
        # doubling update with no layer out of scale to blame, says the data (or a summed
        # loss) is what is out of scale, and a lower rate would only hide it
        if (remedy_key == "exploding" and start is not None and start >= self.t.data_loss
                and step <= self.t.data_steps):
            remedy_key = "exploding_data"
            scale = (f"; the loss was already {start:.4g} at step 1, before any update (an "
                     "untrained model on inputs and targets of unit scale starts near 1): "
                     + DATA_SCALE)
        return self._group(
            "exploding", "exploding", grown, step,
            f"exploding weights{_count(grown)}, starting in layer '{first}'{self._gain(first)}: "
            f"{which} made {grew} (against the natural size){thrown}{_also(grown)}"
            + (self._no_floor(loss_after) if fell else "") + scale, remedy_key)

    def _growth_since_first(self, layers, order, natural, least=1.0):
        """{layer: its weight matrices' size against their natural size now, over the same at
        the first sample (or ``least``, if larger: a layer started small must still reach
        its natural size to count as grown)}, in forward order, for the layers measured both
        times."""
        growth = {}
        for n in order:
            now, first = (layers.get(n) or {}).get("weight_matrices"), self.first_sizes.get(n)
            if now and natural.get(n) and first is not None and max(first, least) > 0:
                growth[n] = now / natural[n] / max(first, least)
        return growth

    # -- a loss with no floor ----------------------------------------------------------------
    def _no_floor_fall(self, step, layers, order, natural):
        """Exploding, born in the loss: a loss with no minimum, which falls as the weights
        grow rather than towards a solution (nll_loss given raw scores, a loss written by hand
        with a sign slip, a critic's score difference without clipping or a penalty). A loss
        bounded below may also cross zero and fall fast for a while (a Gaussian
        log-likelihood); each sign below is one it does not show, and each is judged only below
        zero at ``jump_factor`` times the untrained loss's size (docs/diagnostics.md, *A loss
        with no floor*). Any one sign makes the finding: the loss fell on ``patience`` samples
        in a row while a layer's weights grew (``_falls_as_weights_grow``: a steady fall, as an
        unclipped critic's under RMSprop); it went ``fall_growth`` times further below zero,
        no slower, at each of ``patience`` marks (``_falls_ever_faster``: Adam's bounded steps
        grow the scores polynomially); or it doubled in each of the last three spans of 8
        steps (``_sinks``: geometrically). Named at the first layer whose weights grew
        ``weight_growth`` times their first size, else at the one that grew most, else at
        the model's last layer, where the loss's gradient enters."""
        start, size = self.explosions.start_loss, self._start_size()
        # (every sign reads its own state on every sample: their streaks are not cut short.
        # The signs read from the loss alone judge it against the first losses' own scale; the
        # weights' growth is evidence of its own)
        signs = (self._falls_as_weights_grow(layers, order, natural, start),
                 self._falls_ever_faster(step, size), self._sinks(size))
        evidence = next((sign for sign in signs if sign is not None), None)
        if evidence is None or not order or "exploding" in self.groups:
            return []
        level, how = evidence
        growth = self._growth_since_first(layers, order, natural)
        named = [n for n in order if growth.get(n, 0.0) >= self.t.weight_growth]
        if not named:
            named = [max(growth, key=growth.get)] if growth else [order[-1]]
        first = named[0]
        grew = f" (its weights {growth[first]:.2g}x their first size)" if first in growth else ""
        # (the scale the sign that fired judged the loss against)
        reference = abs(start) if evidence is signs[0] else size
        spread = ("" if reference == abs(start)
                  else f", its first losses up to {size:.3g} either side of zero")
        return self._group(
            "exploding", "exploding", named, step,
            f"a loss with no minimum, starting in layer '{first}'{grew}: the loss is "
            f"{-level / max(reference, 1e-30):.3g}x the size of its untrained level "
            f"({start:.4g}{spread}) below zero, and {how}" + self._no_floor(level),
            "unbounded_loss")

    def _start_size(self):
        """The size of the untrained loss that a loss with no floor is judged against: its
        untrained level's, or where the first three losses lie on both sides of zero, the
        largest of theirs. A loss that is zero on average by construction (a policy-gradient
        surrogate, log-probabilities times advantages around zero) scatters both ways from
        the start, and its median says nothing of its scale: an actor on a contextual bandit
        began at 0.079, -0.234 and 0.014, drifted to -0.2 to -0.3 as its critic lagged, and
        stayed there (at step 146, -0.31), its gradient steady near 0.3: called a loss with no
        minimum, 18.8x its untrained level below zero, at step 40 before this, by the sign
        read from the loss alone (twice further below zero at three marks: easy from near
        zero). None while the untrained level is not known."""
        e = self.explosions
        if e.start_loss is None:
            return None
        first = e.first_losses
        if len(first) == 3 and min(first) < 0 < max(first):
            return max(abs(loss) for loss in first)
        return abs(e.start_loss)

    def _falls_as_weights_grow(self, layers, order, natural, start):
        """(The last loss, what it shows) when it is lower than at the sample before on
        ``patience`` samples in a row while a layer's weights grew ``weight_growth`` times
        since the first sample (against their natural size), else None. A WGAN critic without
        clipping or a penalty at RMSprop 1e-2: -0.08 at step 1, -142 at 4, -1.6e4 at 48, its
        last layer 13x larger, its gradient norm growing about linearly (no jump reached 10x);
        a healthy WGAN-GP's losses go below zero too (-2.2 from -0.11) with weights that stay
        put."""
        if not layers:  # (an activation measurement between samples: no sizes to judge)
            return None
        loss = self.loss
        previous, self.floorless_loss = self.floorless_loss, loss
        losses = self.explosions.losses
        middle = sorted(list(losses)[-3:])[1] if len(losses) >= 3 else loss
        # where a fall begins is the loss's level at the sample before it: the lower of that
        # loss and its median of three, as one odd batch above the loss's level starts no fall
        # (a mixture density network's likelihood near -1.5, one batch at -0.71 at step 60 of
        # seed 15, then -1.33, -1.58, -1.62 at the next samples: "2x further below zero" than
        # the odd batch, called a loss with no minimum at step 90; its median there -1.5)
        start_low, self.floorless_low = self.floorless_low, (
            None if loss is None or middle is None else min(loss, middle))
        growth = self._growth_since_first(layers, order, natural)
        grown = [n for n in growth if growth[n] >= self.t.weight_growth]
        falling = (loss is not None and start is not None and previous is not None
                   and loss < previous and grown and self._unbounded(loss, start))
        if falling and not self.streaks.get(("floorless", None)):
            self.floorless_from = start_low  # the level before the fall began
        if not self._streak(("floorless", None), bool(falling)):
            return None
        # and ``fall_growth`` times further below zero than where the fall began: three lower
        # losses in a row are a coin's 1 in 8 at a noisy plateau (a mixture density network's
        # likelihood, legitimately near -2 with a head grown 2.6x, was called a loss with no
        # minimum at step 140), while a loss with no floor keeps going. Its level: the loss,
        # or the median of the last three steps where that is higher (one odd batch is no fall)
        level = max(loss, middle)
        if -level < self.t.fall_growth * -min(self.floorless_from, 0.0):
            return None
        return loss, (f"it fell on {self.t.patience} samples in a row while the weights of "
                      f"{_listing(grown)} grew {self.t.weight_growth:g}x or more since the "
                      "first sample")

    def _falls_ever_faster(self, step, start):
        """(The loss's level, what it shows) when, from one mark to the next (marks: samples
        ``recent_steps`` steps apart or more), its size below zero grew ``fall_growth`` times
        and its fall per step did not slow, on ``patience`` marks in a row, else None. Its
        level: the median of the last three losses (one odd batch neither starts nor breaks a
        streak). nll_loss of a CNN's raw scores under Adam: -0.2 at step 4, -2.5 at 16, -14 at
        32, -47 at 50. A Gaussian NLL from -0.02 fell to -0.22 at step 16, -0.46 at 30 (2.1x,
        faster) and -0.75 at 40 (1.6x: the streak broken) and stopped near -2."""
        losses = self.explosions.losses
        if start is None or len(losses) < 3:
            return None
        level = sorted((losses[-3], losses[-2], losses[-1]))[1]
        last = self.fall
        if last is not None and step - last[0] < self.t.recent_steps:
            return None  # (too close to the last mark for a rate: one batch's noise)
        rate = None if last is None else (last[1] - level) / (step - last[0])
        self.fall = (step, level, rate)
        # (the level is judged at the finding, the fall at every mark: a fall that began
        # before the loss reached ``jump_factor`` times its untrained size still counts. nll_loss
        # of an MLP's raw scores under Adam at 1e-3: -0.2 at step 4, -0.67 at 16, -2.1 at 32,
        # -5.5 at 50, its untrained -0.12; with the streak started only at -1.2 it was found at
        # step 100)
        falling = (last is not None and rate > 0
                   and -level >= self.t.fall_growth * -min(last[1], 0.0)
                   and (last[2] is None or rate >= last[2]))
        if not self._streak(("no floor", None), falling) or not self._unbounded(level, start):
            return None
        return level, (f"at least {self.t.fall_growth:g}x further below zero at each of the "
                       f"last {self.t.patience} samples and falling no slower ({rate:.3g} a "
                       "step now)")

    def _sinks(self, start):
        """(The loss's level, what it shows) when its median over 4 steps was below zero 24
        steps ago and multiplied by ``_STILL_SINKING`` or more in each of the last three spans
        of 8 steps since, else None: Adam's bounded steps grow the weights, and with them the
        scores, steadily, so no update doubles them and the gradient never jumps (a pinball
        loss with a sign slip: -1.6, -3.7, -14, -52, -160 at steps 1, 11, 21, 31, 41). Three
        spans, not one: a heteroscedastic regression went from -0.1 to -1.05 in 14 steps, 10x,
        then levelled off. Read from the losses the explosion rule keeps, on samples only
        (four medians on every step were most of a monitored step's rules)."""
        recent = list(self.explosions.losses)[-_SINKING_STEPS:]
        if start is None or len(recent) < _SINKING_STEPS:
            return None
        medians = [statistics.median(recent[i:i + 4]) for i in (24, 16, 8, 0)]  # now first
        now = medians[0]
        if not (self._unbounded(now, start) and medians[-1] < 0
                and all(later <= _STILL_SINKING * earlier
                        for later, earlier in zip(medians, medians[1:]))):
            return None
        return now, (f"its median over 4 steps grew {now / medians[-1]:.1f}x over the last 24 "
                     f"steps, at least {_STILL_SINKING:g}x in every 8")

    def _unbounded(self, loss, before):
        """Whether ``loss`` fell below zero to ``jump_factor`` times the size of ``before``
        (the loss of the step before, or the untrained loss) or more: a loss with no floor,
        falling with the weights' growth, is no progress towards a solution (nll_loss of raw
        scores: -5e14 to -1.6e28 in the step its weights grew 3e4x)."""
        return unbounded(loss, before, self.t.jump_factor)

    @staticmethod
    def _no_floor(loss):
        return (f"; the loss fell below zero, to {loss:.4g}, and keeps falling as the weights "
                "grow: a loss with no minimum (nll_loss given raw scores instead of log_softmax "
                "outputs, kl_div given raw scores instead of log-probabilities, a critic's "
                "score difference without weight clipping or a gradient penalty, a penalty "
                "subtracted where it is meant added: a z-loss or an L2 term with its sign "
                "flipped)")

    def _gain(self, layer):
        """Why ``layer`` is named though another grew more: its weights' size."""
        if not self.oversized and self.repeated and self.repeated[0] == layer:
            _, calls, gain = self.repeated
            return (f", applied {calls} times in one forward, each call to the last one's "
                    f"output: together its calls amplify the signal {gain:.2g}x (measured), "
                    "its weights' gain compounding as a recurrent layer's does through time")
        if not self.oversized and self.init_large and self.init_large[0][0] == layer:
            large, gain, sizes = self.init_large
            return (f", the first of {len(large)} layers whose weights are {min(sizes):.1f}x to "
                    f"{max(sizes):.1f}x their natural size and together amplify the signal "
                    f"about {gain:.2g}x across depth")
        if layer in self.recurrent:
            # (its recurrence multiplies the signal at every time step: the residual reading
            # below is for stacks whose weights are all of a sound size)
            if not self._grows_from(layer):
                return ""
            size = self.first_sizes.get(layer)
            return (f", where the signal starts to grow: the largest input of a layer after it "
                    f"is {self.depth[1]:.2g}x its input (measured), amplified through time by "
                    f"its recurrence" + (f" (its weights started at {size:.1f}x their natural "
                                         "size)" if size else ""))
        if self._grows_from(layer):
            return (f", where the signal starts to grow: the largest input of a layer after it "
                    f"is {self.depth[1]:.2g}x its input (measured), though no layer's weights "
                    "are out of scale (residual branches added to the stream without a scale, "
                    "each adding its variance to the stream's, block after block)")
        if not self.oversized or self.oversized[0] != layer or layer in self.recurrent:
            return ""
        return f", whose weights are {self.oversized[1]:.0f}x their natural size"

    def _fell_each_step(self, since, step):
        """Whether the loss, at or above zero, fell at every step from ``since`` to ``step``:
        updates as large as the weights that lower the loss at each step are a fast descent,
        not an explosion (L-BFGS with a line search, which takes a step only where it lowers
        the loss, on a breast-cancer table it separates: the weights 8.9 -> 29 -> 82 -> 5e4 at
        the samples of steps 1-8, each update 1.1x to 11x their size, the loss 1.25, 0.04,
        0.027, 0.026, ... 0: called exploding updates at step 4). Noisy batches fall at each
        of the four steps of the shortest run (three samples: steps 1, 2 and 4) by chance one
        time in 24; a run whose loss rises once is judged at its next sample."""
        return _falling(list(self.explosions.losses)[-(step - since + 1):])

    def _thrashed(self, step, thrashed, moved, layers):
        thrashed = self._origin(thrashed, {n: layers[n].get("grad_norm") or 0.0 for n in thrashed})
        first = thrashed[0]
        return self._group(
            "exploding", "exploding", thrashed, step,
            f"exploding updates{_count(thrashed)}, starting in layer '{first}'{self._gain(first)}: "
            f"each update moved its weights by {moved[first]:.2g}x their size (against its "
            f"natural size; healthy is near 1e-3), for {self.t.patience} samples in a row"
            f"{_also(thrashed)}",
            self._exploding_remedy(first))

    def _amplified(self, step, layers, order, activations=None, fitted=False, heads=()):
        """``heads``: the layers whose outputs are the model's outputs. A head is not judged
        against the layers after it in the forward order: those are the other heads, beside
        it, not on its way to the loss (a balanced three-head CNN's regression head was
        'amplifying', 275x the reconstruction head computed after it)."""
        order = _parents_first(order)
        rho = self._ratios(layers, order)
        flagged = set() if fitted else set(amplified(order, rho, self.t.amplification))
        flagged -= set(heads)
        hits = [n for n in order if self._streak(("amplified", n), n in flagged)]
        if fitted:  # (nor are the medians over samples fed: a fitted sample is no measure)
            return []
        measured = {n: gain for n, gain in self._measured_through_time(activations or {}).items()
                    if n in order}
        # the gain measured where it can be (the thing itself) overrules its trace in the
        # gradients' sizes where it fades: a signal that shrinks through time is amplified
        # nowhere in it (a two-layer GRU started 5x too large, its gain 0.10-0.13 over the
        # first samples, its loss 1.9 -> 0.5 by step 51: its ratio trace 2.3 at steps 1-4)
        fading = {n for n, gains in self.recurrent_gains.items()
                  if gains and statistics.median(gains) < 1.0}
        through_time = {n: ratio for n, ratio in self._through_time(rho, order).items()
                        if n not in fading}
        through_time.update(measured)
        hits += [n for n in order if n in through_time and n not in hits]
        if not hits:
            return []
        hits.sort(key=order.index)
        start = hits[-1]  # the one nearest the loss: the amplification starts there
        after = [rho[n] for n in order[order.index(start) + 1:] if n in rho]
        large = self.oversized
        if (large and large[0] in order and start not in through_time
                and order.index(large[0]) > order.index(start)):
            # a layer after it whose weights are out of scale (``_out_of_scale``) multiplies
            # the backward signal by their size on its way back, and its own ratio is small by
            # the same size: the layers before it look amplified, it is the cause (a sigmoid
            # head 50x too large: its input layer's ratio 159x the head's, named before)
            ratio = rho[start] / reference_ratio(sorted(after), self.t.amplification)
            return self._group(
                "exploding", "exploding", [large[0]] + hits, step,
                f"exploding gradients starting in layer '{large[0]}': its weights are "
                f"{large[1]:.0f}x their natural size, and the backward signal they pass back "
                f"makes the gradient of '{start}' {rho.get(start, 0.0):.2g}x its weights, "
                f"{ratio:.0f}x more than in the layers after it, for {self.t.patience} samples "
                "in a row", "exploding_layer")
        if start in measured:  # (the thing itself, before its trace in the ratios)
            against = (f"and its backward signal grows a median {measured[start]:.2g}x through "
                       f"time over the sequence, over {self.t.patience} samples (carried back "
                       f"through its own Jacobians; its weights started at "
                       f"{self.first_sizes[start]:.1f}x their natural size; a healthy layer's "
                       "fades, to 0.45x at most, and layers started large that train reach 13x)")
        elif start in through_time:
            ratio = through_time[start]
            against = (f"a median {ratio:.2g}x that of the layers after it over {self.t.patience} "
                       f"samples (its weights started at {self.first_sizes[start]:.1f}x their "
                       "natural size; a healthy recurrent layer's is 0.05 to 0.2x theirs)")
        else:
            ratio = rho[start] / reference_ratio(sorted(after), self.t.amplification)
            against = (f"{ratio:.0f}x more than in the layers after it, for {self.t.patience} "
                       "samples in a row")
        key = "exploding_recurrent" if start in self.recurrent else "exploding_layer"
        return self._group(
            "exploding", "exploding", [start] + [n for n in hits if n != start], step,
            f"exploding gradients in layer '{start}': its gradient is "
            f"{rho.get(start, 0.0):.2g}x its weights, {against}: the backward signal is "
            "amplified inside it"
            + (" (through time)" if start in self.recurrent else ""), key)

    def _through_time(self, rho, order):
        """{layer: median ratio} for the recurrent layers that started large (``_amplifies``)
        whose gradient/weight ratio, against the median of the layers after them, has a median
        of ``recurrent_amplification`` or more over the last ``patience`` samples with a
        gradient. A healthy recurrent layer passes back a gradient that fades through time:
        0.05 to 0.2 times the layers' after it, against their weights (a large one that
        trains up to 1.2); one amplifying through time from the start is at 3.9 to 1e3. A
        median over the samples, not a streak: a batch's ratio scatters (a bidirectional LSTM
        x10: 1.1, 18, ...); a sample with no gradient neither counts nor breaks it (as in
        ``_outsized``)."""
        found = {}
        for i, name in enumerate(order):
            if name not in self.recurrent or not rho.get(name) or not self._amplifies(name):
                continue
            after = sorted(rho[n] for n in order[i + 1:] if n in rho)
            reference = reference_ratio(after, self.t.amplification) if after else 0.0
            if not reference:
                continue
            ratios = self.recurrent_ratios.setdefault(name, collections.deque(
                maxlen=self.t.patience))
            ratios.append(rho[name] / reference)
            if (len(ratios) == self.t.patience
                    and statistics.median(ratios) >= self.t.recurrent_amplification):
                found[name] = statistics.median(ratios)
        return found

    def _measured_through_time(self, activations):
        """{layer: median gain} for the recurrent layers that started large (``_amplifies``)
        whose backward signal, measured through time at their own states (gates.py,
        ``through_time_gain``: the activation measurement's "through_time"), grew
        ``AMPLIFIED_THROUGH_TIME`` times or more over the sequence, a median over the last
        ``patience`` measurements. The gradients' sizes are only a trace of it, one that
        overlaps the healthy layers' (see ``_through_time``); this is the thing itself."""
        found = {}
        for name, s in activations.items():
            gain = s.get("through_time")
            if gain is None or name not in self.recurrent or not self._amplifies(name):
                continue
            gains = self.recurrent_gains.setdefault(name, collections.deque(
                maxlen=self.t.patience))
            gains.append(gain)
            if (len(gains) == self.t.patience
                    and statistics.median(gains) >= AMPLIFIED_THROUGH_TIME):
                found[name] = statistics.median(gains)
        return found

    def _outsized(self, step, layers, order, fitted=False):
        """Gradients out of all proportion to the loss in every layer at once, from the start:
        an explosion that a jump (which needs earlier steps to compare with) and a doubling
        update (which Adam's bounded steps never make) both miss. A layer's gradient/weight
        ratio is the size of the signal entering it times the backward signal reaching it, and
        a loss's gradient scales with its square root (the residual, for a squared error) or is
        bounded (cross-entropy): the median ratio over the layers, ``outsized`` times the square
        root of the loss (at least 1) or more, says that activations or gradients were
        amplified a hundredfold inside the model (a ReLU RNN with recurrent gain 3 over 60
        steps: 1.5e3 to 5e4 times; on batches of one, whose cross-entropy reaches hundreds, 250
        to 660), where unnormalised targets, however large, scale both sides alike (0.05 to 1).
        Inputs far from unit scale reach it too (1e3 times: 5e2 to 1e3), through weights of
        natural size, which ``_amplifies`` tells apart (see docs/diagnostics.md)."""
        loss = self.loss
        rho = [layers[n]["rho"] for n in order if layers[n].get("rho") is not None]
        if not any(rho):
            # nothing to judge: an activation measurement completed between samples, or no
            # gradient at all (a batch of one that an exploded classifier gets right: loss 0)
            return []
        holds = False
        if loss is not None and math.isfinite(loss) and not fitted:
            median = statistics.median(rho)
            ratio = median / max(1.0, math.sqrt(abs(loss)))
            holds = ratio >= self.t.outsized
        if holds:
            norms = {n: layers[n].get("grad_norm") or 0.0 for n in order}
            named = self._origin([n for n in order if layers[n].get("rho") is not None], norms)
            first = named[0]
            holds = self._amplifies(first)
        if not self._streak(("outsized", None), holds):
            return []
        return self._group(
            "exploding", "exploding", named, step,
            f"exploding gradients from the start, starting in layer '{first}'"
            f"{self._gain(first)}: the layers' gradients are a median {median:.2g}x their "
            f"weights, {ratio:.2g}x the square root of the loss ({loss:.4g}), for "
            f"{self.t.patience} samples in a row (healthy runs stay below {self.t.outsized:g}, "
            "or reach it only through inputs far from unit scale and weights of natural size): "
            "the signal is amplified inside the model"
            + (" (through time, in a recurrent layer)" if first in self.recurrent else
               " (over its calls: it runs in a loop, each call compounding the gain of the "
               "ones before, as an Euler step too large in an unrolled ODE or a weight-tied "
               "block does)" if first in self.looped else ""),
            self._exploding_remedy(first))

    def _amplifies(self, layer):
        """Whether ``layer``'s weights can amplify the signal by themselves: a recurrent layer
        that started ``recurrent_size`` times its natural size or more (its recurrent gain, not
        its inputs), the layer out of scale with those before it, or the first of weights too
        large across depth. Inputs far from unit scale make the gradients as outsized against
        the loss as an explosion does, but through weights of healthy size."""
        if layer in self.recurrent:
            return self.first_sizes.get(layer, 0.0) >= self.t.recurrent_size
        if layer in self.looped:
            # its gain compounds over its calls, whatever its weights' size: h + dt f(h) over
            # 100 Euler steps at dt=1 grows the state 1e10x through weights of natural size
            return True
        if self.oversized and self.oversized[0] == layer:
            return True
        return bool(self.init_large) and self.init_large[0][0] == layer

    def _too_large(self, step, layers, order, fitted=False):
        """Weights initialised far too large across depth (``_init_gain``), with the gradients
        a median ``init_rho`` times the weights (a normalisation after each layer undoes the
        gain and shrinks them instead), for ``patience`` samples: under Adam, whose steps stay
        small, the weights never double and the gradients are large but uniform across depth,
        so no other rule sees it."""
        rho = [layers[n]["rho"] for n in order if layers[n].get("rho") is not None]
        if not any(rho):
            return []  # (as in _outsized)
        holds = (not fitted and self.init_large is not None
                 and statistics.median(rho) >= self.t.init_rho)
        if not self._streak(("too_large", None), holds):
            return []
        large, gain, sizes = self.init_large
        first = large[0]
        return self._group(
            "exploding", "exploding", large, step,
            f"exploding activations and gradients from the start, starting in layer '{first}': "
            + (f"{len(large)} layers' weights are {min(sizes):.1f}x to {max(sizes):.1f}x their "
               "natural size, which together amplify" if len(large) > 1 else
               f"its weights are {sizes[0]:.1f}x their natural size, which amplifies")
            + f" the signal about {gain:.2g}x across depth "
            f"(against an initialisation that preserves it, Kaiming's), and the gradients are "
            f"a median {statistics.median(rho):.2g}x the weights, for {self.t.patience} samples "
            f"in a row{_also(large)}", "exploding_init")

    def _vanishing(self, step, layers, order, starved=(), fitted=False):
        # (a norm of exactly 0 counts: a layer that had gradients and now gets none through its
        # inputs, as below units that died unwatched, a LeakyReLU(0) or a clamp)
        norms = {n: layers[n]["grad_norm"] for n in order
                 if layers[n].get("grad_norm") is not None
                 and math.isfinite(layers[n]["grad_norm"]) and layers[n].get("ever_grad", True)}
        if len(norms) < 2:
            return []
        largest_name = max(norms, key=norms.get)
        largest = norms[largest_name]
        if largest == 0:
            return []  # no layer got a gradient (a hinge loss whose margins all hold): no gap
        # a layer whose weights amplify by themselves (a recurrent layer started large, through
        # time) makes its own gradient the largest: the layers after it, nearer the loss, get
        # the signal before it is amplified, not a vanished one (an LSTM 10 times too large over
        # 100 steps, its gradient 4e5: its head of natural size, 0.5, was called vanishing)
        after = (order.index(largest_name) if self._amplifies(largest_name)
                 else len(order))
        # a gradient of exactly zero with a layer nearer the input getting a healthy one: the
        # signal did not vanish on its way down, it went around this layer, whose output this
        # batch's loss never used (a mixture-of-experts expert that top-1 routing sent no
        # token: 2 seeds of 8 from the first samples on, the rest of the model training);
        # weights all zero are still found (their product with another zero, below)
        bypassed = set()
        healthy_below = False
        for name in order:
            norm = norms.get(name)
            if norm is None:
                continue
            if (norm == 0 and healthy_below
                    and layers[name].get("weight_matrices") != 0.0):
                bypassed.add(name)
            healthy_below = healthy_below or (norm >= self.t.vanishing_ratio * largest
                                              and norm >= self.t.vanishing_floor)
        if 2 * len(bypassed) >= len(norms):
            # most of the model gone around is no routing choice: every residual branch of an
            # MLP dropped by a drop path at 0.99 (meant 0.01) on 72% of steps, 12 of 14 layers
            # without a gradient, the stem and the head training alone (norm20)
            bypassed = set()
        low, now = [], []
        for name, norm in norms.items():
            ratio = norm / largest
            below = (not fitted and order.index(name) <= after and name not in bypassed
                     and (ratio < self.t.vanishing_ratio or norm < self.t.vanishing_floor))
            if below:
                now.append(name)
            if self._streak(("vanishing", name), below):
                low.append(name)
        if not low:
            return []
        # the streak guards the finding against one batch's noise, not each layer: the layers
        # before the first whose streak held that are below the ratio on this sample too are
        # where the same vanishing is worst (a ratio that hovers around vanishing_ratio breaks
        # a layer's streak on one sample in three: the first convolution of a CNN with its
        # batch norms in eval mode read 1.2e-5, 7.6e-6, 6.5e-6 of the head's, and the batch
        # norm after it, whose few weights always read less, was named the first)
        low = [n for n in now if order.index(n) < order.index(low[0])] + low
        first = low[0]
        # (an op whose gradient is zero everywhere cuts it too: round, sign or floor without
        # a straight-through estimator, a custom Function whose backward returns zeros)
        zero = (": exactly zero, as below units that are all off (a ReLU-like activation "
                "whose units died, a clamp, a LeakyReLU of slope 0), a mask that zeroes "
                "the whole branch (dropout or drop path with p near 1) or an op whose "
                "gradient is zero everywhere (round, sign or floor without a straight-through "
                "estimator, a custom Function's backward returning zeros)"
                if norms[first] == 0 else "")
        # a gradient that drops to exactly 0 from one that is already small: in float16 (its
        # smallest value 6e-8) the per-sample gradients under a layer whose weights' gradient
        # is a few 1e-4 round to 0 (a float16 MLP of 8 sigmoid layers: 5.5e-4, then 0 in
        # every layer below; 9.8e-8 at the first layer in float32)
        above = next((norms[n] for n in order[order.index(first) + 1:] if norms.get(n)), None)
        if norms[first] == 0 and above is not None and above <= self.t.underflow_above:
            zero += (f", or a float16 gradient that underflowed: the nearest layer after it "
                     f"with a gradient has only {fmt(above)}, and float16 rounds values below "
                     "6e-8 to 0 (scale the loss: torch.amp.GradScaler, or train in float32 "
                     "or bfloat16)")
        cut = next((n for n in order if n in starved), None) if norms[first] == 0 else None
        if cut is not None:
            zero = (f": exactly zero, and layer '{cut}' receives only zeros (its weights get no "
                    "gradient, its bias does): the signal is cut before it")
        # weights exactly zero with no gradient: no unit died, the layer was initialised at
        # zero where its output reaches the loss only through a product with another zero (a
        # query and a key both zeroed: each one's gradient is the other's output); the ReLU
        # remedy sent a zero-initialised attention looking for dead units
        zeroed = norms[first] == 0 and layers[first].get("weight_matrices") == 0.0
        if zeroed:
            zero = (": exactly zero, and its weights are all zero: a layer initialised at zero "
                    "whose output reaches the loss only multiplied by another zero (a query "
                    "and a key both zeroed, the two factors of a gate, a LoRA adapter's A "
                    "and B both zeroed: only B starts at zero) gets no gradient and "
                    "never leaves zero")
        shrunk = self._shrunk(low, order)
        # the gap opening across a recurrent layer whose own gradient is not low: its weights
        # learn from the steps near the read-out while the gradient to its earlier steps, the
        # only way back to the layers before it, fades through time inside it (an LSTM read at
        # the last position of right-padded reviews, 3 to 6 words then 24 steps of padding:
        # its embedding's gradient 2e-7 of the head's). The deep-stack remedy, ReLUs and
        # Kaiming, sent it looking for depth the model does not have.
        later = [n for n in order[order.index(first) + 1:] if n in norms]
        through = (later[0] if not zero and not shrunk and later and later[0] in self.recurrent
                   and later[0] not in low else None)
        if through is not None:
            return self._group(
                "vanishing", "vanishing", [through] + low, step,
                f"vanishing gradients through time in '{through}': its own gradient is "
                f"{fmt(norms[through])} but what it passes back to its earlier steps fades "
                f"before it reaches '{first}' (gradient norm {fmt(norms[first])}, "
                f"{norms[first] / largest:.1e} of the largest layer's, '{largest_name}', "
                f"{fmt(largest)}), for {self.t.patience} samples in a row: the output is read "
                f"far in time from the steps that carry the signal{_also(low)}",
                "through_time")
        return self._group(
            "vanishing", "vanishing", low, step,
            f"vanishing gradients{_count(low)}, worst at the first, '{first}': gradient norm "
            f"{fmt(norms[first])}{zero}, {norms[first] / largest:.1e} of the largest layer's "
            f"('{largest_name}', {fmt(largest)}), for {self.t.patience} samples in a row"
            f"{_also(low)}{self._frozen_norms()}{shrunk}",
            "zero_weights" if zeroed else "zero_signal" if cut is not None else
            "frozen_norm" if self.frozen_norms else "shrunk" if shrunk else "vanishing")

    def _starved_by_the_loss(self, step, layers, order):
        """Vanishing born in the loss: on ``patience`` samples in a row, every layer's gradient
        is below ``starved`` of the largest it had on a sample while the median of the recent
        losses is no lower than the untrained one (``start_loss``). The gap
        between layers is unchanged, so ``_vanishing`` sees nothing: the loss itself stopped
        sending a signal before the model learned (a GAN generator minimising log(1 - D(G(z)))
        against a discriminator that wins: log(1 - D) passes sigmoid(D's logit) of what
        -log D(G(z)) would, its layers' gradients fell from 0.7 to 6e-3 of that and down to
        1e-7 with its loss at its worst, 0). A model that fit its data has a fallen gradient
        too, and a lower loss; one that fit its data once has learned, and after a spike its
        gradients fall back from the spike's, not from a signal the loss stopped sending (a
        residual CNN memorising a batch, its loss 0 from step 13, thrown to 4.35 at step 31 by
        Adam's steps on gradients near 0 and back to 0.02 by 41: its gradients 0.01 of the
        spike's at step 35 while the median of the last losses still held the spike, data
        shift 909). Named at the model's last layer, where the vanishing enters."""
        e = self.explosions
        recent = list(e.losses)[-self.t.recent_steps:]
        level = statistics.median(recent) if len(recent) >= 3 else None
        norms = {n: layers[n].get("grad_norm") for n in order}
        holds = (not self.ever_fitted and e.start_loss is not None and level is not None
                 and norms
                 and all(g is not None and math.isfinite(g) and self.peak_grad.get(n)
                         and g < self.t.starved * max(self.peak_grad[n], g)
                         for n, g in norms.items())
                 and level >= e.start_loss)
        if not self._streak(("vanishing", "starved"), holds):
            return []
        layer = order[-1]
        first = max(order, key=lambda n: norms[n] / self.peak_grad[n])
        return self._group(
            "vanishing", "vanishing", [layer], step,
            f"vanishing gradients from the loss, starting at the model's last layer '{layer}': "
            f"every layer's gradient fell below {self.t.starved:g} of the largest it had (the "
            f"least fallen, '{first}', {fmt(norms[first])} against "
            f"{fmt(self.peak_grad[first])}), for {self.t.patience} samples in a row, while the "
            f"loss ({level:.4g}, the median of the recent steps) is no lower "
            f"than its untrained level ({e.start_loss:.4g}): the loss "
            "stopped passing a gradient before the model learned (a saturated sigmoid or "
            "softmax inside it, such as a GAN generator's log(1 - D(G(z))) against a "
            "discriminator that wins)", "starved_by_the_loss")

    def _through_depth(self, step, layers, order):
        """Vanishing through depth: on ``patience`` samples in a row from step ``depth_from``,
        the gradient norms of ``depth_layers`` or more layers, in forward order from the first
        to the one with the largest, rise steadily (their log, or its ranks, a straight line in
        depth, R^2 ``depth_fit`` or more), by ``1 / depth_decay`` or more (the median of those
        samples' rises), while the loss is still ``depth_unlearned`` times its untrained level
        or more.
        Each layer passes back a fraction of the signal, so the gap compounds with depth (16
        tanh layers at PyTorch's default initialisation: 10^-4.4 at the first against 10^-0.6
        at the head, a steady 0.25 decades a layer; the loss stayed at 0.69 for 100 steps
        under SGD, where Adam's steps, the lr's size whatever the gradient, trained it to
        0.17): a gap of 1e-3 is below
        ``vanishing_ratio`` but no learning rate bridges it either. A sparse embedding's small
        gradient is one layer's, not a rise through depth; healthy runs of the suite rise at
        most 2.3 decades steadily once step 16 is passed with the loss still high (an
        unnormalised depthwise-separable CNN, whose depthwise layers hold few weights).
        Before step ``depth_from`` the rise must reach ``1 / depth_early``: deep stacks that
        train rise up to 3.6 decades on their first samples (seeds 0 and 1), and one that never
        trains (thirty ReLU convolutions at Xavier's gain, each halving the signal) rises
        about 5 decades from step 1, where each sample's ratio straddles ``vanishing_ratio``
        (1.1e-5, 9.3e-6, 1.1e-5 at the first layer: no streak of three for ``_vanishing``)."""
        t = self.t
        norms = [(n, layers[n].get("grad_norm")) for n in order]
        norms = [(n, g) for n, g in norms if g is not None and math.isfinite(g) and g > 0]
        start, loss = self.explosions.start_loss, self.loss
        chain = []
        # (the first samples, before three losses tell the untrained level, are untrained)
        untrained = (start is None and step < t.depth_from if loss is not None
                     else False) or (start is not None and start > 0 and loss is not None
                                     and loss >= t.depth_unlearned * start)
        if len(norms) >= t.depth_layers and untrained:
            top = max(range(len(norms)), key=lambda i: norms[i][1])
            chain = [math.log10(g) for _, g in norms[:top + 1]]
        # (spread over the layers, not one layer's gap: ranks alone call a sparse embedding's
        # 1e-3 under a chain that creeps up steady; no one layer may hold half the rise)
        if (len(chain) < t.depth_layers or _steadiness(chain) < t.depth_fit
                or max(b - a for a, b in zip(chain, chain[1:])) > (chain[-1] - chain[0]) / 2
                or self._moved_alike(layers, norms[0][0], norms[top][0])):
            self.depth_rises = []
            return []
        # (the median of the last patience rises: one batch moves a rise by half a decade,
        # 3.05, 2.82, 3.75 at steps 16, 32, 50 of a 16-layer tanh MLP that never learns)
        self.depth_rises = (self.depth_rises + [chain[-1] - chain[0]])[-t.patience:]
        rise = statistics.median(self.depth_rises)
        decay = t.depth_decay if step >= t.depth_from else t.depth_early
        if len(self.depth_rises) < t.patience or rise < -math.log10(decay) or start is None:
            return []
        first, largest = norms[0][0], norms[top][0]
        return self._group(
            "vanishing", "vanishing", [n for n, _ in norms[:top]], step,
            f"vanishing gradients through depth, worst at the first layer, '{first}': its "
            f"gradient norm is {10 ** -rise:.1e} of the largest ('{largest}'), rising steadily "
            f"by {rise / top:.2f} decades a layer over the {top + 1} layers between them, for "
            f"{t.patience} samples in a row, while the loss stays at {loss / start:.2f} of its "
            "untrained level: each layer passes back a fraction of the signal, and the first "
            f"layers hardly learn{self._frozen_norms()}",
            "frozen_norm" if self.frozen_norms else "vanishing")

    def _moved_alike(self, layers, first, top):
        """Whether the first layer's update, against its weights, is ``depth_moved`` of the
        top layer's or more: an optimizer that scales each step by its own gradient's size
        (Adam, RMSprop) moves the first layers as far as the last whatever the gap between
        their gradients, so they do learn (an unnormalised depthwise-separable CNN under Adam,
        its first layer's gradient 3.6e-4 of the head's, moved it 0.0077 of its size per step
        against the head's 0.0048, and trained to 1e-6; under SGD the updates carry the whole
        gap: thirty Xavier ReLU convolutions, 1e-8 against 1e-3)."""
        moved, most = layers[first].get("update_ratio"), layers[top].get("update_ratio")
        return bool(moved is not None and most and moved >= self.t.depth_moved * most)

    def _collapsed_through_depth(self, layers, order, activations):
        """Whether the gradient norms, in forward order from the first layer to the largest,
        rise steadily over ``depth_layers`` or more layers (``_steadiness`` ``depth_fit`` or
        more, no one layer holding half the rise) by ``1 / depth_decay`` or more while the
        first activation measured is alive (``dead_fraction`` or below). Dead units cut the
        gradient where they are, a step in that chain; a steady rise is every layer passing
        back a fixed share (Xavier's or an orthogonal gain of 1 on 40 ReLU layers: each halves
        the signal's second moment, 4.1 to 7.6 decades between the first layer and the head
        from step 1 on). The signal then collapses onto one direction in the last layers,
        whose units are on or off alike for every input: they read as dead from step 1, their
        streak kept the vanishing from being reported, and the dead units were named first
        (step 8) with a learning-rate remedy. So on such a sample dead units count for
        nothing (their streak breaks) and the vanishing rules run whatever units are dead or
        saturated. Units dead from the first layer on (biases far negative) cut the chain
        from its start."""
        t = self.t
        norms = [layers[n].get("grad_norm") for n in order]
        norms = [g for g in norms if g is not None and math.isfinite(g) and g > 0]
        if len(norms) < t.depth_layers:
            return False
        top = max(range(len(norms)), key=norms.__getitem__)
        chain = [math.log10(g) for g in norms[:top + 1]]
        if len(chain) < t.depth_layers:
            return False
        rise = chain[-1] - chain[0]
        if (rise < -math.log10(t.depth_decay) or _steadiness(chain) < t.depth_fit
                or max(b - a for a, b in zip(chain, chain[1:])) > rise / 2):
            return False
        first = next((s for s in activations.values() if s.get("dead") is not None), None)
        return first is not None and first["dead"] <= t.dead_fraction

    def _shrunk_weights(self, step, order):
        """Vanishing where a layer's weights, natural at the first sample, have shrunk below
        ``shrunk`` of their natural size and of that first size, on ``patience`` samples in a
        row: the signal through them, and the gradient to the layers before them, shrink as
        much (rows renormed to 1e-3 after each step, a max-norm meant 3.0: the first layer's
        gradient hovered between 3e-6 and 4e-5 of the head's, around ``vanishing_ratio``, and
        its units, held by their biases, read as dead). A layer initialised at zero (LoRA's B,
        a zero-initialised head) grows from its start and is never named."""
        fallen = [n for n in order if n in self.shrunk
                  and self.shrunk[n] < self.t.shrunk * self.first_sizes.get(n, 0.0)]
        if not self._streak(("vanishing", "shrunk"), bool(fallen)):
            return []
        first = fallen[0]
        more = (f" (and {len(fallen) - 1} more layer{'s' if len(fallen) > 2 else ''}'s)"
                if len(fallen) > 1 else "")
        return self._group(
            "vanishing", "vanishing", fallen, step,
            f"vanishing signal and gradients, starting at '{first}': its weights{more} have "
            f"shrunk to {self.shrunk[first]:.1e} of their natural size, "
            f"{self.shrunk[first] / self.first_sizes[first]:.1e} of their size at the first "
            f"sample, for {self.t.patience} samples in a row (a max-norm constraint far too "
            "small, weight decay far too strong, or weights scaled down by hand after each "
            "step): what passes through them, forward and back, shrinks as much"
            f"{self._since_decay()}", "shrunk")

    def _since_decay(self):
        """For weights found shrunk after a weight decay that outweighs the gradient was found
        (SGD at lr x weight_decay = 1): the decay shrank them, its remedy comes first."""
        return self._found_before("decaying", "a weight decay far larger than the gradient")

    def _shrunk(self, low, order):
        """Why the signal shrinks: weights at or after the first vanishing layer far below
        their natural size (``shrunk``)."""
        at = order.index(low[0]) if low[0] in order else 0
        small = [n for n in order[at:] if n in self.shrunk]
        if not small:
            return ""
        more = (f" (and {len(small) - 1} more layer{'s' if len(small) > 2 else ''})"
                if len(small) > 1 else "")
        return (f"; the weights of '{small[0]}'{more} are "
                f"{self.shrunk[small[0]]:.1e} of their natural size (a max-norm constraint, "
                "weight decay or an initialisation far too small), and the signal and the "
                f"gradient through them shrink with them{self._since_decay()}")

    def _frozen_norms(self):
        """Why the signal shrinks though the model has batch norms: they are in eval mode."""
        if not self.frozen_norms:
            return ""
        return (f"; the batch norms before its activations ({_listing(self.frozen_norms)}) are "
                "in eval mode while the model trains: they scale by fixed running statistics "
                "and normalise nothing")

    def _stalled(self, step, layers, order, lr, explained=frozenset()):
        # (a rate of exactly 0 is no slow end of a schedule: nothing moves; StepLR(gamma=0))
        decayed = lr is not None and 0 < lr < self.t.decayed_lr * self.peak_lr
        if lr == 0 and "schedule" in self.groups:
            return []  # (the schedule that reached 0 was reported, naming every layer)
        flowing = any(s.get("grad_norm") for s in layers.values())
        # no layer has ever had a gradient while the loop reports a loss every step: the graph
        # is cut between the whole model and its loss (an encoder under its own monitor whose
        # code is detached before the decoder); a model the loop only reads (an EMA teacher)
        # has its parameters frozen, or is not monitored
        # A gradient read on this sample counts as received even when no backward pass
        # brought it (the tap's ``ever_grad``): float32 master weights whose ``.grad`` is set
        # by hand from a float16 copy's were called cut from the loss
        severed = (self.loss is not None and len(layers) > 0 and not flowing
                   and not any(s.get("ever_grad") for s in layers.values()))
        frozen, cut = [], []
        for name in order:
            s = layers[name]
            ratio = s.get("update_ratio")
            # not when the weights' own gradient is zero (rho 0): a layer whose inputs are all
            # zero (the units before it dead) has a gradient in its bias only, and its weights
            # rightly do not move: nothing for the optimizer to apply
            settled = self._settled(name, s.get("grad_norm"))
            # nor when the gradient itself is below stall_low of the weights: an update of
            # the gradient's size (SGD at lr 1) is then below it too; a model that has
            # converged (L-BFGS on a full batch at a loss of 1e-8, gradient 1e-7 of the
            # weights) was called stalled
            rho = s.get("rho")
            # dead or saturated units before a layer explain a tiny update through a tiny
            # gradient, never an update of exactly 0 from a gradient that is there: that one
            # the optimizer did not apply (a head left out of it behind dead units, half of
            # the units it reads off on every input: its gradient 0.8, its update 0, was
            # taken as explained by them)
            unapplied = ratio == 0.0 and rho is not None and rho >= self.t.stall_low
            low = ((name not in explained or unapplied) and not decayed and not settled
                   and s.get("grad_norm")
                   and rho != 0.0 and not (rho is not None and rho < self.t.stall_low)
                   and ratio is not None and ratio < self.t.stall_low)
            if self._streak(("stalled", name), low):
                frozen.append(name)
            never = (flowing or severed) and not s.get("ever_grad") and not s.get("grad_norm")
            if self._streak(("no_gradient", name), never):
                cut.append(name)
        found = []
        if frozen:
            # every layer that has a gradient stalled at once: not one layer left out of the
            # optimizer but the optimizer applying no gradient at all, and whether the updates
            # are exactly 0 or only tiny tells the loop's mistakes apart (the remedy for one
            # layer, "is it in the optimizer", sent a loop that clears the gradients between
            # backward() and step() looking in the wrong place)
            trained = [n for n in order if layers[n].get("grad_norm")
                       and layers[n].get("rho") != 0.0]
            # (most, not all: under Adam a head whose gradient is large against its weights
            # can stay above the threshold with the rest)
            majority = len(frozen) > 1 and 2 * len(frozen) > len(trained)
            if not majority:
                frozen = self._slow_alike(frozen, trained, layers)
        if frozen:
            s = layers[frozen[0]]
            message = (
                f"layer '{frozen[0]}' has stalled{_count(frozen, 'with')}: it has a gradient "
                f"(norm {fmt(s['grad_norm'])}) but each update moves its weights by only "
                f"{fmt(s['update_ratio'])} of their size (healthy is near 1e-3), for "
                f"{self.t.patience} samples in a row{_also(frozen)}")
            key = "stalled"
            if "stalled" not in self.groups and majority:
                if all(layers[n].get("update_ratio") == 0.0 for n in frozen) and lr == 0 \
                        and self.peak_lr == 0:
                    # (the loop says the rate is 0, and it never was more: a rate of 0 given
                    # to the optimizer, or a warm-up whose first factor is 0 for good)
                    message += (f": {len(frozen)} of the {len(trained)} layers with a gradient "
                                "stand exactly still, and the learning rate has been 0 since "
                                "the start")
                    key = "stalled_zero_lr"
                elif all(layers[n].get("update_ratio") == 0.0 for n in frozen) \
                        and self.rises[0] is not None and (lr == 0 or self.rises[0] == step):
                    # (the update sampled was made at a rate of 0 that is not the rate's
                    # level: it was 0 at this step, or at the one before while the loop
                    # reports the rate after scheduler.step(), and it has come back from 0
                    # before: a rate that reached 0 for good is the schedule's finding)
                    last, before = self.rises
                    every = (f", about every {last - before} steps"
                             if last is not None and before is not None else "")
                    message += (f": {len(frozen)} of the {len(trained)} layers with a gradient "
                                "stand exactly still, and the learning rate for this update "
                                f"was 0 though its peak is {self.peak_lr:.3g}: a schedule that "
                                f"falls to 0 and back{every}, wasting the updates made at 0")
                    key = "stalled_zero_cycles"
                elif all(layers[n].get("update_ratio") == 0.0 for n in frozen):
                    message += (f": {len(frozen)} of the {len(trained)} layers with a gradient "
                                "stand exactly still, so the optimizer applied none of theirs")
                    key = "stalled_all_zero"
                else:
                    message += (f": {len(frozen)} of the {len(trained)} layers with a gradient "
                                "move a thousand times less than healthy, so the optimizer "
                                "scales their gradients down")
                    key = "stalled_all_tiny"
            found += self._group("stalled", "stalled", frozen, step, message, key)
        return found + self._no_gradient(cut, step, severed)

    def _no_gradient(self, cut, step, severed=False):
        if not cut:
            return []
        if severed:
            return self._group(
                "no_gradient", "stalled", cut, step,
                f"no layer of the model has received a gradient since monitoring began, "
                f"'{cut[0]}' first, while the loop reports a loss every step: the model's "
                f"output reaches the loss cut from the graph, or not at all", "no_gradient_model")
        return self._group(
            "no_gradient", "stalled", cut, step,
            f"layer '{cut[0]}' receives no gradient{_count(cut, 'with')}: its parameters "
            f"require grad but have had no gradient since monitoring began, while other "
            f"layers do{_also(cut)}", "no_gradient")

    def _slow_alike(self, frozen, trained, layers):
        """The layers of ``frozen`` (a minority) that the optimizer treats unlike the rest:
        whose update, against their gradient (update ratio / rho, SGD's effective rate), is
        below ``stall_alike`` of the median of the layers that did not stall."""
        def applied(name):
            s = layers[name]
            rho, ratio = s.get("rho"), s.get("update_ratio")
            return None if not rho or ratio is None else ratio / rho
        rates = sorted(r for r in (applied(n) for n in trained if n not in frozen)
                       if r is not None)
        if not rates:
            return frozen
        median = rates[len(rates) // 2]
        # a layer left out of the optimizer, or given a rate of 0, moves by exactly 0; one
        # given its own rate a thousand times too small moves a thousand times less per unit
        # of gradient than the rest; a whole run at a small rate (SGD at lr 1e-5, which learns
        # slowly) moves every layer alike, and only the layers whose gradient is smallest
        # against their weights crossed the threshold (called stalled at step 4, the one-layer
        # remedy "is it in the optimizer" pointing at a layer that is)
        return [n for n in frozen
                if applied(n) is None or applied(n) < self.t.stall_alike * median]

    def _decaying(self, step, layers, order, natural):
        """Layers whose every update pulls their weights toward zero, by more than a healthy
        update moves them at all: a weight decay (or an L2 penalty) that outweighs the
        gradient, so the layer learns nothing but shrinking (see docs/diagnostics.md, stalled)."""
        hits, drops = [], {}
        for name in order:
            s = layers[name]
            before, after = s.get("weight_before"), s.get("weight_matrices")
            shrink, aligned = _along_weights(s, natural.get(name), -1)
            holds = shrink >= self.t.decay_shrink and self.t.decay_aligned <= aligned <= 1.5
            last = self.decay_last.get(name)
            if after is not None:
                self.decay_last[name] = after
            # a decay raised late in a run (a schedule, a fitted model's shrinking gradient)
            # shrinks the weights every step between samples, 50 at the default rate: a norm
            # already fallen so far since the last sample is that streak, seen once
            fallen = holds and last and before and before <= self.t.decay_fallen * last
            if self._streak(("decaying", name), holds) or fallen:
                hits.append((name, shrink))
                drops.setdefault(name, before / last if fallen else None)
        # most layers at once (at least two), as a decay given to the whole model pulls them:
        # one layer shrinking alone is its gradient finding smaller weights better (a head
        # regressing onto noise under Adam shrank 2.7% a step, by its gradient, while the
        # loss fell)
        weighted = [n for n in order if layers[n].get("weight_before")]
        if len(hits) < 2 or 2 * len(hits) <= len(weighted):
            return []
        # and only where something can pull them so: with no weight decay strong enough and no
        # penalty on the parameters, it is the loss's own gradient that shrinks them (a trained
        # classifier fine-tuned to labels it had the wrong way round unlearns its confident
        # logits: 0.3-13% a step, the loss from 22 to 2.2 in 8 steps)
        if self.decay_source() is False:
            return []
        # and only where the loss pays for it: a fitted model whose loss holds far below its
        # untrained level while the decay shrinks it is being regularised, not stalled
        e = self.explosions
        recent = list(e.losses)[-self.t.recent_steps:]
        if (e.start_loss is not None and e.start_loss > 0 and len(recent) >= 3
                and statistics.median(recent) < self.t.decay_kept * e.start_loss):
            return []
        name, shrink = hits[0]
        size = layers[name]["weight_matrices"] / natural[name] if natural.get(name) else None
        now = f", now {size:.2g} of their natural size" if size is not None else ""
        when = (f"for {self.t.patience} samples in a row" if drops[name] is None else
                f"their norm already down to {drops[name]:.2g} of the last sample's")
        return self._group(
            "decaying", "stalled", [n for n, _ in hits], step,
            f"layer '{name}' learns nothing but shrinking{_count(hits, 'with')}: each update "
            f"pulled its weights toward zero, taking {shrink:.1%} of their norm (a healthy "
            "update moves weights by about 0.1% in all, in any direction), "
            f"{when}{now}{_also([n for n, _ in hits])}: a weight "
            "decay (or an L2 penalty in the loss) far larger than the gradient"
            # (AdamW's decay is lr x weight_decay a step: a rate that exploded the weights
            # makes even the usual 0.01 take 2-10% a step; lowering the rate cures both)
            f"{self._since_explosion()}", "decaying")

    def _settled(self, name, grad_norm):
        """Whether ``name``'s gradient has fallen below ``settled`` of its largest sampled
        norm: a model that has fit its data (a memorised batch, a loss at its floor) takes
        updates as small as its gradient, which is not the optimizer failing to apply one."""
        if not grad_norm or not math.isfinite(grad_norm):
            self.settled.discard(name)
            return False
        peak = self.peak_grad[name] = max(self.peak_grad.get(name, 0.0), grad_norm)
        if grad_norm < self.t.settled * peak:
            self.settled.add(name)
            return True
        self.settled.discard(name)
        return False

    # -- information ----------------------------------------------------------------------------
    def frozen(self, step, names):
        """Layers whose parameters do not require grad, in a model that is otherwise trained."""
        new = [n for n in names if n not in self.frozen_noted]
        if not new:
            return []
        self.frozen_noted.update(new)
        self.groups.pop("frozen", None)
        return self._group(
            "frozen", "frozen", new, step,
            f"{len(new)} layer(s) have parameters with requires_grad=False and are not trained "
            f"while the rest of the model is: {_listing(new)}", "frozen", "info")


def _along_weights(stats, natural, sign):
    """(how much one update changed a layer's weight norm, a share of it: grown for ``sign``
    +1, shrunk for -1; the share of the update along the weights themselves: the norm it
    changed over the update's own, against the larger of the weights and their ``natural``
    size). A norm cannot change by more than the update that moved it: a share above 1.5
    says the two were not measured on the same weights, and the caller judges nothing."""
    before, after, ratio = (stats.get("weight_before"), stats.get("weight_matrices"),
                            stats.get("update_ratio"))
    change = sign * (after - before) / before if before and after is not None else 0.0
    aligned = (sign * (after - before) / max(before, natural or 0.0) / ratio
               if change > 0 and ratio else 0.0)
    return change, aligned


def _starved(layers, order):
    """Layers whose inputs were all zero on this sample, below a layer whose gradient is exactly
    zero: their weights got no gradient (rho 0) while their bias did, and the layers before them
    none at all (so the signal was cut before them, not by units that died)."""
    starved = set()
    cut = False
    for name in order:
        s = layers[name]
        if s.get("grad_norm") == 0.0 and s.get("ever_grad", True):
            cut = True
        elif cut and s.get("rho") == 0.0:
            starved.add(name)
    return starved


def _parents_first(order):
    """``order`` with each layer nested in another one (``attn.out_proj`` in ``attn``) moved
    right after it (and its siblings before it). A layer whose parent uses only its weights
    (MultiheadAttention's ``out_proj``) is never called, so the forward order holds it last,
    after the head: there it was one of "the layers after" the head, and a transformer whose
    out_proj weights were 10 times too large (so their gradient/weight ratio 10 times smaller),
    which trains as the default does, was reported as amplifying in its head."""
    names = set(order)

    def parent(name):
        while "." in name:
            name = name.rpartition(".")[0]
            if name in names:
                return name
        return None

    position = {name: i for i, name in enumerate(order)}
    nested = {}
    for name in order:
        p = parent(name)
        if p is not None and position[p] < position[name]:
            nested.setdefault(p, []).append(name)
    moved = {n for children in nested.values() for n in children}
    result = []

    def place(name):
        result.append(name)
        for child in nested.get(name, ()):
            place(child)

    for name in order:
        if name not in moved:
            place(name)
    return result


def _out_of_scale(layers, order, natural, factor):
    """(layer, size) for the first layer after the first in forward ``order`` whose weights
    (before the update) are ``factor`` times their natural size and ``factor`` times the largest
    such size before it, else None. Not the first layer: an embedding (N(0, 1), sqrt(3 width)
    times the natural size of a linear layer of its shape) sets the scale of what follows
    rather than amplifying it, and a first layer is named first in forward order anyway."""
    largest = None
    for name in order:
        before = layers[name].get("weight_before")
        if not before or not natural.get(name):
            continue
        size = before / natural[name]
        if largest is not None and size >= factor * max(largest, 1.0):
            return name, size
        largest = size if largest is None else max(largest, size)
    return None


LOOP_CALLS = 8  # an activation called this often in one forward after one layer: a loop


def _looped(activations):
    """The layers run in a loop in one forward: those an activation followed on
    ``LOOP_CALLS`` calls or more (``act[0]``, ``act[1]``, ... each 'after' the same layer: the
    vector field of a neural ODE unrolled over its Euler steps, a weight-tied block, a cell of
    Linear layers written by hand). Each call feeds the next, so the layer's gain compounds
    over them as a recurrent layer's does over time, at any size of its weights; an activation
    shared by a few layers (one ReLU after each) follows a different one at each call."""
    calls = collections.Counter()
    for name, stats in activations.items():
        head, bracket, _ = name.rpartition("[")
        if bracket and name.endswith("]") and stats.get("after"):
            calls[(head, stats["after"])] += 1
    return {after for (_, after), count in calls.items() if count >= LOOP_CALLS}


LEARNED_SATURATION = ("tanh", "sigmoid")  # units learning may saturate (``_learned_saturation``)
_KAIMING_DRAWN = 0.95  # (see _init_gain)
_STILL_SINKING = 2.0  # (see _sinks)
_SINKING_STEPS = 28  # the last three spans of 8 steps and the 4 before them (_sinks)


def _init_gain(layers, order, natural, recurrent, least):
    """([layers], gain, [their sizes]) when the weights (before the update) amplify the
    signal ``least`` times or more across depth, else None. A layer multiplies it by about
    its weights' size over sqrt(6) times its natural size (1 for Kaiming's initialisation
    with ReLU, which preserves it; PyTorch's default shrinks it to 0.41), and the gains
    compound from layer to layer. Recurrent layers (their gain is over time, rules
    ``_amplified`` and ``_outsized``) and the first layer (an embedding, N(0, 1), is
    sqrt(3 width) times its natural size and amplifies nothing) are left out of the product;
    the first is listed when it is as large. The gain is the larger of the layers in series
    and of the layers read as residual blocks (``_residual_gain``): the sample holds no
    structure to tell which they are, and each reading errs on the other's model by at most
    sqrt(2) a block."""
    sizes = {n: layers[n]["weight_before"] / natural[n] for n in order
             if layers[n].get("weight_before") and natural.get(n) and n not in recurrent}
    gains = {n: size / math.sqrt(6.0) for n, size in sizes.items() if n != order[0]}
    gain = max(math.prod(max(1.0, g) for g in gains.values()), _residual_gain(gains))
    if gain < least:
        return None
    # Kaiming-sized weights (sqrt(6) x natural) are among those that amplify as residual
    # branches; a sampled matrix's norm scatters about 1/sqrt(2 n m) around its expectation (2%
    # for 32x32), so the bar is set 5% below it: else a stack of equal blocks is named from
    # whichever happened to draw above sqrt(6), not from its first
    large = [n for n, size in sizes.items() if size > _KAIMING_DRAWN * math.sqrt(6.0)]
    return large, gain, [sizes[n] for n in large]


def _residual_gain(gains):
    """The gain across depth of layers (``gains``: {layer: its gain}, forward order) read as
    residual blocks: the layers of one item of a container ('blocks.3.fc1', 'blocks.3.fc2':
    a ModuleList's or Sequential's item, where repeated blocks live) form a branch that adds
    to the stream, ``x + f(x)``, so the block multiplies the stream's root-mean-square by
    sqrt(1 + b^2) (the branch's output is about independent of its input), b the branch's
    gain: the product of its layers' gains times sqrt(2), its last layer feeding the sum and
    not a ReLU that would halve its square. In series the product of gains over 1 undercounts
    such a net: 8 blocks of two layers 3 times too large (1.22 a layer) make 31 in series and
    about 930 as blocks (the stream's scale: a loss of 100 to 400 at step 1). Layers outside
    such items count in series (their gains over 1). A block of natural size gives 1.03, one
    of Kaiming's 1.7 (no normalisation: its variance grows with depth, Fixup's point); a chain
    wrongly read as a block gives sqrt(1 + b^2), at most sqrt(2) times its gain in series."""
    branches = collections.defaultdict(list)
    total = 1.0
    for name, gain in gains.items():
        parent, dot, _ = name.rpartition(".")
        item = parent.rpartition(".")[2]
        if dot and item.isdigit():
            branches[parent].append(gain)
        else:
            total *= max(1.0, gain)
    for branch in branches.values():
        total *= math.sqrt(1.0 + 2.0 * math.prod(branch) ** 2)
    return total


def _module_of(parameter):
    """'hidden[0]' for 'hidden[0].weight'; a bare parameter is its own layer."""
    head, dot, tail = parameter.rpartition(".")
    return head if dot and "[" in head else parameter


def _straightness(values):
    """R^2 of the least-squares line through ``values`` at 0, 1, 2, ...: 1 for a steady rise
    or fall, near 0 for no trend (0 for a constant)."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    sxy = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    syy = sum((v - mean_y) ** 2 for v in values)
    return 0.0 if syy == 0 or sxx == 0 else sxy * sxy / (sxx * syy)


def _steadiness(values):
    """How steadily ``values`` rise or fall: R^2 of the line through them or through their
    ranks, whichever is larger. A decay whose rate changes with depth (a dilated TCN of 12 tanh
    layers: flat over its first layers, 0.3 decades a layer over its last ones) is a curve, its
    R^2 0.90 or below, yet it falls layer after layer and compounds as a straight one does. (A
    chain that creeps up after one layer's gap is steady by its ranks: ``_through_depth`` also
    asks that no one layer hold half the rise.)"""
    ranks = sorted(range(len(values)), key=values.__getitem__)
    order = [0] * len(values)
    for rank, index in enumerate(ranks):
        order[index] = rank
    return max(_straightness(values), _straightness(order))


# what makes the gradients out of scale from the first step (the remedy exploding_data's)
DATA_SCALE = ("inputs or targets far from unit scale, or a loss summed where it is meant "
              "averaged, make gradients this large; so does a loss taken after an update inside "
              "the step (MAML's query loss after its inner step, an unrolled optimiser) whose "
              "rate is far too large")


def _falling(losses):
    """Whether ``losses`` (three or more, at or above zero) fell at every step."""
    return (len(losses) >= 3 and None not in losses and min(losses) >= 0
            and all(later < earlier for earlier, later in zip(losses, losses[1:])))


def _count(names, word="in"):
    return f" {word} {len(names)} layers" if len(names) > 1 else ""


SMOOTH_NAMES = {"gelu": "GELU", "silu": "SiLU", "mish": "Mish", "softplus": "Softplus",
                "elu": "ELU", "celu": "CELU", "selu": "SELU", "logsigmoid": "LogSigmoid"}


CHANCE = 0.01  # how rarely a fair coin per unit may leave a layer more dead than _chance_share


@functools.cache
@functools.lru_cache(maxsize=64)  # (a sum of up to `units` binomial terms, asked each sample)
def _chance_share(units):
    """The smallest share k / units of dead units that a fair coin per unit reaches with a
    probability below ``CHANCE`` (P(Binomial(units, 1/2) >= k)): a sign-symmetric
    initialisation leaves a unit dead with a probability of at most 1/2 (its mirror, all
    weights and bias negated, is alive on every input), so beyond this share the units did
    not die by the draw. 8 units: all 8; 16: 14; 32: 24; 64: 42."""
    tail = 0.0
    for k in range(units, -1, -1):
        tail += math.comb(units, k) / 2.0 ** units
        if tail >= CHANCE:
            return (k + 0.5) / units  # (k or more happens by chance; k + 1 or more does not)
    return 1.0


def _flat(stats):
    kind = stats["kind"]
    if kind in SMOOTH_NAMES:
        side = "positive" if kind == "logsigmoid" else "negative"
        return (f"values from the flat {side} tail of {SMOOTH_NAMES[kind]} (its slope there "
                "under 8% of its peak: almost no gradient)")
    if kind == "shrink":
        return "its dead zone's constant (no gradient there)"
    return "0 or 6 (no gradient either way)" if kind == "relu6" else "zero"


def _after(stats):
    after = stats.get("after")
    return f" (after '{after}')" if after else ""


def _also(names):
    return f"; also {_listing(names[1:])}" if len(names) > 1 else ""
