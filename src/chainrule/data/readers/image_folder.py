"""Folders of images, one folder per class (``root/cat/1.png``, ``root/dog/7.jpg``), read
through Pillow (the ``images`` extra) into uint8 arrays of one size."""

import collections
import errno
import os
from pathlib import Path

import numpy as np

from ._files import CannotReadError, physical_memory, reading

__all__ = ["IMAGE_SUFFIXES", "UnreadableImage", "image_files", "load_image_folder", "read_image",
           "read_images", "unreadable_images"]

IMAGES_HINT = "reading images needs Pillow: pip install 'chainrule[images]'"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
LARGEST_KEPT_SIZE = 64  # images all this small or smaller keep their size by default
DEFAULT_SIZE = 32
SMALLEST_SIZE = 4  # the presets' networks need 4 pixels a side; smaller images are enlarged


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

    found, seen = [], set()
    # folders linked in (data kept elsewhere) are followed, as torchvision's ImageFolder does;
    # each real folder once, so that a link to a folder above cannot loop
    for directory, subfolders, names in os.walk(folder, onerror=refuse, followlinks=True):
        real = os.path.realpath(directory)
        if real in seen:
            subfolders[:] = []
            continue
        seen.add(real)
        subfolders[:] = [name for name in subfolders if not _hidden(name)]
        found += [Path(directory, name) for name in names
                  if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES
                  and os.path.isfile(os.path.join(directory, name))]
    return sorted(found)


def _class_folders(root):
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is a file, not a folder"
        raise FileNotFoundError(f"--data-path {root} {what}; --data images needs a folder with "
                                "one sub-folder of images per class")
    folders = _subfolders(root)
    if len(folders) == 1 and len(_subfolders(folders[0])) >= 2:
        raise ValueError(
            f"{root} has one class folder, {folders[0].name}, which holds folders itself "
            f"({', '.join(p.name for p in _subfolders(folders[0])[:5])}); if those are the "
            f"classes, use --data-path {folders[0]}"
        )
    _refuse_split_folders(root, folders)
    if len(folders) < 2:
        raise ValueError(
            f"{root} has {len(folders)} class folder(s); --data images needs one sub-folder per "
            f"class, at least two (e.g. {root}/cat/1.png and {root}/dog/2.png)"
        )
    for folder in folders:
        if not image_files(folder):
            raise ValueError(f"class folder {folder} has no images "
                             f"({', '.join(IMAGE_SUFFIXES)}){_other_files(folder)}; remove it "
                             "or add its images")
    return folders


def _other_files(folder):
    """What a folder without images holds instead, e.g. ' (it holds 30 .heic files: convert
    them to one of these formats)', or ''."""
    suffixes = collections.Counter(path.suffix.lower() or "extension-less"
                                   for path in folder.rglob("*")
                                   if path.is_file() and not path.name.startswith("."))
    if not suffixes:
        return ""
    held = ", ".join(f"{count} {suffix}" for suffix, count in suffixes.most_common(3))
    return f" (it holds {held} files: convert images to one of these formats)"


# names of the folders a data set downloaded already split comes in (Kaggle, torchvision)
_SPLIT_NAMES = {"train", "training", "test", "testing", "val", "valid", "validation", "dev",
                "eval", "evaluation", "holdout"}


def _refuse_split_folders(root, folders):
    """A data set that comes split (train/cats, train/dogs, test/cats, ...) would otherwise
    train a model to tell "train" from "test": refuse it, naming the folder to train on."""
    splits = [f for f in folders if f.name.lower() in _SPLIT_NAMES and len(_subfolders(f)) >= 2]
    if not splits:
        return
    train = next((f for f in splits if f.name.lower().startswith("train")), splits[0])
    inner = ", ".join(p.name for p in _subfolders(train)[:5])
    raise ValueError(
        f"{root}'s folders {', '.join(f.name for f in splits)} look like splits of one data "
        f"set, not classes: {train.name} holds the class folders {inner}. Train on one split, "
        f"--data-path {train} (chainrule holds out its own validation and test images), and "
        "predict or explain on the others")


