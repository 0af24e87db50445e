"""The per-layer table printed at the end of a run (plain text, or Markdown for reports)."""

import math

HEADER = ("layer", "grad norm", "weight norm", "update/weight", "dead", "saturated", "status")


def _num(value):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.2e}"


def _pct(value):
    return "-" if value is None else f"{value:.0%}"


def rows(monitor):
    """One row per weighted layer (last sample), then one per watched activation."""
    layers, _ = monitor.summary()
    flagged = {}
    for finding in monitor.findings + monitor.notes:
        for layer in finding.layers:
            flagged.setdefault(layer, []).append(finding.rule)
    table = []
    types = {name: type(module).__name__ for name, module, _ in monitor.layers}
    for name, stats in layers.items():
        table.append((f"{name} ({types.get(name, '?')})", _num(stats["grad_norm"]),
                      _num(stats["weight_norm"]), _num(stats["update_ratio"]), "", "",
                      ", ".join(flagged.get(name, [])) or "ok"))
    for name, stats in monitor.activations.items():
        table.append((f"{name} ({stats['kind']})", "", "", "", _pct(stats.get("dead")),
                      _pct(stats.get("saturated")), ", ".join(flagged.get(name, [])) or "ok"))
    return table


def format_table(monitor):
    """The table as aligned plain text, with the step of the sample it shows."""
    body = rows(monitor)
    if not body:
        return "gradient diagnostics: no sampled step yet"
    widths = [max(len(str(r[i])) for r in [HEADER, *body]) for i in range(len(HEADER))]
    lines = [f"gradient diagnostics at step {monitor.samples[-1]['step']}:"]
    for row in [HEADER, *body]:
        lines.append("  ".join(str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
                               for i, (cell, width) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def markdown_table(monitor):
    """The same table in Markdown."""
    body = rows(monitor)
    rule = "| --- " + "| ---: " * (len(HEADER) - 2) + "| --- |"
    lines = ["| " + " | ".join(HEADER) + " |", rule]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in body]
    return "\n".join(lines)
