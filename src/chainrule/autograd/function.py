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

import functools
import itertools

from . import grad_mode

# Called as ``observer(node, args, outputs)`` after every op's forward (see
# engine.add_forward_observer); diagnostics use it to find the first non-finite output, the ONNX
# exporter to trace the forward pass (it reads the op's options from ``node.forward_options``).
_forward_observers = []
# The recorded nodes, counted: each node's number is larger than those of the nodes that made
# its inputs (graph.topological_order sorts by it).
_sequence = itertools.count()


class TensorBase:
    """Marker base of ``chainrule.Tensor``, so the engine can recognise tensors without
    importing the tensor layer."""

    __slots__ = ()
    _requires_grad = False
    _is_inference = False  # made inside an inference_mode() block (see Tensor.is_inference)

    # -- the version counter: how saved tensors notice in-place writes ----------------------
    # Every tensor has a one-element list; views (and detach()) share their base's list, so a
    # write through any of them is seen by all. Whoever writes into a tensor's memory calls
    # _bump_version(); save_for_backward records the count and backward compares.
    def _bump_version(self):
        """Record that this tensor's memory was just written in place."""
        self._version_box[0] += 1

    def _share_version(self, base):
        """Make this tensor (a view of ``base``'s memory) share ``base``'s version counter."""
        self._version_box = base._version_box
        # a view is an inference tensor when its base is one, wherever it is made (PyTorch)
        if base._is_inference or self._is_inference:
            self._is_inference = base._is_inference
        return self


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
    >>> x = chainrule.tensor([0.0, 1.0], requires_grad=True)
    >>> y = Exp.apply(x)
    >>> y.sum().backward()
    >>> x.grad
    tensor([1.0000, 2.7183])
    """

    # Per-node state lives in class-level defaults so that creating a node stays cheap.
    needs_input_grad = ()
    next_edges = ()  # per positional input: None, a leaf tensor, or (node, output_nr)
    output_meta = ()  # per output: (shape, numpy dtype), for gradients that never arrive
    materialize_grads = True
    _saved = ()
    _saved_versions = ()
    _freed = False
    _output_hooks = None  # output_nr -> hooks registered on that (non-leaf) output tensor
    _node_hooks = None  # hooks registered on this node itself (register_hook)
    _non_differentiable = ()
    _dirty = ()
    # Names of ctx attributes holding arrays that only backward needs (an op's cached
    # intermediates): dropped with the saved tensors once backward has used them, so that
    # memory is returned during the backward sweep rather than when the graph is dropped.
    _transient = ()
    # Whether this op is one of chainrule's own, vouched for by the op registry: its backward
    # returns arrays it made itself (or passes on the ones it received). Every other Function
    # (a user's custom op, or one that hands gradients to user hooks) may return memory that
    # user code still holds; the engine's ownership rule (engine.py) copies such gradients
    # before keeping one as a .grad.
    _builtin_op = False
    # PyTorch 2's other style: forward(*args) without ctx, plus setup_context(ctx, inputs, output)
    _separate_setup = False
    # A built-in op whose forward works on arrays alone (it applies no other op, so nothing
    # inside it could be recorded) and returns new tensors, never one of its inputs: apply
    # runs it without switching grad mode off (set by the ops that say so, checked by
    # tests/autograd/test_array_forward.py)
    _array_forward = False
    # A built-in op's backward on arrays, ``_array_backward(ctx, *grad_arrays)``, returning
    # arrays (or None) as ``backward`` returns tensors: the sweep calls it in place of
    # ``backward`` when nothing is recorded (no create_graph) and nothing watches the node
    # (NOTE: no tensor made and dropped around each gradient between two such ops)
    _array_backward = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._separate_setup = cls.setup_context is not Function.setup_context

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define a static backward(ctx, ...)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Override (with a ``forward`` that takes no ctx) to save what backward needs."""

    @classmethod
    def _forward_then_setup(cls, ctx, args, kwargs):
        outputs = cls.forward(*args, **kwargs)
        cls.setup_context(ctx, args, outputs)
        return outputs

    # -- ctx API -------------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Keep tensors for backward; modifying one in place before then is an error."""
        if True not in self.needs_input_grad:
            return  # nothing is recorded (grad mode off, or no input requires grad)
        versions = []
        try:
            # NOTE: a plain loop: map with attrgetter/itemgetter cost twice as much for the one
            # or two tensors an op saves (two map objects and a tuple for each op)
            for tensor in tensors:  # (None: an operand that no gradient needs)
                versions.append(tensor._version_box[0] if tensor is not None else 0)
        except AttributeError:  # a None (saved as version 0), or not a tensor
            bad = next((i for i, t in enumerate(tensors)
                        if t is not None and not isinstance(t, TensorBase)), None)
            if bad is not None:
                raise TypeError(
                    f"save_for_backward can only save tensors (or None), but argument {bad} is "
                    f"{type(tensors[bad]).__name__}; keep other values as ctx attributes, e.g. "
                    "ctx.alpha = alpha"
                ) from None
            versions = [t._version_box[0] if t is not None else 0 for t in tensors]
        self._saved = tensors
        self._saved_versions = versions

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {self.name()}): "
                "its saved tensors were freed after the first backward. Pass retain_graph=True "
                "to the first backward() if you need to call it again."
            )
        saved = self._saved
        for tensor, version in zip(saved, self._saved_versions):
            if tensor is not None and tensor._version_box[0] != version:
                self._raise_modified()
        return saved

    def _raise_modified(self):
        for position, (tensor, version) in enumerate(zip(self._saved, self._saved_versions)):
            if tensor is not None and tensor._version_box[0] != version:
                raise RuntimeError(
                    f"One of the tensors needed for gradient computation has been modified by an "
                    f"in-place operation: {self.name()} saved tensor {position} (shape "
                    f"{tuple(tensor.shape)}) at version {version}, and it is now at version "
                    f"{tensor._version_box[0]}. Use the out-of-place form of the later operation, "
                    "or .clone() the tensor before modifying it."
                )

    def mark_non_differentiable(self, *outputs):
        """Outputs that get no gradient (indices, masks): they will not require grad."""
        self._non_differentiable = tuple(id(t) for t in outputs)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        """Inputs that forward modified in place (and returns): they become this op's outputs.
        Modify them with Tensor in-place methods so that their version counter moves."""
        self._dirty = tuple(id(t) for t in tensors)

    def register_hook(self, hook):
        """Call ``hook(grad_inputs, grad_outputs)`` after this node's backward, as PyTorch's
        ``Node.register_hook``: ``grad_inputs`` are the gradients it returns (one per input),
        ``grad_outputs`` those it received. Observers scoped to one graph attach here. Unlike
        PyTorch, the hook may not replace the gradients (returning a value is an error): register
        a hook on the tensor instead (``tensor.register_hook``). Returns a handle whose
        ``remove()`` unregisters it."""
        if self._node_hooks is None:
            self._node_hooks = []
        self._node_hooks.append(hook)
        return _NodeHookHandle(self._node_hooks, hook)

    @property
    def input_meta(self):
        """Per positional input: (shape, numpy dtype), or None where it needs no gradient.
        (Not kept: the output_meta of the node that made the input says it, and a leaf input
        is in next_edges itself.)"""
        return tuple([_edge_meta(edge) for edge in self.next_edges])

    @property
    def next_functions(self):
        """Per positional input, as PyTorch's ``grad_fn.next_functions``: ``(node, output_nr)``
        of the node that made it, ``(AccumulateGrad, 0)`` for a leaf that requires grad (its
        ``.variable`` is the leaf), ``(None, 0)`` where no gradient goes: the graph can be
        walked from a loss down to the parameters."""
        return tuple([edge if type(edge) is tuple else
                      (None, 0) if edge is None else (accumulate_grad_node(edge), 0)
                      for edge in self.next_edges])

    @classmethod
    def name(cls):
        return cls.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    def _release(self):
        # Only nodes that saved tensors can fail a second backward, as in PyTorch.
        # (engine._Sweep.run has this inline)
        if self._saved:
            self._saved = ()
            self._freed = True
            for name in self._transient:
                setattr(self, name, None)

    # -- building the graph ------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op; when grad mode is on and an input requires grad, record it."""
        ctx = cls()
        state = grad_mode._state
        grad_was_enabled = state.enabled
        recording = False
        if grad_was_enabled:
            # NOTE: one pass over the inputs finds what is recorded (edges, input shapes) while
            # it looks for one that requires grad; a small network's step makes every op's
            # bookkeeping count
            needs, edges = [], []
            for a in args:
                if isinstance(a, TensorBase) and a._requires_grad:
                    recording = True
                    needs.append(True)
                    fn = a.grad_fn
                    edges.append(a if fn is None else (fn, a._output_nr))
                else:
                    needs.append(False)
                    edges.append(None)
        ctx.needs_input_grad = tuple(needs) if recording else (False,) * len(args)
        if cls._array_forward or not grad_was_enabled:
            # NOTE: grad mode is off already, or the forward applies no op (it works on
            # arrays): no switching it off and back, ~0.75k instructions per access to the
            # thread-local switch, two per op
            outputs = cls.forward(ctx, *args, **kwargs) if not cls._separate_setup \
                else cls._forward_then_setup(ctx, args, kwargs)
        else:
            state.enabled = False
            try:
                outputs = cls.forward(ctx, *args, **kwargs) if not cls._separate_setup \
                    else cls._forward_then_setup(ctx, args, kwargs)
            finally:
                state.enabled = grad_was_enabled
        if recording:
            ctx.next_edges = tuple(edges)
            ctx._sequence_nr = next(_sequence)
            if (isinstance(outputs, TensorBase) and not ctx._non_differentiable
                    and (dtype := outputs._data.dtype).kind == "f"
                    and (cls._array_forward or id(outputs) not in map(id, args))):
                # the common case, inline (_connect and _link): one new floating output (an
                # array forward's output is always new). (The dtype read once: each array
                # attribute read is a few hundred instructions.)
                outputs._requires_grad = True
                outputs.grad_fn = ctx
                outputs._output_nr = 0
                ctx.output_meta = ((outputs._data.shape, dtype),)
            else:
                outputs = _connect(ctx, args, outputs)
        if _forward_observers:  # diagnostics only; an empty list costs one truth test
            ctx.forward_options = kwargs
            for observer in _forward_observers:
                observer(ctx, args, outputs)
        return outputs


