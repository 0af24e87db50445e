"""``torch.backends.mps``: Apple's GPU back-end; not available, not built."""


def is_available():
    return False


def is_built():
    return False


def is_macos_or_newer(major, minor):
    return False
