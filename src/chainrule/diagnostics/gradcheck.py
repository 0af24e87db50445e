"""``model_gradcheck``: a whole model's backward against finite differences, in float64."""

import copy
import dataclasses

import numpy as np

from ..autograd.grad_mode import no_grad


@dataclasses.dataclass
class ModelGradcheckResult:
    """``ok`` when every sampled coordinate agrees; ``worst``: the parameter with the largest
    error relative to tolerance, and ``errors``: {parameter: (max |analytic - numeric|,
    analytic, numeric) at its worst sampled coordinate}."""

    ok: bool
    worst: str | None
    errors: dict

    def __bool__(self):
        return self.ok

    def __str__(self):
        if self.worst is None:
            return "model_gradcheck: no parameter requires grad"
        error, analytic, numeric = self.errors[self.worst]
        verdict = "passed" if self.ok else "FAILED"
        return (f"model_gradcheck {verdict}: worst parameter '{self.worst}': analytic "
                f"{analytic:.6g} vs numeric {numeric:.6g} (|difference| {error:.2e}) over "
                f"{len(self.errors)} parameters")


def _as_float64(value):
    if hasattr(value, "_data") and value._data.dtype.kind == "f":
        return value.detach().double()
    return value


def _scalar(output, loss_fn):
    if loss_fn is not None:
        return loss_fn(output)
    if isinstance(output, (tuple, list)):
        output = output[0]
    return output.sum()


def model_gradcheck(model, inputs, loss_fn=None, samples=4, eps=1e-6, atol=1e-5, rtol=1e-3,
                    seed=0):
    """Compare ``model``'s parameter gradients with central differences at ``samples`` random
    coordinates per parameter, on a float64 copy of the model (``model`` is not changed).
    The checked scalar is ``loss_fn(model(*inputs))``, or the sum of the output. Random ops
    (dropout) see the same random state at every evaluation.

    >>> model = chainrule.nn.Sequential(chainrule.nn.Linear(4, 8), chainrule.nn.Tanh(),
    ...                                 chainrule.nn.Linear(8, 3))
    >>> x, y = chainrule.randn(5, 4), chainrule.tensor([0, 1, 2, 1, 0])
    >>> report = model_gradcheck(model, x, loss_fn=lambda out: F.cross_entropy(out, y))
    >>> report.ok
    True
    """
    from ..random import get_rng_state, set_rng_state

    model64 = copy.deepcopy(model).double()
    inputs = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    inputs = [_as_float64(value) for value in inputs]
    state = get_rng_state()

    def evaluate():
        set_rng_state(state)
        return _scalar(model64(*inputs), loss_fn)

    try:
        model64.zero_grad()
        evaluate().backward()
        rng = np.random.default_rng(seed)
        errors, worst, worst_score = {}, None, -1.0
        for name, param in model64.named_parameters():
            if not param.requires_grad:
                continue
            data = param._data
            analytic = (param.grad._data if param.grad is not None else np.zeros_like(data))
            picks = rng.choice(data.size, size=min(samples, data.size), replace=False)
            best = (0.0, 0.0, 0.0, -1.0)
            for flat in picks:
                index = np.unravel_index(flat, data.shape)
                original = data[index]
                with no_grad():
                    data[index] = original + eps
                    plus = float(evaluate())
                    data[index] = original - eps
                    minus = float(evaluate())
                data[index] = original
                numeric = (plus - minus) / (2 * eps)
                error = abs(float(analytic[index]) - numeric)
                score = error / (atol + rtol * abs(numeric))
                if score > best[3]:
                    best = (error, float(analytic[index]), numeric, score)
            errors[name] = best[:3]
            if best[3] > worst_score:
                worst, worst_score = name, best[3]
    finally:
        set_rng_state(state)
    return ModelGradcheckResult(worst_score <= 1.0, worst, errors)
