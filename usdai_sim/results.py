"""Results of a run: quantile bands, per-path outcomes, the ledger, histograms and summary metrics.

Frames (pandas):
* ``bands``  — one row per (day, variable): mean, p01, p05, p25, p50, p75, p95, p99 across paths;
* ``paths``  — one row per path: terminal outcomes (engine.terminal_columns);
* ``ledger`` — one row per step: every flow and event, mean per path (sum over paths / n_paths);
* ``ltv_hist`` — per recorded day, counts of live loans by LTV bin (pooled over paths);
* ``waits``  — per day of wait, redemption requests completed after that wait, and still pending at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from usdai_sim.blocks import BlockOutput
from usdai_sim.errors import ResultsError
from usdai_sim.ledger import COLUMNS
from usdai_sim.recorder import LTV_BINS, record_count, series_names
from usdai_sim.risk import loss_waterfall
from usdai_sim.scenario.schema import Scenario
from usdai_sim.summary import summarise
from usdai_sim.tidy import short_repr, summary_frame, to_xarray
from usdai_sim.version import __version__

if TYPE_CHECKING:
    import xarray as xr

BAND_LEVELS = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95, "p99": 0.99}
RESULTS_FORMAT = 1
"""Version of the results directory layout; bumped when files or columns change incompatibly."""
REPORT_BYTES = 20 * 2**20
"""Room left for the report's figures and pages (assumption: the example report is about 2 MB)."""
FILES = {
    "bands": "timeseries.parquet",
    "paths": "paths.parquet",
    "ledger": "ledger.parquet",
    "ltv_hist": "ltv_histogram.parquet",
    "waits": "waits.parquet",
}
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "bands": ("day", "variable", "mean", *BAND_LEVELS),
    "paths": ("path", "susdai_exchange_ratio_final", "loss_usd", "max_drawdown", "loans_originated"),
    "ledger": ("day", *COLUMNS),
    "ltv_hist": ("day",),
    "waits": ("wait_days", "completed", "pending_at_end"),
}
"""Columns a results file must have to be read back (a foreign Parquet file lacks them)."""


HTML_VIEW: dict[str, Callable[[Results], str]] = {}
"""The Jupyter HTML view of Results under the key ``results``. ``report/notebook.py`` registers it when
imported (results sits below the report layer and never imports it); ``usdai_sim.simulate`` and
``usdai_sim.Results`` import that module, so the public API always displays as HTML."""


