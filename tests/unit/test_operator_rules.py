"""Operator economics rules of Borrowers v2 (issue #12 §2, §5) on hand numbers: operating rates, the contract
book (renter defaults, renewal at market), the bounded sponsor support, and Poisson loan arrivals."""

from __future__ import annotations

import numpy as np
import pytest

from usdai_sim.agents import borrowers as br
from usdai_sim.agents.borrowers import BorrowerBook
from usdai_sim.model import UsdaiModel
from usdai_sim.params import BorrowerParams, compile_params
from usdai_sim.scenario.schema import Scenario

A = 33_135.85
"""Level payment of $1,000,000 at 12% APR over 36 months of 30 days (as in test_borrowers.py)."""


def params(**cohort: object) -> BorrowerParams:
    """One borrower with the given cohort settings."""
    spec = {"count": 1, "gpus": 100, "requested_ltv": 0.5, "apr": 0.12, "term_months": 36, **cohort}
    scenario = Scenario.model_validate(
        {"borrowers": {"cohorts": [spec]}, "depositors": {"count": 1}, "markets": {"tbill": {"model": "constant"}}}
    )
    return compile_params(scenario).borrowers


def test_operating_rates_per_gpu_hour() -> None:
    """Contracted share 0.4 at $2.20/h, the rest 80% utilised at $3.00/h spot, 1.3 kW, PUE 1.3, $0.09/kWh,
    idle power 30%, colocation $180/kW-month, overhead $300 and repairs $20 per GPU-month (720 h):
    revenue = 0.4·2.2 + 0.6·0.8·3 = $2.32/h; busy = 0.4 + 0.6·0.8 = 0.88;
    power = 1.3·1.3·0.09·(0.3 + 0.7·0.88) = $0.1393236/h; fixed = (1.3·180 + 300 + 20)/720 = $0.7694444/h;
    opex = $0.9087680/h. A second path at spot $1.00: revenue 0.88 + 0.48 = $1.36/h, opex unchanged."""
    bp = params(
        idle_power_fraction=0.3, pue=1.3, power_usd_per_kwh=0.09, colocation_usd_per_kw_month=180.0,
        overhead_usd_per_gpu_month=300.0, repair_usd_per_gpu_month=20.0,
    )
    revenue, opex = br.operating_rates(
        bp, np.array([[0.4]]), np.array([[2.2]]), np.array([[3.0], [1.0]]), np.array([[0.8]]), np.array([1.3])
    )
    np.testing.assert_allclose(revenue[:, 0], [2.32, 1.36])
    np.testing.assert_allclose(np.broadcast_to(opex, revenue.shape)[:, 0], [0.9087680444, 0.9087680444])


def contract_book(bp: BorrowerParams, n_paths: int, share: float, price: float, **fields: float) -> BorrowerBook:
    """Active loans on ``n_paths`` paths with contracted share ``share`` at ``price`` $/GPU-h and ``fields``."""
    book = BorrowerBook.new(bp, n_paths)
    book.status[:] = br.ACTIVE
    book.contracted_share[:] = share
    book.contract_price_usd_per_gpu_hour[:] = price
    for name, value in fields.items():
        getattr(book, name)[:] = value
    return book


Q = -np.expm1(-3 * 0.1 * (2.0 / 1.5) ** 2 * 30 / 365)
"""One of 3 customers fails within 30 days at h = 0.1·(2.00/1.50)² = 0.177778/yr each: q = 1 − e^{−3·h·30/365}
= 0.0428886."""


