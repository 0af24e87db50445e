"""The load fuzz target, for a bounded number of cases (bench/fuzz_load.py runs it longer)."""

from .fuzz_load import run


def test_no_mutated_file_raises_anything_but_the_library_error():
    report = run(iterations=2000, seed=0)
    assert not report["failures"], report["failures"][:3]
    # the mutations reach the checks behind the checksum, not the checksum alone
    assert report["refused"] > 1000 and len(report["reasons"]) >= 15, sorted(report["reasons"])
