"""Where a NaN or Inf is born: the op, the pass, the Python line that called it, and the layer.

A value is *born* at the first op whose output holds a kind of non-finite value (nan, inf) that
none of its inputs held: ``log(0)`` gives -inf from finite inputs; ``softmax`` over a row that is
all -inf gives nan from inputs that held only inf. Ops told to place a value (``masked_fill``
with -inf takes it as an input) are not births.

``NonFiniteTracer`` checks every op while it is active. ``NonFiniteWatch`` (one per monitored
model) stays cheap: see the ``watch`` module.
"""

import dataclasses
import linecache
import math
import sys
from pathlib import Path

import numpy as np

from ..autograd.engine import add_forward_observer, backward_depth
from ..nn.modules.backward_hooks import _BackwardHookIdentity
from ..nn.modules.module import Module

# a module's forward pre-hooks and forward hooks run in its __call__, outside its forward:
# weight_norm, spectral_norm, parametrizations and pruning compute the weight there
_MODULE_CALL = Module.__call__.__code__

_PACKAGE = Path(__file__).resolve().parents[1]
# Frames in these parts of chainrule are library plumbing, not the line a user wants to see
# (all of it but ``train``, whose presets are models: their lines are the user's). nn/utils
# was not: a NaN made by weight_norm's pre-hook was placed at weight_norm.py, in no layer.
_INTERNAL = tuple(str(_PACKAGE / part) for part in (
    "autograd", "ops", "tensor.py", "nn", "diagnostics", "_", "explain", "distributions",
    "utils", "optim", "linalg.py", "special.py", "functional.py", "creation.py", "random.py",
    "func.py", "sparse.py", "amp", "signal",
))
# Ops that write a value given as an option (fill_(-inf)): placing it is not a birth.
_PLACING_OPS = {"Fill", "IndexPut", "Scatter"}


@dataclasses.dataclass
class Origin:
    """Where a non-finite value first appeared.

    ``op``: the op that made it ("Log"), or what already held it: "input" (the model's input),
    "parameter", "data" (a tensor from outside the model entering the loss: targets, another
    model's output), "loss" or "unknown" when no op could be named, "unwatched" when the
    model's own forward did not run (its parts called one by one). ``pass_``: "forward" or
    "backward". ``kind``: "nan", "inf" or "nan and inf". ``file``/``line``/``code``: the calling
    line (None if unknown). ``layer``: the innermost module of the model it ran in (or the
    parameter's name). ``in_loss``: True when it happened outside the model's forward, in the
    loss computation or its backward. ``entered_at``: for "data", the op it entered through."""

    op: str
    pass_: str
    kind: str
    file: str | None = None
    line: int | None = None
    code: str | None = None
    layer: str | None = None
    in_loss: bool = False
    entered_at: str | None = None  # for "data": the op where the value entered the loss
    became: str | None = None  # for "input", "parameter", "data": where its inf became nan
    # for a birth in the backward of a custom Function: the op inside its backward that made
    # the value (the file and line are then that op's, in the backward, not the .apply call's)
    inside: str | None = None
    # a birth in the backward by an op of a hook on a gradient (``tensor.register_hook``): no
    # node made it, the gradient a node received already held it
    in_hook: bool = False
    # made of infinities placed on purpose (a -inf mask): the op picked or reduced them into a
    # value not meant to be non-finite (see ``Masks``)
    from_mask: bool = False
    # what in the op's inputs made it, where they tell (a key of ``_CAUSES``: a softmax row
    # that is all -inf, a +inf mask, a divisor of 0, a normalisation whose eps is 0)
    cause: str | None = None

    def where(self):
        if self.file is None:
            return "(call site unknown)"
        text = f"{self.file}:{self.line}"
        return text + (f" `{self.code}`" if self.code else "")

    def located(self, site):
        """This origin with the file, line, code and layer of ``site`` (another Origin)."""
        if site is None:
            return self
        # the source text is read here, not when the site is taken (every loss op, every step)
        code = site.code or (source_line(site.file, site.line) if site.file else None)
        return dataclasses.replace(self, file=site.file, line=site.line, code=code,
                                   layer=layer_of(site) if self.layer is None else self.layer)


