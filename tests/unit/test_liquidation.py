"""Collateral sale arithmetic (usdai_sim.protocol.liquidation) and its use in the model, by hand.

Default forced-sale table (schema.Liquidation): {0: 0.45, 7: 0.45, 30: 0.65, 90: 0.85, 365: 1.0}.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usdai_sim.agents import borrowers as br
from usdai_sim.ledger import Ledger, identity_errors
from usdai_sim.market.gpu import price_impact_discount
from usdai_sim.model import UsdaiModel, sales
from usdai_sim.params import compile_params
from usdai_sim.protocol.liquidation import (
    forced_sale_factor,
    gross_proceeds,
    insurance_payout,
    springing_recourse,
    waterfall,
)
from usdai_sim.scenario.schema import Liquidation, Scenario

TABLE = Liquidation().forced_sale_factors
money = st.floats(0.0, 1e9)


def arr(*values: float) -> np.ndarray:
    """A float array."""
    return np.array(values, dtype=float)


# --- forced-sale factor ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "factor"),
    [
        (0, 0.45),
        (7, 0.45),
        (30, 0.65),
        (60, 0.75),  # 0.65 + (60 − 30)/(90 − 30) · (0.85 − 0.65) = 0.65 + 0.5 · 0.2
        (18.5, 0.55),  # 0.45 + (18.5 − 7)/(30 − 7) · 0.2 = 0.45 + 0.1
        (90, 0.85),
        (365, 1.0),
        (1000, 1.0),  # beyond the table: flat at the last entry
    ],
)
def test_forced_sale_factor_interpolates_the_default_table(days: float, factor: float) -> None:
    """Linear interpolation between table points, flat outside."""
    assert forced_sale_factor(days, TABLE) == pytest.approx(factor, rel=1e-12)


def test_gross_proceeds_hand_computed() -> None:
    """1,000 GPUs × $20,000 × 0.65 × (1 − 0.1) = $11,700,000."""
    assert gross_proceeds(arr(1000), arr(20_000), 0.65, arr(0.1))[0] == pytest.approx(11_700_000.0)


# --- waterfall -------------------------------------------------------------------------------------


def test_waterfall_principal_then_interest_then_surplus() -> None:
    """$1,200 available, $1,000 principal, $150 interest → 1,000 / 150 / 50."""
    p, i, s = waterfall(arr(1200), arr(1000), arr(150))
    assert (p[0], i[0], s[0]) == (1000.0, 150.0, 50.0)


def test_waterfall_partial_interest() -> None:
    """$1,100 available: principal in full, $100 of the $150 interest, no surplus."""
    p, i, s = waterfall(arr(1100), arr(1000), arr(150))
    assert (p[0], i[0], s[0]) == (1000.0, 100.0, 0.0)


def test_waterfall_available_below_principal() -> None:
    """$600 available against $1,000 principal: all of it to principal, nothing to interest."""
    p, i, s = waterfall(arr(600), arr(1000), arr(150))
    assert (p[0], i[0], s[0]) == (600.0, 0.0, 0.0)


def test_waterfall_nothing_available() -> None:
    """$0 (or a negative amount) available pays nothing."""
    p, i, s = waterfall(arr(0, -5), arr(1000, 1000), arr(150, 150))
    assert p.tolist() == [0.0, 0.0] and i.tolist() == [0.0, 0.0] and s.tolist() == [0.0, 0.0]


@given(available=money, principal=money, interest=money)
def test_waterfall_conserves_cash(available: float, principal: float, interest: float) -> None:
    """Parts are non-negative, principal ≤ claim, interest ≤ claim, and they sum to what was available."""
    p, i, s = waterfall(arr(available), arr(principal), arr(interest))
    assert min(p[0], i[0], s[0]) >= 0.0
    assert p[0] <= principal and i[0] <= interest
    assert p[0] + i[0] + s[0] == pytest.approx(available, rel=1e-12, abs=1e-6)
    assert s[0] == 0.0 or (p[0] == principal and i[0] == interest)


def test_non_recourse_recovery_is_capped_at_proceeds() -> None:
    """Non-recourse: whatever the claim, the lender gets at most the cash available ($700 of $1,000 + $50)."""
    p, i, s = waterfall(arr(700), arr(1000), arr(50))
    assert p[0] + i[0] == 700.0
    assert s[0] == 0.0


# --- insurance and recourse ------------------------------------------------------------------------


def test_insurance_pays_shortfall_in_borrower_order_until_cover_is_used() -> None:
    """Claims (insured − gross)⁺ = 300, 0, 500, 400 against $600 of cover: paid 300, 0, 300, 0."""
    insured = np.array([[1000.0, 500.0, 900.0, 400.0]])
    gross = np.array([[700.0, 800.0, 400.0, 0.0]])
    payout = insurance_payout(insured, gross, arr(600))
    assert payout.tolist() == [[300.0, 0.0, 300.0, 0.0]]


def test_insurance_per_path_cover() -> None:
    """Each path has its own cover: path 0 $10 pays 10 of the 100 claim, path 1 $1,000 pays all of it."""
    payout = insurance_payout(np.array([[100.0], [100.0]]), np.zeros((2, 1)), arr(10, 1000))
    assert payout[:, 0].tolist() == [10.0, 100.0]


@given(
    insured=st.lists(money, min_size=1, max_size=6),
    gross=st.lists(money, min_size=6, max_size=6),
    cover=money,
)
def test_insurance_total_never_exceeds_cover(insured: list[float], gross: list[float], cover: float) -> None:
    """Σ payout ≤ cover and each payout is in [0, its claim]."""
    ins = np.array([insured])
    g = np.array([gross[: len(insured)]])
    payout = insurance_payout(ins, g, arr(cover))
    assert payout.sum() <= cover * (1 + 1e-12) + 1e-6
    assert np.all(payout >= 0.0) and np.all(payout <= np.maximum(ins - g, 0.0))


def test_springing_recourse_only_for_fraud() -> None:
    """Shortfall $1,000, recovery fraction 0.3: fraud → $300; an honest default → $0; no shortfall → $0."""
    claim = springing_recourse(arr(1000, 1000, -50), np.array([True, False, True]), 0.3)
    assert claim.tolist() == [300.0, 0.0, 0.0]


# --- price impact ----------------------------------------------------------------------------------


def test_price_impact_discount_hand_computed() -> None:
    """slope 0.5, depth 5,000: selling 1,000 → 0.1; 4,000 → 0.4; 20,000 → 2.0 capped at 0.9."""
    got = price_impact_discount(arr(0, 1000, 4000, 20_000), 5000.0, 0.0, 0.5, 0.9)
    np.testing.assert_allclose(got, [0.0, 0.1, 0.4, 0.9])


def impact_scenario() -> Scenario:
    """Four identical H100 borrowers (1,000 GPUs, new, flat depreciation, no market noise), depth 5,000."""
    h100 = {
        "list_price_usd": 30_000.0,
        "rental_usd_per_gpu_hour": 2.95,
        "max_ltv": 0.8,
        "market_depth_gpus_per_30d": 5000.0,
        "depreciation": {"method": "table", "vintage_factors": [1.0]},
    }
    flat = {"drift_per_year": 0.0, "vol_per_sqrt_year": 0.0}
    return Scenario.model_validate(
        {
            "simulation": {"horizon_days": 30, "paths": 2, "seed": 1},
            "markets": {
                "tbill": {"model": "constant", "initial_rate": 0.04},
                "gpu": {
                    "common": flat,
                    "class_factor": flat,
                    "idiosyncratic": flat,
                    "classes": {"H100": h100},
                },
            },
            "borrowers": {
                "cohorts": [
                    {
                        "count": 4,
                        "gpu_class": "H100",
                        "gpus": 1000,
                        "age_years": 0.0,
                        "requested_ltv": 0.5,
                        "fraud_rate_per_year": 0.0,
                    }
                ]
            },
            "depositors": {"count": 1},
            "protocol": {
                "initial_susdai_nav_usd": 1e9,
                "allocation": {"max_loan_share": 1.0, "min_liquidity_fraction": 0.0},
                "liquidation": {"price_impact": {"discount_slope": 0.5, "max_discount": 0.9}},
            },
        }
    )


def test_bigger_forced_sale_of_a_class_fetches_a_lower_price() -> None:
    """Path 0 sells one fleet (1,000 GPUs), path 1 all four (4,000) on the same day.

    Per GPU: $30,000 × 0.65 (30-day factor) × (1 − 0.5·sold/5,000) = $17,550 (sold 1,000) vs $11,700 (4,000).
    """
    m = UsdaiModel(compile_params(impact_scenario()), 0, 2)
    m.ledger, m.day_end = Ledger(2), m.day + m.dt_days
    route = np.array([[br.ROUTE_PAYMENT, 0, 0, 0], [br.ROUTE_PAYMENT] * 4], dtype=np.int8)
    br.start_defaults(m.book, m.params.borrowers, route, m.day_end, 0.0)
    sales(m)
    per_gpu = m.ledger["sale_gross_usd"] / np.array([1000.0, 4000.0])
    np.testing.assert_allclose(per_gpu, [17_550.0, 11_700.0], rtol=1e-12)


def test_insurance_payout_is_accounted_once() -> None:
    """One fleet sold with GPU value insurance (cover $5M, insured 70% of value): the payout,
    1,000 GPUs × $30,000 × (0.7 − 0.65·0.9) = $3,450,000, reaches NAV once, through the sale waterfall,
    so the ledger explains the NAV change exactly (identity_errors is empty) and the cover shrinks by it."""
    data = impact_scenario().model_dump()
    data["protocol"]["insurance"] = {"cover_usd": 5e6, "insured_fraction": 0.7}
    m = UsdaiModel(compile_params(Scenario.model_validate(data)), 0, 2)
    m._nav()
    before = m.nav_opt.copy()
    m.ledger, m.day_end = Ledger(2), m.day + m.dt_days
    route = np.array([[br.ROUTE_PAYMENT, 0, 0, 0]] * 2, dtype=np.int8)
    br.start_defaults(m.book, m.params.borrowers, route, m.day_end, 0.0)
    sales(m)
    m._nav()
    assert m.ledger["insurance_usd"][0] == pytest.approx(3_450_000.0)
    assert m.vault.insurance_left_usd[0] == pytest.approx(5e6 - 3_450_000.0)
    assert identity_errors(before, m.nav_opt, m.ledger, m.interest_fee, m.vault.supply_usd, m.vault.reserves_usd) == []
