"""kernels/heap.py: glibc's thresholds are set once, and never over the user's own choice."""

import os
import subprocess
import sys

import pytest

from chainrule.kernels import heap


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setitem(heap._state, "done", False)
    for name in list(os.environ):
        if name.startswith("MALLOC_") or name in ("GLIBC_TUNABLES", "CHAINRULE_KEEP_FREED_MEMORY"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("name, value", [("MALLOC_MMAP_THRESHOLD_", "65536"),
                                         ("MALLOC_TRIM_THRESHOLD_", "0"),
                                         ("GLIBC_TUNABLES", "glibc.malloc.top_pad=0"),
                                         ("CHAINRULE_KEEP_FREED_MEMORY", "0")])
def test_the_users_malloc_settings_win(fresh, name, value):
    fresh.setenv(name, value)
    assert heap.keep_freed_memory() is False
    assert heap.keep_freed_memory() is False  # and it is decided once


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_set_once_on_glibc(fresh):
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    assert heap.keep_freed_memory() is True
    assert heap.keep_freed_memory() is False


def test_a_big_gemm_sets_them_and_import_alone_does_not():
    code = ("import numpy as np, chainrule\n"
            "from chainrule.kernels import heap\n"
            "assert not heap._state['done']\n"
            "chainrule.randn(512, 512) @ chainrule.randn(512, 512)\n"
            "assert heap._state['done']\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