def layer_of(site):
    """The layer ``site`` (an Origin) ran in, None if unknown. A parametrization (weight_norm,
    spectral_norm, orthogonal: a module under ``<layer>.parametrizations.<name>``) computes the
    weight of the layer that holds it: what it makes is that layer's (a zero weight under
    spectral_norm was placed in '2.parametrizations.weight.0', not in '2')."""
    layer = site.layer if site is not None else None
    parts = layer.split(".") if layer is not None else ()
    if "parametrizations" in parts:
        return ".".join(parts[:parts.index("parametrizations")]) or None
    return layer


_internal_files = {}  # filename -> whether it is chainrule's plumbing (asked once per file)


def _is_internal(filename):
    internal = _internal_files.get(filename)
    if internal is None:
        internal = _internal_files[filename] = filename.startswith(_INTERNAL + ("<",))
    return internal


MAX_SITES = 4096
_sites = {}  # (id of code, instruction, layer) of a calling line -> (code, its Origin)


def call_site(module_names=None, rerun=None, skip=0, forwards=None):
    """An Origin holding only the place: the innermost frame outside chainrule's internals, and
    the innermost running module found on the way (a name from ``module_names``: id -> name).
    ``rerun``: (code object of a function running the forward again, (file, line) of the call
    it repeats): when the walk reaches that function, the repeated call's line is the place.
    ``skip``: frames above the caller known to be chainrule's (an observer's, the op's), left
    out of the walk: each frame the walk visits is made a Python object, which the frame then
    pays for again as it returns. ``forwards``: the code objects of the named modules'
    ``forward`` (``forward_codes``), when known: only their frames are asked for ``self``;
    without it, also ``Module.__call__``'s frames, where a module's hooks run (a weight
    computed by weight_norm's pre-hook belongs to that module)."""
    return _walk(sys._getframe(1 + skip), module_names, rerun, forwards)[0]


def _walk(frame, module_names, rerun, forwards):
    """``call_site``'s walk from ``frame``: (the Origin, how many frames above ``frame`` the
    calling line's is, or None where the walk found no such line, or asked a module's frame
    which module it runs: another call through the same code may run another module)."""
    layer = None
    internal_files = _internal_files
    depth = 0
    asked = False
    while frame is not None:
        code = frame.f_code
        # NOTE: a frame's f_locals builds a dict of all its locals: asked only of a forward
        # that can be a named module's (the loss module's own forward is walked every step)
        if (module_names and layer is None and code.co_name == "forward"
                and (forwards is None or code in forwards)):
            layer = module_names.get(id(receiver(frame)))
            asked = True
        elif module_names and layer is None and forwards is None and code is _MODULE_CALL:
            # (a hook's op; not on the every-step walk, given ``forwards``: every loss module's
            # __call__ would be asked for its locals)
            layer = module_names.get(id(frame.f_locals.get("self")))
            asked = True
        if rerun is not None and code is rerun[0]:
            file, line = rerun[1]
            return Origin("", "", "", file, line, layer=layer), None
        filename = code.co_filename
        internal = internal_files.get(filename)
        if internal is None:
            internal = _is_internal(filename)
        if not internal:
            if layer is None and forwards is None and module_names:
                # (off the every-step path: a re-run or record_sites) an op called by a helper
                # of the model (``self.causal_mask(n)`` in its forward) ran in the model too
                layer = _enclosing_layer(frame.f_back, module_names, rerun)
            # NOTE: a loss op's site is taken on every step, from the same few lines: one
            # Origin per line (an Origin is never changed: ``located`` makes new ones). Keyed
            # by the code's id, not the code: hashing a code object hashes its constants, a
            # script's module code hashes every function in it (4 us for a small one)
            key = (id(code), frame.f_lasti, layer)
            known = _sites.get(key)
            if known is not None and known[0] is code:
                return known[1], None if asked else depth
            if len(_sites) >= MAX_SITES:  # new code objects (a notebook's cells run again)
                _sites.clear()
            site = Origin("", "", "", filename, frame.f_lineno, layer=layer)
            _sites[key] = (code, site)  # the code kept: its id stays its own
            return site, None if asked else depth
        frame = frame.f_back
        depth += 1
    return Origin("", "", "", layer=layer), None


_chains = {}  # (id of code, instruction) of an op's caller, id(forwards) -> what op_call_site found


