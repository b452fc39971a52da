"""Headline metrics of a run (``summary.json``); every key is documented in the README, "Metrics".

Quantile objects carry ``mean, p01, p05, p50, p95, p99``. Holder loss over the horizon is
L = 1 − final exchange ratio (a positive fraction is a loss; the exchange ratio starts at 1).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from usdai_sim.intervals import SEASONING_KEY, seasoning_terms, summary_intervals
from usdai_sim.machine_recovery import machine_recovery_metrics
from usdai_sim.metrics import expected_shortfall, quantile_summary, value_at_risk
from usdai_sim.risk import holder_risk
from usdai_sim.scenario.schema import Scenario


class RunFrames(Protocol):
    """What the summary reads from a run (``results.Results`` provides it); declared here to keep results above."""

    paths: pd.DataFrame
    waits: pd.DataFrame
    scenario: Scenario

    @property
    def meta(self) -> dict[str, Any]: ...


WAIT_THRESHOLDS_DAYS = (30, 60, 90)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def holder_metrics(paths: pd.DataFrame) -> dict[str, Any]:
    """sUSDai holders: exchange ratio, return, probability of loss, VaR/ES of holder loss, drawdown."""
    ratio = paths["susdai_exchange_ratio_final"].to_numpy()
    loss = 1.0 - ratio
    first_loss = paths["days_to_first_loss"].to_numpy()
    return {
        "susdai_exchange_ratio_final": quantile_summary(ratio),
        "susdai_return_annualised": quantile_summary(paths["susdai_return_annualised"]),
        "prob_principal_loss": float(np.mean(ratio < 1.0)),
        "susdai_var_95": value_at_risk(loss, 0.95),
        "susdai_var_99": value_at_risk(loss, 0.99),
        "susdai_es_95": expected_shortfall(loss, 0.95),
        "susdai_es_99": expected_shortfall(loss, 0.99),
        "susdai_max_drawdown": quantile_summary(paths["max_drawdown"]),
        "days_to_first_loss": quantile_summary(first_loss),
        "prob_any_drawdown": float(np.mean(~np.isnan(first_loss))),
    }


def weighted_quantiles(values: np.ndarray, counts: np.ndarray) -> dict[str, float]:
    """Mean and quantile summary of values repeated ``counts`` times (lower quantile)."""
    total = counts.sum()
    if total == 0:
        return {
            "mean": float("nan"),
            "p01": float("nan"),
            "p05": float("nan"),
            "p50": float("nan"),
            "p95": float("nan"),
            "p99": float("nan"),
        }
    cdf = np.cumsum(counts) / total
    pick = {
        key: float(values[np.searchsorted(cdf, q - 1e-12)])
        for key, q in (("p01", 0.01), ("p05", 0.05), ("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
    }
    return {"mean": float((values * counts).sum() / total), **pick}


def liquidity_metrics(results: RunFrames) -> dict[str, Any]:
    """Redemption waits (completed requests; pending ones counted at their age), queue peak."""
    waits = results.waits
    days = waits["wait_days"].to_numpy()
    completed = waits["completed"].to_numpy()
    everything = completed + waits["pending_at_end"].to_numpy()
    wait = weighted_quantiles(days, completed)
    seen = days[everything > 0]
    wait["max"] = float(seen.max()) if seen.size else 0.0
    total = everything.sum()
    over = {str(t): _ratio(everything[days > t].sum(), total) for t in WAIT_THRESHOLDS_DAYS}
    return {
        "redemption_wait_days": wait,
        "prob_wait_over_days": over,
        "redemption_requests_pending_at_end": int(waits["pending_at_end"].sum()),
        "queue_peak_fraction_of_supply": quantile_summary(results.paths["queue_peak_fraction"]),
        "longest_wait_days": quantile_summary(results.paths["longest_wait_days"]),
    }


def loan_metrics(paths: pd.DataFrame) -> dict[str, Any]:
    """Loan book: default rates, routes, LGD and recovery on sold collateral, EL beside simulated loss."""
    originated = paths["loans_originated"].sum()
    sold = paths["sold_exposure_usd"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        lgd = np.where(sold > 0, paths["loss_usd"] / sold, np.nan)
    pd_count = _ratio(paths["loans_defaulted"].sum(), originated)
    lgd_pooled = _ratio(paths["loss_usd"].sum(), sold.sum())
    ead = float(paths["principal_originated_usd"].mean())
    return {
        "default_rate_count": pd_count,
        "default_rate_per_loan_year": _ratio(paths["loans_defaulted"].sum(), paths["loan_years"].sum()),
        "default_rate_principal": _ratio(
            paths["exposure_at_default_usd"].sum(), paths["principal_originated_usd"].sum()
        ),
        "defaults_by_route": {
            r: float(paths[f"defaults_{r}"].mean()) for r in ("payment", "strategic", "fraud", "covenant")
        },
        "loss_given_default": quantile_summary(lgd),
        "recovery_rate": quantile_summary(1.0 - lgd),
        "loss_given_default_pooled": lgd_pooled,
        "expected_loss_usd": pd_count * lgd_pooled * ead if np.isfinite(lgd_pooled) else 0.0,
        "simulated_loss_usd": quantile_summary(paths["loss_usd"]),
        "principal_originated_usd": quantile_summary(paths["principal_originated_usd"]),
        "unsold_defaulted_usd": quantile_summary(paths["unsold_defaulted_usd"]),
        "first_loss_used_usd": quantile_summary(paths["first_loss_used_usd"]),
        SEASONING_KEY: seasoning(paths),
        **lgd_breakdown(paths),
        **machine_recovery_metrics(paths),
    }


def seasoning(paths: pd.DataFrame) -> dict[str, float]:
    """Defaults per loan-year by year on book ("1" = a loan's first 12 payments; the last key holds that year and
    every later one), all paths pooled; years no loan reached are left out (``intervals.seasoning_terms``)."""
    return {year: _ratio(paths[d].sum(), paths[e].sum()) for year, d, e in seasoning_terms(paths)}


def lgd_breakdown(paths: pd.DataFrame) -> dict[str, Any]:
    """Pooled LGD (loss / exposure of sold defaults, recourse netted) by route and GPU class, each route's share
    of all losses on sold defaults, and the split of all recoveries by source (reserve = DSRA + SPV cash, GPU
    sale proceeds, springing recourse)."""
    def pooled(label: str) -> float:
        return _ratio(paths[f"loss_{label}_usd"].sum(), paths[f"sold_exposure_{label}_usd"].sum())

    routes = ("payment", "strategic", "fraud", "covenant")
    classes = [c[len("loss_class_"):-len("_usd")] for c in paths.columns if c.startswith("loss_class_")]
    sources = {s: float(paths[f"recovery_{s}_usd"].sum()) for s in ("reserve", "gpu", "recourse")}
    total = sum(sources.values())
    return {
        "loss_given_default_by_route": {r: pooled(f"route_{r}") for r in routes},
        "loss_given_default_pooled_ex_fraud": _ratio(
            sum(paths[f"loss_route_{r}_usd"].sum() for r in routes if r != "fraud"),
            sum(paths[f"sold_exposure_route_{r}_usd"].sum() for r in routes if r != "fraud"),
        ),
        "loss_share_by_route": {
            r: _ratio(paths[f"loss_route_{r}_usd"].sum(), sum(paths[f"loss_route_{q}_usd"].sum() for q in routes))
            for r in routes
        },
        "loss_given_default_by_class": {c: pooled(f"class_{c}") for c in classes},
        "recovery_split": {s: _ratio(v, total) for s, v in sources.items()},
    }


HOLDER_GROUPS = ("unstaked", "left_early", "queued", "stayed", "arbitrageurs", "first_loss", "insurance")


def holder_group_metrics(paths: pd.DataFrame) -> dict[str, Any]:
    """Who bears the loss (mean USD per path by holder group), the first-mover advantage, concentration and
    the secondary market (``usdai_sim/holder_outcomes.py``)."""
    leavers, stayers = paths["stress_return_leavers"], paths["stress_return_stayers"]
    both = leavers.notna() & stayers.notna()
    return {
        "loss_by_holder_group_usd": {g: float(paths[f"loss_{g}_usd"].mean()) for g in HOLDER_GROUPS},
        "first_mover_advantage": {
            "leavers_return": float(leavers[both].mean()) if both.any() else float("nan"),
            "stayers_return": float(stayers[both].mean()) if both.any() else float("nan"),
            "advantage": float((leavers[both] - stayers[both]).mean()) if both.any() else float("nan"),
            "paths_with_stress": float(paths["stress_day"].notna().mean()),
        },
        "secondary_discount_max": quantile_summary(paths["secondary_discount_max"]),
        "secondary_discount_paid_usd": quantile_summary(paths["secondary_discount_paid_usd"]),
        "stakers_top1_share": quantile_summary(paths["stakers_top1_share"]),
        "stakers_top10_share": quantile_summary(paths["stakers_top10_share"]),
        "stakers_hhi": quantile_summary(paths["stakers_hhi"]),
        "unstaked_top1_share": quantile_summary(paths["unstaked_top1_share"]),
        "prob_queue_over_30pct": float(np.mean(paths["queue_peak_fraction"] > 0.3)),
    }


def _finite(value: Any) -> Any:
    """NaN and infinity become None so that summary.json is strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def summarise(results: RunFrames) -> dict[str, Any]:
    """All headline metrics, grouped as in the README."""
    paths = results.paths
    summary = {
        **holder_metrics(paths),
        **liquidity_metrics(results),
        **loan_metrics(paths),
        "usdai_backing_ratio_min": round(float(paths["usdai_backing_ratio_min"].min()), 9),
        **holder_group_metrics(paths),
        **holder_risk(paths, results.scenario.simulation.horizon_days),
        "intervals": summary_intervals(paths),
        "meta": results.meta,
    }
    return _finite(summary)
