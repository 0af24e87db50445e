"""Folders of images, one folder per class (``root/cat/1.png``, ``root/dog/7.jpg``), read
through Pillow (the ``images`` extra) into uint8 arrays of one size."""

import os
from pathlib import Path

import numpy as np

from ._files import CannotReadError, reading

__all__ = ["IMAGE_SUFFIXES", "image_files", "load_image_folder", "read_image"]

IMAGES_HINT = "reading images needs Pillow: pip install 'chainrule[images]'"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
LARGEST_KEPT_SIZE = 64  # images all this small or smaller keep their size by default
DEFAULT_SIZE = 32


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(IMAGES_HINT) from None
    return Image


def image_files(folder):
    """The image files under ``folder`` (any depth), sorted, hidden files and folders left out.
    A folder that cannot be listed is an error (CannotReadError), never silently passed over."""
    def refuse(error):
        raise CannotReadError(error.filename or folder, error)

    found = []
    for directory, subfolders, names in os.walk(folder, onerror=refuse):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [Path(directory, name) for name in names
                  if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES
                  and os.path.isfile(os.path.join(directory, name))]
    return sorted(found)


def _class_folders(root):
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is a file, not a folder"
        raise FileNotFoundError(f"--data-path {root} {what}; --data images needs a folder with "
                                "one sub-folder of images per class")
    with reading(root):
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(folders) < 2:
        raise ValueError(
            f"{root} has {len(folders)} class folder(s); --data images needs one sub-folder per "
            f"class, at least two (e.g. {root}/cat/1.png and {root}/dog/2.png)"
        )
    for folder in folders:
        if not image_files(folder):
            raise ValueError(f"class folder {folder} has no images "
                             f"({', '.join(IMAGE_SUFFIXES)}); remove it or add its images")
    return folders


def _open(path, decode=True):
    Image = _pillow()
    try:
        image = Image.open(path)
        if decode:
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        if isinstance(error, OSError) and error.errno is not None:  # the file system said no
            raise CannotReadError(path, error) from None
        raise ValueError(f"{path} is not a readable image ({error}); remove or replace the "
                         "file") from None
    return image


def read_image(path, size, channels):
    """One image as uint8 (channels, height, width), resized to ``size`` (height, width);
    ``channels`` is 1 (grayscale) or 3 (RGB)."""
    Image = _pillow()
    image = _open(path).convert("L" if channels == 1 else "RGB")
    height, width = size
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return array[None] if channels == 1 else np.ascontiguousarray(array.transpose(2, 0, 1))


def _default_size(paths):
    """The images' own size when they all share one no larger than LARGEST_KEPT_SIZE, else
    DEFAULT_SIZE square (only the files' headers are read)."""
    sizes = set()
    for path in paths:
        with _open(path, decode=False) as image:
            sizes.add(image.size)
        if len(sizes) > 1:
            break
    if len(sizes) == 1:
        width, height = sizes.pop()
        if max(width, height) <= LARGEST_KEPT_SIZE:
            return height, width
    return DEFAULT_SIZE, DEFAULT_SIZE


def load_image_folder(root, size=None, channels=None):
    """Every image under ``root``'s class folders: (images uint8 (N, C, H, W), labels int64,
    class names, file paths). ``size`` is (height, width); None keeps the images' own size when
    they share one up to 64 pixels, else 32x32. ``channels`` None means 1 when all images are
    grayscale, else 3."""
    _pillow()
    root = Path(root).expanduser()
    folders = _class_folders(root)
    files, labels = [], []
    for label, folder in enumerate(folders):
        found = image_files(folder)
        files += found
        labels += [label] * len(found)
    size = tuple(size) if size is not None else _default_size(files)
    images = np.empty((len(files), channels or 3, *size), dtype=np.uint8)
    for index, path in enumerate(files):
        images[index] = read_image(path, size, channels or 3)
    if channels is None and (images == images[:, :1]).all():
        images = np.ascontiguousarray(images[:, :1])  # every image is gray: one channel
    return images, np.array(labels, dtype=np.int64), [f.name for f in folders], files
