"""The run report: PNG plots of the training curves (when matplotlib is installed) and a
Markdown summary."""

from pathlib import Path

from ..diagnostics.plot_helpers import offloaded
from ..diagnostics.plots import _pyplot, place_grid

PLOTS_HINT = "Plots need matplotlib: pip install 'chainrule[plots]'."


def _plot_curves(run, epochs, steps):
    """curves.png in the run's folder, or None without matplotlib."""
    try:
        return draw_curves(Path(run.path) / "curves.png", epochs, steps)
    except ImportError:
        return None


@offloaded
def draw_curves(path, epochs, steps):
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    if steps:
        axes[0].plot([r["step"] for r in steps], [r["loss"] for r in steps], alpha=0.4,
                     label="train loss (steps)")
    axes[0].plot([r["step"] for r in epochs], [r["train_loss"] for r in epochs], "o-",
                 label="train loss (epoch mean)")
    axes[0].plot([r["step"] for r in epochs], [r.get("val_loss") for r in epochs], "o-",
                 label="validation loss")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("loss")
    axes[0].set_yscale("log")
    axes[0].legend()
    axes[1].plot([r["epoch"] for r in epochs], [r.get("val_accuracy") for r in epochs], "o-",
                 label="validation accuracy")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("accuracy")
    axes[1].legend()
    # NOTE: fixed margins, not tight_layout (see diagnostics/plots.place_grid): the log axis'
    # labels and the axis titles fit in them
    place_grid(figure, 1, 2, left=0.95, right=0.15, top=0.15, bottom=0.55, wspace=0.95)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return Path(path)


def write_report(run, config, test_metrics, extra_sections=()):
    """Write report.md (and curves.png when possible); return the report's path."""
    records = run.read_metrics()
    epochs = [r for r in records if r.get("kind") == "epoch"]
    steps = [r for r in records if r.get("kind") == "step"]
    plot = _plot_curves(run, epochs, steps) if epochs else None
    lines = [f"# chainrule run: {Path(run.path).name}", "",
             f"model `{config.model}` on `{config.data}`, {len(epochs)} epochs, "
             f"optimizer `{config.optimizer}` (lr {config.lr}), seed {config.seed}", "",
             "## Test metrics", ""]
    lines += [f"- {key}: {value:.4f}" for key, value in test_metrics.items()]
    lines += ["", "## Training curves", ""]
    lines.append(f"![training curves]({plot.name})" if plot else PLOTS_HINT)
    lines += ["", "| epoch | step | train loss | val loss | val accuracy | lr |",
              "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in epochs:
        lines.append(
            f"| {r['epoch']} | {r['step']} | {r['train_loss']:.4f} | {r.get('val_loss', 0):.4f} "
            f"| {r.get('val_accuracy', 0):.4f} | {r['lr']:.2e} |"
        )
    for section in extra_sections:
        lines += ["", section]
    path = Path(run.path) / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
