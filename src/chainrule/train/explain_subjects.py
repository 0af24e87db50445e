"""What is explained, per data kind: the model inputs, the model (a language model's last
position), the classes that ``--target`` names, and how attributions are written in the
data's own terms. Used by ``chainrule explain`` (explain_command.py) and by the run report's
"what the model looks at" section (explain_report.py)."""

import csv
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..diagnostics.plots import PLOTS_HINT
from ..explain import correlated_groups, global_ranking, group_columns, render
from ..explain.summaries import NEAR_DUPLICATE
from .tasks import model_outputs


class LastPosition(nn.Module):
    """A language model's next-token logits after the last position: (N, L) -> (N, vocab)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens):
        return self.model(tokens)[:, -1]


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return Path(path)


def _number(value):
    return f"{value:.6g}"


class Subject:
    """Inputs (an ndarray, samples first) with a label each, the model that reads them, and
    the class names of its outputs (None when it predicts values)."""

    kind = ""
    embeddings = None  # chainrule.explain's default: the model says, or they are found

    def __init__(self, model, inputs, labels, classes=None):
        self.model, self.inputs, self.labels, self.classes = model, inputs, list(labels), classes
        self._outputs = None

    def outputs(self):
        """The model's outputs (float64), computed once."""
        if self._outputs is None:
            self.model.eval()
            with no_grad():
                self._outputs = model_outputs(self.model, self.inputs)
        return self._outputs

    def targets(self, target=None):
        """(output index per sample, or None for a single-output model; the name of each
        explained output). ``target`` is a class (name or index), or for value-predicting
        models the step ahead (1-based); None explains the predicted class."""
        outputs = self.outputs()
        count, width = outputs.shape
        if self.classes is not None:
            indices = (outputs.argmax(axis=1) if target is None
                       else np.full(count, self._class_index(target)))
            return indices, [self._class_name(k) for k in indices]
        if target is None:
            index = 0
        else:
            step = int(target) if str(target).lstrip("-").isdigit() else 0
            if not 1 <= step <= width:
                raise ValueError(f"--target {target!r}: this model predicts {width} value(s); "
                                 f"name the step 1..{width}, or leave --target out")
            index = step - 1
        name = self.output_label(index, width)
        return (None if width == 1 else np.full(count, index)), [name] * count

    def output_label(self, index, width):
        """The name of a value-predicting model's output ``index`` of ``width``."""
        return "value" if width == 1 else f"value {index + 1}"

    def _class_name(self, index):
        return str(self.classes[index])

    def _class_index(self, target):
        names = [str(c) for c in self.classes]
        if str(target) in names:
            return names.index(str(target))
        if str(target).isdigit() and int(target) < len(names):
            return int(target)
        shown = ", ".join(repr(n) for n in names[:30])
        raise ValueError(f"--target {target!r} is not a class of this model; its classes are: "
                         f"{shown}")

    def predictions(self):
        return [self._class_name(k) for k in self.outputs().argmax(axis=1)]


def groups_note(rows):
    """Why a ranking of near-duplicate columns together is shown, correlated over ``rows``."""
    return (f"near-duplicate columns (|correlation| >= {NEAR_DUPLICATE} over {rows}) ranked "
            "together: how a model splits its weight among them varies with its seed, their sum "
            "much less")


