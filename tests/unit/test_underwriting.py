"""Underwriting at origination (issue #12): a request is funded only if its debt-service coverage reaches
``protocol.allocation.min_dscr`` — at today's market, or with ``dscr_basis: expected_path`` at its lowest over
the loan's payment dates on the market's median path; a declined request lapses and is counted."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import usdai_sim.model as model_module
from benchmarks.workloads import baseline, sized
from usdai_sim.agents import borrowers as br
from usdai_sim.market.valuation import median_log_change
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

    def spy(m: UsdaiModel, rows: np.ndarray, cols: np.ndarray, *rest: Any) -> np.ndarray:
        dscr = _origination_dscr(m, rows, cols, *rest)
        if "dscr" not in captured:  # day 0's requests, laid out (paths, borrowers), inf where none was asked
            captured["dscr"] = np.full(m.book.status.shape, np.inf)
            captured["dscr"][rows, cols] = dscr
        return dscr

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


# ---------------------------------------------------------------- dscr_basis: expected_path


def test_median_log_change_limits_and_hand_number() -> None:
    """ĝ(τ) = μτ + U(e^{−κτ} − 1): U = 0 → μτ; κ = 0 → μτ; hand number μ = −0.1, U = −0.4, κ = 0.5, τ = 2:
    −0.2 − 0.4·(e^{−1} − 1) = 0.0528482; κ → ∞ → μτ − U."""
    tau = np.array([0.5, 2.0])
    np.testing.assert_allclose(median_log_change(np.zeros(2), -0.1, 0.5, tau), -0.1 * tau)
    np.testing.assert_allclose(median_log_change(np.full(2, -0.4), -0.1, 0.0, tau), -0.1 * tau)
    assert median_log_change(np.array([-0.4]), -0.1, 0.5, np.array([2.0]))[0] == pytest.approx(0.0528482, rel=1e-6)
    assert median_log_change(np.array([-0.4]), -0.1, 1e6, np.array([2.0]))[0] == pytest.approx(-0.2 + 0.4)


def one_request(contracted_share: float = 0.5, failure_rate: float = 0.0) -> br.BorrowerParams:
    """The baseline's first cohort's parameters for one borrower, 24-month contracts, with the given share and
    permanent hardware loss."""
    cohort = Scenario().borrowers.cohorts[0].model_copy(update={
        "count": 1, "contracted_share": contracted_share, "contract_months": 24,
        "hardware_failure_rate_per_year": failure_rate,
    })
    scenario = Scenario().model_copy(
        update={"borrowers": Scenario().borrowers.model_copy(update={"cohorts": (cohort,)})})
    bp = compile_params(scenario).borrowers
    return bp.take(np.zeros(1, dtype=int), np.zeros(1, dtype=int))


def coverage(bp: br.BorrowerParams, path: np.ndarray, contract_price: float = 0.75 * 2.95) -> float:
    """Lowest projected DSCR of one request: spot $2.95/h, 80% utilisation, 1.275 kW, $700 per GPU a month."""
    return float(br.projected_coverage(bp, np.array([2.95]), np.array([contract_price]), np.array([0.8]),
                                       np.array([1.275]), np.array([700.0]), path[None, :])[0])


def today(bp: br.BorrowerParams, spot: float = 2.95, contract_price: float = 0.75 * 2.95) -> float:
    """DSCR at one spot rental (``operating_rates`` and ``debt_service_coverage``)."""
    revenue, opex = br.operating_rates(bp, bp.contracted_share, np.array([contract_price]), np.array([spot]),
                                       np.array([0.8]), np.array([1.275]))
    return float(br.debt_service_coverage(revenue, opex, np.array([700.0]))[0])


def test_a_flat_path_projects_todays_coverage() -> None:
    """ĝ = 0, no hardware loss, a book signed at today's market: every payment date's DSCR is today's."""
    bp = one_request()
    assert coverage(bp, np.zeros(36)) == pytest.approx(today(bp), rel=1e-12)


def test_the_lowest_coverage_is_at_the_end_of_a_falling_path() -> None:
    """No contracts, ĝ_m = −0.1·τ_m (the trend, today on it), 2%/yr of the fleet lost: the lowest DSCR is at the
    36th payment, τ = 36·30/365 years: today's rates at spot 2.95·e^{−0.1τ}, × the survival e^{−0.02τ}."""
    bp = one_request(contracted_share=0.0, failure_rate=0.02)
    tau = np.arange(1, 37) * 30 / 365
    end = today(bp, spot=2.95 * np.exp(-0.1 * tau[-1])) * np.exp(-0.02 * tau[-1])
    assert coverage(bp, -0.1 * tau) == pytest.approx(end, rel=1e-12)
    assert end < today(bp)


def test_payments_past_the_term_do_not_count_and_a_deeper_path_covers_no_more() -> None:
    """+inf marks months past the loan's last payment: a 12-payment loan on a 36-month grid is judged on its
    first 12 dates only; a path lower at every date gives no higher coverage."""
    bp = one_request(contracted_share=0.0)
    tau = np.arange(1, 37) * 30 / 365
    short = np.where(np.arange(1, 37) <= 12, -0.1 * tau, np.inf)
    assert coverage(bp, short) == pytest.approx(coverage(bp, -0.1 * tau[:12]), rel=1e-12)
    assert coverage(bp, -0.2 * tau) < coverage(bp, -0.1 * tau)


