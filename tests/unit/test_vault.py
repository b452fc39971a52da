"""USDai and sUSDai vault rules (usdai_sim.protocol.vault) against hand-computed cases and properties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from usdai_sim.protocol.vault import (
    VaultState,
    accepted_mints,
    backing_ratio,
    fifo_fill,
    qev_bids,
    reserve_yield_usd,
    share_price,
    window_end_day,
)


def arr(*values: float) -> np.ndarray:
    """A float array."""
    return np.array(values, dtype=float)


# --- windows ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "end"), [(0.0, 30.0), (29.9, 30.0), (30.0, 60.0), (59.0, 60.0), (61.0, 90.0)])
def test_window_end_day(day: float, end: float) -> None:
    """A request on day t joins the window ending (⌊t/30⌋ + 1)·30; day 30 itself starts the next window."""
    assert window_end_day(day, 30.0) == end


@given(day=st.floats(0, 1e5), window=st.integers(1, 365))
def test_window_end_is_the_next_multiple(day: float, window: int) -> None:
    """day < end ≤ day + W, and end is a multiple of W."""
    end = window_end_day(day, window)
    assert day < end <= day + window
    assert end % window == 0


# --- FIFO ------------------------------------------------------------------------------------------


def test_fifo_orders_by_key() -> None:
    """Requests of $100 (key 3), $50 (key 1), $80 (key 2) with $140: key 1 → 50, key 2 → 80, key 3 → 10."""
    paid = fifo_fill(np.array([[100.0, 50.0, 80.0]]), np.array([[3.0, 1.0, 2.0]]), np.ones((1, 3), bool), arr(140))
    assert paid.tolist() == [[10.0, 50.0, 80.0]]


def test_fifo_ties_broken_by_column() -> None:
    """Equal keys: the lower column goes first ($60 of liquidity: 40 then 20 of 40)."""
    paid = fifo_fill(np.array([[40.0, 40.0]]), np.array([[5.0, 5.0]]), np.ones((1, 2), bool), arr(60))
    assert paid.tolist() == [[40.0, 20.0]]


def test_fifo_partial_fill_keeps_the_remainder_unpaid() -> None:
    """$30 against one $100 request pays 30; the other 70 stays owed (value − paid)."""
    value = np.array([[100.0]])
    paid = fifo_fill(value, np.array([[0.0]]), np.ones((1, 1), bool), arr(30))
    assert paid[0, 0] == 30.0 and (value - paid)[0, 0] == 70.0


def test_fifo_ineligible_requests_get_nothing() -> None:
    """An ineligible request (window not ended) with the earliest key is skipped; the next one is paid."""
    eligible = np.array([[False, True]])
    paid = fifo_fill(np.array([[100.0, 100.0]]), np.array([[0.0, 1.0]]), eligible, arr(1000))
    assert paid.tolist() == [[0.0, 100.0]]


def test_fifo_no_liquidity_pays_nothing() -> None:
    """Zero idle USDai: nothing is paid."""
    paid = fifo_fill(np.array([[100.0, 5.0]]), np.array([[0.0, 1.0]]), np.ones((1, 2), bool), arr(0))
    assert paid.tolist() == [[0.0, 0.0]]


queue = st.integers(1, 8).flatmap(
    lambda n: st.tuples(
        arrays(float, (3, n), elements=st.floats(0, 1e6)),
        arrays(float, (3, n), elements=st.integers(0, 5).map(float)),
        arrays(bool, (3, n)),
        arrays(float, 3, elements=st.floats(0, 3e6)),
    )
)


@given(queue)
def test_fifo_properties(case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    """0 ≤ paid ≤ value; ineligible get 0; Σ paid ≤ liquidity; no later key paid while an earlier one is
    short;
    and all liquidity is used unless every eligible request is paid in full. Round-off of the running sum
    (ulps of the path's total, ~1e-16 relative) is tolerated."""
    value, key, eligible, liquidity = case
    paid = fifo_fill(value, key, eligible, liquidity)
    ulps = 1e-12 * (value.sum(axis=1) + liquidity)
    assert np.all(paid >= 0.0) and np.all(paid <= value)
    assert np.all(paid[~eligible] == 0.0)
    assert np.all(paid.sum(axis=1) <= liquidity + ulps)
    short = eligible & (paid < value - ulps[:, None])
    for p in range(value.shape[0]):
        for a in np.flatnonzero(short[p]):
            later = eligible[p] & ((key[p] > key[p, a]) | ((key[p] == key[p, a]) & (np.arange(key.shape[1]) > a)))
            assert np.all(paid[p, later] <= ulps[p])
    owed = np.where(eligible, value, 0.0).sum(axis=1)
    np.testing.assert_allclose(paid.sum(axis=1), np.minimum(owed, liquidity), rtol=1e-9, atol=1e-6)


def dense_fifo_reference(value: np.ndarray, key: np.ndarray, eligible: np.ndarray, liquidity: np.ndarray) -> np.ndarray:
    """The queue rule as it was written over whole (paths, requests) arrays: a stable sort by key with the
    ineligible last, a cumulative sum along the row, clip, and the fills put back in place."""
    order = np.argsort(np.where(eligible, key, np.inf), axis=1, kind="stable")
    value_sorted = np.take_along_axis(np.where(eligible, value, 0.0), order, axis=1)
    before = np.cumsum(value_sorted, axis=1) - value_sorted
    fill = np.empty_like(value_sorted)
    np.put_along_axis(fill, order, np.clip(liquidity[:, None] - before, 0.0, value_sorted), axis=1)
    return fill


@given(queue)
def test_sparse_fifo_equals_the_dense_rule_bit_for_bit(case: tuple[np.ndarray, ...]) -> None:
    """The queue serviced over its eligible requests only pays exactly (not approximately) what the dense rule
    pays: the same running sums in the same order, ties by column."""
    value, key, eligible, liquidity = case
    np.testing.assert_array_equal(fifo_fill(value, key, eligible, liquidity),
                                  dense_fifo_reference(value, key, eligible, liquidity))


def test_running_sums_restart_at_each_row_in_the_given_order() -> None:
    """Rows 0, 0, 1, 0, 1 with values 1, 2, 4, 8, 16 summed in order [3, 0, 1, 4, 2]: row 0 runs 8, 9, 11 and
    row 1 runs 16, 20 (row groups must be together in the order, as a lexsort by row gives)."""
    from usdai_sim.protocol.vault import running_sums_by_row

    rows = np.array([0, 0, 1, 0, 1])
    order = np.array([3, 0, 1, 4, 2])
    sums = running_sums_by_row(rows, order, np.array([1.0, 2.0, 4.0, 8.0, 16.0]))
    np.testing.assert_array_equal(sums, [9.0, 11.0, 20.0, 8.0, 16.0])


# --- supply cap ------------------------------------------------------------------------------------


def test_accepted_mints_in_order_within_each_path() -> None:
    """Cap 1,000. Path 0 (supply 900) mints 60, 30, 20 → running 960, 990, 1,010: the first two pass.
    Path 1 (supply 0) mints 600, 500 → 600 passes, 1,100 fails; path 2 has no mint."""
    rows = np.array([0, 0, 0, 1, 1])
    ok = accepted_mints(rows, arr(60, 30, 20, 600, 500), arr(900, 0, 0), 1000.0)
    assert ok.tolist() == [True, True, False, True, False]


def test_accepted_mints_exactly_at_cap_and_uncapped() -> None:
    """Reaching the cap exactly is allowed; with no cap everything passes."""
    assert accepted_mints(np.array([0]), arr(100), arr(900), 1000.0).tolist() == [True]
    assert accepted_mints(np.array([0]), arr(1e12), arr(900), None).tolist() == [True]


@given(
    mints=st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1e6)), max_size=12),
    supply=arrays(float, 3, elements=st.floats(0, 2e6)),
    cap=st.floats(1.0, 3e6),
)
def test_accepted_mints_never_exceed_the_cap(mints: list[tuple[int, float]], supply: np.ndarray, cap: float) -> None:
    """On every path, supply + Σ accepted mints ≤ cap (or nothing was accepted)."""
    mints = sorted(mints, key=lambda r: r[0])
    rows = np.array([r for r, _ in mints], dtype=int)
    amounts = np.array([a for _, a in mints], dtype=float)
    ok = accepted_mints(rows, amounts, supply, cap)
    for r in range(3):
        taken = amounts[(rows == r) & ok].sum()
        assert taken == 0.0 or supply[r] + taken <= cap * (1 + 1e-9)


