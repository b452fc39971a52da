"""Threshold search on common random numbers: where a condition starts to break as a parameter grows.

``evaluate(x)`` returns per-path columns for each case (a case is a scenario; every case and every x uses
the same seeds, so path i is the same draw everywhere). ``margin(cases)`` gives, per resample (row), how far the
condition is broken (> 0 broken, <= 0 holds); columns arrive as (resamples, paths). The search assumes the
margin grows with x (the condition holds below a threshold and is broken above it), bisects [low, high] until the
bracket is narrower than ``tolerance``, and reports the threshold as the zero crossing of the margin,
interpolated linearly between the last evaluation that holds and the first that is broken.

The Monte Carlo interval resamples whole paths (the same indices in every case and at every evaluated x),
finds the crossing of each resample's margin over the evaluated x the same way, and takes the percentile
interval of those crossings (a resample broken at the lowest x crosses there; one never broken, at the top).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from usdai_sim.intervals import BOOTSTRAP_SEED, LEVEL

Columns = dict[str, NDArray[np.float64]]
Cases = dict[str, Columns]
Margin = Callable[[Cases], NDArray[np.float64]]
Condition = tuple[str, Callable[[Columns], NDArray[np.float64]], Callable[[NDArray[np.float64]], NDArray[np.float64]]]
"""(case, statistic of its resampled columns, the statistic's violation: > 0 when the clause fails)."""


@dataclass
class SearchResult:
    """The search outcome: the crossing (None when never broken in the range), its interval and the bracket."""

    value: float | None
    low: float
    high: float
    bracket: tuple[float, float]
    """The last evaluated x at which the condition holds and the first at which it is broken."""
    status: str
    """"found", "broken_at_low" (broken over the whole range), "safe_in_range" (never broken)."""
    evaluations: dict[float, Cases] = field(default_factory=dict)
    margins: dict[float, float] = field(default_factory=dict)

    @property
    def verdicts(self) -> dict[float, bool]:
        """Per evaluated x: is the condition broken?"""
        return {x: m > 0 for x, m in self.margins.items()}


def as_single_resample(cases: Cases) -> Cases:
    """Columns reshaped (1, paths): the paths as they are."""
    return {case: {k: v[None, :] for k, v in cols.items()} for case, cols in cases.items()}


def bisect(
    evaluate: Callable[[float], Cases], margin: Margin, low: float, high: float, tolerance: float
) -> tuple[dict[float, Cases], dict[float, float]]:
    """Evaluations and margins of a bisection of [low, high]."""
    evaluations: dict[float, Cases] = {}
    margins: dict[float, float] = {}

    def broken(x: float) -> bool:
        evaluations[x] = evaluate(x)
        margins[x] = float(margin(as_single_resample(evaluations[x]))[0])
        return margins[x] > 0

    if broken(low) or not broken(high):
        return evaluations, margins
    while high - low > tolerance:
        middle = (low + high) / 2
        if broken(middle):
            high = middle
        else:
            low = middle
    return evaluations, margins


def crossings(xs: NDArray[np.float64], margins: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per column of ``margins`` (x along rows): the interpolated x where the margin first turns positive;
    xs[0] when broken at the first x, NaN when never broken. Non-finite margins give the broken end."""
    broken = margins > 0
    any_broken = broken.any(axis=0)
    first = np.argmax(broken, axis=0)
    before = np.maximum(first - 1, 0)
    cols = np.arange(margins.shape[1])
    m0, m1 = margins[before, cols], margins[first, cols]
    x0, x1 = xs[before], xs[first]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(np.isfinite(m0) & np.isfinite(m1) & (m1 > m0), -m0 / (m1 - m0), 1.0)
    crossing = np.where(first == 0, xs[0], x0 + np.clip(t, 0.0, 1.0) * (x1 - x0))
    return np.where(any_broken, crossing, np.nan)


def resampled_margins(evaluations: dict[float, Cases], margin: Margin, resamples: int) -> NDArray[np.float64]:
    """Per evaluated x (sorted, rows) and resample (columns): the margin, on the same path indices everywhere."""
    xs = sorted(evaluations)
    first_case = next(iter(evaluations[xs[0]].values()))
    n = len(next(iter(first_case.values())))
    index = np.random.default_rng(BOOTSTRAP_SEED).integers(0, n, size=(resamples, n))
    return np.array(
        [margin({case: {k: v[index] for k, v in cols.items()} for case, cols in evaluations[x].items()}) for x in xs]
    )


def find_threshold(
    evaluate: Callable[[float], Cases],
    margin: Margin,
    low: float,
    high: float,
    tolerance: float,
    resamples: int = 1000,
    level: float = LEVEL,
) -> SearchResult:
    """Bisect for the crossing and give it a bootstrap interval over paths (see the module docstring)."""
    evaluations, margins = bisect(evaluate, margin, low, high, tolerance)
    xs = np.array(sorted(margins))
    point = crossings(xs, np.array([margins[x] for x in xs])[:, None])[0]
    status = "broken_at_low" if margins[low] > 0 else ("found" if margins.get(high, 0.0) > 0 else "safe_in_range")
    per_resample = crossings(xs, resampled_margins(evaluations, margin, resamples))
    per_resample = np.where(np.isnan(per_resample), high, per_resample)  # never broken: at the top of the range
    alpha = 1 - level
    lo, hi = np.quantile(per_resample, [alpha / 2, 1 - alpha / 2])
    safe = [x for x in xs if margins[x] <= 0]
    broken = [x for x in xs if margins[x] > 0]
    bracket = (max(safe) if safe else low, min(broken) if broken else high)
    value = None if math.isnan(point) else float(point)
    return SearchResult(value, float(lo), float(hi), bracket, status, evaluations, margins)


def worst_violation(conditions: Sequence[Condition]) -> Margin:
    """The largest violation over (case, statistic, violation) conditions: > 0 when any clause fails."""

    def margin(cases: Cases) -> NDArray[np.float64]:
        return np.max([violation(stat(cases[case])) for case, stat, violation in conditions], axis=0)

    return margin
