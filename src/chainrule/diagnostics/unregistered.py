"""Layers the model holds in a plain list, tuple or dict, which ``nn.Module`` does not register.

``self.hidden = [nn.Linear(32, 32) for _ in range(2)]`` (meant ``nn.ModuleList``) leaves those
layers out of ``model.parameters()``: an optimizer built from it never updates them, while the
forward still uses them, so they keep their initial weights and collect gradients no step
applies. The monitor, which watches the model's parameters, did not see them at all.

They are found once, when the monitor attaches (a walk over the modules' attributes), and
judged on sampled steps only: a parameter that has a gradient and has not moved since the
sample before is not being trained. One that moves is (the loop added it to the optimizer by
hand), and one that never has a gradient is not used, or kept aside on purpose (a teacher or an
EMA copy held in a list to hide it from ``parameters()``): neither is reported.
"""

import numpy as np

from chainrule import nn


def unregistered_parameters(model):
    """[(name, parameter)]: trainable parameters of modules (or bare parameters) that
    ``model``'s modules hold in plain lists, tuples or dicts, outside ``model.parameters()``."""
    registered = {id(p) for p in model.parameters()}
    found, seen = [], set()
    for prefix, module in model.named_modules():
        for attr, value in vars(module).items():
            if attr.startswith("_") or not isinstance(value, (list, tuple, dict)):
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                name = f"{prefix + '.' if prefix else ''}{attr}[{key!r}]"
                if isinstance(item, nn.Parameter):
                    params = [("", item)]
                elif isinstance(item, nn.Module):
                    params = list(item.named_parameters())
                else:
                    continue
                for pname, param in params:
                    if (param.requires_grad and id(param) not in registered
                            and id(param) not in seen):
                        seen.add(id(param))
                        found.append((f"{name}.{pname}" if pname else name, param))
    return found


class UnregisteredCheck:
    """On each sample, ``stalled()`` names the unregistered parameters that had a gradient
    and did not move since the previous sample."""

    def __init__(self, model):
        self.params = unregistered_parameters(model)
        self._before = {}  # id -> copy at the previous sample

    def stalled(self):
        still = []
        for name, param in self.params:
            before = self._before.get(id(param))
            grad = param.grad
            if (before is not None and grad is not None and np.any(grad._data)
                    and np.array_equal(before, param._data)):
                still.append(name)
            self._before[id(param)] = np.array(param._data, copy=True)
        return still