def op_call_site(module_names, forwards, skip=0):
    """``call_site(module_names, skip=skip, forwards=forwards)`` for an op, remembered by the
    line that called the op (``skip`` frames above the caller's): where that line, at the same
    instruction, was called from the same instruction of the same code as before, the frames
    between the two are taken to be as before, and so is the answer (unless the walk asked a
    frame which module it runs). NOTE: the walk makes a Python object of each frame it visits,
    which the frame pays for again as it returns; this looks at two (``sys._getframe`` makes
    only the one it returns): the loss op's site a step 7.4 -> 3.1 us (bench mlp, one thread,
    medians of 640)."""
    first = sys._getframe(1 + skip)
    # (each watch's own: its modules' forwards decide where the walk asks for a module)
    key = (id(first.f_code), first.f_lasti, id(forwards))
    known = _chains.get(key)
    if known is not None and known[0] is first.f_code and known[5] is forwards:
        _, depth, code, instruction, site, _ = known
        try:
            caller = sys._getframe(1 + skip + depth)
        except ValueError:  # (fewer frames than that)
            caller = None
        if caller is not None and caller.f_code is code and caller.f_lasti == instruction:
            return site
    site, depth = _walk(first, module_names, None, forwards)
    if depth is not None:
        caller = sys._getframe(1 + skip + depth)
        if len(_chains) >= MAX_SITES:
            _chains.clear()
        _chains[key] = (first.f_code, depth, caller.f_code, caller.f_lasti, site, forwards)
    return site


def receiver(frame):
    """The object the method running in ``frame`` was called on: its first argument, by
    whatever name (``self`` by convention; ``def forward(s, x)`` or ``(module, x)`` too)."""
    code = frame.f_code
    return frame.f_locals.get(code.co_varnames[0]) if code.co_argcount else None


def _enclosing_layer(frame, module_names, rerun=None):
    """The named module whose ``forward`` (or ``__call__``, where its hooks run) is running
    in ``frame`` or a frame that called it, up to ``rerun``'s function; None if none is."""
    while frame is not None:
        code = frame.f_code
        if rerun is not None and code is rerun[0]:
            return None
        if code.co_name == "forward" or code is _MODULE_CALL:
            layer = module_names.get(id(receiver(frame)))
            if layer is not None:
                return layer
        frame = frame.f_back
    return None


def forward_codes(modules):
    """The code objects that run ``modules``' ``forward`` (a method of their class, or one set
    on the instance, and what a decorator wraps): a frame running any other code is not one of
    theirs."""
    codes = set()
    for module in modules:
        function = getattr(module, "forward", None)
        function = getattr(function, "__func__", function)
        while function is not None:
            code = getattr(function, "__code__", None)
            if code is not None:
                codes.add(code)
            function = getattr(function, "__wrapped__", None)
    return codes


def source_line(filename, line):
    return linecache.getline(filename, line).strip() or None


def finite(array):
    """True when every element is finite: one dot product (a NaN or Inf anywhere makes it
    non-finite; BLAS is faster than a sum), then an exact check only if it is not."""
    if array.dtype.kind not in "fc":
        return True
    if array.size == 1 and array.dtype.kind == "f":  # a loss: no array op at all
        return math.isfinite(array.item())
    if array.size <= 4096:  # a small output: cheaper than entering np.errstate
        return bool(np.isfinite(array).all())
    if array.dtype.kind == "f" and array.flags.c_contiguous:
        flat = array.reshape(-1)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # large finite values overflow
                if math.isfinite(float(np.dot(flat, flat))):
                    return True
        except TypeError:  # a dtype BLAS does not take
            pass
    return bool(np.isfinite(array).all())


def kinds(array):
    """The kinds of non-finite values in ``array``: a subset of {"nan", "inf"}."""
    if finite(array):
        return set()
    found = set()
    if np.isnan(array).any():
        found.add("nan")
    if np.isinf(array).any():
        found.add("inf")
    return found


def describe(found):
    return " and ".join(sorted(found)) or "nan"


def tensors(value):
    """The tensors in an op's or a module's result: a tensor, or a (nested) tuple/list/dict."""
    if hasattr(value, "_data"):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors(v)]
    return []


def op_name(node):
    name = node.name()
    return name[:-len("Backward")] if name.endswith("Backward") else name


def born(outputs, inputs):
    """The kinds of non-finite values in ``outputs`` that no array of ``inputs`` holds."""
    made = set()
    for array in outputs:
        made |= kinds(array)
    if not made:
        return made
    for array in inputs:
        made -= kinds(array)
        if not made:
            break
    return made


