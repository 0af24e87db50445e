"""``torch.version``: the library version, and no CUDA or ROCm (a CPU-only build)."""

import sys

cuda = None
hip = None
xpu = None
debug = False
git_version = None

__all__ = ["__version__", "cuda", "debug", "hip"]  # noqa: F822 - __version__ via __getattr__


def __getattr__(name):
    if name == "__version__":  # chainrule.__version__: PyTorch's API version under the alias
        return sys.modules[__package__].__version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
