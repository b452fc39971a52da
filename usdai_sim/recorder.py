"""Streaming aggregation of one work block: nothing kept in memory grows with the number of steps.

* per-path series (float32), one row every ``record_every_steps`` steps, written into the sink the
  engine provides (a block's view of a scratch file, ``series.SeriesFile``), so quantile bands are
  computed at the end over all paths, independent of chunking;
* the ledger, summed per seed block of paths each step (float64), so totals do not depend on chunking;
* integer histograms (LTV of live loans per record, waits of completed redemptions);
* per-path running extremes (drawdown, first loss day, queue peak, longest wait, backing) and the growth
  of one dollar held in T-bills (the holder's alternative, for the shortfall against T-bills).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from usdai_sim.agents import borrowers as br
from usdai_sim.agents.borrower_kernel import ACTIVE
from usdai_sim.agents.borrowers import BorrowerBook
from usdai_sim.agents.signals import Signals
from usdai_sim.jit import element, kernel
from usdai_sim.ledger import COLUMNS, Ledger
from usdai_sim.market.state import MarketState
from usdai_sim.protocol.vault import VaultState, backing_ratio
from usdai_sim.rng import SEED_BLOCK
from usdai_sim.scenario.schema import Scenario
from usdai_sim.series import FLOAT32_LIMIT, SeriesFile


class RecordedModel(Protocol):
    """What the recorder reads from a model after each step (``model.UsdaiModel`` provides it).

    Declared here, below the model, so that the recorder never imports the model that owns it.
    """

    scenario: Scenario
    n_paths: int
    day_end: float
    ledger: Ledger
    book: BorrowerBook
    vault: VaultState
    roundoff_scale_usd: np.ndarray
    market: MarketState
    price_cons: np.ndarray
    price_opt: np.ndarray
    nav_cons: np.ndarray
    carrying_usd: np.ndarray
    collateral_usd: np.ndarray
    utilisation: np.ndarray
    total_shares: np.ndarray
    pending_total: np.ndarray
    signals: Signals | None

BASE_SERIES: dict[str, str] = {
    "exchange_ratio": "sUSDai redemption price, NAV_cons / shares (USDai per sUSDai)",
    "exchange_ratio_opt": "sUSDai deposit price, NAV_opt / shares (USDai per sUSDai)",
    "apy_trailing": "sUSDai trailing realised APY over the depositors' look-back (annual decimal)",
    "tbill_rate": "T-bill rate (annual decimal)",
    "utilisation_mean": "mean utilisation of uncontracted GPUs of borrowers with live loans (fraction)",
    "nav_usd": "sUSDai conservative NAV (USD)",
    "idle_usd": "idle USDai in the vault (USD)",
    "loans_usd": "loan book at carrying value (USD)",
    "loan_share": "loan book / NAV (fraction)",
    "queue_usd": "pending redemption requests at the redemption price (USD)",
    "queue_fraction": "pending redemption shares / sUSDai shares outstanding (fraction of sUSDai supply)",
    "supply_usd": "USDai supply (USD)",
    "ltv_mean": "principal-weighted LTV of live loans (fraction)",
    "ltv_max": "highest LTV among live loans (fraction)",
    "defaults_cumulative": "loans defaulted so far (count)",
    "principal_loss_cumulative_usd": "principal loss recognised so far (USD)",
    "first_loss_left_usd": "first-loss capital not yet used (USD)",
    "secondary_discount": "sUSDai secondary-market discount to NAV (fraction)",
    "loss_news": "holders' attention to recent loss events, decaying (fraction of NAV)",
    "yield_spread": "stakers' signal: trailing realised excess yield over the T-bill (annual decimal)",
    "unstaked_usd": "USDai held outside the vault by unstaked holders (USD)",
}
LTV_BINS = np.linspace(0.0, 2.0, 41)


LTV_TOP = 2.0 - 1e-12
"""Largest LTV a histogram bin holds: values are clipped into [0, LTV_TOP]."""
LTV_MAX_CAP = 1e3
"""The recorded per-path maximum LTV is capped here (an all-but-worthless fleet has LTV → ∞)."""


@element
def ltv_bin(ltv: float, edges: np.ndarray) -> int:
    """Bin i of the evenly spaced ``edges`` with edges[i] ≤ x < edges[i+1] for x = ``ltv`` clipped into
    [0, LTV_TOP] (NaN goes to the top bin), as ``np.searchsorted(edges, x, side="right") − 1``: the guess
    ⌊x / width⌋ corrected against the edges themselves, so round-off in the guess never moves a value."""
    x = min(max(ltv, 0.0), LTV_TOP) if ltv == ltv else LTV_TOP
    last = edges.size - 2
    i = min(int(x / (edges[1] - edges[0])), last)
    while i > 0 and edges[i] > x:
        i -= 1
    while i < last and edges[i + 1] <= x:
        i += 1
    return i


@kernel
def live_ltv_summary(
    status: np.ndarray, principal_usd: np.ndarray, collateral_usd: np.ndarray, counts_out: np.ndarray
) -> np.ndarray:
    """One pass over the active loans of a block (P, B): LTV = principal / collateral (∞ when the collateral
    is 0) counted into ``counts_out`` by ``ltv_bin``; returns each path's largest LTV capped at LTV_MAX_CAP
    (0 without an active loan)."""
    n_paths, n_loans = status.shape
    largest = np.zeros(n_paths)
    for p in range(n_paths):
        for b in range(n_loans):
            if status[p, b] != ACTIVE:
                continue
            ltv = principal_usd[p, b] / collateral_usd[p, b] if collateral_usd[p, b] > 0 else np.inf
            counts_out[ltv_bin(ltv, LTV_BINS)] += 1
            largest[p] = max(largest[p], min(ltv, LTV_MAX_CAP))
    return largest


FIRST_DROP_TOLERANCE = 1e-12


def series_names(class_names: tuple[str, ...]) -> tuple[str, ...]:
    """All recorded per-path series, class series last."""
    per_class = [f"resale_index_{c}" for c in class_names] + [
        f"rental_{c}_usd_per_gpu_hour" for c in class_names
    ]
    return tuple(BASE_SERIES) + tuple(per_class)


def record_count(n_steps: int, every: int) -> int:
    """Rows of the per-path series: day 0 and every ``every`` steps after."""
    return n_steps // every + 1


class Recorder:
    """Collects everything a Results object is built from, for one work block."""

    def __init__(self, m: RecordedModel, series_out: np.ndarray | SeriesFile | None) -> None:
        sim = m.scenario.simulation
        self.every = sim.record_every_steps
        self.names = series_names(m.scenario.class_names)
        n_rec = record_count(sim.n_steps, self.every)
        shape = (n_rec, len(self.names), m.n_paths)
        self.series = np.zeros(shape, np.float32) if series_out is None else series_out
        self.n_seed_blocks = -(-m.n_paths // SEED_BLOCK)
        self.ledger_sums = np.zeros((sim.n_steps + 1, len(COLUMNS), self.n_seed_blocks))
        self.ltv_hist = np.zeros((n_rec, len(LTV_BINS) - 1), np.int64)
        self.wait_hist = np.zeros(sim.horizon_days + 2, np.int64)
        lookback = max(1, int(np.ceil(m.scenario.depositors.yield_lookback_days / sim.step_days)))
        self.prices = np.ones((lookback + 1, m.n_paths))
        self.dt_days = float(sim.step_days)
        p = m.n_paths
        self.peak_price = np.ones(p)
        self.max_drawdown = np.zeros(p)
        self.first_drop_day = np.full(p, np.nan)
        self.queue_peak_fraction = np.zeros(p)
        self.longest_wait_days = np.zeros(p)
        self.backing_min = np.ones(p)
        self.tbill_growth = np.ones(p)
        self.cumulative = {"defaults": np.zeros(p), "loss": np.zeros(p)}
        self.days_on_book = np.zeros((p, br.YEARS_ON_BOOK_BINS))  # per path and year on book; operate adds

    # ---------------------------------------------------------- signals for depositors

    def trailing_apy(self, lookback_days: float) -> np.ndarray:
        """Annualised growth of the redemption price over the look-back (or since day 0 if shorter)."""
        steps = min(self._steps_done, len(self.prices) - 1)
        if steps == 0:
            return np.zeros(self.prices.shape[1])
        now, then = (
            self.prices[self._steps_done % len(self.prices)],
            self.prices[(self._steps_done - steps) % len(self.prices)],
        )
        return (now / then) ** (365.0 / (steps * self.dt_days)) - 1.0

    def drawdown(self, price: np.ndarray) -> np.ndarray:
        """1 − price / running peak."""
        return 1.0 - price / self.peak_price

    # ---------------------------------------------------------- recording

    def start(self, m: RecordedModel) -> None:
        """Record day 0 (after the initial loans are funded)."""
        self._steps_done = 0
        self._sum_ledger(m, 0)
        self._write_series(m, 0)

    def record(self, m: RecordedModel) -> None:
        """Record the step just completed."""
        self._steps_done += 1
        k = self._steps_done
        self.prices[k % len(self.prices)] = m.price_cons
        self.tbill_growth *= 1.0 + m.market.tbill * self.dt_days / 365.0
        self._sum_ledger(m, k)
        self._update_extremes(m)
        if k % self.every == 0:
            self._write_series(m, k // self.every)

    def record_waits(self, rows: np.ndarray, waits_days: np.ndarray) -> None:
        """Count completed redemption waits (days, (k,), of requests on paths ``rows``) and track the longest
        per path."""
        days = np.clip(np.rint(waits_days).astype(np.int64), 0, len(self.wait_hist) - 1)
        self.wait_hist += np.bincount(days, minlength=len(self.wait_hist))
        np.maximum.at(self.longest_wait_days, rows, waits_days)

    def _sum_ledger(self, m: RecordedModel, k: int) -> None:
        values = m.ledger.values
        padded = np.zeros((values.shape[0], self.n_seed_blocks * SEED_BLOCK))
        padded[:, : values.shape[1]] = values
        self.ledger_sums[k] = padded.reshape(values.shape[0], self.n_seed_blocks, SEED_BLOCK).sum(axis=2)
        self.cumulative["defaults"] += sum(m.ledger[f"defaults_{r}"] for r in br.ROUTES)
        self.cumulative["loss"] += m.ledger["principal_loss_usd"]

    def _update_extremes(self, m: RecordedModel) -> None:
        price = m.price_cons
        dropped = price < self.peak_price * (1.0 - FIRST_DROP_TOLERANCE)
        self.first_drop_day = np.where(
            np.isnan(self.first_drop_day) & dropped, m.day_end, self.first_drop_day
        )
        self.peak_price = np.maximum(self.peak_price, price)
        self.max_drawdown = np.maximum(self.max_drawdown, 1.0 - price / self.peak_price)
        self.queue_peak_fraction = np.maximum(self.queue_peak_fraction, self._queue_fraction(m))
        backing = backing_ratio(m.vault.reserves_usd, m.vault.supply_usd, m.roundoff_scale_usd)
        self.backing_min = np.minimum(self.backing_min, backing)

    @staticmethod
    def _queue_usd(m: RecordedModel) -> np.ndarray:
        return np.maximum(m.pending_total, 0.0) * m.price_cons

    @staticmethod
    def _queue_fraction(m: RecordedModel) -> np.ndarray:
        pending = np.maximum(m.pending_total, 0.0)
        return np.divide(pending, m.total_shares, out=np.zeros_like(pending), where=m.total_shares > 0)

    @staticmethod
    def _signal_values(m: RecordedModel) -> dict[str, np.ndarray]:
        zeros = np.zeros(m.n_paths)
        s = m.signals
        return {
            "secondary_discount": zeros if s is None else s.discount,
            "loss_news": zeros if s is None else s.loss_news,
            "yield_spread": zeros if s is None else s.spread,
            "unstaked_usd": m.vault.unstaked_usd,
        }

    def _write_series(self, m: RecordedModel, row: int) -> None:
        live = m.book.status == br.ACTIVE
        ltv_max = live_ltv_summary(m.book.status, m.book.principal_usd, m.collateral_usd, self.ltv_hist[row])
        principal = np.where(live, m.book.principal_usd, 0.0)
        collateral = np.where(live, m.collateral_usd, 0.0).sum(axis=1)
        n_live = live.sum(axis=1)
        queue = self._queue_usd(m)
        values = {
            "exchange_ratio": m.price_cons,
            "exchange_ratio_opt": m.price_opt,
            "apy_trailing": self.trailing_apy(m.scenario.depositors.yield_lookback_days),
            "tbill_rate": m.market.tbill,
            "utilisation_mean": np.where(live, m.utilisation, 0.0).sum(axis=1) / np.maximum(n_live, 1),
            "nav_usd": m.nav_cons,
            "idle_usd": m.vault.idle_usd,
            "loans_usd": m.carrying_usd,
            "loan_share": m.carrying_usd / np.maximum(m.nav_cons, 1e-9),
            "queue_usd": queue,
            "queue_fraction": self._queue_fraction(m),
            "supply_usd": m.vault.supply_usd,
            "ltv_mean": np.divide(
                principal.sum(axis=1), collateral, out=np.zeros_like(collateral), where=collateral > 0
            ),
            "ltv_max": ltv_max,
            "defaults_cumulative": self.cumulative["defaults"],
            "principal_loss_cumulative_usd": self.cumulative["loss"],
            "first_loss_left_usd": m.vault.first_loss_left_usd,
            **self._signal_values(m),
        }
        block = [values[name] for name in BASE_SERIES]
        block += list(m.market.resale_index.T) + list(m.market.rental_usd_per_gpu_hour.T)
        self.series[row] = np.clip(np.asarray(block), -FLOAT32_LIMIT, FLOAT32_LIMIT).astype(np.float32)
