"""The seasoning curve: defaults and loan-years by year on book, on hand numbers.

A loan's year on book is payments made // 12 (``br.year_on_book_index``). Each step a performing loan spends
counts in the bin of the payments it made before that step (the operate phase, where ``loan_years`` is counted
too): a 36-month loan funded on day 0 makes its 12th payment at the end of day 360, so over a 500-day horizon it
spends days 1-360 in year 1 and 361-500 (140 days) in year 2; a 3-month loan, repaid at the end of day 90,
spends its 90 days in year 1.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from usdai_sim.agents import borrowers as br
from usdai_sim.engine import seasoning_columns, simulate
from usdai_sim.intervals import SEASONING_KEY, loan_intervals
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario
from usdai_sim.summary import seasoning


@pytest.mark.parametrize(
    ("term", "left", "index"),
    [(36, 36, 0), (36, 25, 0), (36, 24, 1), (36, 13, 1), (36, 12, 2), (36, 0, 3), (72, 0, 4), (72, 23, 4)],
)
def test_year_on_book_is_payments_made_over_twelve_clipped(term: int, left: int, index: int) -> None:
    assert br.year_on_book_index(np.array([term]), np.array([left])).tolist() == [index]


def one_loan(term_months: int, horizon_days: int, step_days: int = 1) -> Scenario:
    cohort = {"count": 1, "gpus": 100, "requested_ltv": 0.3, "apr": 0.12, "term_months": term_months,
              "fraud_rate_per_year": 0.0, "operator_vol_per_sqrt_year": 0.0, "initial_cash_months": 24.0}
    return Scenario.model_validate({
        "simulation": {"paths": 2, "horizon_days": horizon_days, "seed": 5, "step_days": step_days},
        "borrowers": {"cohorts": [cohort], "refinance_at_maturity": False},
        "depositors": {"count": 2},
        "markets": {"tbill": {"model": "constant"}},
        "protocol": {"allocation": {"min_dscr": None}},
    })


@pytest.mark.parametrize(
    ("term_months", "horizon_days", "step_days", "days_by_year"),
    [(36, 500, 1, [360, 140, 0]), (36, 500, 10, [360, 140, 0]), (3, 180, 1, [90, 0, 0])],
)
def test_days_at_risk_fall_in_the_year_on_book_they_were_spent(
    term_months: int, horizon_days: int, step_days: int, days_by_year: list[int]
) -> None:
    """Daily steps and 10-day steps (36 steps of 10 days in year 1, 14 in year 2) give the same days."""
    paths = simulate(one_loan(term_months, horizon_days, step_days), quiet=True).paths
    for year, days in enumerate(days_by_year, 1):
        assert paths[f"loan_years_year_on_book_{year}"].tolist() == pytest.approx([days / 365.0] * 2, rel=1e-12)
        assert paths[f"defaults_year_on_book_{year}"].tolist() == [0, 0]


def test_a_default_counts_in_the_year_of_its_age_at_default() -> None:
    """Hand book: term 36, one path; slots defaulted after 0, 12 and 30 payments, one performing, one repaid
    without default: one default each in years 1, 2 and 3, none in 4 and 5; loan-years are the recorder's."""
    days = np.array([[100.0, 200.0, 300.0, 0.0, 0.0]])
    m = SimpleNamespace(
        book=SimpleNamespace(payments_left=np.array([[36, 24, 6, 10, 0]]),
                             default_route=np.array([[1, 3, 2, 0, 0]], dtype=np.int8)),
        params=SimpleNamespace(borrowers=SimpleNamespace(term_payments=np.full(5, 36))),
        recorder=SimpleNamespace(days_on_book=days),
    )
    cols = seasoning_columns(m)  # type: ignore[arg-type]
    assert [int(cols[f"defaults_year_on_book_{y}"][0]) for y in range(1, 6)] == [1, 1, 1, 0, 0]
    assert [cols[f"loan_years_year_on_book_{y}"][0] for y in range(1, 6)] == pytest.approx(
        [100 / 365, 200 / 365, 300 / 365, 0.0, 0.0])


def test_the_curve_pools_defaults_over_loan_years_and_skips_years_never_reached() -> None:
    """Year 1: 3 defaults over 2 loan-years (1.5); year 2: 1 over 4 (0.25); year 3: none over 1; 4 and 5 unreached."""
    table = {
        "defaults_year_on_book_1": [1, 2], "loan_years_year_on_book_1": [1.0, 1.0],
        "defaults_year_on_book_2": [0, 1], "loan_years_year_on_book_2": [3.0, 1.0],
        "defaults_year_on_book_3": [0, 0], "loan_years_year_on_book_3": [0.5, 0.5],
        "defaults_year_on_book_4": [0, 0], "loan_years_year_on_book_4": [0.0, 0.0],
    }
    assert seasoning(pd.DataFrame(table)) == pytest.approx({"1": 1.5, "2": 0.25, "3": 0.0})


def test_the_curve_accounts_for_every_default_and_every_day_at_risk() -> None:
    """On a shipped stress run: the years on book hold every default and every loan-year of ``loan_years``."""
    scenario, _ = load_scenario("rental_collapse")
    paths = simulate(scenario, paths=4, quiet=True).paths
    years = range(1, br.YEARS_ON_BOOK_BINS + 1)
    by_year = sum(paths[f"defaults_year_on_book_{y}"] for y in years)
    assert (by_year == paths["loans_defaulted"]).all()
    assert paths["loans_defaulted"].sum() > 0
    exposure = sum(paths[f"loan_years_year_on_book_{y}"] for y in years)
    assert exposure.tolist() == pytest.approx(paths["loan_years"].tolist(), rel=1e-12)
    assert paths["loan_years_year_on_book_2"].sum() > 0


def test_each_year_on_book_gets_a_bootstrap_interval_around_its_rate() -> None:
    """Paths with 0-4 defaults over 1 loan-year in year 1 and none in year 2 (0.5 loan-years each): year 1's
    interval holds its pooled rate 2.0 inside [min, max] of the per-path rates; year 2 is [0, 0]; year 3, never
    reached, has none; the overall rate pools 10 defaults over 7.5 loan-years."""
    table = pd.DataFrame({
        "loans_defaulted": [0, 1, 2, 3, 4], "loans_originated": [5] * 5, "loan_years": [1.5] * 5,
        "exposure_at_default_usd": [0.0, 1, 2, 3, 4], "principal_originated_usd": [10.0] * 5,
        "loss_usd": [0.0] * 5, "sold_exposure_usd": [1.0] * 5,
        "defaults_year_on_book_1": [0, 1, 2, 3, 4], "loan_years_year_on_book_1": [1.0] * 5,
        "defaults_year_on_book_2": [0] * 5, "loan_years_year_on_book_2": [0.5] * 5,
        "defaults_year_on_book_3": [0] * 5, "loan_years_year_on_book_3": [0.0] * 5,
    })
    out = loan_intervals(table)
    year1, year2 = out[f"{SEASONING_KEY}.1"], out[f"{SEASONING_KEY}.2"]
    assert 0.0 <= year1["low"] < 2.0 < year1["high"] <= 4.0
    assert (year2["low"], year2["high"]) == (0.0, 0.0)
    assert f"{SEASONING_KEY}.3" not in out
    assert out["default_rate_per_loan_year"]["low"] < 10 / 7.5 < out["default_rate_per_loan_year"]["high"]
    assert seasoning(table) == pytest.approx({"1": 2.0, "2": 0.0})
