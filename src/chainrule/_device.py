"""Devices, answered as a CPU-only PyTorch build answers them.

``chainrule.device("cuda")`` can be made, printed and compared, as in PyTorch, so that device
selection lines run unchanged; putting a tensor or a module there raises
``DeviceUnavailableError``, which says that chainrule computes on the CPU."""

# PyTorch's device type names (torch.device accepts exactly these).
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


class DeviceUnavailableError(RuntimeError, AssertionError):
    """A device other than the CPU was asked to hold data or run work.

    A RuntimeError (what PyTorch raises for MPS and other back-ends) and an AssertionError
    (what a CPU-only PyTorch raises for CUDA), so code that catches either still catches it."""


def unavailable(device_name, action="hold tensors"):
    """The error for using ``device_name`` (a string) where only the CPU exists."""
    return DeviceUnavailableError(
        f"device {device_name!r} cannot {action}: chainrule computes on the CPU, through NumPy. "
        "Use device='cpu' (or leave the device out); the usual selection line "
        "`'cuda' if torch.cuda.is_available() else 'cpu'` picks the CPU, because "
        "chainrule.cuda.is_available() is False"
    )


class device:  # noqa: N801 - PyTorch's spelling
    """A device name: ``device('cpu')``, ``device('cuda:1')``, ``device('cuda', 0)``.

    >>> chainrule.device("cuda", 0)
    device(type='cuda', index=0)
    """

    __slots__ = ("type", "index", "_previous")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            # PyTorch reads a bare index as the current accelerator's; there is none here
            raise unavailable(f"accelerator:{type}", "be selected by a bare index")
        elif not isinstance(type, str):
            raise TypeError(f"device() expects a string, a device or an index, got {type!r}")
        name, _, suffix = type.partition(":")
        if name not in DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
                f"string: {type}"
            )
        if suffix:
            if not suffix.isdigit() or index is not None:
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(suffix)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index!r}")
        self.type = name
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return device, (self.type, self.index)

    def __enter__(self):
        # `with torch.device(...):` sets the default device for tensors made inside
        self._previous = get_default_device()
        set_default_device(self)
        return self

    def __exit__(self, *exc_info):
        set_default_device(self._previous)


CPU = device("cpu")


def as_cpu(device_arg, action="hold tensors"):
    """Check that ``device_arg`` (a device, a string, an index or None) names the CPU."""
    if device_arg is None:
        return CPU
    if isinstance(device_arg, int) and not isinstance(device_arg, bool):
        raise unavailable(f"cuda:{device_arg}", action)  # to(0) means the first accelerator
    named = device_arg if isinstance(device_arg, device) else device(device_arg)
    if named.type != "cpu":
        raise unavailable(str(named), action)
    return named


def get_default_device():
    """The device new tensors are made on: always the CPU here."""
    return CPU


def set_default_device(device_arg):
    """Set the default device; only the CPU (or None, meaning the CPU) is accepted."""
    as_cpu(device_arg, "be the default device")
