"""GPU operators' rules (usdai_sim.agents.borrowers) on hand-set loans, numbers worked out by hand.

Every test uses one borrower (a $1,000,000 loan at 12% APR unless said otherwise; i = 0.12·30/365,
level payment A = $33,135.85 = $9,863.01 interest + $23,272.84 principal) on a few paths, each path a
different situation. Grace period 30 days, grace premium 5% APR.
"""

import numpy as np
import pytest

from usdai_sim.agents import borrowers as br
from usdai_sim.agents.borrowers import BorrowerBook
from usdai_sim.model import UsdaiModel
from usdai_sim.params import BorrowerParams, compile_params
from usdai_sim.scenario.schema import Scenario

GRACE_DAYS = 30.0
PREMIUM = 0.05
A, A_INTEREST, A_PRINCIPAL = 33_135.85, 9_863.01, 23_272.84
CENT = 0.005
TBILL = np.zeros(3)


def params(**cohort: object) -> BorrowerParams:
    """One borrower with the given cohort settings (DSRA 3 months, sweep 3 months unless overridden)."""
    spec = {"count": 1, "gpus": 100, "requested_ltv": 0.5, "apr": 0.12, "term_months": 36, **cohort}
    scenario = Scenario.model_validate(
        {
            "borrowers": {"cohorts": [spec]},
            "depositors": {"count": 1},
            "markets": {"tbill": {"model": "constant"}},
        }
    )
    return compile_params(scenario).borrowers


def loan_book(bp: BorrowerParams, n_paths: int = 3, principal: float = 1e6, left: int = 36) -> BorrowerBook:
    """An active loan on every path, first payment due on day 30, no cash, no reserve."""
    book = BorrowerBook.new(bp, n_paths)
    book.status[:] = br.ACTIVE
    book.principal_usd[:] = principal
    book.apr[:] = 0.12
    book.payments_left[:] = left
    book.next_due_day[:] = 30.0
    return book


def collect(book: BorrowerBook, bp: BorrowerParams, day: float, collateral: float = 0.0) -> br.Payments:
    """Run the payment rule on day ``day``; returns what the lender received."""
    paid, _ = br.collect(
        book, bp, day, TBILL[: book.status.shape[0]], GRACE_DAYS, np.full(book.status.shape, collateral)
    )
    return paid


def test_payment_taken_from_cash_then_reserve() -> None:
    """Path 0: cash $20,000, reserve $100,000 → cash pays 20,000, reserve 13,135.85 → reserve $86,864.15.
    Path 1: cash $50,000 → pays all; 16,864.15 left, below the 3-month reserve target, so it tops up
    the reserve: 0 + 16,864.15 → cash 0. Path 2: reserve only $40,000 → 6,864.15 left."""
    bp = params()
    book = loan_book(bp)
    book.cash_usd[:, 0] = [20_000.0, 50_000.0, 0.0]
    book.dsra_usd[:, 0] = [100_000.0, 0.0, 40_000.0]
    paid = collect(book, bp, 30.0)
    np.testing.assert_allclose(paid.interest_usd[:, 0], A_INTEREST, atol=CENT)
    np.testing.assert_allclose(paid.principal_usd[:, 0], A_PRINCIPAL, atol=CENT)
    np.testing.assert_allclose(book.dsra_usd[:, 0], [86_864.15, 16_864.15, 6_864.15], atol=CENT)
    np.testing.assert_allclose(book.cash_usd[:, 0], 0.0, atol=1e-9)
    np.testing.assert_allclose(book.principal_usd[:, 0], 1e6 - A_PRINCIPAL, atol=CENT)
    assert book.payments_left[:, 0].tolist() == [35] * 3
    assert book.next_due_day[:, 0].tolist() == [60.0] * 3


