"""``torch.backends.cpu``: the CPU back-end, which is NumPy's."""


def get_cpu_capability():
    return "DEFAULT"
