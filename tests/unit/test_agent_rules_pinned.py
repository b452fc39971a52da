"""Hand-computed cases for the agent rule modules that mutation testing showed were not pinned.

Each test fixes one rule of ``agents/borrowers.py``, ``agents/default_option.py``, ``agents/depositors.py`` or
``protocol/loss_recognition.py`` with numbers worked out by hand (the working is in the test).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from usdai_sim.agents import borrowers as br
from usdai_sim.agents import default_option as do
from usdai_sim.agents.borrowers import BorrowerBook
from usdai_sim.agents.depositors import (
    DepositorBook,
    DepositorParams,
    HazardBounds,
    decide,
    exit_probability,
    redeem_hazard_per_year,
)
from usdai_sim.agents.signals import Signals
from usdai_sim.params import BorrowerParams, compile_params
from usdai_sim.protocol import loss_recognition as lr
from usdai_sim.scenario.schema import Cohort, Depositors, Rental, Scenario

# ---------------------------------------------------------------- agents/depositors.py

INF = np.inf
STAKER_COLUMNS = {
    # staker 0 is above every threshold, staker 1 below every one, column 2 the arbitrageurs' (inert) book
    "balance_usd": [100.0, 200.0, 0.0],
    "wallet_usd": [10.0, 200.0, 0.0],
    "redeem_base_rate_per_year": [0.1, 0.2, 0.0],
    "deposit_hurdle": [0.5, 0.0, INF],
    "spread_threshold": [0.03, 0.0, -INF],
    "spread_sensitivity": [2.0, 2.0, 0.0],
    "loss_threshold": [0.05, 0.5, INF],
    "loss_sensitivity": [3.0, 3.0, 0.0],
    "news_sensitivity": [5.0, 0.0, 0.0],
    "herd_threshold": [0.1, 0.9, INF],
    "herd_sensitivity": [7.0, 7.0, 0.0],
    "flow_threshold": [0.2, 0.9, INF],
    "flow_sensitivity": [11.0, 11.0, 0.0],
    "exit_tolerance": [0.05, 0.01, -1.0],
    "qev_bid_bps": [10.0, 20.0, 0.0],
}
BEHAVIOUR_0 = 5.14
"""Staker 0's behaviour term under ``signals()``: 2·(0.03 − 0.01) + 3·(0.15 − 0.05) + 5·0.02 + 7·(0.3 − 0.1)
+ 11·(0.5 − 0.2) = 0.04 + 0.3 + 0.1 + 1.4 + 3.3 per year."""


def params(paths: int = 1) -> DepositorParams:
    return DepositorParams(**{k: np.tile(np.array(v, dtype=float), (paths, 1)) for k, v in STAKER_COLUMNS.items()})


def signals(paths: int = 1, wave: float = 0.0, discount: float = 0.02) -> Signals:
    def full(x: float) -> np.ndarray:
        return np.full(paths, x)

    return Signals(spread=full(0.01), drawdown=full(0.15), loss_news=full(0.02), queue_share=full(0.4),
                   unfunded_queue_share=full(0.3), expected_wait_days=full(20.0), discount=full(discount),
                   wave_probability=full(wave), outflow_share=full(0.5))


def test_redeem_hazard_adds_each_gap_times_its_sensitivity() -> None:
    """h = base + ρ·behaviour: staker 0 = 0.1 + 0.5·5.14 = 2.67; staker 1 is below every threshold: h = base."""
    h = redeem_hazard_per_year(params(), 0.5, signals(), np.array([0, 0, 0]), np.array([0, 1, 2]))
    np.testing.assert_allclose(h, [0.1 + 0.5 * BEHAVIOUR_0, 0.2, 0.0], rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "value", "change"),
    [
        ("spread", 0.0, 2.0 * 0.01),  # spread gap 0.03 - 0.00 instead of 0.02
        ("drawdown", 0.25, 3.0 * 0.1),
        ("loss_news", 0.03, 5.0 * 0.01),
        ("unfunded_queue_share", 0.4, 7.0 * 0.1),
        ("outflow_share", 0.6, 11.0 * 0.1),
    ],
)
def test_each_signal_moves_the_hazard_by_its_sensitivity(name: str, value: float, change: float) -> None:
    """Raising one signal's gap by Δ raises staker 0's hazard by ρ·s·Δ (ρ = 1), and leaves staker 1 at base."""
    moved = signals()
    setattr(moved, name, np.full(1, value))
    rows, cols = np.array([0, 0]), np.array([0, 1])
    h = redeem_hazard_per_year(params(), 1.0, moved, rows, cols) - redeem_hazard_per_year(
        params(), 1.0, signals(), rows, cols
    )
    np.testing.assert_allclose(h, [change, 0.0], atol=1e-12)


def test_hazard_bounds_take_the_extreme_of_each_column() -> None:
    """Largest base and sensitivities, largest spread threshold, smallest other thresholds (over all columns)."""
    b = HazardBounds.of(params())
    assert (b.base[0], b.spread_s[0], b.spread_t[0], b.loss_s[0], b.loss_t[0]) == (0.2, 2.0, 0.03, 3.0, 0.05)
    assert (b.news_s[0], b.herd_s[0], b.herd_t[0], b.flow_s[0], b.flow_t[0]) == (5.0, 7.0, 0.1, 11.0, 0.2)


def test_hazard_bound_is_base_plus_every_gap_at_its_extreme() -> None:
    """0.2 + 0.5·5.14 = 2.77 ≥ every staker's hazard (2.67 and 0.2)."""
    bound = HazardBounds.of(params()).hazard(0.5, signals())
    np.testing.assert_allclose(bound, [0.2 + 0.5 * BEHAVIOUR_0], rtol=1e-12)
    calm = Signals(*(np.zeros(1) for _ in range(9)))
    calm.drawdown, calm.spread = np.zeros(1), np.full(1, 1.0)
    np.testing.assert_allclose(HazardBounds.of(params()).hazard(0.5, calm), [0.2], rtol=1e-12)


