"""Underwriting at origination (issue #12): a request is funded only if its debt-service coverage at today's
market reaches ``protocol.allocation.min_dscr``; a declined request lapses and is counted."""

from __future__ import annotations

import numpy as np
import pytest

import usdai_sim.model as model_module
from benchmarks.workloads import baseline, sized
from usdai_sim.agents import borrowers as br
from usdai_sim.model import UsdaiModel, _origination_dscr
from usdai_sim.params import compile_params
from usdai_sim.scenario.schema import Scenario


def test_debt_service_coverage_hand_number() -> None:
    """Revenue $2.32/h, opex $0.908768/h, $700 a month of debt service per GPU:
    DSCR = (2.32 − 0.908768)·720/700 = 1.4515529; nothing owed → inf."""
    dscr = br.debt_service_coverage(np.array([2.32, 2.32]), np.array([0.908768, 0.908768]), np.array([700.0, 0.0]))
    assert dscr[0] == pytest.approx(1.4515529, rel=1e-7)
    assert dscr[1] == np.inf


def with_floor(min_dscr: float) -> Scenario:
    """The baseline's first cohort, 40 borrowers all asking on day 0, 8 paths, with the given floor."""
    scenario = sized(baseline(), 8, 40, 10, 60)
    allocation = scenario.protocol.allocation.model_copy(update={"min_dscr": min_dscr})
    cohort = scenario.borrowers.cohorts[0].model_copy(update={"origination_day": 0.0, "arrivals_per_month": 0.0})
    return scenario.model_copy(
        update={
            "protocol": scenario.protocol.model_copy(update={"allocation": allocation}),
            "borrowers": scenario.borrowers.model_copy(update={"cohorts": (cohort,)}),
        }
    )


def first_step(min_dscr: float) -> tuple[UsdaiModel, np.ndarray]:
    """The model after its day-0 originations, and the DSCR each day-0 request had (same paths and draws)."""
    captured: dict[str, np.ndarray] = {}

    def spy(m: UsdaiModel, wanting: np.ndarray, amount: np.ndarray) -> np.ndarray:
        captured.setdefault("dscr", _origination_dscr(m, wanting, amount))
        return captured["dscr"]

    saved = model_module._origination_dscr
    model_module._origination_dscr = spy
    try:
        model = UsdaiModel(compile_params(with_floor(min_dscr)), 0, 8)
    finally:
        model_module._origination_dscr = saved
    return model, captured["dscr"]


@pytest.mark.parametrize("floor", [1.6, 1.8])
def test_requests_below_the_floor_are_declined_and_counted(floor: float) -> None:
    """Every day-0 request with DSCR < floor lapses unfunded; every one at or above it is funded (capacity is
    ample in this workload); the ledger counts the declined ones."""
    model, dscr = first_step(floor)
    asked = np.isfinite(dscr)
    below = asked & (dscr < floor)
    assert below.any() and (asked & ~below).any(), "the floor should split the requests"
    assert np.all(model.book.status[below] == br.LAPSED)
    assert np.all(model.book.status[asked & ~below] == br.ACTIVE)
    declined = model.ledger.values[model.ledger._index["demand_declined"]]
    np.testing.assert_array_equal(declined, below.sum(axis=1))


def test_a_higher_floor_declines_a_superset() -> None:
    """Common random numbers: raising min_dscr from 1.6 to 1.8 declines every request 1.6 declined, and more."""
    low, _ = first_step(1.6)
    high, _ = first_step(1.8)
    declined_low = low.book.status == br.LAPSED
    declined_high = high.book.status == br.LAPSED
    assert np.all(declined_high[declined_low]) and declined_high.sum() > declined_low.sum()


def test_a_zero_floor_funds_every_request() -> None:
    """min_dscr = 0: in this calm workload every operator earns a positive EBITDA, so nothing is declined."""
    model, dscr = first_step(0.0)
    asked = np.isfinite(dscr)
    assert np.all(dscr[asked] > 0)
    assert np.all(model.book.status[asked] == br.ACTIVE)


def test_no_floor_funds_even_a_loss_making_operator() -> None:
    """min_dscr = null switches underwriting off: an operator with no utilisation and no contracts (negative
    EBITDA, DSCR < 0) is funded; a floor of 0 declines it."""
    def model(floor: float | None) -> UsdaiModel:
        scenario = with_floor(1.2)
        cohort = scenario.borrowers.cohorts[0].model_copy(
            update={"utilisation_level": 0.0, "contracted_share": 0.0, "count": 3}
        )
        allocation = scenario.protocol.allocation.model_copy(update={"min_dscr": floor})
        scenario = scenario.model_copy(update={
            "borrowers": scenario.borrowers.model_copy(update={"cohorts": (cohort,)}),
            "protocol": scenario.protocol.model_copy(update={"allocation": allocation}),
        })
        return UsdaiModel(compile_params(scenario), 0, 2)

    assert np.all(model(None).book.status == br.ACTIVE)
    assert np.all(model(0.0).book.status == br.LAPSED)
