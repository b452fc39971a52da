"""The bank_run scenario: the queue grows after the wave and clears as loans repay (issue: depositors)."""

from __future__ import annotations

import pytest

from usdai_sim.engine import simulate
from usdai_sim.scenario.library import load_scenario


@pytest.fixture(scope="module")
def run():
    scenario, _ = load_scenario("bank_run")
    return simulate(scenario, paths=32)


def test_queue_grows_after_the_wave_and_clears(run) -> None:
    """Median queue: small before day 180, at least a quarter of sUSDai supply just after the 40% wave
    (herding makes it larger), and back below 5% within the three years as loan repayments refill idle
    USDai (new lending stops while redemptions are pending)."""
    queue = run.band("queue_fraction")["p50"]
    assert queue.loc[:170].max() < 0.05
    assert queue.loc[181:240].max() > 0.25
    assert queue.iloc[-1] < 0.05


def test_waits_lengthen_in_a_run(run) -> None:
    """Requests caught in the run wait longer than one 30-day window."""
    assert run.summary["redemption_wait_days"]["max"] > 60
    assert run.summary["prob_wait_over_days"]["30"] > 0.05
