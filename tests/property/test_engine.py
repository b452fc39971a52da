"""Monte Carlo engine properties: reproducibility, path independence, step convergence, closed-form growth.

All runs are small (≤ 256 paths, a handful of agents, horizons of 60–360 days).
"""

import math

import numpy as np
import pandas as pd
import pytest

from usdai_sim.engine import simulate
from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.scenario.library import builtin_names, load_scenario
from usdai_sim.scenario.schema import Scenario

INERT_DEPOSITORS = {
    "count": 3,
    "deposit_rate_per_year": 0.0,
    "redeem_base_rate_per_year": 0.0,
    "spread_sensitivity_per_year": 0.0,
    "loss_sensitivity_per_year": 0.0,
    "herd_sensitivity_per_year": 0.0,
    "loss_news_sensitivity_per_year": 0.0,
    "unstaked": {"redeem_base_rate_per_year": 0.0, "inflow_rate_per_year": 0.0,
                 "loss_news_sensitivity_per_year": 0.0, "discount_sensitivity_per_year": 0.0,
                 "queue_sensitivity_per_year": 0.0},
}
FLAT = {"drift_per_year": 0.0, "vol_per_sqrt_year": 0.0}


def busy_scenario(horizon_days: int = 60) -> Scenario:
    """A small stochastic world where things happen: volatile GPUs, fraud, active depositors, QEV."""
    return Scenario.model_validate(
        {
            "simulation": {"horizon_days": horizon_days, "paths": 96, "seed": 5},
            "markets": {"gpu": {"common": {"vol_per_sqrt_year": 0.6}}},
            "borrowers": {
                "cohorts": [
                    {"count": 3, "fraud_rate_per_year": 2.0},
                    {"count": 3, "gpu_class": "B200", "origination_day": {"low": 0, "high": 30}},
                ]
            },
            "depositors": {"count": 8, "redeem_base_rate_per_year": 4.0},
            "protocol": {
                "initial_susdai_nav_usd": 1e8,
                "queue": {"qev": {"enabled": True}},
                "liquidation": {"time_to_sell_days": 7},
            },
        }
    )


def assert_same_results(a, b) -> None:  # noqa: ANN001 - two Results
    """Identical per-path table, ledger and quantile bands (exact equality)."""
    pd.testing.assert_frame_equal(a.paths, b.paths, check_exact=True)
    pd.testing.assert_frame_equal(a.ledger, b.ledger, check_exact=True)
    pd.testing.assert_frame_equal(a.bands, b.bands, check_exact=True)


@pytest.fixture(scope="module")
def reference():
    """The busy scenario, 96 paths, one worker, work blocks of 32 paths, with the model's invariant checks."""
    return simulate(busy_scenario(), workers=1, block_paths=32, check_invariants=True)


def test_reference_run_is_not_trivial(reference) -> None:  # noqa: ANN001
    """The reproducibility checks below compare runs in which loans default and redemptions are serviced."""
    assert reference.paths["loans_defaulted"].sum() > 0
    assert reference.ledger["redemptions_usd"].sum() > 0
    assert reference.ledger["qev_burned_shares"].sum() > 0


@pytest.mark.parametrize(("workers", "block_paths"), [(2, 32), (1, 64), (1, 96), (2, 64)])
def test_same_seed_same_results_whatever_the_chunking(reference, workers: int, block_paths: int) -> None:  # noqa: ANN001
    """Worker count and work-block size do not change any path, the ledger or the bands."""
    assert_same_results(reference, simulate(busy_scenario(), workers=workers, block_paths=block_paths))


def test_a_fixed_borrower_population_is_the_same_whatever_the_chunking(reference) -> None:  # noqa: ANN001
    """With ``population_seed`` set (one population on every path) results still do not depend on the chunking,
    and differ from the per-path populations of the reference run."""
    busy = busy_scenario()
    fixed = busy.model_copy(update={"simulation": busy.simulation.model_copy(update={"population_seed": 3})})
    one = simulate(fixed, workers=1, block_paths=32)
    assert_same_results(one, simulate(fixed, workers=2, block_paths=64))
    assert not np.array_equal(one.paths["nav_final_usd"], reference.paths["nav_final_usd"])


def test_adding_paths_leaves_earlier_paths_unchanged(reference) -> None:  # noqa: ANN001
    """The first 64 paths of a 96-path run equal a 64-path run with the same seed."""
    fewer = simulate(busy_scenario(), paths=64)
    pd.testing.assert_frame_equal(fewer.paths, reference.paths.iloc[:64], check_exact=True)


