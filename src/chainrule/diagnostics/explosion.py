"""Exploding gradients and diverging training, told apart from noisy data.

A single batch can make a huge loss and gradient (an outlier target, a rare class): that is the
data, not an explosion, and the next batch is back to normal. An explosion is a property of the
weights, so it shows on every batch after it starts, and the weights themselves grow. The
tracker therefore wants a step far above everything seen before, with the loss up, and proof
that it is in the weights: the weights grew, the next step is non-finite, or it lasts
``patience`` steps. More
signs, each read on sampled steps, need no history, so an explosion present from the
first step is caught at once:

- one update more than doubled a layer's weights (measured against the layer's natural size,
  the norm PyTorch's default initialisation gives it, so a layer growing from zero is fine),
  or updates as large as the weights three samples in a row (rules.py, ``update_size``);
- a layer's gradient, relative to its weights, is ``amplification`` times that of the layers
  after it: the backward signal is amplified inside it (through time in a recurrent layer);
  for a recurrent layer that started well above its natural size, twice theirs, a median
  over three samples (rules.py, ``recurrent_amplification``: under Adam, with a tanh
  or gates bounding the output, the only trace of an explosion through time);
- such a layer's backward signal, carried back through its own Jacobians at its states, grows
  thirty times or more over the sequence, a median over three samples (rules.py,
  ``_measured_through_time``; gates.py, ``through_time_gain``: the explosion through time
  itself, where the ratio above sees its trace, scaled by the sequence's length and the head);
- the layers' gradients, against their weights, are a hundred times the square root of the
  loss, where a recurrent layer started well above its natural size (rules.py, ``outsized``:
  what Adam, whose updates stay small, makes of an explosion through time);
- the weights, multiplied across depth, amplify the signal a hundredfold while the gradients are
  as large as the weights (rules.py, ``init_gain``: a deep net initialised far too large; the
  layers of a container's item read as a residual block too, ``x + f(x)``, whose gain is not
  its layers' product);
- the loss returned to its untrained level after halving, or rose to twice it, and the
  learning rate is now well above its first value (a schedule that raises it too far).
"""

import bisect
import collections
import math
import statistics

LOSS_WINDOW = 50  # steps of recent losses a jump's loss is compared with (their median)


