"""``load(path, mmap=True)`` maps the file: storages written uncompressed at aligned offsets (as
torch.save writes them) are views of the mapping, copy-on-write; anything else is read as
without mmap, and a damaged file is still a CheckpointError."""

import io
import mmap
import random
import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization import CheckpointError

from .test_torch_files import FIXTURES, assert_tensors_match
from .test_torch_malicious import fuzz_inputs, fuzz_once
from .torch_bytes import tensor_pickle, zip_archive


def mapped_base(array):
    """The mmap an array is a view of, or None."""
    while array is not None:
        if isinstance(array, mmap.mmap):
            return array
        array = array.obj if isinstance(array, memoryview) else getattr(array, "base", None)
    return None


def tensors_of(obj):
    if isinstance(obj, cr.Tensor):
        return [obj]
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) \
        else []
    return [t for value in values for t in tensors_of(value)]


@pytest.mark.parametrize("name", ["linear.pt", "mixed.pt", "bfloat16.pt"])
def test_pytorch_files_load_as_views_of_the_mapped_file(name, tmp_path):
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    loaded, plain = cr.load(path, mmap=True), cr.load(path)
    tensors = tensors_of(loaded)
    assert tensors and all(mapped_base(t.numpy(force=True)) is not None for t in tensors)
    for ours, theirs in zip(tensors, tensors_of(plain)):
        np.testing.assert_array_equal(ours.numpy(force=True), theirs.numpy(force=True))
    if name == "mixed.pt":
        assert_tensors_match(loaded, "mixed")


def test_writing_to_a_mapped_tensor_never_changes_the_file(tmp_path):
    path = tmp_path / "linear.pt"
    shutil.copy(FIXTURES / "linear.pt", path)
    before = path.read_bytes()
    state = cr.load(path, mmap=True)
    with cr.no_grad():
        for tensor in state.values():
            tensor.fill_(7.0)
    assert path.read_bytes() == before
    assert all(np.all(t.numpy() == 7.0) for t in state.values())


def test_unaligned_or_compressed_storages_are_read_into_memory(tmp_path):
    import zipfile

    values = np.arange(6, dtype=np.float32)
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = tmp_path / f"hand_{compression}.pt"  # zipfile aligns nothing
        path.write_bytes(zip_archive(tensor_pickle(numel=6, size=(2, 3), stride=(3, 1)),
                                     storages={"0": values.tobytes()}, compression=compression))
        tensor = cr.load(path, mmap=True)
        np.testing.assert_array_equal(tensor.numpy(), values.reshape(2, 3))
        assert mapped_base(tensor.numpy()) is None


def test_chainrule_files_map_too(tmp_path):
    cr.save({"w": cr.arange(12.0).reshape(3, 4)}, tmp_path / "own.pt")
    loaded = cr.load(tmp_path / "own.pt", mmap=True)
    assert mapped_base(loaded["w"].numpy()) is not None
    np.testing.assert_array_equal(loaded["w"].numpy(), np.arange(12.0).reshape(3, 4))


def test_mmap_needs_a_path_and_the_zip_layout(tmp_path):
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        cr.load(io.BytesIO((FIXTURES / "linear.pt").read_bytes()), mmap=True)
    path = tmp_path / "legacy.pt"
    shutil.copy(FIXTURES / "linear_legacy.pt", path)
    with pytest.raises(CheckpointError, match="mmap can only be used with files saved with"):
        cr.load(path, mmap=True)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        cr.load(tmp_path / "empty.pt", mmap=True)


def test_damaged_mapped_files_raise_only_library_errors(tmp_path):
    sources, archives = fuzz_inputs()
    path = tmp_path / "fuzzed.pt"

    def load_mapped(payload):
        path.write_bytes(payload)
        cr.load(path, mmap=True)

    rng = random.Random(7)
    failures = [f for f in (fuzz_once(rng, sources, archives, load_mapped) for _ in range(150))
                if f]
    assert failures == []
