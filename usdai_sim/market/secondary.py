"""The secondary market for sUSDai: a staker who wants out now sells to arbitrageurs below NAV.

Discount to the redemption price (NAV_cons per share), per path:
    d = min(cap, base + a · queue share + b · expected wait (days) / 365 + c · loss news)
(``depositors.secondary``: base_discount, queue_slope, wait_slope_per_year, loss_news_slope,
max_discount). Arbitrageurs buy at most ``arbitrage_capital_usd_per_day`` × Δ of sUSDai value per step;
when willing sellers offer more, each sells the same fraction φ = min(1, capacity / offered) and queues
the rest. A seller receives (1 − d) × value; the discount d × value is what leaving now costs it, and the
arbitrageurs' gain. NAV and the share count do not change: shares only change hands.
"""

from __future__ import annotations

import numpy as np

from usdai_sim.params import DAYS_PER_YEAR
from usdai_sim.scenario.schema import SecondaryMarket


def discount(
    spec: SecondaryMarket, queue_share: np.ndarray, expected_wait_days: np.ndarray, loss_news: np.ndarray
) -> np.ndarray:
    """d (module docstring), a fraction of NAV per share in [0, cap]."""
    raw = (
        spec.base_discount
        + spec.queue_slope * queue_share
        + spec.wait_slope_per_year * expected_wait_days / DAYS_PER_YEAR
        + spec.loss_news_slope * loss_news
    )
    return np.clip(raw, 0.0, spec.max_discount)


def fill_fraction(offered_usd: np.ndarray, capacity_usd: float) -> np.ndarray:
    """φ = min(1, capacity / offered) per path (1 where nothing is offered)."""
    return np.minimum(1.0, np.divide(capacity_usd, offered_usd, out=np.ones_like(offered_usd), where=offered_usd > 0))