def test_contract_book_customer_failure_and_renewal_at_market() -> None:
    """Share s = 0.5 at $2.00/h held by 3 customers, target s* = 0.6, contracts of 10 months, market price
    f·R = 0.75·$2.00 = $1.50/h, 100 GPUs, cash $50,000, 45 receivable days. One 30-day step renews a = 0.1.
    Path 0 (U = 0.01 < q): a customer fails: its part 0.5/3 goes to spot and its unpaid billing
    0.5/3 · 2.00 · 100 · 24 · 45 = $36,000 is lost from cash; kept = (0.5 − 0.5/3)·0.9 = 0.3, signed 0.06,
    s' = 0.36, p' = (0.3·2.00 + 0.06·1.50)/0.36 = $1.9166667/h.
    Path 1 (U = 0.5): no failure: kept 0.45, s' = 0.51, p' = (0.9 + 0.09)/0.51 = $1.9411765/h, cash kept.
    Paths 2 and 3: U just below and just above q. Path 4: a repaid loan is untouched."""
    bp = params(
        contracted_share=0.6, contract_price_fraction=0.75, contract_months=10.0, renter_customers=3,
        receivable_days=45.0, renter_default_rate_per_year=0.1, renter_default_elasticity=2.0,
    )
    book = contract_book(bp, 5, 0.5, 2.0, gpus=100.0, cash_usd=50_000.0)
    book.status[4] = br.REPAID
    uniform = np.array([[0.01], [0.5], [Q * (1 - 1e-9)], [Q * (1 + 1e-9)], [0.0]])
    failed = br.roll_contracts(book, bp, np.full((5, 1), 2.0), 30.0, uniform)
    np.testing.assert_array_equal(failed[:, 0], [True, False, True, False, False])
    np.testing.assert_allclose(book.contracted_share[:, 0], [0.36, 0.51, 0.36, 0.51, 0.5])
    np.testing.assert_allclose(
        book.contract_price_usd_per_gpu_hour[:, 0], [1.9166666667, 1.9411764706, 1.9166666667, 1.9411764706, 2.0]
    )
    np.testing.assert_allclose(book.cash_usd[:, 0], [14_000.0, 50_000.0, 14_000.0, 50_000.0, 50_000.0])


def test_a_failed_customer_cannot_take_cash_below_zero() -> None:
    """Cash $10,000 against $36,000 of unpaid billing: the SPV's cash ends at zero, not negative."""
    bp = params(contracted_share=0.6, contract_price_fraction=0.75, renter_customers=3, receivable_days=45.0)
    book = contract_book(bp, 1, 0.5, 2.0, gpus=100.0, cash_usd=10_000.0)
    br.roll_contracts(book, bp, np.full((1, 1), 2.0), 30.0, np.zeros((1, 1)))
    assert book.cash_usd[0, 0] == 0.0


def test_customer_failures_average_to_the_expected_book() -> None:
    """Over many loans, the mean share after one step is E[s'] = s·(1 − q/n)·(1 − a) + s*·a (module
    docstring), with q = 1 − e^{−n·h·dt/365}: 20,000 loans, n = 4, h = 0.5/yr at a fair price, dt = 30."""
    bp = params(contracted_share=0.6, contract_price_fraction=0.75, contract_months=10.0, renter_customers=4,
                renter_default_rate_per_year=0.5, renter_default_elasticity=2.0)
    n_loans = 20_000
    book = contract_book(bp, n_loans, 0.5, 1.5)
    uniform = np.random.default_rng(7).random((n_loans, 1))
    br.roll_contracts(book, bp, np.full((n_loans, 1), 2.0), 30.0, uniform)
    q = -np.expm1(-4 * 0.5 * 30 / 365)
    expected = 0.5 * (1 - q / 4) * 0.9 + 0.06
    sd = 0.5 / 4 * 0.9 * np.sqrt(q * (1 - q) / n_loans)
    assert abs(book.contracted_share.mean() - expected) < 4 * sd


def test_renters_do_not_default_at_a_fair_price_without_a_base_hazard() -> None:
    """No base hazard: the book only rolls (even at U = 0); a contract at today's market price keeps its price."""
    bp = params(contracted_share=0.5, contract_price_fraction=0.75, contract_months=10.0,
                renter_default_rate_per_year=0.0)
    book = contract_book(bp, 1, 0.5, 1.5)
    br.roll_contracts(book, bp, np.full((1, 1), 2.0), 30.0, np.zeros((1, 1)))
    np.testing.assert_allclose(book.contracted_share, 0.5)
    np.testing.assert_allclose(book.contract_price_usd_per_gpu_hour, 1.5)


