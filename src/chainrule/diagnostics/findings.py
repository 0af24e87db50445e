"""What a diagnosis says: ``Finding``, the thresholds that decide when rules fire, and the
remedies. docs/diagnostics.md gives the reason for every number."""

import dataclasses
import math

_MAY_BE_ZERO = {"depth_from", "plateau_steps"}  # (whole numbers that may be 0)


@dataclasses.dataclass
class Thresholds:
    """When each rule fires. Pass your own to ``GradientMonitor(thresholds=...)``."""

    patience: int = 3  # samples in a row a layer condition must hold (vanishing, dead, ...)
    vanishing_ratio: float = 1e-5  # a layer's gradient norm below this x the largest layer's
    vanishing_floor: float = 1e-12  # or below this, absolutely
    depth_decay: float = 1e-3  # vanishing through depth: the first layer's gradient norm this x
    # the largest's or less, rising steadily layer by layer to it...
    depth_layers: int = 6  # ...over at least this many layers (in forward order)...
    depth_fit: float = 0.9  # ...its log a straight line in depth (R^2 at least this)...
    depth_unlearned: float = 0.85  # ...while the loss is still this x its untrained level or
    # more, judged from step depth_from on
    depth_from: int = 16
    depth_early: float = 1e-4  # ...or before step depth_from, this x or less (deep stacks
    # that train rise up to 3.6 decades in their first steps; thirty Xavier ReLU convolutions
    # that never train, 5 decades around vanishing_ratio, which each sample's ratio straddles)
    depth_moved: float = 0.1  # ...unless the first layer's update is this x the largest
    # layer's or more, against their weights (Adam moves every layer alike: they learn)
    underflow_above: float = 1e-2  # an exactly-zero gradient under a layer with this or less
    # is named as a possible float16 underflow too (a float16 sigmoid MLP: 5.5e-4, then 0)
    jump_factor: float = 10.0  # exploding: total gradient norm above this x its earlier maximum
    recent_steps: int = 8  # ...the maximum over every step but the last this many
    weight_growth: float = 2.0  # exploding: a layer's weights grew by this factor in one update
    progress: float = 0.9  # ...unless the loss after it is this x the one before it or less
    fall_growth: float = 2.0  # exploding: a loss below zero this x further below at each of
    # patience samples (recent_steps apart or more), falling no slower: no floor
    update_size: float = 1.0  # exploding: updates this x the weights, patience samples in a row
    oversized: float = 10.0  # exploding: named where weights are this x their natural size
    # and this x those of every layer before it
    amplification: float = 100.0  # exploding: a layer's gradient/weight this x the layers after it
    outsized: float = 1e2  # exploding: the layers' median gradient/weight this x sqrt(loss)
    recurrent_size: float = 1.65  # ...where a recurrent layer started this x its natural size
    recurrent_amplification: float = 2.0  # exploding: such a layer's gradient/weight this x the
    # layers after it (a median over patience samples)
    data_loss: float = 100.0  # exploding: a doubling update within the first data_steps steps
    data_steps: int = 3  # ...of a run whose first loss was this or more blames the data's scale
    data_rho: float = 10.0  # exploding: every layer's gradient this x its weights before any
    # update, and the loss jump_factor x its first within data_steps updates (rules.py,
    # ``_thrown_from_the_start``); also where a doubling at the data's scale names its layers
    scale_kept: float = 0.9  # stalled: a loss that started at data_loss or more still this x
    scale_from: int = 16  # ...its untrained level from this step on, patience samples in a row
    scale_fell: float = 0.75  # ...or a later loss below one of the first recent_steps in no more
    # than this share of their pairs (batches drawn alike: 0.5; a run that learns: near 1)
    init_gain: float = 100.0  # exploding: the layers' weights amplify the signal this x...
    init_rho: float = 0.5  # ...and their median gradient/weight is this or more
    unlearned_drop: float = 0.5  # diverging: the loss had fallen below this x its first level...
    lr_rise: float = 2.0  # ...and is back there, with the lr this x higher than at its best
    overshoot: float = 2.0  # diverging: or the loss is this x its first level (worse than
    # untrained, fallen before or not), with the lr lr_rise x higher...
    climb: float = 4.0  # exploding (a climbing loss): the median of the last climb_steps losses
    # this x its untrained level and x the first third of the last 50, whose thirds rise, the
    # loss never having halved (rules.py, ``_climbing``); a student distilled from a teacher
    # trained alongside climbs 2.25x (its untrained KL near 0, the target sharpening)
    climb_steps: int = 10  # ...judged once twice this many losses are in
    climb_recent: int = 5  # ...the median of this many latest losses (half of climb_steps: a
    # steady rise is not read five steps late)
    climb_moved: float = 1e-2  # ...unless the largest update ratio of any sample times the
    # steps so far is under this: the weights cannot have moved this share of their size
    climb_growth: float = 1.25  # ...and some layer's weights this x their size at the first
    # sample (against their natural size): an ascent moves the weights (1.68x at the least, a
    # CNN under Adam at 1e-3); a student chasing a teacher trained alongside: 1.07x at 6.8x
    climb_steep: float = 2.0  # ...and, where no layer grew weight_growth x, the squared gradient
    # norm per unit of loss (a median of recent_steps steps) this x that of the first three
    # steps: an ascent climbs onto steeper ground (3.1x at the least, a TinyGPT under
    # maximize=True), a model chasing moving targets keeps its slope (a student: 1.5x at most)
    loss_quantile: float = 0.9  # ...and at or above this quantile of the last 50 losses (once
    # recent_steps are in)
    dead_fraction: float = 0.5  # dead: more than this share of units inactive on every input
    # dead: units after a layer whose weights are under this x their natural size are not
    # counted as dead: off or on by their biases alone, the signal through the weights is a
    # vanishing share (max-norm at 1e-3; see docs/diagnostics.md, vanishing)
    shrunk: float = 1e-2
    min_inputs: int = 16  # ...judged on at least this many inputs
    saturation_eps: float = 0.02  # saturated: within this of a sigmoid/tanh asymptote
    saturated_fraction: float = 0.5  # saturation: more than this share of outputs saturated
    # ...and, at the model's output, more than this share of the saturated values on the wrong
    # side of their targets, where a loss compares them (confident and wrong; trained: ~0)
    confident_wrong: float = 0.25
    sampled_saturated_fraction: float = 0.875  # ...of a sampled softmax's rows (noise added to
    # its scores: Gumbel-softmax), pooled over its samples: fewer than one row in eight near
    # enough a tie to pass a gradient on a draw. Gumbel-VAEs: tau 0.1 59-65%, 0.03 81% (both
    # train), tau 0.01 92% and 0.001 99% (learn little or nothing; docs/diagnostics.md)
    softmax_margin: float = 12.0  # saturation: a softmax sharp from the first sample counts
    # where its saturated rows' two largest scores are this far apart (median; trained: 4-7)
    memory_shut: float = 0.5  # vanishing through time: more than this share of an LSTM's
    # forget gate (a GRU's update gate) within saturation_eps of 0...
    memory_open: float = 0.05  # ...and fewer than this share within it of 1 (a gate held shut,
    # not one spread wide: weights too large shut and open it alike, 53% and 47%)
    gate_saturated_fraction: float = 0.22  # ...of an LSTM's/GRU's gates, where its weights
    # started recurrent_size x their natural size or more
    stall_low: float = 1e-6  # stalled: update below this x the weights while a gradient flows
    decayed_lr: float = 0.1  # no stall check once the lr is below this x its peak
    stall_alike: float = 0.1  # ...a minority stalls only below this x the others' update/grad
    lr_slowed: float = 1e-2  # schedule: the lr at or below this x its peak...
    slowed_share: float = 0.8  # ...for this x the steps run before it fell there
    lr_collapsed: float = 1e-3  # schedule: or at or below this x its peak...
    collapsed_share: float = 0.25  # ...for this x the steps run before it fell there
    geometric_share: float = 0.1  # ...or, where it fell by one ratio at every step since its
    # peak (a per-epoch gamma stepped per batch), at lr_slowed for this x the steps before
    level_share: float = 0.65  # ...or at lr_slowed, unchanged (the fall stopped), for this x
    # the steps run before it took that value
    plateau_steps: int = 4  # ...unless the lr's first cut came this many steps after the lowest
    # loss (a schedule that follows the loss: ReduceLROnPlateau)
    settled: float = 1e-3  # no stall check once a layer's gradient is below this x its peak
    starved: float = 1e-2  # vanishing from the loss: every layer's gradient below this x its
    # peak while the loss is no lower than untrained (a minimax GAN generator: 6e-3 to 1e-7)
    decay_shrink: float = 3e-3  # weights decayed: updates that take this share of the weights'
    # norm (3x the 1e-3 a healthy update moves them in all)...
    decay_aligned: float = 0.5  # ...with at least this share of their own size against them
    decay_fallen: float = 0.5  # ...patience samples in a row, or one sample once the weights'
    # norm has fallen to this x the last sample's: the steps between were the streak (a decay
    # raised late took 93% of a fitted MLP's weights in 50 steps; healthy decay 0.25%)
    decay_kept: float = 0.1  # ...unless the recent loss is below this x the untrained loss:
    # the decay shrinks a fitted model that keeps its fit (Adam with weight_decay=1e-3 took 0.3%
    # a step from an MLP that had memorised 16 rows, its loss 1e-3; a decay that outweighs the
    # gradient leaves the loss at or back near its untrained level)

    def __post_init__(self):
        # (a count of samples or steps below 1 made no rule fire, or failed deep inside one)
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"Thresholds.{field.name} must be a number, got {value!r}")
            least = 1 if field.type in (int, "int") and field.name not in _MAY_BE_ZERO else 0
            if not math.isfinite(value) or value < least:
                raise ValueError(f"Thresholds.{field.name} must be a finite number of at least "
                                 f"{least}, got {value!r}")


