"""Report writer (interim: Markdown summary and metrics.csv; figures and HTML come with the report issue)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from usdai_sim.scenario.schema import Scenario


def flatten_metrics(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """summary.json as flat ``metric -> value`` pairs (nested keys joined by '.')."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, name))
        else:
            flat[name] = value
    return flat


def write_report(results: Any, directory: Path, baseline: Scenario | None) -> None:
    """Write report.md and metrics.csv into ``directory``."""
    flat = flatten_metrics({k: v for k, v in results.summary.items() if k != "meta"})
    (directory / "metrics.csv").write_text("metric,value\n" + "".join(f"{k},{v}\n" for k, v in flat.items()))
    lines = [f"# usdai-sim report: {results.scenario.name}", "", json.dumps(results.meta), "",
             "| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in flat.items()]
    (directory / "report.md").write_text("\n".join(lines) + "\n")


def write_comparison(results: list[Any], labels: list[str], directory: Path) -> None:
    """Write a side-by-side metrics table of several runs."""
    flats = [flatten_metrics({k: v for k, v in r.summary.items() if k != "meta"}) for r in results]
    keys = list(flats[0])
    lines = ["| metric | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    lines += [f"| {k} | " + " | ".join(str(f.get(k)) for f in flats) + " |" for k in keys]
    (directory / "report.md").write_text("\n".join(lines) + "\n")
