"""The run report's "What the model looks at" section: integrated gradients (zeros baseline,
32 steps) of the predicted class on test examples, in the data's own terms, with a picture.
``chainrule explain`` does the same on any data, with every method and the checks."""

import numpy as np

from ..explain import render
from .explain_command import attribute
from .explain_subjects import (
    ImageSubject,
    SeriesSubject,
    TableSubject,
    TextSubject,
    drawn,
    groups_note,
)

STEPS = 32
TABLE_ROWS = 200  # test rows the table's ranking is taken over
EXAMPLES = 4  # images, windows or text windows shown
FOLDER = "what_the_model_looks_at"


def sections(task, model, run_path):
    """[Markdown section] for a run's report, or [] for a task without test inputs."""
    subject = subject_of(task, model)
    if subject is None:
        return []
    targets, explained = subject.targets()
    attributions, notes = attribute(subject, "integrated-gradients", targets, baseline="zeros",
                                    steps=STEPS, reference=None, layer=None)
    folder = run_path / FOLDER
    folder.mkdir(exist_ok=True)
    lines = ["## What the model looks at", "",
             f"Integrated gradients ({STEPS} steps, zeros baseline: the training average of the "
             "standardised inputs) of the predicted output on test examples; red raises it, "
             "blue lowers it. `chainrule explain RUN_DIR INPUT` explains new data (and `--check`"
             " runs the sanity checks).", ""]
    lines += _kind_lines(subject, attributions, explained, folder)
    return ["\n".join(lines + [""] + [f"- {note}" for note in notes])]


def subject_of(task, model):
    """The test inputs of ``task`` to explain, or None."""
    kind = getattr(task, "kind", None)
    if kind == "table":
        rows = task.rows["test"][:TABLE_ROWS]
        inputs = task.splits["test"][0][:TABLE_ROWS]
        return TableSubject(model, task.preprocessor, inputs, [f"row {r + 2}" for r in rows],
                            reference=task.splits["train"][0])
    if kind in ("image", "images"):
        inputs = task.splits["test"][0][:EXAMPLES]
        labels = ([str(task.files[r]) for r in task.rows["test"][:EXAMPLES]]
                  if kind == "images" else [f"test image {i}" for i in range(len(inputs))])
        if kind == "images":
            pre = task.preprocessor
            return ImageSubject(model, inputs, labels, pre.classes, pre.mean, pre.scale)
        classes = [str(k) for k in range(task.num_classes)]
        return ImageSubject(model, inputs, labels, classes, task.mean, task.scale)
    if kind == "series":
        ends = task.ends["test"]
        window = task.preprocessor.window
        windows = task.values[ends[:, None] + np.arange(1 - window, 1)]
        return SeriesSubject(model, task.preprocessor, task.splits["test"][0], windows,
                             [task.series.time_label(e) for e in ends])
    if kind == "text":
        data, length = task.splits["test"], task.block_size
        count = min(EXAMPLES - 1, (len(data) - 1) // length)
        if count < 1:
            return None
        tokens = np.stack([data[i * length:(i + 1) * length] for i in range(count)])
        return TextSubject(model, tokens, task.vocab,
                           [f"test window {i}" for i in range(count)])
    return None


def _kind_lines(subject, attributions, explained, folder):
    link = f"{FOLDER}/"
    if subject.kind == "table":
        ranking = subject.ranking(attributions)
        names, grouped = subject.columns(attributions)
        lines = [f"Mean |attribution| per column over {len(attributions)} test rows:", "",
                 "| rank | column | mean abs attribution |", "| ---: | --- | ---: |"]
        lines += [f"| {r} | {n} | {v:.4g} |" for r, (n, v) in enumerate(ranking[:10], 1)]
        plot = drawn(render.ranking_plot, folder / "importance.png", ranking,
                     f"integrated gradients: mean |attribution| over {len(attributions)} "
                     "test rows")
        lines += ["", f"![column importance]({link}{plot.name})"] if plot else []
        by_group = subject.group_ranking(attributions)
        if by_group is not None:
            note = groups_note("the training rows")
            lines += ["", f"{note[0].upper()}{note[1:]}.", "",
                      "| rank | columns | mean abs attribution |", "| ---: | --- | ---: |"]
            lines += [f"| {r} | {n} | {v:.4g} |" for r, (n, v) in enumerate(by_group[:10], 1)]
        lines += ["", "Test rows, the three columns that weigh most:", ""]
        for i in range(min(3, len(grouped))):
            top = np.argsort(-np.abs(grouped[i]))[:3]
            lines.append(f"- {subject.labels[i]} (predicted {subject.predictions()[i]}): "
                         + ", ".join(f"`{names[k]}` {grouped[i, k]:+.3g}" for k in top))
        return lines
    if subject.kind == "images":
        maps = subject.maps(attributions)
        plot = drawn(render.image_heatmaps, folder / "heatmaps.png", subject.pictures, maps,
                     [f"{label}: predicted {p}" for label, p in
                      zip(subject.labels, subject.predictions())])
        return [f"![heatmaps of test images]({link}{plot.name})"] if plot else []
    if subject.kind == "series":
        ranking = subject.ranking(attributions)
        last = slice(max(0, len(attributions) - EXAMPLES + 1), len(attributions))
        window = subject.preprocessor.window  # the target's own window
        plot = drawn(render.series_plot, folder / "windows.png", subject.windows[last],
                     attributions[last, :window], subject.preprocessor.input_names[:window],
                     [f"window ending {label}" for label in subject.labels[last]])
        lines = [f"Mean |attribution| per time step over {len(attributions)} test windows, "
                 "largest first: " + ", ".join(f"{n} {v:.3g}" for n, v in ranking[:8])]
        return lines + (["", f"![test windows]({link}{plot.name})"] if plot else [])
    page = folder / "tokens.html"
    examples = [(f"{label}: next character '{name}'", subject.text(i), attributions[i])
                for i, (label, name) in enumerate(zip(subject.labels, explained))]
    page.write_text(render.tokens_html(examples, "what the model reads"), encoding="utf-8")
    lines = [f"Characters coloured by attribution: [{page.name}]({link}{page.name}). The "
             "characters that weigh most for the next one:", ""]
    for label, chars, scores in examples:
        top = np.argsort(-np.abs(scores))[:5]
        lines.append(f"- {label}: " + ", ".join(f"{chars[p]!r} at {p} {scores[p]:+.3g}"
                                                for p in top))
    return lines
