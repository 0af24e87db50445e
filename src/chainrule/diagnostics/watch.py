"""``NonFiniteWatch``: finds where a NaN or Inf is born, for one model, cheaply.

What it pays every step: the inputs of each training forward of the model and, when the forward
draws random numbers, the random state it started from (to run it again), a hook keeping the
gradient its output receives, and a look at the few ops that run between the end of the
model's forward and the start of its backward (the loss computation): their outputs are
checked, and where their backward can give birth (not cross-entropy's, MSE's and the like:
``_FINITE_BACKWARD``), their call sites recorded and their backward hooked (the gradients a
loss op's backward makes are kept, and checked only on evidence).
The model's own ops are not watched. Only on evidence, when the loss or a parameter's gradient
(which the monitor measures at the end of the backward that completes it) turns out
non-finite, is the model's forward run again from the same inputs and random state with every
op checked, and, for a gradient, its backward too, from the same output gradient, while the
weights that made it are still there. With ``record_sites=True`` every op is watched live
instead (slower, nothing is run twice).

Evidence is the model's own: a NaN in another model (a critic, a teacher) is reported only if it
reaches this model's loss or gradients.
"""

import dataclasses
import functools
import math
import sys
import weakref

import numpy as np

from .. import autograd, random
from ..autograd import function, grad_mode
from ..autograd.engine import add_forward_observer, backward_running
from ..tensor import Tensor
from .nonfinite import (
    Masks,
    NonFiniteTracer,
    Origin,
    backward_birth,
    backward_origin,
    birth_in_backward,
    call_site,
    describe,
    finite,
    forward_birth,
    forward_cause,
    forward_codes,
    kinds,
    node_origin,
    op_call_site,
    op_name,
    placed_array,
    source_line,
    tensors,
)

