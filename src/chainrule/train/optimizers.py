"""Building the optimizer and the per-step learning-rate schedule from a config."""

from .. import optim

_OPTIMIZERS = {
    "sgd": lambda params, c: optim.SGD(params, lr=c.lr, momentum=c.momentum,
                                       weight_decay=c.weight_decay),
    "adam": lambda params, c: optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay),
    "adamw": lambda params, c: optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay),
    "rmsprop": lambda params, c: optim.RMSprop(params, lr=c.lr, momentum=c.momentum,
                                               weight_decay=c.weight_decay),
    "adagrad": lambda params, c: optim.Adagrad(params, lr=c.lr, weight_decay=c.weight_decay),
}


def build_optimizer(config, model):
    return _OPTIMIZERS[config.optimizer](model.parameters(), config)


def build_scheduler(config, optimizer, total_steps):
    """The schedule stepped once per batch, with an optional linear warm-up in front."""
    sched = optim.lr_scheduler
    warmup = min(config.warmup_steps, max(total_steps - 1, 0))
    remaining = max(total_steps - warmup, 1)
    if config.schedule == "constant":
        main = sched.LambdaLR(optimizer, lambda step: 1.0)
    elif config.schedule == "step":
        main = sched.StepLR(optimizer, step_size=max(remaining // 3, 1), gamma=0.1)
    elif config.schedule == "cosine":
        main = sched.CosineAnnealingLR(optimizer, T_max=remaining, eta_min=config.lr * 0.01)
    elif config.schedule == "exponential":
        main = sched.ExponentialLR(optimizer, gamma=0.01 ** (1 / remaining))
    else:  # onecycle has its own warm-up (the config refuses --warmup-steps with it)
        return sched.OneCycleLR(optimizer, max_lr=config.lr, total_steps=max(total_steps, 2))
    if not warmup:
        return main
    ramp = sched.LinearLR(optimizer, start_factor=1.0 / warmup, end_factor=1.0,
                          total_iters=warmup)
    return sched.SequentialLR(optimizer, [ramp, main], milestones=[warmup])
