"""``chainrule runs [DIR]`` and ``chainrule runs compare A B``: runs as versioned models.

The list reads each run directory's run.json (status, data fingerprint, version), config.toml
and metrics.jsonl; runs made before run.json existed are listed from the latter two. A run
that run.json says is running but whose lock no process holds was killed outright: it is
listed as killed (run_record.current_status)."""

from pathlib import Path

from ..data.readers._files import reading
from .config import read_toml
from .run_record import RUN_FILE, current_status, read_record, summary
from .rundir import RunDirectory

RESUMABLE = ("interrupted", "killed")  # statuses of runs that stopped before their end
# the test metric that sums a run up, by preference
_HEADLINE = ("test_accuracy", "test_roc_auc", "test_mae", "test_perplexity", "test_loss")


def _is_run(path):
    return (path / "config.toml").is_file()


def _describe(path):
    """A run directory's settings, record and summary, for the table and comparisons."""
    run = RunDirectory(path)
    try:
        settings = read_toml(run.config_path)
    except (ValueError, OSError):  # unreadable: the run is still listed, without its settings
        settings = {}
    record = read_record(path)
    if record.get("status") in (None, "running"):  # not summed up yet: from metrics.jsonl
        metric = settings.get("early_stopping_metric", "val_loss")
        record.update(summary(run, metric))
    record["status"] = current_status(path, record) or (
        "unknown" if not (path / RUN_FILE).exists() else "running")
    return settings, record


def _headline(test):
    for key in _HEADLINE:
        if isinstance((test or {}).get(key), (int, float)):
            return f"{key[5:]} {test[key]:.4f}"
    return "-"


def _best(record):
    best = record.get("best")
    return f"{best['metric']} {best['value']:.4f}" if best else "-"


def _date(record):
    return (record.get("updated") or record.get("created") or "-")[:16].replace("T", " ")


def list_runs(directory="runs"):
    """Print one line per run directory under ``directory`` (newest first)."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory of runs (train with --out {root})")
    with reading(root):
        runs = [root] if _is_run(root) else sorted(p for p in root.iterdir() if _is_run(p))
    if not runs:
        print(f"no runs in {root}")
        return 0
    rows, write_failures = [], set()
    for path in runs:
        settings, record = _describe(path)
        fingerprint = (record.get("fingerprint") or "-").removeprefix("sha256:")[:12]
        rows.append([path.name, settings.get("model", "-"), settings.get("data", "-"),
                     fingerprint, _best(record), _headline(record.get("test")),
                     record["status"], _date(record)])
        if record["status"] == "failed" and record.get("resumable"):
            write_failures.add(path.name)
    rows.sort(key=lambda row: row[-1], reverse=True)
    header = ["run", "model", "data", "fingerprint", "best", "test", "status", "date"]
    print(_format([header] + rows))
    paths = {path.name: path for path in runs}
    hints = [f"{row[0]} stopped before its end ({row[-2]}); continue it with: chainrule train "
             f"--resume {paths[row[0]]}" for row in rows if row[-2] in RESUMABLE]
    hints += [f"{row[0]} failed writing a file (its error is in run.json); once it can write, "
              f"continue it with: chainrule train --resume {paths[row[0]]}"
              for row in rows if row[0] in write_failures]
    if hints:
        print("\n" + "\n".join(hints))
    return 0


def _format(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
                     for row in rows)


def compare_runs(first, second):
    """Print the settings that differ between two runs, then their records and metrics side by
    side."""
    paths = [Path(p).expanduser() for p in (first, second)]
    for path in paths:
        RunDirectory.open_existing(path)
    (settings_a, record_a), (settings_b, record_b) = (_describe(p) for p in paths)
    rows = [["", paths[0].name, paths[1].name]]
    ignored = {"out", "name", "quiet"}
    for key in sorted(set(settings_a) | set(settings_b)):
        a, b = settings_a.get(key, "-"), settings_b.get(key, "-")
        if a != b and key not in ignored:
            rows.append([key, str(a), str(b)])
    if len(rows) == 1:
        rows.append(["(settings)", "identical", "identical"])
    facts = [["status", record_a["status"], record_b["status"]],
             ["chainrule", record_a.get("chainrule_version", "-"),
              record_b.get("chainrule_version", "-")],
             ["fingerprint", *((r.get("fingerprint") or "-").removeprefix("sha256:")[:12]
                               for r in (record_a, record_b))],
             ["epochs", str(record_a.get("epochs", "-")), str(record_b.get("epochs", "-"))],
             ["best", _best(record_a), _best(record_b)]]
    prints = [r.get("fingerprint") for r in (record_a, record_b)]
    same_data = None in prints or prints[0] == prints[1]
    tests_a, tests_b = record_a.get("test", {}), record_b.get("test", {})
    metrics = [[key, _number(tests_a.get(key)), _number(tests_b.get(key))]
               for key in sorted(set(tests_a) | set(tests_b))]
    print("settings that differ:")
    print(_format(rows))
    print()
    print(_format([["", paths[0].name, paths[1].name]] + facts + metrics))
    if not same_data:
        print("\nnote: the runs trained on different data (fingerprints differ)")
    return 0


def _number(value):
    return f"{value:.4f}" if isinstance(value, (int, float)) else "-"
