"""Replay metrics on hand-made runs (numbers computed by hand), checks and the target guard."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from usdai_sim.calibration import metrics
from usdai_sim.calibration.replays import Check, check_targets, distribution
from usdai_sim.errors import ScenarioError
from usdai_sim.recorder import series_names
from usdai_sim.scenario.schema import Scenario, ValidationTarget


def _target(metric: str = "nav_drawdown", **kw: float | str) -> ValidationTarget:
    return ValidationTarget(metric=metric, observed=0.0, low=-1.0, high=1.0, source="test (2026)", **kw)


def _run(columns: dict[str, list[float]], **series: list[list[float]]) -> SimpleNamespace:
    """A stand-in for Results: weekly steps, records (rows) × paths (columns) for the named series."""
    scenario = Scenario.model_validate({"simulation": {"horizon_days": 28, "step_days": 7}})
    names = series_names(scenario.class_names)
    records = len(next(iter(series.values()))) if series else 5
    paths = len(next(iter(columns.values()))) if columns else len(next(iter(series.values()))[0])
    data = np.ones((records, len(names), paths))
    for name, rows in series.items():
        data[:, names.index(name), :] = np.asarray(rows)
    return SimpleNamespace(scenario=scenario, paths=pd.DataFrame(columns), series=data, summary={})


def test_nav_drawdown_within_window() -> None:
    # path 0: 1.00 1.02 0.97 1.05 1.10 -> from day 7 (1.02) the low is 0.97: 0.97/1.02 - 1 = -0.04902
    # path 1: rising -> 0
    ratio = [[1.00, 1.00], [1.02, 1.01], [0.97, 1.02], [1.05, 1.03], [1.10, 1.04]]
    run = _run({}, exchange_ratio=ratio)
    got = metrics.nav_drawdown(run, _target(from_day=7, to_day=21))
    np.testing.assert_allclose(got, [0.97 / 1.02 - 1.0, 0.0])


def test_outflow_fraction_counts_queue_growth() -> None:
    # supply 100 -> 90 and queue 0 -> 5 between days 0 and 14: (100 - 90 + 5 - 0) / 100 = 0.15
    supply = [[100.0], [95.0], [90.0], [90.0], [90.0]]
    queue = [[0.0], [2.0], [5.0], [5.0], [5.0]]
    run = _run({}, supply_usd=supply, queue_usd=queue)
    np.testing.assert_allclose(metrics.outflow_fraction(run, _target(from_day=0, to_day=14)), [0.15])


def test_excess_return_over_tbill() -> None:
    # ratio 1 -> 1.01 over 28 days: (1.01)^(365/28) - 1 = 0.13855; T-bill mean over records 0..3 = 0.05
    ratio = [[1.0], [1.0025], [1.005], [1.0075], [1.01]]
    tbill = [[0.05]] * 5
    run = _run({}, exchange_ratio=ratio, tbill_rate=tbill)
    got = metrics.excess_return_over_tbill(run, _target("excess_return_over_tbill"))
    np.testing.assert_allclose(got, [1.01 ** (365 / 28) - 1.0 - 0.05])


def test_path_table_metrics() -> None:
    run = _run({
        "exposure_at_default_usd": [50.0, 0.0], "principal_originated_usd": [200.0, 100.0],
        "loss_usd": [20.0, 0.0], "sold_exposure_usd": [40.0, 0.0], "days_to_first_loss": [120.0, np.nan],
    })
    target = _target()
    np.testing.assert_allclose(metrics.default_rate_principal(run, target), [0.25, 0.0])
    np.testing.assert_allclose(metrics.loss_given_default(run, target), [0.5, np.nan])
    np.testing.assert_allclose(metrics.loss_fraction_of_principal(run, target), [0.1, 0.0])
    np.testing.assert_array_equal(metrics.days_to_first_loss(run, target), [120.0, np.inf])


def test_per_machine_metrics_read_the_target_class() -> None:
    # path 0: 40 ASICs sold for $100,000 (2,500 each) worth $400,000 at origination -> 0.25; path 1: none sold
    run = _run({
        "gpus_sold_class_ASIC": [40.0, 0.0], "recovery_gpu_class_ASIC_usd": [100_000.0, 0.0],
        "origination_value_sold_class_ASIC_usd": [400_000.0, 0.0],
    })
    target = _target("recovery_per_gpu_sold_usd", gpu_class="ASIC")
    np.testing.assert_allclose(metrics.recovery_per_gpu_sold_usd(run, target), [2_500.0, np.nan])
    np.testing.assert_allclose(metrics.recovery_of_origination_value(run, target), [0.25, np.nan])
    assert Check("r", target, 1.0, 1.0, 1.0).ident == "r:recovery_per_gpu_sold_usd/ASIC"


def test_distribution_skips_nan_and_keeps_infinity() -> None:
    assert distribution(np.array([1.0, np.nan, 2.0, 3.0]))[0] == 2.0  # a value some path took
    assert distribution(np.array([1.0, np.inf, np.inf]))[0] == np.inf
    assert all(np.isnan(distribution(np.array([np.nan]))))


def test_check_passes_only_inside_the_band() -> None:
    target = ValidationTarget(metric="nav_drawdown", observed=-0.04, low=-0.06, high=-0.02, source="x (2023)")
    assert Check("r", target, -0.03, -0.05, -0.01).passed
    assert not Check("r", target, -0.01, -0.05, 0.0).passed
    assert not Check("r", target, float("nan"), 0.0, 0.0).passed


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"metric": "no_such_metric"}, "unknown replay metric"),
        ({"metric": "nav_drawdown", "to_day": 5000}, "outside the horizon"),
        ({"metric": "recovery_per_gpu_sold_usd", "gpu_class": "NO_SUCH"}, "unknown GPU class"),
    ],
)
def test_targets_are_checked(target: dict, message: str) -> None:
    scenario = Scenario.model_validate(
        {"validation": [{"observed": 0, "low": 0, "high": 1, "source": "x", **target}]}
    )
    with pytest.raises(ScenarioError, match=message):
        check_targets(scenario)


def test_band_and_window_are_ordered() -> None:
    with pytest.raises(ValueError, match="high must be >= low"):
        ValidationTarget(metric="m", observed=0, low=1, high=0, source="x")
    with pytest.raises(ValueError, match="to_day must be after from_day"):
        ValidationTarget(metric="m", observed=0, low=0, high=1, source="x", from_day=10, to_day=5)