def test_a_rejected_mint_does_not_block_a_later_one_that_fits() -> None:
    """DOMAIN.md: each mint is checked alone, amount + total_supply ≤ cap. Supply 900, cap 1,000: 200 is
    rejected (1,100), then 50 fits (950) and must be accepted."""
    ok = accepted_mints(np.array([0, 0]), arr(200, 50), arr(900), 1000.0)
    assert ok.tolist() == [False, True]


# --- yield, price, balances ------------------------------------------------------------------------


def test_reserve_yield_hand_computed() -> None:
    """Supply $2B, T-bill 4%, incentive 4.5% on up to $1B, 30 days:
    (2e9·0.04 + 1e9·0.045)·30/365 = (80M + 45M)·30/365 = $10,273,972.60."""
    got = reserve_yield_usd(arr(2e9), arr(0.04), 0.045, 1e9, 30.0)
    assert got[0] == pytest.approx(10_273_972.60, abs=0.005)


def test_reserve_yield_below_cap() -> None:
    """Supply $500M below the cap: 500M·(0.04 + 0.045)·1/365 = $116,438.36 a day."""
    assert reserve_yield_usd(arr(5e8), arr(0.04), 0.045, 1e9, 1.0)[0] == pytest.approx(116_438.36, abs=0.005)


