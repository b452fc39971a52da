"""Monte Carlo intervals of the tail metrics in ``summary.json``: how far each estimate may be from its limit.

Two methods, stated per metric in ``summary["intervals"][key] = {"low", "high", "method", "level", "tail_paths"}``:

* ``order-statistic`` (quantiles, VaR): the distribution-free binomial interval [x_(l), x_(u)] of the q-quantile,
  with l, u the order statistics for which P(l <= B < u) >= level, B ~ Binomial(n, q) (David & Nagaraja 2003,
  §7.1). Exact whatever the distribution.
* ``bootstrap`` (ES, pooled ratios): the percentile interval of the statistic over resamples of whole paths
  (Efron & Tibshirani 1993, ch. 13), with a fixed seed so the interval is reproducible.
* ``wilson`` (probabilities of a per-path event, e.g. P(loss)): the Wilson score interval of a binomial
  proportion (Wilson 1927), which, unlike a bootstrap, is not [0, 0] when no path has the event.

``tail_paths`` is the number of paths the estimate rests on (e.g. n·(1 − 0.99) for a 99% VaR/ES, the paths
with a loss for P(loss)); with fewer than ``FEW_TAIL_PATHS`` a report should say so beside the number.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

LEVEL: Final = 0.95
BOOTSTRAP_SEED: Final = 20_261_204
"""Seed of the bootstrap resamples (assumption: any fixed number; it makes intervals reproducible)."""
BOOTSTRAP_CELLS: Final = 2_000_000
"""Resampled values held at once (resamples × paths), to bound memory."""
FEW_TAIL_PATHS: Final = 20
SEASONING_KEY: Final = "default_rate_per_loan_year_by_year_on_book"
QUANTILES: Final = {"p01": 0.01, "p05": 0.05, "p50": 0.50, "p95": 0.95, "p99": 0.99}

Stat = Callable[[dict[str, NDArray[np.float64]]], NDArray[np.float64]]
"""A statistic of resampled columns, each (resamples, paths), giving one value per resample."""

ALIASES: Final = {
    "p95_er_loss": "susdai_var_95",
    "p99_er_loss": "susdai_var_99",
    "var95_er_loss": "susdai_var_95",
    "var99_er_loss": "susdai_var_99",
    "es95_er_loss": "susdai_es_95",
    "es99_er_loss": "susdai_es_99",
    "p_loss": "prob_principal_loss",
    "default_rate": "default_rate_count",
    "lgd": "loss_given_default_pooled",
    "p99_longest_wait_days": "longest_wait_days.p99",
    "p95_longest_wait_days": "longest_wait_days.p95",
    "p99_queue_peak": "queue_peak_fraction_of_supply.p99",
}
"""Short names of tail metrics (for ``--until-precise``, targets and budgets) → summary keys."""


def metric_key(name: str) -> str:
    """The summary key of a metric given by its key or a short alias."""
    return ALIASES.get(name, name)


def record(low: float, high: float, method: str, tail_paths: int, level: float = LEVEL) -> dict[str, Any]:
    """One entry of ``summary["intervals"]``."""
    return {"low": float(low), "high": float(high), "method": method, "level": level, "tail_paths": int(tail_paths)}


def binomial_cdf(n: int, q: float) -> NDArray[np.float64]:
    """P(B <= k) for k = 0..n, B ~ Binomial(n, q), from log-space probabilities."""
    k = np.arange(n + 1, dtype=float)
    lgamma = np.frompyfunc(math.lgamma, 1, 1)
    log_choose = math.lgamma(n + 1) - lgamma(k + 1).astype(float) - lgamma(n - k + 1).astype(float)
    log_pmf = log_choose + k * math.log(q) + (n - k) * math.log1p(-q)
    return np.minimum(np.cumsum(np.exp(log_pmf)), 1.0)


def order_statistic_interval(values: NDArray[np.float64], q: float, level: float = LEVEL) -> tuple[float, float]:
    """Distribution-free interval of the q-quantile of the distribution behind ``values`` (NaNs dropped)."""
    x = np.sort(values[~np.isnan(values)])
    n = x.size
    if n == 0:
        return math.nan, math.nan
    cdf = binomial_cdf(n, q)
    alpha = 1.0 - level
    below = np.concatenate(([0.0], cdf[:-1]))  # below[k] = P(B <= k - 1) = P(B < k), k = 0..n
    lower = int(np.flatnonzero(below <= alpha / 2).max())  # order statistic l (1-based; 0 = below the sample)
    upper_hits = np.flatnonzero(below >= 1 - alpha / 2)
    upper = int(upper_hits.min()) if upper_hits.size else n + 1
    return float(x[max(lower, 1) - 1]), float(x[min(upper, n) - 1])


def wilson_interval(events: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion ``events / n``."""
    if n == 0:
        return math.nan, math.nan
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_interval(
    columns: dict[str, NDArray[np.float64]], stat: Stat, resamples: int = 1000, level: float = LEVEL
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat`` over resamples of whole paths (rows of ``columns``)."""
    n = len(next(iter(columns.values())))
    if n == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    chunk = max(1, BOOTSTRAP_CELLS // n)
    values = []
    for start in range(0, resamples, chunk):
        index = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        values.append(stat({name: col[index] for name, col in columns.items()}))
    stats = np.concatenate(values)
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return math.nan, math.nan
    alpha = 1.0 - level
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def expected_shortfall_rows(losses: NDArray[np.float64], level: float) -> NDArray[np.float64]:
    """Expected shortfall of each row of ``losses`` (equal weights), as in ``metrics.expected_shortfall``."""
    n = losses.shape[1]
    ordered = np.sort(losses, axis=1)
    index = min(int(np.ceil(level * n * (1 - 1e-12))) - 1, n - 1)
    var = ordered[:, max(index, 0)]
    excess = np.maximum(ordered - var[:, None], 0.0).mean(axis=1)
    return var + excess / (1.0 - level)


def _es_of_loss(cols: dict[str, NDArray[np.float64]], level: float) -> NDArray[np.float64]:
    return expected_shortfall_rows(cols["loss"], level)


def ratio_of_sums(numerator: str, denominator: str) -> Stat:
    """A pooled ratio sum(numerator) / sum(denominator) over the paths of a resample (NaN when 0/0)."""

    def stat(cols: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
        den = cols[denominator].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, cols[numerator].sum(axis=1) / den, np.nan)

    return stat


def _tail_count(n: int, q: float) -> int:
    return int(round(n * min(q, 1.0 - q)))


def quantile_intervals(summary_key: str, values: NDArray[np.float64]) -> dict[str, dict[str, Any]]:
    """Order-statistic intervals of every quantile a quantile_summary reports, keyed ``summary_key.pXX``."""
    finite = values[~np.isnan(values)]
    out = {}
    for name, q in QUANTILES.items():
        low, high = order_statistic_interval(finite, q)
        out[f"{summary_key}.{name}"] = record(low, high, "order-statistic", _tail_count(finite.size, q))
    return out


def holder_intervals(paths: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """VaR (order statistics), ES and probabilities of loss (bootstrap) of holder loss 1 − final ratio."""
    loss = 1.0 - paths["susdai_exchange_ratio_final"].to_numpy(dtype=float)
    n = loss.size
    out = {}
    for level in (0.95, 0.99):
        tail = _tail_count(n, level)
        low, high = order_statistic_interval(loss, level)
        out[f"susdai_var_{round(100 * level)}"] = record(low, high, "order-statistic", tail)
        low, high = bootstrap_interval({"loss": loss}, functools.partial(_es_of_loss, level=level))
        out[f"susdai_es_{round(100 * level)}"] = record(low, high, "bootstrap", tail)
    losing = int((loss > 0).sum())
    out["prob_principal_loss"] = record(*wilson_interval(losing, n), "wilson", losing)
    drops = int((~np.isnan(paths["days_to_first_loss"].to_numpy(dtype=float))).sum())
    out["prob_any_drawdown"] = record(*wilson_interval(drops, n), "wilson", drops)
    return out


def loan_intervals(paths: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Pooled default rates and LGD (bootstrap over paths)."""
    cols = {
        name: paths[name].to_numpy(dtype=float)
        for name in (
            "loans_defaulted",
            "loans_originated",
            "exposure_at_default_usd",
            "principal_originated_usd",
            "loss_usd",
            "sold_exposure_usd",
        )
    }
    with_defaults = int((cols["loans_defaulted"] > 0).sum())
    specs = {
        "default_rate_count": (ratio_of_sums("loans_defaulted", "loans_originated"), with_defaults),
        "default_rate_principal": (ratio_of_sums("exposure_at_default_usd", "principal_originated_usd"), with_defaults),
        "loss_given_default_pooled": (
            ratio_of_sums("loss_usd", "sold_exposure_usd"),
            int((cols["sold_exposure_usd"] > 0).sum()),
        ),
    }
    specs.update(annual_rate_specs(paths, cols))
    return {key: record(*bootstrap_interval(cols, stat), "bootstrap", tail) for key, (stat, tail) in specs.items()}


def seasoning_column_names(year: int) -> tuple[str, str]:
    """Names of the ``paths.parquet`` columns of year on book ``year`` (1 = the first): its defaults, its loan-years."""
    return f"defaults_year_on_book_{year}", f"loan_years_year_on_book_{year}"


def seasoning_terms(paths: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(year, defaults column, loan-years column) of each year on book that performing loans reached (the
    seasoning columns of ``paths.parquet``; years with no loan-years are left out)."""
    terms = []
    year = 1
    while seasoning_column_names(year)[1] in paths.columns:
        defaults, exposure = seasoning_column_names(year)
        if paths[exposure].sum() > 0:
            terms.append((str(year), defaults, exposure))
        year += 1
    return terms


def annual_rate_specs(paths: pd.DataFrame, cols: dict[str, NDArray[np.float64]]) -> dict[str, tuple[Stat, int]]:
    """Defaults per loan-year, overall and by year on book (``seasoning_terms``; keyed as in ``summary.json``):
    pooled ratios of defaults to loan-years; adds the columns they read to ``cols``."""
    terms = seasoning_terms(paths)
    names = ["loan_years", *(c for _, d, e in terms for c in (d, e))]
    cols.update({name: paths[name].to_numpy(dtype=float) for name in names})
    specs = {"default_rate_per_loan_year": (ratio_of_sums("loans_defaulted", "loan_years"),
                                            int((cols["loans_defaulted"] > 0).sum()))}
    for year, defaults, exposure in terms:
        specs[f"{SEASONING_KEY}.{year}"] = (ratio_of_sums(defaults, exposure), int((cols[defaults] > 0).sum()))
    return specs


def per_path_lgd(paths: pd.DataFrame) -> NDArray[np.float64]:
    """Loss / exposure of sold defaulted loans on each path (NaN where nothing was sold)."""
    sold = paths["sold_exposure_usd"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sold > 0, paths["loss_usd"].to_numpy(dtype=float) / sold, np.nan)


QUANTILE_COLUMNS: Final = {
    "susdai_exchange_ratio_final": "susdai_exchange_ratio_final",
    "susdai_max_drawdown": "max_drawdown",
    "longest_wait_days": "longest_wait_days",
    "queue_peak_fraction_of_supply": "queue_peak_fraction",
    "simulated_loss_usd": "loss_usd",
}
"""Summary quantile objects over paths → their column in the per-path table."""


def summary_intervals(paths: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The ``intervals`` section of summary.json, from the per-path table."""
    out = {**holder_intervals(paths), **loan_intervals(paths)}
    for key, column in QUANTILE_COLUMNS.items():
        out.update(quantile_intervals(key, paths[column].to_numpy(dtype=float)))
    out.update(quantile_intervals("loss_given_default", per_path_lgd(paths)))
    return out


def halfwidth(entry: dict[str, Any]) -> float:
    """Half the width of an interval entry (NaN when either end is missing)."""
    low, high = entry.get("low"), entry.get("high")
    return math.nan if low is None or high is None else (float(high) - float(low)) / 2.0


# ---------------------------------------------------------------- statistics of resampled paths, by summary key


def path_columns(paths: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
    """The per-path columns tail metrics are computed from, plus ``loss`` (1 − final ratio) and ``lgd``."""
    cols = {name: paths[name].to_numpy(dtype=float) for name in paths.columns if name != "path"}
    cols["loss"] = 1.0 - cols["susdai_exchange_ratio_final"]
    cols["lgd"] = per_path_lgd(paths)
    return cols


def quantile_rows(values: NDArray[np.float64], q: float) -> NDArray[np.float64]:
    """Lower (inverted-CDF) q-quantile of each row, NaNs ignored (NaN for an all-NaN row)."""
    ordered = np.sort(values, axis=1)  # NaNs sort last
    counts = (~np.isnan(values)).sum(axis=1)
    index = np.clip(np.ceil(q * counts * (1 - 1e-12)).astype(int) - 1, 0, values.shape[1] - 1)
    picked = np.take_along_axis(ordered, index[:, None], axis=1)[:, 0]
    return np.where(counts > 0, picked, np.nan)


def _var(level: float) -> Stat:
    return lambda c: quantile_rows(c["loss"], level)


def _quantile(column: str, q: float) -> Stat:
    return lambda c: quantile_rows(c[column], q)


def path_statistic(key: str) -> Stat:
    """The statistic behind a summary key (or alias), vectorised over resamples; KeyError if there is none."""
    key = metric_key(key)
    fixed: dict[str, Stat] = {
        "susdai_var_95": _var(0.95),
        "susdai_var_99": _var(0.99),
        "susdai_es_95": functools.partial(_es_of_loss, level=0.95),
        "susdai_es_99": functools.partial(_es_of_loss, level=0.99),
        "prob_principal_loss": lambda c: (c["loss"] > 0).mean(axis=1),
        "prob_any_drawdown": lambda c: (~np.isnan(c["days_to_first_loss"])).mean(axis=1),
        "default_rate_count": ratio_of_sums("loans_defaulted", "loans_originated"),
        "default_rate_principal": ratio_of_sums("exposure_at_default_usd", "principal_originated_usd"),
        "loss_given_default_pooled": ratio_of_sums("loss_usd", "sold_exposure_usd"),
    }
    if key in fixed:
        return fixed[key]
    top, _, sub = key.rpartition(".")
    columns = {**QUANTILE_COLUMNS, "loss_given_default": "lgd"}
    if top in columns and sub in QUANTILES:
        return _quantile(columns[top], QUANTILES[sub])
    raise KeyError(key)


def statistic_value(stat: Stat, columns: dict[str, NDArray[np.float64]]) -> float:
    """The statistic on the paths as they are (one 'resample': the identity)."""
    return float(stat({name: col[None, :] for name, col in columns.items()})[0])
