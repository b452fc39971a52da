"""Depositor calibration: model figures of a run beside public figures or stated assumptions.

``calibration_rows(results)`` returns rows of (quantity, model value, public figure, source, verdict) for
the calibration page. Calm-state rows describe the run as a whole (use the baseline); run-size rows are
filled when the run has a stress (a loss event or a redemption wave) and compare with the largest
observed episode, Ethena USDe in October 2025 (shared/DOMAIN.md "Depositor runs: observed episodes").
Flows are means per path from the ledger; sizes are relative to the mean holders' total (sUSDai NAV plus
unstaked USDai), so each is a property of the average path, not a tail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from usdai_sim.results import Results

DAYS_PER_MONTH = 365.0 / 12.0
USDE_TWO_DAY_OUTFLOW = 0.13
USDE_THREE_WEEK_CHANGE = -0.37
USDE_SOURCE = "Ethena USDe, Oct 2025: ~$1.9B redeemed in two days of ~$14.6B, −37% in three weeks (Ethena " \
              "governance forum; Blockworks)"


@dataclass(frozen=True)
class CalibrationRow:
    """One line of the calibration page."""

    quantity: str
    model_value: float
    public_figure: str
    source: str
    verdict: str


def _within(value: float, low: float, high: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return "within range" if low <= value <= high else ("below range" if value < low else "above range")


def _monthly(ledger: pd.DataFrame, column: str, base_usd: float, horizon_days: float) -> float:
    return float(ledger[column].sum()) / base_usd / (horizon_days / DAYS_PER_MONTH)


def calm_rows(results: Results) -> list[CalibrationRow]:
    """Monthly churn and net flow of stakers, unstaked turnover, and the share of paths with a deep queue."""
    ledger, horizon = results.ledger, float(results.scenario.simulation.horizon_days)
    nav = float(results.band("nav_usd")["mean"].mean())
    unstaked = float(results.band("unstaked_usd")["mean"].mean())
    churn = _monthly(ledger, "exits_usd", nav, horizon)
    net = churn - _monthly(ledger, "deposits_usd", nav, horizon)
    turnover = _monthly(ledger, "unstaked_redemptions_usd", max(unstaked, 1.0), horizon)
    deep = float(np.mean(results.paths["queue_peak_fraction"] > 0.3))
    return [
        CalibrationRow("stakers' monthly churn: exits / sUSDai NAV", churn, "2–10% a month",
                       "assumption: no public sUSDai flow data; a yield-seeking base that turns its position "
                       "over every 1–4 years, plus tactical exits", _within(churn, 0.02, 0.10)),
        CalibrationRow("stakers' monthly net outflow: (exits − deposits) / NAV", net, "−5% to +5% a month",
                       "USDai supply ~$345M (Oct 2025) → ~$501M (Nov 2026), ≈ +3%/month net inflow (CoinDesk; "
                       "CoinMarketCap); the calm model has no growth trend, so ± that order",
                       _within(net, -0.05, 0.05)),
        CalibrationRow("unstaked holders' monthly redemptions / unstaked USDai", turnover, "2–10% a month",
                       "assumption: payment and DeFi balances turn over faster than staked ones",
                       _within(turnover, 0.02, 0.10)),
        CalibrationRow("P(> 30% of sUSDai supply queued) in calm conditions", deep, "≤ 1% of paths",
                       "issue #13 target (assumption: a calm year should not queue a third of the vault)",
                       _within(deep, 0.0, 0.01)),
    ]


def _holders_total(results: Results) -> np.ndarray:
    return (results.band("nav_usd")["mean"] + results.band("unstaked_usd")["mean"]).to_numpy(dtype=float)


def run_rows(results: Results) -> list[CalibrationRow]:
    """Largest two-day outflow and largest three-week change of the holders' total, on the mean path."""
    ledger = results.ledger
    step = float(results.scenario.simulation.step_days)
    out = (ledger["exits_usd"] + ledger["unstaked_redemptions_usd"]).to_numpy(dtype=float)
    total = _holders_total(results)
    if len(total) != len(out):  # recorded every k steps: compare on the recorded days only
        return []
    two = max(1, int(round(2 / step)))
    three_weeks = max(1, int(round(21 / step)))
    window = np.convolve(out, np.ones(two), "valid")
    two_day = float(np.max(window / np.maximum(total[: len(window)], 1.0))) if window.size else float("nan")
    change = total[three_weeks:] / np.maximum(total[:-three_weeks], 1.0) - 1.0
    worst = float(change.min()) if change.size else float("nan")
    return [
        CalibrationRow("largest two-day outflow / holders' total (mean path)", two_day,
                       f"{USDE_TWO_DAY_OUTFLOW:.0%}", USDE_SOURCE, "compare in a replay"),
        CalibrationRow("largest three-week change of holders' total (mean path)", worst,
                       f"{USDE_THREE_WEEK_CHANGE:.0%}", USDE_SOURCE, "compare in a replay"),
    ]


def calibration_rows(results: Results) -> list[CalibrationRow]:
    """Calm rows always; run-size rows when any path had a stress."""
    stressed = bool(results.paths["stress_day"].notna().any())
    return calm_rows(results) + (run_rows(results) if stressed else [])