def test_different_seed_different_paths(reference) -> None:  # noqa: ANN001
    """A different seed really changes the outcome (the equalities above are not vacuous)."""
    other = simulate(busy_scenario(), seed=6)
    assert not np.array_equal(other.paths["nav_final_usd"], reference.paths["nav_final_usd"])


# --- closed-form growth ----------------------------------------------------------------------------

R_TBILL, INCENTIVE, BASE_FEE, LOAN_FEE, APR = 0.04, 0.01, 0.02, 0.05, 0.12
NAV0, UNSTAKED = 1e8, 2e7


def quiet_scenario(horizon_days: int, step_days: int, loans: int, tbill: dict | None = None) -> Scenario:
    """No shocks, no GPU/rental/utilisation noise, no fraud or walk-away, cash-rich borrowers at 20% LTV,
    inert depositors; T-bill constant 4% (or ``tbill``), incentive 1% on all supply, fees 2% / 5%."""
    return Scenario.model_validate(
        {
            "simulation": {"horizon_days": horizon_days, "step_days": step_days, "paths": 32, "seed": 9},
            "markets": {
                "tbill": tbill or {"model": "constant", "initial_rate": R_TBILL},
                "gpu": {"common": FLAT, "class_factor": FLAT, "idiosyncratic": FLAT},
                "rental": {"vol_per_sqrt_year": 0.0},
                "utilisation": {"vol_per_sqrt_year": 0.0},
            },
            "borrowers": {
                "cohorts": [
                    {
                        "count": loans,
                        "gpus": 1500,
                        "requested_ltv": 0.2,
                        "apr": APR,
                        "term_months": 36,
                        "strategic_walk_ratio": 0.0,
                        "fraud_rate_per_year": 0.0,
                        "initial_cash_months": 6.0,
                        "contracted_share": 1.0,
                    }
                ]
            },
            "depositors": INERT_DEPOSITORS,
            "protocol": {
                "initial_susdai_nav_usd": NAV0,
                "unstaked_usdai_usd": UNSTAKED,
                "incentive_apr": INCENTIVE,
                "incentive_cap_usd": 1e12,
                "admin_fee_base_yield_bps": BASE_FEE * 1e4,
                "admin_fee_loan_interest_bps": LOAN_FEE * 1e4,
                "allocation": {"max_loan_share": 1.0, "min_liquidity_fraction": 0.0, "min_dscr": None},
            },
        }
    )


