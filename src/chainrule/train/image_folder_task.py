"""Learning from a folder of images, one sub-folder per class: a stratified fixed split,
per-channel standardisation saved with the model, and optional random flips and crops drawn
from (seed, epoch), so that a resumed run sees the very same augmented batches."""

import numpy as np

from ..creation import from_numpy
from ..data.preprocessing import ImagePreprocessor
from ..data.readers.image_folder import load_image_folder
from ..nn import functional as F
from .data_settings import image_size
from .metrics import classification_scores
from .plots import classification_details, misclassified_grid
from .splits import split_rows
from .tasks import ShuffledBatches, model_outputs


class _AugmentedBatches:
    """An epoch's batches with each image flipped left-right (p = 0.5) and/or shifted by a
    random crop of the image padded by ``pad`` pixels; sized, so the loop can skip batches."""

    def __init__(self, x, y, batch_size, rng, flip, pad):
        self.x, self.y, self.batch_size, self.pad = x, y, batch_size, pad
        self.order = rng.permutation(len(x))
        self.flips = (rng.random(len(x)) < 0.5) if flip else np.zeros(len(x), bool)
        self.offsets = rng.integers(0, 2 * pad + 1, size=(len(x), 2))

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        height, width = self.x.shape[2:]
        for start in range(0, len(self.x), self.batch_size):
            rows = self.order[start:start + self.batch_size]
            images = self.x[rows]
            images = np.where(self.flips[rows, None, None, None], images[..., ::-1], images)
            if self.pad:
                padded = np.pad(images, ((0, 0), (0, 0), (self.pad,) * 2, (self.pad,) * 2))
                images = np.stack([padded[i, :, top:top + height, left:left + width]
                                   for i, (top, left) in enumerate(self.offsets[rows])])
            yield from_numpy(np.ascontiguousarray(images, np.float32)), from_numpy(self.y[rows])


class ImageFolderTask(ShuffledBatches):
    """Images of a class-per-folder tree; metrics accuracy (and ROC AUC), a confusion matrix
    and a grid of misclassified test images in the report."""

    kind = "images"

    def __init__(self, config, preprocessor=None):
        size, channels = image_size(config.image_size), None
        if preprocessor is not None:
            size, channels = preprocessor.size, preprocessor.channels
        skipped = [] if config.skip_bad_files else None
        images, labels, classes, self.files = load_image_folder(config.data_path, size, channels,
                                                                skipped)
        if preprocessor is not None and classes != preprocessor.classes:
            raise ValueError(f"{config.data_path} has the classes {classes}, but the model was "
                             f"trained on {preprocessor.classes}")
        self.rows = split_rows(len(labels), labels, config.data_path, "images", classes)
        self.preprocessor = preprocessor or ImagePreprocessor.fit(images[self.rows["train"]],
                                                                  classes)
        inputs = self.preprocessor.transform(images)
        self.images = images  # uint8, for the grid of misclassified images
        self.splits = {name: (inputs[rows], labels[rows]) for name, rows in self.rows.items()}
        self.name = f"image folder {config.data_path}"
        self.num_classes = len(classes)
        self.input_shape = self.preprocessor.input_shape
        self.label_smoothing = config.label_smoothing or 0.0
        self.flip = config.flip
        self.pad = max(1, min(self.input_shape[1:]) // 8) if config.random_crop else 0
        counts = np.bincount(labels, minlength=len(classes))
        self.notes = [f"{len(labels)} images in {len(classes)} classes ("
                      + ", ".join(f"{c} {n}" for c, n in zip(classes, counts)) + "), "
                      f"resized to {self.input_shape[1]}x{self.input_shape[2]}, "
                      f"{self.input_shape[0]} channel(s), standardised per channel"]
        if skipped:
            self.notes.append(f"warning: left out {len(skipped)} files that are not readable "
                              "images (--skip-bad-files): " + ", ".join(
                                  f"{path} ({reason})" for path, reason in skipped[:10])
                              + (f", and {len(skipped) - 10} more" if len(skipped) > 10 else ""))
        if self.flip or self.pad:
            self.notes.append("augmentation: " + ", ".join(
                (["random left-right flips"] if self.flip else [])
                + ([f"random crops after padding by {self.pad} pixels"] if self.pad else [])))

    def metadata(self):
        return {"kind": self.kind, "name": self.name,
                "preprocessing": self.preprocessor.state_dict()}

    def epoch_batches(self, epoch, seed, batch_size):
        if not (self.flip or self.pad):
            return super().epoch_batches(epoch, seed, batch_size)
        x, y = self.splits["train"]
        rng = np.random.default_rng([seed, epoch, 7])
        return _AugmentedBatches(x, y, batch_size, rng, self.flip, self.pad)

    def loss(self, logits, targets):
        return F.cross_entropy(logits, targets, label_smoothing=self.label_smoothing)

    def evaluate(self, model, split, batch_size):
        inputs, labels = self.splits[split]
        return classification_scores(model_outputs(model, inputs), labels)

    def report_sections(self, model, run_path):
        inputs, labels = self.splits["test"]
        logits = model_outputs(model, inputs)
        classes = self.preprocessor.classes
        lines = ["## Data", "", f"`{self.name}`: {len(self.rows['train'])} training, "
                 f"{len(self.rows['val'])} validation, {len(self.rows['test'])} test images", ""]
        lines += self.notes + ["", "## Test split in detail", ""]
        lines += classification_details(run_path, logits, labels, classes)
        wrong = np.flatnonzero(logits.argmax(axis=1) != labels)
        rows = self.rows["test"][wrong]
        grid = misclassified_grid(run_path, self.images[rows],
                                  [classes[k] for k in labels[wrong]],
                                  [classes[k] for k in logits.argmax(axis=1)[wrong]])
        lines += ["", f"{len(wrong)} of {len(labels)} test images misclassified"]
        if grid:
            lines += ["", f"![misclassified test images (true -> predicted)]({grid.name})"]
        lines += [f"- `{self.files[r]}`" for r in rows[:20]]
        return lines


def load_image_folder_task(config, metadata=None):
    preprocessor = None
    if metadata is not None:
        preprocessor = ImagePreprocessor.from_state(metadata["preprocessing"])
    return ImageFolderTask(config, preprocessor)