def test_nothing_due_before_the_date() -> None:
    """On day 29 nothing is due: no payment, no grace."""
    bp = params()
    book = loan_book(bp)
    book.cash_usd[:] = 1e6
    paid = collect(book, bp, 29.0)
    assert paid.interest_usd.sum() == 0.0 and paid.principal_usd.sum() == 0.0
    assert not np.isfinite(book.grace_until_day).any()


def test_miss_starts_grace_at_due_plus_grace_days() -> None:
    """$33,000 of cash + reserve < $33,135.85: missed; grace until day 30 + 30 = 60; balance unchanged."""
    bp = params()
    book = loan_book(bp)
    book.cash_usd[:] = 20_000.0
    book.dsra_usd[:] = 13_000.0
    paid = collect(book, bp, 30.0)
    assert paid.principal_usd.sum() == 0.0
    assert book.grace_until_day[:, 0].tolist() == [60.0] * 3
    assert book.principal_usd[:, 0].tolist() == [1e6] * 3
    assert book.cash_usd[0, 0] == 20_000.0 and book.dsra_usd[0, 0] == 13_000.0


def test_late_interest_accrues_on_the_missed_payment() -> None:
    """In grace for 10 days: 33,135.85 × (0.12 + 0.05) × 10/365 = $154.33 of grace interest
    (and the ordinary accrual 1,000,000 × 0.12 × 10/365 = $3,287.67)."""
    bp = params()
    book = loan_book(bp)
    collect(book, bp, 30.0)
    accrued = br.accrue(book, bp, PREMIUM, 10.0)
    np.testing.assert_allclose(book.late_interest_usd[:, 0], 154.33, atol=CENT)
    np.testing.assert_allclose(accrued[:, 0], 3_287.67, atol=CENT)


def test_cure_pays_missed_amount_with_late_interest_and_clears_grace() -> None:
    """Missed on day 30; 10 days' grace interest $154.33; cash arrives; on day 40 it pays
    33,135.85 + 154.33 = $33,290.18; grace ends, the next date is day 60."""
    bp = params()
    book = loan_book(bp)
    collect(book, bp, 30.0)
    br.accrue(book, bp, PREMIUM, 10.0)
    book.cash_usd[:] = 33_290.18 + 1.0
    paid = collect(book, bp, 40.0)
    np.testing.assert_allclose(paid.late_interest_usd[:, 0], 154.33, atol=CENT)
    np.testing.assert_allclose(paid.interest_usd[:, 0] + paid.principal_usd[:, 0], A, atol=CENT)
    assert not np.isfinite(book.grace_until_day).any()
    assert book.late_interest_usd.sum() == 0.0
    assert book.next_due_day[:, 0].tolist() == [60.0] * 3


def test_grace_expiry_routes_a_payment_default() -> None:
    """Still unpaid on day 60 = grace end: default route 'payment'; on day 59 no default yet."""
    bp = params()
    book = loan_book(bp)
    collect(book, bp, 30.0)
    none = np.zeros(book.status.shape)
    assert br.default_routes(book, bp, np.full(none.shape, 1e9), 59.0, none, none + 0.5, False).sum() == 0
    route = br.default_routes(book, bp, np.full(none.shape, 1e9), 60.0, none, none + 0.5, False)
    assert route[:, 0].tolist() == [br.ROUTE_PAYMENT] * 3


def test_balloon_is_refinanced_up_to_refinance_ltv_times_collateral() -> None:
    """Interest-only, 0% APR, last payment $1,000,000 due, refinance_ltv 0.8. Path 0: collateral $1.5M →
    new lender advances the full $1M → repaid. Path 1: collateral $1.2M → at most $960,000 → missed.
    Path 2: collateral $1.2M plus $50,000 cash → 50,000 + 950,000 → repaid."""
    bp = params(amortisation="interest_only", apr=0.0, refinance_ltv=0.8)
    book = loan_book(bp, left=1)
    book.apr[:] = 0.0
    book.cash_usd[:, 0] = [0.0, 0.0, 50_000.0]
    paid, matured = br.collect(book, bp, 30.0, TBILL, GRACE_DAYS, np.array([[1.5e6], [1.2e6], [1.2e6]]))
    assert paid.principal_usd[:, 0].tolist() == [1e6, 0.0, 1e6]
    assert matured[:, 0].tolist() == [True, False, True]
    assert book.status[:, 0].tolist() == [br.REPAID, br.ACTIVE, br.REPAID]
    assert book.grace_until_day[1, 0] == 60.0
    assert paid.paths.tolist() == [0, 2]  # the paths on which a loan paid; the missed path is not one
    np.testing.assert_array_equal(paid.per_path(paid.principal_usd), paid.principal_usd.sum(axis=1))


