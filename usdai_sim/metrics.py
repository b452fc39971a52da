"""Risk metrics over Monte Carlo paths: quantiles, VaR, expected shortfall, drawdowns, returns.

Conventions: losses are positive numbers (bad); a tail level ``level`` is a probability in (0, 1)
such as 0.99. One quantile definition is used throughout, the lower (left-continuous inverse)
quantile ``inf{x : F(x) >= q}`` (numpy ``method="inverted_cdf"``), which is exact for discrete
distributions. Units are those of the input unless a docstring says otherwise.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

QUANTILE_LEVELS: dict[str, float] = {"p01": 0.01, "p05": 0.05, "p50": 0.50, "p95": 0.95, "p99": 0.99}

_CDF_TOLERANCE = 1e-12
"""Relative slack when comparing a cumulative probability with a level, so that F(x) = level holds
when the weights sum to it up to rounding (e.g. ten weights of 0.1 against level 0.9)."""

_DROP_TOLERANCE = 1e-12
"""Relative fall below the running peak that counts as a drop in :func:`days_to_first_drop`."""

_DAYS_PER_YEAR = 365.0


def quantile_summary(values: ArrayLike) -> dict[str, float]:
    """Mean and the QUANTILE_LEVELS quantiles of ``values`` (any shape, flattened), in their unit.

    NaNs are ignored; an empty input (after dropping NaNs) gives NaN for every key.
    """
    flat = np.asarray(values, dtype=float).ravel()
    flat = flat[~np.isnan(flat)]
    if flat.size == 0:
        return {"mean": float("nan"), **{key: float("nan") for key in QUANTILE_LEVELS}}
    levels = np.fromiter(QUANTILE_LEVELS.values(), dtype=float)
    quantiles = np.quantile(flat, levels, method="inverted_cdf")
    return {"mean": float(flat.mean()), **dict(zip(QUANTILE_LEVELS, map(float, quantiles), strict=True))}


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")


def _sorted_with_weights(
    losses: ArrayLike, weights: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Losses sorted ascending and their weights normalised to probabilities (1-D, finite)."""
    values = np.asarray(losses, dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("losses must be a non-empty array of finite numbers")
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != values.shape:
        raise ValueError(f"weights shape {w.shape} does not match losses shape {values.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    order = np.argsort(values, kind="stable")
    return values[order], w[order] / w.sum()


def _var_sorted(sorted_losses: NDArray[np.float64], probs: NDArray[np.float64], level: float) -> float:
    cdf = np.cumsum(probs)
    index = int(np.searchsorted(cdf, level * (1.0 - _CDF_TOLERANCE), side="left"))
    return float(sorted_losses[min(index, sorted_losses.size - 1)])


def value_at_risk(losses: ArrayLike, level: float, weights: ArrayLike | None = None) -> float:
    """Value at risk VaR_level = inf{x : P(L <= x) >= level}, in the unit of ``losses``.

    ``losses`` is a 1-D sample (positive = bad); ``weights`` are optional probability weights
    (normalised here; default equal). Exact for discrete distributions; equal to
    ``numpy.quantile(losses, level, method="inverted_cdf")`` without weights.
    """
    _check_level(level)
    sorted_losses, probs = _sorted_with_weights(losses, weights)
    return _var_sorted(sorted_losses, probs, level)


def expected_shortfall(losses: ArrayLike, level: float, weights: ArrayLike | None = None) -> float:
    """Expected shortfall (Acerbi & Tasche 2002), in the unit of ``losses``.

    ES = (E[L 1{L > VaR}] + VaR (P(L <= VaR) - level)) / (1 - level): the mean of the worst
    ``1 - level`` of probability mass, the atom at VaR weighted by the share it contributes.
    Computed in the algebraically equal form VaR + E[(L - VaR)+] / (1 - level), so ES >= VaR holds
    exactly in floating point. Arguments as for :func:`value_at_risk`.
    """
    _check_level(level)
    sorted_losses, probs = _sorted_with_weights(losses, weights)
    var = _var_sorted(sorted_losses, probs, level)
    excess = float(np.sum(probs * np.maximum(sorted_losses - var, 0.0)))
    return var + excess / (1.0 - level)


def max_drawdown(series: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    """Largest fractional fall from the running peak along ``axis``, as a positive fraction.

    0 when the series never falls; 1 when it falls to zero. The first value along ``axis`` must be
    positive so every peak is. Returns an array with ``axis`` removed (0-d for a 1-D input).
    """
    values = np.moveaxis(np.asarray(series, dtype=float), axis, -1)
    if values.shape[-1] == 0 or np.any(values[..., 0] <= 0):
        raise ValueError("series must be non-empty along axis and start positive")
    peaks = np.maximum.accumulate(values, axis=-1)
    return np.max(1.0 - values / peaks, axis=-1)


def days_to_first_drop(ratio_series: ArrayLike, days: ArrayLike) -> NDArray[np.float64]:
    """Day of the first fall of each path below its previous running maximum; NaN when never.

    ``ratio_series`` has shape (..., n_steps) (e.g. the sUSDai exchange ratio per path and step);
    ``days`` has shape (n_steps,) and gives each step's day. A fall is a value below the running
    maximum of the earlier steps by more than 1e-12 relative. Returns shape (...) in days.
    """
    values = np.asarray(ratio_series, dtype=float)
    day_of_step = np.asarray(days, dtype=float)
    if day_of_step.shape != values.shape[-1:]:
        raise ValueError(f"days shape {day_of_step.shape} does not match last axis of {values.shape}")
    if values.shape[-1] < 2:
        return np.full(values.shape[:-1], np.nan)
    previous_peak = np.maximum.accumulate(values, axis=-1)[..., :-1]
    dropped = values[..., 1:] < previous_peak * (1.0 - _DROP_TOLERANCE)
    first = np.argmax(dropped, axis=-1) + 1
    found = np.any(dropped, axis=-1)
    return np.where(found, day_of_step[np.where(found, first, 0)], np.nan)


def annualised_return(ratio_final: ArrayLike, horizon_days: float) -> NDArray[np.float64]:
    """Compound annual return (fraction per 365-day year) of a growth ratio over ``horizon_days``.

    ``ratio_final`` is end value over start value (e.g. final/initial sUSDai exchange ratio).
    """
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days!r}")
    return np.power(np.asarray(ratio_final, dtype=float), _DAYS_PER_YEAR / horizon_days) - 1.0


def normal_var(mu: float, sigma: float, level: float) -> float:
    """VaR of a normal loss N(mu, sigma^2): mu + sigma * z_level, in the unit of mu."""
    _check_level(level)
    return mu + sigma * NormalDist().inv_cdf(level)


def normal_es(mu: float, sigma: float, level: float) -> float:
    """Expected shortfall of a normal loss N(mu, sigma^2): mu + sigma * phi(z_level) / (1 - level)."""
    _check_level(level)
    standard = NormalDist()
    return mu + sigma * standard.pdf(standard.inv_cdf(level)) / (1.0 - level)