def test_exit_probability_combines_hazard_and_wave() -> None:
    """h = 3.65/yr over 10 days: 1 − e^(−0.1)·(1 − 0.2) = 0.27613; no hazard and no wave: 0."""
    p = exit_probability(np.array([3.65, 0.0, 0.0]), np.array([0.2, 0.0, 1.0]), 10.0)
    np.testing.assert_allclose(p, [1.0 - math.exp(-0.1) * 0.8, 0.0, 1.0], rtol=1e-12)


def test_bear_loss_is_pro_rata_over_held_and_pending_shares() -> None:
    """$100 over 50 shares = $2 a share: (10 + 5)·2, 30·2, 5·2; an empty path bears nothing (and no NaN)."""
    book = DepositorBook.new(params(2))
    book.shares[:] = [[10.0, 30.0, 0.0], [0.0, 0.0, 0.0]]
    book.pending_shares[:] = [[5.0, 0.0, 5.0], [0.0, 0.0, 0.0]]
    book.loss_borne_usd[:] = 1.0
    book.bear_loss(np.array([100.0, 7.0]), np.array([50.0, 0.0]))
    np.testing.assert_array_equal(book.loss_borne_usd, [[31.0, 61.0, 11.0], [1.0, 1.0, 1.0]])


def _spec(**changes: object) -> Depositors:
    base = {"deposit_rate_per_year": 3.65, "deposit_fraction": 0.25, "run_proneness": 0.5, "request_fraction": 0.5}
    return Depositors.model_validate({**base, **changes})


def _decide(book: DepositorBook, uniforms: list[float], spec: Depositors | None = None, **signal_args: float):
    """Every column is a candidate this step, with the given uniforms."""
    everyone = (np.zeros(3, dtype=int), np.arange(3))
    return decide(book, params(), HazardBounds.of(params()), spec or _spec(), signals(**signal_args), everyone,
                  np.array(uniforms), 1.0, 10.0)


P_OUT_0 = 0.437344
"""Staker 0 given a candidate, dt = 10 days: a = 2.67·10/365 = 0.073151, bound b = 2.77·10/365 = 0.075890,
deposit mass c = 3.65·10/365 = 0.1, B = b + c = 0.175890; P(exit) = (1 − e^(−a)) / (1 − e^(−B))
= 0.070539 / 0.161290 = 0.437344."""


