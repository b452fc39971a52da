"""What holders can observe, per path (n_paths,), updated once a step before they decide.

* ``spread`` — trailing realised excess *income* yield over a window of W = ``yield_lookback_days``:
      spread = (Q_t / Q_{t−W} − 1 − (C_t − C_{t−W})) · 365 / W,   Q_t = P_t + Λ_t,
  P the redemption price (exchange ratio), Λ the net recognised loss per share cumulated since day 0
  (added back: losses reach holders through ``drawdown`` and ``loss_news``, not a third time here), C the
  cumulated T-bill return Σ r·Δ/365. Before day W the missing days count as earning exactly the T-bill
  (zero excess), so early noise is divided by the full W and never annualised from a few days.
* ``drawdown`` = 1 − P_t / max_{s≤t} P_s.
* ``loss_news`` — attention to loss events. A default is public on its day; the event's size is its
  expected loss at default (``protocol/loss_recognition.py``, EL) over NAV. Attention decays with
  half-life H = ``loss_news_half_life_days``:
      A_t = A_{t−Δ} · 2^(−Δ/H) + Σ EL of today's defaults / NAV_t.
  (Write-downs and sale shortfalls reach holders through the exchange ratio, i.e. ``drawdown``, so the
  news arrives when the default happens whatever the loss-recognition policy.)
* ``queue_share`` = pending value / NAV (NAV_cons); ``unfunded_queue_share`` = (pending value − idle)⁺ / NAV,
  the part of the queue that the vault's liquid assets cannot pay at the next window end. The herd term
  responds to this, so a queue that liquidity covers does not feed a run (its damping).
* ``expected_wait_days`` = days to the end of the window in progress + W_q · (pending value − idle)⁺ / I,
  W_q the queue window and I the cash expected per window: an exponentially weighted average (half-life
  W_q) of the vault's cash receipts (repayments, interest, recoveries, net reserve yield) per day × W_q;
  capped at ``MAX_WAIT_DAYS``.
* ``discount`` — the secondary-market discount to NAV (``usdai_sim/market/secondary.py``) from the above.
* ``outflow_share`` — the run made visible: what holders took out over the last ``OUTFLOW_WINDOW_DAYS``
  (stakers' exit requests and sales at NAV, unstaked redemptions) over the holders' total (NAV + unstaked
  USDai) now. Calm churn keeps it near 0.6%; a herd term above a threshold of a few percent responds to
  it, so a visible wave feeds further exits while ordinary churn does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usdai_sim.params import DAYS_PER_YEAR

MAX_WAIT_DAYS = 3.0 * DAYS_PER_YEAR
OUTFLOW_WINDOW_DAYS = 7.0


@dataclass
class Signals:
    """One step's signals, per path (n_paths,); ``wave_probability`` is a scripted redemption wave's share."""

    spread: np.ndarray
    drawdown: np.ndarray
    loss_news: np.ndarray
    queue_share: np.ndarray
    unfunded_queue_share: np.ndarray
    expected_wait_days: np.ndarray
    discount: np.ndarray
    wave_probability: np.ndarray
    outflow_share: np.ndarray


class SignalTracker:
    """The running state behind the signals: a window of prices and cumulated T-bill, attention, inflows."""

    def __init__(self, n_paths: int, window_days: float, dt_days: float, half_life_days: float) -> None:
        steps = max(1, int(np.ceil(window_days / dt_days)))
        self.window_days, self.dt_days, self.half_life_days = steps * dt_days, dt_days, half_life_days
        self.prices = np.ones((steps + 1, n_paths))
        self.loss_per_share = np.zeros(n_paths)
        self.cum_tbill = np.zeros((steps + 1, n_paths))
        self.k = 0
        self.peak = np.ones(n_paths)
        self.loss_news = np.zeros(n_paths)
        self.inflow_usd_per_day = np.zeros(n_paths)
        self.inflow_primed = False
        self.outflows_usd = np.zeros((max(1, int(round(OUTFLOW_WINDOW_DAYS / dt_days))), n_paths))

    def record_outflow(self, outflow_usd: np.ndarray) -> None:
        """This step's outflow (USD per path), seen by holders from the next step on."""
        self.outflows_usd[self.k % len(self.outflows_usd)] = outflow_usd

    def outflow_share(self, holders_total_usd: np.ndarray) -> np.ndarray:
        """Outflow over the window / holders' total (module docstring)."""
        total = self.outflows_usd.sum(axis=0)
        return np.divide(total, holders_total_usd, out=np.zeros_like(total), where=holders_total_usd > 0)

    def observe(self, price: np.ndarray, tbill: np.ndarray, news_loss_usd: np.ndarray, nav_usd: np.ndarray,
                inflow_usd: np.ndarray, queue_window_days: float, loss_per_share: np.ndarray | float = 0.0) -> None:
        """Take in one step: the price after it, the T-bill, the expected loss of today's defaults, NAV, the
        vault's cash receipts and the net loss recognised per share."""
        n = len(self.prices)
        self.cum_tbill[(self.k + 1) % n] = self.cum_tbill[self.k % n] + tbill * self.dt_days / DAYS_PER_YEAR
        self.k += 1
        self.loss_per_share = self.loss_per_share + loss_per_share
        self.prices[self.k % n] = price + self.loss_per_share
        self.peak = np.maximum(self.peak, price)  # the drawdown is of the price itself, losses included
        event = np.divide(news_loss_usd, nav_usd, out=np.zeros_like(price), where=nav_usd > 0)
        self.loss_news = self.loss_news * 0.5 ** (self.dt_days / self.half_life_days) + np.maximum(event, 0.0)
        per_day = inflow_usd / self.dt_days
        if not self.inflow_primed:
            self.inflow_usd_per_day, self.inflow_primed = per_day, True
        w = 1.0 - 0.5 ** (self.dt_days / queue_window_days)
        self.inflow_usd_per_day = (1.0 - w) * self.inflow_usd_per_day + w * per_day

    def cum_tbill_now(self) -> np.ndarray:
        """C_t, the T-bill return cumulated since day 0 (simple), per path."""
        return self.cum_tbill[self.k % len(self.cum_tbill)]

    def spread(self) -> np.ndarray:
        """Trailing excess income yield over the window (module docstring), annual decimal."""
        n = len(self.prices)
        now, then = self.k % n, (self.k + 1) % n
        excess = self.prices[now] / self.prices[then] - 1.0 - (self.cum_tbill[now] - self.cum_tbill[then])
        return excess * DAYS_PER_YEAR / self.window_days

    def drawdown(self, price: np.ndarray) -> np.ndarray:
        """1 − price / running peak."""
        return 1.0 - price / self.peak


def expected_wait_days(
    pending_usd: np.ndarray, idle_usd: np.ndarray, inflow_usd_per_day: np.ndarray, day: float, window_days: float
) -> np.ndarray:
    """Days to the window end + window · unfunded queue / cash per window, capped (module docstring)."""
    to_window_end = (np.floor(day / window_days) + 1.0) * window_days - day
    unfunded = np.maximum(pending_usd - idle_usd, 0.0)
    per_window = np.maximum(inflow_usd_per_day, 0.0) * window_days
    with np.errstate(divide="ignore", invalid="ignore"):
        windows = np.where(unfunded > 0, unfunded / per_window, 0.0)
    wait = np.where(pending_usd > 0, to_window_end, 0.0) + window_days * windows
    return np.minimum(np.nan_to_num(wait, nan=MAX_WAIT_DAYS, posinf=MAX_WAIT_DAYS), MAX_WAIT_DAYS)
