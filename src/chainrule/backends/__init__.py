"""``torch.backends``: the back-end switches scripts set and query, answered as a CPU-only
PyTorch build answers them. Setting a switch (``cudnn.benchmark = True``,
``cuda.matmul.allow_tf32 = True``) is accepted and remembered; it changes nothing, because
chainrule's only back-end is NumPy on the CPU."""

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
