"""Edges of the loan rules of ``borrower_kernel`` (payment, reserve and sweep, walk, route, year on book, the loan
pass's collateral and days at risk, the contract roll), numbers worked out by hand; several borrowers and paths
where a rule must read each loan's own value. Written against the mutants mutation testing left alive.

Loans as in ``test_borrowers``: $1,000,000 at 12% APR over 36 payments unless said otherwise (i = 0.12·30/365;
level payment A = $33,135.85 = $9,863.01 interest + $23,272.84 principal), first payment due on day 30.
"""

from dataclasses import replace

import numpy as np
import pytest

from tests.unit.test_borrowers import A_PRINCIPAL, GRACE_DAYS, A, loan_book, params
from usdai_sim.agents import borrower_kernel as bk
from usdai_sim.agents import borrowers as br
from usdai_sim.agents import default_option as do

INTEREST = 1e6 * 0.12 * 30 / 365  # 9,863.0137: the first payment's interest, unrounded
TIGHT = 1e-6


def pay(book: br.BorrowerBook, bp: object, day: float, tbill: float | list[float] = 0.0,
        collateral: float = 0.0) -> tuple[br.Payments, np.ndarray]:
    tbills = np.broadcast_to(np.asarray(tbill, float), book.status.shape[:1]).copy()
    return br.collect(book, bp, day, tbills, GRACE_DAYS, np.full(book.status.shape, collateral))  # type: ignore[arg-type]


def test_accrued_interest_falls_by_the_interest_paid_floored_at_zero() -> None:
    """Accrued $12,000 → 12,000 − 9,863.01 = $2,136.99 left; accrued $5,000 → 0, not negative (nor 1)."""
    bp = params()
    book = loan_book(bp, n_paths=2)
    book.cash_usd[:] = 1e6
    book.accrued_usd[:, 0] = [12_000.0, 5_000.0]
    pay(book, bp, 30.0)
    np.testing.assert_allclose(book.accrued_usd[:, 0], [12_000.0 - INTEREST, 0.0], atol=TIGHT)


def test_overdue_payment_is_the_amount_fixed_at_its_date_plus_late_interest() -> None:
    """In grace since day 30 with $9,000 interest and $20,000 principal fixed then and $1,000 of late interest:
    on day 40 the owner owes 30,000 and has exactly that in cash → paid, nothing left for the reserve; the amounts
    are not recomputed from today's balance (which would ask A = $33,135.85 and miss)."""
    bp = params()
    book = loan_book(bp, n_paths=1)
    book.grace_until_day[:] = 60.0
    book.due_interest_usd[:], book.due_principal_usd[:], book.late_interest_usd[:] = 9_000.0, 20_000.0, 1_000.0
    book.cash_usd[:] = 30_000.0
    paid, _ = pay(book, bp, 40.0)
    assert (paid.interest_usd[0, 0], paid.principal_usd[0, 0], paid.late_interest_usd[0, 0]) == (9e3, 2e4, 1e3)
    assert book.principal_usd[0, 0] == 980_000.0 and book.late_interest_usd[0, 0] == 0.0
    assert book.cash_usd[0, 0] == 0.0 and book.dsra_usd[0, 0] == 0.0
    assert book.grace_until_day[0, 0] == np.inf and book.next_due_day[0, 0] == 60.0


def test_sponsor_support_covers_only_what_cash_and_reserve_do_not() -> None:
    """Cash $10,000 + reserve $10,000 against A: the sponsor adds 33,135.85 − 20,000 = $13,135.85 of its $50,000,
    then cash and reserve are spent: $36,864.15 of support left, nothing negative."""
    bp = params()
    book = loan_book(bp, n_paths=1)
    book.cash_usd[:], book.dsra_usd[:], book.sponsor_left_usd[:] = 10_000.0, 10_000.0, 50_000.0
    paid, _ = pay(book, bp, 30.0)
    assert paid.principal_usd[0, 0] == pytest.approx(A_PRINCIPAL, abs=0.005)
    assert book.sponsor_left_usd[0, 0] == pytest.approx(50_000.0 - (A - 20_000.0), abs=0.005)
    assert book.cash_usd[0, 0] == pytest.approx(0.0, abs=TIGHT) and book.dsra_usd[0, 0] == pytest.approx(0.0, abs=TIGHT)


