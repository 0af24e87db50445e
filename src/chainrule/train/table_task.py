"""Learning from a table: classification or regression of one column from the others.

The split is fixed and stratified by class; preprocessing (see data/preprocessing/table.py) is
fitted on the training rows only and saved in every checkpoint, so that ``chainrule predict``
needs nothing but the run directory."""

import numpy as np

from ..creation import from_numpy
from ..data.preprocessing import TablePreprocessor, infer_task
from ..data.preprocessing.table import class_label
from ..data.readers.table import read_table
from ..nn import functional as F
from .metrics import classification_scores, regression_metrics
from .plots import classification_details, scatter_plot
from .splits import split_rows
from .tasks import ShuffledBatches, model_outputs


class TableTask(ShuffledBatches):
    """Rows of a table as float32 inputs (see ``TablePreprocessor``) with class indices or
    standardised values as targets; metrics: accuracy and ROC AUC, or MAE, RMSE and R^2."""

    kind = "table"

    def __init__(self, config, table, preprocessor=None):
        target = config.target
        table.cells(target)  # an unknown target is an error listing the columns
        if preprocessor is None:
            table.read_as(config.categorical, config.numeric)
            task, reason = (config.task, "--task") if config.task else infer_task(table, target)
            reason += "" if config.task else "; --task overrides"
        else:
            preprocessor.read_the_same_way(table)
            task, reason = preprocessor.task, "the saved model"
        self.notes = [f"task: {task} ({reason})"]
        self.notes += [f"- {note}" for note in table.notes]
        keep = np.flatnonzero(~table.missing(target))
        if not len(keep):  # e.g. every value an infinity, which counts as missing
            raise ValueError(f"{table.source}: the target column {target!r} has no usable "
                             "values (every cell is missing or not a finite number)")
        if len(keep) < len(table):
            self.notes.append(f"{len(table) - len(keep)} rows without a {target!r} value were "
                              "left out")
            table = table.take(keep)
        self._classes = None
        labels = self._class_labels(table, target) if task == "classification" else None
        self.rows = split_rows(len(table), labels, table.source, "rows", self._classes)
        self.preprocessor = preprocessor or TablePreprocessor.fit(
            table, target, self.rows["train"], task, config.features, config.drop or (),
            config.categorical, config.numeric)
        self.notes += self.preprocessor.describe()
        inputs, _ = self.preprocessor.transform(table)
        targets, _ = self.preprocessor.targets(table)
        if task == "regression":
            targets = targets[:, None]
        self.splits = {name: (inputs[rows], targets[rows]) for name, rows in self.rows.items()}
        self.name = f"{table.source} ({target}: {task})"
        self.num_classes = self.preprocessor.num_outputs
        self.input_shape = (inputs.shape[1],)
        self.weight = self._class_weight(config.class_weight)
        if task == "regression" and config.early_stopping_metric == "val_accuracy":
            raise ValueError("regression has no accuracy; use --early-stopping-metric val_loss")

    def _class_labels(self, table, target):
        labels = [class_label(c) for c in table.text(target)]
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError(
                f"{table.source}: the target {target!r} has one class ({classes[0]!r}) in all "
                f"{len(labels)} rows; a classifier needs at least two (or use --task regression)"
            )
        self._classes = classes
        index = {c: i for i, c in enumerate(classes)}
        codes = np.array([index[c] for c in labels])
        rare = [f"{c!r} ({n} row{'s' if n > 1 else ''})"
                for c, n in zip(classes, np.bincount(codes)) if n < 3]
        if rare:
            self.notes.append(f"rare classes: {', '.join(rare)}: too few rows to appear in "
                              "every split")
        return codes

    def _class_weight(self, mode):
        if self.preprocessor.task != "classification" or mode is None:
            return None
        counts = np.bincount(self.splits["train"][1], minlength=self.num_classes)
        weight = len(self.splits["train"][1]) / (self.num_classes * np.maximum(counts, 1))
        self.notes.append("class weights (balanced): " + ", ".join(
            f"{c} {w:.3g}" for c, w in zip(self.preprocessor.classes, weight)))
        return from_numpy(weight.astype(np.float32))

    def metadata(self):
        return {"kind": self.kind, "name": self.name,
                "preprocessing": self.preprocessor.state_dict()}

    def loss(self, outputs, targets):
        if self.preprocessor.task == "regression":
            return F.mse_loss(outputs, targets)
        return F.cross_entropy(outputs, targets, weight=self.weight)

    def evaluate(self, model, split, batch_size):
        inputs, targets = self.splits[split]
        outputs = model_outputs(model, inputs)
        if self.preprocessor.task == "regression":
            metrics = {"loss": float(((outputs - targets) ** 2).mean())}
            truth, predicted = (self.preprocessor.values(a[:, 0]) for a in (targets, outputs))
            return {**metrics, **regression_metrics(truth, predicted)}
        return classification_scores(outputs, targets)

    def report_sections(self, model, run_path):
        """Markdown for the run report: the preprocessing, and the test split in detail (per
        class precision/recall/F1 and the confusion matrix, or a predicted-vs-true plot)."""
        lines = ["## Data", "", f"`{self.name}`: {len(self.rows['train'])} training, "
                 f"{len(self.rows['val'])} validation, {len(self.rows['test'])} test rows", ""]
        lines += self.notes[1:] + ["", "## Test split in detail", ""]
        inputs, targets = self.splits["test"]
        outputs = model_outputs(model, inputs)
        if self.preprocessor.task == "regression":
            truth, predicted = (self.preprocessor.values(a[:, 0]) for a in (targets, outputs))
            plot = scatter_plot(run_path, truth, predicted, self.preprocessor.target)
            return lines + [f"![predicted against true]({plot.name})" if plot else ""]
        return lines + classification_details(run_path, outputs, targets,
                                              self.preprocessor.classes)


def load_table_task(config, metadata=None):
    """The table task for a config; ``metadata`` (from a checkpoint) supplies the saved
    preprocessing instead of fitting it again."""
    if not config.target:
        raise ValueError("--data table needs --target COLUMN: the column to predict")
    preprocessor = None
    if metadata is not None:
        preprocessor = TablePreprocessor.from_state(metadata["preprocessing"])
    return TableTask(config, read_table(config.data_path, config.skip_bad_rows,
                                                 header=not config.no_header), preprocessor)