MAX_CALLS = 8  # training forwards kept per step for a re-run (a model called several times)
# Built-in loss ops whose backward makes finite gradients of finite inputs and a finite incoming
# gradient (softmax or sigmoid minus the target, a difference, its sign, a broadcast), with the
# forward found finite: nothing can be born in it, so it is neither hooked nor placed in the
# source each step (a frame walk and a hook, ~8 us of the bench mlp's monitor). Not BCE on
# probabilities, KL, a Div, a Log, a Sqrt or a Pow: their backward divides or takes a root.
_FINITE_BACKWARD = frozenset({"CrossEntropy", "NllLoss", "BinaryCrossEntropyWithLogits",
                              "MseLoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "Sum"})
_rerunning = [0]  # shared by every watch: ops of a re-run belong to nobody's step


class _Call:
    """One training forward of the model: what is needed to run it again. ``rng``: the default
    generator's state before the forward's first draw from it (None while it drew nothing: run
    again, it draws nothing either). ``code`` and ``instruction``: where the line that called
    the model is (its file and line, ``caller``, are worked out only when a finding needs them:
    a frame's line number decodes its code's line table)."""

    __slots__ = ("args", "kwargs", "rng", "code", "instruction", "outputs", "grads")

    def __init__(self, args, kwargs, code, instruction):
        self.args, self.kwargs, self.code, self.instruction = args, kwargs, code, instruction
        self.rng = None
        self.outputs = ()
        self.grads = {}  # output position -> the gradient it received

    @property
    def caller(self):
        """(file, line) of the call."""
        return self.code.co_filename, _line_at(self.code, self.instruction)


def _line_at(code, instruction):
    """The line of ``code`` holding the instruction at byte offset ``instruction`` (a frame's
    ``f_lasti``), as ``frame.f_lineno`` gives it while the frame is there."""
    for start, end, line in code.co_lines():
        if start <= instruction < end:
            return line
    return code.co_firstlineno


def _rng_state():
    """The default generator's state (not through ``numpy_generator``: no draw follows)."""
    return random.default_generator.numpy.bit_generator.state


def _set_rng_state(state):
    random.default_generator.numpy.bit_generator.state = state


def _versions(made, received):
    versions = []
    for grads in (made, received):
        for grad in grads:
            if grad is not None:
                versions.append(grad._version_box[0])
    return versions


class _Replay:
    """What running a custom Function's backward again needs, kept from its forward: the
    engine frees a node's saved tensors before its hooks run, and a custom backward is the
    user's Python, whose line (not the ``.apply`` call's) is where a birth in it happened.
    Holds the node weakly (it holds the hook that holds this: a cycle) and the saved tensors'
    arrays and version counters, not the tensors (a saved output's ``grad_fn`` is the node).
    NOTE: only for a Function that is not chainrule's own, used in the loss (rare): its saved
    arrays live until the step's checks are dropped and its graph is, not only until its
    backward ran; a built-in op's backward is chainrule's, its call's line already the place."""

    __slots__ = ("node", "arrays", "boxes", "versions")

    def __init__(self, node):
        self.node = weakref.ref(node)
        saved = node._saved
        self.arrays = [None if t is None else t._data for t in saved]
        self.boxes = [None if t is None else t._version_box for t in saved]
        self.versions = list(node._saved_versions)

    def inner(self, received):
        """(op, site) of the first op of the backward that gave birth, run again from the
        gradients it ``received``, or None (the node gone, a saved tensor edited in place since,
        or the backward failing out of its pass)."""
        node = self.node()
        if node is None or any(box is not None and box[0] != version
                               for box, version in zip(self.boxes, self.versions)):
            return None
        found = []

        def observe(op, args, outputs):
            if not found:
                birth = birth_in_backward(op, args, outputs)
                if birth is not None:
                    found.append(birth)

        # copies: a backward that edits what it was given in place must not edit the step's
        fresh = tuple(None if a is None else Tensor._from_array(a.copy()) for a in self.arrays)
        received = [g if g is None else Tensor._from_array(g._data.copy()) for g in received]
        state = node._saved, node._saved_versions, node._freed
        node._saved, node._saved_versions, node._freed = fresh, [0] * len(fresh), False
        now = _rng_state()
        remove = add_forward_observer(observe)
        _rerunning[0] += 1  # (its ops are nobody's step)
        try:
            with grad_mode.set_grad_enabled(False), np.errstate(all="ignore"):
                type(node).backward(node, *received)
        except Exception:  # a backward that needs more than this (no line: .apply's stays)
            pass
        finally:
            _rerunning[0] -= 1
            remove()
            _set_rng_state(now)
            node._saved, node._saved_versions, node._freed = state
        return found[0] if found else None


def _foreign_infinities(tensor):
    """A tensor of infinities only, made by no op of this step: another model's output that
    overflowed everywhere (a teacher's logits all -inf), not a mask (a mask keeps something:
    ``full_like(x, -inf)`` is only ever one side of a ``where``, which gives birth to nothing).
    Asked only of an op of the loss that gave birth to a non-finite value."""
    array = tensor._data
    return (tensor.grad_fn is None and array.size > 1 and array.dtype.kind == "f"
            and bool(np.isinf(array).all()))


class _BackwardCheck:
    """A loss op's backward, checked for a birth when there is evidence: what it received and
    made, and their versions then. A gradient summed into in place since (kept as a leaf's
    ``.grad`` by an earlier backward of the step, and accumulated into by a later one) no
    longer shows what this op made: its check is then void. ``replay``: a custom Function's
    (``_Replay``), to find the line inside its backward where a birth happened."""

    __slots__ = ("op", "site", "in_loss", "made", "received", "versions", "replay")

    def __init__(self, op, site, in_loss, grad_inputs, grad_outputs, replay=None):
        self.op, self.site, self.in_loss = op, site, in_loss
        self.made, self.received = grad_inputs, grad_outputs
        self.versions = _versions(grad_inputs, grad_outputs)
        self.replay = replay

    def origin(self, inner=None):
        """The Origin of a birth in this backward, or None. ``inner``: the birth seen inside
        it, if its ops were watched (see nonfinite.backward_origin); else, for a custom
        Function, its backward is run again (on evidence only) to see it."""
        if self.versions != _versions(self.made, self.received):
            return None
        origin = node_origin(self.op, self.site, inner, self.made, self.received)
        if origin is not None and inner is None and self.replay is not None:
            inner = self.replay.inner(self.received)
            if inner is not None:
                origin = backward_origin(self.op, self.site,
                                         backward_birth(self.made, self.received), inner)
        return None if origin is None else dataclasses.replace(origin, in_loss=self.in_loss)


class NonFiniteWatch:
    """Watches ``model`` (see the module docstring); ``origin`` is the first non-finite value's
    Origin, None while all is finite. ``on_origin(origin)`` is called once, as soon as it is
    known. ``close()`` detaches."""

    def __init__(self, model, record_sites=False):
        self.model = model
        self.record_sites = record_sites
        self.module_names = {id(m): name or type(m).__name__
                             for name, m in model.named_modules()}
        self.forwards = forward_codes(model.modules())  # (for call_site)
        self.origin = None
        self.on_origin = None
        self.on_loss_leaf = None  # called with each leaf tensor (a parameter) a loss op takes
        self.events = []  # Origins seen live this step (the loss, or all ops with record_sites)
        self.backward_checks = []  # the loss ops' backward, since the model's last forward
        # nodes a backward recorded under create_graph this step (gradients: _observe); None
        # while there are none (a WeakSet's truth is a Python call: end_step asks every step)
        self._made_in_backward = None
        self.calls = []  # this step's training forwards
        # per running forward of the model, innermost last: the generator's state before its
        # first draw (None: none yet; a forward that raised stays, below the next one's)
        self._running = []
        self._undrawn = False  # a running forward has not drawn yet
        self._remove_draw_observer = None
        self._depth = 0  # > 0 while the model's forward runs
        self._ran = False  # the model's own forward ran this step
        self._forward_event = False  # an event of the forward pass is known this step
        self._observer = self._observe  # one bound method: added to and removed from the list
        self._observing = False  # self._observer is among the engine's forward observers
        self._inner = None  # with record_sites: a birth inside the running node's backward
        self._masks = None  # placed infinities seen in the loss computation (_masks_of_step)
        self._handles = []
        self.attach()

    def attach(self):
        if self._handles:
            return
        self.end_step()
        self._handles = [
            self.model.register_forward_pre_hook(self._before_forward),
            self.model.register_forward_hook(self._after_forward, with_kwargs=True),
        ]
        self._remove_draw_observer = random.add_draw_observer(self._before_draw)
        if self.record_sites:
            self._open()

    def close(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._remove_draw_observer is not None:
            self._remove_draw_observer()
            self._remove_draw_observer = None
        self._close()

    # NOTE: the observer is added and removed on every step: the list itself, not
    # engine.add_forward_observer, which makes a function to remove it each time
    def _open(self):
        if not self._observing:
            function._forward_observers.append(self._observer)
            self._observing = True

    def _close(self):
        if self._observing:
            self._observing = False
            observers = function._forward_observers
            if self._observer in observers:
                observers.remove(self._observer)

    def end_step(self):
        """The step is over: forget its forwards and events."""
        # new lists where there is something to forget (a finding may hold the old ones)
        if self.events:
            self.events = []
        self.calls, self._forward_event, self._depth, self._ran = [], False, 0, False
        if self.backward_checks:
            self.backward_checks = []
        if self._made_in_backward is not None:
            self._made_in_backward = None
        if self._running:
            self._running, self._undrawn = [], False
        if self._observing and not self.record_sites:
            self._close()

    def _found(self, origin):
        if self.origin is None:
            self.origin = origin
            if self.on_origin is not None:
                self.on_origin(origin)

    # -- the model's forward ----------------------------------------------------------------------
    # NOTE: the forward's call is recorded after it, where its arguments are also at hand: the
    # pre-hook only marks that a forward runs (what it did before was 6 of the watch's ~30 us
    # a step on the bench MLP, its code run cold after the optimizer's update)
    def _before_forward(self, module, args):
        if not _rerunning[0]:
            self._depth += 1
            self._running.append(None)  # the generator's state is read at its first draw, if any
            self._undrawn = True

    def _before_draw(self):
        # NOTE: reading the generator's state cost 22-27 us a step (measured on the mlp step:
        # its code runs cold after the optimizer's update); most forwards draw nothing, and a
        # forward that draws gets its state here first
        if self._undrawn and not _rerunning[0]:
            state, running = _rng_state(), self._running
            for i, held in enumerate(running):
                if held is None:
                    running[i] = state
            self._undrawn = False

    def _after_forward(self, module, args, kwargs, output):
        if _rerunning[0]:
            return
        # (every call is recorded, whatever the depth: a forward that raised left it high)
        self._depth -= 1
        self._ran = True
        running = self._running
        drawn_from = running.pop() if running else None
        self._undrawn = None in running  # (an outer forward still to draw)
        if not grad_mode._state.enabled:
            return  # an evaluation: nothing to run again
        if self.backward_checks:
            # a backward's evidence (the tap's reads) came during that backward: the gradients
            # kept for it need not outlive it
            self.backward_checks = []
        calls = self.calls
        if len(calls) >= MAX_CALLS:
            del calls[0]
        caller = sys._getframe(2)  # the line that called the model (Module.__call__'s caller)
        call = _Call(args, kwargs, caller.f_code, caller.f_lasti)
        call.rng = drawn_from  # None: it drew nothing, and its re-run will not either
        calls.append(call)
        call.outputs = outputs = [output] if hasattr(output, "_data") else tensors(output)
        for position, out in enumerate(outputs):
            if out._requires_grad:
                # (a partial: made in C, not by a Python call run cold on every step)
                hook = functools.partial(self._keep_output_grad, call.grads, position)
                node = out.grad_fn
                # a new output's node has no hooks yet: out.register_hook's work, without its
                # checks and handle (the hook is removed with the node)
                if node is not None and node._output_hooks is None:
                    node._output_hooks = {out._output_nr: [hook]}
                else:
                    out.register_hook(hook)
        if not self._observing:  # watch the loss computation (``_open``, inline: every step)
            function._forward_observers.append(self._observer)
            self._observing = True

    def _forward_origin(self):
        """Where a non-finite output of this step's forwards was born, or None if all were
        finite. Runs the forward again with every op checked (unless seen live)."""
        for call in self.calls:
            found = set()
            for out in call.outputs:
                found |= kinds(out._data)
            if not found:
                continue
            origin = self._first_event(in_loss=False)
            tracer = None
            if origin is None:
                tracer = self.rerun(call, self._tracer(call))
                origin = tracer.origin
            held = self._held_already("forward", list(call.args) + list(call.kwargs.values()),
                                      found)
            if origin is None and held.op == "unknown":
                # no op made it and nothing held it: infinities the model placed on purpose (a
                # -inf mask). An op of the model that picked or summed them is named; else they
                # left it as a mask, and the loss op that did so is named (see _observe)
                if tracer is not None and tracer.mask_made is not None:
                    return tracer.mask_made
                if found == {"inf"}:
                    continue
            if origin is None or (held.op != "unknown"
                                  and origin.op not in ("input", "parameter")):
                # an op that turned an inf the input (or a parameter) held into nan (a
                # convolution summing +inf and -inf, a normalisation subtracting inf from inf)
                # made nothing new: what held it is the cause, the op where it changed kind
                # only a detail of the message
                origin = held if origin is None else dataclasses.replace(
                    held, became=f"{origin.kind} at {origin.op} in layer '{origin.layer}'"
                    if origin.layer else f"{origin.kind} at {origin.op}")
            if origin.op == "input":
                file, line = call.caller
                origin = origin.located(Origin("", "", "", file, line, source_line(file, line)))
            return origin
        return None

    def _tracer(self, call, backward=False):
        """A tracer for running ``call`` again: ops of the model's own modules are placed at
        the line that called the model."""
        return NonFiniteTracer(self.module_names, backward,
                               rerun=(NonFiniteWatch.rerun.__code__, call.caller))

    def _held_already(self, pass_, args, found):
        """No op made the value (kinds ``found``) from finite inputs: a parameter (or the
        input) held it."""
        for name, param in self.model.named_parameters():
            held = kinds(param._data)
            if held:
                return Origin("parameter", pass_, describe(held), layer=name)
        for tensor in tensors(list(args)):
            held = kinds(tensor._data)
            if held and not placed_array(tensor._data):  # (a mask given to the model is no data)
                return Origin("input", pass_, describe(held))
        return Origin("unknown", pass_, describe(found))

    def rerun(self, call, tracer, backward=False):
        """Run a forward of the model again (same inputs, same random state, buffers restored)
        with ``tracer`` active; with ``backward``, run its backward again from the gradients
        its outputs received. Returns the tracer."""
        now = _rng_state()
        buffers = [(b, b._data.copy()) for b in self.model.buffers()]
        _rerunning[0] += 1
        try:
            if call.rng is not None:
                _set_rng_state(call.rng)
            with grad_mode.set_grad_enabled(backward):
                with tracer:  # (the backward too: a custom Function's backward is ops)
                    outputs = tensors(self.model(*call.args, **call.kwargs))
                    if backward:
                        pairs = [(out, call.grads[i]) for i, out in enumerate(outputs)
                                 if i in call.grads and out.requires_grad]
                        params = [p for p in self.model.parameters() if p.requires_grad]
                        if pairs and params:
                            autograd.grad([o for o, _ in pairs], params,
                                          grad_outputs=[g for _, g in pairs],
                                          allow_unused=True)
        finally:
            _rerunning[0] -= 1
            _set_rng_state(now)
            for buffer, saved in buffers:
                buffer._data[...] = saved
        return tracer

    def _keep_output_grad(self, store, position, grad):
        """A hook on a model output (bound to its call's ``store`` and its ``position``): keeps
        the gradient it receives (to run the backward again). When it runs, the backward has
        left the loss: the ops that follow are not the loss's, unless it records a graph
        (``create_graph``: grad mode is on inside it), whose gradients a penalty the loss
        adds next is made of."""
        store[position] = grad
        if self._observing and not self.record_sites and not grad_mode._state.enabled:
            self._close()

    # -- ops outside the model's forward (the loss), or every op with record_sites ---------------
    def _observe(self, node, args, outputs):
        if _rerunning[0] or not grad_mode._state.enabled or backward_running():
            # ops of a backward rule, an optimizer or an evaluation, or a re-run; with
            # record_sites, a backward's ops are where a custom Function's backward gives birth
            if (self.record_sites and self._inner is None and not _rerunning[0]
                    and backward_running()):
                self._inner = birth_in_backward(node, args, outputs, self.module_names)
            elif grad_mode._state.enabled and not _rerunning[0] and backward_running():
                # a backward recording its graph (create_graph, the observer kept open by
                # _keep_output_grad): what it makes is a gradient, not data from outside
                if self._made_in_backward is None:
                    self._made_in_backward = weakref.WeakSet()
                self._made_in_backward.add(node)
            return
        in_loss = self._depth == 0
        if not in_loss and not self.record_sites:
            return
        if in_loss and self.on_loss_leaf is not None:
            for arg in args:
                if hasattr(arg, "_data"):
                    if arg._requires_grad and arg.grad_fn is None:
                        self.on_loss_leaf(arg)
                elif isinstance(arg, (list, tuple, dict)):  # tensors in a list (cat, stack)
                    for leaf in tensors(arg):
                        if leaf._requires_grad and leaf.grad_fn is None:
                            self.on_loss_leaf(leaf)
        site = None
        if True in node.needs_input_grad and (  # recorded: its backward may give birth too
                self.record_sites or not node._builtin_op
                or type(node).__name__ not in _FINITE_BACKWARD):
            # (skip: this observer, and Function.apply)
            site = op_call_site(self.module_names, self.forwards, skip=2)
            hook = self._backward_hook(type(node), site, in_loss, node)
            if node._node_hooks is None:  # node.register_hook's work, without its handle
                node._node_hooks = [hook]
            else:
                node._node_hooks.append(hook)
        if self._forward_event:
            return
        if hasattr(outputs, "_data"):  # one output (the common case: a loss is one number)
            array = outputs._data
            if array.size == 1:
                # NOTE: a loss's one value tested here, not through finite(): its dtype tests
                # and call were 3 us of this observer's 15, run cold on every step
                try:
                    if math.isfinite(array.item()):
                        return  # nothing born, nothing entered
                except TypeError:  # a complex value
                    if finite(array):
                        return
            elif finite(array):
                return
            results = [outputs]
        else:
            results = tensors(outputs)
            if all(finite(t._data) for t in results):
                return  # nothing born, nothing entered (checked once)
        found = forward_birth(node, args, outputs)
        became, from_mask = None, False
        if in_loss:
            # what held a non-finite value before this op: data from outside the model (the
            # targets, class weights, another model's output), or the model's own output and
            # what the loss made of it (its placed infinities, a mask, are not data)
            outside = set()
            masks = self._masks_of_step()
            options = getattr(node, "forward_options", None) or {}  # weight=, a keyword
            in_gradient = False  # a non-finite gradient this step's backward made (create_graph)
            for arg in tensors(list(args) + list(options.values())):
                if finite(arg._data) or self._output_of_step(arg):
                    continue
                if (self._made_in_backward is not None and arg.grad_fn is not None
                        and arg.grad_fn in self._made_in_backward):
                    in_gradient = True
                elif not masks.placed(arg) or (found and _foreign_infinities(arg)):
                    outside |= kinds(arg._data)
            if in_gradient and not outside:
                # born in that backward (an input-gradient penalty's slope through the model's
                # own sqrt at 0): run it again, traced, from the gradient the outputs received
                origin = self._backward_birth()
                if origin is not None:
                    self.events.append(origin)
                    self._forward_event = True
                    return
            if outside and found:  # nan made of an inf from outside (class weights 1/0)
                op, became, found = "data", f"{describe(found)} at {op_name(node)}", outside
            elif outside:
                op, found = "data", kinds(results[0]._data)  # it came from outside
            elif found:
                op = op_name(node)
            elif masks.judge(args, outputs) == "made":
                op, found, from_mask = op_name(node), kinds(results[0]._data), True
            else:  # a mask carried on (or a nan in the model's output: _forward_origin's)
                return
        elif found:
            op = op_name(node)
        else:
            return
        # (what the op's inputs show of the cause, as the tracer reads it in the model: a
        # division by a count of 0 in a masked mean, a loss's softmax over a row all -inf)
        origin = Origin(op, "forward", describe(found), in_loss=in_loss,
                        entered_at=op_name(node) if op == "data" else None, became=became,
                        from_mask=from_mask,
                        cause=None if op == "data" else forward_cause(node, args))
        self.events.append(origin.located(site or call_site(self.module_names,
                                                            forwards=self.forwards)))
        self._forward_event = True

    def _masks_of_step(self):
        """This step's Masks (made on evidence: a loss op's output non-finite), holding the
        model's outputs that hold only infinities: placed by the model, unless a re-run finds
        an op that made them (``_forward_origin`` asks first)."""
        masks, calls = self._masks, self.calls
        if masks is None or masks.calls is not calls:
            masks = self._masks = Masks()
            masks.calls, masks.seen = calls, 0
        for call in calls[masks.seen:]:
            masks.hold(out for out in call.outputs if kinds(out._data) == {"inf"})
        masks.seen = len(calls)
        return masks

    def _output_of_step(self, tensor):
        return any(tensor is out for call in self.calls for out in call.outputs)

    def _backward_hook(self, op, site, in_loss, node):
        # the hook must not hold the node: the node holds the hook, and the cycle would keep
        # the step's whole graph alive until the garbage collector runs. ``op``: the node's
        # class, named only when it gave birth (every loss op of every step gets this hook)
        if not self.record_sites:
            # (a custom Function's backward is run again on evidence: see _Replay)
            replay = None if op._builtin_op or not in_loss else _Replay(node)

            def keep(grad_inputs, grad_outputs):
                # the loss's backward began: the loss computation is over. Its gradients are
                # checked only on evidence (the model's gradients non-finite): checking them
                # here was a tenth of the monitor's cost on a small model's step
                if not _rerunning[0]:
                    if self._observing:
                        self._close()
                    self.backward_checks.append(_BackwardCheck(op, site, in_loss, grad_inputs,
                                                               grad_outputs, replay))
            return keep

        def hook(grad_inputs, grad_outputs):  # every op of the model: checked now, kept not
            inner, self._inner = self._inner, None  # (what ran inside this node's backward)
            if _rerunning[0] or any(o.pass_ == "backward" for o in self.events):
                return
            origin = _BackwardCheck(op, site, in_loss, grad_inputs, grad_outputs).origin(inner)
            if origin is not None:
                self.events.append(origin)
        return hook

    def _first_event(self, in_loss=None):
        for origin in self.events:
            if in_loss is None or origin.in_loss == in_loss:
                return origin
        if in_loss is not False:
            for check in self.backward_checks:
                origin = check.origin()
                if origin is not None:
                    return origin
        return None

    # -- evidence from the monitor ----------------------------------------------------------------
    def gradient_nonfinite(self, layer, kind):
        """A parameter of ``layer`` got a non-finite gradient (before the optimizer used it)."""
        if self.origin is not None:
            return
        origin = self._forward_origin() or self._first_event()
        if origin is None:
            for call in self.calls:
                if any(not finite(g._data) for g in call.grads.values()):
                    origin = Origin("loss", "backward", kind, in_loss=True)
                    break
        if origin is None and not self._ran:  # its parts called one by one: nothing watched
            origin = Origin("unwatched", "backward", kind, layer=layer)
        self._found(origin or self._backward_birth()
                    or Origin("unknown", "backward", kind, layer=layer))

    def _backward_birth(self):
        """Where the model's backward gave birth, run again traced from the gradients its
        outputs received (the last call first), or None."""
        for call in reversed(self.calls):
            if call.grads:
                tracer = self.rerun(call, self._tracer(call, backward=True), backward=True)
                if tracer.origin is not None:
                    return tracer.origin
        return None

    def loss_nonfinite(self, kind):
        """The step's loss is non-finite (possibly before any backward)."""
        if self.origin is not None:
            return
        # the model's output, else the first op of the loss whose output went non-finite
        origin = self._forward_origin()
        origin = origin or next((o for o in self.events if o.pass_ == "forward"), None)
        if origin is None and not self._ran:  # its parts called one by one: nothing watched
            origin = Origin("unwatched", "forward", kind)
        self._found(origin or Origin("loss", "forward", kind, in_loss=True))
