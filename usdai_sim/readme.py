"""Regenerate the generated sections of README.md (``make docs``); a test checks they are current."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from usdai_sim.model import PHASES
from usdai_sim.scenario import reference
from usdai_sim.scenario.field_docs import documented_json_schema
from usdai_sim.scenario.library import builtin_dir, builtin_names, load_scenario

SCHEMA_FILE = "scenario.schema.json"


def scenario_list() -> str:
    """The built-in scenarios with their one-line descriptions."""
    rows = ["| scenario | what it represents |", "|---|---|"]
    for name in builtin_names():
        scenario, _ = load_scenario(name)
        rows.append(f"| `{name}` | {' '.join(scenario.description.split())} |")
    return "\n".join(rows) + "\n"


def phase_table() -> str:
    """PHASES in order with their descriptions."""
    rows = ["| # | phase | what happens |", "|---|---|---|"]
    rows += [f"| {i} | `{p.name}` | {' '.join(p.description.split())} |" for i, p in enumerate(PHASES, 1)]
    return "\n".join(rows) + "\n"


def metrics_table() -> str:
    """Every key of summary.json with its unit and meaning (from the report's METRIC_DOCS)."""
    from usdai_sim.report.build import METRIC_DOCS

    rows = ["| key | unit | meaning |", "|---|---|---|"]
    rows += [f"| `{key}` | {unit} | {text} |" for key, (unit, text) in METRIC_DOCS.items()]
    return "\n".join(rows) + "\n"


def report_guide() -> str:
    """What each figure of the report shows, from the report's own figure list."""
    from usdai_sim.report.figures import MARKET_FIGURES, OUTCOME_FIGURES, class_figures

    specs = [*OUTCOME_FIGURES, *MARKET_FIGURES, *class_figures("CLASS")]
    return "".join(f"- **{spec.title}** — {spec.reading}\n" for spec in specs)


def replay_metrics() -> str:
    """The metrics a replay's validation target can name, with their meaning and unit."""
    from usdai_sim.calibration.metrics import METRICS

    return "".join(f"- `{name}` — {metric.description}\n" for name, metric in METRICS.items())


GENERATED: dict[str, Callable[[], str]] = {
    "SCENARIO LIST": scenario_list,
    "SCENARIO KEYS": reference.markdown,
    "PHASES": phase_table,
    "METRICS": metrics_table,
    "REPORT": report_guide,
    "REPLAY METRICS": replay_metrics,
}


def _replacement(block: str) -> Callable[[re.Match[str]], str]:
    return lambda match: match.group(1) + block + match.group(2)


def render(text: str) -> str:
    """README text with every generated block replaced by its current content."""
    for marker, make in GENERATED.items():
        pattern = re.compile(rf"(<!-- BEGIN {marker} -->\n).*?(<!-- END {marker} -->)", re.S)
        text = pattern.sub(_replacement(make()), text)
    return text


def schema_text() -> str:
    """The documented JSON Schema of scenarios, as shipped beside the built-in scenarios."""
    return json.dumps(documented_json_schema(), indent=2, ensure_ascii=False) + "\n"


def schema_file() -> Path:
    """Where the schema ships: next to the built-in scenarios, so their header can name it relatively."""
    return builtin_dir() / SCHEMA_FILE


def main() -> int:
    """Rewrite README.md in place (path as the first argument, default ./README.md) and the shipped schema."""
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(render(path.read_text()))
    schema_file().write_text(schema_text(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
