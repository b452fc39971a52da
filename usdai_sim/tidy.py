"""Results as tidy data for notebooks: the summary as a long frame, per-path series as an xarray Dataset.

``summary_frame`` has one row per number of ``summary.json`` (nested keys joined by '.'), with its unit
and, when the run has Monte Carlo intervals (``summary["intervals"]``), their low/high bounds and the
count of tail paths behind them; None where there are none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from usdai_sim.agents.borrowers import ROUTES
from usdai_sim.metric_docs import METRIC_DOCS
from usdai_sim.recorder import BASE_SERIES, series_names
from usdai_sim.risk import SPLIT_COLUMN
from usdai_sim.scenario.schema import Scenario

if TYPE_CHECKING:
    import xarray as xr


class RunData(Protocol):
    """What the tidy views read from a run (``results.Results`` provides it).

    Declared here, below ``results.py``, so that this module never imports the Results that use it.
    """

    scenario: Scenario
    summary: dict[str, Any]
    paths: pd.DataFrame
    series: np.ndarray | None


SUMMARY_COLUMNS = ("metric", "value", "low", "high", "unit", "tail_paths")
HEADLINE = (
    ("susdai_exchange_ratio_final.p50", "median exchange ratio"),
    ("prob_principal_loss", "P(principal loss)"),
    ("susdai_var_99", "99% VaR of holder loss"),
)
SKIPPED_KEYS = ("meta", "intervals", "precision")


def flat_numbers(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """summary.json as flat ``metric -> value`` pairs (nested keys joined by '.'), ``meta``/``intervals`` left out."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if not prefix and key in SKIPPED_KEYS:
            continue
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(flat_numbers(value, name))
        else:
            flat[name] = value
    return flat


def metric_unit(metric: str) -> str:
    """The unit of a top-level or dotted summary key ('' when undocumented)."""
    return METRIC_DOCS.get(metric.partition(".")[0], ("", ""))[0]


def interval_of(summary: dict[str, Any], metric: str) -> dict[str, Any]:
    """The Monte Carlo interval of ``metric`` from ``summary["intervals"]``, or an empty dict."""
    intervals = summary.get("intervals") or {}
    found = intervals.get(metric)
    return found if isinstance(found, dict) else {}


def summary_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per number: metric, value, low, high (Monte Carlo interval or None), unit, tail_paths."""
    rows = []
    for metric, value in flat_numbers(summary).items():
        interval = interval_of(summary, metric)
        rows.append((metric, value, interval.get("low"), interval.get("high"), metric_unit(metric),
                     interval.get("tail_paths")))
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def lookup(summary: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted key of the summary, or None."""
    value: Any = summary
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def short_repr(results: RunData) -> str:
    """Scenario, paths, seed and three headline numbers on one line (well under 400 characters)."""
    sim = results.scenario.simulation
    numbers = []
    for key, label in HEADLINE:
        value = lookup(results.summary, key)
        numbers.append(f"{label} {'n/a' if value is None else format(value, '.4g')}")
    name = results.scenario.name[:60]
    return f"<Results {name!r}: {sim.paths} paths, seed {sim.seed}, {sim.horizon_days} days; {'; '.join(numbers)}>"


def _class_series(series: np.ndarray, names: tuple[str, ...], classes: tuple[str, ...], stem: str) -> np.ndarray:
    """(path, day, gpu_class) array of one per-class series family (e.g. ``resale_index_{c}``)."""
    idx = [names.index(stem.format(c)) for c in classes]
    return np.transpose(series[:, idx, :], (2, 0, 1))


def split_arrays(paths: pd.DataFrame, kind: str, keys: list[str], dim: str | None = None) -> dict[str, Any]:
    """``sold_exposure_usd_by_<kind>`` and ``loss_usd_by_<kind>`` as (path, <kind>) arrays from the per-path
    columns ``sold_exposure_<kind>_<key>_usd`` and ``loss_<kind>_<key>_usd``."""
    if not keys or f"loss_{kind}_{keys[0]}_usd" not in paths:
        return {}
    out = {}
    for measure, text in (("sold_exposure", "exposure at default of sold loans (USD)"),
                          ("loss", "net principal loss (USD)")):
        stacked = np.stack([paths[f"{measure}_{kind}_{key}_usd"].to_numpy() for key in keys], axis=1)
        out[f"{measure}_usd_by_{kind}"] = (("path", dim or kind), stacked, {"description": f"{text} by {kind}"})
    return out


def to_xarray(results: RunData) -> xr.Dataset:
    """Per-path series as an ``xarray.Dataset``: dims (path, day), per-class series (path, day, gpu_class),
    the per-path outcomes at the horizon (path), and exposure and loss by cohort, GPU class and default
    route (path, cohort | gpu_class | route). Needs ``simulate(..., keep_series=True)``."""
    import xarray as xr

    if results.series is None:
        raise ValueError("per-path series were not kept; run simulate(..., keep_series=True)")
    series = np.asarray(results.series)
    classes = results.scenario.class_names
    names = series_names(classes)
    sim = results.scenario.simulation
    days = np.arange(series.shape[0]) * sim.step_days * sim.record_every_steps
    data: dict[str, Any] = {
        name: (("path", "day"), series[:, i, :].T, {"description": text})
        for i, (name, text) in enumerate(BASE_SERIES.items())
    }
    data["resale_index"] = (("path", "day", "gpu_class"), _class_series(series, names, classes, "resale_index_{}"),
                            {"description": "resale price index of the class (day 0 = 1)"})
    data["rental_usd_per_gpu_hour"] = (
        ("path", "day", "gpu_class"), _class_series(series, names, classes, "rental_{}_usd_per_gpu_hour"),
        {"description": "market rental price of the class (USD per GPU-hour)"})
    split_columns = [c for c in results.paths.columns if SPLIT_COLUMN.match(c) or c.startswith("sold_exposure_")
                     and c != "sold_exposure_usd"]
    for column in results.paths.columns.drop(["path", *split_columns]):
        data[f"final_{column}"] = (("path",), results.paths[column].to_numpy())
    cohorts = [cohort.name for cohort in results.scenario.borrowers.cohorts]
    data.update(split_arrays(results.paths, "cohort", [str(i) for i in range(len(cohorts))]))
    data.update(split_arrays(results.paths, "class", list(classes), dim="gpu_class"))
    data.update(split_arrays(results.paths, "route", list(ROUTES)))
    coords = {"path": results.paths["path"].to_numpy(), "day": days, "gpu_class": list(classes),
              "cohort": cohorts, "route": list(ROUTES)}
    attrs = {"scenario": results.scenario.name, "seed": sim.seed, "start_date": sim.start_date}
    return xr.Dataset(data, coords=coords, attrs=attrs)