class ExplosionTracker:
    """Every-step history of the loss and gradient norms, in bounded memory; ``on_step``
    returns an ``Explosion`` when one is confirmed, else None."""

    def __init__(self, thresholds, weight_growth, norms_of=None):
        self.t = thresholds
        self.weight_growth = weight_growth  # callable -> (factor, layer) since the last sample
        # turns what a step's ``layer_norms`` holds into {layer: norm} (the monitor hands
        # over the tap's reads, whose layer norms are worked out only for a jump)
        self.norms_of = norms_of or dict
        # () -> whether the loss runs through another model trained alongside (the monitor's
        # _loss_moves): a jump that only lasts is then that model's doing, not proof
        self.loss_moves = lambda: False
        # recurrent layers (set by the rules): they amplify inside themselves, over time
        self.amplifying = set()
        self.recent = collections.deque()  # (norm, layer norms) of the last recent_steps steps
        self.older_max = None  # the largest total norm before them
        self.layer_reference = {}  # per-layer norms at the step that set ``older_max``
        self.losses = collections.deque(maxlen=LOSS_WINDOW)
        self.first_losses = []  # the first three
        # (first step, reference norm, per-layer growth, the reference's layer norms) of a jump
        self.elevated = None
        self.jump_losses = []  # the losses of its steps
        self.best = None  # (smoothed loss, layer norms, lr) at the lowest smoothed loss
        self.first_lr = None
        # the rates given with the last two steps (``_diverging``: the rate a loss was made at)
        self.lr_back = (None, None)
        self.diverging_steps = 0  # steps in a row the diverging condition held
        self.start_loss = None  # the untrained loss (``_untrained``)
        self.first_low = None  # the lowest of the first losses it is taken from
        self.fit_level = None  # the loss at which the run has fit its data (``fitted``)
        self.has_fit = False  # whether the loss has been there (a median of three steps)
        self.relapsed = 0  # steps in a row the loss was back near its untrained level
        # back near it: above ``unlearned_drop`` of it, the level below which the diverging
        # rule counts a loss as learned; a net thrown back to chance scores around its
        # untrained loss, half its batches below it: a CNN fit to 0 whose new data came in
        # raw pixels blew up to 1e20 and sat at 0.63-0.71 against 0.69, never 8 in a row.
        # (Set with the untrained loss: the product is not taken on every step.)
        self.relapse_level = None

    def rebase(self):
        """The gradient norm is of more parameters from this step on (layers made trainable):
        the norms before are no reference for it. The history of norms starts again (a
        jump is judged against the steps from here), the losses' goes on."""
        self.recent.clear()
        self.older_max, self.layer_reference, self.elevated = None, {}, None

    def reference(self):
        """The largest total gradient norm before the last ``recent_steps`` steps (so that a
        steady growth is measured against where it started), or before this step early on."""
        if self.older_max is not None:
            return self.older_max
        return max((norm for norm, _ in self.recent), default=None)

    def on_step(self, step, loss, norm, layer_norms, lr):
        """``layer_norms``: {layer: gradient norm}, or a callable returning it (read only when
        needed: most steps do not)."""
        found = None
        # (inline, as below: the run of steps back at the untrained loss, once it is known)
        back = self.relapse_level
        self.relapsed = (self.relapsed + 1 if back is not None and loss is not None
                         and loss >= back else 0)
        # during a jump, every step is measured against where it started
        # NOTE: reference() and _diverging's first test inline: this runs on every step, cold
        elevated, older_max = self.elevated, self.older_max
        reference = (elevated[1] if elevated else older_max if older_max is not None
                     else self.reference())
        if (reference and norm >= self.t.jump_factor * reference
                and (loss is None or not self.losses
                     or self._away_from_floor(loss, statistics.median(self.losses)))):
            if self.elevated is None:
                against = self._reference_norms()
                self.elevated = (step, reference,
                                 self._layer_growth(self._resolve(layer_norms), against), against)
                self.jump_losses = []
            self.jump_losses.append(loss)
            factor, grown = self.weight_growth()
            # (a loss through a critic trained alongside: the gradient grows as the critic
            # learns, and only the weights' growth is proof)
            lasting = (step - self.elevated[0] + 1 >= self.t.patience
                       and not self._learning_down() and not self.loss_moves())
            if (factor >= self.t.weight_growth or lasting) and (
                    not self.converged() or self.relapsed >= self.t.recent_steps
                    or self._raised_since_best(lr)):
                # (each layer against the step the jump is measured from: early on, the
                # largest of the recent steps is by now one of the jump's own, against which
                # the layer where it began looks shrunk: a GRU 10x too large went 1.3e3,
                # 1.1e5, 1.5e6, 4e4 at steps 1-4, its gradient 0.03x step 3's, 30x step 1's,
                # and the head, 1.8x step 1's, was named)
                norms = self._resolve(layer_norms)
                growth = self._layer_growth(norms, self.elevated[3])
                found = Explosion("jump", step, self._taking_part(growth), {
                    "norm": norm, "reference": reference, "since": self.elevated[0],
                    "weights": factor, "weights_layer": grown, "loss": loss}, norms)
        elif elevated is not None:
            self.elevated = None
        if self.relapsed and found is None and self.relapsed == self.t.recent_steps and \
                self.has_fit:
            found = self._undone(step, loss)  # (once a relapse: on evidence, not every step)
        if found is None and loss is not None and lr is not None:
            found = self._diverging(step, loss, layer_norms, lr)
        # remember the step (NOTE: here, not in a method of its own: this runs on every
        # step, cold, and a call is a tenth of it)
        if loss is not None:
            self.losses.append(loss)
            if len(self.first_losses) < 3:
                self.first_losses.append(loss)
                if len(self.first_losses) == 3:
                    self._untrained(self.first_losses)
            elif (not self.has_fit and 0 <= loss <= self.fit_level
                  and sorted(self.losses[i] for i in (-3, -2, -1))[1] <= self.fit_level):
                # (three steps' median: one batch of a few rows that happens to score near 0
                # has not fit the data)
                self.has_fit = True
        recent = self.recent
        recent.append((norm, layer_norms))
        if len(recent) > self.t.recent_steps:
            old, norms = recent.popleft()
            if older_max is None or old > older_max:
                self.older_max, self.layer_reference = old, norms
        return found

    def _untrained(self, first):
        """The untrained loss (``start_loss``) and the levels read from it, from the first
        three losses: their median, of those an explosion has not thrown up. A loss more than
        ``jump_factor`` squared times the first (which no update has touched) within two
        updates is the explosion's, not the data's level (a loss grows as its gradient
        squared: the jump rule's 10x of the gradient is 100x of the loss): a CNN under Adam
        at lr 3 scored 2.28, 8.9e7, 3.2e7; the median made every loss under 3e4 "fitted", and
        the units that died after the explosion, 100% of two layers, went unreported. An easy
        first batch is rarely a hundred times below the next ones. (With one or two kept, the
        lower.)"""
        base = first[0]
        thrown = self.t.jump_factor ** 2 * base
        kept = sorted([base] + [loss for loss in first[1:] if base <= 0 or loss <= thrown])
        self.start_loss = start = kept[(len(kept) - 1) // 2]
        self.first_low = kept[0]  # (the lowest of them: the untrained loss's spread)
        self.relapse_level = self.t.unlearned_drop * start
        # (or settled squared of the largest: L-BFGS's first step, 20 evaluations, took a full
        # batch's loss from 0.69 to 1e-4, the median; at 5e-8 its tanh units saturated were
        # reported; no odd first batch is a million times the loss's level)
        self.fit_level = max(self.t.settled * start if start > 0 else -math.inf,
                             self.t.settled ** 2 * max(kept))

    def _away_from_floor(self, loss, median):
        """Whether ``loss`` moved away from a minimum: up, or below zero and ``jump_factor``
        times the recent median's size (a loss with no floor, such as nll_loss of raw scores,
        falls with the weights' growth: -0.04 to -1.6e28 in ten steps of SGD, while its
        gradient norm jumped; a loss bounded below by 0 cannot)."""
        return loss > median or unbounded(loss, median, self.t.jump_factor)

    def _learning_down(self):
        """Whether the loss fell at every step since the jump began: the model is learning
        its way down from a loss that jumped with its data (a new domain, targets shifted by
        3.5 of their spread at step 50: 25.8, 24.4, 23.2, ... 8.9 at step 60 under Adam, the
        gradient 12x its earlier maximum all along, called exploding at step 52), which weights
        thrown by an explosion do not do: their loss rises or stays. A jump of the weights
        (one update doubling a layer) is still an explosion whatever the loss does, and so is a
        loss that falls below zero (one with no floor falls as the weights grow: nll_loss of
        raw scores); only a loss at or above 0, falling towards its floor, is learning."""
        losses = self.jump_losses
        # every loss a new lowest, or below the lowest before its predecessor: a fall that is
        # made of batches' losses rises a little between two of them (under Adam, 25.7, 23.1,
        # 22.9, 19.85, 19.9, 16.5, ... 8.1 at step 60, the targets shifted as above), where a
        # loss that stays or rises sets no new lowest two steps in a row
        return (len(losses) >= 2 and None not in losses and min(losses) >= 0
                and all(later < min(losses[:max(i - 1, 1)]) for i, later
                        in enumerate(losses[1:], 1)))

    def _undone(self, step, loss):
        """The jump that undid a fit, read once the loss has been back at its untrained level
        for ``recent_steps`` steps: while ``converged`` held the jump back, its steps were
        rolling into the reference it would be measured against (a CNN fit to 0 whose new data
        came in raw pixels: gradient norms 1e6 from step 35, loss up to 1e20, the reference
        1e6 by step 43, the jump seen at 46 in the head, against 1e24). Those steps are the
        last ``recent_steps`` and the reference is still the largest norm before them."""
        reference, recent = self.older_max, self.recent
        if not reference or not recent:
            return None
        threshold = self.t.jump_factor * reference
        above = [i for i, (norm, _) in enumerate(recent) if norm >= threshold]
        if not above:
            return None
        peak = max(above, key=lambda i: recent[i][0])
        norms = self._resolve(recent[peak][1])
        factor, grown = self.weight_growth()
        return Explosion("jump", step, self._taking_part(self._layer_growth(norms)), {
            "norm": recent[peak][0], "reference": reference,
            "since": step - len(recent) + above[0], "weights": factor,
            "weights_layer": grown, "loss": max(loss, *list(self.losses)[-len(recent):])},
            norms)

    def _raised_since_best(self, lr):
        """Whether the learning rate is ``lr_rise`` times the one the lowest loss (a median of
        five) was made at, or more: a schedule raised it after the run fit. What ``converged``
        holds back is Adam's spike at a minimum, at the rate that made the minimum; a jump after
        the rate was raised is the schedule's, and waiting for the loss to sit at its untrained
        level for ``recent_steps`` steps only delays it (ExponentialLR at gamma 1.25 fit a CNN
        to a loss of 0 by step 17, seed 6; at step 34, the rate 28x that of its best, the
        loss went to 667 and 9e11 with the gradient 300x its earlier maximum: found at 38 by
        the diverging rule). Read only during a jump."""
        best = self.best
        return (lr is not None and best is not None and best[2] is not None and best[2] > 0
                and lr >= self.t.lr_rise * best[2])

    def converged(self):
        """Whether the loss has been at ``settled`` times its untrained level or below: the run
        fit its data. After that, a jump of the gradient norm with the loss is what Adam does
        at a minimum (its second moments decay with the gradient, until a tiny gradient makes a
        large step: a residual CNN that reached a loss of 0 in float32 threw it to 75 and back
        to 3e-8 within 10 steps, its gradient norm 270x its early maximum), and the ratio of
        the norms compares numbers near 0. It counts as an explosion once it has undone the
        fit: the loss at or above its untrained level for ``recent_steps`` steps in a row (or
        a non-finite step after it, ``on_nonfinite``)."""
        return self.has_fit

    def fitted(self, loss):
        """Whether ``loss`` is at ``settled`` times the untrained loss or below, or
        ``settled`` squared of the largest of the first three (the rules' ``_fitted``)."""
        level = self.fit_level
        return loss is not None and level is not None and 0 <= loss <= level

    def on_nonfinite(self, step):
        """A non-finite step right after a jump confirms the jump."""
        if self.elevated is None:
            return None
        first, reference, growth, _ = self.elevated
        return Explosion("jump", step, self._taking_part(growth),
                         {"norm": math.inf, "reference": reference, "since": first})

    def _reference_norms(self):
        """The layer norms (as stored) of the step that set ``reference()``."""
        if self.older_max is None and self.recent:
            return max(self.recent, key=lambda entry: entry[0])[1]
        return self.layer_reference

    def _layer_growth(self, norms, reference=None):
        """Each layer's norm ({layer: norm}, resolved) against its value at the reference
        step (``reference``: that step's layer norms as stored; by default the one that sets
        ``reference()`` now)."""
        reference = self._resolve(self._reference_norms() if reference is None else reference)
        return {name: norm / max(reference.get(name, 0.0), 1e-30)
                for name, norm in norms.items() if math.isfinite(norm)}

    def _taking_part(self, growth):
        """The layers whose own gradient norm grew, by at least 1 / ``jump_factor`` of the most
        grown one's growth (that one first). Which of them the growth starts in is the rules'
        call: they know the forward order and which layers are recurrent."""
        if not growth:
            return []
        most = max(growth, key=growth.get)
        floor = max(growth[most] / self.t.jump_factor, 1.0)
        # a recurrent layer whose own gradient jumped ``jump_factor`` times takes part however
        # much more a smaller layer's grew: the head after a ReLU RNN whose recurrence was 3x
        # too large grew 5.5e21x against its gradient of 22 at step 1, the RNN 4e20x against
        # its 905, and the RNN, where the growth through time began, was left out)
        amplifying, jump = self.amplifying, self.t.jump_factor
        return [most] + [n for n, g in growth.items() if n != most and (
            g > floor or (n in amplifying and g >= jump))]

    def _resolve(self, layer_norms):
        if callable(layer_norms):
            return layer_norms()
        return self.norms_of(layer_norms) if layer_norms else {}

    def _diverging(self, step, loss, layer_norms, lr):
        """The loss is back at its untrained level after halving, while the lr is well above
        its first value."""
        if loss is None or lr is None:
            return None
        if self.first_lr is None:
            self.first_lr = lr
        # the rate a loss was made at is one given with an earlier step: the rate given with a
        # step is its own update's when the monitor is stepped before the scheduler, the next
        # update's when after, and either way no update at it has made that step's loss yet
        # (a TinyGPT cosined to 0 and restarted at 0.3: its lowest median of five, at the
        # restart's step, was taken as made at 0.3, so the loss back at 3x its untrained level
        # at 0.3 seemed back at the rate of its best, and was let go, seed 9)
        two_back, one_back = self.lr_back
        self.lr_back = (one_back, lr)
        if len(self.losses) < 4:
            return None
        # a median of five: of three, two outlier batches in a row (heavy-tailed targets under
        # MSE) made a loss at twice its start three steps running; a rise lasts
        losses = self.losses
        smooth = sorted((losses[-4], losses[-3], losses[-2], losses[-1], loss))[2]
        first = self.start_loss  # (known: four losses are)
        if self.best is None or smooth < self.best[0]:
            # (the lower of the two rates before this step's: the later of them may already be
            # a restart's, under the convention that gives each step the next update's rate)
            made = (one_back if two_back is None or one_back < two_back else two_back)
            self.best = (smooth, layer_norms, lr if made is None else made)
        best, layers_best, best_lr = self.best
        # back at the untrained level after halving, or well above it at once: a schedule
        # that raises the rate early undoes a fall too small to halve (a third: 0.71 -> 0.51,
        # then 2.6 and up from step 24 of an lr growing 1.25x a step, seen only at 34)
        t = self.t
        level = first if best <= t.unlearned_drop * first else t.overshoot * first
        # or at the untrained level after any fall beyond the first losses' spread, where the
        # updates have thrown the weights too (below): Adam's range tests on a GRU fell only to
        # 0.61-0.78 of their untrained loss before the rate, 1.3x a step, threw the recurrent
        # weights 4-6x their size in a dozen steps and the loss back above its start (seeds
        # 9, 10, shift 505), and waited for twice that level until step 50 or after
        floor = first if best < self.first_low else level
        back = (self.first_lr and first > 0 and lr >= t.lr_rise * self.first_lr
                and smooth >= floor)
        strict = back and smooth >= level
        if back and len(self.losses) >= t.recent_steps:
            # and above the loss's own noise: a loss that is mostly noise (heavy-tailed targets
            # under MSE: a quarter of its batch losses above the untrained level, late in the
            # run too) is back there by chance, while a diverging loss rises above nearly all
            # it was before (a ramp: above all but its own last steps); read only when the rest
            # holds (rare)
            ordered = sorted(self.losses)
            above = smooth >= ordered[int(t.loss_quantile * (len(ordered) - 1))]
            # and so is the median of the latest three, this step's in: a rise reaches the
            # latest batches, while a cluster of outliers fills a median of five for a step or
            # two after it has passed (heavy-tailed targets under MSE, a loss near 8: 62, 41
            # and 57 in a row, then 5 and 7, held a median of five above the 0.9 quantile and
            # 7.5x a lucky untrained 5.5 three steps running); a ramp holds both at once
            latest = sorted((losses[-2], losses[-1], loss))[1]
            strict = strict and above and latest >= level
            if not above:
                # a loss that diverged early and swings there (warm restarts whose every cycle
                # climbs to 8x the first rate: 1 to 7.5 from step 8 on, 2.7x the untrained
                # level as a median) fills its own last 50 with the divergence and is never
                # above their 0.9 quantile; the median of the last ``recent_steps`` at the
                # level says the same (a cluster of outliers is over within a few steps), with
                # the weights thrown as proof (below)
                recent = sorted(list(losses)[-t.recent_steps + 1:] + [loss])
                above = recent[(len(recent) - 1) // 2] >= floor  # (the lower middle one)
            back = above and latest >= floor
        self.diverging_steps = self.diverging_steps + 1 if strict else 0
        # a state, not one odd batch: ``patience`` steps in a row, or one where the updates
        # have thrown the weights too, a layer ``weight_growth`` x its size since the last
        # sample (read only when the loss is back: rare). A cluster of outlier batches holds the
        # medians up for a step or two with the weights where they were (MSE on Student-t
        # targets under one-cycle: 1.02x); a rate that undoes the fit throws them (range tests
        # under Adam 4.8x to 6.6x at the first step back, a warm-up never capped 16x), and the
        # patience cost it two steps past the median of five's own two. What only the weaker
        # readings above found back needs the weights thrown
        if not back:
            return None
        factor, grown = self.weight_growth()
        if self.diverging_steps < t.patience and factor < t.weight_growth:
            return None
        layers_best, norms = self._resolve(layers_best), self._resolve(layer_norms)
        growth = {name: norm / max(layers_best.get(name, 0.0), 1e-30)
                  for name, norm in norms.items() if math.isfinite(norm)}
        # the layer whose weights the updates threw takes part (the rules' ``_explosion``), as
        # in a jump: the gradients against those of the best loss grow most in the head,
        # whose gradient is the loss's residual, near 0 at a fit (a GRU restarted at Adam 1.0:
        # its recurrent weights 6.5 -> 39 by step 204, its gradient 0.25 -> 1.3; the head's
        # weights 2.4 -> 5, its gradient 0.02 -> 1.3, and the head alone was named)
        return Explosion("diverging", step, self._taking_part(growth), {
            "loss": smooth, "first_loss": first, "best_loss": best, "lr": lr,
            "first_lr": self.first_lr, "best_lr": best_lr, "weights": factor,
            "weights_layer": grown}, norms)


class Explosion:
    """A confirmed explosion found by the tracker: ``kind`` ("jump" or "diverging"), the step,
    the ``layers`` taking part (the most grown first; ``layer``: that one, or None), the
    figures for the message, and the layers' gradient norms at the step ({} if not read)."""

    def __init__(self, kind, step, layers, figures, norms=None):
        self.kind, self.step, self.layers, self.figures = kind, step, list(layers), figures
        self.layer = self.layers[0] if self.layers else None
        self.norms = norms or {}


def weight_growth(layers, natural):
    """{layer: how many times larger its weights are after the update than before}, the before
    measured against the layer's natural size (``natural``: layer -> norm), so that a layer
    growing from zero or from a small initialisation does not count."""
    found = {}
    for name, stats in layers.items():
        before, after = stats.get("weight_before"), stats.get("weight_matrices")
        if before is None or after is None or name not in natural:
            continue
        found[name] = after / max(before, natural[name])
    return found


def unbounded(loss, reference, factor):
    """Whether ``loss`` is below zero by ``factor`` times the size of ``reference`` (an earlier
    loss, or the untrained one) or more: a loss with no floor falls with the weights' growth,
    while one that may be negative (a log-likelihood) falls by a few times its size."""
    return loss < 0 and -loss >= factor * abs(reference)


def amplified(order, rho, factor):
    """Layers whose gradient/weight ratio ``rho`` is ``factor`` times the median of the layers
    after them in the forward ``order``: there the backward signal is amplified."""
    # from the loss backwards, the layers after each one kept sorted: one insertion per layer,
    # not a median of a new list per layer
    found, after = [], []
    for name in reversed(order):
        if name not in rho:
            continue
        if after:
            reference = reference_ratio(after, factor)
            if reference > 0 and rho[name] >= factor * reference:
                found.append(name)
        bisect.insort(after, rho[name])
    found.reverse()
    return found


def reference_ratio(after, factor):
    """The median of the gradient/weight ratios ``after`` (sorted), leaving out those
    ``factor`` times below the largest: a layer whose gradient collapsed (vanishing, behind
    saturated units or a saturated softmax) is no measure of the signal flowing back, and
    where such layers are most of those after a normal one, their median made it look
    amplified (an embedding under query/key projections whose logits were 400x too large:
    515 to 7500x the median of query, key and head, while 0.02x the head's alone; 1600x too
    large: 1e6 to 4e10x). The ratio
    a layer is compared with is then that of the layers still learning; an amplification is
    still found at the layer nearest the loss whose ratio is ``factor`` times theirs."""
    kept = after[bisect.bisect_left(after, after[-1] / factor):] if after[-1] > 0 else after
    middle = len(kept) // 2
    return kept[middle] if len(kept) % 2 else (kept[middle - 1] + kept[middle]) / 2