def test_final_balloon_refinanced_then_supported_and_no_more() -> None:
    """Interest-only, 0% APR, the $1,000,000 balloon due, refinance LTV 0.8 on $1.2M of collateral. Path 0: no cash,
    $100,000 of support: the new lender advances $960,000, the sponsor the other $40,000 (60,000 left), nothing
    is left in cash. Path 1: $1.5M of cash: nothing is refinanced, $500,000 stays in cash."""
    bp = params(amortisation="interest_only", apr=0.0, refinance_ltv=0.8)
    book = loan_book(bp, n_paths=2, left=1)
    book.apr[:] = 0.0
    book.sponsor_left_usd[:, 0] = [100_000.0, 0.0]
    book.cash_usd[:, 0] = [0.0, 1.5e6]
    paid, matured = pay(book, bp, 30.0, collateral=1.2e6)
    assert paid.principal_usd[:, 0].tolist() == [1e6, 1e6] and matured[:, 0].all()
    assert book.sponsor_left_usd[0, 0] == 60_000.0
    assert book.cash_usd[:, 0].tolist() == [0.0, 500_000.0] and book.dsra_usd[:, 0].tolist() == [0.0, 0.0]


def test_the_last_but_one_payment_is_not_refinanced() -> None:
    """Two payments left, no cash, collateral $1B at refinance LTV 1: the payment is missed (grace to day 60)."""
    bp = params(refinance_ltv=1.0)
    book = loan_book(bp, n_paths=1, left=2)
    paid, _ = pay(book, bp, 30.0, collateral=1e9)
    assert paid.principal_usd.sum() == 0.0 and book.grace_until_day[0, 0] == 60.0


def test_interest_only_pays_interest_and_reserves_against_interest() -> None:
    """Interest-only at 12% with $100,000 cash: pays $9,863.01 of interest and no principal; the reserve is topped up
    to 3 × 9,863.01 = $29,589.04 and cash above 3 months of payments (the same) swept."""
    bp = params(amortisation="interest_only")
    book = loan_book(bp, n_paths=1)
    book.cash_usd[:] = 100_000.0
    paid, _ = pay(book, bp, 30.0)
    assert paid.interest_usd[0, 0] == pytest.approx(INTEREST, abs=TIGHT) and paid.principal_usd[0, 0] == 0.0
    assert book.principal_usd[0, 0] == 1e6
    assert book.dsra_usd[0, 0] == pytest.approx(3 * INTEREST, abs=TIGHT)
    assert book.cash_usd[0, 0] == pytest.approx(3 * INTEREST, abs=TIGHT)


def test_reserve_topped_up_from_what_it_holds_to_three_payments_then_cash_swept() -> None:
    """Cash $200,000, reserve $50,000: A is paid from cash (166,864.15 left); the reserve takes 3A − 50,000 =
    $49,407.55 to reach 3A = $99,407.55 (the next level payment is A again); cash above 3A is swept."""
    bp = params()
    book = loan_book(bp, n_paths=1)
    book.cash_usd[:], book.dsra_usd[:] = 200_000.0, 50_000.0
    pay(book, bp, 30.0)
    assert book.dsra_usd[0, 0] == pytest.approx(3 * A, abs=0.02)
    assert book.cash_usd[0, 0] == pytest.approx(3 * A, abs=0.02)


def test_floating_rate_resets_to_each_paths_tbill_plus_its_own_spread() -> None:
    """Two floating borrowers (spreads 3% and 5%; refinance LTV 0.6 is not a spread) on T-bills of 4% and 5%: the
    day-30 payment is fixed at the 12% that accrued, then each APR resets to T-bill + spread."""
    bp = params(count=2, rate_type="floating", floating_spread={"low": 0.03, "high": 0.05})
    bp.floating_spread[:] = [0.03, 0.05]
    book = loan_book(bp, n_paths=2)
    book.cash_usd[:] = 1e6
    paid, _ = pay(book, bp, 30.0, tbill=[0.04, 0.05])
    np.testing.assert_allclose(paid.interest_usd, INTEREST, atol=TIGHT)
    np.testing.assert_allclose(book.apr, [[0.07, 0.09], [0.08, 0.10]], atol=1e-15)


def test_walk_reads_small_revenues_and_one_row_tables() -> None:
    """A cohort whose table has one payment row (x_B = 0.6 everywhere) and revenue at origination $0.5 a year: a
    revenue now of $0.1 is a factor 0.2 < 0.6 → the owner walks (x = ∞ is kept for a zero revenue at origination)."""
    bp = params()
    book = loan_book(bp, n_paths=2)
    book.revenue0_usd_per_year[:, 0] = [0.5, 0.0]
    book.revenue_usd_per_year[:, 0] = [0.1, 0.1]
    table = do.BoundaryTable(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.full((1, 2, 2), 0.6))
    walk = br.decide_walk(book, bp, 30.0, [table])
    assert walk[:, 0].tolist() == [True, False]
    assert book.default_state[0, 0] == pytest.approx(0.2) and book.default_boundary[0, 0] == 0.6


