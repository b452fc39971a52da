"""Reverse stress test: the smallest shock that breaks a target, by bisection on common random numbers.

The shock is any numeric scenario field given as a dotted path (``markets.gpu.common.vol_per_sqrt_year``,
``shocks[0].change``) or a depth shorthand ``gpu_resale.depth`` / ``rental.depth`` / ``utilisation.depth``: a
shock of that type with ``change = -depth`` is added, ramping in over ``DEPTH_SHOCK`` (the timing of the
shipped crash scenarios).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from usdai_sim.engine import simulate
from usdai_sim.executors import Executor
from usdai_sim.intervals import LEVEL, path_columns, path_statistic, statistic_value
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario
from usdai_sim.studies.search import Cases, SearchResult, find_threshold
from usdai_sim.studies.targets import Target

DEPTH_SHOCK = {"start_day": 90.0, "duration_days": 180.0, "shape": "ramp"}
"""Timing of a depth shorthand (assumption: as gpu_resale_crash / severely_adverse, a six-month ramp from day 90)."""
DEPTH_TYPES = ("gpu_resale", "rental", "utilisation")
DEPTH_RANGE = (0.0, 0.95)
CASE = "scenario"


@dataclass(frozen=True)
class ShockAxis:
    """A scenario reference, its overrides, and the field searched over."""

    reference: str
    overrides: tuple[str, ...]
    field: str

    def scenario(self, x: float, paths: int | None = None, seed: int | None = None) -> Scenario:
        """The scenario with the searched field at ``x`` (validated)."""
        kind, _, rest = self.field.partition(".")
        extra = [] if kind in DEPTH_TYPES and rest == "depth" else [f"{self.field}={x!r}"]
        scenario, _ = load_scenario(self.reference, [*self.overrides, *extra])
        if not extra:
            data = scenario.model_dump(mode="json")
            data["shocks"] = [*data["shocks"], {"type": kind, "change": -x, **DEPTH_SHOCK}]
            scenario = Scenario.model_validate(data)
        update = {k: v for k, v in (("paths", paths), ("seed", seed)) if v is not None}
        sim = scenario.simulation.model_copy(update=update)
        return scenario.model_copy(update={"simulation": sim})

    def default_range(self) -> tuple[float, float] | None:
        """[0, 0.95] for a depth shorthand; a dotted field needs an explicit range."""
        kind, _, rest = self.field.partition(".")
        return DEPTH_RANGE if kind in DEPTH_TYPES and rest == "depth" else None


def evaluator(axis: ShockAxis, paths: int, seed: int | None, executor: Executor | None) -> Any:
    """x → per-path columns of the simulated scenario at x (same seed for every x)."""

    def evaluate(x: float) -> Cases:
        results = simulate(axis.scenario(x, paths, seed), executor=executor)
        return {CASE: path_columns(results.paths)}

    return evaluate


def target_margin(target: Target) -> Any:
    """Per resample: how far past its threshold the target metric is (> 0: the scenario is broken)."""
    stat = path_statistic(target.metric)
    return lambda cases: target.margin(stat(cases[CASE]))


def reverse_stress(
    axis: ShockAxis,
    target: Target,
    low: float,
    high: float,
    tolerance: float,
    paths: int,
    seed: int | None = None,
    executor: Executor | None = None,
) -> SearchResult:
    """The search result (smallest x breaking the target, its bootstrap interval, every evaluation)."""
    axis.scenario(low), axis.scenario(high)  # both ends must be valid scenarios before anything runs
    return find_threshold(evaluator(axis, paths, seed, executor), target_margin(target), low, high, tolerance)


def evaluations_table(result: SearchResult, target: Target) -> list[dict[str, Any]]:
    """Per evaluated x: the target metric and whether the target is broken."""
    stat = path_statistic(target.metric)
    return [
        {"x": x, "metric": statistic_value(stat, result.evaluations[x][CASE]), "broken": result.verdicts[x]}
        for x in sorted(result.evaluations)
    ]


def reverse_summary(
    axis: ShockAxis, target: Target, result: SearchResult, settings: dict[str, Any]
) -> dict[str, Any]:
    """The content of reverse.json."""
    return {
        "scenario": axis.reference,
        "overrides": list(axis.overrides),
        "shock": axis.field,
        "target": target.text,
        "target_metric": target.metric,
        **settings,
        "status": result.status,
        "threshold": result.value,
        "bracket": list(result.bracket),
        "interval": {"low": result.low, "high": result.high, "method": "bootstrap", "level": LEVEL},
        "evaluations": evaluations_table(result, target),
    }


def scenario_yaml(scenario: Scenario, note: Sequence[str]) -> str:
    """A scenario file (YAML) of the resolved scenario, headed by comment lines."""
    head = "".join(f"# {line}\n" for line in note)
    return head + yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
