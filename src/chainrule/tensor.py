"""``Tensor``: an ndarray plus what backpropagation needs (``grad``, ``requires_grad``,
``grad_fn``). Differentiable methods (``exp``, ``sum``, ``__add__`` ...) are attached by the op
modules in ``chainrule.ops``, each beside the ``Function`` that implements it."""

import copy
from weakref import ref as _weak

import numpy as np

from . import _dtypes
from ._device import CPU, as_cpu, device, unavailable
from ._tensor_str import format_tensor
from .autograd import backward as _backward
from .autograd import leaves as _leaves
from .autograd.function import TensorBase
from .autograd.grad_mode import _inference_watchers, is_inference_mode_enabled
from .autograd.grad_ops import Accumulate, Cast, Clone

# The ONNX exporter's tracer reads sizes as symbolic ints that remember which tensor and dim
# they came from (``chainrule/onnx/sizes.py``); None otherwise, so a shape costs one test.
size_hook = None
# object.__new__ as a global: read from ``object`` on every call it was a generic (slower)
# attribute read, once per tensor an op makes
_new_object = object.__new__


def _new_marking_inference(cls):
    """``_new_object`` while an inference_mode block is open on some thread: a tensor made on a
    thread inside one is an inference tensor, as PyTorch's are."""
    tensor = object.__new__(cls)
    if is_inference_mode_enabled():
        tensor._is_inference = True
    return tensor


def _watch_inference_blocks(any_open):
    global _new_object
    _new_object = _new_marking_inference if any_open else object.__new__


_inference_watchers.append(_watch_inference_blocks)