def test_sponsor_support_pays_only_when_it_completes_the_payment() -> None:
    """Payment A = $33,135.85 due on day 30, no reserve.
    Path 0: cash 10,000, support left 30,000 → support 23,135.85 completes it: paid, support left 6,864.15.
    Path 1: cash 10,000, support left 20,000 → 30,000 < A: nothing paid, support untouched, grace starts.
    Path 2: cash 40,000 → paid from cash; support left 20,000 untouched.
    Path 3: as path 0 but the owner has walked: pays nothing, support untouched."""
    bp = params(dsra_months=0.0, cash_sweep_above_months=12.0)
    book = BorrowerBook.new(bp, 4)
    book.status[:] = br.ACTIVE
    book.principal_usd[:] = 1e6
    book.apr[:] = 0.12
    book.payments_left[:] = 36
    book.next_due_day[:] = 30.0
    book.cash_usd[:, 0] = [10_000.0, 10_000.0, 40_000.0, 10_000.0]
    book.sponsor_left_usd[:, 0] = [30_000.0, 20_000.0, 20_000.0, 30_000.0]
    book.walked[3, 0] = True
    paid, _ = br.collect(book, bp, 30.0, np.zeros(4), 30.0, np.zeros((4, 1)))
    total = paid.interest_usd[:, 0] + paid.principal_usd[:, 0]
    np.testing.assert_allclose(total, [A, 0.0, A, 0.0], atol=0.005)
    np.testing.assert_allclose(book.sponsor_left_usd[:, 0], [6_864.15, 20_000.0, 20_000.0, 30_000.0], atol=0.005)
    np.testing.assert_allclose(book.cash_usd[:, 0], [0.0, 10_000.0, 40_000.0 - A, 10_000.0], atol=0.005)
    assert np.isfinite(book.grace_until_day[1, 0]) and not np.isfinite(book.grace_until_day[0, 0])


RATE_PER_MONTH, HORIZON_DAYS, ARRIVAL_PATHS = 2.0, 360, 400


def arrivals_model(first_path: int, n_paths: int) -> UsdaiModel:
    """A cohort with no initial loans and 2 requests a month (Poisson), 360 days."""
    scenario = Scenario.model_validate(
        {
            "simulation": {"horizon_days": HORIZON_DAYS, "paths": ARRIVAL_PATHS},
            "borrowers": {"cohorts": [{"count": 0, "arrivals_per_month": RATE_PER_MONTH}]},
            "depositors": {"count": 1},
        }
    )
    return UsdaiModel(compile_params(scenario), first_path, n_paths)


@pytest.fixture(scope="module")
def request_days() -> np.ndarray:
    return arrivals_model(0, ARRIVAL_PATHS).book.request_day


def test_arrival_counts_are_poisson(request_days: np.ndarray) -> None:
    """Requests within 360 days per path: Poisson with mean = variance = 2/30 · 360 = 24. Over 400 paths the
    sample mean has standard error √(24/400) = 0.245: within 4 of them (±0.98); the sample variance (s.e.
    ≈ 24·√(2/399) + excess ≈ 1.8) within ±8, which a fixed spacing (variance 0) fails."""
    counts = (request_days <= HORIZON_DAYS).sum(axis=1)
    assert counts.mean() == pytest.approx(24.0, abs=0.98)
    assert counts.var(ddof=1) == pytest.approx(24.0, abs=8.0)
    assert np.all(np.diff(request_days, axis=1) >= 0)


def test_arrivals_do_not_depend_on_the_block_size(request_days: np.ndarray) -> None:
    """Paths 0–399 in one block or in blocks of 64, 96 and 240 paths get the same request days."""
    blocks = ((0, 64), (64, 96), (160, 240))
    split = np.vstack([arrivals_model(first, n).book.request_day for first, n in blocks])
    np.testing.assert_array_equal(split, request_days)


def test_operator_factor_step_by_hand() -> None:
    """σ = 0.2/√yr over 73 days (0.2 yr), z = 1.5: ε' = 0.1 − ½·0.04·0.2 + 0.2·√0.2·1.5 = 0.2301641;
    σ = 0 leaves ε where it is."""
    from usdai_sim.agents.borrower_kernel import operator_log_step

    assert operator_log_step(0.1, 0.2, 73.0, 1.5) == pytest.approx(0.1 - 0.004 + 0.2 * np.sqrt(0.2) * 1.5, rel=1e-12)
    assert operator_log_step(0.1, 0.0, 73.0, 1.5) == 0.1


def test_operator_factor_is_a_martingale_in_level() -> None:
    """E[e^ε'] = e^ε: 200,000 one-year steps from ε = 0 at σ = 0.4 average to 1 within 4 standard errors."""
    from usdai_sim.agents.borrower_kernel import operator_log_step

    z = np.random.default_rng(11).standard_normal(200_000)
    level = np.exp([operator_log_step(0.0, 0.4, 365.0, float(x)) for x in z])
    assert abs(level.mean() - 1.0) < 4 * level.std() / np.sqrt(z.size)


