"""Years at risk (``loan_years``) and the annual default rate on hand numbers.

One borrower per path funded on day 0 with no fraud, no own-revenue risk and nothing that can fail it: a
36-month loan over a 180-day horizon is at risk the whole 180 days (180/365 loan-years per path); a 3-month
loan that is not re-borrowed is at risk for its 90 days (three 30-day payments) only. The annual default rate
pools defaults over loan-years (0 here; 3 written into the table over 2 × 180/365 loan-years: 3.0417).
Underwriting is off (a 3-month loan's payments fail the DSCR floor).
"""

from __future__ import annotations

import pytest

from usdai_sim.engine import simulate
from usdai_sim.scenario.schema import Scenario
from usdai_sim.summary import loan_metrics


def one_loan(term_months: int) -> Scenario:
    cohort = {"count": 1, "gpus": 100, "requested_ltv": 0.3, "apr": 0.12, "term_months": term_months,
              "fraud_rate_per_year": 0.0, "operator_vol_per_sqrt_year": 0.0, "initial_cash_months": 24.0}
    return Scenario.model_validate({
        "simulation": {"paths": 2, "horizon_days": 180, "seed": 5},
        "borrowers": {"cohorts": [cohort], "refinance_at_maturity": False},
        "depositors": {"count": 2},
        "markets": {"tbill": {"model": "constant"}},
        "protocol": {"allocation": {"min_dscr": None}},
    })


@pytest.mark.parametrize(("term_months", "days_at_risk"), [(36, 180.0), (3, 90.0)])
def test_a_loan_is_at_risk_while_it_is_active(term_months: int, days_at_risk: float) -> None:
    results = simulate(one_loan(term_months), quiet=True)
    assert results.paths["loans_originated"].tolist() == [1, 1]
    assert results.paths["loans_defaulted"].tolist() == [0, 0]
    assert results.paths["loan_years"].tolist() == pytest.approx([days_at_risk / 365.0] * 2, rel=1e-12)
    assert results.summary["default_rate_per_loan_year"] == 0.0


def test_annual_default_rate_pools_defaults_over_loan_years() -> None:
    """The 36-month run's table with 1 and 2 defaults written in: 3 / (2 × 180/365) = 3.0417 a loan-year."""
    paths = simulate(one_loan(36), quiet=True).paths.copy()
    paths["loans_defaulted"] = [1, 2]
    assert loan_metrics(paths)["default_rate_per_loan_year"] == pytest.approx(3.0 / (2 * 180 / 365), rel=1e-12)
