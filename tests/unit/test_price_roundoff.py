"""Redeeming almost the whole vault moves the exchange ratio only by round-off scaled by the share shrinkage.

In real arithmetic a redemption paid at the price leaves it unchanged: (NAV − paid) / (S − paid/price) =
NAV/S. In floats both remainders are differences of nearly equal numbers, so their relative error grows
by S_before / S_after. The stateful machine's ``exchange_ratio_falls_only_on_a_loss`` allows exactly
that (the deep profile falsified a fixed 1e-12 with a 99.99% redemption and no value lost).
"""

from __future__ import annotations

import numpy as np
from test_queue import at_day, lend, request, small_model

from usdai_sim.model import service

PRICE = 0.2684501790980001
"""An exchange ratio that is not a round number (the one of the deep-profile case)."""
LOAN_USD = 1321.2
"""What stays in the vault after the queue is paid (a loan), chosen so that the round-off shows."""
STAKERS = 4
"""The stakers of ``test_queue.small_model``; every one asks to redeem all its shares."""


def test_emptying_redemption_moves_the_price_only_by_round_off() -> None:
    m = small_model()
    shares = 5e7 / PRICE / STAKERS
    m.depositors.shares[:, :STAKERS] = shares
    m.depositors.shares[:, STAKERS:] = 0.0  # the arbitrageurs' book (last column) holds nothing
    m.vault.idle_usd[:] = m.vault.reserves_usd[:] = 5e7
    m.total_shares, m.pending_total = m.count_shares()
    m._nav()
    lend(m, LOAN_USD)
    for col in range(STAKERS):
        request(m, col, shares, day=10.0)
    at_day(m, 30.0)
    price, total = m.price_cons.copy(), m.total_shares.copy()
    service(m)
    shrink = total / m.total_shares
    fall = (price - m.price_cons) / price
    assert np.all(shrink > 3e4)
    assert np.all(m.nav_cons == LOAN_USD)
    assert fall.max() > 1e-12  # a fixed relative tolerance of 1e-12 would call this a loss
    assert np.all(np.abs(fall) <= 1e-12 * shrink)