def test_refinancing_only_for_the_final_payment() -> None:
    """A non-final payment is not refinanced, however large the collateral."""
    bp = params(refinance_ltv=1.0)
    book = loan_book(bp)
    paid = collect(book, bp, 30.0, collateral=1e9)
    assert paid.principal_usd.sum() == 0.0
    assert np.isfinite(book.grace_until_day).all()


def test_operating_cash_flow_hand_computed() -> None:
    """1 GPU, 1 day: contracted share 0.5 at $2/h, the rest 80% utilised at $3/h spot →
    revenue 24·(0.5·2 + 0.5·0.8·3) = $52.80; busy share 0.9, power 1.2 kW·PUE 1.25·$0.08·(0.3 + 0.7·0.9)
    = $0.1116/h, colocation $120/kW-month·1.2 kW/720 h = $0.2/h, overhead $20 + repairs $10 a month:
    opex 24·(0.1116 + 0.2) + 30/30 = $8.4784; cash +$44.3216. Contracts renew at 2/3 × $3 = $2 (the
    price does not move) and renters do not default."""
    bp = params(
        gpus=1,
        contracted_share=0.5,
        contract_price_fraction=2.0 / 3.0,
        renter_default_rate_per_year=0.0,
        power_usd_per_kwh=0.08,
        pue=1.25,
        colocation_usd_per_kw_month=120.0,
        overhead_usd_per_gpu_month=20.0,
        repair_usd_per_gpu_month=10.0,
        idle_power_fraction=0.3,
        hardware_failure_rate_per_year=0.0,
    )
    book = loan_book(bp, n_paths=1)
    book.contract_price_usd_per_gpu_hour[:] = 2.0
    revenue = br.operate(book, bp, np.array([[3.0]]), np.array([[0.8]]), np.array([1.2]), 1.0, np.ones((1, 1)))
    assert revenue[0, 0] == pytest.approx(52.8, rel=1e-12)
    assert book.cash_usd[0, 0] == pytest.approx(44.3216, rel=1e-12)


def test_hardware_failure_shrinks_the_fleet() -> None:
    """9%/yr failure over 365 days: 100 GPUs → 100·e^−0.09 = 91.393."""
    bp = params(hardware_failure_rate_per_year=0.09)
    book = loan_book(bp, n_paths=1)
    br.operate(book, bp, np.zeros((1, 1)), np.zeros((1, 1)), np.array([1.2]), 365.0, np.ones((1, 1)))
    assert book.gpus[0, 0] == pytest.approx(91.393, abs=5e-4)


def test_covenant_breach_cured_from_cash_or_clock_started() -> None:
    """Maintenance LTV 0.7 on $1.2M collateral: limit $840,000, excess $160,000. Path 0 has $200,000 cash →
    prepays 160,000; path 1 has $100,000 → breach, cure deadline day 10 + 30 = 40."""
    bp = params(maintenance_ltv=0.7, covenant_cure_days=30)
    book = loan_book(bp, n_paths=2)
    book.cash_usd[:, 0] = [200_000.0, 100_000.0]
    prepaid = br.covenant_check(book, bp, np.full((2, 1), 1.2e6), 10.0)
    assert prepaid[:, 0].tolist() == pytest.approx([160_000.0, 0.0])
    assert book.principal_usd[:, 0].tolist() == pytest.approx([840_000.0, 1e6])
    assert book.breach_until_day[:, 0].tolist() == [np.inf, 40.0]


