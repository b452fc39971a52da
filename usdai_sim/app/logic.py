"""What the explorer does, without the user interface: parameters grouped by section with their docs,
edits to a scenario's data, validation, saving as YAML, running with progress and cancellation."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel

from usdai_sim import load_scenario, simulate
from usdai_sim.results import Results
from usdai_sim.scenario import schema
from usdai_sim.scenario.field_docs import field_doc

DataPath = tuple[str | int, ...]
DEFAULT_APP_PATHS = 64
"""Paths per run in the explorer: small, so a run takes seconds (raise it in the app for tail numbers)."""
SECTIONS: tuple[tuple[str, DataPath, type[BaseModel]], ...] = (
    ("Simulation", ("simulation",), schema.Simulation),
    ("T-bill", ("markets", "tbill"), schema.TBill),
    ("GPU resale: common factor", ("markets", "gpu", "common"), schema.Factor),
    ("GPU resale: class factor", ("markets", "gpu", "class_factor"), schema.Factor),
    ("GPU resale: idiosyncratic factor", ("markets", "gpu", "idiosyncratic"), schema.Factor),
    ("Rentals", ("markets", "rental"), schema.Rental),
    ("Utilisation", ("markets", "utilisation"), schema.Utilisation),
    ("Borrowers", ("borrowers",), schema.Borrowers),
    ("Depositors", ("depositors",), schema.Depositors),
    ("Protocol", ("protocol",), schema.Protocol),
    ("Liquidation", ("protocol", "liquidation"), schema.Liquidation),
    ("Price impact", ("protocol", "liquidation", "price_impact"), schema.PriceImpact),
    ("Loss recognition", ("protocol", "loss_recognition"), schema.LossRecognition),
    ("Insurance", ("protocol", "insurance"), schema.Insurance),
    ("Redemption queue", ("protocol", "queue"), schema.Queue),
    ("QEV auction", ("protocol", "queue", "qev"), schema.Qev),
    ("Allocation", ("protocol", "allocation"), schema.Allocation),
)


class Cancelled(Exception):
    """Raised inside a run's progress callback to stop it."""


@dataclass(frozen=True)
class Param:
    """One editable key: where it lives, its label (key and unit) and its description."""

    path: DataPath
    label: str
    description: str

    @property
    def dotted(self) -> str:
        """The key as the YAML file spells it, e.g. ``borrowers.cohorts[0].apr``."""
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path).lstrip(".")


def _is_section(value: Any) -> bool:
    """True for sub-sections and lists; False for scalars and ``{low, high}`` spreads."""
    spread = isinstance(value, dict) and set(value) <= {"low", "high", "log"}
    return isinstance(value, list) or (isinstance(value, dict) and not spread)


def section_params(model: type[BaseModel], prefix: DataPath, data: dict[str, Any]) -> list[Param]:
    """The scalar keys of one section (numbers, choices, flags, spreads); sub-sections and lists left out."""
    node = get_value(data, prefix)
    params = []
    for name in model.model_fields:
        if _is_section(node.get(name)):
            continue
        text, unit, _source = field_doc(model, name) or ("", "", None)
        params.append(Param((*prefix, name), f"{name} [{unit}]", text))
    return params


def grouped_params(data: dict[str, Any]) -> list[tuple[str, list[Param]]]:
    """Every editable key, grouped by section, then one group per borrower cohort."""
    groups = [(title, section_params(model, prefix, data)) for title, prefix, model in SECTIONS]
    for i, cohort in enumerate(data["borrowers"]["cohorts"]):
        title = f"Cohort {i}: {cohort.get('name', '')}"
        groups.append((title, section_params(schema.Cohort, ("borrowers", "cohorts", i), data)))
    return [(title, params) for title, params in groups if params]


def get_value(data: Any, path: DataPath) -> Any:
    """The value at a data path."""
    for key in path:
        data = data[key]
    return data


def set_value(data: Any, path: DataPath, value: Any) -> Any:
    """A copy of ``data`` with the value at ``path`` replaced (the containers on the way copied)."""
    if not path:
        return value
    head, *rest = path
    copy: Any = list(data) if isinstance(data, list) else dict(data)
    copy[head] = set_value(data[head], tuple(rest), value)
    return copy


def show_value(value: Any) -> str:
    """A value as the user edits it: YAML flow style (``0.05``, ``{low: 0.6, high: 0.8}``, ``null``)."""
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def parse_value(text: str) -> Any:
    """What the user typed, read as YAML (numbers, true/false, null, ``{low: .., high: ..}``)."""
    return yaml.safe_load(text)


def scenario_data(ref: str | os.PathLike[str]) -> dict[str, Any]:
    """A scenario (built-in name or YAML path) resolved and validated, as plain data the app edits."""
    scenario, _ = load_scenario(ref)
    return scenario.model_dump(mode="json")


def validate(data: dict[str, Any]) -> schema.Scenario:
    """The edited data as a Scenario, or ValueError with one line per problem (dotted key: message)."""
    try:
        scenario = schema.Scenario.model_validate(data)
    except pydantic.ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ValueError("; ".join(lines)) from None
    problems = schema.cross_check(scenario)
    if problems:
        raise ValueError("; ".join(f"{'.'.join(map(str, loc))}: {msg} (got {got})" for loc, msg, got in problems))
    return scenario


def save_yaml(data: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Validate, then write the scenario as YAML (atomically); the file loads back to the same scenario."""
    validate(data)
    target = Path(path).expanduser()
    if target.suffix not in (".yaml", ".yml"):
        raise ValueError(f"{target}: the file name must end in .yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    text = "# Saved by usdai-sim app: the whole scenario, resolved.\n" + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True)
    handle, staging = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(staging, target)
    load_scenario(target)  # the file as written must load, with file:line errors if not
    return target


def run(data: dict[str, Any], paths: int, on_progress: Callable[[float], bool]) -> Results:
    """Simulate the edited scenario with ``paths`` paths; ``on_progress(fraction)`` returning False cancels."""
    scenario = validate(data)

    def progress(done: int, total: int) -> None:
        if not on_progress(done / max(total, 1)):
            raise Cancelled("run cancelled")

    return simulate(scenario, paths=paths, progress=progress)


def write_full_report(results: Results, directory: str | os.PathLike[str]) -> Path:
    """The full HTML/Markdown report of a run into a new (or empty) directory."""
    from usdai_sim import write_report

    target = Path(directory).expanduser()
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target}: exists and is not empty; choose a new directory")
    write_report(results, target)
    return target / "report.html"
