"""GPU loan arithmetic: the loan-router payment schedule, accrual, grace interest.

Rates are annual decimals; a payment period is ``PAYMENT_INTERVAL_DAYS`` = 30 days, so the
per-period rate is i = apr · 30/365 (the contract's R·Dr with R = apr / (365·86400) per second and
Dr = 30·86400 s).
"""

from __future__ import annotations

import numpy as np

from usdai_sim.params import DAYS_PER_YEAR, PAYMENT_INTERVAL_DAYS


def period_rate(apr: np.ndarray | float) -> np.ndarray:
    """Interest rate per 30-day period: i = apr · 30/365."""
    return np.asarray(apr) * PAYMENT_INTERVAL_DAYS / DAYS_PER_YEAR


def scheduled_payment(
    balance_usd: np.ndarray, apr: np.ndarray, payments_left: np.ndarray, interest_only: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(interest_usd, principal_usd) due at the next date.

    Amortising (loan router): P_i = B·i, P_p = P_i / ((1 + i)^M − 1), so P_i + P_p is the level
    annuity B·i/(1 − (1 + i)^−M); with i = 0, P_p = B/M. The last payment (M = 1) repays B exactly.
    Interest-only: P_p = 0 until M = 1, then the balloon B.
    """
    i = period_rate(apr)
    interest = balance_usd * i
    m = np.maximum(payments_left, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.expm1(m * np.log1p(i))  # (1 + i)^M − 1 without cancellation for tiny i
        amortising = np.where(i > 0, interest / growth, balance_usd / m)
    principal = np.where(interest_only, 0.0, amortising)
    principal = np.where(m == 1, balance_usd, np.minimum(principal, balance_usd))
    return interest, principal


def annuity_payment(principal_usd: float, apr: float, payments: int) -> float:
    """Level payment of a fully amortising loan: B·i / (1 − (1 + i)^−M)."""
    i = float(period_rate(apr))
    return principal_usd / payments if i == 0 else principal_usd * i / -np.expm1(-payments * np.log1p(i))


def accrual(balance_usd: np.ndarray, apr: np.ndarray, dt_days: float) -> np.ndarray:
    """Simple interest accrued over dt days: B · apr · dt/365 (USD)."""
    return balance_usd * apr * dt_days / DAYS_PER_YEAR
