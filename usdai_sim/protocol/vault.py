"""USDai and the sUSDai vault: reserves, NAV, share price, the ERC-7540 redemption queue and QEV.

USDai: mint and redeem 1:1 against the reserve stablecoin, so supply = idle USDai in the vault +
USDai held outside it = reserves, always. Reserve yield on the whole supply (T-bill + incentive on up to
a cap) is minted to the vault, less the admin fee.

sUSDai (values in USD, shares in sUSDai):
    NAV_cons = idle + Σ carrying value of loans            (redemptions are priced here)
    NAV_opt  = NAV_cons + (1 − fee) · Σ accrued unpaid interest   (deposits are priced here)
    total shares = holders' shares + pending (requested, not yet serviced) + admin shares
Pending shares keep sharing yield and losses until serviced. A request made on day t joins the
window ending at (⌊t/W⌋ + 1)·W; after that day it is serviced first-in first-out from idle USDai only,
at NAV_cons / total shares; a partial fill keeps its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from usdai_sim.jit import kernel
from usdai_sim.params import DAYS_PER_YEAR


@dataclass
class VaultState:
    """Per-path protocol balances, (n_paths,) each, USD unless named otherwise."""

    idle_usd: np.ndarray
    reserves_usd: np.ndarray
    unstaked_usd: np.ndarray
    admin_shares: np.ndarray
    first_loss_left_usd: np.ndarray
    insurance_left_usd: np.ndarray

    @classmethod
    def new(
        cls, n_paths: int, nav_usd: float, unstaked_usd: float, first_loss_usd: float, cover_usd: float
    ) -> VaultState:
        """A vault holding ``nav_usd`` of idle USDai, with ``unstaked_usd`` more USDai outstanding."""
        full = lambda v: np.full(n_paths, float(v))  # noqa: E731
        return cls(
            full(nav_usd),
            full(nav_usd + unstaked_usd),
            full(unstaked_usd),
            full(0.0),
            full(first_loss_usd),
            full(cover_usd),
        )

    @property
    def supply_usd(self) -> np.ndarray:
        """USDai outstanding: held by the vault plus held outside it."""
        return self.idle_usd + self.unstaked_usd

    def receive(self, amount_usd: np.ndarray) -> None:
        """Stablecoin paid to the vault is minted into idle USDai (reserves and supply rise together)."""
        self.idle_usd = self.idle_usd + amount_usd
        self.reserves_usd = self.reserves_usd + amount_usd

    def pay_out(self, amount_usd: np.ndarray) -> None:
        """Idle USDai redeemed for stablecoin that leaves the vault (loans funded, redemptions, fees)."""
        self.idle_usd = self.idle_usd - amount_usd
        self.reserves_usd = self.reserves_usd - amount_usd


BACKING_ROUNDOFF: Final = 1e-9
"""Relative round-off of the two running sums behind the backing ratio (reserves, and supply = idle + unstaked):
a gap below this × the largest amount that passed through them (``ledger.roundoff_scale_usd``) is arithmetic, not
a shortfall (the ledger identity uses the same scale)."""


def backing_ratio(reserves_usd: np.ndarray, supply_usd: np.ndarray, scale_usd: float | np.ndarray) -> np.ndarray:
    """USDai reserves / supply per path (1 = fully backed).

    A gap |supply − reserves| ≤ ``BACKING_ROUNDOFF`` × max(``scale_usd``, 1) is round-off and reads 1: once the
    supply is redeemed to nearly nothing, the two sums differ by ulps of the millions that flowed through them, and
    their ratio would be noise (seen: −191 on a supply of 5e-10 USD). No supply reads 1 (nothing is owed).
    """
    gap = np.abs(supply_usd - reserves_usd)
    ratio = np.divide(reserves_usd, supply_usd, out=np.ones_like(supply_usd), where=supply_usd > 0)
    return np.where(gap <= BACKING_ROUNDOFF * np.maximum(scale_usd, 1.0), 1.0, ratio)


def reserve_yield_usd(
    supply_usd: np.ndarray, tbill: np.ndarray, incentive_apr: float, incentive_cap_usd: float, dt_days: float
) -> np.ndarray:
    """Gross reserve yield over dt: (S⁺ · r_tbill + min(S⁺, cap) · incentive) · dt/365, S⁺ = max(supply, 0) USD.

    A drained supply can sit a round-off below zero (−6e-8 USD after a full redemption of 3e8); it earns
    nothing rather than a negative yield that a large incentive APR would amplify into a real debt."""
    earning_usd = np.maximum(supply_usd, 0.0)
    return (
        (earning_usd * tbill + np.minimum(earning_usd, incentive_cap_usd) * incentive_apr)
        * dt_days
        / DAYS_PER_YEAR
    )


DUST_SHARES = 1e-6
"""A vault with fewer shares than this is empty: its price is undefined and the last price stands."""


def share_price(nav_usd: np.ndarray, total_shares: np.ndarray, last_price: np.ndarray) -> np.ndarray:
    """USD per sUSDai, NAV / shares; an emptied vault (dust shares) keeps its last price, so the next
    depositor neither gets round-off dust for free nor pays for it, and no loss is reported."""
    live = total_shares > DUST_SHARES
    return np.where(live, nav_usd / np.where(live, total_shares, 1.0), last_price)


def window_end_day(day: float, window_days: float) -> float:
    """End of the fixed window containing ``day``: (⌊day/W⌋ + 1)·W."""
    return (np.floor(day / window_days) + 1.0) * window_days


def accepted_mints(
    rows: np.ndarray, amount_usd: np.ndarray, supply_usd: np.ndarray, cap_usd: float | None
) -> np.ndarray:
    """Mask of mints accepted under the supply cap; each is checked alone, amount + supply ≤ cap, in order
    within its path (``rows``, sorted), so a rejected mint does not block a later one that fits.

    Vectorised over paths: the k-th mint of every path is decided together (a loop over ranks, not agents).
    """
    accepted = np.ones(amount_usd.shape, bool)
    if cap_usd is None or rows.size == 0:
        return accepted
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    rank = np.arange(rows.size) - np.repeat(starts, np.diff(np.r_[starts, rows.size]))
    room = cap_usd * (1.0 + 1e-12) - supply_usd.astype(float)
    for r in range(int(rank.max()) + 1):
        at = np.flatnonzero(rank == r)
        fits = amount_usd[at] <= room[rows[at]]
        accepted[at] = fits
        room[rows[at[fits]]] -= amount_usd[at[fits]]
    return accepted


def fifo_fill(
    value_usd: np.ndarray, key: np.ndarray, eligible: np.ndarray, liquidity_usd: np.ndarray
) -> np.ndarray:
    """USD paid to each request: eligible requests in ascending key order (ties by column) until liquidity ends.

    ``value_usd``, ``key``, ``eligible`` are (P, N); ``liquidity_usd`` is (P,). fill_k = clip(L − Σ_{j<k} v_j, 0, v_k).
    The dense form of ``fifo_fill_requests``.
    """
    rows, cols = np.nonzero(eligible)
    fill = np.zeros(value_usd.shape)
    fill[rows, cols] = fifo_fill_requests(rows, value_usd[rows, cols], key[rows, cols], liquidity_usd)
    return fill


def fifo_fill_requests(
    rows: np.ndarray, value_usd: np.ndarray, key: np.ndarray, liquidity_usd: np.ndarray
) -> np.ndarray:
    """``fifo_fill`` of the eligible requests only, each (k,) in row-major order (path ``rows``, ascending, then
    column): within its path, request k is paid clip(L − Σ_{j<k} v_j, 0, v_k) in ascending key order, ties in
    the given order."""
    value_usd = np.asarray(value_usd, float)
    before = running_sums_by_row(rows, np.lexsort((key, rows)), value_usd) - value_usd
    return np.clip(np.asarray(liquidity_usd, float)[rows] - before, 0.0, value_usd)


@kernel
def running_sums_by_row(rows: np.ndarray, order: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Σ of ``values`` through entry k, summed in ``order`` (entries of one row together) within k's row, (k,):
    a cumulative sum per path, restarted at each row, in one pass (np.cumsum's order of additions)."""
    sums = np.zeros(values.size)
    running, row = 0.0, -1
    for k in order:
        if rows[k] != row:
            running, row = 0.0, rows[k]
        running += values[k]
        sums[k] = running
    return sums


def qev_bids(
    pending_shares: np.ndarray, bid_bps: np.ndarray, bidding: np.ndarray, min_bps: float, max_bps: float
) -> np.ndarray:
    """Shares each bidder gives up for priority: clip(bid, min, max)/10,000 × its pending shares."""
    return np.where(bidding, np.clip(bid_bps, min_bps, max_bps) / 1e4 * pending_shares, 0.0)
