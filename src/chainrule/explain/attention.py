"""The attention weights of every ``nn.MultiheadAttention`` in a model (the self-attention of
each transformer layer), per head, for a batch.

Transformer layers call their attention with ``need_weights=False``; while this runs, each
attention computes its weights anyway and hands its caller exactly what the caller asked for.

    weights = attention_weights(model, tokens)   # {"blocks.layers.0.self_attn": (N, H, L, S)}
"""

import inspect

from .. import nn
from ..autograd import no_grad
from ._core import explaining

__all__ = ["attention_weights"]


def attention_weights(model, *inputs, **kwargs):
    """{attention module name: weights (samples, heads, queries, keys)} from one forward of
    ``model(*inputs, **kwargs)`` in eval mode, without recording a graph. Each row of weights
    sums to 1 over the keys; masked keys get 0. An attention that runs twice in the forward
    also gives "NAME (call 2)"."""
    attentions = {name: m for name, m in model.named_modules()
                  if isinstance(m, nn.MultiheadAttention)}
    if not attentions:
        raise ValueError("the model has no nn.MultiheadAttention (no transformer layer)")
    found, asked, handles = {}, {}, []
    for name, module in attentions.items():
        signature = inspect.signature(module.forward)

        def before(module, args, kwargs, name=name, signature=signature):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            asked[name] = (bound.arguments["need_weights"],
                           bound.arguments["average_attn_weights"])
            bound.arguments.update(need_weights=True, average_attn_weights=False)
            return (), dict(bound.arguments)

        def after(module, args, output, name=name):
            output, weights = output
            calls = sum(1 for key in found if key == name or key.startswith(f"{name} (call "))
            found[name if not calls else f"{name} (call {calls + 1})"] = weights
            need, average = asked[name]
            if not need:
                return output, None
            return output, weights.mean(dim=-3) if average else weights

        handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(module.register_forward_hook(after))
    try:
        with explaining(model), no_grad():
            model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    missing = [name for name in attentions if name not in found]
    if missing:
        raise ValueError(f"attention {missing[0]!r} did not run in the model's forward")
    return found
