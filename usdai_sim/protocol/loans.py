"""GPU loan arithmetic: the loan-router payment schedule, accrual, grace interest.

Rates are annual decimals; a payment period is ``PAYMENT_INTERVAL_DAYS`` = 30 days, so the
per-period rate is i = apr · 30/365 (the contract's R·Dr with R = apr / (365·86400) per second and
Dr = 30·86400 s).
"""

from __future__ import annotations

import math

import numpy as np

from usdai_sim.jit import kernel
from usdai_sim.params import DAYS_PER_YEAR, PAYMENT_INTERVAL_DAYS


def period_rate(apr: np.ndarray | float) -> np.ndarray:
    """Interest rate per 30-day period: i = apr · 30/365."""
    return np.asarray(apr) * PAYMENT_INTERVAL_DAYS / DAYS_PER_YEAR


def scheduled_payment(
    balance_usd: np.ndarray, apr: np.ndarray, payments_left: np.ndarray, interest_only: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(interest_usd, principal_usd) due at the next date, arguments broadcast (``payment_due`` per loan)."""
    arrays = np.broadcast_arrays(
        np.asarray(balance_usd, float), np.asarray(apr, float), np.asarray(payments_left, np.int64),
        np.asarray(interest_only, bool),
    )
    flat = [np.ascontiguousarray(a).ravel() for a in arrays]
    interest, principal = np.empty(flat[0].size), np.empty(flat[0].size)
    _scheduled_payments(*flat, interest, principal)
    return interest.reshape(arrays[0].shape), principal.reshape(arrays[0].shape)


@kernel
def _scheduled_payments(
    balance_usd: np.ndarray, apr: np.ndarray, payments_left: np.ndarray, interest_only: np.ndarray,
    interest_out: np.ndarray, principal_out: np.ndarray,
) -> None:
    for k in range(balance_usd.size):
        interest_out[k], principal_out[k] = payment_due(balance_usd[k], apr[k], payments_left[k], interest_only[k])


@kernel
def payment_due(balance_usd: float, apr: float, payments_left: int, interest_only: bool) -> tuple[float, float]:
    """(interest_usd, principal_usd) due at the next date of one loan.

    Amortising (loan router): P_i = B·i, P_p = P_i / ((1 + i)^M − 1), so P_i + P_p is the level
    annuity B·i/(1 − (1 + i)^−M); with i = 0, P_p = B/M. The last payment (M = 1) repays B exactly.
    Interest-only: P_p = 0 until M = 1, then the balloon B.
    """
    i = apr * PAYMENT_INTERVAL_DAYS / DAYS_PER_YEAR
    interest = balance_usd * i
    m = max(payments_left, 1)
    if m == 1:
        return interest, balance_usd
    if interest_only:
        return interest, 0.0
    amortising = interest / math.expm1(m * math.log1p(i)) if i > 0 else balance_usd / m
    return interest, min(amortising, balance_usd)


def annuity_payment(principal_usd: float, apr: float, payments: int) -> float:
    """Level payment of a fully amortising loan: B·i / (1 − (1 + i)^−M)."""
    i = float(period_rate(apr))
    return principal_usd / payments if i == 0 else principal_usd * i / -np.expm1(-payments * np.log1p(i))


@kernel
def accrual(balance_usd: np.ndarray, apr: np.ndarray, dt_days: float) -> np.ndarray:
    """Simple interest accrued over dt days: B · apr · dt/365 (USD)."""
    return balance_usd * apr * dt_days / DAYS_PER_YEAR