def forward_birth(node, args, outputs):
    """The kinds a forward op gave birth to (empty when none): see the module docstring."""
    out = [t._data for t in tensors(outputs)]
    if all(finite(a) for a in out) or op_name(node) in _PLACING_OPS:
        return set()
    return born(out, [t._data for t in tensors(list(args))])


def backward_birth(grad_inputs, grad_outputs):
    """The kinds a node's backward gave birth to, from the gradients it received."""
    out = [g._data for g in grad_inputs if g is not None]
    if all(finite(a) for a in out):
        return set()
    return born(out, [g._data for g in grad_outputs if g is not None])


def backward_origin(node_class, site, found, inner):
    """The Origin of a birth (kinds ``found``) in the backward of a node of ``node_class``
    recorded at ``site``. ``inner``: (op, site) of the first op that gave birth while a backward
    ran, since the node before it finished (see ``birth_in_backward``): for a custom Function,
    whose backward is the user's Python, that op's line is where it was born (the .apply line
    only says which op); a built-in op's backward is chainrule's, its site the call's."""
    origin = Origin(op_name(node_class), "backward", describe(found))
    if inner is None or getattr(node_class, "_builtin_op", True):
        return origin.located(site)
    op, where = inner
    if node_class is _BackwardHookIdentity:
        # the node that runs a module's backward hooks (register_full_backward_hook) is the
        # engine's, not a user's Function: an op of the hook made it, as in a hook on a
        # tensor's gradient (it was "_BackwardHookIdentity (a custom autograd Function)")
        return Origin(op, "backward", describe(found), in_hook=True,
                      layer=layer_of(site)).located(where)
    return dataclasses.replace(origin, inside=op, layer=layer_of(site)).located(where)


def hook_origin(inner, grad_outputs, site):
    """The Origin of a birth by the op ``inner`` ((op, site)) run inside a backward between two
    nodes, when the gradients the next node received already hold it: an op of a hook on that
    gradient (``h.register_hook(lambda g: g / g.norm(...))`` over rows whose gradient is 0).
    Else None. The node saw only a non-finite gradient come in: no op was named before."""
    held = set()
    for grad in grad_outputs:
        if grad is not None:
            held |= kinds(grad._data)
    if not held:
        return None
    op, where = inner
    return Origin(op, "backward", describe(held), in_hook=True,
                  layer=layer_of(site)).located(where)


def node_origin(node_class, site, inner, grad_inputs, grad_outputs):
    """The Origin of a birth seen when the backward of a node of ``node_class`` (recorded at
    ``site``) is done, or None: the one rule of the re-run's tracer and of the live check
    (``record_sites``). ``inner``: (op, site) of the first op that gave birth inside a backward
    since the node before finished. Called only while no earlier node gave birth: a gradient
    the node received non-finite was made by an op of a hook on it, which goes first (an inf
    the hook made, which this node then turns into nan, is the hook's, not the node's)."""
    if inner is not None:
        hooked = hook_origin(inner, grad_outputs, site)
        if hooked is not None:
            return hooked
    found = backward_birth(grad_inputs, grad_outputs)
    return backward_origin(node_class, site, found, inner) if found else None


def placed_array(array):
    """A mask's values, placed on purpose, not data: a number given to an op (a 0-d tensor:
    masked_fill's value), a tensor filled with it (``full_like(x, -inf)``), or an additive
    mask (0 where kept, one infinity where masked: ``triu(full((n, n), -inf), 1)``)."""
    if array.dtype.kind != "f" or array.size == 0:
        return False
    infinite = np.isinf(array)
    if not infinite.any():
        return False
    sign = array[infinite]
    return bool((sign == sign[0]).all()) and not bool(array[~infinite].any())