class UnreadableImage(ValueError):
    """A file that is no image Pillow can decode (corrupt, truncated, another format)."""

    def __init__(self, path, error):
        self.path = path
        self.reason = str(error) or type(error).__name__
        super().__init__(f"{path} is not a readable image ({self.reason}); remove or replace "
                         "the file")


def _decoded(path, image=None):
    """The image at ``path`` (or ``image``, opened from it, with its header read) decoded;
    UnreadableImage when it cannot be, CannotReadError when the file system refuses."""
    Image = _pillow()
    try:
        image = Image.open(path) if image is None else image
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise _refusal(path, error) from None
    return image


# errors with which the file system (not a decoder) refuses a read: decoders such as libtiff
# raise OSError(EINVAL) for a damaged file, which is the file's fault, not the disk's
_FILE_SYSTEM_ERRORS = frozenset({errno.EACCES, errno.EPERM, errno.EIO, errno.ENOENT,
                                 errno.EISDIR, errno.ENOTDIR, errno.ELOOP, errno.ENXIO,
                                 errno.ENODEV, errno.ENAMETOOLONG, errno.ESTALE})


def _refusal(path, error):
    """CannotReadError when the file system refused to read ``path``, else UnreadableImage."""
    if isinstance(error, OSError) and (error.filename is not None
                                       or error.errno in _FILE_SYSTEM_ERRORS):
        return CannotReadError(path, error)
    return UnreadableImage(path, error)


def _subfolders(folder):
    with reading(folder):
        return sorted(p for p in folder.iterdir() if p.is_dir() and not _hidden(p.name))


def _hidden(name):
    """Hidden folders, and the __MACOSX folder that unpacking a Mac's zip file leaves."""
    return name.startswith(".") or name == "__MACOSX"


def _open(path, decode=True):
    if decode:
        return _decoded(path)
    Image = _pillow()
    try:
        return Image.open(path)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise _refusal(path, error) from None


def read_image(path, size, channels):
    """One image as uint8 (channels, height, width), resized to ``size`` (height, width);
    ``channels`` is 1 (grayscale) or 3 (RGB). Every mode is converted alike: the camera's
    orientation applied, 16-bit and float pixels scaled to 0..255, transparency composited on
    white, palettes expanded."""
    Image = _pillow()
    height, width = size
    source = _open(path, decode=False)
    try:
        source.draft("L" if channels == 1 else "RGB", (width, height))  # JPEG: decode smaller
        image = _normalised(_decoded(path, source), channels)
    finally:
        source.close()
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return array[None] if channels == 1 else np.ascontiguousarray(array.transpose(2, 0, 1))


