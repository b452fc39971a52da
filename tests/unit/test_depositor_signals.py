"""Signals, populations, the secondary discount and the unstaked holders, with hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usdai_sim.agents.holders import HolderBook, HolderBounds, redeeming, redemptions_usd
from usdai_sim.agents.signals import MAX_WAIT_DAYS, Signals, SignalTracker, expected_wait_days
from usdai_sim.market.secondary import discount, fill_fraction
from usdai_sim.population import capped_pareto_shares, concentration, population_uniforms
from usdai_sim.scenario.schema import SecondaryMarket, Simulation, UnstakedHolders

SPEC = SecondaryMarket()


def test_spread_is_excess_over_the_window_not_annualised_from_days() -> None:
    """Window 90 days, T-bill 3.65%: growth at exactly the T-bill gives spread 0; a 1% loss on day 10
    gives −0.01·365/90 ≈ −4.06% (not −1%·365/10 as a 10-day annualisation would)."""
    t = SignalTracker(1, 90, 1.0, 14.0)
    price = 1.0
    for day in range(1, 11):
        price *= 1.0 + 0.0365 / 365
        if day == 10:
            price *= 0.99
        t.observe(np.array([price]), np.array([0.0365]), np.zeros(1), np.ones(1), np.zeros(1), 30.0)
        if day == 9:
            assert t.spread()[0] == pytest.approx(0.0, abs=1e-5)  # compounding vs simple T-bill sum
    assert t.spread()[0] == pytest.approx(-0.01 * 365 / 90, rel=2e-2)


def test_loss_news_decays_with_its_half_life() -> None:
    """A loss event of 2% of NAV, half-life 14 days: 2% that day, 1% fourteen days later."""
    t = SignalTracker(1, 30, 1.0, 14.0)
    t.observe(np.ones(1), np.zeros(1), np.array([2.0]), np.array([100.0]), np.zeros(1), 30.0)
    assert t.loss_news[0] == pytest.approx(0.02)
    for _ in range(14):
        t.observe(np.ones(1), np.zeros(1), np.zeros(1), np.array([100.0]), np.zeros(1), 30.0)
    assert t.loss_news[0] == pytest.approx(0.01)


def test_expected_wait_by_hand() -> None:
    """Day 10 of a 30-day window: 20 days to its end; $60 unfunded with $1/day of receipts (= $30 a window)
    adds two windows: 80 days. A queue that idle covers waits only for the window end; none waits 0."""
    wait = expected_wait_days(np.array([100.0, 30.0, 0.0]), np.array([40.0, 40.0, 40.0]), np.ones(3), 10.0, 30.0)
    assert wait.tolist() == pytest.approx([80.0, 20.0, 0.0])
    assert expected_wait_days(np.array([1.0]), np.zeros(1), np.zeros(1), 0.0, 30.0)[0] == MAX_WAIT_DAYS


@given(q=st.floats(0.0, 1.0), dq=st.floats(0.0, 1.0), w=st.floats(0.0, 1000.0), dw=st.floats(0.0, 1000.0),
       n=st.floats(0.0, 0.5))
def test_longer_queue_or_wait_never_narrows_the_discount(q: float, dq: float, w: float, dw: float, n: float) -> None:
    """d is non-decreasing in queue share, expected wait and loss news, and stays within [0, cap]."""
    base = discount(SPEC, np.array([q]), np.array([w]), np.array([n]))[0]
    assert discount(SPEC, np.array([q + dq]), np.array([w]), np.array([n]))[0] >= base
    assert discount(SPEC, np.array([q]), np.array([w + dw]), np.array([n]))[0] >= base
    assert 0.0 <= base <= SPEC.max_discount


def test_discount_by_hand_and_arbitrage_capacity() -> None:
    """0.1% + 0.05·0.2 + 0.10·73/365 + 2·0.01 = 5.1%; $10M offered against $4M capital fills 40%."""
    assert discount(SPEC, np.array([0.2]), np.array([73.0]), np.array([0.01]))[0] == pytest.approx(0.051)
    assert discount(SPEC, np.array([1.0]), np.array([0.0]), np.array([0.5]))[0] == SPEC.max_discount
    assert fill_fraction(np.array([10e6, 0.0, 1e6]), 4e6).tolist() == pytest.approx([0.4, 1.0, 1.0])


@given(alpha=st.floats(0.8, 3.0), cap=st.floats(0.02, 0.5), seed=st.integers(0, 2**16))
def test_capped_pareto_shares_sum_to_one_under_the_cap(alpha: float, cap: float, seed: int) -> None:
    u = np.random.default_rng(seed).random((3, 50))
    shares = capped_pareto_shares(u, alpha, cap)
    assert shares.sum(axis=1) == pytest.approx(np.ones(3))
    assert shares.max() <= cap * (1 + 1e-9) and shares.min() > 0


def test_concentration_by_hand() -> None:
    """Equal balances of 20 holders: top-1 5%, top-10 50%, HHI 1/20; one of 4 holding 70%: HHI 0.58."""
    c = concentration(np.array([[1.0] * 20]))
    assert (c["top1_share"][0], c["top10_share"][0], c["hhi"][0]) == pytest.approx((0.05, 0.5, 0.05))
    assert concentration(np.array([[70.0, 10.0, 10.0, 10.0]]))["hhi"][0] == pytest.approx(0.52)


def test_populations_are_per_path_unless_a_population_seed_fixes_one() -> None:
    """Per path: rows differ, and a path's row does not depend on the block it is drawn in; with
    population_seed every path has the same population, whatever the Monte Carlo seed."""
    sim = Simulation(seed=5)
    whole = population_uniforms(sim, "depositor_population", 0, 64, 10)
    assert not np.allclose(whole[0], whole[1])
    np.testing.assert_array_equal(population_uniforms(sim, "depositor_population", 32, 32, 10), whole[32:])
    fixed = population_uniforms(Simulation(seed=5, population_seed=1), "depositor_population", 32, 4, 10)
    other_seed = population_uniforms(Simulation(seed=6, population_seed=1), "depositor_population", 0, 4, 10)
    np.testing.assert_array_equal(fixed, np.broadcast_to(fixed[0], fixed.shape))
    np.testing.assert_array_equal(fixed, other_seed)


def test_unstaked_holders_redeem_within_the_daily_limit() -> None:
    """Two holders of $60M and $40M both redeem (wave 1) under a $50M/day limit: each gets half."""
    book = HolderBook(*(np.array([[60e6, 40e6]]) for _ in range(2)), *(np.zeros((1, 2)) for _ in range(7)))
    spec = UnstakedHolders(redeem_limit_usd_per_day=50e6)
    one = np.ones(1)
    signals = Signals(0 * one, 0 * one, 0 * one, 0 * one, 0 * one, 0 * one, 0 * one, one, 0 * one)
    both = (np.zeros(2, dtype=int), np.arange(2))
    out = redeeming(book, HolderBounds.of(book), spec, 1.0, signals, both, np.full(2, 0.999), 1.0)
    paid = redemptions_usd(book, spec, (both[0][out], both[1][out]), 1.0)
    assert paid[0].tolist() == pytest.approx([30e6, 20e6])


def test_unstaked_holder_redeems_below_its_conditional_probability() -> None:
    """Base 0.6/yr, no behaviour, dt = 1 day, no wave: a = b = 0.6/365, so a candidate always redeems
    (P = 1); with a holder-specific news sensitivity 10 and loss news 0.1 on holder 0 only, b = (0.6 + 1)/365
    and holder 1 (a = 0.6/365) redeems with P = (1 − e^(−0.0016438)) / (1 − e^(−0.0043836)) = 0.375514."""
    book = HolderBook(*(np.array([[60e6, 40e6]]) for _ in range(2)), *(np.zeros((1, 2)) for _ in range(7)))
    one, spec, both = np.ones(1), UnstakedHolders(), (np.zeros(2, dtype=int), np.arange(2))
    calm = Signals(*(0 * one for _ in range(9)))
    assert redeeming(book, HolderBounds.of(book), spec, 1.0, calm, both, np.array([0.9999, 0.9999]), 1.0).all()
    book.news_sensitivity[0, 0] = 10.0
    news = Signals(0 * one, 0 * one, 0.1 * one, *(0 * one for _ in range(6)))
    out = redeeming(book, HolderBounds.of(book), spec, 1.0, news, both, np.array([0.3755, 0.3755]), 1.0)
    assert out.tolist() == [True, True]
    out = redeeming(book, HolderBounds.of(book), spec, 1.0, news, both, np.array([0.3756, 0.3756]), 1.0)
    assert out.tolist() == [True, False]