class Masks:
    """Infinities placed on purpose (``masked_fill(mask, -inf)``, ``where(mask, x, -inf)``,
    ``fill_``, an additive mask of 0 and -inf) and the tensors that carry them on, in one
    forward (on evidence only: ``judge`` is asked only of an op whose output is non-finite and
    gave birth to nothing).

    An op whose non-finite inputs all hold placed infinities *carries* them when its output is
    a view of such an input, has as many elements (an elementwise op, log_softmax, a reshape, a
    cat) or whole rows of its last axis (``logits[valid]``): they are still a mask. One whose
    output is smaller otherwise *made* a non-finite value of them: it picked or reduced masked
    entries into a value not meant to hold one (a cross_entropy or nll_loss whose target's logit
    is -inf, a gather, a mean over masked positions); that op is where the loss or the gradient
    went wrong. (Telling these apart by
    the sign of the inf instead broke a model: a convolution turns a +inf input into -inf.)"""

    def __init__(self):
        # id -> a tensor holding only placed infinities (kept: its id stays its own)
        self._held = {}

    def hold(self, tensors_):
        for tensor in tensors_:
            self._held[id(tensor)] = tensor

    def placed(self, tensor):
        return id(tensor) in self._held or placed_array(tensor._data)

    def judge(self, args, outputs):
        """"carried", "made", or None when a non-finite input is not placed (data, or a value
        some op gave birth to)."""
        out = tensors(outputs)
        largest, views = None, False
        for tensor in tensors(list(args)):
            array = tensor._data
            if finite(array):
                continue
            if not self.placed(tensor):
                return None
            if largest is None or array.size > largest.size:
                largest = array
            views = views or any(np.may_share_memory(o._data, array) for o in out)
        if views or largest is None or all(_as_large(o._data, largest) for o in out):
            self.hold(out)  # (no non-finite input at all: an op placing a value)
            return "carried"
        return "made"


def _as_large(array, mask):
    """``array`` still has the shape of a mask like ``mask``: as many elements, or whole rows
    of its last axis (the classes or keys it masks: ``logits[valid]`` drops padded rows)."""
    return array.size >= mask.size or (array.ndim >= 2 and mask.ndim >= 2
                                       and array.shape[-1] == mask.shape[-1])


# what an op's inputs show about a forward birth, and its remedy: the generic remedy (clamp,
# an epsilon, log_softmax, ...) lists every cause, and sent a mask given the other way round
# or a +inf mask looking for a log to clamp
_CAUSES = {
    "masked_row": (
        "every entry of a row of its scores is -inf, so the softmax divides 0 by 0: a mask "
        "hides every position of that row (a sequence of padding only, or a mask given the "
        "other way round: key_padding_mask and a bool attn_mask hide where True, "
        "F.scaled_dot_product_attention's bool attn_mask keeps where True)",
        "make sure every row keeps at least one position (pass the mask with the meaning the "
        "function reads; let a sequence of padding only attend to its first position, or drop "
        "it from the batch), or mask with a large finite value (-1e9) instead of -inf"),
    "plus_inf": (
        "its input holds +inf, and the softmax subtracts the row's largest value: inf - inf is "
        "nan (a mask added with the wrong sign: +inf where -inf was meant)",
        "mask with -inf (scores.masked_fill(mask, float('-inf'))) or a large negative value, "
        "never +inf"),
    "zero_divisor": (
        "its divisor holds 0 (a learned scale or temperature that reached 0 or was clamped to 0, "
        "a count or a norm of 0, or a norm whose added constant was set to 0, such as "
        "LocalResponseNorm's k, over a window of zeros)",
        "keep the divisor away from 0: clamp it (t.clamp(min=1e-4)), learn a scale through a "
        "positive map (t = log_t.exp(), F.softplus), or add an epsilon to a norm or a count "
        "(a norm's k or eps above 0: LocalResponseNorm's default k is 1)"),
    "zero_by_zero": (
        "0 / 0: its divisor holds 0 where what it divides is 0 too (a standard deviation of "
        "identical values dividing their deviations from the mean: advantages or returns "
        "standardised over a batch whose episodes all scored the same, a feature constant over "
        "the batch; a norm of a zero vector dividing that vector or its products, such as a "
        "cosine of an empty or padding embedding, or a norm whose added constant was set to 0, "
        "such as LocalResponseNorm's k, over a window of zeros; a mean over no entries, such "
        "as a mask that is all zero)",
        "add an epsilon to the divisor ((x - x.mean()) / (x.std() + 1e-8); a norm clamped, as "
        "F.cosine_similarity and F.normalize do, or its k or eps above 0: LocalResponseNorm's "
        "default k is 1; a count clamped at 1), or leave out the rows with nothing to divide"),
    "ctc_unalignable": (
        "an input length is shorter than its target can be aligned in (its label count plus "
        "one blank between each repeated pair): no alignment exists, so the loss is inf "
        "(zero_infinity=False) and its gradient nan; input_lengths counted before a stride or "
        "pooling that shortened the frames, or given for other sequences, do this",
        "pass input_lengths of the frames the model outputs (after its strides), at least the "
        "target's length plus its repeats; zero_infinity=True drops the samples that cannot "
        "be aligned (their loss and gradient 0) where some are expected"),
    "eps_zero": (
        "its eps is 0: a row (or group) whose values are all equal, such as a padding token's "
        "embedding of zeros or a constant feature, has variance 0, and 0/0 is nan",
        "keep eps at its default (1e-5) or above"),
    "infinite_pad": (
        "it pads with an infinity (F.pad(x, ..., value=float('-inf')), so that a max pool "
        "after it ignores the padding): wherever the padding is as wide as a pooling window "
        "or wider, a window holds padding only and its maximum is -inf, which the next "
        "convolution, sum or normalisation turns into nan",
        "pad each side by less than the pool's kernel (kernel_size // 2 keeps the length), or "
        "let the pool pad (nn.MaxPool1d(kernel_size, padding=...), which never returns the "
        "padding), or pad with a large finite value (-1e4) instead of -inf"),
    "float16": (
        "it computes in float16, which holds no value above 65504 (the exp of more than 11, "
        "the square of more than 256 and a sum of many squares overflow to inf) and rounds "
        "values below 6e-8 to 0 (a softmax's probability of a class 17 below the best, whose "
        "log is then -inf)",
        "compute this op in float32 (x.float(), back with .half() after), or use the fused, "
        "stable ops that do (F.log_softmax, F.cross_entropy, F.layer_norm, F.mse_loss); "
        "subtract the row's largest value before an exp, and clamp with a bound float16 holds "
        "(1e-4: 1e-12 is 0 in float16)"),
}
_SOFTMAX_OPS = {"Softmax", "LogSoftmax"}
_NORM_OPS = {"LayerNorm", "GroupNorm", "RmsNorm", "BatchNorm", "InstanceNorm"}


