"""Collateral sale after default: forced-sale value, fees, and the proceeds waterfall.

Gross proceeds (USD) = GPUs × resale value per GPU × forced-sale factor(time to sell) × (1 − d_impact),
where d_impact = clip(slope · GPUs of the class sold in the window / market depth, 0, max) grows with
the volume dumped on the class's secondary market. The liquidation fee is a fraction of gross
proceeds. Cash available to the lender = gross − fee + the SPV's pledged cash and debt-service reserve
+ any GPU value insurance payout; it pays principal first, then interest (accrued at default plus
grace interest); anything left is surplus.
"""

from __future__ import annotations

import numpy as np


def forced_sale_factor(time_to_sell_days: float, table: dict[int, float]) -> float:
    """Fraction of orderly value a sale within ``time_to_sell_days`` fetches (linear in the table)."""
    days = np.array(sorted(table), dtype=float)
    factors = np.array([table[int(d)] for d in days])
    return float(np.interp(time_to_sell_days, days, factors))


def gross_proceeds(
    gpus: np.ndarray, value_usd_per_gpu: np.ndarray, sale_factor: float, impact_discount: np.ndarray
) -> np.ndarray:
    """GPUs × value per GPU × forced-sale factor × (1 − impact discount), USD."""
    return gpus * value_usd_per_gpu * sale_factor * (1.0 - impact_discount)


def waterfall(
    available_usd: np.ndarray, principal_usd: np.ndarray, interest_usd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split available cash: (principal paid, interest paid, surplus), each ≥ 0, summing to available."""
    available = np.maximum(available_usd, 0.0)
    to_principal = np.minimum(available, principal_usd)
    to_interest = np.minimum(available - to_principal, interest_usd)
    return to_principal, to_interest, available - to_principal - to_interest


def insurance_payout(
    insured_value_usd: np.ndarray, gross_usd: np.ndarray, cover_left_usd: np.ndarray
) -> np.ndarray:
    """GPU value insurance: (insured value − gross proceeds)⁺, paid in order until the path's cover is used.

    ``insured_value_usd`` and ``gross_usd`` are (P, B); ``cover_left_usd`` is (P,). Claims on one path
    are paid in borrower order (cumulative), so the total never exceeds the cover.
    """
    claim = np.maximum(insured_value_usd - gross_usd, 0.0)
    before = np.cumsum(claim, axis=1) - claim
    return np.clip(cover_left_usd[:, None] - before, 0.0, claim)


def springing_recourse(shortfall_usd: np.ndarray, fraud: np.ndarray, recovery_fraction: float) -> np.ndarray:
    """Recourse claim on the borrower: recovery_fraction × principal shortfall, for fraud defaults only."""
    return np.where(fraud, recovery_fraction * np.maximum(shortfall_usd, 0.0), 0.0)
