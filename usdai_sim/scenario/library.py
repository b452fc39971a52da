"""Built-in scenarios and the one entry point that turns a name or a path into a validated Scenario."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from usdai_sim.errors import ScenarioError
from usdai_sim.scenario.files import InputFileError, read_input_bytes
from usdai_sim.scenario.load import Provenance, load_mapping, locate, resolve_extends, validate
from usdai_sim.scenario.overrides import apply_overrides, relocate
from usdai_sim.scenario.schema import Scenario, Simulation, cross_check
from usdai_sim.scenario.series_csv import find_series_csv, read_series_csv

DEFAULT_SCENARIO = "baseline"


def builtin_dir() -> Path:
    """The folder of the shipped scenarios (``usdai_sim/scenarios``, also ``scenarios/`` in the repo)."""
    return Path(str(resources.files("usdai_sim") / "scenarios"))


def builtin_names() -> list[str]:
    """Names of the shipped scenarios, sorted."""
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def builtin_path(name: str) -> Path | None:
    """The file of a shipped scenario, or None."""
    path = builtin_dir() / f"{name}.yaml"
    return path if path.is_file() else None


def resolve_reference(ref: str | os.PathLike[str]) -> Path:
    """A path as given, or a built-in scenario's file when ``ref`` is a bare name that is not a file."""
    path = Path(ref)
    if path.exists() or path.suffix or os.sep in str(ref):
        return path
    builtin = builtin_path(str(ref))
    if builtin is None:
        raise ScenarioError(
            str(ref), None, "", f"no such file or built-in scenario; built-ins: {', '.join(builtin_names())}"
        )
    return builtin


def _read_rate_csv(csv_path: Path, file: str, line: int | None, key: str) -> tuple[list[float], list[float]]:
    """A T-bill path CSV with header ``day,rate`` (rate an annual decimal); '#' lines are comments."""
    try:
        text = read_input_bytes(csv_path).decode("utf-8")
        rows = [r for r in csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#"))]
        days = [float(r["day"]) for r in rows]
        rates = [float(r["rate"]) for r in rows]
    except (InputFileError, OSError, KeyError, ValueError, TypeError) as exc:
        raise ScenarioError(
            file, line, key, f"cannot read T-bill path CSV {csv_path} (columns day,rate): {exc}"
        ) from None
    return days, rates


def _start_date(data: dict[str, Any]) -> str:
    simulation = data.get("simulation")
    given = simulation.get("start_date") if isinstance(simulation, dict) else None
    return str(given) if given is not None else Simulation().start_date


def _inline_csv_paths(data: dict[str, Any], lines: dict, default_file: str) -> None:
    """Replace ``csv: FILE`` in tbill_path shocks by ``days``/``rates`` and in series shocks by
    ``days``/``values`` (the file relative to the YAML file; series files also from the packaged replays)."""
    for i, shock in enumerate(data.get("shocks") or []):
        if isinstance(shock, dict) and "csv" in shock:
            file, line = locate(lines, ("shocks", i, "csv"), default_file)
            key = f"shocks[{i}].csv"
            if shock.get("type") == "series":
                if "days" in shock or "values" in shock:
                    raise ScenarioError(file, line, key, "give either csv or days and values, not both")
                csv_path = find_series_csv(str(shock.pop("csv")), Path(file).parent)
                where = (file, line, key)
                shock["days"], shock["values"] = read_series_csv(csv_path, _start_date(data), where)
                continue
            csv_path = Path(file).parent / str(shock.pop("csv"))
            shock["days"], shock["rates"] = _read_rate_csv(csv_path, file, line, key)


def load_scenario(
    ref: str | os.PathLike[str], overrides: Sequence[str] = ()
) -> tuple[Scenario, Provenance]:
    """Load a scenario file or built-in name with ``--set path=value`` overrides laid on top; every input
    problem is one ScenarioError with file and line (or ``--set PATH`` for an override)."""
    try:
        return _load_scenario(ref, overrides)
    except ScenarioError as exc:
        raise relocate(exc) from None


def _load_scenario(ref: str | os.PathLike[str], overrides: Sequence[str]) -> tuple[Scenario, Provenance]:
    path = resolve_reference(ref)
    resolved = resolve_extends(path, builtin_path)
    _inline_csv_paths(resolved.data, resolved.lines, str(path))
    if "name" not in load_mapping(path)[0]:
        resolved.data["name"] = path.stem  # a file that does not name itself is named after its stem
    apply_overrides(resolved.data, resolved.lines, overrides)
    scenario = validate(Scenario, resolved.data, resolved.lines, str(path))
    provenance = Provenance(files=resolved.files, merged=resolved.data, lines=resolved.lines)
    for loc, message, got in cross_check(scenario):
        file, line = provenance.locate(loc)
        key = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")
        raise ScenarioError(file, line, key, message, got)
    return scenario, provenance


def scenario_sha256(scenario: Scenario) -> str:
    """Hash of the resolved scenario (canonical JSON), identifying what was run."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def scenario_differences(scenario: Scenario, baseline: Scenario) -> list[tuple[str, Any, Any]]:
    """(dotted key, baseline value, scenario value) for every leaf that differs, for the report."""

    def flat(obj: Any, prefix: str = "") -> dict[str, Any]:
        if isinstance(obj, dict):
            out: dict[str, Any] = {}
            for k, v in obj.items():
                out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
            return out
        return {prefix: obj}

    ours, theirs = flat(scenario.model_dump(mode="json")), flat(baseline.model_dump(mode="json"))
    keys = sorted(set(ours) | set(theirs))
    return [
        (k, theirs.get(k), ours.get(k))
        for k in keys
        if ours.get(k) != theirs.get(k) and k not in ("name", "description")
    ]