def test_default_route_priority_and_strategic_walk() -> None:
    """Fraud beats payment; under the collateral barrier, collateral $400k < walk ratio 0.5 × $1M → strategic;
    $600k → no default."""
    bp = params(strategic_walk_ratio=0.5)
    book = loan_book(bp, n_paths=3)
    book.grace_until_day[0, 0] = 50.0
    fraud_u = np.array([[0.0], [1.0], [1.0]])
    collateral = np.array([[1e9], [4e5], [6e5]])
    route = br.default_routes(book, bp, collateral, 60.0, np.full((3, 1), 0.5), fraud_u, True)
    assert route[:, 0].tolist() == [br.ROUTE_FRAUD, br.ROUTE_STRATEGIC, 0]


def test_start_defaults_freezes_the_claim() -> None:
    """Default with $5,000 accrued and $100 grace interest: claim $5,100, accrual reversed $5,000,
    exposure = principal; fraud removes the missing fraction of the fleet."""
    bp = params(fraud_rate_per_year=0.0)
    book = loan_book(bp, n_paths=2)
    book.accrued_usd[:] = 5_000.0
    book.late_interest_usd[:] = 100.0
    route = np.array([[br.ROUTE_PAYMENT], [br.ROUTE_FRAUD]], dtype=np.int8)
    reversed_usd = br.start_defaults(book, bp, route, 70.0, 30.0)
    assert reversed_usd[:, 0].tolist() == [5_000.0, 5_000.0]
    assert book.claim_interest_usd[:, 0].tolist() == [5_100.0, 5_100.0]
    assert book.ead_usd[:, 0].tolist() == [1e6, 1e6]
    assert book.sale_day[:, 0].tolist() == [100.0, 100.0]
    assert book.gpus[0, 0] == 100.0
    assert book.gpus[1, 0] == pytest.approx(100.0 * (1.0 - bp.fraud_missing_fraction[0]))


def late_bullet_model() -> UsdaiModel:
    """One path: a one-month bullet loan at 12% (balloon due day 30), no cash, reserve or refinancing."""
    scenario = Scenario.model_validate(
        {
            "simulation": {"horizon_days": 60, "paths": 1},
            "markets": {"tbill": {"model": "constant"}},
            "borrowers": {
                "cohorts": [
                    {
                        "count": 1,
                        "gpus": 100,
                        "requested_ltv": 0.5,
                        "apr": 0.12,
                        "term_months": 1,
                        "amortisation": "interest_only",
                        "initial_cash_months": 0.0,
                        "dsra_months": 0.0,
                        "refinance_ltv": 0.0,
                        "strategic_walk_ratio": 0.0,
                        "fraud_rate_per_year": 0.0,
                        "contracted_share": 0.0,
                        "utilisation_level": 0.0,
                        "sponsor_support_months": 0.0,
                    }
                ],
                "refinance_at_maturity": False,
            },
            "depositors": {"count": 1},
            "protocol": {"allocation": {"min_dscr": None}},
        }
    )
    return UsdaiModel(compile_params(scenario), 0, 1, check_invariants=True)


def test_late_final_payment_keeps_the_books_balanced() -> None:
    """The balloon due on day 30 is missed (no cash); on day 32 the sponsor injects cash and on day 33 the
    loan is repaid in grace. Interest accrued for 33 days, the schedule collects 30 (plus grace interest);
    the 3 days' accrual past the last date must leave NAV_opt through the ledger (accrued_reversed_usd),
    so the model's invariant check (check_invariants=True) passes and nothing accrued stays behind."""
    m = late_bullet_model()
    for _ in range(32):
        m.step()
    assert np.isfinite(m.book.grace_until_day[0, 0])
    m.book.cash_usd[0, 0] = 2 * m.book.principal_usd[0, 0]
    m.step()
    assert m.book.status[0, 0] == br.REPAID
    assert m.book.accrued_usd[0, 0] == 0.0
    assert m.ledger["accrued_reversed_usd"][0] == pytest.approx(m.book.originated_usd[0, 0] * 0.12 * 3 / 365)