def test_decide_exit_and_deposit_by_hand() -> None:
    """Staker 0: u = 0.4 < P_OUT_0, so it asks out with 0.5 · 40 shares and sells (discount 0.02 ≤ tolerance
    0.05). Staker 1: P(deposit, no exit) = e^(−0.0054795)·(1 − e^(−0.1)) / 0.161290 = 0.586785; u = 0.95 ≥
    1 − 0.586785 and spread 0.01 > hurdle 0, so it deposits 0.25 · $200. Column 2 (u = 0.5): nothing."""
    book = DepositorBook.new(params())
    book.shares[0, 0] = 40.0
    d = _decide(book, [0.4, 0.95, 0.5])
    assert (d.exit_rows.tolist(), d.exit_cols.tolist(), d.exit_shares.tolist(), d.sell.tolist()) == (
        [0], [0], [20.0], [True])
    assert (d.deposit_rows.tolist(), d.deposit_cols.tolist(), d.deposit_usd.tolist()) == ([0], [1], [50.0])


@pytest.mark.parametrize(
    ("u0", "pending", "shares", "out"),
    [
        (0.4373, 0.0, 40.0, True),  # just below P_OUT_0 = 0.437344
        (0.4374, 0.0, 40.0, False),  # just above
        (0.05, 1.0, 40.0, False),  # an open request: no second one
        (0.05, 0.0, 1.98, False),  # 0.5 · 1.98 = 0.99 shares < the 1-share minimum
        (0.05, 0.0, 2.0, True),  # exactly the minimum
    ],
)
def test_decide_exit_rule_edges(u0: float, pending: float, shares: float, out: bool) -> None:
    book = DepositorBook.new(params())
    book.shares[0, 0], book.pending_shares[0, 0] = shares, pending
    d = _decide(book, [u0, 0.5, 0.5])
    assert d.exit_cols.tolist() == ([0] if out else [])


def test_decide_a_wave_makes_staker_1_leave() -> None:
    """Wave 0.5 adds −ln 0.5 = 0.693147 to a and b: B = 0.869037; staker 1's P(exit) = (1 − e^(−0.698627)) /
    (1 − e^(−0.869037)) = 0.502740 / 0.580658 = 0.865817 > u = 0.86; no deposit for a leaver. Staker 0
    (u = 0.95 > its P(exit) 0.9215) stays and, below its hurdle, does not deposit."""
    book = DepositorBook.new(params())
    d = _decide(book, [0.95, 0.86, 0.99], wave=0.5)
    assert d.exit_cols.tolist() == [1] and d.exit_shares.tolist() == [100.0]
    assert d.sell.tolist() == [False]  # discount 0.02 > staker 1's tolerance 0.01
    assert d.deposit_cols.size == 0


@pytest.mark.parametrize(
    ("u1", "spec", "wallet", "deposits"),
    [
        (0.4133, {}, 200.0, True),  # 1 − P(deposit, no exit) = 1 − 0.586785 = 0.413215 ≤ u
        (0.4132, {}, 200.0, False),
        (0.99, {"deposit_rate_per_year": 0.0}, 200.0, False),  # no deposits at a zero rate
        (0.99, {}, 0.0, False),  # an empty wallet
    ],
)
def test_decide_deposit_rule_edges(u1: float, spec: dict, wallet: float, deposits: bool) -> None:
    book = DepositorBook.new(params())
    book.wallet_usd[0, 1] = wallet
    d = _decide(book, [0.5, u1, 0.5], _spec(**spec))
    assert d.deposit_cols.tolist() == ([1] if deposits else [])


def test_decide_no_secondary_market_means_queue() -> None:
    book = DepositorBook.new(params())
    book.shares[0, 0] = 40.0
    d = _decide(book, [0.05, 0.5, 0.5], _spec(secondary={"enabled": False}))
    assert d.sell.tolist() == [False]
    assert _decide(book, [0.05, 0.5, 0.5], discount=0.05).sell.tolist() == [True]  # at the tolerance
    assert _decide(book, [0.05, 0.5, 0.5], discount=0.0501).sell.tolist() == [False]


# ---------------------------------------------------------------- agents/borrowers.py

def borrower_params(*cohorts: dict) -> BorrowerParams:
    """One borrower per cohort (100 GPUs, a $1M loan at 12% for 36 months unless a cohort says otherwise)."""
    base = {"count": 1, "gpus": 100, "requested_ltv": 0.5, "apr": 0.12, "term_months": 36}
    scenario = Scenario.model_validate({
        "borrowers": {"cohorts": [{**base, **c} for c in cohorts or ({},)]},
        "depositors": {"count": 1}, "markets": {"tbill": {"model": "constant"}},
    })
    return compile_params(scenario).borrowers