def forward_cause(node, args):
    """The key in ``_CAUSES`` of what in an op's inputs made its non-finite output, for the ops
    whose inputs tell; else None. Read once, at the birth the tracer names."""
    name = op_name(node)
    options = getattr(node, "forward_options", None) or {}
    if name in _SOFTMAX_OPS or name == "ScaledDotProductAttention":
        # (the fused attention's scores are q k^T + its additive mask: only the mask holds inf)
        scores = options.get("mask") if name == "ScaledDotProductAttention" else (
            args[0]._data if args and hasattr(args[0], "_data") else None)
        if not isinstance(scores, np.ndarray) or scores.ndim == 0:
            return None
        axis = -1 if name == "ScaledDotProductAttention" else options.get("dim", -1)
        with np.errstate(invalid="ignore"):
            if np.isposinf(scores).any():
                return "plus_inf"
            if np.isneginf(scores).all(axis=axis).any():
                return "masked_row"
        return None
    if name == "Pad" and np.isinf(options.get("value", 0.0)):
        # (a placed value, but not a mask: nothing tells a padded -inf that only a max reads
        # from one that a convolution will multiply, so the pad is where it entered)
        return "infinite_pad"
    if name == "Div" and len(args) == 2 and hasattr(args[1], "_data"):
        zero = args[1]._data == 0
        if not zero.any():
            return None
        # 0 / 0, not x / 0: a divisor that is 0 because what it divides is (a std or norm of
        # nothing but equal values or zeros, a count of nothing), whose remedy is an epsilon
        top = args[0]._data if hasattr(args[0], "_data") else np.asarray(args[0])
        top, zero = np.broadcast_arrays(top, zero)
        return "zero_by_zero" if (top[zero] == 0).all() else "zero_divisor"
    if name == "CtcLoss":
        targets, lengths = options.get("targets"), options.get("input_lengths")
        if targets is not None and lengths is not None:
            for row, length in zip(targets, lengths):
                row = np.asarray(row)
                if length < len(row) + int((row[1:] == row[:-1]).sum()):
                    return "ctc_unalignable"
        return None
    if name in _NORM_OPS:
        eps = options.get("eps")
        if eps is not None and not eps > 0:
            return "eps_zero"
    # finite float16 inputs made it: its narrow range did (overflow above 65504, a result
    # rounded to 0 below 6e-8); the generic remedy's clamp(min=1e-12) is itself 0 in float16
    floats = [a._data.dtype for a in args
              if hasattr(a, "_data") and a._data.dtype.kind == "f"]
    return "float16" if floats and all(d == np.float16 for d in floats) else None