class AccumulateGrad:
    """The graph node of a leaf that requires grad, as ``next_functions`` shows it: backward
    ends there, adding the gradient into ``variable.grad`` (the engine does it; this object
    names it). One per leaf, kept on the leaf."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    @staticmethod
    def name():
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


def accumulate_grad_node(leaf):
    """``leaf``'s AccumulateGrad node (made on first use, then the same object)."""
    node = leaf.__dict__.get("_accumulate_grad")
    if node is None:
        node = leaf.__dict__["_accumulate_grad"] = AccumulateGrad(leaf)
    return node


class _NodeHookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _connect(ctx, args, outputs):
    """Make the op's outputs the outputs of node ``ctx``."""
    if not isinstance(outputs, tuple):
        out = _link(ctx, args, outputs, 0)
        if isinstance(out, TensorBase):  # (_meta, inline: one output is the common case)
            data = out._data
            ctx.output_meta = ((data.shape, data.dtype),)
        else:
            ctx.output_meta = (None,)
        return out
    linked = tuple([_link(ctx, args, out, nr) for nr, out in enumerate(outputs)])
    ctx.output_meta = tuple([_meta(out) for out in linked])
    return linked


def _edge_meta(edge):
    """(shape, numpy dtype) of the input an edge leads to (None: no gradient goes there)."""
    if edge is None:
        return None
    if type(edge) is tuple:
        return edge[0].output_meta[edge[1]]
    return (edge._data.shape, edge._data.dtype)