def test_a_round_off_negative_supply_earns_no_yield() -> None:
    """A drained supply a round-off below zero (−6e-8 USD) with a 1e9 APR incentive and no cap: the yield is
    0, not −6e-8·1e9·7/365 = −$1.14 (the deep profile drew this after a 100% redemption wave)."""
    got = reserve_yield_usd(arr(-5.96e-8), arr(0.04), 1e9, 0.0, 7.0)
    assert got[0] == 0.0
    assert reserve_yield_usd(arr(-5.96e-8), arr(0.04), 1e9, 1e9, 7.0)[0] == 0.0


def test_share_price() -> None:
    """NAV 1,050 over 1,000 shares = 1.05; an emptied vault (dust shares) keeps its last price."""
    assert share_price(arr(1050, 0), arr(1000, 1e-9), arr(1.0, 1.04)).tolist() == [1.05, 1.04]


def test_receive_and_pay_out_keep_supply_equal_to_reserves() -> None:
    """Minting and paying out move idle USDai and reserves together; supply = idle + unstaked = reserves."""
    v = VaultState.new(2, 1000.0, 500.0, 0.0, 0.0)
    v.receive(arr(200, 0))
    v.pay_out(arr(50, 300))
    assert v.idle_usd.tolist() == [1150.0, 700.0]
    np.testing.assert_array_equal(v.supply_usd, v.reserves_usd)


def test_qev_bids_clip_to_limits() -> None:
    """Bids of 5, 50, 20,000 bps on 1,000 shares with limits 10..10,000: 1, 5, 1,000 shares; non-bidders 0."""
    got = qev_bids(
        np.array([[1000.0, 1000.0, 1000.0, 1000.0]]),
        arr(5, 50, 20_000, 50),
        np.array([[True, True, True, False]]),
        10.0,
        10_000.0,
    )
    assert got.tolist() == [[1.0, 5.0, 1000.0, 0.0]]


def test_backing_ratio_hand_numbers() -> None:
    """Reserves / supply; a gap within 1e-9 of the starting supply is round-off (reads 1); no supply reads 1."""
    reserves = np.array([90.0, -1e-7, 5e8 - 0.4, 5e8 - 0.6, 0.0, 100.0])
    supply = np.array([100.0, 5e-10, 5e8, 5e8, 0.0, 100.0])
    got = backing_ratio(reserves, supply, scale_usd=5e8)
    # 0.9 a real shortfall; -1e-7 against 5e-10 is ulps of a drained vault (the raw ratio would be -200);
    # 0.4 USD on 5e8 is within 0.5 USD of round-off, 0.6 USD is not; empty; exact.
    np.testing.assert_allclose(got, [0.9, 1.0, 1.0, (5e8 - 0.6) / 5e8, 1.0, 1.0], rtol=0, atol=1e-15)


def test_backing_ratio_edges() -> None:
    """Reserves left with no supply read 1 (no division by zero); the round-off band is closed and at least 1e-9 USD."""
    assert backing_ratio(np.array([100.0]), np.array([0.0]), scale_usd=1e6)[0] == 1.0
    assert backing_ratio(np.array([0.25]), np.array([0.5]), scale_usd=0.0)[0] == 0.5  # a supply below 1 USD counts
    assert backing_ratio(np.array([99.0]), np.array([100.0]), scale_usd=1e9)[0] == 1.0  # gap == 1e-9 × 1e9: round-off
    tiny_gap = backing_ratio(np.array([1.0 - 1.5e-9]), np.array([1.0]), scale_usd=0.0)[0]
    assert tiny_gap == 1.0 - 1.5e-9  # the band is 1e-9 × max(scale, 1) USD: 1.5e-9 USD is a gap
