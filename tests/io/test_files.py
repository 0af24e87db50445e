"""Bounded reads and atomic writes: only regular files are read, never more than memory, opening
never blocks; writes honour the umask, and their temporary files are found and removed."""

import os
import signal
import subprocess
import sys
import threading

import pytest

import chainrule as cr
from chainrule.io import files
from chainrule.serialization import CheckpointError


def test_a_symlink_to_dev_zero_is_refused_without_reading(tmp_path):
    link = tmp_path / "zero.safetensors"
    link.symlink_to("/dev/zero")
    with pytest.raises(CheckpointError, match=r"zero\.safetensors: is a character device"):
        cr.load(link)


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    pipe = tmp_path / "pipe.safetensors"
    os.mkfifo(pipe)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_error_of(cr.load, pipe)),
                              daemon=True)
    reader.start()
    reader.join(timeout=60)  # a generous bound for a loaded machine; it returns at once
    assert outcome and isinstance(outcome[0], CheckpointError)
    assert "pipe.safetensors: is a named pipe" in str(outcome[0])


def _error_of(function, *args):
    try:
        function(*args)
    except Exception as error:  # noqa: BLE001 - the test inspects whatever was raised
        return error
    return None


def test_a_directory_is_refused_with_the_library_error(tmp_path):
    with pytest.raises(CheckpointError, match="is a directory"):
        cr.load(tmp_path)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        cr.load(tmp_path / "nope")


def test_a_file_larger_than_memory_is_refused_before_reading(tmp_path):
    limit = files.memory_limit()
    if limit is None:
        pytest.skip("this platform does not say how much memory it has")
    huge = tmp_path / "huge.safetensors"
    with open(huge, "wb") as f:
        f.truncate(limit + 1)  # sparse: it takes no disk space
    with pytest.raises(CheckpointError, match="more than this machine's memory"):
        cr.load(huge)


def test_the_read_limit_applies_to_files_and_streams(tmp_path):
    import io

    path = tmp_path / "x"
    cr.save({"w": cr.zeros(100)}, path)
    with pytest.raises(CheckpointError, match="more than"):
        files.read_regular_file(path, limit=100)
    with pytest.raises(CheckpointError, match="more than"):
        files.read_stream(io.BytesIO(path.read_bytes()), "stream", limit=100)
    assert files.read_regular_file(path) == path.read_bytes()


def test_a_stream_is_read_in_chunks_not_one_read_as_large_as_the_memory(tmp_path):
    # BufferedReader.read(n) allocates n bytes first: one read bounded by the machine's memory
    # failed with MemoryError (torch.load(open(path, "rb")) of a whole saved model)
    import io

    class Stream(io.BytesIO):
        def read(self, size=-1):
            assert 0 <= size <= 1 << 24, f"asked for {size} bytes at once"
            return super().read(size)

    path = tmp_path / "x"
    cr.save({"w": cr.arange(5.0)}, path)
    with open(path, "rb") as f:
        assert files.read_stream(f, "x") == path.read_bytes()
    loaded = cr.load(Stream(path.read_bytes()))
    assert loaded["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_an_unreadable_file_is_the_library_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = tmp_path / "locked"
    cr.save({}, path)
    path.chmod(0)
    with pytest.raises(CheckpointError, match="locked: cannot be opened"):
        cr.load(path)


def test_saved_files_get_the_umask_not_0600(tmp_path):
    previous = os.umask(0o022)
    try:
        cr.save({"w": cr.ones(1)}, tmp_path / "a")
        os.umask(0o077)
        cr.save({"w": cr.ones(1)}, tmp_path / "b")
    finally:
        os.umask(previous)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o600


def test_an_interrupted_write_removes_its_temporary_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "f"
    files.atomic_write(path, [b"old"])

    def interrupted():
        assert [p.name for p in tmp_path.iterdir() if files.is_temporary(p)]  # it exists now
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(path, [b"new"], before_commit=interrupted)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_temporaries_left_by_killed_writes_are_removed(tmp_path):
    target = tmp_path / "step-1.safetensors"
    stale = files.temporary_path(target)
    stale.write_bytes(b"torn")
    (tmp_path / "keep.safetensors").write_bytes(b"x")
    (tmp_path / ".hidden").write_bytes(b"x")
    assert files.remove_temporaries(tmp_path) == [stale.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", "keep.safetensors"]


def test_a_save_removes_the_temporaries_that_killed_saves_left_beside_it(tmp_path):
    target = tmp_path / "model.safetensors"
    killed = ("import os, signal, chainrule as cr\n"
              "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # mid-write\n"
              f"cr.save({{'w': cr.zeros(3)}}, {str(tmp_path / 'other.safetensors')!r})\n")
    assert subprocess.run([sys.executable, "-c", killed]).returncode == -signal.SIGKILL
    [torn] = [p for p in tmp_path.iterdir() if files.is_temporary(p)]
    dead_pid = torn.name.split("-")[1]
    assert not list(tmp_path.glob("*.safetensors"))  # hidden, and not named like the file
    alive = files.temporary_path(target)  # this process's: a write in progress
    alive.write_bytes(b"being written")
    elsewhere = tmp_path / f".model.safetensors.00000000-{dead_pid}-0a0b0c0d.tmp"
    elsewhere.write_bytes(b"another machine's, on a shared file system")
    cr.save({"w": cr.ones(2)}, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, elsewhere.name, "model.safetensors"])


def test_loading_a_file_takes_about_its_own_size_in_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "big"
    cr.save({f"w{i}": cr.ones(256, 1024) for i in range(8)}, path)  # 8 MB of float32
    size = path.stat().st_size
    tracemalloc.start()
    try:
        loaded = cr.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.25 * size  # the tensors are views into the one buffer read, not copies
    loaded["w0"].add_(1.0)  # and writable, each its own
    assert float(loaded["w0"].sum()) == 2 * 256 * 1024 and float(loaded["w1"].sum()) == 256 * 1024