@dataclass
class Results:
    """Everything a run produced; ``summary`` holds the headline metrics (see README, "Metrics")."""

    scenario: Scenario
    bands: pd.DataFrame
    paths: pd.DataFrame
    ledger: pd.DataFrame
    ltv_hist: pd.DataFrame
    waits: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    series: np.ndarray | None = None

    def __repr__(self) -> str:
        return short_repr(self)

    def _repr_html_(self) -> str | None:
        """Jupyter display: the headline table and a small fan chart (``report/notebook.py``, registered in
        ``HTML_VIEW`` by the layer above); None, so plain ``repr``, while no view is registered."""
        view = HTML_VIEW.get("results")
        return view(self) if view else None

    def summary_frame(self) -> pd.DataFrame:
        """The summary as a tidy frame: metric, value, low, high (Monte Carlo interval), unit, tail_paths."""
        return summary_frame(self.summary)

    def to_xarray(self) -> xr.Dataset:
        """Per-path series (dims path, day; gpu_class for class series); needs ``keep_series=True``."""
        return to_xarray(self)

    def loss_waterfall(self) -> pd.DataFrame:
        """USD loss waterfall, mean per path: gross default loss → recoveries → buffers → loss to holders."""
        return loss_waterfall(self.ledger)

    def band(self, variable: str) -> pd.DataFrame:
        """The quantile bands of one variable, indexed by day."""
        return self.bands[self.bands["variable"] == variable].set_index("day")

    @property
    def meta(self) -> dict[str, Any]:
        """Run size and identity for the manifest."""
        sim = self.scenario.simulation
        return {
            "scenario": self.scenario.name,
            "seed": sim.seed,
            "paths": sim.paths,
            "borrowers": self.scenario.borrowers.count,
            "depositors": self.scenario.depositors.count,
            "steps": sim.n_steps,
            "step_days": sim.step_days,
            "horizon_days": sim.horizon_days,
            "version": __version__,
        }

    def save(self, directory: Path) -> None:
        """Write the frames (Parquet) and summary.json into an existing directory."""
        for name, filename in FILES.items():
            getattr(self, name).to_parquet(directory / filename, index=False)
        (directory / "summary.json").write_text(json.dumps(self.summary, indent=2, allow_nan=False) + "\n")
        (directory / "scenario.json").write_text(self.scenario.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Results:
        """Read a results directory written by ``save`` (and the CLI); any damage is one ResultsError."""
        manifest = read_manifest(directory)
        frames = {name: read_frame(directory / filename, REQUIRED_COLUMNS[name]) for name, filename in FILES.items()}
        scenario = read_scenario(directory / "scenario.json")
        summary = read_json_object(directory / "summary.json")
        results = cls(scenario, summary=summary, timings=manifest.get("timings", {}), **frames)
        missing = sorted(set(summarise(results)) - set(summary))
        if missing:
            raise ResultsError(str(directory / "summary.json"), f"missing metrics {', '.join(missing[:3])}")
        return results


def estimated_size_bytes(scenario: Scenario) -> int:
    """Upper estimate of a results directory's size (uncompressed frames plus the report's figures)."""
    sim = scenario.simulation
    n_rec = record_count(sim.n_steps, sim.record_every_steps)
    bands = n_rec * len(series_names(scenario.class_names)) * (len(BAND_LEVELS) + 3) * 8
    paths = sim.paths * 40 * 8
    ledger = (sim.n_steps + 1) * (len(COLUMNS) + 1) * 8
    histograms = n_rec * len(LTV_BINS) * 8 + (sim.horizon_days + 2) * 3 * 8
    return bands + paths + ledger + histograms + REPORT_BYTES


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file whose top level is an object; missing, unreadable or malformed is a ResultsError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(str(path), "missing; not a complete results directory") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ResultsError(str(path), f"not valid JSON ({_first_line(exc)})") from None
    if not isinstance(data, dict):
        raise ResultsError(str(path), "not valid results JSON (expected an object)")
    return data


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest, checked: written by usdai-sim, for a results directory, in the format this version reads."""
    if not directory.is_dir():
        raise ResultsError(str(directory), "not a directory")
    if not (directory / "summary.json").is_file():
        raise ResultsError(str(directory), "not a results directory (no summary.json)")
    path = directory / "manifest.json"
    manifest = read_json_object(path) if path.exists() else {}
    kind = manifest.get("kind", "results")
    if kind != "results":
        raise ResultsError(str(path), f"a {kind} directory, not the results of a run")
    found = manifest.get("format", RESULTS_FORMAT)
    if found != RESULTS_FORMAT:
        writer = manifest.get("version", "unknown")
        raise ResultsError(
            str(path),
            f"results format {found!r} (written by usdai-sim {writer}); this usdai-sim {__version__} reads "
            f"format {RESULTS_FORMAT}; re-run the scenario",
        )
    return manifest


def read_frame(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """One Parquet frame with the columns it must have; anything else is a ResultsError naming the file."""
    if not path.is_file():
        raise ResultsError(str(path), "missing; not a complete results directory")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for damaged files; all mean the same to the user
        raise ResultsError(str(path), f"not a readable Parquet file ({_first_line(exc)})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ResultsError(str(path), f"not a usdai-sim results file (no column {missing[0]!r})")
    return frame


def read_scenario(path: Path) -> Scenario:
    """The resolved scenario saved beside the results."""
    data = read_json_object(path)
    try:
        return Scenario.model_validate(data)
    except ValueError as exc:
        raise ResultsError(str(path), f"not a valid scenario ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= 120 else text[:117] + "..."


def band_frame(
    series: Any, names: tuple[str, ...], days: np.ndarray, chunk_bytes: int = 64 * 2**20
) -> pd.DataFrame:
    """Quantile bands over paths of a (records, variables, paths) array, read a chunk of records at a time."""
    n_rec, n_var, n_paths = series.shape
    step = max(1, chunk_bytes // max(1, 8 * n_var * n_paths))
    parts = []
    for start in range(0, n_rec, step):
        block = np.asarray(series[start : start + step], dtype=np.float64)
        stats = {"mean": block.mean(axis=2)}
        qs = np.quantile(block, list(BAND_LEVELS.values()), axis=2)
        stats.update({name: qs[i] for i, name in enumerate(BAND_LEVELS)})
        frame = pd.DataFrame({k: v.ravel() for k, v in stats.items()})
        frame.insert(0, "variable", np.tile(names, block.shape[0]))
        frame.insert(0, "day", np.repeat(days[start : start + step], n_var))
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def ledger_frame(outputs: list[BlockOutput], n_paths: int, step_days: int) -> pd.DataFrame:
    """Mean per path of every flow and event, per step (row 0 = day 0, the initial originations)."""
    sums = np.concatenate([o.ledger_sums for o in outputs], axis=2).sum(axis=2) / n_paths
    frame = pd.DataFrame(sums, columns=list(COLUMNS))
    frame.insert(0, "day", np.arange(len(frame)) * step_days)
    return frame


def ltv_frame(outputs: list[BlockOutput], days: np.ndarray) -> pd.DataFrame:
    """Counts of live loans per LTV bin and recorded day, pooled over paths."""
    counts = np.sum([o.ltv_hist for o in outputs], axis=0)
    labels = [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(LTV_BINS[:-1], LTV_BINS[1:], strict=True)]
    frame = pd.DataFrame(counts, columns=labels)
    frame.insert(0, "day", days)
    return frame


def waits_frame(outputs: list[BlockOutput]) -> pd.DataFrame:
    """Requests completed after each whole number of days of waiting, and still pending at the horizon."""
    completed = np.sum([o.wait_hist for o in outputs], axis=0)
    pending = np.sum([o.censored_wait_hist for o in outputs], axis=0)
    return pd.DataFrame(
        {"wait_days": np.arange(len(completed)), "completed": completed, "pending_at_end": pending}
    )


def build_results(
    scenario: Scenario, outputs: list[BlockOutput], series: Any, keep_series: bool
) -> Results:
    """Merge work-block outputs (in path order) into Results and compute the summary."""
    sim = scenario.simulation
    days = np.arange(series.shape[0]) * sim.step_days * sim.record_every_steps
    paths = pd.DataFrame({k: np.concatenate([o.paths[k] for o in outputs]) for k in outputs[0].paths})
    results = Results(
        scenario=scenario,
        bands=band_frame(series, series_names(scenario.class_names), days),
        paths=paths,
        ledger=ledger_frame(outputs, sim.paths, sim.step_days),
        ltv_hist=ltv_frame(outputs, days),
        waits=waits_frame(outputs),
        series=series[0 : series.shape[0]] if keep_series else None,
    )
    results.summary = summarise(results)
    return results