class TableSubject(Subject):
    """Rows of a table; attributions are summed per table column (a categorical column spreads
    over one-hot inputs or one embedding) and ranked over the rows, per column and per group
    of near-duplicate numeric columns (correlated over ``reference`` rows: the rows explained
    unless given)."""

    kind = "table"

    def __init__(self, model, preprocessor, inputs, labels, reference=None):
        super().__init__(model, inputs, labels, preprocessor.classes)
        self.preprocessor = preprocessor
        self.reference = inputs if reference is None else reference

    def predictions(self):
        if self.classes is None:
            return [_number(v) for v in self.preprocessor.values(self.outputs()[:, 0])]
        return super().predictions()

    def columns(self, attributions):
        """(table column names, (rows, columns) attributions)."""
        return group_columns(attributions, self.preprocessor.input_columns)

    def ranking(self, attributions):
        names, grouped = self.columns(attributions)
        return global_ranking(grouped, names)

    def groups(self):
        """For each table column (in ``columns`` order), its group of near-duplicates (see
        explain.correlated_groups); a numeric column is correlated through its value input,
        and categorical columns stay alone."""
        pre = self.preprocessor
        values = [i for i, (name, column) in enumerate(zip(pre.input_names, pre.input_columns))
                  if name == column]  # a numeric or date column's own value
        found = dict(zip([pre.input_columns[i] for i in values],
                         correlated_groups(self.reference[:, values],
                                           [pre.input_columns[i] for i in values])))
        return [found.get(name, name) for name in dict.fromkeys(pre.input_columns)]

    def group_ranking(self, attributions):
        """The global ranking over groups of near-duplicate columns (a group's attribution is
        the sum of its columns'), or None when no two columns are near-duplicates."""
        groups = self.groups()
        if len(set(groups)) == len(groups):
            return None
        _, per_column = self.columns(attributions)
        group_names, per_group = group_columns(per_column, groups)
        return global_ranking(per_group, group_names)

    def write(self, out, method, attributions, explained):
        names, grouped = self.columns(attributions)
        outputs = self.outputs()
        indices = [self.classes.index(e) if self.classes else 0 for e in explained]
        rows = [[label, prediction, name, _number(outputs[i, k]), *map(_number, grouped[i])]
                for i, (label, prediction, name, k) in enumerate(
                    zip(self.labels, self.predictions(), explained, indices))]
        written = [write_csv(out / "attributions.csv",
                             ["row", "prediction", "explained", "output", *names], rows)]
        ranking = global_ranking(grouped, names)
        written.append(write_csv(out / "importance.csv", ["rank", "column", "mean_abs_attribution"],
                                 [[r, n, _number(v)] for r, (n, v) in enumerate(ranking, 1)]))
        written += _plot(render.ranking_plot, out / "importance.png", ranking,
                         f"{method}: mean |attribution| over {len(rows)} rows")
        lines = [f"most important columns ({method}, mean |attribution| over {len(rows)} rows):"]
        lines += [f"  {r:2d}. {n}  {v:.4g}" for r, (n, v) in enumerate(ranking[:10], 1)]
        by_group = self.group_ranking(attributions)
        if by_group is not None:
            written.append(write_csv(out / "importance_groups.csv",
                                     ["rank", "columns", "mean_abs_attribution"],
                                     [[r, n, _number(v)] for r, (n, v) in enumerate(by_group, 1)]))
            lines += [groups_note("these rows") + ":", *[f"  {r:2d}. {n}  {v:.4g}"
                                     for r, (n, v) in enumerate(by_group[:10], 1)]]
        return written, lines


class ImageSubject(Subject):
    """Images (N, C, H, W) as the model sees them (standardised), with their ``mean`` and
    ``scale`` to show them as they are; a heatmap per image beside it."""

    kind = "images"

    def __init__(self, model, inputs, labels, classes, mean, scale):
        super().__init__(model, inputs, labels, classes)
        self.pictures = inputs * np.asarray(scale) + np.asarray(mean)

    def maps(self, attributions):
        """(N, H, W): attributions summed over the channels (Grad-CAM maps are already)."""
        return attributions if attributions.ndim == 3 else attributions.sum(axis=1)

    def write(self, out, method, attributions, explained):
        maps = self.maps(attributions)
        signed = bool((maps < 0).any())
        written, rows = [], []
        for i, (label, prediction, name) in enumerate(zip(self.labels, self.predictions(),
                                                          explained)):
            path = out / f"{i:04d}_{Path(label).stem}.png"
            drawn_now = _plot(render.image_heatmaps, path, self.pictures[i:i + 1],
                              maps[i:i + 1], [f"{Path(label).name}: predicted {prediction}, "
                                              f"explained {name}"], signed)
            written += drawn_now
            rows.append([label, prediction, name, path.name if drawn_now else ""])
        written.insert(0, write_csv(out / "heatmaps.csv",
                                    ["file", "prediction", "explained", "heatmap"], rows))
        if not all(row[-1] for row in rows):
            return written, [f"no heatmaps drawn: {PLOTS_HINT}"]
        return written, [f"{len(rows)} heatmaps ({method}) in {out}"]