def test_a_book_signed_above_the_market_re_prices_at_the_renewal_speed() -> None:
    """Flat market (ĝ = 0), 80% contracted at $2.50/h against 0.75 × $2.95 = $2.2125 at market: after m months
    e^{−m/24} of the book is still at $2.50, so the price falls to e^{−36/24}·2.50 + (1 − e^{−36/24})·2.2125 by
    the last payment, where the coverage is lowest."""
    bp = one_request(contracted_share=0.8)
    kept = np.exp(-36 / 24)
    end_price = kept * 2.50 + (1 - kept) * 0.75 * 2.95
    assert coverage(bp, np.zeros(36), contract_price=2.50) == pytest.approx(today(bp, contract_price=end_price),
                                                                            rel=1e-12)


def test_contracts_signed_above_the_market_delay_the_fall() -> None:
    """A book signed at $2.50/h (above 0.75 × spot) keeps e^{−m/24} of it at that price: higher coverage than a
    book already at market, on the same falling path."""
    bp = one_request(contracted_share=0.8)
    tau = np.arange(1, 37) * 30 / 365
    assert coverage(bp, -0.1 * tau, contract_price=2.50) > coverage(bp, -0.1 * tau)


def with_basis(basis: str, min_dscr: float) -> Scenario:
    """``with_floor`` with ``dscr_basis`` set."""
    scenario = with_floor(min_dscr)
    allocation = scenario.protocol.allocation.model_copy(update={"dscr_basis": basis})
    return scenario.model_copy(update={"protocol": scenario.protocol.model_copy(update={"allocation": allocation})})


def test_the_expected_path_declines_a_superset_of_todays_declines() -> None:
    """Same requests, same floor 1.5: on the baseline's falling median path (−10%/yr trend, contracts
    re-pricing, fleet wear) the lowest coverage is below today's, so every request declined at today's market
    is declined, and more."""
    def declined(basis: str) -> np.ndarray:
        return UsdaiModel(compile_params(with_basis(basis, 1.5)), 0, 8).book.status == br.LAPSED

    at_today, on_path = declined("today"), declined("expected_path")
    assert at_today.any() and np.all(on_path[at_today]) and on_path.sum() > at_today.sum()


def test_renewals_re_price_to_the_falling_market() -> None:
    """80% contracted at market (0.75 × $2.95), ĝ_m = −0.1·τ_m: by the last payment (1 − e^{−36/24}) of the book
    has renewed at 0.75 × the fallen spot, the rest is still at the price signed."""
    bp = one_request(contracted_share=0.8)
    tau = np.arange(1, 37) * 30 / 365
    spot_end = 2.95 * np.exp(-0.1 * tau[-1])
    kept = np.exp(-36 / 24)
    end_price = kept * 0.75 * 2.95 + (1 - kept) * 0.75 * spot_end
    assert coverage(bp, -0.1 * tau) == pytest.approx(today(bp, spot=spot_end, contract_price=end_price), rel=1e-12)


def test_on_a_rising_path_the_first_payment_is_the_lowest_and_later_months_do_not_count() -> None:
    """ĝ_m = +0.1·τ_m for a 12-payment loan on a 36-month grid (+inf after): coverage is lowest at payment 1,
    above today's; the months past the term (which would read today's market) are ignored."""
    bp = one_request(contracted_share=0.0)
    tau = np.arange(1, 37) * 30 / 365
    short = np.where(np.arange(1, 37) <= 12, 0.1 * tau, np.inf)
    first = today(bp, spot=2.95 * np.exp(0.1 * tau[0]))
    assert coverage(bp, short) == pytest.approx(first, rel=1e-12)
    assert first > today(bp)


def test_the_expected_path_follows_each_class_and_stops_at_each_term() -> None:
    """``_expected_spot_path``: per request, ĝ at its payment dates from its class's deviation today
    (``median_log_change``), +inf past its own last payment (here one request's term cut to 12)."""
    m = UsdaiModel(compile_params(with_basis("expected_path", 1.5)), 0, 2)
    rows, cols = np.array([0, 1]), np.array([0, 1])
    bp = dataclasses.replace(m.params.borrowers.take(rows, cols), term_payments=np.array([36, 12]))
    path = model_module._expected_spot_path(m, rows, bp)
    rental = m.scenario.markets.rental
    tau = np.arange(1, 37) * 30 / 365
    deviation = m._trend_deviation()[rows, bp.class_index]
    expected = median_log_change(deviation[:, None], rental.drift_per_year, rental.kappa_per_year, tau[None, :])
    np.testing.assert_array_equal(path[0], expected[0])
    np.testing.assert_array_equal(path[1, :12], expected[1, :12])
    assert np.all(np.isinf(path[1, 12:]))
