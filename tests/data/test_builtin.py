"""The data shipped in the package (digits, Macbeth) and the character-level text datasets."""

import gzip

import numpy as np
import pytest

import chainrule
from chainrule.data import (
    CharDataset,
    DataLoader,
    Digits,
    TextDataset,
    default_collate,
    load_digits,
    load_shakespeare,
)

SHARED_DIGITS = "/work/shared/data/digits.csv.gz"


def test_digits_has_1797_samples_with_pixels_in_range_and_all_labels():
    images, labels = load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert sorted(set(labels.tolist())) == list(range(10))
    # Pixels are the original 0..16 values divided by 16: 17 distinct levels at most.
    assert set(np.unique(images * 16).tolist()) <= set(range(17))


def test_digits_match_the_source_csv():
    try:
        with gzip.open(SHARED_DIGITS, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    except FileNotFoundError:
        pytest.skip("the source csv is not on this machine")
    images, labels = load_digits()
    np.testing.assert_array_equal(labels, table[:, 64])
    np.testing.assert_array_equal(images.reshape(-1, 64) * 16, table[:, :64])


def test_digits_split_is_fixed_and_disjoint():
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) == 1437 and len(test) == 360 and len(Digits(split="all")) == 1797
    def rows(images):
        return sorted(row.tobytes() for row in images.reshape(len(images), -1))

    all_images, _ = load_digits()
    train_images, test_images = load_digits("train")[0], load_digits("test")[0]
    assert rows(np.concatenate([train_images, test_images])) == rows(all_images)
    assert set(load_digits("test")[1].tolist()) == set(range(10))  # every class is tested
    np.testing.assert_array_equal(test_images, load_digits("test")[0])  # fixed
    image, label = train[0]
    assert tuple(image.shape) == (1, 8, 8) and image.dtype == chainrule.float32
    assert isinstance(label, int)
    np.testing.assert_array_equal(image.numpy(), train_images[0])
    with pytest.raises(ValueError, match="split"):
        Digits(split="val")


def test_digits_transforms_apply_and_the_loader_respects_them():
    dataset = Digits(train=False, transform=lambda x: x * 0 + 1, target_transform=lambda y: y + 100)
    images, labels = next(iter(DataLoader(dataset, batch_size=4)))
    assert images.numpy().min() == 1.0 and min(labels.tolist()) >= 100


def test_shakespeare_is_macbeth():
    text = load_shakespeare()
    assert text.startswith("MACBETH") and len(text) == 103427


def test_char_dataset_round_trip_and_shifted_targets():
    text = "hello world, hello chainrule"
    dataset = CharDataset(text, block_size=5)
    assert dataset.vocab == sorted(set(text)) and dataset.vocab_size == len(set(text))
    assert dataset.decode(dataset.encode(text)) == text
    assert len(dataset) == len(text) - 5
    x, y = dataset[3]
    assert x.dtype == chainrule.int64 and tuple(x.shape) == (5,)
    assert dataset.decode(x) == text[3:8] and dataset.decode(y) == text[4:9]
    with pytest.raises(KeyError, match="'Z' is not in"):
        dataset.encode("Z")
    with pytest.raises(IndexError):
        dataset[len(dataset)]


def test_char_dataset_fast_batches_equal_per_sample_collation():
    dataset = CharDataset(load_shakespeare()[:2000], block_size=16)
    indices = [0, 1983, 5, 5, -1]
    fast = dataset._collated_batch(indices)
    slow = default_collate([dataset[i] for i in indices])
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_split_cuts_the_text_and_shares_the_vocabulary():
    text = "abcdefghij" * 10
    train, val = CharDataset(text, block_size=4).split(0.2)
    assert train.text + val.text == text and len(val.text) == 20
    assert train.vocab == val.vocab
    with pytest.raises(ValueError, match="block_size"):
        CharDataset("abc", block_size=3)


def test_text_dataset_reads_a_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("to be or not to be", encoding="utf-8")
    dataset = TextDataset(path, block_size=3)
    assert dataset.decode(dataset[0][1]) == "o b"
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        TextDataset(tmp_path / "missing.txt", block_size=3)
    path.write_bytes(b"\xff\xfe bad")
    with pytest.raises(ValueError, match="not valid utf-8"):
        TextDataset(path, block_size=2)