_VIEW_FIELDS = ("_base", "_views", "_view_maker")


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor(TensorBase):
    """A multi-dimensional array that records the operations made with it for backward.

    >>> x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # Class-level defaults keep tensor creation cheap: an instance only stores what differs.
    _requires_grad = False
    _grad = None
    grad_fn = None
    _output_nr = 0
    _hooks = None
    _post_accumulate_hooks = None
    _grad_observers = None  # (autograd.leaves.LeafObserver)
    _retains_grad = False
    # Views (``_become_view_of``): the root tensor that owns a view's memory, the weak list of
    # a root's views, and, for the outputs of an op that returns several views (split,
    # unbind), that op's name
    _base = None
    _views = None
    _view_maker = None
    __array_priority__ = 1000
    __array_ufunc__ = None  # make NumPy defer `ndarray op tensor` to our reflected operators

    def __init__(self, *args, requires_grad=False, device=None):
        # Like torch.Tensor(data) (values as the default float dtype) and torch.Tensor(2, 3)
        # (a shape). Prefer chainrule.tensor(...) and chainrule.zeros(...).
        as_cpu(device)
        self._data = constructor_array(_dtypes.default_float(), args)
        self._version_box = [0]
        if is_inference_mode_enabled():
            self._is_inference = True
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _from_array(cls, array):
        """Wrap an ndarray without copying (the ops' constructor). NumPy ufuncs and reductions
        return NumPy scalars for 0-d results; those become 0-d arrays here, so a tensor always
        holds an ndarray (in-place ops, ``out=`` and saving rely on it)."""
        if type(array) is not np.ndarray:
            array = np.asarray(array)
        tensor = _new_object(Tensor)
        tensor._data = array
        tensor._version_box = [0]
        return tensor

    # -- properties ------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if value and not _dtypes.is_float(self._data.dtype):
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients, and this one is "
                f"{self.dtype}; convert it first, e.g. x.float().requires_grad_()"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad of leaf tensors; this one was made by "
                f"{self.grad_fn.name()}. Use y = x.detach() to get a tensor outside the graph."
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The gradient accumulated by backward (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: the tensor is {self.dtype} "
                    f"and the gradient {value.dtype}; convert it with .to({self.dtype!r})"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: the tensor has shape "
                    f"{tuple(self.shape)} and the gradient {tuple(value.shape)}"
                )
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        """The same values, outside the graph (shares memory), as ``torch.Tensor.data``.
        Unlike ``detach()``, changes made through it are hidden from autograd: it has its own
        version counter (PyTorch's semantics; prefer ``detach()`` with ``no_grad()``)."""
        return Tensor._from_array(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self):
        if size_hook is not None:
            return size_hook(self)
        return Size(self._data.shape)

    @property
    def dtype(self):
        return _dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return CPU

    # A CPU-only PyTorch's answers: this tensor is on the CPU, in ordinary (unpinned) memory.
    is_cpu = True
    # (is_sparse and layout live in _sparse.py)
    is_cuda = is_mps = is_xpu = is_meta = is_quantized = is_nested = False

    def get_device(self):
        return -1

    def is_pinned(self, device=None):
        return False

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def is_inference(self):
        """True for a tensor made inside an ``inference_mode()`` block."""
        return self._is_inference

    def is_floating_point(self):
        return _dtypes.is_float(self._data.dtype)

    @property
    def _version(self):
        return self._version_box[0]

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def size(self, dim=None):
        if size_hook is not None:
            return size_hook(self) if dim is None else size_hook(self)[dim]
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def element_size(self):
        return self._data.itemsize

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def data_ptr(self):
        return self._data.ctypes.data

    # -- conversion ----------------------------------------------------------------------------
    def numpy(self, *, force=False):
        """The underlying ndarray (shared memory, like PyTorch on the CPU)."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad. Use tensor.detach().numpy()."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            if copy is False:
                raise ValueError(
                    f"np.asarray(tensor, dtype={dtype}, copy=False): a {self.dtype} tensor "
                    "cannot be converted without a copy"
                )
            return array.astype(dtype)
        return array.copy() if copy else array

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a tensor with {self._data.size} elements cannot be converted to a Python "
                "number; item() needs exactly one element"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def _scalar(self, kind):
        if self._data.size != 1:  # (PyTorch raises ValueError here, RuntimeError in item())
            raise ValueError(
                f"only one element tensors can be converted to Python scalars: {kind}() of a "
                f"tensor of shape {tuple(self._data.shape)}; reduce it first (.sum(), .mean()) "
                "or pick one element"
            )
        return self.item()

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of a tensor with {self._data.size} elements is ambiguous; use "
                ".any() or .all()"
            )
        return bool(self._data.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # Hashed by identity, as PyTorch's tensors (== is elementwise); object's own hash is the
    # same rule without a Python call, which keeps dicts keyed by parameters cheap.
    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "only tensors created explicitly by the user (graph leaves) support deepcopy; "
                "deepcopy x.detach() instead, or clone() to copy within the graph"
            )
        new = object.__new__(type(self))
        memo[id(self)] = new
        for name, value in self.__dict__.items():
            if name not in _VIEW_FIELDS:  # the copy owns its memory: it is no view
                new.__dict__[name] = copy.deepcopy(value, memo)
        return new

    def __repr__(self):
        return format_tensor(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return repr(self)

    def to(self, *args, **kwargs):
        """Cast to a dtype: ``to(dtype)``, ``to(other_tensor)``, ``to('cpu', dtype)``."""
        copy = kwargs.pop("copy", False)
        dtype = to_arguments_dtype(args, kwargs)
        if dtype is None:
            return Clone.apply(self) if copy else self
        np_dtype = _dtypes.to_numpy_dtype(dtype)
        if np_dtype == self._data.dtype:
            return Clone.apply(self) if copy else self
        return Cast.apply(self, dtype=np_dtype)

    def type(self, dtype=None, non_blocking=False):
        """PyTorch's type name ("torch.FloatTensor"), or a copy converted to ``dtype`` (a
        dtype, or a legacy type: "torch.DoubleTensor", ``torch.DoubleTensor``)."""
        if dtype is None:
            return _dtypes.legacy_type_name(self._data.dtype)
        return self.to(_dtypes.from_legacy_type(dtype))

    def type_as(self, other):
        return self.to(other._data.dtype)

    def float(self):
        return self.to(_dtypes.float32)

    def double(self):
        return self.to(_dtypes.float64)

    def half(self):
        return self.to(_dtypes.float16)

    def bfloat16(self):
        return self.to(_dtypes.bfloat16)

    def long(self):
        return self.to(_dtypes.int64)

    def int(self):
        return self.to(_dtypes.int32)

    def bool(self):
        return self.to(_dtypes.bool_)

    def cpu(self, memory_format=None):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        raise unavailable("cuda" if device is None else str(device))

    def pin_memory(self, device=None):
        # A CPU-only PyTorch raises here too: pinning is for copies to an accelerator
        raise unavailable("cuda", "pin memory")

    # -- autograd --------------------------------------------------------------------------
    def detach(self):
        """The same values (shared memory and version counter) outside the graph."""
        return Tensor._from_array(self._data)._share_version(self)

    def _become_view_of(self, base, made_by=None):
        """Make this tensor, which a view op made over ``base``'s memory, a view of it as
        autograd sees views (PyTorch's): it shares the version counter, remembers the root
        tensor that owns the memory (``_base``) and joins the root's weak list of views, so
        that a write through any of them while the graph is recorded can re-point the others'
        gradients (``ops/view_writes.py``). ``made_by``: the op, when it returns several views
        (their in-place writes are refused, as in PyTorch)."""
        self._share_version(base)
        root = base._base
        if root is None:
            root = base
        else:
            made_by = made_by or base._view_maker  # a view of a split's output is one too
        views = root._views
        if views is None:
            views = root._views = _ViewList()
        self._base = root
        if made_by is not None:
            self._view_maker = made_by
        refs = views.refs  # (joining the list inline: every view op pays for it)
        refs.append(_weak(self))
        if len(refs) >= views.limit:
            views.drop_dead()
        return self

    def _is_view(self):
        return self._base is not None

    def detach_(self):
        if self.grad_fn is not None:
            self.grad_fn = None
            self._output_nr = 0
        self._requires_grad = False
        return self

    def retain_grad(self):
        """Keep ``.grad`` on a non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError(
                "can't retain_grad on a tensor that has requires_grad=False; nothing will "
                "compute its gradient"
            )
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True

        # Runs in the backward sweep, where grad mode is on only under create_graph=True: then
        # the kept gradient stays differentiable, as in PyTorch.
        def keep(grad):
            if self._grad is None:
                self._grad = Clone.apply(grad)
            else:
                self._grad = Accumulate.apply(self._grad, grad)

        keep.retains_grad = True  # register_hook keeps it last, so it sees the final gradient
        self.register_hook(keep)

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a
        replacement gradient. Returns a handle whose ``remove()`` undoes it."""
        if not self.requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
            _leaves.hooked_leaves_seen = True  # backward counts leaf edges from now on
        else:
            node = self.grad_fn
            if node._output_hooks is None:
                node._output_hooks = {}
            hooks = node._output_hooks.setdefault(self._output_nr, [])
        if hooks and getattr(hooks[-1], "retains_grad", False):
            hooks.insert(len(hooks) - 1, hook)
        else:
            hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a leaf's ``.grad`` was accumulated."""
        if self.grad_fn is not None:
            raise RuntimeError("post-accumulate-grad hooks can only be registered on leaves")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        _leaves.hooked_leaves_seen = True  # backward counts leaf edges from now on
        return _RemovableHandle(self._post_accumulate_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``gradient`` (the same shape as self) is needed unless self has one element;
        ``retain_graph=True`` keeps the saved tensors for another backward; ``create_graph=True``
        records the backward pass, so the gradients can be differentiated again."""
        _backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                  inputs=inputs)


def constructor_array(dtype, args):
    """The array of ``Tensor(*args)`` and the legacy ``FloatTensor(*args)``: sizes give a tensor
    of that shape (zeros here, uninitialised in PyTorch); one sequence, array or tensor gives a
    copy of its values in ``dtype``."""
    if not args or (len(args) == 1 and args[0] is None):
        return np.zeros((0,), dtype)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer, Size)):
        source = args[0]._data if isinstance(args[0], Tensor) else args[0]
        return np.array(source, dtype=dtype)
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
    try:
        return np.zeros(tuple(int(s) for s in shape), dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"Tensor(): expected a sequence of values or sizes (ints), got {args!r}"
        ) from None


def to_arguments_dtype(args, kwargs):
    """The dtype asked for by ``to(...)``'s argument forms (``to(dtype)``, ``to(tensor)``,
    ``to(device, dtype)``, keywords), or None; a device other than the CPU is an error."""
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if "device" in kwargs:
        as_cpu(kwargs.pop("device"))
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg._data.dtype
        elif isinstance(arg, (str, device)) or (isinstance(arg, int)
                                                and not isinstance(arg, bool)):
            as_cpu(arg)
        elif arg is not None:
            dtype = arg
    return dtype


class _ViewList:
    """Weak references to the live views of one root tensor (``Tensor._become_view_of`` adds
    them). The dead ones are dropped each time the list doubles, so a long-lived tensor viewed
    at every step (a weight's ``.t()``) keeps a short list."""

    __slots__ = ("refs", "limit")

    def __init__(self):
        self.refs, self.limit = [], 16

    def drop_dead(self):
        refs = self.refs
        refs[:] = [ref for ref in refs if ref() is not None]
        self.limit = max(16, 2 * len(refs))

    def alive(self):
        return [view for view in (ref() for ref in self.refs) if view is not None]


class Size(tuple):
    """A tensor's shape: a tuple that prints as PyTorch's ``Size``."""

    def __repr__(self):
        return f"{_dtypes.shown_name()}.Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))

    # As PyTorch's: concatenating, repeating and slicing a Size gives a Size
    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, count):
        return Size(tuple(self) * count)

    __rmul__ = __mul__

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item
