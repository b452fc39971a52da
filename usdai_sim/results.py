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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from usdai_sim import __version__
from usdai_sim.ledger import COLUMNS
from usdai_sim.recorder import LTV_BINS, series_names
from usdai_sim.risk import loss_waterfall
from usdai_sim.scenario.schema import Scenario
from usdai_sim.summary import summarise
from usdai_sim.tidy import short_repr, summary_frame, to_xarray

if TYPE_CHECKING:
    import xarray as xr

    from usdai_sim.engine import BlockOutput

BAND_LEVELS = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95, "p99": 0.99}
FILES = {
    "bands": "timeseries.parquet",
    "paths": "paths.parquet",
    "ledger": "ledger.parquet",
    "ltv_hist": "ltv_histogram.parquet",
    "waits": "waits.parquet",
}


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

    def _repr_html_(self) -> str:
        """Jupyter display: the headline table and a small fan chart (``report/notebook.py``)."""
        from usdai_sim.report.notebook import results_html

        return results_html(self)

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
        """Read a results directory written by ``save`` (and the CLI)."""
        frames = {name: pd.read_parquet(directory / filename) for name, filename in FILES.items()}
        scenario = Scenario.model_validate_json((directory / "scenario.json").read_text())
        summary = json.loads((directory / "summary.json").read_text())
        manifest = directory / "manifest.json"
        timings = json.loads(manifest.read_text()).get("timings", {}) if manifest.exists() else {}
        return cls(scenario, summary=summary, timings=timings, **frames)


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