def test_floating_spread_drawn_per_path_is_read_per_loan() -> None:
    """Spreads drawn per path and borrower ((paths, borrowers), as a work block holds them): each loan resets to
    its path's T-bill plus its own spread."""
    bp = params(count=2, rate_type="floating", floating_spread={"low": 0.01, "high": 0.05})
    bp = replace(bp, floating_spread=np.array([[0.01, 0.02], [0.03, 0.04]]))
    book = loan_book(bp, n_paths=2)
    book.cash_usd[:] = 1e6
    pay(book, bp, 30.0, tbill=[0.04, 0.05])
    np.testing.assert_allclose(book.apr, [[0.05, 0.06], [0.08, 0.09]], atol=1e-15)


def test_two_borrowers_balloons_each_against_its_own_collateral() -> None:
    """Two borrowers' balloons (interest-only, 0%, refinance LTV 0.8), no cash: collateral $1.5M refinances the
    $1M in full; $1.2M only $960,000 → missed."""
    bp = params(count=2, amortisation="interest_only", apr=0.0, refinance_ltv=0.8)
    book = loan_book(bp, n_paths=1, left=1)
    book.apr[:] = 0.0
    paid, matured = br.collect(book, bp, 30.0, np.zeros(1), GRACE_DAYS, np.array([[1.5e6, 1.2e6]]))
    assert paid.principal_usd[0].tolist() == [1e6, 0.0] and matured[0].tolist() == [True, False]


def test_a_zero_fraud_chance_never_fires_even_at_a_zero_uniform() -> None:
    """U < p is strict: with p = 0 a uniform of exactly 0 is not a fraud (nor any other route here)."""
    bp = params()
    book = loan_book(bp, n_paths=1)
    route = br.default_routes(book, bp, np.full((1, 1), 1e9), 10.0, np.zeros((1, 1)), np.zeros((1, 1)), False)
    assert route[0, 0] == 0


@pytest.mark.parametrize(("term", "left", "year"), [(36, 36, 0), (36, 25, 0), (36, 24, 1), (60, 12, 4), (60, 0, 4),
                                                     (72, 12, 4), (36, 40, 0)])
def test_year_on_book_is_payments_made_over_twelve_clipped(term: int, left: int, year: int) -> None:
    """Payments made = term − left; the bin is made // 12 clipped to 0..4 (a 5th year and later share bin 4)."""
    assert int(bk.year_on_book(np.int64(term), np.int64(left))) == year


def test_the_loan_pass_values_each_fleet_and_counts_days_at_risk_by_year() -> None:
    """Two borrowers, one path, a 365-day step with 9%/yr hardware loss: 100 GPUs → 100·e^−0.09 = 91.393 each,
    valued at $20,000 and $10,000 a GPU → collateral $1,827,866 and $913,933. Both have 36 payments left: the
    36-month loan is in its first year, the 60-month one in its third: 365 more days at risk in bins 0 and 2 (which
    held 100 and 50)."""
    bp = params(count=2, hardware_failure_rate_per_year=0.09)
    bp = replace(bp, term_payments=np.array([36, 60]))
    book = loan_book(bp, n_paths=1)
    book.payments_left[0] = [36, 36]
    terms = br.OperatorTerms.new(bp, np.full(2, 1.2), 365.0)
    market = br.LoanMarket(np.zeros((1, 2)), np.zeros((1, 2)), np.array([[20_000.0, 10_000.0]]), 0.0,
                           np.ones((1, 2)), np.zeros((1, 2)))
    days = np.array([[100.0, 0.0, 50.0, 0.0, 0.0]])
    step = br.step_loans(book, bp, terms, market, br.StepRules(day=365.0, dt_days=365.0), do.BoundaryStack.of([None]),
                         days, bk.OPERATE)
    np.testing.assert_allclose(step.collateral_usd, [[100 * np.exp(-0.09) * 20_000, 100 * np.exp(-0.09) * 10_000]])
    assert days[0].tolist() == [465.0, 0.0, 415.0, 0.0, 0.0]


