import pytest

pytest.importorskip("numba", reason="kernels need numba: pip install 'chainrule[fast]'")


@pytest.fixture(autouse=True)
def _kernels_load():
    """Every test here runs kernels: fail (rather than pass on the reference) if they cannot."""
    from chainrule import kernels

    assert kernels.available()