def closed_form_nav(days: int, loan_principals: np.ndarray) -> float:
    """NAV_cons after ``days`` daily steps, by geometric sums.

    Reserve yield each day is (supply)·(r + incentive)·(1 − base fee)/365 with supply = idle + unstaked,
    so idle + U grows by the factor q = 1 + (r + inc)(1 − f_b)/365 a day. Loans (amortising, apr a,
    i = a·30/365, 36 payments) pay on days 30k: (1 − f_l)·B_{k−1}·i interest plus principal B_{k−1} − B_k,
    with B_k = B·((1+i)^36 − (1+i)^k)/((1+i)^36 − 1); each receipt then compounds for the days left. So
        idle_T + U = (NAV0 − ΣB + U)·q^T + Σ_k [(1 − f_l)·B_{k−1}·i + B_{k−1} − B_k]·q^(T − 30k)
        NAV_T = idle_T + Σ B_K,  K = ⌊T/30⌋.
    """
    q = 1.0 + (R_TBILL + INCENTIVE) * (1.0 - BASE_FEE) / 365.0
    i = APR * 30 / 365
    lent = loan_principals.sum()

    def balance(k: int) -> float:
        return lent * ((1 + i) ** 36 - (1 + i) ** k) / ((1 + i) ** 36 - 1)

    idle_plus_u = (NAV0 - lent + UNSTAKED) * q**days
    for k in range(1, days // 30 + 1):
        receipt = (1.0 - LOAN_FEE) * balance(k - 1) * i + balance(k - 1) - balance(k)
        idle_plus_u += receipt * q ** (days - 30 * k)
    return idle_plus_u - UNSTAKED + balance(days // 30)


def test_no_loans_exchange_ratio_compounds_reserve_yield_exactly() -> None:
    """No loans: NAV_T = (NAV0 + U)·q^T − U, exchange ratio = NAV_T / shares (rtol 1e-12)."""
    scenario = quiet_scenario(360, 1, loans=0)
    res = simulate(scenario)
    expected = closed_form_nav(360, np.zeros(0))
    shares = scenario.protocol.initial_susdai_nav_usd
    np.testing.assert_allclose(res.paths["nav_final_usd"], expected, rtol=1e-12)
    np.testing.assert_allclose(res.paths["susdai_exchange_ratio_final"], expected / shares, rtol=1e-12)


def test_over_collateralised_book_grows_at_the_blended_rate() -> None:
    """20% LTV, no noise, cash-rich: no defaults, every loan funded; NAV_T equals the geometric-sum closed
    form (rtol 1e-9). Its simple annual growth g is the blended rate of the assets less fees,
        g* = w·a·(1 − f_l) + (1 − w + U/NAV0)·ρ,   ρ = (r + inc)(1 − f_b),  w = lent / NAV0,
    within the derived tolerance (the two first-order effects the simple rate ignores)
        ½·ρ·g*·T                                   every receipt earns reserve yield in turn (compounding)
      + w·(a(1 − f_l) − ρ)·Σ_k (B_{k−1} − B_k)/B·(12 − k)/12   principal repaid in month k earns ρ, not the
                                                   loan rate, for the rest of the year (amortisation).
    """
    scenario = quiet_scenario(360, 1, loans=4)
    paths = simulate(scenario).paths
    assert paths["loans_defaulted"].sum() == 0 and (paths["loans_originated"] == 4).all()
    lent = paths["principal_originated_usd"].to_numpy()
    expected = np.array([closed_form_nav(360, np.array([b])) for b in lent])
    np.testing.assert_allclose(paths["nav_final_usd"], expected, rtol=1e-9)
    w, years = lent / NAV0, 360 / 365
    rho, loan_rate = (R_TBILL + INCENTIVE) * (1 - BASE_FEE), APR * (1 - LOAN_FEE)
    blended = w * loan_rate + (1 - w + UNSTAKED / NAV0) * rho
    growth = (paths["nav_final_usd"].to_numpy() / NAV0 - 1.0) / years
    i = APR * 30 / 365
    balance = ((1 + i) ** 36 - (1 + i) ** np.arange(13)) / ((1 + i) ** 36 - 1)  # B_k / B
    idle_months = -np.diff(balance) @ ((12 - np.arange(1, 13)) / 12)
    tolerance = 0.5 * rho * blended * years + w * (loan_rate - rho) * idle_months
    assert w.min() > 0.3
    assert np.all(np.abs(growth - blended) <= tolerance)


def test_refining_the_step_converges() -> None:
    """Constant 4% T-bill, loans at 20% LTV (a third of NAV), 420 days (a multiple of 7 and of 30, so both
    runs have received the same loan payments). The final exchange ratio with 7-day steps is within the
    discretisation bound of the 1-day one:
        weekly vs daily compounding of the reserve yield:  ρ²·T·(7 − 1)/(2·365)   (ρ = (r + inc)(1 − f_b))
        receipts collected up to 6 days after their due date, each losing ≤ ρ·6/365 of reserve yield:
                                                          (Σ interest + principal received)/NAV0 · ρ·6/365.
    The paths are deterministic, so there is no sampling error."""
    fine = simulate(quiet_scenario(420, 1, loans=4))
    coarse = simulate(quiet_scenario(420, 7, loans=4))
    a = fine.paths["susdai_exchange_ratio_final"].to_numpy()
    b = coarse.paths["susdai_exchange_ratio_final"].to_numpy()
    rho, years = (R_TBILL + INCENTIVE) * (1 - BASE_FEE), 420 / 365
    received = fine.ledger[["interest_paid_usd", "principal_repaid_usd"]].to_numpy().sum() / NAV0
    bound = rho**2 * years * 6 / (2 * 365) + received * rho * 6 / 365
    assert received > 0.1
    assert np.all(np.abs(a - b) <= bound)
    assert not np.allclose(a, b, rtol=1e-9, atol=0)  # the step size matters, a little


# --- every shipped scenario keeps its books -------------------------------------------------------


@pytest.mark.parametrize("name", builtin_names())
def test_shipped_scenario_runs_with_invariant_checks(name: str) -> None:
    """Every built-in scenario, cut to ~60 days and 32 paths, runs with check_invariants=True."""
    scenario, _ = load_scenario(name)
    data = scenario.model_dump()
    step = data["simulation"]["step_days"]
    data["simulation"].update(horizon_days=step * math.ceil(60 / step), paths=32)
    simulate(Scenario.model_validate(data), check_invariants=True)


def test_floating_rate_loans_keep_the_books_balanced() -> None:
    """Floating loans (T-bill + spread, volatile T-bill) charge each period the rate that accrued over it, so
    the interest collected settles exactly the interest accrued: check_invariants=True runs clean."""
    tbill = {
        "model": "vasicek",
        "initial_rate": 0.04,
        "mean_rate": 0.04,
        "kappa_per_year": 0.5,
        "vol_per_sqrt_year": 0.05,
    }
    data = quiet_scenario(60, 1, loans=4, tbill=tbill).model_dump()
    data["borrowers"]["cohorts"][0]["rate_type"] = "floating"
    res = simulate(Scenario.model_validate(data), check_invariants=True)
    assert res.ledger["interest_paid_usd"].sum() > 0


def test_weekly_steps_keep_the_books_balanced() -> None:
    """3-month loans with 7-day steps: payments are collected up to 6 days after their due dates while
    interest keeps accruing; at maturity the accrual past the last date is reversed through the ledger,
    so check_invariants=True runs clean through maturity."""
    data = quiet_scenario(126, 7, loans=4).model_dump()
    data["borrowers"]["cohorts"][0]["term_months"] = 3
    res = simulate(Scenario.model_validate(data), check_invariants=True)
    assert res.ledger["loans_repaid"].sum() == 4


def bank_run_scenario() -> Scenario:
    """No loans (the only request comes after the horizon); every sUSDai and unstaked USDai holder joins a
    redemption wave on day 1 and is paid in full at the day-30 window end; 60 days."""
    data = quiet_scenario(60, 1, loans=1).model_dump()
    data["borrowers"]["cohorts"][0]["origination_day"] = 1000.0
    data["shocks"] = [{"type": "redemption_wave", "fraction_of_supply": 1.0, "start_day": 1.0}]
    return Scenario.model_validate(data)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_bank_run_paid_in_full_is_not_a_loss() -> None:
    """Everyone leaves at NAV_cons per share after a month of yield (price ≈ 1.004): nobody lost anything,
    so no drawdown, no first-loss day and no holder loss. Today the empty vault's price is reported as 1.0:
    max_drawdown ≈ 0.39% and prob_any_drawdown = 1 on every path."""
    res = simulate(bank_run_scenario(), check_invariants=True)
    assert res.ledger["redemptions_usd"].sum() > NAV0
    assert res.summary["prob_any_drawdown"] == 0.0
    assert (res.paths["max_drawdown"] == 0.0).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_fully_redeemed_supply_is_still_fully_backed() -> None:
    """When every USDai has been redeemed, supply = reserves = 0: nothing is unbacked, so the running minimum
    backing ratio stays 1 and the queue's peak share of supply stays finite. Today Recorder._update_extremes
    records reserves / max(supply, 1e-9) = 0 and 0/0 = NaN (seen on bank-run paths that end exactly empty)."""
    m = UsdaiModel(compile_params(bank_run_scenario()), 0, 32)
    for name in ("idle_usd", "reserves_usd", "unstaked_usd"):
        setattr(m.vault, name, np.zeros(32))
    m.depositors.shares[:] = 0.0
    m.total_shares, m.pending_total = m.count_shares()
    m._nav()
    m.day_end = 1.0
    m.recorder.record(m)
    assert np.all(m.recorder.backing_min == 1.0)
    assert not np.isnan(m.recorder.queue_peak_fraction).any()


def test_invariant_checks_run_without_borrowers() -> None:
    """A vault without loans (every cohort empty) can be run with check_invariants=True; today _check raises
    ValueError ('zero-size array to reduction operation maximum') on its negative-balance test."""
    simulate(quiet_scenario(30, 1, loans=0), check_invariants=True)


def test_bank_run_through_partial_fills_keeps_share_totals() -> None:
    """Loans at 80% LTV (3-month term), no unstaked USDai, everyone requests on day 1: the queue is paid in
    partial fills as loans repay, until every share is redeemed. The model's running share totals
    (UsdaiModel.move_shares) then differ from the books by round-off (~1e-8 shares) while the books say 0,
    and _check's tolerance 1e-9·max(total, 1) raises InvariantError ('running share totals disagree') on
    day 90; the tolerance should scale with the shares ever issued (or the totals be recounted)."""
    data = quiet_scenario(120, 1, loans=2).model_dump()
    data["borrowers"]["cohorts"][0].update(term_months=3, requested_ltv=0.8)
    data["shocks"] = [{"type": "redemption_wave", "fraction_of_supply": 1.0, "start_day": 1.0}]
    data["depositors"].update(deposit_rate_per_year=3.0, deposit_hurdle=-10.0, deposit_fraction=1.0)
    data["protocol"]["unstaked_usdai_usd"] = 0.0
    simulate(Scenario.model_validate(data), check_invariants=True)