def test_an_active_operator_earns_the_market_rental_times_its_own_factor() -> None:
    """All-spot operator (s = 0), utilisation 1, 100 GPUs, spot $2.00/h, no costs, σ = 0.5/√yr, one 30-day step
    with z = −1: ε = −½·0.25·30/365 − 0.5·√(30/365) = −0.1536127; revenue 100·720·2·e^ε USD. A pending slot
    keeps ε = 0 and earns nothing; only the active loan's days at risk grow (by 30)."""
    bp = params(contracted_share=0.0, power_usd_per_kwh=0.0, colocation_usd_per_kw_month=0.0,
                overhead_usd_per_gpu_month=0.0, repair_usd_per_gpu_month=0.0, operator_vol_per_sqrt_year=0.5,
                hardware_failure_rate_per_year=0.0)
    book = contract_book(bp, 2, 0.0, 0.0, gpus=100.0)
    book.status[1] = br.PENDING
    terms = br.OperatorTerms.new(bp, np.array([1.2]), 30.0)
    revenue = br.operate_with(book, terms, np.full((2, 1), 2.0), np.ones((2, 1)), np.ones((2, 1)),
                              np.full((2, 1), -1.0))
    eps = -0.5 * 0.25 * 30 / 365 - 0.5 * np.sqrt(30 / 365)
    np.testing.assert_allclose(book.operator_log[:, 0], [eps, 0.0], rtol=1e-12)
    np.testing.assert_allclose(revenue[:, 0], [100 * 720 * 2.0 * np.exp(eps), 0.0], rtol=1e-12)
    np.testing.assert_array_equal(book.active_days[:, 0], [30.0, 0.0])


def test_without_normals_the_operator_factor_stays() -> None:
    """``operate_with`` called without normals (unit tests, the calibration tools) leaves ε unchanged."""
    bp = params(contracted_share=0.0, operator_vol_per_sqrt_year=0.5)
    book = contract_book(bp, 1, 0.0, 0.0, gpus=100.0, operator_log=-0.2)
    br.operate_with(book, br.OperatorTerms.new(bp, np.array([1.2]), 30.0), np.full((1, 1), 2.0),
                    np.ones((1, 1)), np.ones((1, 1)))
    assert book.operator_log[0, 0] == -0.2


def test_contracts_renew_at_the_rental_the_operator_achieves() -> None:
    """Contracts of one month renew the whole book in a 30-day step: target share 0.6 signed at
    f·R·e^ε = 0.75·$2.00·e^ε with ε after the step (σ = 0.5/√yr, z = 1)."""
    bp = params(contracted_share=0.6, contract_price_fraction=0.75, contract_months=1.0,
                renter_default_rate_per_year=0.0, operator_vol_per_sqrt_year=0.5)
    book = contract_book(bp, 1, 0.6, 1.5, gpus=100.0)
    br.operate_with(book, br.OperatorTerms.new(bp, np.array([1.2]), 30.0), np.full((1, 1), 2.0),
                    np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)))
    eps = -0.5 * 0.25 * 30 / 365 + 0.5 * np.sqrt(30 / 365)
    assert book.contracted_share[0, 0] == pytest.approx(0.6)
    assert book.contract_price_usd_per_gpu_hour[0, 0] == pytest.approx(1.5 * np.exp(eps), rel=1e-12)