def test_roll_contracts_reads_each_loans_own_price_uniform_and_terms() -> None:
    """Two borrowers on two paths, each with its own spot, uniform, contract price fraction and target share (drawn
    per path and borrower, as a work block holds them): every loan's contract book rolls exactly as the same loan
    alone (one borrower, one path) does."""
    spec = {"contracted_share": 0.6, "contract_price_fraction": 0.75, "contract_months": 10.0, "renter_customers": 3,
            "receivable_days": 45.0, "renter_default_rate_per_year": 0.1, "renter_default_elasticity": 2.0}
    spot, uniform = np.array([[2.0, 1.0], [3.0, 1.5]]), np.array([[0.01, 0.5], [0.9, 0.001]])
    fraction, target = np.array([[0.75, 0.5], [0.6, 0.9]]), np.array([[0.6, 0.4], [0.3, 0.7]])
    pair = replace(params(count=2, **spec), contract_price_fraction=fraction, contracted_share=target)
    book = loan_book(pair, n_paths=2)
    book.contracted_share[:], book.contract_price_usd_per_gpu_hour[:], book.cash_usd[:] = 0.5, 2.0, 50_000.0
    failed = br.roll_contracts(book, pair, spot, 30.0, uniform)
    for p in range(2):
        for b in range(2):
            one = params(**{**spec, "contract_price_fraction": fraction[p, b], "contracted_share": target[p, b]})
            alone = loan_book(one, n_paths=1)
            alone.contracted_share[:], alone.contract_price_usd_per_gpu_hour[:], alone.cash_usd[:] = 0.5, 2.0, 5e4
            lone_failed = br.roll_contracts(alone, one, spot[p:p + 1, b:b + 1], 30.0, uniform[p:p + 1, b:b + 1])
            assert failed[p, b] == lone_failed[0, 0]
            for name in ("contracted_share", "contract_price_usd_per_gpu_hour", "cash_usd"):
                assert getattr(book, name)[p, b] == getattr(alone, name)[0, 0], (name, p, b)
    assert failed.any() and not failed.all()


def test_customer_failures_judge_the_price_against_the_market_only_when_there_is_one() -> None:
    """h = h₀·(p_c/(f·R))^k with h₀ = 0.1/yr, k = 2, 3 customers, 30 days. Path 0: no market (R = 0): the price counts
    as fair (ratio 1), q = 1 − e^{−3·0.1·30/365} = 0.0244 < U = 0.03 → no failure. Path 1: market 0.75·$1 against
    $2.00 (ratio 2.67 even though the market is below $1): q = 0.1608 > U = 0.1 → a customer fails. Path 2: no
    contracts (share 0), U = 0 → nothing to fail."""
    bp = params(contracted_share=0.6, contract_price_fraction=0.75, contract_months=10.0, renter_customers=3,
                receivable_days=45.0, renter_default_rate_per_year=0.1, renter_default_elasticity=2.0)
    book = loan_book(bp, n_paths=3)
    book.contracted_share[:, 0] = [0.5, 0.5, 0.0]
    book.contract_price_usd_per_gpu_hour[:] = 2.0
    failed = br.roll_contracts(book, bp, np.array([[0.0], [1.0], [2.0]]), 30.0, np.array([[0.03], [0.1], [0.0]]))
    assert failed[:, 0].tolist() == [False, True, False]


def test_operations_without_normals_leave_every_borrowers_own_factor() -> None:
    """Two borrowers operated without the operator normals: both own factors stay at 0 (log)."""
    bp = params(count=2)
    book = loan_book(bp, n_paths=1)
    terms = br.OperatorTerms.new(bp, np.full(2, 1.2), 1.0)
    br.operate_with(book, terms, np.full((1, 2), 2.0), np.full((1, 2), 0.8), np.ones((1, 2)))
    assert book.operator_log.tolist() == [[0.0, 0.0]] and (book.active_days == 1.0).all()


def test_parts_not_asked_for_do_not_run() -> None:
    """A loan in grace until day 20, seen on day 30 over a 30-day step: asked for the walk decision only, it neither
    accrues interest nor is routed to a payment default; asked for the route only, it is (and accrues nothing)."""
    bp = params()
    book = loan_book(bp, n_paths=1)
    book.grace_until_day[:] = 20.0
    rules = br.StepRules(day=30.0, dt_days=30.0)
    stack = do.BoundaryStack.of([None])
    for parts, route in ((bk.WALK, 0), (bk.ROUTE, br.ROUTE_PAYMENT)):
        step = br.step_loans(book, bp, None, br.LoanMarket(), rules, stack, np.zeros((1, 5)), parts,
                             np.full((1, 1), 1e9))
        assert step.accrued_usd[0, 0] == 0.0 and book.accrued_usd[0, 0] == 0.0 and step.route[0, 0] == route


