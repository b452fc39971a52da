"""Historical replays: run every built-in ``replay_*`` scenario and compare it with what happened.

``reports/validation.md`` (+ ``reports/validation/*.png``) lists per replay the observed outcomes, each
validation target's observed value, the model's median and 90% interval over paths, the tolerance band
set in the scenario before running, and pass (median inside the band) or miss, with the mechanism
responsible for a miss. The page is deterministic: each scenario's own seed, a fixed number of paths,
no timestamps, so regenerating it reproduces it (a test checks this).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usdai_sim.calibration.diagnoses import DIAGNOSES, DIAGNOSTIC_PATHS, Counterfactual
from usdai_sim.calibration.metrics import METRICS
from usdai_sim.engine import simulate
from usdai_sim.errors import ScenarioError
from usdai_sim.results import Results
from usdai_sim.scenario.library import builtin_names, load_scenario
from usdai_sim.scenario.schema import Scenario, ValidationTarget
from usdai_sim.scenario.series_csv import packaged_dir

REPLAY_PREFIX = "replay_"
PAGE_PATHS = 128
"""Paths per replay on the committed page: enough for a stable median, small enough for ``make test``."""
PASSING_FILE = Path(__file__).with_name("replays_passing.txt")
"""Checks that pass today, one id a line; a test fails if one of them starts to miss."""


def window_text(target: ValidationTarget) -> str:
    """A target's window as ``from-to`` in days (``end`` = the horizon)."""
    last = "end" if target.to_day is None else f"{target.to_day:g}"
    return f"{target.from_day or 0:g}-{last}"


@dataclass(frozen=True)
class Check:
    """One validation target of one replay, against the model's distribution over paths."""

    replay: str
    target: ValidationTarget
    median: float
    p05: float
    p95: float

    @property
    def passed(self) -> bool:
        """True when the model's median lies inside the band set before running."""
        return self.target.low <= self.median <= self.target.high

    @property
    def ident(self) -> str:
        """``replay:metric`` plus ``@from-to`` for a windowed metric; unique within the page."""
        t = self.target
        span = "" if t.from_day is None and t.to_day is None else f"@{window_text(t)}"
        of_class = "" if t.gpu_class is None else f"/{t.gpu_class}"
        return f"{self.replay}:{t.metric}{of_class}{span}"


@dataclass(frozen=True)
class CounterfactualRun:
    """A diagnostic run of a replay (``diagnoses.py``): its label, overrides and checks."""

    counterfactual: Counterfactual
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class ReplayRun:
    """A replay scenario, its results, its checks and its diagnostic runs (if it has a diagnosis)."""

    scenario: Scenario
    results: Results
    checks: tuple[Check, ...]
    counterfactuals: tuple[CounterfactualRun, ...] = ()


def replay_names() -> list[str]:
    """The built-in replay scenarios, sorted."""
    return [name for name in builtin_names() if name.startswith(REPLAY_PREFIX)]


def check_targets(scenario: Scenario) -> None:
    """Every validation target names a known metric and a window inside the horizon (ScenarioError if not)."""
    horizon = scenario.simulation.horizon_days
    for i, target in enumerate(scenario.validation):
        where = f"validation[{i}]"
        if target.metric not in METRICS:
            raise ScenarioError(scenario.name, None, f"{where}.metric", f"unknown replay metric; known: "
                                f"{', '.join(sorted(METRICS))}", target.metric)
        if target.gpu_class is not None and target.gpu_class not in scenario.class_names:
            raise ScenarioError(scenario.name, None, f"{where}.gpu_class", "unknown GPU class; known: "
                                f"{', '.join(scenario.class_names)}", target.gpu_class)
        if (target.to_day or 0) > horizon or (target.from_day or 0) >= horizon:
            raise ScenarioError(scenario.name, None, f"{where}.to_day", f"window outside the horizon of {horizon} days")


def distribution(values: np.ndarray) -> tuple[float, float, float]:
    """(median, 5th, 95th percentile) over paths, NaN paths left out (all NaN: NaN).

    Quantiles are values taken by a path (inverted CDF, no interpolation), so infinity ("never") stays one.
    """
    kept = values[~np.isnan(values)]
    if kept.size == 0:
        return math.nan, math.nan, math.nan
    p05, p50, p95 = np.quantile(kept, [0.05, 0.5, 0.95], method="inverted_cdf")
    return float(p50), float(p05), float(p95)


def run_replay(name: str, paths: int, progress: Callable[[str], None] | None = None) -> ReplayRun:
    """Run one replay scenario with ``paths`` paths (its own seed) and check its validation targets."""
    scenario, _ = load_scenario(name)
    check_targets(scenario)
    if progress is not None:
        progress(name)
    results = simulate(scenario, paths=paths, keep_series=True)
    diagnosis = DIAGNOSES.get(name)
    counterfactuals = () if diagnosis is None else tuple(
        run_counterfactual(name, c) for c in diagnosis.counterfactuals
    )
    return ReplayRun(scenario, results, checks_of(name, scenario, results), counterfactuals)


def checks_of(name: str, scenario: Scenario, results: Results) -> tuple[Check, ...]:
    """Every validation target of a replay against a run's distribution over paths."""
    return tuple(
        Check(name, target, *distribution(METRICS[target.metric].per_path(results, target)))
        for target in scenario.validation
    )


def run_counterfactual(name: str, counterfactual: Counterfactual) -> CounterfactualRun:
    """A replay with a diagnosis's overrides, ``DIAGNOSTIC_PATHS`` paths, its own seed."""
    scenario, _ = load_scenario(name, counterfactual.overrides)
    results = simulate(scenario, paths=DIAGNOSTIC_PATHS, keep_series=True)
    return CounterfactualRun(counterfactual, checks_of(name, scenario, results))


def run_all(paths: int = PAGE_PATHS, progress: Callable[[str], None] | None = None) -> list[ReplayRun]:
    """Every built-in replay, in name order."""
    return [run_replay(name, paths, progress) for name in replay_names()]


def passing_ids(runs: Iterable[ReplayRun]) -> list[str]:
    """Ids of the checks that pass, sorted."""
    return sorted(c.ident for run in runs for c in run.checks if c.passed)


def read_passing(path: Path = PASSING_FILE) -> list[str]:
    """The committed list of checks that passed when it was last written ('#' lines are comments)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def read_outcomes(name: str) -> list[dict[str, str]]:
    """The observed outcomes table of a replay (``<name>_outcomes.csv``), or [] when it has none."""
    path = packaged_dir() / f"{name}_outcomes.csv"
    if not path.is_file():
        return []
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
