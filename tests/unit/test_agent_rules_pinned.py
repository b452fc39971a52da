"""Hand-computed cases for the agent rule modules that mutation testing showed were not pinned.

Each test fixes one rule of ``agents/borrowers.py``, ``agents/default_option.py``, ``agents/depositors.py`` or
``protocol/loss_recognition.py`` with numbers worked out by hand (the working is in the test).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from usdai_sim.agents.depositors import (
    DepositorBook,
    DepositorParams,
    HazardBounds,
    decide,
    exit_probability,
    redeem_hazard_per_year,
)
from usdai_sim.agents.signals import Signals
from usdai_sim.scenario.schema import Depositors

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
    return decide(book, params(), HazardBounds.of(params()), spec or _spec(), signals(**signal_args),
                  np.array([uniforms]), 1.0, 10.0)


def test_decide_exit_and_deposit_by_hand() -> None:
    """dt = 10 days. Staker 0: p_out = 1 − e^(−2.67·10/365) = 0.0705; u = 0.05 < p_out, so it asks out with
    0.5 · 40 shares and sells (discount 0.02 ≤ tolerance 0.05). Staker 1: p_deposit = 1 − e^(−0.1) = 0.0952;
    u = 0.95 ≥ 1 − 0.0952 and spread 0.01 > hurdle 0, so it deposits 0.25 · $200. Column 2 (u = 0.5): nothing."""
    book = DepositorBook.new(params())
    book.shares[0, 0] = 40.0
    d = _decide(book, [0.05, 0.95, 0.5])
    assert (d.exit_rows.tolist(), d.exit_cols.tolist(), d.exit_shares.tolist(), d.sell.tolist()) == (
        [0], [0], [20.0], [True])
    assert (d.deposit_rows.tolist(), d.deposit_cols.tolist(), d.deposit_usd.tolist()) == ([0], [1], [50.0])


@pytest.mark.parametrize(
    ("u0", "pending", "shares", "out"),
    [
        (0.0705, 0.0, 40.0, True),  # just below p_out = 0.070539
        (0.0706, 0.0, 40.0, False),  # just above
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
    """Wave 0.5: staker 1's p_out = 1 − e^(−0.2·10/365)·0.5 = 0.5027 > u = 0.5; no deposit for a leaver."""
    book = DepositorBook.new(params())
    d = _decide(book, [0.9, 0.5, 0.99], wave=0.5)
    assert d.exit_cols.tolist() == [1] and d.exit_shares.tolist() == [100.0]
    assert d.sell.tolist() == [False]  # discount 0.02 > staker 1's tolerance 0.01
    assert d.deposit_cols.size == 0


@pytest.mark.parametrize(
    ("u1", "spec", "wallet", "deposits"),
    [
        (0.9049, {}, 200.0, True),  # 1 − p_deposit = e^(−0.1) = 0.904837 ≤ u
        (0.9048, {}, 200.0, False),
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
