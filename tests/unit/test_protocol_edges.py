"""Edges of the protocol rules that mutation testing found unpinned (tests/mutation/RESULTS.md)."""

from __future__ import annotations

import warnings

import numpy as np

from usdai_sim.protocol.loans import scheduled_payment
from usdai_sim.protocol.vault import DUST_SHARES, accepted_mints, fifo_fill, share_price


def test_zero_rate_schedule_warns_nothing() -> None:
    """A 0% loan divides 0 by 0 internally, silenced; the payment is B/M and no RuntimeWarning escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        interest, principal = scheduled_payment(
            np.array([1200.0]), np.array([0.0]), np.array([12]), np.array([False])
        )
    assert interest.tolist() == [0.0] and principal.tolist() == [100.0]


def test_exactly_dust_shares_is_an_empty_vault() -> None:
    """At exactly DUST_SHARES the vault counts as empty and keeps its last price."""
    price = share_price(np.array([5.0, 5.0]), np.array([DUST_SHARES, 2 * DUST_SHARES]), np.array([0.9, 0.9]))
    assert price.tolist() == [0.9, 5.0 / (2 * DUST_SHARES)]


def test_a_mint_that_exactly_fills_the_cap_is_accepted() -> None:
    cap_usd = 1.0
    room = cap_usd * (1.0 + 1e-12) - 0.0
    accepted = accepted_mints(np.array([0, 0]), np.array([room, 1e-9]), np.array([0.0]), cap_usd)
    assert accepted.tolist() == [True, False]


def test_fifo_ties_in_a_long_queue_keep_column_order() -> None:
    """200 requests with two keys (beyond the insertion-sort size of an unstable sort): ties paid by column."""
    n = 200
    key = np.random.default_rng(1).integers(0, 2, n).astype(float)[None, :]
    first = np.flatnonzero(key[0] == 0)
    half = len(first) // 2
    fill = fifo_fill(np.ones((1, n)), key, np.ones((1, n), bool), np.array([float(half)]))
    assert np.flatnonzero(fill[0]).tolist() == first[:half].tolist()