@dataclasses.dataclass
class Finding:
    """One diagnosis: ``rule`` (vanishing, exploding, dead, saturation, stalled, nonfinite, or
    frozen for information), the ``layer`` where it starts (None for the whole model), the
    ``step`` it was first seen at, and the ``message``, which names the remedy. ``layers``: every
    layer with the same cause, in forward order (the first is ``layer``). ``severity``: "alarm",
    or "info" for what may well be intended (frozen layers). ``origin``: for nonfinite, the
    ``Origin`` (op, pass, file, line, layer). ``remedy``: the key of its remedy in
    ``REMEDIES`` (None where the message words its own), so that a front end can name its own
    means to it (``chainrule train`` names flags: train/flag_advice.py)."""

    rule: str
    layer: str | None
    step: int
    message: str
    layers: list = dataclasses.field(default_factory=list)
    severity: str = "alarm"
    origin: object = None
    remedy: str | None = None

    def __post_init__(self):
        if not self.layers and self.layer is not None:
            self.layers = [self.layer]

    def __str__(self):
        tag = self.rule if self.severity == "alarm" else f"{self.rule}, info"
        return f"[{tag}] step {self.step}: {self.message}"


REMEDIES = {
    "vanishing": "use ReLU-family activations with Kaiming initialisation "
                 "(nn.init.kaiming_normal_), add normalisation (LayerNorm/BatchNorm) or residual "
                 "connections, or use fewer layers",
    "shrunk": "find what shrinks the weights after each step (a max-norm bound: renorm "
              "to about 3, not 1e-3; weight decay: 1e-4 to 1e-2 with SGD, 1e-2 to 0.1 with "
              "AdamW) and let them keep their natural size",
    "uniform_targets": "give cross_entropy a label_smoothing well below 1 (0.1 is usual: "
                       "1.0 makes every target uniform), or soft targets that differ between "
                       "classes",
    "dead_zero_norm": "initialise the normalisation's weight at 1 (its default; "
                      "nn.init.ones_): zero it only for the last norm of a residual branch, "
                      "whose output is added to the skip path",
    "frozen_norm": "train with the batch norms in training mode (model.train(); no .eval() on "
                   "them), so that each batch normalises them; keep them frozen only to fine-tune "
                   "a model that was trained with them",
    "exploding": "lower the learning rate, clip the gradient norm "
                 "(nn.utils.clip_grad_norm_(params, 1.0)), add normalisation, or warm up the "
                 "learning rate",
    "exploding_data": "standardise the inputs and the regression targets, each by its own "
                      "training mean and std (not one's by the other's; pixels divided by "
                      "255), and average the loss over the batch (reduction='mean'); only "
                      "then lower the learning rate or clip the gradient norm "
                      "(nn.utils.clip_grad_norm_(params, 1.0)) if it still explodes; where "
                      "the loss follows an inner update (MAML), lower that inner rate first",
    "stalled_scale": "standardise the regression targets (and the inputs), each by its own "
                     "training mean and std, and map the predictions back: updates of a "
                     "healthy size cannot carry the outputs that far; a larger learning rate "
                     "would only make the early steps explode. Behind a bounded output (a "
                     "sigmoid's 0..1, a tanh's -1..1: images, masks) scale the targets into its "
                     "range instead (8-bit pixels / 255)",
    "exploding_recurrent": "clip the gradient norm (nn.utils.clip_grad_norm_(params, 1.0)), "
                           "initialise the recurrent weights smaller (orthogonal, gain <= 1), "
                           "backpropagate through fewer time steps, or use an LSTM/GRU",
    "exploding_loop": "make the loop's gain per call near 1: a smaller step (an Euler step "
                      "dt with dt x the number of steps the time span meant, such as 1/steps), "
                      "fewer calls, or a bounded activation (tanh) in the vector field, and "
                      "clip the gradient norm (nn.utils.clip_grad_norm_(params, 1.0))",
    "exploding_layer": "initialise this layer's weights smaller, normalise what enters it "
                       "(LayerNorm), and clip the gradient norm "
                       "(nn.utils.clip_grad_norm_(params, 1.0))",
    "exploding_repeated": "initialise the repeated layer's weights so that its gain stays "
                          "below 1 (nn.init.orthogonal_ with gain < 1, or "
                          "nn.utils.parametrizations.spectral_norm), put a normalisation "
                          "(LayerNorm) or a residual connection between its calls, or apply "
                          "it fewer times; clip the gradient norm "
                          "(nn.utils.clip_grad_norm_(params, 1.0))",
    "exploding_depth": "scale each residual branch down before it is added to the stream "
                       "(by 1/sqrt(the number of blocks), or initialise its last layer or "
                       "normalisation weight at zero: Fixup, SkipInit, zero-init BatchNorm), "
                       "or normalise inside each block (pre-norm LayerNorm/BatchNorm); clip the "
                       "gradient norm (nn.utils.clip_grad_norm_(params, 1.0))",
    "exploding_init": "initialise the weights smaller (PyTorch's default, or "
                      "nn.init.kaiming_normal_ for ReLU layers), or add normalisation "
                      "(LayerNorm/BatchNorm) after each layer, and clip the gradient norm "
                      "(nn.utils.clip_grad_norm_(params, 1.0))",
    "schedule_zero": "give the schedule the run's length in the steps it is stepped by (or step "
                     "it once per epoch), and check its gamma or lambda: a rate of 0 trains "
                     "nothing",
    "schedule": "step the scheduler once per epoch, not after every batch, or count its "
                "periods in batches (step_size, milestones and T_max times the batches per epoch, "
                "ExponentialLR's gamma to the power 1 / batches per epoch)",
    "diverging": "check the learning-rate schedule (its peak, a gamma above 1, stepping it per "
                 "batch instead of per epoch), lower the learning rate, or clip the gradient norm",
    "negative_lr": "floor the schedule at 0 (a LambdaLR's function as max(0.0, ...)), and end "
                   "a decay where the run ends; to maximise a score, minimise -score or pass "
                   "maximize=True to the optimizer",
    "climbing": "minimise the loss: call loss.backward() on the loss itself, not its negative "
                "(to maximise a score, minimise -score), and let optimizer.step() subtract the "
                "gradient (a hand-written update is p -= lr * grad); check maximize=False, and "
                "that a hand-written weight decay shrinks the weights (p.mul_(1 - lr * wd))",
    "multiplied": "make a hand-written weight decay shrink the weights (p.mul_(1 - lr * wd), "
                  "or the optimizer's weight_decay), and check the sign of every penalty on the "
                  "weights and of anything else that scales them after the step",
    "raised_lr": "lower the schedule's peak learning rate (CyclicLR's max_lr, OneCycleLR's "
                 "max_lr, the rate a warm-up ends at), or warm up for longer",
    "unregistered": "hold layers in nn.ModuleList or nn.ModuleDict (a tensor to train in "
                    "nn.Parameter) and build the optimizer after that",
    "momentum": "use a momentum below 1 (SGD's usual 0.9), or a dampening",
    "beta2": "use a beta2 near 1 (Adam's default betas are (0.9, 0.999)): it averages the "
             "squared gradients over about 1 / (1 - beta2) steps",
    "eps": "use Adam's default eps (1e-8) or one far below the gradients' size, and check "
           "that no clip (nn.utils.clip_grad_norm_) shrinks the gradients far below their norm",
    "stale_closure": "call optimizer.zero_grad() at the start of the closure, before "
                     "loss.backward() (def closure(): optimizer.zero_grad(); loss = ...; "
                     "loss.backward(); return loss)",
    "stale": "call optimizer.zero_grad() once per step, before the backward (to accumulate "
             "over micro-batches on purpose, after each optimizer.step())",
    "zero_signal": "find what sets every value to zero before that layer (Dropout with p=1, a "
                   "multiplication by a mask of zeros, an activation whose units are all off) and "
                   "fix it",
    "zero_weights": "initialise the layer randomly (its default init, or nn.init.xavier_uniform_); "
                    "zeros are safe only for a layer whose output is added to a path that "
                    "carries the signal (a residual branch's last layer, a head)",
    "constant_inputs": "check the data before the model: a mask or a filter that zeroes the batch, "
                       "a normalisation dividing by an inf (x / x.max() with one inf in x), a "
                       "placeholder tensor fed instead of the batch",
    "drowned_input": "initialise that layer at the size of the others it is added to (learned "
                     "positional embeddings as the token embeddings, std 0.02 in GPT-2), or "
                     "scale it down",
    "probabilities_as_logits": "give the loss the raw scores: remove the softmax (or sigmoid) "
                               "at the model's end (F.cross_entropy applies log_softmax "
                               "itself, F.binary_cross_entropy_with_logits its sigmoid), or "
                               "give F.nll_loss torch.log of the probabilities",
    "starved_by_the_loss": "find what in the loss went flat: a sigmoid or softmax saturated "
                           "inside it (a GAN generator minimising log(1 - D(G(z))) against a "
                           "discriminator that wins: minimise -log D(G(z)) instead, the "
                           "non-saturating loss; compute log-probabilities with "
                           "F.logsigmoid/F.log_softmax), a clamp or a margin the outputs "
                           "stay beyond",
    "unbounded_loss": "give the loss what it expects: F.cross_entropy the raw scores (or "
                      "nll_loss their F.log_softmax), kl_div log-probabilities as its input, "
                      "binary cross-entropy and soft-target cross-entropy targets within 0..1 "
                      "(masks read as 0/255 divided by 255, a mixing weight kept in [0, 1]); "
                      "a loss to be minimised needs a floor (bound or penalise a term it "
                      "maximises: a WGAN critic needs a gradient penalty or weight clipping)",
    "large_update_oversized": "initialise the layer named out of scale at its natural size "
                              "(its default init), normalise what enters it (LayerNorm), and "
                              "clip the gradient norm (nn.utils.clip_grad_norm_(params, 1.0))",
    "large_update": "lower the learning rate (for a loss summed over the batch, the rate that "
                    "suited its mean divided by the batch size), or clip the gradient norm",
    "dead": "lower the learning rate, initialise biases at zero or slightly positive, or use "
            "LeakyReLU/GELU instead of ReLU",
    "dead_tail": "initialise biases at zero (a bias far from zero holds the units in the flat "
                 "tail), normalise the layer's inputs (LayerNorm/BatchNorm before the activation), "
                 "or lower the learning rate",
    "dead_zone": "lower the shrink's lambd or the threshold, or initialise the biases before it "
                 "near zero (its dead zone holds every input: "
                 "no gradient passes), or scale its inputs up to the zone's width",
    "through_time": "read each sequence at its last real step (out[torch.arange(N), lengths - "
                    "1], or pack_padded_sequence and the final hidden state) rather than at the "
                    "last position of right-padded batches, pad on the left, use a bidirectional "
                    "layer or attention pooling over the real steps, or shorten the sequences",
    "memory_shut": "start the forget gate open: its bias at +1 (PyTorch orders an LSTM's gates "
                   "input, forget, cell, output: bias_ih and bias_hh [hidden:2*hidden]; a GRU's "
                   "update gate is its [hidden:2*hidden] too), and check what set it negative",
    "saturation": "initialise weights smaller (nn.init.xavier_uniform_), normalise inputs, add "
                  "LayerNorm before the activation, or use ReLU-family activations",
    "saturated_output": "start the output activation's inputs small: initialise the layers "
                        "that make them smaller (two embeddings whose dot product is the score "
                        "at std 0.01 to 1/sqrt(dim) each, not 1 or more; the head at its "
                        "default), scale a dot product by 1/sqrt(dim), or give the loss the "
                        "scores themselves (F.binary_cross_entropy_with_logits, "
                        "F.cross_entropy) instead of the activation's output",
    "saturation_bias": "initialise the bias of the layer before it near zero (PyTorch draws it "
                       "within +-1/sqrt(fan_in)); a gate meant to start mostly shut or open "
                       "needs a bias of about -1 to -2 or +1 to +2, not one past the asymptote",
    "softmax_bias": "initialise the bias of the layer that makes the scores at zero (a router's "
                    "or a gate's: a prior for one position belongs in a small offset, not one "
                    "that decides every row), and keep a learned routing balanced (an "
                    "auxiliary load-balancing loss)",
    "softmax": "scale the scores by 1/sqrt(head dim), initialise the query and key (or "
               "whatever makes the scores) smaller (nn.init.xavier_uniform_), or normalise "
               "their inputs (LayerNorm; a LayerNorm on query and key)",
    "softmax_scores": "initialise the layer that makes the scores smaller "
                      "(nn.init.xavier_uniform_), normalise its inputs (LayerNorm), or divide "
                      "the scores by a temperature above 1",
    "softmax_temperature": "raise the temperature (F.gumbel_softmax's tau: start at 1 and anneal "
                           "it slowly, to no lower than about 0.5), or make the scores it "
                           "divides smaller",
    "stalled": "check that this layer's parameters are in the optimizer and that their learning "
               "rate is not zero (optimizer.param_groups)",
    "stalled_all_zero": "call optimizer.zero_grad() before loss.backward(), not between "
                        "backward() and optimizer.step(); check that optimizer.step() is "
                        "called every step (for every optimizer), that the optimizer was built "
                        "on this model's parameters (all of them, not only the head's), and "
                        "that no learning rate is zero",
    "stalled_zero_lr": "give the optimizer a learning rate above 0 (optim.Adam(params, lr=1e-3)); "
                       "a schedule or warm-up that starts at 0 must rise above it",
    "stalled_zero_cycles": "a cosine or cyclic schedule counts the times it is stepped: "
                           "stepped after every batch, give it the run's total steps "
                           "(CosineAnnealingLR(T_max=epochs * batches_per_epoch)) or step it "
                           "once per epoch, and keep its floor above 0 (eta_min)",
    "stalled_all_tiny": "check what shrinks every update: nn.utils.clip_grad_norm_ with a "
                        "max_norm far below the gradient's norm, Adam's eps far above the "
                        "gradient (its default is 1e-8), or a learning rate far too small",
    "decaying": "lower the weight decay (AdamW's usual 0.01-0.1 at a rate near 1e-3; SGD's "
                "1e-4 to 5e-4; lr x weight_decay should stay far below 1e-3 per step), or move "
                "an L2 penalty out of the loss",
    "frozen": "nothing, if it is intended; otherwise call requires_grad_(True) on them and add "
              "them to the optimizer",
    "inf_update": "give the optimizer an eps the weights' dtype holds (eps=1e-4 or more in "
                  "float16), or train float32 weights (float32 master weights and optimizer "
                  "state, a GradScaler for a float16 forward)",
    "nan_update": "give the optimizer a positive eps (Adam's default is 1e-8) and keep any norm "
                  "an update divides by away from zero (max(norm, eps))",
    "no_gradient_model": "look for a .detach(), .data, a NumPy round trip or torch.no_grad() "
                         "between the model's output and the loss (the model's parameters "
                         "require grad, so it is meant to train; call requires_grad_(False) "
                         "on a model that is only read)",
    "no_gradient": "look for a .detach(), .data, a NumPy round trip or torch.no_grad() between "
                   "this layer and the loss, or remove the layer if it is unused",
}


def remedy(key):
    return REMEDIES[key]


def fmt(value):
    return f"{value:.2e}"
