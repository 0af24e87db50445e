"""Discrete inputs (tokens, category codes) have no gradient: they are explained where they
become numbers, at the output of the ``nn.Embedding`` that reads them. That output is the
*site*: gradients are taken with respect to it, an attribution there is summed over the
embedding's width, and the sum is placed where the codes came from in the input.

``embeddings`` says which Embeddings are sites:

- ``None`` (the default) asks the model's ``embedded_inputs()`` method, when it has one
  (``{"name": column}``, as the ``tabular`` preset says), or else finds them: every Embedding
  whose indices follow the batch (their shape changes when the batch does; a position
  embedding's does not). Its indices must have the input's shape (tokens: one attribution per
  position); otherwise say which column of the input it reads.
- ``{"name": column}`` names them, with the input column each reads (``x[:, column]``, the
  category codes of a table) or None (indices shaped like the input).
- ``()`` turns them off: only a floating input is explained.
"""

from contextlib import contextmanager

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..creation import from_numpy
from ..ops.join import cat
from ._core import array_of


class Sites:
    """The embedding sites of a model for inputs like ``x``."""

    def __init__(self, model, x, embeddings=None):
        self.model = model
        modules = dict(model.named_modules())
        if embeddings is None and callable(getattr(model, "embedded_inputs", None)):
            self.columns = dict(model.embedded_inputs())
        elif embeddings is None:
            self.columns = _find(model, x)
        elif isinstance(embeddings, dict):
            self.columns = dict(embeddings)
        else:
            self.columns = {name: None for name in embeddings}
        for name in self.columns:
            if not isinstance(modules.get(name), nn.Module):
                known = [n for n, m in modules.items() if isinstance(m, nn.Embedding)]
                raise ValueError(f"the model has no module {name!r}; its embeddings are: "
                                 f"{', '.join(known) or 'none'}")
        self.modules = {name: modules[name] for name in self.columns}
        self.names = list(self.columns)

    def __bool__(self):
        return bool(self.names)

    def fixed_mask(self, x):
        """True where the input holds codes read by a site: those stay as they are on every
        path and under noise (a code moved by 0.3 is not a code)."""
        mask = np.zeros(np.shape(x), dtype=bool)
        for column in self.columns.values():
            if column is None:
                mask[...] = True
            else:
                mask[:, column] = True
        return mask

    @contextmanager
    def intercept(self, replace):
        """While active, each site's module returns ``replace(name, output_array)`` (an array
        or tensor) instead of its output."""
        handles = []
        for name, module in self.modules.items():
            def hook(module, args, output, name=name):
                value = replace(name, array_of(output))
                return from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) \
                    else value
            handles.append(module.register_forward_hook(hook))
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def outputs(self, inputs):
        """Each site's output when the model reads ``inputs`` (an ndarray), as arrays."""
        found = {}

        def keep(name, output):
            found[name] = output
            return output

        if self.names:
            with no_grad(), self.intercept(keep):
                self.model(from_numpy(np.ascontiguousarray(inputs)))
        return found

    def place(self, x, input_attributions, site_attributions, dtype):
        """One attribution per input value: the input's own, plus each site's summed over the
        embedding width and put where its codes are."""
        result = (np.zeros(np.shape(x)) if input_attributions is None
                  else np.array(input_attributions, dtype=np.float64))
        for name, column in self.columns.items():
            summed = site_attributions[name].sum(axis=-1)
            if column is None:
                if summed.shape != result.shape:
                    raise ValueError(f"embedding {name!r} reads indices of shape {summed.shape},"
                                     f" not the input's {result.shape}: pass embeddings="
                                     f"{{{name!r}: COLUMN}}, the input column it reads")
                result += summed
            else:
                result[:, column] += summed
        return result.astype(dtype)


def _find(model, x):
    """{name: None} for the Embeddings whose indices follow the batch (see the module doc)."""
    embeddings = {name: m for name, m in model.named_modules() if isinstance(m, nn.Embedding)}
    if not embeddings:
        return {}
    first = x[:1] if hasattr(x, "_data") else from_numpy(np.ascontiguousarray(x[:1]))
    shapes = {name: [] for name in embeddings}
    handles = [m.register_forward_hook(
        lambda module, args, output, name=name: shapes[name].append(tuple(args[0].shape)))
        for name, m in embeddings.items()]
    try:
        with no_grad():
            model(first)
            model(cat([first, first]))
    finally:
        for handle in handles:
            handle.remove()
    found = {}
    for name, seen in shapes.items():
        if len(seen) != 2 or seen[0] == seen[1]:
            continue  # not run, or indices that do not follow the batch (positions)
        if seen[0] != tuple(first.shape):
            raise ValueError(
                f"embedding {name!r} reads the input batch, but its indices have shape "
                f"{seen[0]} for an input of shape {tuple(first.shape)}: say which input column "
                f"it reads with embeddings={{{name!r}: COLUMN}} (or embeddings=() to leave it "
                "out)")
        found[name] = None
    return found
