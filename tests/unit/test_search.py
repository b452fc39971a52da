"""Threshold search and its bootstrap interval on synthetic cases with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from usdai_sim.studies.search import all_hold, find_threshold, pick
from usdai_sim.studies.targets import Target, parse_budget, parse_target

BASE = np.random.default_rng(7).normal(size=2000)


def shifted(x: float) -> dict[str, dict[str, np.ndarray]]:
    """A metric monotone in x: per-path outcomes BASE + x (the same paths at every x: common random numbers)."""
    return {"case": {"v": BASE + x}}


def mean_above(threshold: float):
    return lambda cases: cases["case"]["v"].mean(axis=1) > threshold


def test_pick_first_broken_and_last_safe() -> None:
    xs = np.array([0.0, 1.0, 2.0])
    rows = np.array([[False, False, True], [True, False, True], [True, False, True]])  # x along rows
    assert list(pick(xs, rows, "first_broken")) == [1.0, None, 0.0] or np.isnan(pick(xs, rows, "first_broken")[1])
    safe = pick(xs, rows, "last_safe")
    assert safe[0] == 0.0 and safe[1] == 2.0 and np.isnan(safe[2])


def test_reverse_threshold_of_a_shifted_mean() -> None:
    result = find_threshold(shifted, mean_above(0.5), 0.0, 2.0, tolerance=0.001)
    exact = 0.5 - BASE.mean()  # the smallest x with mean(BASE + x) > 0.5
    assert result.status == "found"
    assert exact <= result.value <= exact + 0.001
    assert result.low <= 0.5 <= result.high  # the population threshold (mean 0) lies in the 95% interval
    assert result.high - result.low < 6 / np.sqrt(BASE.size)


def test_range_ends() -> None:
    assert find_threshold(shifted, mean_above(-1.0), 0.0, 2.0, 0.01).status == "broken_at_low"
    never = find_threshold(shifted, mean_above(5.0), 0.0, 2.0, 0.01)
    assert never.status == "safe_in_range" and never.value is None


def test_last_safe_under_two_cases_and_a_budget() -> None:
    def cases(x: float) -> dict[str, dict[str, np.ndarray]]:
        return {"calm": {"v": BASE + x}, "stress": {"v": 2 * BASE + 2 * x}}

    budget = Target("mean", "<=", 0.5, "mean<=0.5")
    conditions = [(case, lambda c: c["v"].mean(axis=1), budget.holds) for case in ("calm", "stress")]
    result = find_threshold(cases, all_hold(conditions), 0.0, 2.0, 0.001, mode="last_safe")
    binding = 0.25 - BASE.mean()  # stress: 2 (mean + x) <= 0.5
    assert binding - 0.001 <= result.value <= binding
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
