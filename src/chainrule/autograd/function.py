"""``Function``: one differentiable operation, its forward and its backward side by side.

An op's class is also its graph node: ``Function.apply`` makes one instance per call, passes it
to ``forward`` as ``ctx``, and (when a gradient is needed) hangs it on the outputs as
``grad_fn``. The backward engine later calls ``backward(ctx, *grad_outputs)`` on it.

The protocol, the same for built-in ops and user ops (as in PyTorch):
- ``forward(ctx, *args, **kwargs)`` runs with grad mode off and returns a tensor or a tuple of
  tensors. Only positional tensor arguments are graph inputs; options go by keyword.
- ``backward(ctx, *grad_outputs)`` returns one gradient (or None) per positional argument. It is
  written with differentiable tensor operations, so with ``create_graph=True`` the engine records
  it and gradients of gradients follow.
"""

from . import grad_mode


class TensorBase:
    """Marker base of ``chainrule.Tensor``, so the engine can recognise tensors without
    importing the tensor layer."""

    __slots__ = ()


class Function:
    """Base class of differentiable operations; subclass it for custom ops.

    >>> class Exp(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp()
    ...         ctx.save_for_backward(y)
    ...         return y
    ...     @staticmethod
    ...     def backward(ctx, grad_out):
    ...         (y,) = ctx.saved_tensors
    ...         return grad_out * y
    >>> y = Exp.apply(x)
    """

    # Per-node state lives in class-level defaults so that creating a node stays cheap.
    needs_input_grad = ()
    next_edges = ()  # per positional input: None, a leaf tensor, or (node, output_nr)
    input_meta = ()  # per positional input: (shape, numpy dtype) or None
    output_meta = ()  # per output: (shape, numpy dtype), for gradients that never arrive
    materialize_grads = True
    _saved = ()
    _saved_versions = ()
    _freed = False
    _output_hooks = None  # output_nr -> hooks registered on that (non-leaf) output tensor
    _non_differentiable = ()

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define a static backward(ctx, ...)")

    # -- ctx API -------------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Keep tensors for backward; modifying one in place before then is an error."""
        self._saved = tensors
        self._saved_versions = tuple(t._version_box[0] if t is not None else 0 for t in tensors)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {self.name()}): "
                "its saved tensors were freed after the first backward. Pass retain_graph=True "
                "to the first backward() if you need to call it again."
            )
        for position, (tensor, version) in enumerate(zip(self._saved, self._saved_versions)):
            if tensor is not None and tensor._version_box[0] != version:
                raise RuntimeError(
                    f"One of the tensors needed for gradient computation has been modified by an "
                    f"in-place operation: {self.name()} saved tensor {position} (shape "
                    f"{tuple(tensor.shape)}) at version {version}, and it is now at version "
                    f"{tensor._version_box[0]}. Use the out-of-place form of the later operation, "
                    "or .clone() the tensor before modifying it."
                )
        return self._saved

    def mark_non_differentiable(self, *outputs):
        self._non_differentiable = tuple(id(t) for t in outputs)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        """Accepted for PyTorch compatibility; in-place user ops are versioned by the tensor."""

    @classmethod
    def name(cls):
        return cls.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    def _release(self):
        # Only nodes that saved tensors can fail a second backward, as in PyTorch.
        if self._saved:
            self._saved = ()
            self._freed = True

    # -- building the graph ------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op; when grad mode is on and an input requires grad, record it."""
        ctx = cls()
        grad_was_enabled = grad_mode.is_grad_enabled()
        record = grad_was_enabled and any(
            isinstance(a, TensorBase) and a.requires_grad for a in args
        )
        if record:
            ctx.needs_input_grad = tuple(
                isinstance(a, TensorBase) and a.requires_grad for a in args
            )
        else:
            ctx.needs_input_grad = (False,) * len(args)
        grad_mode._set_enabled(False)
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            grad_mode._set_enabled(grad_was_enabled)
        if record:
            return _connect(ctx, args, outputs)
        return outputs


def _connect(ctx, args, outputs):
    edges, meta = [], []
    for a, need in zip(args, ctx.needs_input_grad):
        if need:
            fn = a.grad_fn
            edges.append(a if fn is None else (fn, a._output_nr))
            meta.append((a._data.shape, a._data.dtype))
        else:
            edges.append(None)
            meta.append(None)
    ctx.next_edges = tuple(edges)
    ctx.input_meta = tuple(meta)
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    linked = []
    for nr, out in enumerate(outs):
        if not isinstance(out, TensorBase):
            linked.append(out)
            continue
        if any(out is a for a in args):
            out = out.detach()  # an input returned unchanged becomes a new node's output
        if out._data.dtype.kind == "f" and id(out) not in ctx._non_differentiable:
            out.requires_grad = True
            out.grad_fn = ctx
            out._output_nr = nr
        linked.append(out)
    ctx.output_meta = tuple(
        (o._data.shape, o._data.dtype) if isinstance(o, TensorBase) else None for o in linked
    )
    return linked[0] if single else tuple(linked)