def birth_in_backward(node, args, outputs, module_names=None, rerun=None):
    """(op, site) when an op run inside a backward (a custom Function's backward is made of
    ops) gave birth to a non-finite value, else None. Called only where every op is watched:
    on evidence, or with ``record_sites``."""
    if not forward_birth(node, args, outputs):
        return None
    return op_name(node), call_site(module_names, rerun, skip=2)


class NonFiniteTracer:
    """While active (a context manager), checks every op's outputs; ``origin`` is the first op
    that gave birth to a non-finite value (see the module docstring), with its call site.

    >>> x = torch.ones(3)
    >>> with NonFiniteTracer() as tracer, np.errstate(divide="ignore"):
    ...     y = torch.log(x - x)
    >>> tracer.origin.op, tracer.origin.pass_, tracer.origin.kind
    ('Log', 'forward', 'inf')

    With ``backward=True`` it also hooks every recorded op's node, so that the first op whose
    backward gives birth to a non-finite gradient is found (``origin`` with pass "backward")
    when a backward pass later runs through them."""

    def __init__(self, module_names=None, backward=False, rerun=None):
        self.module_names = module_names or {}
        self.backward = backward
        self.rerun = rerun  # see call_site
        self.origin = None
        # the first op that made a non-finite value of placed infinities (see Masks): no
        # birth, but where the model's own mask went wrong, when nothing else did
        self.mask_made = None
        self._masks = Masks()
        self._remove = None
        self._inner = None  # the first birth by an op inside the backward of the running node
        self._depth = 0  # backward passes running when it became active

    def __enter__(self):
        # (evidence comes at the end of a backward, so a re-run's forward may itself run
        # inside one: only a backward started since is the traced one)
        self._depth = backward_depth()
        self._remove = add_forward_observer(self._observe)
        return self

    def __exit__(self, *exc):
        self._remove()

    def _observe(self, node, args, outputs):
        if self.origin is not None:
            return
        if backward_depth() > self._depth:  # an op of a backward rule (a custom Function's)
            if self.backward and self._inner is None:
                self._inner = birth_in_backward(node, args, outputs, self.module_names,
                                                self.rerun)
            return
        if self.backward and True in node.needs_input_grad:
            node.register_hook(self._backward_hook(type(node), call_site(self.module_names,
                                                                         self.rerun)))
        found = forward_birth(node, args, outputs)
        if found:
            self.origin = Origin(op_name(node), "forward", describe(found),
                                 cause=forward_cause(node, args)).located(
                call_site(self.module_names, self.rerun))
        elif self.mask_made is None and not all(finite(t._data) for t in tensors(outputs)):
            if self._masks.judge(args, outputs) == "made":
                made = set()
                for t in tensors(outputs):
                    made |= kinds(t._data)
                self.mask_made = Origin(op_name(node), "forward", describe(made),
                                        from_mask=True).located(
                    call_site(self.module_names, self.rerun))

    def _backward_hook(self, op, site):
        def hook(grad_inputs, grad_outputs):  # holds the op's class, not its node: no cycle
            inner, self._inner = self._inner, None  # (what ran inside this node's backward)
            if self.origin is None:
                self.origin = node_origin(op, site, inner, grad_inputs, grad_outputs)
        return hook


_OVERFLOWING = {"Exp", "Expm1", "Sinh", "Cosh"}  # ops whose inf is an overflow (``explain``)


