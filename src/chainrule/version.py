"""``torch.version``: the library version, and no CUDA or ROCm (a CPU-only build)."""

from ._version import __version__

cuda = None
hip = None
xpu = None
debug = False
git_version = None

__all__ = ["__version__", "cuda", "debug", "hip"]
