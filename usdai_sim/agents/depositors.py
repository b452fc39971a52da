"""sUSDai holders: state arrays (n_paths, n_depositors), behaviour rules, and agent views.

Each step a depositor without an open request asks to redeem with probability 1 − exp(−h·dt/365),
with the hazard per year
    h = base + s_spread · (θ_spread − spread)⁺ + s_loss · (drawdown − θ_loss)⁺ + s_herd · (queue share − θ_herd)⁺
where spread = trailing sUSDai APY − T-bill, drawdown = 1 − price / running peak price, and queue
share = pending value / sUSDai NAV; a redemption wave adds its own probability. A depositor whose
spread beats its hurdle deposits a fraction of its wallet with probability 1 − exp(−d·dt/365).
One uniform per depositor and step decides both (request if u < p_redeem, deposit if u ≥ 1 − p_deposit);
only the few depositors whose uniform falls below a per-path bound of p_redeem are examined further.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usdai_sim.agents.base import ColumnAgent
from usdai_sim.params import DAYS_PER_YEAR, DepositorParams
from usdai_sim.scenario.schema import Depositors


@dataclass
class DepositorBook:
    """Dynamic state of every depositor on every path; arrays are (n_paths, n_depositors)."""

    shares: np.ndarray
    pending_shares: np.ndarray
    queue_key: np.ndarray
    request_day: np.ndarray
    window_end_day: np.ndarray
    wallet_usd: np.ndarray

    @classmethod
    def new(cls, dp: DepositorParams, n_paths: int) -> DepositorBook:
        """Balances staked at a price of 1.0, no open requests."""
        shape = (n_paths, len(dp.balance_usd))
        return cls(
            shares=np.broadcast_to(dp.balance_usd, shape).copy(),
            pending_shares=np.zeros(shape),
            queue_key=np.full(shape, np.inf),
            request_day=np.full(shape, np.inf),
            window_end_day=np.full(shape, np.inf),
            wallet_usd=np.broadcast_to(dp.wallet_usd, shape).copy(),
        )


@dataclass
class Signals:
    """What depositors see, per path (n_paths,)."""

    spread: np.ndarray
    drawdown: np.ndarray
    queue_share: np.ndarray
    wave_probability: np.ndarray


def redeem_hazard_per_year(
    dp: DepositorParams, spec: Depositors, signals: Signals, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """h (per year, module docstring) of depositor ``cols[k]`` on path ``rows[k]``."""
    spread_gap = np.maximum(dp.spread_threshold[cols] - signals.spread[rows], 0.0)
    loss_gap = np.maximum(signals.drawdown[rows] - dp.loss_threshold[cols], 0.0)
    herd_gap = np.maximum(signals.queue_share[rows] - dp.herd_threshold[cols], 0.0)
    return (
        spec.redeem_base_rate_per_year
        + dp.spread_sensitivity[cols] * spread_gap
        + dp.loss_sensitivity[cols] * loss_gap
        + dp.herd_sensitivity[cols] * herd_gap
    )


def hazard_bound_per_year(dp: DepositorParams, spec: Depositors, signals: Signals) -> np.ndarray:
    """An upper bound of h over all depositors, per path: each term at its largest sensitivity and gap."""
    return (
        spec.redeem_base_rate_per_year
        + dp.spread_sensitivity.max() * np.maximum(dp.spread_threshold.max() - signals.spread, 0.0)
        + dp.loss_sensitivity.max() * np.maximum(signals.drawdown - dp.loss_threshold.min(), 0.0)
        + dp.herd_sensitivity.max() * np.maximum(signals.queue_share - dp.herd_threshold.min(), 0.0)
    )


def redeem_probability(
    hazard_per_year: np.ndarray, wave_probability: np.ndarray, dt_days: float
) -> np.ndarray:
    """P(request this step) = 1 − exp(−h·dt/365)·(1 − wave probability)."""
    return 1.0 - np.exp(-hazard_per_year * dt_days / DAYS_PER_YEAR) * (1.0 - wave_probability)


@dataclass
class Decisions:
    """One step's decisions, sparse: path rows and depositor columns (row-major order) with amounts."""

    deposit_rows: np.ndarray
    deposit_cols: np.ndarray
    deposit_usd: np.ndarray
    request_rows: np.ndarray
    request_cols: np.ndarray
    request_shares: np.ndarray


def _request_mask(
    book: DepositorBook,
    dp: DepositorParams,
    spec: Depositors,
    signals: Signals,
    rows: np.ndarray,
    cols: np.ndarray,
    u: np.ndarray,
    min_request_shares: float,
    dt_days: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(requests?, shares requested) for candidates (rows, cols) with uniforms ``u``."""
    hazard = redeem_hazard_per_year(dp, spec, signals, rows, cols)
    p = redeem_probability(hazard, signals.wave_probability[rows], dt_days)
    amount = spec.request_fraction * book.shares[rows, cols]
    return (u < p) & (book.pending_shares[rows, cols] == 0.0) & (amount >= min_request_shares), amount


def decide(
    book: DepositorBook,
    dp: DepositorParams,
    spec: Depositors,
    signals: Signals,
    uniforms: np.ndarray,
    min_request_shares: float,
    dt_days: float,
) -> Decisions:
    """This step's deposits (USD) and redemption requests (shares), from one uniform per depositor.

    Only depositors whose uniform is below the path's bound on p_redeem (possible requesters) or at least
    1 − p_deposit (possible depositors) are examined: one pass over the uniforms finds both.
    """
    bound = redeem_probability(hazard_bound_per_year(dp, spec, signals), signals.wave_probability, dt_days)
    p_deposit = 1.0 - np.exp(-spec.deposit_rate_per_year * dt_days / DAYS_PER_YEAR)
    rows, cols = np.nonzero((uniforms < bound[:, None]) | (uniforms >= 1.0 - p_deposit))
    u = uniforms[rows, cols]
    request, shares = _request_mask(book, dp, spec, signals, rows, cols, u, min_request_shares, dt_days)
    wallet = book.wallet_usd[rows, cols]
    deposit = (u >= 1.0 - p_deposit) & (p_deposit > 0) & ~request
    deposit &= (signals.spread[rows] > dp.deposit_hurdle[cols]) & (wallet > 0.0)
    return Decisions(
        rows[deposit], cols[deposit], spec.deposit_fraction * wallet[deposit],
        rows[request], cols[request], shares[request],
    )


class Depositor(ColumnAgent):
    """One sUSDai holder; its state is column ``col`` of the model's DepositorBook, on every path."""

    @property
    def shares(self) -> np.ndarray:
        """sUSDai held (excluding pending), (n_paths,)."""
        return self.model.depositors.shares[:, self.col]

    @property
    def pending_shares(self) -> np.ndarray:
        """sUSDai in the redemption queue, (n_paths,)."""
        return self.model.depositors.pending_shares[:, self.col]

    @property
    def value_usd(self) -> np.ndarray:
        """Holdings (held + pending) at the redemption price, (n_paths,)."""
        return (self.shares + self.pending_shares) * self.model.price_cons
