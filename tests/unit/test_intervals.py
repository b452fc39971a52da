"""Monte Carlo intervals: order statistics by hand, coverage on known distributions, bootstrap of ES,
and the ``--until-precise`` loop on a metric with a known variance."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from usdai_sim.intervals import (
    binomial_cdf,
    bootstrap_interval,
    expected_shortfall_rows,
    halfwidth,
    order_statistic_interval,
    record,
    wilson_interval,
)
from usdai_sim.metrics import expected_shortfall, normal_es
from usdai_sim.studies.precision import PrecisionError, next_paths, parse_target, until_precise


def test_binomial_cdf_by_hand() -> None:
    cdf = binomial_cdf(10, 0.5)
    assert cdf[1] == pytest.approx(11 / 1024)
    assert cdf[2] == pytest.approx(56 / 1024)
    assert cdf[-1] == pytest.approx(1.0)


def test_median_interval_of_ten_is_second_to_ninth() -> None:
    # P(B <= 1) = 11/1024 <= 2.5% < P(B <= 2); P(B <= 7) < 97.5% <= P(B <= 8), B ~ Bin(10, 1/2)
    assert order_statistic_interval(np.arange(1.0, 11.0), 0.5) == (2.0, 9.0)


def test_order_statistic_interval_covers_the_true_quantile() -> None:
    rng = np.random.default_rng(3)
    truth = NormalDist().inv_cdf(0.9)
    hits = [lo <= truth <= hi for lo, hi in (order_statistic_interval(rng.normal(size=200), 0.9) for _ in range(400))]
    assert 0.92 <= np.mean(hits) <= 0.99


def test_expected_shortfall_rows_matches_metrics() -> None:
    losses = np.random.default_rng(1).normal(size=(3, 257))
    for level in (0.9, 0.99):
        expected = [expected_shortfall(row, level) for row in losses]
        assert expected_shortfall_rows(losses, level) == pytest.approx(expected, rel=1e-12)


def test_bootstrap_es_interval_brackets_the_normal_es() -> None:
    sample = np.random.default_rng(5).normal(size=4000)
    low, high = bootstrap_interval({"x": sample}, lambda c: expected_shortfall_rows(c["x"], 0.95))
    assert low < normal_es(0.0, 1.0, 0.95) < high
    assert bootstrap_interval({"x": sample}, lambda c: c["x"].mean(axis=1)) == bootstrap_interval(
        {"x": sample}, lambda c: c["x"].mean(axis=1)
    )  # fixed seed


def test_wilson_interval_by_hand() -> None:
    low, high = wilson_interval(0, 100)
    assert low == 0.0 and high == pytest.approx(3.8415 / 103.8415, rel=1e-4)  # z^2 / (n + z^2) when p = 0
    low, high = wilson_interval(50, 100)
    assert (low + high) / 2 == pytest.approx(0.5) and high - low == pytest.approx(2 * 0.09617, abs=1e-5)


def test_halfwidth() -> None:
    assert halfwidth(record(1.0, 2.0, "bootstrap", 5)) == 0.5
    assert math.isnan(halfwidth({"low": None, "high": 1.0}))


def test_parse_target() -> None:
    target = parse_target("es99_er_loss:0.002")
    assert (target.metric, target.halfwidth) == ("susdai_es_99", 0.002)
    for bad in ("es99_er_loss", "es99_er_loss:-1", "es99_er_loss:nan", ":0.1", "x:abc"):
        with pytest.raises(PrecisionError):
            parse_target(bad)
    with pytest.raises(PrecisionError):
        parse_target("nonsense:0.1", known=lambda key: key == "susdai_es_99")


def test_next_paths_grows_by_whole_blocks_within_bounds() -> None:
    assert next_paths(64, 0.15, 0.1, 10_000) == 160  # 64 * 2.25 * 1.1 = 158.4 -> 5 blocks of 32
    assert next_paths(64, 1.0, 0.1, 10_000) == 256  # at most 4x
    assert next_paths(64, 0.1001, 0.1, 10_000) == 96  # at least one block more
    assert next_paths(64, 1.0, 0.1, 100) == 100  # never above the cap


SIGMA = 2.0
TARGET = 0.1


def _run(n: int) -> np.ndarray:
    """The first n draws of one fixed N(0, SIGMA^2) stream: common random numbers across rounds."""
    return SIGMA * np.random.default_rng(11).normal(size=20_000)[:n]


def _mean_interval(sample: np.ndarray) -> dict[str, dict[str, float]]:
    low, high = bootstrap_interval({"x": sample}, lambda c: c["x"].mean(axis=1))
    return {"mean": {"low": low, "high": high}}


def test_until_precise_stops_within_target_near_the_known_path_count() -> None:
    outcome = until_precise(_run, _mean_interval, parse_target("mean:0.1"), start_paths=64, max_paths=20_000)
    needed = (1.96 * SIGMA / TARGET) ** 2  # half-width of the mean's 95% interval = 1.96 sigma / sqrt(n)
    summary = outcome.summary()
    assert outcome.converged and summary["halfwidth"] <= TARGET
    assert 0.8 * needed <= summary["paths"] <= 2.0 * needed
    assert [r["paths"] for r in summary["rounds"]][0] == 64 and len(summary["rounds"]) >= 2
    assert summary["paths"] == outcome.result.size


def test_until_precise_reports_a_cap_it_hits() -> None:
    outcome = until_precise(_run, _mean_interval, parse_target("mean:0.01"), start_paths=64, max_paths=500)
    assert not outcome.converged and outcome.summary()["paths"] == 500
