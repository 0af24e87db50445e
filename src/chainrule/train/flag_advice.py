"""The remedy of a diagnostics finding in the training command's own terms: the flag to change.

A finding's remedy is written for code (``nn.utils.clip_grad_norm_(params, 1.0)``, "lower the
learning rate"); someone running ``chainrule train`` or ``chainrule diagnose`` changes flags,
and the command already clips at 1.0 unless told ``--grad-clip 0``. ``FlagAdvice`` reads the
finding's remedy key and the run's settings against its preset's and names the flag, its value
now and the value to try."""

from .presets import preset_defaults

# remedies whose first means is a lower learning rate (an explosion thrown by the updates, units
# killed by them, a loss driven back up)
_RATE = {"exploding", "exploding_recurrent", "exploding_layer", "exploding_init", "large_update",
         "large_update_oversized", "diverging", "raised_lr", "dead", "dead_tail"}
# units found dead after another cause was named (weights thrown far, or shrunk to nothing)
_CONSEQUENCES = {"dead", "dead_tail", "vanishing"}
# dropout at this or more keeps a tenth of the units or less (the presets use 0 to 0.25)
_MOSTLY_DROPPED = 0.9
# below this a batch's gradient is mostly one sample's noise (the presets' rates suit 32)
_SMALL_BATCH = 4


# a usual peak rate for each optimizer, for a run whose --optimizer is not its preset's (whose
# rate was chosen for the preset's optimizer: SGD's usual rate is ten times Adam's)
USUAL_LR = {"sgd": 1e-2, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}


def preset_default(config, field):
    """What ``field`` is when the flags leave it out, for this run's preset and data."""
    return preset_defaults(config.model, config.data).get(field)


def reference_lr(config):
    """(the rate to suggest, whose it is): the preset's, or a usual one for another optimizer."""
    if config.optimizer == preset_default(config, "optimizer"):
        return preset_default(config, "lr"), f"the {config.model} preset's"
    usual = USUAL_LR.get(config.optimizer)
    return usual, f"{config.optimizer}'s usual"


def _times(ratio):
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


def setting_notes(config):
    """Notes on settings that keep a preset from learning whatever its gradients do: printed
    before training, since the monitor, which watches backpropagation, finds nothing wrong in
    them (the tabular preset at --dropout 0.99 on the breast-cancer table: gradients healthy,
    test accuracy 0.63, the majority class's share; at the preset's 0.1, 0.99)."""
    preset_dropout = preset_default(config, "dropout") or 0.0
    if config.dropout is not None and config.dropout >= _MOSTLY_DROPPED > preset_dropout:
        return [f"--dropout {config.dropout:g} keeps {1 - config.dropout:.2g} of the units at each "
                "step: the network can hardly fit anything; the "
                f"{config.model} preset's is {preset_dropout:g}"]
    return []


class FlagAdvice:
    """``advice(finding)``: one line naming the flags to change, or None when no flag of the
    command is the remedy (or the same line was given for an earlier finding)."""

    def __init__(self, config):
        self.config = config
        self.given = []

    def __call__(self, finding):
        if finding.remedy in _CONSEQUENCES and self.given:
            return None  # units killed after a cause was named: its flag comes first
        line = self._line(finding.remedy)
        if line is None or line in self.given:
            return None
        self.given.append(line)
        return f"with the command's flags: {line}"

    def _line(self, key):
        c = self.config
        lr, (preset_lr, whose) = c.lr, reference_lr(c)
        if key in _RATE and lr is not None and preset_lr:
            if lr > preset_lr * 1.5:
                line = (f"--lr {lr:g} is {_times(lr / preset_lr)} {whose} {preset_lr:g}: "
                        f"use --lr {preset_lr:g}")
            else:
                line = "; ".join(self._suspects()) or (
                    f"lower the learning rate: --lr {lr / 10:g} (now {lr:g})"
                    + ("" if c.warmup_steps else ", or warm it up: --warmup-steps 100"))
            if c.grad_clip is None:
                line += "; and clip the gradient norm again: --grad-clip 1.0 (0 turned it off)"
            return line
        if key == "decaying":
            return self._decay()
        if key in ("stalled_all_tiny", "stalled_zero_lr"):
            if lr is not None and preset_lr and lr < preset_lr / 100:
                return (f"--lr {lr:g} is {_times(preset_lr / lr)} below {whose} "
                        f"{preset_lr:g}: use --lr {preset_lr:g}")
            if c.grad_clip is not None and c.grad_clip < 1e-2:
                return (f"--grad-clip {c.grad_clip:g} shrinks every gradient: use --grad-clip "
                        "1.0 (the default)")
            return None
        if key == "momentum" and c.momentum is not None and c.momentum >= 1:
            return f"--momentum {c.momentum:g} must be below 1: use --momentum 0.9 (the default)"
        # no flag is this remedy's own (an initialisation, the preset's layers): a setting far
        # out of its usual range is still the likeliest cause of what a preset meets
        return "; ".join(self._suspects()) or None

    def _suspects(self):
        """The settings besides the rate that are far out of their usual range, each with the
        value to use."""
        c, found = self.config, []
        preset_dropout = preset_default(c, "dropout") or 0.0
        if c.dropout is not None and c.dropout >= _MOSTLY_DROPPED > preset_dropout:
            found.append(f"--dropout {c.dropout:g} keeps {1 - c.dropout:.2g} of the units and "
                         f"multiplies them {1 / max(1 - c.dropout, 1e-12):.3g}x: use the "
                         f"{c.model} preset's --dropout {preset_dropout:g}")
        if c.batch_size is not None and c.batch_size < _SMALL_BATCH:
            found.append(f"--batch-size {c.batch_size} makes every step follow so few samples' "
                         f"gradient: use --batch-size 32 (the default), or a rate "
                         f"{32 // c.batch_size}x lower: --lr {c.lr * c.batch_size / 32:g}")
        if c.grad_clip is not None and c.grad_clip < 1e-2:
            found.append(f"--grad-clip {c.grad_clip:g} shrinks every gradient: use --grad-clip "
                         "1.0 (the default)")
        return found

    def _decay(self):
        c = self.config
        decay, preset_decay = c.weight_decay, preset_default(c, "weight_decay")
        lr, (preset_lr, _) = c.lr, reference_lr(c)
        if decay is None or lr is None:
            return None
        # AdamW (and SGD's L2 term) take lr x decay of every weight per step; Adam, RMSprop and
        # Adagrad add the decay to the gradient before dividing it by its size, so no such figure
        per_step = (f" (x --lr {lr:g}: each step takes {100 * lr * decay:.3g}% of every weight)"
                    if c.optimizer in ("adamw", "sgd") else "")
        if preset_decay is not None and decay > preset_decay:
            return (f"--weight-decay {decay:g}{per_step} is far above the {c.model} preset's "
                    f"{preset_decay:g}: leave --weight-decay out or use --weight-decay "
                    f"{preset_decay:g}")
        if preset_lr and lr > preset_lr * 1.5:
            return (f"--weight-decay {decay:g}{per_step}: the rate multiplies the decay; "
                    f"use --lr {preset_lr:g}")
        return f"lower --weight-decay (now {decay:g}){per_step}"