class SeriesSubject(Subject):
    """Windows of a series (the target's, then each covariate's); attributions per time step
    of each window, per step over all, and per column when there are covariates."""

    kind = "series"

    def __init__(self, model, preprocessor, inputs, windows, labels):
        super().__init__(model, inputs, labels)
        self.preprocessor, self.windows = preprocessor, windows

    def output_label(self, index, width):
        return f"t+{index + 1}"

    def predictions(self):
        return [_number(v) for v in self.windows[:, -1] + self.outputs()[:, 0]
                * self.preprocessor.scale]

    def ranking(self, attributions):
        return global_ranking(attributions, self.preprocessor.input_names)

    def write(self, out, method, attributions, explained):
        names = self.preprocessor.input_names
        rows = [[label, name, *map(_number, a)]
                for label, name, a in zip(self.labels, explained, attributions)]
        written = [write_csv(out / "attributions.csv", ["window_end", "explained", *names],
                             rows)]
        ranking = self.ranking(attributions)
        written.append(write_csv(out / "importance.csv", ["rank", "step", "mean_abs_attribution"],
                                 [[r, n, _number(v)] for r, (n, v) in enumerate(ranking, 1)]))
        last = slice(max(0, len(rows) - 3), len(rows))
        window = self.preprocessor.window  # the plot shows the target's own window
        written += _plot(render.series_plot, out / "windows.png", self.windows[last],
                         attributions[last, :window], names[:window],
                         [f"window ending {label}: explained {name} ({method})"
                          for label, name in zip(self.labels[last], explained[last])])
        top = ", ".join(f"{n} {v:.3g}" for n, v in ranking[:5])
        lines = [f"most important steps ({method}, mean |attribution| over {len(rows)} "
                 f"windows): {top}"]
        if self.preprocessor.features:
            columns, grouped = group_columns(attributions, self.preprocessor.input_columns)
            lines.append("per column: " + ", ".join(
                f"{n} {v:.3g}" for n, v in global_ranking(grouped, columns)))
        return written, lines


class TextSubject(Subject):
    """A prompt (1, L) of character codes; the model's next-character logits are explained,
    one attribution per character."""

    kind = "text"

    def __init__(self, model, tokens, vocab, labels=("prompt",)):
        super().__init__(LastPosition(model), tokens, labels, list(vocab))

    def _class_name(self, index):
        return repr(self.classes[index])[1:-1]

    def _class_index(self, target):
        text = str(target).encode("utf-8").decode("unicode_escape")  # "\n" names a newline
        if text in self.classes:
            return self.classes.index(text)
        raise ValueError(f"--target {target!r} is not a character the model knows; it knows "
                         f"{''.join(self.classes)!r}")

    def text(self, row):
        return [self.classes[k] for k in self.inputs[row]]

    def write(self, out, method, attributions, explained):
        examples = [(f"{label}: next character '{name}' ({method})", self.text(i),
                     attributions[i]) for i, (label, name) in enumerate(zip(self.labels,
                                                                            explained))]
        page = out / "tokens.html"
        page.write_text(render.tokens_html(examples, f"what the model reads ({method})"),
                        encoding="utf-8")
        rows = [[label, position, repr(ch)[1:-1], _number(a)]
                for label, (_, chars, scores) in zip(self.labels, examples)
                for position, (ch, a) in enumerate(zip(chars, scores))]
        written = [page, write_csv(out / "attributions.csv",
                                   ["example", "position", "character", "attribution"], rows)]
        scores = attributions[0]
        top = np.argsort(-np.abs(scores))[:5]
        chars = self.text(0)
        return written, [f"next character '{explained[0]}': the characters that matter most "
                         "(position, character, attribution): " + ", ".join(
                             f"{p} {chars[p]!r} {scores[p]:.3g}" for p in top)]


def drawn(draw, path, *args):
    """``draw(path, *args)``'s path, or None without matplotlib."""
    try:
        return draw(path, *args)
    except ImportError:
        return None


def _plot(draw, path, *args):
    """[path] when the plot was drawn, [] without matplotlib."""
    path = drawn(draw, path, *args)
    return [path] if path else []