def _meta(out):
    return (out._data.shape, out._data.dtype) if isinstance(out, TensorBase) else None


def _link(ctx, args, out, nr):
    """Make ``out`` the ``nr``-th output of node ``ctx``."""
    if not isinstance(out, TensorBase):
        return out
    key = id(out)
    for a in args:
        if out is a:
            if key in ctx._dirty:
                if a._requires_grad and a.grad_fn is None:
                    raise RuntimeError(
                        f"{ctx.name()}: a leaf tensor that requires grad was modified in place "
                        "(mark_dirty); modify a clone() instead"
                    )
            else:
                out = out.detach()  # an input returned unchanged becomes a new node's output
            break
    dtype = out._data.dtype
    # (_floating, inline: kind first, as dtype.name is a slow property)
    if (dtype.kind == "f" or dtype.name == "bfloat16") and key not in ctx._non_differentiable:
        out._requires_grad = True
        out.grad_fn = ctx
        out._output_nr = nr
    return out


def _floating(dtype):
    """Floating NumPy dtypes, and bfloat16 (whose NumPy kind is 'V'): the ones that carry
    gradients."""
    return dtype.kind == "f" or dtype.name == "bfloat16"


def once_differentiable(backward):
    """Decorate a ``backward`` that is not itself differentiable (it works on raw arrays): it
    runs without recording, and differentiating its result again (``create_graph=True``)
    raises a clear error instead of giving a silently wrong second derivative."""

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with grad_mode.no_grad():
            grads = backward(ctx, *grad_outputs)
        if not grad_mode.is_grad_enabled():
            return grads  # create_graph=False: nobody will differentiate these
        # The error node hangs on everything the true second derivative would depend on, so
        # that any later gradient reaching back to those tensors passes through it.
        sources = [t for t in (*grad_outputs, *ctx._saved)
                   if isinstance(t, TensorBase) and t._requires_grad]
        single = not isinstance(grads, tuple)
        marked = tuple(
            _OnceDifferentiable.apply(g.detach().requires_grad_(), *sources, op=ctx.name())
            if isinstance(g, TensorBase) and _floating(g._data.dtype) else g
            for g in ((grads,) if single else grads)
        )
        return marked[0] if single else marked

    return wrapper


class _OnceDifferentiable(Function):
    """y = x (a gradient from a ``once_differentiable`` backward);  differentiating raises."""

    @staticmethod
    def forward(ctx, x, *sources, op):
        ctx.op = op
        return x.detach()

    @staticmethod
    def backward(ctx, grad_out):
        raise RuntimeError(
            f"{ctx.op} is marked @once_differentiable: its backward cannot be differentiated "
            "again (create_graph=True through it); compute this second derivative another way"
        )
