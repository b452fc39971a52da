"""Threshold search on common random numbers: the smallest value of a parameter at which a condition breaks.

``evaluate(x)`` returns per-path columns for each case (a case is a scenario; every case and every x uses
the same seeds, so path i is the same draw everywhere). ``broken(cases)`` says, for each resample (row), whether
the condition is broken; columns arrive as (resamples, paths). The search assumes the condition breaks
monotonically in x (it holds below a threshold and is broken above it) and bisects [low, high] until the
bracket is narrower than ``tolerance``.

The Monte Carlo interval resamples whole paths (the same indices in every case and at every x evaluated) and
finds, per resample, the first evaluated x at which the condition is broken (``first_broken``: a reverse stress
threshold) or the last at which it still holds (``last_safe``: a recommendation); the percentile interval of
those values is reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from usdai_sim.intervals import BOOTSTRAP_SEED, LEVEL

Columns = dict[str, NDArray[np.float64]]
Cases = dict[str, Columns]
Broken = Callable[[Cases], NDArray[np.bool_]]
Mode = Literal["first_broken", "last_safe"]


@dataclass
class SearchResult:
    """The search outcome; ``value`` is None when the condition is never broken (``last_safe``: always holds)."""

    mode: Mode
    value: float | None
    low: float | None
    high: float | None
    status: str
    """"found", "broken_at_low" (broken over the whole range), "safe_in_range" (never broken)."""
    evaluations: dict[float, Cases] = field(default_factory=dict)
    verdicts: dict[float, bool] = field(default_factory=dict)


def as_single_resample(cases: Cases) -> Cases:
    """Columns reshaped (1, paths): the paths as they are."""
    return {case: {k: v[None, :] for k, v in cols.items()} for case, cols in cases.items()}


def bisect(
    evaluate: Callable[[float], Cases], broken: Broken, low: float, high: float, tolerance: float
) -> tuple[dict[float, Cases], dict[float, bool]]:
    """Evaluations and verdicts (True = broken) of a bisection of [low, high]."""
    evaluations: dict[float, Cases] = {}
    verdicts: dict[float, bool] = {}

    def check(x: float) -> bool:
        evaluations[x] = evaluate(x)
        verdicts[x] = bool(broken(as_single_resample(evaluations[x]))[0])
        return verdicts[x]

    if check(low) or not check(high):
        return evaluations, verdicts
    while high - low > tolerance:
        middle = (low + high) / 2
        if check(middle):
            high = middle
        else:
            low = middle
    return evaluations, verdicts


def pick(xs: NDArray[np.float64], broken_rows: NDArray[np.bool_], mode: Mode) -> NDArray[np.float64]:
    """Per resample (column of ``broken_rows``, x along rows): the first broken x, or the last safe x below it.

    NaN when there is none (never broken for ``first_broken``; broken at the lowest x for ``last_safe``)."""
    any_broken = broken_rows.any(axis=0)
    first = np.argmax(broken_rows, axis=0)
    if mode == "first_broken":
        return np.where(any_broken, xs[first], np.nan)
    last_safe = np.where(any_broken, first - 1, len(xs) - 1)
    return np.where(last_safe >= 0, xs[np.maximum(last_safe, 0)], np.nan)


def resampled_verdicts(
    evaluations: dict[float, Cases], broken: Broken, resamples: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Sorted xs and, per x and resample, whether the condition is broken (same path indices everywhere)."""
    xs = np.array(sorted(evaluations))
    first_case = next(iter(evaluations[xs[0]].values()))
    n = len(next(iter(first_case.values())))
    index = np.random.default_rng(BOOTSTRAP_SEED).integers(0, n, size=(resamples, n))
    rows = [
        broken({case: {k: v[index] for k, v in cols.items()} for case, cols in evaluations[x].items()}) for x in xs
    ]
    return xs, np.array(rows)


def find_threshold(
    evaluate: Callable[[float], Cases],
    broken: Broken,
    low: float,
    high: float,
    tolerance: float,
    mode: Mode = "first_broken",
    resamples: int = 1000,
    level: float = LEVEL,
) -> SearchResult:
    """Bisect for the threshold and give it a bootstrap interval over paths (see the module docstring)."""
    evaluations, verdicts = bisect(evaluate, broken, low, high, tolerance)
    xs = np.array(sorted(verdicts))
    point = pick(xs, np.array([verdicts[x] for x in xs])[:, None], mode)[0]
    status = "broken_at_low" if verdicts[low] else ("found" if verdicts.get(high, False) else "safe_in_range")
    xs, rows = resampled_verdicts(evaluations, broken, resamples)
    per_resample = pick(xs, rows, mode)
    fill = high if mode == "first_broken" else low  # "never broken" sits above the range, "always" below
    per_resample = np.where(np.isnan(per_resample), fill, per_resample)
    alpha = 1 - level
    lo, hi = np.quantile(per_resample, [alpha / 2, 1 - alpha / 2])
    value = None if math.isnan(point) else float(point)
    return SearchResult(mode, value, float(lo), float(hi), status, evaluations, verdicts)


Condition = tuple[str, Callable[[Columns], NDArray[np.float64]], Callable[[float], bool]]
"""(case, statistic of its resampled columns, test a value must pass)."""


def all_hold(conditions: Sequence[Condition]) -> Broken:
    """Broken when any (case, statistic, holds) condition fails: ``holds`` applied to the statistic per resample."""

    def broken(cases: Cases) -> NDArray[np.bool_]:
        result: NDArray[np.bool_] | None = None
        for case, stat, holds in conditions:
            values = stat(cases[case])
            failed = ~np.array([holds(float(v)) for v in values])
            result = failed if result is None else result | failed
        assert result is not None
        return result

    return broken
