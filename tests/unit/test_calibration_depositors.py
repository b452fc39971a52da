"""The depositor rows of the calibration page: every row filled, verdicts from the stated ranges."""

from __future__ import annotations

import math

import pytest

from usdai_sim.calibration.depositors import _within, calibration_rows
from usdai_sim.engine import simulate
from usdai_sim.scenario.schema import Scenario


def test_verdicts_follow_the_range() -> None:
    assert [_within(v, 0.02, 0.10) for v in (0.01, 0.02, 0.05, 0.2, math.nan)] == [
        "below range", "within range", "within range", "above range", "n/a"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_rows_of_a_stressed_run() -> None:
    """A 90-day run with a 20% wave on day 30: four calm rows and two run-size rows, all finite; the
    two-day outflow sees the wave (at least 20% of stakers' value less what the secondary market took)."""
    scenario = Scenario.model_validate({
        "simulation": {"horizon_days": 90, "paths": 32},
        "borrowers": {"cohorts": [{"count": 5}]},
        "depositors": {"count": 50},
        "shocks": [{"type": "redemption_wave", "fraction_of_supply": 0.2, "start_day": 30}],
    })
    rows = calibration_rows(simulate(scenario))
    assert len(rows) == 6
    assert all(math.isfinite(r.model_value) and r.source and r.public_figure for r in rows)
    assert rows[4].model_value > 0.1
