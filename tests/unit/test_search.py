"""Threshold search and its bootstrap interval on synthetic cases with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from usdai_sim.studies.search import crossings, find_threshold, worst_violation
from usdai_sim.studies.targets import Target, parse_budget, parse_target

BASE = np.random.default_rng(7).normal(size=2000)


def shifted(x: float) -> dict[str, dict[str, np.ndarray]]:
    """A metric monotone in x: per-path outcomes BASE + x (the same paths at every x: common random numbers)."""
    return {"case": {"v": BASE + x}}


def mean_above(threshold: float):
    """Margin of "mean of v > threshold" per resample."""
    return lambda cases: cases["case"]["v"].mean(axis=1) - threshold


def test_crossings_interpolate_between_the_last_safe_and_first_broken_x() -> None:
    xs = np.array([0.0, 1.0, 2.0])
    margins = np.array([[-1.0, 1.0, -3.0], [1.0, 2.0, -2.0], [3.0, 3.0, -1.0]])  # x along rows
    found = crossings(xs, margins)
    assert found[0] == 0.5 and found[1] == 0.0 and np.isnan(found[2])
    assert crossings(xs, np.array([[-1.0], [np.inf], [np.inf]]))[0] == 1.0  # no interpolation through infinity


def test_reverse_threshold_of_a_shifted_mean() -> None:
    result = find_threshold(shifted, mean_above(0.5), 0.0, 2.0, tolerance=0.001)
    exact = 0.5 - BASE.mean()  # the x at which mean(BASE + x) crosses 0.5 (linear, so interpolation is exact)
    assert result.status == "found"
    assert result.value == pytest.approx(exact, abs=1e-9)
    assert result.bracket[0] <= exact <= result.bracket[1] and result.bracket[1] - result.bracket[0] <= 0.001
    assert result.low <= 0.5 <= result.high  # the population threshold (mean 0) lies in the 95% interval
    half_width = 1.96 / np.sqrt(BASE.size)  # the mean's standard error is 1/sqrt(n)
    assert (result.high - result.low) / 2 == pytest.approx(half_width, rel=0.15)


def test_range_ends() -> None:
    assert find_threshold(shifted, mean_above(-1.0), 0.0, 2.0, 0.01).status == "broken_at_low"
    never = find_threshold(shifted, mean_above(5.0), 0.0, 2.0, 0.01)
    assert never.status == "safe_in_range" and never.value is None


def test_largest_value_keeping_a_budget_in_two_cases() -> None:
    def cases(x: float) -> dict[str, dict[str, np.ndarray]]:
        return {"calm": {"v": BASE + x}, "stress": {"v": 2 * BASE + 2 * x}}

    budget = Target("mean", "<=", 0.5, "mean<=0.5")
    conditions = [(case, lambda c: c["v"].mean(axis=1), budget.violation) for case in ("calm", "stress")]
    result = find_threshold(cases, worst_violation(conditions), 0.0, 2.0, 0.001)
    binding = 0.25 - BASE.mean()  # stress binds: 2 (mean + x) <= 0.5
    assert result.value == pytest.approx(binding, abs=1e-9)
    assert result.low <= 0.25 <= result.high


def test_target_parsing() -> None:
    target = parse_target("p99_er_loss > 0.05")
    assert (target.metric, target.op, target.threshold) == ("susdai_var_99", ">", 0.05)
    assert target.holds(0.06) and not target.holds(0.05) and not target.holds(float("nan"))
    assert [t.metric for t in parse_budget("es99_er_loss<=0.02, p_loss<=0.01")] == [
        "susdai_es_99",
        "prob_principal_loss",
    ]
    for bad in ("p99_er_loss", "p99_er_loss >> 1", "p99_er_loss > x", "> 1", "nonsense > 1"):
        with pytest.raises(Exception, match="--target"):
            parse_target(bad)