def test_payment_date_is_the_numpy_mask() -> None:
    """``payment_date`` is exactly: active, not in grace, next_due_day ≤ day (ties included)."""
    from usdai_sim.agents.borrower_kernel import payment_date

    rng = np.random.default_rng(3)
    status = rng.integers(0, 6, (6, 25)).astype(np.int8)
    grace = np.where(rng.random(status.shape) < 0.2, 40.0, np.inf)
    due_day = rng.choice([20.0, 30.0, 31.0], status.shape)
    got = np.array([[payment_date(status[p, b], grace[p, b], due_day[p, b], 30.0) for b in range(25)]
                    for p in range(6)])
    expected = (status == br.ACTIVE) & ~np.isfinite(grace) & (due_day <= 30.0)
    np.testing.assert_array_equal(got, expected)
    assert expected.any() and np.any(due_day[expected] == 30.0)


def test_fraud_chances_decide_exactly_what_the_dense_probability_decides() -> None:
    """U < fraud_chances is U < p (p = 1 − e^{−λ·m·dt/365} on every loan) for uniforms drawn at, one ulp
    either side of, and well above p; chances are p exactly (not approximately) where they are not 0."""
    rng = np.random.default_rng(9)
    rate = rng.uniform(0.0, 2.0, (5, 30))
    rate[0, :4] = 0.0
    rate[1] = np.geomspace(1e-14, 1e-9, rate.shape[1])  # 1 − e^{−x} rounds to a multiple of 2⁻⁵³: above x
    multiplier = np.array([1.0, 20.0, 5.0, 1.0, 0.5])
    p = br.fraud_probability(rate, multiplier[:, None], 30.0)
    for u in (p, np.nextafter(p, 0.0), np.nextafter(p, 1.0), rng.uniform(0.0, 1.0, p.shape), np.zeros(p.shape)):
        chances = br.fraud_chances(rate, multiplier, u, 30.0)
        np.testing.assert_array_equal(u < chances, u < p)
        np.testing.assert_array_equal(chances[chances > 0], p[chances > 0])
    row_rate = rate[0]  # one rate per borrower broadcasts over paths
    u = np.nextafter(br.fraud_probability(row_rate, multiplier[:, None], 1.0), 0.0)
    expected = row_rate[None, :] * multiplier[:, None] > 0
    assert np.array_equal(u < br.fraud_chances(row_rate, multiplier, u, 1.0), expected)


def test_requests_due_split_the_pending_asked_requests_into_lapsed_and_wanting() -> None:
    """One scan gives the numpy rule's two sets, row-major: lapsed = pending & day > asked + patience; wanting
    = pending & asked ≤ day & not lapsed (a request asked exactly `patience` days ago still wants; one dated
    after today is neither)."""
    from usdai_sim.agents.borrower_kernel import requests_due

    rng = np.random.default_rng(4)
    status = rng.choice([br.PENDING, br.ACTIVE, br.LAPSED], (5, 30)).astype(np.int8)
    asked = rng.choice([0.0, 10.0, 40.0, 100.0, 130.0], status.shape)
    day, patience = 100.0, 90.0
    lapsed_rows, lapsed_cols, rows, cols = requests_due(status, asked, day, patience)
    pending = status == br.PENDING
    lapsed = pending & (day > asked + patience)
    wanting = pending & ~lapsed & (asked <= day)
    np.testing.assert_array_equal(np.stack([lapsed_rows, lapsed_cols]), np.stack(np.nonzero(lapsed)))
    np.testing.assert_array_equal(np.stack([rows, cols]), np.stack(np.nonzero(wanting)))
    assert lapsed.any() and wanting.any() and np.any(wanting & (asked == day - patience))