def test_underwriting_prices_a_loan_at_the_rental_the_owner_achieves() -> None:
    """A returning owner whose own factor is e^ε = 0.5 is underwritten at half the market's spot rental: its
    contract price is f × spot × 0.5 and its revenue rate falls accordingly (the DSCR floor then sees it)."""
    from usdai_sim.model import _loan_terms

    scenario = Scenario.model_validate(
        {"borrowers": {"cohorts": [{"count": 1, "gpus": 100, "contracted_share": 0.0}]}, "depositors": {"count": 1},
         "markets": {"tbill": {"model": "constant"}}, "simulation": {"paths": 1}}
    )
    m = UsdaiModel(compile_params(scenario), 0, 1)
    rows, cols = np.array([0]), np.array([0])
    spot = m.market.rental_usd_per_gpu_hour[0, m.params.borrowers.class_index[0]]
    before = _loan_terms(m, rows, cols, m.params.borrowers.take(rows, cols), np.array([1e6]))
    m.book.operator_log[0, 0] = np.log(0.5)
    after = _loan_terms(m, rows, cols, m.params.borrowers.take(rows, cols), np.array([1e6]))
    assert after.contract_price_usd_per_gpu_hour[0] == pytest.approx(0.75 * spot * 0.5, rel=1e-12)
    assert before.contract_price_usd_per_gpu_hour[0] == pytest.approx(0.75 * spot, rel=1e-12)
    assert after.revenue_usd_per_gpu_hour[0] == pytest.approx(0.5 * before.revenue_usd_per_gpu_hour[0], rel=1e-12)


def test_a_step_of_operations_fails_the_customer_its_uniform_says() -> None:
    """``operate_with`` passes each loan its own uniform to the contract book: U = 0 fails one of 3 customers
    (share 0.6 → 0.4 before renewal), U just below 1 fails none (contracts of 120 months barely renew)."""
    bp = params(contracted_share=0.6, contract_price_fraction=0.75, contract_months=120.0, renter_customers=3,
                renter_default_rate_per_year=0.5, receivable_days=0.0)
    book = contract_book(bp, 2, 0.6, 1.5, gpus=100.0)
    br.operate_with(book, br.OperatorTerms.new(bp, np.array([1.2]), 1.0), np.full((2, 1), 2.0), np.ones((2, 1)),
                    np.array([[0.0], [1.0 - 1e-12]]))
    renew = 1.0 / (30 * 120)
    np.testing.assert_allclose(book.contracted_share[:, 0],
                               [0.4 * (1 - renew) + 0.6 * renew, 0.6 * (1 - renew) + 0.6 * renew], rtol=1e-12)


def test_operator_step_is_the_gbm_log_step_without_drift() -> None:
    """The kernel's scalar step equals ``market.gpu.log_factor_step`` (the numpy rule every other log factor
    uses) with μ = 0, on random states, volatilities, step lengths and normals."""
    from usdai_sim.agents.borrower_kernel import operator_log_step
    from usdai_sim.market.gpu import log_factor_step

    rng = np.random.default_rng(3)
    for eps, vol, days, z in zip(rng.normal(0, 1, 50), rng.uniform(0, 3, 50), rng.uniform(0.5, 60, 50),
                                 rng.normal(0, 1, 50), strict=True):
        want = float(log_factor_step(eps, 0.0, vol, days / 365.0, z))
        assert operator_log_step(eps, vol, days, z) == pytest.approx(want, rel=1e-14, abs=1e-15)


def test_customer_fails_is_u_below_q_for_every_uniform() -> None:
    """The bounded shortcut decides exactly U < q: uniforms at q and one ulp either side, at and around the
    bound, for prices below and above the market, fractional, zero and large elasticities and a zero hazard;
    the bound is never below q."""
    from usdai_sim.agents.borrower_kernel import customer_fails, customer_failure_bound, customer_failure_probability

    rng = np.random.default_rng(17)
    cases = [(0.8, 0.03, 2.0, 3.0), (0.8, 0.5, 2.5, 3.0), (1.7, 0.5, 2.5, 1.0), (1.2, 0.03, 0.0, 7.0),
             (0.0, 0.03, 2.0, 3.0), (3.0, 1.0, 10.0, 1000.0), (1.0, 0.0, 2.0, 3.0), (50.0, 0.03, 10.0, 3.0),
             (1.0, 1e-12, 2.0, 3.0)]  # q within round-off of its bound: only the slack keeps U = q − 1 ulp
    for over, h0, k, n in cases:
        q = customer_failure_probability(over, h0, k, n, 1.0)
        bound = customer_failure_bound(over, h0, k, n, 1.0)
        assert bound >= q
        near = [q, np.nextafter(q, 0.0), np.nextafter(q, 1.0), bound, np.nextafter(bound, 0.0), 0.0]
        for u in [*near, *rng.uniform(0.0, min(2.0 * bound, 1.0), 200)]:
            u = min(float(u), np.nextafter(1.0, 0.0))
            assert customer_fails(u, over, h0, k, n, 1.0) == (u < q), (over, h0, k, n, u)
