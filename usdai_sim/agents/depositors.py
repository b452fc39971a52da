"""sUSDai holders: state arrays (n_paths, n_depositors), behaviour rules, and agent views.

Each step a depositor without an open request asks to redeem with probability 1 − exp(−h·dt/365),
with the hazard per year
    h = base + s_spread · (θ_spread − spread)⁺ + s_loss · (drawdown − θ_loss)⁺ + s_herd · (queue share − θ_herd)⁺
where spread = trailing sUSDai APY − T-bill, drawdown = 1 − price / running peak price, and queue
share = pending value / sUSDai NAV; a redemption wave adds its own probability. A depositor whose
spread beats its hurdle deposits a fraction of its wallet with probability 1 − exp(−d·dt/365).
One uniform per depositor and step decides both (request if u < p_redeem, deposit if u ≥ 1 − p_deposit).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

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


def redeem_hazard_per_year(dp: DepositorParams, spec: Depositors, signals: Signals) -> np.ndarray:
    """h (per year) for each path and depositor (module docstring)."""
    spread_gap = np.maximum(dp.spread_threshold - signals.spread[:, None], 0.0)
    loss_gap = np.maximum(signals.drawdown[:, None] - dp.loss_threshold, 0.0)
    herd_gap = np.maximum(signals.queue_share[:, None] - dp.herd_threshold, 0.0)
    return (
        spec.redeem_base_rate_per_year
        + dp.spread_sensitivity * spread_gap
        + dp.loss_sensitivity * loss_gap
        + dp.herd_sensitivity * herd_gap
    )


def decide(
    book: DepositorBook,
    dp: DepositorParams,
    spec: Depositors,
    signals: Signals,
    uniforms: np.ndarray,
    min_request_shares: float,
    dt_days: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(deposit USD, shares requested for redemption), each (P, D), for this step."""
    years = dt_days / DAYS_PER_YEAR
    p_hazard = 1.0 - np.exp(-redeem_hazard_per_year(dp, spec, signals) * years)
    p_redeem = 1.0 - (1.0 - p_hazard) * (1.0 - signals.wave_probability[:, None])
    free = (book.pending_shares == 0.0) & (book.shares >= min_request_shares)
    request = free & (uniforms < p_redeem)
    keen = signals.spread[:, None] > dp.deposit_hurdle
    p_deposit = np.where(keen, 1.0 - np.exp(-spec.deposit_rate_per_year * years), 0.0)
    deposit = ~request & (uniforms >= 1.0 - p_deposit) & (book.wallet_usd > 0.0)
    request_shares = np.where(request, spec.request_fraction * book.shares, 0.0)
    request_shares = np.where(request_shares >= min_request_shares, request_shares, 0.0)
    return np.where(deposit, spec.deposit_fraction * book.wallet_usd, 0.0), request_shares


class Depositor(mesa.Agent):
    """One sUSDai holder; its state is column ``col`` of the model's DepositorBook, on every path."""

    def __init__(self, model: mesa.Model, col: int) -> None:
        super().__init__(model)
        self.col = col

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