def test_covenants_and_the_barrier_read_each_borrowers_own_terms() -> None:
    """Two borrowers, maintenance LTV 0.7 and cure 30 days, walk ratio 0.5 under the barrier rule, collateral
    $1.2M and $3M against $1M: the first is in breach (limit $840,000, no cash: cure deadline day 40) and not past
    the barrier (1.2M ≥ 0.5 × 1M); the second is neither. On day 40 the first defaults on its covenant."""
    bp = params(count=2, maintenance_ltv=0.7, covenant_cure_days=30, strategic_walk_ratio=0.5)
    book = loan_book(bp, n_paths=1)
    collateral = np.array([[1.2e6, 3e6]])
    assert br.covenant_check(book, bp, collateral, 10.0).tolist() == [[0.0, 0.0]]
    assert book.breach_until_day[0].tolist() == [40.0, np.inf]
    route = br.default_routes(book, bp, collateral, 40.0, np.zeros((1, 2)), np.ones((1, 2)), True)
    assert route[0].tolist() == [br.ROUTE_COVENANT, 0]


CURVED = do.BoundaryTable(np.array([0.0, 0.5, 1.0, 1.5]), np.array([0.0, 1.0, 2.0]),
                          np.array([[[c * c + d * d for d in (0.0, 1.0, 2.0)] for c in (0.0, 0.5, 1.0, 1.5)]]))
"""A one-row table of x_B = c² + d² on its nodes: bilinear interpolation of it is not exact, so it shows the cell
read."""


@pytest.mark.parametrize(("cost", "debt", "expected"), [
    (0.75, 1.5, (1.25 + 4.25 + 2.0 + 5.0) / 4),  # the middle of cell (1, 1)
    (0.1, 0.2, (0.0 * 0.8 + 1.0 * 0.2) * 0.8 + (0.25 * 0.8 + 1.25 * 0.2) * 0.2),  # first cells: 0.25
    (1.4, 1.9, (2.0 * 0.1 + 5.0 * 0.9) * 0.2 + (3.25 * 0.1 + 6.25 * 0.9) * 0.8),  # last cells: 5.7
])
def test_boundary_lookup_reads_the_cell_around_the_point(cost: float, debt: float, expected: float) -> None:
    """Corners of the cell holding (c, d), weighted (1 − w)·low + w·high in each ratio; a neighbouring cell would
    extrapolate the curve to another number."""
    got = CURVED.lookup(np.array([[1, 1]]), np.array([[cost, cost]]), np.array([[debt, debt]]))
    assert got.shape == (1, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_decide_walk_takes_the_models_stacked_tables() -> None:
    """The model hands its tables over once stacked (``BoundaryStack``): the same walk as from the list."""
    bp = params()
    book = loan_book(bp, n_paths=1)
    book.revenue0_usd_per_year[:], book.revenue_usd_per_year[:] = 0.5, 0.1
    table = do.BoundaryTable(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.full((1, 2, 2), 0.6))
    assert br.decide_walk(book, bp, 30.0, do.BoundaryStack.of([table]))[0, 0]


def test_covenants_run_in_the_loan_step_on_the_collateral_given() -> None:
    """The loan step with covenants in the population checks them, on the collateral it is handed when operations
    do not run: $1.2M → limit $840,000 < $1M, breach (cure by day 40); $3M → no breach. Without covenants in the
    population the check returns zeros of the book's shape."""
    bp = params(count=2, maintenance_ltv=0.7, covenant_cure_days=30)
    book = loan_book(bp, n_paths=1)
    rules, stack = br.StepRules(day=10.0, dt_days=1.0), do.BoundaryStack.of([None])
    br.step_loans(book, bp, None, br.LoanMarket(), rules, stack, np.zeros((1, 5)), bk.ALL_PARTS & ~bk.OPERATE,
                  np.array([[1.2e6, 3e6]]))
    assert book.breach_until_day[0].tolist() == [40.0, np.inf]
    plain = params(count=2)
    assert br.covenant_check(loan_book(plain, n_paths=3), plain, np.zeros((3, 2)), 10.0).shape == (3, 2)


def test_a_ratio_on_a_node_reads_that_node_even_beside_an_infinite_boundary() -> None:
    """Solved tables hold x_B = ∞ where an owner would always walk. A ratio exactly on node c = 0.5 reads that node
    (weight 0 on the cell above), not the cell below with weight 1, where 0 · ∞ would make x_B undefined."""
    values = CURVED.values.copy()
    values[0, 0, :] = np.inf
    table = do.BoundaryTable(CURVED.cost_grid, CURVED.debt_grid, values)
    assert table.lookup(np.array([1]), np.array([0.5]), np.array([1.0]))[0] == 1.25