def active_book(bp: BorrowerParams, n_paths: int) -> BorrowerBook:
    """Active $1M loans on every path, next payment due on day 30, no cash."""
    book = BorrowerBook.new(bp, n_paths)
    book.status[:] = br.ACTIVE
    book.principal_usd[:] = 1e6
    book.apr[:] = 0.12
    book.payments_left[:] = 36
    book.next_due_day[:] = 30.0
    return book


OPERATOR = {
    "gpus": 1, "contracted_share": 0.5, "contract_price_fraction": 2.0 / 3.0, "renter_default_rate_per_year": 0.0,
    "power_usd_per_kwh": 0.08, "pue": 1.25, "colocation_usd_per_kw_month": 120.0, "overhead_usd_per_gpu_month": 20.0,
    "repair_usd_per_gpu_month": 10.0, "idle_power_fraction": 0.3, "hardware_failure_rate_per_year": 0.09,
}
"""test_borrowers' operator: $2.20 revenue and $0.3532667 opex per GPU-hour at spot $3 (contracts at $2 stay
at $2: renewal at 2/3 × $3), i.e. $105.60 revenue and $16.9568 opex over two days."""


def test_operate_over_two_days_by_status() -> None:
    """dt = 2 days, 1 GPU. Path 0 (active, cash $1,000): cash 1,000 + 105.6 − 16.9568 = 1,088.6432; the revenue
    rate moves from $10,000/yr toward 2.2·24·365 = $19,272/yr by 1 − e^(−2/30): 10,597.98. Path 1 (active,
    spot and contract $0, cash $10): 10 − 16.9568 < 0, so cash 0. Path 2 (defaulted) and path 3 (repaid):
    no revenue, cash kept, revenue rate 0. GPUs fail at 9%/yr on live loans (active or defaulted) only."""
    bp = borrower_params(OPERATOR)
    book = active_book(bp, 4)
    book.status[2:, 0] = [br.DEFAULTED, br.REPAID]
    book.cash_usd[:, 0] = [1000.0, 10.0, 1000.0, 1000.0]
    book.revenue_usd_per_year[:, 0] = [10_000.0, 10_000.0, 5.0, 5.0]
    book.contract_price_usd_per_gpu_hour[:, 0] = [2.0, 0.0, 2.0, 2.0]
    spot = np.array([[3.0], [0.0], [3.0], [3.0]])
    revenue = br.operate(book, bp, spot, np.full((4, 1), 0.8), np.array([1.2]), 2.0, np.ones((4, 1)))
    np.testing.assert_allclose(revenue[:, 0], [105.6, 0.0, 0.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(book.cash_usd[:, 0], [1088.6432, 0.0, 1000.0, 1000.0], rtol=1e-12)
    weight = 1.0 - math.exp(-2.0 / 30.0)
    expected_rate = 10_000.0 + weight * (2.2 * 24 * 365 - 10_000.0)
    np.testing.assert_allclose(book.revenue_usd_per_year[:, 0], [expected_rate, 10_000.0 * (1 - weight), 0, 0],
                               rtol=1e-12)
    decay = math.exp(-0.09 * 2.0 / 365.0)
    np.testing.assert_allclose(book.gpus[:, 0], [decay, decay, decay, 1.0], rtol=1e-12)


def test_insured_hardware_does_not_shrink() -> None:
    bp = borrower_params({**OPERATOR, "hardware_insured": True})
    book = active_book(bp, 1)
    br.operate(book, bp, np.full((1, 1), 3.0), np.full((1, 1), 0.8), np.array([1.2]), 30.0, np.ones((1, 1)))
    assert book.gpus[0, 0] == 1.0


def test_accrue_only_active_loans_and_grace_interest_only_in_grace() -> None:
    """30 days at 12%: 1e6·0.12·30/365 = $9,863.01 on the active loan, none on the defaulted one. Grace interest
    on a missed $33,135.85 at 12% + 5%: 33,135.85·0.17·30/365 = $462.99 added to the $100 already owed;
    an active loan out of grace (and a defaulted one in grace) accrues none."""
    bp = borrower_params()
    book = active_book(bp, 3)
    book.status[2, 0] = br.DEFAULTED
    book.grace_until_day[:, 0] = [60.0, np.inf, 60.0]
    book.due_interest_usd[:, 0], book.due_principal_usd[:, 0] = 9_863.01, 23_272.84
    book.late_interest_usd[:, 0] = 100.0
    accrued = br.accrue(book, bp, 0.05, 30.0)
    np.testing.assert_allclose(accrued[:, 0], [1e6 * 0.12 * 30 / 365] * 2 + [0.0], rtol=1e-12)
    np.testing.assert_allclose(book.late_interest_usd[:, 0], [100.0 + 33_135.85 * 0.17 * 30 / 365, 100.0, 100.0],
                               rtol=1e-12)


def test_covenant_edges() -> None:
    """Maintenance LTV 0.5 on $1.5M collateral: limit $750,000. Path 0: principal $750,000.5 (excess $0.50) and
    $0.50 cash → prepays exactly 0.50, cash 0. Path 1: the same excess, no cash → breach from day 10 to day 40.
    Path 2: principal at the limit → no breach, cash untouched. Path 3: already in breach until day 25 and still
    in breach → the deadline stays 25. Path 4: a defaulted loan over the limit → ignored."""
    bp = borrower_params({"maintenance_ltv": 0.5, "covenant_cure_days": 30})
    book = active_book(bp, 5)
    book.principal_usd[:, 0] = [750_000.5, 750_000.5, 750_000.0, 1e6, 1e6]
    book.cash_usd[:, 0] = [0.5, 0.0, 1_000.0, 0.0, 1e6]
    book.breach_until_day[3, 0] = 25.0
    book.status[4, 0] = br.DEFAULTED
    prepaid = br.covenant_check(book, bp, np.full((5, 1), 1.5e6), 10.0)
    np.testing.assert_allclose(prepaid[:, 0], [0.5, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(book.cash_usd[:, 0], [0.0, 0.0, 1_000.0, 0.0, 1e6])
    np.testing.assert_allclose(book.principal_usd[:, 0], [750_000.0, 750_000.5, 750_000.0, 1e6, 1e6])
    assert book.breach_until_day[:, 0].tolist() == [np.inf, 40.0, np.inf, 25.0, np.inf]


def fixed_boundary() -> do.BoundaryTable:
    """A boundary table with x_B = 0.6 on the node of 12 payments left, cost ratio 0.3, debt ratio 0.4 and 9 on
    every other node (so a wrong argument, or a loan read at another node, makes its owner walk)."""
    values = np.full((24, 3, 3), 9.0)
    values[11, 1, 1] = 0.6
    return do.BoundaryTable(np.array([0.0, 0.3, 1.0]), np.array([0.0, 0.4, 1.0]), values)


def walk_book(bp: BorrowerParams, revenue_now: list[float], revenue0: list[float]) -> BorrowerBook:
    book = active_book(bp, len(revenue_now))
    book.payments_left[:] = 12
    book.cost_ratio[:], book.debt_ratio[:] = 0.3, 0.4
    book.revenue_usd_per_year[:, 0] = revenue_now
    book.revenue_usd_per_year[:, 1] = 10.0  # cohort 1 has no table: never walks at a payment date
    book.revenue0_usd_per_year[:, 0] = revenue0
    book.revenue0_usd_per_year[:, 1] = 100.0
    return book


def test_decide_walk_compares_the_revenue_factor_with_the_boundary() -> None:
    """Day 30, x_B = 0.6. Path 0: x = 40/100 = 0.4 < 0.6 → walks (x and x_B recorded). Path 1: x = 0.6 = x_B →
    stays. Path 2: x = 0.1 but in grace → not at a payment date. Path 3: due on day 31 → not yet. Path 4:
    revenue at origination 0 → x = ∞, stays. Path 5: defaulted → not asked."""
    bp = borrower_params({}, {})
    book = walk_book(bp, [40.0, 60.0, 10.0, 10.0, 0.0, 10.0], [100.0] * 4 + [0.0, 100.0])
    book.grace_until_day[2, 0] = 50.0
    book.next_due_day[3, 0] = 31.0
    book.status[5, 0] = br.DEFAULTED
    walk = br.decide_walk(book, bp, 30.0, [fixed_boundary(), None])
    assert walk.dtype == bool
    assert walk[:, 0].tolist() == [True, False, False, False, False, False] and not walk[:, 1].any()
    assert book.walked[:, 0].tolist() == walk[:, 0].tolist()
    assert (book.default_state[0, 0], book.default_boundary[0, 0]) == (0.4, 0.6)
    assert np.isnan(book.default_state[1:, 0]).all() and np.isnan(book.default_boundary[1:, 0]).all()


def test_decide_walk_with_one_loan_due() -> None:
    bp = borrower_params({}, {})
    book = walk_book(bp, [40.0], [100.0])
    book.next_due_day[0, 1] = 60.0
    walk = br.decide_walk(book, bp, 30.0, [fixed_boundary(), None])
    assert walk.tolist() == [[True, False]]


def test_default_routes_edges() -> None:
    """Day 60. Path 0: covenant deadline today → covenant. Path 1: collateral exactly walk ratio × principal
    ($500k) → no default (strict); path 2: walked, collateral ample → strategic; path 3: breach deadline
    tomorrow, not walked → none. Routes are int8."""
    bp = borrower_params({"strategic_walk_ratio": 0.5})
    book = active_book(bp, 4)
    book.breach_until_day[:, 0] = [60.0, np.inf, np.inf, 61.0]
    book.walked[2, 0] = True
    collateral = np.array([[1e9], [5e5], [1e9], [1e9]])
    route = br.default_routes(book, bp, collateral, 60.0, np.zeros((4, 1)), np.ones((4, 1)), True)
    assert route.dtype == np.int8
    assert route[:, 0].tolist() == [br.ROUTE_COVENANT, 0, br.ROUTE_STRATEGIC, 0]


# ---------------------------------------------------------------- agents/default_option.py
# The tables are memoised (``_cohort_table``), so the pieces under the cache are called here directly.


def linear_table(payments: int = 3) -> do.BoundaryTable:
    """values[k − 1, i, j] = 100·k + 10·c_i + d_j: bilinear interpolation of it is exact."""
    k = np.arange(1, payments + 1)[:, None, None]
    values = 100.0 * k + 10.0 * do.COST_GRID[None, :, None] + do.DEBT_GRID[None, None, :]
    return do.BoundaryTable(do.COST_GRID, do.DEBT_GRID, values)


@pytest.mark.parametrize(
    ("left", "cost", "debt", "expected"),
    [
        (1, 0.05, 0.06, 100.0 + 0.5 + 0.06),  # first cell of both grids
        (2, 0.15, 0.2, 200.0 + 1.5 + 0.2),  # exactly on a cost node
        (3, 1.19, 1.99, 300.0 + 11.9 + 1.99),  # last cells
        (3, 1.2, 2.0, 300.0 + 12.0 + 2.0),  # the last nodes
        (2, -1.0, 0.0, 200.0 + 0.0 + 0.05),  # below the grids: clipped to the first nodes
        (2, 5.0, 9.0, 200.0 + 12.0 + 2.0),  # above: clipped to the last nodes
        (0, 0.6, 1.0, 100.0 + 6.0 + 1.0),  # no payment left reads the one-payment row
        (9, 0.6, 1.0, 300.0 + 6.0 + 1.0),  # more payments than rows reads the last row
    ],
)
def test_boundary_lookup_interpolates_and_clips(left: int, cost: float, debt: float, expected: float) -> None:
    got = linear_table().lookup(np.array([left]), np.array([cost]), np.array([debt]))
    np.testing.assert_allclose(got, [expected], rtol=1e-12)


def test_leland_boundary_is_proportional_to_the_coupon() -> None:
    """σ = 0.2, μ = 0, r = 0.05: a = 0.02, b = −0.02, γ = (0.02 − √(0.0004 + 0.004))/0.04 = −1.1583124;
    δ_B = γ/(γ − 1)·(r − μ)·C/r = 0.5366750·C."""
    gamma = (0.02 - math.sqrt(0.0004 + 0.004)) / 0.04
    one = gamma / (gamma - 1.0)
    assert do.leland_boundary(2.0, 0.0, 0.2, 0.05) == pytest.approx(2.0 * one, rel=1e-12)
    assert do.leland_boundary(2.0, 0.0, 0.2, 0.05) == pytest.approx(1.0733501, rel=1e-7)


def test_cohort_dynamics_damp_the_volatility_by_half_the_contract_share() -> None:
    """No own factor: σ = 0.3·(1 − 0.5·0.4) = 0.24 (contracted share 0.2–0.6, mean 0.4); drift and mean
    reversion are the rental's."""
    rental = Rental(drift_per_year=-0.1, vol_per_sqrt_year=0.3, kappa_per_year=0.5)
    cohort = Cohort(contracted_share={"low": 0.2, "high": 0.6}, operator_vol_per_sqrt_year=0.0)
    dyn = do.cohort_dynamics(rental, cohort)
    assert (dyn.log_drift_per_year, dyn.kappa_per_year) == (-0.1, 0.5)
    assert dyn.vol_per_sqrt_year == pytest.approx(0.24, rel=1e-12)


def test_cohort_dynamics_add_the_operators_own_random_walk() -> None:
    """σ_m = 0.3, σ_o = 0.4: σ = 0.5·(1 − 0.2) = 0.4; κ_eff = 0.5·0.09/0.25 = 0.18. A market without
    reversion stays a random walk; no volatility at all keeps the market's κ."""
    rental = Rental(drift_per_year=-0.1, vol_per_sqrt_year=0.3, kappa_per_year=0.5)
    cohort = Cohort(contracted_share={"low": 0.2, "high": 0.6}, operator_vol_per_sqrt_year=0.4)
    dyn = do.cohort_dynamics(rental, cohort)
    assert dyn.vol_per_sqrt_year == pytest.approx(0.4, rel=1e-12)
    assert dyn.kappa_per_year == pytest.approx(0.18, rel=1e-12)
    assert do.cohort_dynamics(rental.model_copy(update={"kappa_per_year": 0.0}), cohort).kappa_per_year == 0.0
    still = Rental(drift_per_year=-0.1, vol_per_sqrt_year=0.0, kappa_per_year=0.5)
    quiet = do.cohort_dynamics(still, cohort.model_copy(update={"operator_vol_per_sqrt_year": 0.0}))
    assert (quiet.vol_per_sqrt_year, quiet.kappa_per_year) == (0.0, 0.5)


def test_cohort_claims_by_hand() -> None:
    """Age 1–3 years (mean 2), 24-month term, 7-year life: 7 − 2 − 2 = 3 years left at maturity. r = 0.2,
    g = −0.1: slope = (1 − e^(−0.9))/0.3, cost annuity (1 − e^(−0.6))/0.2. Friction 6 months = 0.5 yr;
    reserve released 3 months · d · 30/365."""
    cohort = Cohort(age_years={"low": 1.0, "high": 3.0}, term_months=24, equity_discount_rate=0.2,
                    default_friction_months=6.0, dsra_months=3.0)
    claim = do.cohort_claim_factory(cohort, Rental(drift_per_year=-0.1), 7.0)(np.array([0.5]), np.array([0.8]))
    assert (claim.cost_rate.tolist(), claim.debt_rate.tolist(), claim.friction) == ([0.5], [0.8], 0.5)
    assert claim.residual_slope == pytest.approx(-math.expm1(-0.9) / 0.3, rel=1e-12)
    np.testing.assert_allclose(claim.residual_intercept, [0.5 * -math.expm1(-0.6) / 0.2], rtol=1e-12)
    np.testing.assert_allclose(claim.reserve_release, [3.0 * 0.8 * 30.0 / 365.0], rtol=1e-12)


def test_boundary_table_solves_every_grid_node() -> None:
    """The table at node (c_i, d_j) is the boundary solved for that node alone (grids kept, cost first)."""
    dyn, cohort = do.Dynamics(-0.1, 0.3, 0.5), Cohort(term_months=6)
    make = do.cohort_claim_factory(cohort, Rental(), 7.0)
    table = do.boundary_table(make, dyn, 0.15, do.PAYMENT_YEARS, 6, "option")
    assert table.values.shape == (6, do.COST_GRID.size, do.DEBT_GRID.size)
    np.testing.assert_array_equal(table.cost_grid, do.COST_GRID)
    np.testing.assert_array_equal(table.debt_grid, do.DEBT_GRID)
    i, j = 6, 3
    alone = do.solve_boundary(make(do.COST_GRID[i], do.DEBT_GRID[j]), dyn, 0.15, do.PAYMENT_YEARS, 6, "option")
    np.testing.assert_allclose(table.values[:, i, j], np.ravel(alone), rtol=1e-9)
    myopic = do.boundary_table(make, dyn, 0.15, do.PAYMENT_YEARS, 6, "myopic")
    assert not np.allclose(myopic.values, table.values)


# ---------------------------------------------------------------- protocol/loss_recognition.py


def test_expected_loss_by_hand() -> None:
    """P $1,000, collateral $800 sold at 0.9 less a 5% fee plus $50 SPV cash: 684 + 50 = 734 → EL $266;
    collateral worth more than the loan → EL 0 (never negative)."""
    el = lr.expected_loss_usd(np.array([1000.0, 1000.0]), np.array([800.0, 2000.0]), 0.9, 0.05,
                              np.array([50.0, 0.0]))
    np.testing.assert_allclose(el, [266.0, 0.0], rtol=1e-12)


def test_linear_fraction_by_hand() -> None:
    """Default on day 10, 45-day grace, 90-day period; on day 100: (100 − 10 − 45)/90 = 0.5. Before the grace
    ends 0, after the period 1, no default (t_d = ∞) 0."""
    f = lr.linear_fraction(100.0, np.array([10.0, 60.0, -200.0, np.inf]), 45.0, 90.0)
    np.testing.assert_allclose(f, [0.5, 0.0, 1.0, 0.0])
    # a zero-day period on the day the grace ends: 0/0 counts as nothing written yet
    with np.errstate(invalid="ignore"):
        assert lr.linear_fraction(55.0, np.array([10.0]), 45.0, 0.0).tolist() == [0.0]


def test_loss_tail_starts_advances_and_ends_by_hand() -> None:
    """Slot 0 sells on day 40 a loan defaulted on day 10 with L = $900 of which $100 already written; slot 1 is
    reused while $30 of an older tail is still unwritten (flushed now). 45-day grace, 90-day period:
    day 100: f = 0.5 → written 450 (step +350); day 145: f = 1 → step +450, the tail ends."""
    tail = lr.LossSchedule.new((1, 2))
    tail.tail_loss_usd[0, 1], tail.tail_written_usd[0, 1], tail.tail_default_day[0, 1] = 80.0, 50.0, -500.0
    assert tail.unrecognised_usd().tolist() == [30.0]
    flushed = tail.start_tail(np.array([[True, True]]), np.array([[900.0, 0.0]]), np.array([[100.0, 0.0]]),
                              np.array([[10.0, np.inf]]))
    assert flushed.tolist() == [[0.0, 30.0]]
    assert tail.unrecognised_usd().tolist() == [800.0]
    assert tail.advance_tail(100.0, 45.0, 90.0).tolist() == [[350.0, 0.0]]
    assert tail.tail_written_usd.tolist() == [[450.0, 0.0]]
    assert tail.advance_tail(145.0, 45.0, 90.0).tolist() == [[450.0, 0.0]]
    assert (tail.tail_loss_usd.tolist(), tail.tail_written_usd.tolist()) == ([[0.0, 0.0]], [[0.0, 0.0]])
    assert tail.tail_default_day.tolist() == [[np.inf, np.inf]]
    assert tail.advance_tail(200.0, 45.0, 90.0).tolist() == [[0.0, 0.0]]


def test_loss_tail_untouched_where_nothing_sells() -> None:
    tail = lr.LossSchedule.new((1, 2))
    tail.start_tail(np.array([[True, False]]), np.array([[900.0, 5.0]]), np.array([[0.0, 5.0]]),
                    np.array([[10.0, 3.0]]))
    assert (tail.tail_loss_usd.tolist(), tail.tail_written_usd.tolist()) == ([[900.0, 0.0]], [[0.0, 0.0]])
    assert tail.tail_default_day.tolist() == [[10.0, np.inf]]
    assert tail.expected_usd.tolist() == [[0.0, 0.0]]


def test_a_stakers_traits_sit_side_by_side_and_picking_them_reads_the_right_values() -> None:
    """draw_depositors lays the behavioural traits out as views of one (paths, stakers, traits) block (one staker's
    traits are neighbours in memory); picked reads a strided view by 2-D indexing, a C-ordered array by flat
    indices, with the same values either way."""
    from usdai_sim.agents.depositors import draw_depositors, picked
    from usdai_sim.scenario.library import load_scenario

    dp = draw_depositors(load_scenario("baseline")[0], 0, 3)
    traits = (dp.redeem_base_rate_per_year, dp.spread_sensitivity, dp.herd_threshold, dp.exit_tolerance)
    assert all(t.base is dp.spread_sensitivity.base is not None for t in traits)
    assert dp.spread_sensitivity.strides[1] > 8  # a staker's next trait, not the next staker, is adjacent
    rows, cols = np.array([0, 1, 2, 2]), np.array([5, 0, 7, dp.arbitrageur])
    np.testing.assert_array_equal(picked(dp.herd_threshold, rows, cols), dp.herd_threshold[rows, cols])
    dense = np.ascontiguousarray(dp.herd_threshold)
    np.testing.assert_array_equal(picked(dense, rows, cols), dp.herd_threshold[rows, cols])
