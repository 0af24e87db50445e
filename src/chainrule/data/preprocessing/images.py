"""The preprocessing of images, saved with the model: size, channels, pixel statistics and
class names, so that new image files are fed to the model exactly as the training images
were."""

import numpy as np

from ..readers.image_folder import read_images
from ._state import StateReader, is_int

__all__ = ["ImagePreprocessor"]

SCALE_FLOOR = 0.1  # keeps near-constant pixels or channels from being blown up
MAX_SIZE = 4096  # a side longer than this is no image a network here could train on


class ImagePreprocessor:
    """``transform(pixels)`` maps uint8 images (N, C, H, W) to the model's float32 input:
    ``(pixels / 255 - mean) / scale``, where ``mean`` and ``scale`` are per channel (image
    folders) or per pixel (the built-in digits and MNIST-style sets), from the training split.

    >>> pre = ImagePreprocessor((2, 2), 1, mean=[0.5], scale=[0.25], classes=["a", "b"])
    >>> pre.transform(np.full((1, 1, 2, 2), 255, np.uint8))[0, 0, 0, 0]
    np.float32(2.0)
    """

    def __init__(self, size, channels, mean, scale, classes):
        self.size = tuple(int(s) for s in size)
        self.channels = int(channels)
        mean, scale = np.asarray(mean, np.float32), np.asarray(scale, np.float32)
        if mean.ndim == 1:  # per channel
            mean, scale = mean[:, None, None], scale[:, None, None]
        self.mean, self.scale = mean, scale
        self.classes = list(classes)

    @classmethod
    def fit(cls, images, classes, per_pixel=False):
        """Statistics of the training images (uint8 (N, C, H, W)), per channel by default."""
        pixels = images.astype(np.float32) / np.float32(255)
        axes = 0 if per_pixel else (0, 2, 3)
        mean = pixels.mean(axis=axes)
        scale = pixels.std(axis=axes) + np.float32(SCALE_FLOOR)
        return cls(images.shape[2:], images.shape[1], mean, scale, classes)

    def transform(self, images):
        """uint8 (N, C, H, W) to standardised float32."""
        pixels = images.astype(np.float32) / np.float32(255)
        return ((pixels - self.mean) / self.scale).astype(np.float32)

    def read(self, paths, skipped=None):
        """Image files, resized and converted as in training, as standardised float32. A file
        that is no readable image is an error naming it (and any other), or, when ``skipped``
        is a list, left out and added to it as (path, reason): then the rows are those of the
        files not skipped."""
        images, _ = read_images(list(paths), self.size, self.channels, skipped)
        return self.transform(images)

    @property
    def input_shape(self):
        return (self.channels, *self.size)

    def state_dict(self):
        return {"size": list(self.size), "channels": self.channels, "mean": self.mean,
                "scale": self.scale, "classes": self.classes}

    @classmethod
    def from_state(cls, state):
        """Rebuild from ``state_dict()``; a state that cannot work raises
        PreprocessingStateError naming the entry."""
        saved = StateReader(state, "the saved image preprocessing",
                            ("size", "channels", "mean", "scale", "classes"))
        size = saved.state["size"]
        if not (isinstance(size, (list, tuple)) and len(size) == 2
                and all(is_int(s) and 1 <= s <= MAX_SIZE for s in size)):
            saved.fail(f"has 'size' = {size!r}; it should be [height, width], each from 1 to "
                       f"{MAX_SIZE}")
        channels = saved.integer("channels", 1, 3)
        if channels == 2:
            saved.fail("has 'channels' = 2; images are gray (1) or colour (3)")
        # per channel (C,) -- written (C, 1, 1) by state_dict -- or per pixel (C, H, W)
        shapes = [(channels,), (channels, 1, 1), (channels, *size)]
        mean, scale = saved.array("mean", shapes), saved.array("scale", shapes)
        if mean.shape != scale.shape or not (scale > 0).all():
            saved.fail("has a 'scale' that is not positive everywhere or not shaped as 'mean'")
        if mean.ndim == 3 and mean.shape[1:] == (1, 1):
            mean, scale = mean[:, 0, 0], scale[:, 0, 0]
        classes = saved.texts("classes", least=1)
        return cls(size, channels, mean, scale, classes)
