"""Image folders through Pillow: classes from folder names, one size, gray or colour, and
unreadable files named."""

import sys

import numpy as np
import pytest

from chainrule.data.readers.image_folder import image_files, load_image_folder

Image = pytest.importorskip("PIL.Image")


def make_folder(root, colour=False, size=(6, 5)):
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        for index in range(3):
            shape = (size[1], size[0], 3) if colour else (size[1], size[0])
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{index}.png")
    return root


def test_classes_labels_and_own_size(tmp_path):
    root = make_folder(tmp_path / "data")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    images, labels, classes, files = load_image_folder(root)
    assert classes == ["cat", "dog"] and labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert images.shape == (6, 1, 5, 6) and images.dtype == np.uint8
    first = np.asarray(Image.open(files[0]))
    np.testing.assert_array_equal(images[0, 0], first)


def test_colour_images_resized_and_jpeg(tmp_path):
    root = make_folder(tmp_path / "data", colour=True)
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(root / "dog" / "x.jpg")
    images, labels, _, _ = load_image_folder(root, size=(4, 4))
    assert images.shape == (7, 3, 4, 4) and labels.tolist().count(1) == 4


def test_mixed_sizes_default_to_32(tmp_path):
    root = make_folder(tmp_path / "data")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(root / "dog" / "big.png")
    assert load_image_folder(root)[0].shape[2:] == (32, 32)


def test_unreadable_image_is_named(tmp_path):
    root = make_folder(tmp_path / "data")
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    (root / "cat" / "torn.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    with pytest.raises(ValueError, match=r"2 of \d+ files are not readable images: .*torn\.jpg \(.*"
                                         r"broken\.png \(.*or pass --skip-bad-files"):
        load_image_folder(root)
    skipped = []
    images, labels, _, files = load_image_folder(root, skipped=skipped)
    assert sorted(path.name for path, _ in skipped) == ["broken.png", "torn.jpg"]
    assert len(images) == len(labels) == len(files) and "broken.png" not in str(files)


@pytest.mark.parametrize("setup, message", [
    (lambda root: (root / "only").mkdir(parents=True), "has 1 class folder"),
    (lambda root: [(root / c).mkdir(parents=True) for c in "ab"], "class folder .* has no images"),
])
def test_layouts_that_cannot_train(tmp_path, setup, message):
    root = tmp_path / "data"
    setup(root)
    with pytest.raises(ValueError, match=message):
        load_image_folder(root)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere")


def test_without_pillow_says_which_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[images\]'"):
        load_image_folder(tmp_path)


def test_image_files_skips_hidden_and_other_files(tmp_path):
    root = make_folder(tmp_path / "data")
    (root / "cat" / ".x.png").write_bytes(b"")
    assert len(image_files(root)) == 6
