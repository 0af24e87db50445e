"""Readers: MNIST/Fashion-MNIST IDX and CIFAR-10 binary files generated here, valid and broken."""

import gzip
import struct

import numpy as np
import pytest

import chainrule
from chainrule.data import CIFAR10, MNIST, DataLoader, FashionMNIST, default_collate, read_idx


def _idx_bytes(array, type_code=0x08):
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write_mnist(directory, prefix, images, labels, compress=False):
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        data = _idx_bytes(array)
        name = f"{prefix}-{kind}-ubyte"
        if compress:
            (directory / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)


def _mnist_arrays(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8),
            rng.integers(0, 10, size=n).astype(np.uint8))


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_generated_files(tmp_path, compress):
    images, labels = _mnist_arrays(3)
    _write_mnist(tmp_path, "t10k", images, labels, compress)
    dataset = MNIST(tmp_path, train=False)
    assert len(dataset) == 3
    image, label = dataset[1]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype == chainrule.float32
    np.testing.assert_allclose(image.numpy()[0], images[1] / np.float32(255), rtol=1e-6)
    assert label == int(labels[1])
    assert dataset.data.dtype == chainrule.uint8 and dataset.targets.tolist() == labels.tolist()


def test_torchvision_layout_and_fashion_mnist(tmp_path):
    images, labels = _mnist_arrays(2)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    _write_mnist(raw, "train", images, labels)
    dataset = FashionMNIST(tmp_path, train=True)
    assert len(dataset) == 2 and dataset.classes[9] == "Ankle boot"


def test_loader_fast_path_equals_per_sample_collation(tmp_path):
    images, labels = _mnist_arrays(5)
    _write_mnist(tmp_path, "train", images, labels)
    dataset = MNIST(tmp_path)
    fast = next(iter(DataLoader(dataset, batch_size=5)))
    slow = default_collate([dataset[i] for i in range(5)])
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_missing_files_say_which_and_where_to_get_them(tmp_path):
    _write_mnist(tmp_path, "train", *_mnist_arrays(1))
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="missing train-labels-idx1-ubyte") as error:
        MNIST(tmp_path)
    assert "lecun" in str(error.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MNIST(tmp_path / "nowhere")


def test_wrong_magic_is_reported_with_the_file(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match=r"bad: not an IDX file: magic number 0x12340801"):
        read_idx(path)


def test_truncated_and_oversized_idx_files(tmp_path):
    data = _idx_bytes(np.arange(10, dtype=np.uint8))
    path = tmp_path / "short"
    path.write_bytes(data[:-3])
    with pytest.raises(ValueError, match="short: truncated.*shape \\(10,\\)"):
        read_idx(path)
    path.write_bytes(data + b"xx")
    with pytest.raises(ValueError, match="extra bytes"):
        read_idx(path)
    path.write_bytes(data[:6])
    with pytest.raises(ValueError, match="header"):
        read_idx(path)


def test_corrupt_gzip_is_reported_with_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_bytes(np.zeros((2, 28, 28), np.uint8)))[:30])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_read_idx_other_types_and_mnist_type_checks(tmp_path):
    values = np.array([[1, -2], [300, 4]], dtype=np.int32)
    path = tmp_path / "ints"
    path.write_bytes(_idx_bytes(values, type_code=0x0C))
    np.testing.assert_array_equal(read_idx(path), values)
    # Labels swapped for images: the reader names the file and what it expected.
    images, labels = _mnist_arrays(2)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(labels))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(labels))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte: expected images"):
        MNIST(tmp_path)


def test_mnist_count_mismatch(tmp_path):
    images, labels = _mnist_arrays(3)
    _write_mnist(tmp_path, "train", images, labels[:2])
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        MNIST(tmp_path)


def _cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    pixels = rng.integers(0, 256, size=(n, 3, 32, 32)).astype(np.uint8)
    records = np.concatenate([labels[:, None], pixels.reshape(n, -1)], axis=1)
    return records.tobytes(), pixels, labels


def test_cifar10_reads_the_five_training_batches_in_order(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    expected_pixels, expected_labels = [], []
    for i in range(1, 6):
        data, pixels, labels = _cifar_records(2, seed=i)
        (folder / f"data_batch_{i}.bin").write_bytes(data)
        expected_pixels.append(pixels)
        expected_labels.append(labels)
    dataset = CIFAR10(tmp_path, train=True)
    assert len(dataset) == 10
    image, label = dataset[3]  # the second record of data_batch_2
    assert tuple(image.shape) == (3, 32, 32) and label == int(expected_labels[1][1])
    np.testing.assert_allclose(image.numpy(), expected_pixels[1][1] / np.float32(255), rtol=1e-6)
    np.testing.assert_array_equal(dataset.data.numpy(), np.concatenate(expected_pixels))


def test_cifar10_test_batch_and_errors(tmp_path):
    data, _, labels = _cifar_records(3, seed=0)
    (tmp_path / "test_batch.bin").write_bytes(data)
    assert CIFAR10(tmp_path, train=False).targets.tolist() == labels.tolist()
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin.*binary"):
        CIFAR10(tmp_path, train=True)
    (tmp_path / "test_batch.bin").write_bytes(data[:-100])
    with pytest.raises(ValueError, match="test_batch.bin: truncated or corrupt.*3073"):
        CIFAR10(tmp_path, train=False)
    bad = bytearray(data)
    bad[3073] = 57  # the label byte of record 1
    (tmp_path / "test_batch.bin").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="record 1 has label 57"):
        CIFAR10(tmp_path, train=False)
