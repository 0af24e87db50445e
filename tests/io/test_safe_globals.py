"""add_safe_globals / safe_globals / get_safe_globals / clear_safe_globals, as in PyTorch:
a class the user trusts is rebuilt; without it the same file is refused naming the class."""

import io
import pickle

import pytest

import chainrule as cr
from chainrule import serialization

from .torch_bytes import zip_archive


class RunConfig:
    def __init__(self, lr, layers):
        self.lr, self.layers = lr, layers


def config_file():
    return zip_archive(pickle.dumps({"config": RunConfig(0.1, [2, 3])}, protocol=2))


@pytest.fixture(autouse=True)
def empty_allowlist():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


def test_unknown_class_is_refused_naming_it_and_the_fix():
    with pytest.raises(pickle.UnpicklingError, match=r"tests\.io\.test_safe_globals\.RunConfig"
                                                     r".*add_safe_globals\(\[RunConfig\]\)"):
        cr.load(io.BytesIO(config_file()))


def test_add_safe_globals_rebuilds_the_class():
    serialization.add_safe_globals([RunConfig])
    assert serialization.get_safe_globals() == [RunConfig]
    config = cr.load(io.BytesIO(config_file()))["config"]
    assert type(config) is RunConfig and config.lr == 0.1 and config.layers == [2, 3]
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        cr.load(io.BytesIO(config_file()))


def test_safe_globals_context_manager_allows_only_inside():
    with serialization.safe_globals([RunConfig]):
        assert cr.load(io.BytesIO(config_file()))["config"].lr == 0.1
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        cr.load(io.BytesIO(config_file()))


def test_a_class_can_be_allowed_under_the_name_it_was_saved_with():
    class Renamed:
        pass

    serialization.add_safe_globals([(Renamed, "tests.io.test_safe_globals.RunConfig")])
    config = cr.load(io.BytesIO(config_file()))["config"]
    assert type(config) is Renamed and config.layers == [2, 3]


def test_bad_entries_are_rejected():
    with pytest.raises(TypeError, match="list"):
        serialization.add_safe_globals(RunConfig)
    with pytest.raises(TypeError, match="module.name"):
        serialization.add_safe_globals([(RunConfig, 3)])


class Hostile:
    def __reduce__(self):
        import os

        return (os.system, ("echo never",))


def test_unsafe_globals_are_listed_without_running_anything(tmp_path):
    path = tmp_path / "config.pt"
    path.write_bytes(config_file())
    names = ["tests.io.test_safe_globals.RunConfig"]
    assert serialization.get_unsafe_globals_in_checkpoint(path) == names
    assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(config_file())) == names
    with serialization.safe_globals([RunConfig]):
        assert serialization.get_unsafe_globals_in_checkpoint(path) == []
    # protocol 4 names globals with STACK_GLOBAL (strings pushed, one through the memo)
    hostile = zip_archive(pickle.dumps([Hostile(), Hostile(), RunConfig(1, 2)], protocol=4))
    found = serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(hostile))
    assert found == sorted([f"{os_module()}.system", "tests.io.test_safe_globals.RunConfig"])


def os_module():
    import os

    return os.system.__module__  # "posix" or "nt"


def test_unsafe_globals_of_a_file_written_by_pytorch():
    from .test_torch_files import FIXTURES

    check = serialization.get_unsafe_globals_in_checkpoint
    assert check(FIXTURES / "mixed.pt") == []
    assert check(FIXTURES / "whole_module.pt") == ["torch.nn.modules.linear.Linear"]


@pytest.mark.parametrize("payload, match", [
    (b"\x80\x02K\x01.", "Expected input to be a checkpoint returned by torch.save"),
    (zip_archive(b"\x80\x02\xff\xff"), "its pickle is damaged"),
])
def test_unsafe_globals_of_a_bad_file_is_a_library_error(payload, match):
    with pytest.raises(serialization.CheckpointError, match=match):
        serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(payload))