def _normalised(image, channels):
    """``image`` as mode L or RGB, the same way whatever mode it came in."""
    from PIL import ImageOps

    Image = _pillow()
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a damaged EXIF block: keep the pixels as stored
        pass
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        top = 65535.0 if pixels.max(initial=0) > 255 else 255.0
        image = Image.fromarray(np.clip(pixels * (255.0 / top), 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("L" if channels == 1 else "RGB")


def _default_size(paths):
    """The images' own size when they all share one no larger than LARGEST_KEPT_SIZE; else,
    when they share a shape (height to width, within 5%), DEFAULT_SIZE on the longer side;
    else DEFAULT_SIZE square. Only the files' headers are read."""
    sizes = set()
    for path in paths:
        with _open(path, decode=False) as image:
            sizes.add(image.size)
    if len(sizes) == 1:
        width, height = next(iter(sizes))
        if SMALLEST_SIZE <= min(width, height) and max(width, height) <= LARGEST_KEPT_SIZE:
            return height, width
    ratios = [height / width for width, height in sizes]
    if max(ratios) <= min(ratios) * 1.05:
        ratio = float(np.median(ratios))
        if ratio >= 1:
            return DEFAULT_SIZE, max(SMALLEST_SIZE, round(DEFAULT_SIZE / ratio))
        return max(SMALLEST_SIZE, round(DEFAULT_SIZE * ratio)), DEFAULT_SIZE
    return DEFAULT_SIZE, DEFAULT_SIZE


def _readable(paths, check, skipped):
    """The paths that ``check`` accepts. A path it refuses (UnreadableImage) goes to ``skipped``
    as (path, reason) when that is a list; otherwise every refusal is collected and one error
    names them all."""
    kept, refused = [], []
    for path in paths:
        try:
            check(path)
        except UnreadableImage as error:
            refused.append((path, error.reason))
            continue
        kept.append(path)
    if refused and skipped is None:
        raise unreadable_images(refused, len(paths))
    if refused:
        skipped.extend(refused)
    return kept


def unreadable_images(refused, total):
    """The error for the files ``refused`` ((path, reason) pairs) among ``total``: each named,
    and the fix."""
    if total == 1:
        return UnreadableImage(*refused[0])
    shown = ", ".join(f"{path} ({reason})" for path, reason in refused[:5])
    more = f", and {len(refused) - 5} more" if len(refused) > 5 else ""
    return ValueError(f"{len(refused)} of {total} files are not readable images: {shown}{more}. "
                      "Remove or replace them, or pass --skip-bad-files to leave them out")


def read_images(paths, size, channels, skipped=None):
    """Image files as uint8 (N, channels, height, width), and the paths read. A file that is
    no readable image is an error naming it (and every other such file), or, when ``skipped``
    is a list, left out and added to it as (path, reason)."""
    images = {}

    def read(path):
        images[path] = read_image(path, size, channels)

    kept = _readable(paths, read, skipped)
    stacked = np.empty((len(kept), channels, *size), dtype=np.uint8)
    for index, path in enumerate(kept):
        stacked[index] = images.pop(path)
    return stacked, kept


def _check_fits_in_memory(root, count, size, channels):
    """``count`` images of ``size`` must fit in memory as uint8 pixels plus the float32 copy
    training makes of them (5 bytes a value), checked before any is read."""
    limit = physical_memory()
    needed = count * channels * size[0] * size[1] * 5
    if limit is not None and needed > limit:
        raise ValueError(
            f"{root}: {count} images at {size[0]}x{size[1]} would take {needed / 2**30:,.1f} GiB "
            f"in memory (their pixels and a float32 copy), more than this machine's "
            f"{limit / 2**30:,.1f} GiB; use a smaller --image-size")


def load_image_folder(root, size=None, channels=None, skipped=None):
    """Every image under ``root``'s class folders: (images uint8 (N, C, H, W), labels int64,
    class names, file paths). ``size`` is (height, width); None keeps the images' own size when
    they share one up to 64 pixels, else 32 on the longer side (see _default_size).
    ``channels`` None means 1 when all images are grayscale, else 3. Files that are not
    readable images are an error naming them all, or with ``skipped`` (a list) left out and
    listed there."""
    _pillow()
    root = Path(root).expanduser()
    folders = _class_folders(root)
    files, labels = [], []
    for label, folder in enumerate(folders):
        found = image_files(folder)
        files += found
        labels += [label] * len(found)
    label_of = dict(zip(files, labels))
    if size is None:
        files = _readable(files, lambda p: _open(p, decode=False).close(), skipped)
        size = _default_size(files)
    _check_fits_in_memory(root, len(files), size, channels or 3)
    images, files = read_images(files, tuple(size), channels or 3, skipped)
    labels = np.array([label_of[f] for f in files], dtype=np.int64)
    empty = [folder.name for k, folder in enumerate(folders) if not (labels == k).any()]
    if empty:
        raise ValueError(f"class folder(s) {', '.join(empty)} under {root} have no readable "
                         "image left; remove them or add images")
    if channels is None and (images == images[:, :1]).all():
        images = np.ascontiguousarray(images[:, :1])  # every image is gray: one channel
    return images, labels, [f.name for f in folders], files