def explain(origin):
    """The finding's message for ``origin``: what happened, where, and the remedy."""
    o = origin
    became = f" (it became {o.became})" if o.became else ""
    if o.op == "parameter":
        return (f"parameter '{o.layer}' already held {o.kind} values when the {o.pass_} pass "
                f"ran{became}: an earlier update (or the initialisation, or loading the weights) "
                "made it non-finite. Remedy: lower the learning rate, clip gradients "
                "(nn.utils.clip_grad_norm_(params, 1.0)), check the loaded weights")
    if o.op == "input":
        return (f"the model's input holds {o.kind} values, at {o.where()} ({o.pass_} pass)"
                f"{became}. Remedy: clean the data (missing values, divisions by zero in "
                "preprocessing) or mask them out before the model")
    if o.op == "data":
        return (f"{o.kind} entered the loss computation through {o.entered_at} at {o.where()} "
                f"({o.pass_} pass){became}: one of its inputs from outside the model (the "
                "targets, a mask, class weights, another model's output) already held it. "
                "Remedy: clean the targets or check the other model")
    if o.op == "loss":
        return (f"the loss became {o.kind} in the {o.pass_} pass while the model's outputs were "
                "finite: the loss computation made it, in ops computed without gradient "
                "tracking. Remedy: use the fused, stable losses (F.cross_entropy on logits, "
                "F.binary_cross_entropy_with_logits) and clamp what you take the log of")
    if o.op == "unwatched":
        what = "the loss" if o.pass_ == "forward" else "the gradients"
        return (f"{what} became {o.kind} in the {o.pass_} pass, but the model's own forward "
                "did not run this step (its parts were called one by one, such as "
                "model.encoder(...) then model.decoder(...)), so neither its output nor the ops "
                "after it were watched and the op that made it cannot be named. Remedy: put the "
                "step's forward in the model's forward() and call the model, or monitor the part "
                "that runs it")
    if o.op == "unknown":
        return (f"{o.kind} appeared in the {o.pass_} pass, but no single op made it from finite "
                "values. Remedy: check custom Functions and in-place edits of tensors")
    place = "in the loss computation" if o.in_loss else (
        f"in layer '{o.layer}'" if o.layer else "in the model")
    if o.in_hook:
        place = f"in a hook on a gradient (a tensor's or a module's backward hook) {place}"
    if o.from_mask:
        return (f"{o.op} produced {o.kind} in the {o.pass_} pass {place}, called at {o.where()}, "
                "out of infinities the model placed on purpose (a mask: masked_fill(mask, "
                "-inf)): it picked or summed masked entries, such as a target whose logit is "
                "-inf (a label of a class the model masks out), label smoothing giving every "
                "class, masked ones too, a share of the target, or a mean over masked positions. "
                "Remedy: check the labels against the mask (no target in a masked class), "
                "leave masked positions out of the loss (or no label smoothing over masked "
                "classes), or mask with a large finite value (-1e9) instead of -inf")
    if o.inside:
        return (f"{o.op} (a custom autograd Function) produced {o.kind} in the {o.pass_} pass "
                f"{place}: {o.inside} in its backward made it from finite values, at "
                f"{o.where()}. Remedy: guard that line where the forward is flat or singular (a "
                "division by a saved output that can be 0, the log or sqrt of one): add an "
                "epsilon, clamp, or mask those entries, and compare the backward with "
                "torch.autograd.gradcheck in float64")
    if o.cause in _CAUSES:
        what, remedy = _CAUSES[o.cause]
        return (f"{o.op} produced {o.kind} in the {o.pass_} pass {place}, called at "
                f"{o.where()}: {what}. Remedy: {remedy}")
    if o.kind == "inf" and o.op in _OVERFLOWING:
        # exp-like ops make inf from finite inputs only by overflow (exp above 88 in float32):
        # a clamp at a minimum and an epsilon, the domain remedy, do nothing for them (a
        # RealNVP coupling's exp(s) with s unbounded, a VAE's exp(logvar) at a high rate)
        return (f"{o.op} produced inf in the {o.pass_} pass {place}, called at {o.where()}: "
                "its input grew past what the dtype holds (exp overflows above 88 in float32). "
                "Remedy: bound that input (s = scale * torch.tanh(s / scale), or "
                "x.clamp(max=...)), keep the quantity in log space (logsumexp, a log-variance "
                "used as a log), or lower the learning rate if it grew with the weights")
    remedy = ("keep the op's input inside its domain: clamp it (x.clamp(min=1e-12)) before "
              "log/sqrt/division, use log_softmax/logsigmoid instead of log(softmax(...)), make "
              "sure no softmax row is masked entirely, add an epsilon, or lower the learning rate")
    return (f"{o.op} produced {o.kind} in the {o.pass_} pass {place}, called at {o.where()}. "
            f"Remedy: {remedy}")
