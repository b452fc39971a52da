"""Loan arithmetic (usdai_sim.protocol.loans) against schedules computed by hand, to the cent.

Worked example used throughout: B = $1,000,000, apr = 12%, M = 36 monthly (30-day) payments.
    i = 0.12 · 30/365 = 0.00986301369863...
    level payment A = B·i / (1 − (1 + i)^−36) = $33,135.85
    first interest  = B·i = $9,863.01;  first principal = A − B·i = $23,272.84
    balance after k payments B_k = B·((1+i)^M − (1+i)^k) / ((1+i)^M − 1);  B_12 = $705,066.98
    the 36th payment = B_35·(1 + i) = $32,812.22 + $323.63 = $33,135.85 = A.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usdai_sim.protocol.loans import accrual, annuity_payment, period_rate, scheduled_payment

CENT = 0.005
B0, APR, M = 1_000_000.0, 0.12, 36
RATE = 0.12 * 30 / 365


def closed_form_balance(k: int, balance: float = B0, i: float = RATE, m: int = M) -> float:
    """B_k = B·((1+i)^M − (1+i)^k)/((1+i)^M − 1), the annuity balance after k payments (USD)."""
    return balance * ((1 + i) ** m - (1 + i) ** k) / ((1 + i) ** m - 1)


def run_schedule(balance: float, apr: float, m: int, interest_only: bool) -> tuple[list[float], list[float], float]:
    """Iterate scheduled_payment m times: (interest paid, principal paid, each period; final balance)."""
    interest_paid, principal_paid = [], []
    b = np.array([balance])
    for left in range(m, 0, -1):
        interest, principal = scheduled_payment(b, np.array([apr]), np.array([left]), np.array([interest_only]))
        interest_paid.append(float(interest[0]))
        principal_paid.append(float(principal[0]))
        b = b - principal
    return interest_paid, principal_paid, float(b[0])


def test_period_rate_is_thirty_days_of_apr() -> None:
    """i = apr · 30/365: 12% → 0.0098630137; 0 → 0."""
    assert period_rate(0.12) == pytest.approx(0.009863013698630137, rel=1e-15)
    assert period_rate(0.0) == 0.0


def test_level_payment_and_first_split_to_the_cent() -> None:
    """A = $33,135.85; the first payment is $9,863.01 interest + $23,272.84 principal."""
    assert annuity_payment(B0, APR, M) == pytest.approx(33_135.85, abs=CENT)
    interest, principal = scheduled_payment(np.array([B0]), np.array([APR]), np.array([M]), np.array([False]))
    assert interest[0] == pytest.approx(9_863.01, abs=CENT)
    assert principal[0] == pytest.approx(23_272.84, abs=CENT)
    assert interest[0] + principal[0] == pytest.approx(33_135.85, abs=CENT)


def test_schedule_matches_closed_form_balances() -> None:
    """The loan-router rule 36 times: level payments, B_k in closed form, B_12 = $705,066.98, B_36 = 0."""
    interest, principal, final = run_schedule(B0, APR, M, interest_only=False)
    payments = np.add(interest, principal)
    np.testing.assert_allclose(payments, 33_135.85, atol=CENT)
    balances = B0 - np.cumsum(principal)
    expected = [closed_form_balance(k) for k in range(1, M + 1)]
    np.testing.assert_allclose(balances, expected, atol=1e-6)
    assert balances[11] == pytest.approx(705_066.98, abs=CENT)
    assert final == 0.0


def test_last_payment_repays_the_balance_exactly() -> None:
    """With M = 1 left the principal due is the whole balance B_35 = $32,812.22; interest B_35·i = $323.63."""
    b35 = closed_form_balance(35)
    interest, principal = scheduled_payment(np.array([b35]), np.array([APR]), np.array([1]), np.array([False]))
    assert principal[0] == b35
    assert b35 == pytest.approx(32_812.22, abs=CENT)
    assert interest[0] == pytest.approx(323.63, abs=CENT)


def test_zero_rate_repays_equal_instalments() -> None:
    """apr = 0: no interest, principal B/M = $27,777.78 each time, nothing left after 36 payments."""
    interest, principal, final = run_schedule(B0, 0.0, M, interest_only=False)
    assert max(interest) == 0.0
    np.testing.assert_allclose(principal, B0 / M, rtol=1e-12)
    assert principal[0] == pytest.approx(27_777.78, abs=CENT)
    assert final == pytest.approx(0.0, abs=1e-6)


def test_interest_only_pays_a_balloon() -> None:
    """Interest-only: $9,863.01 interest and no principal for 35 periods, then the $1,000,000 balloon."""
    interest, principal, final = run_schedule(B0, APR, M, interest_only=True)
    np.testing.assert_allclose(interest, 9_863.01, atol=CENT)
    assert principal[:-1] == [0.0] * (M - 1)
    assert principal[-1] == B0
    assert final == 0.0


def test_interest_only_zero_rate_owes_only_the_balloon() -> None:
    """apr = 0, interest-only: nothing is due until the last date, then B."""
    interest, principal, final = run_schedule(B0, 0.0, 12, interest_only=True)
    assert sum(interest) == 0.0
    assert principal == [0.0] * 11 + [B0]
    assert final == 0.0


def test_accrual_is_simple_interest() -> None:
    """B · apr · dt/365: $1M at 12% for 30 days = $9,863.01 = one period's interest; for 1 day = $328.77."""
    assert accrual(np.array([B0]), np.array([APR]), 30.0)[0] == pytest.approx(9_863.01, abs=CENT)
    assert accrual(np.array([B0]), np.array([APR]), 1.0)[0] == pytest.approx(328.77, abs=CENT)


@given(
    balance=st.floats(1e3, 1e9),
    apr=st.just(0.0) | st.floats(1e-300, 0.5),
    m=st.integers(1, 120),
)
def test_any_amortising_schedule_is_level_and_repays(balance: float, apr: float, m: int) -> None:
    """For any loan at 0–50% APR: every payment equals annuity_payment, the balance never grows, and it
    ends at zero."""
    interest, principal, final = run_schedule(balance, apr, m, interest_only=False)
    level = annuity_payment(balance, apr, m)
    np.testing.assert_allclose(np.add(interest, principal), level, rtol=1e-9)
    assert min(principal) >= 0.0
    assert final == 0.0


@pytest.mark.parametrize("apr", [1e-12, 1e-17])
def test_tiny_positive_rate_still_amortises(apr: float) -> None:
    """apr → 0⁺ tends to the zero-rate schedule (B/M = $27,777.78 each period). Computing (1+i)^M − 1
    directly would give 0 for i < 1.1e-16 (then NaN) and lose all precision near i = 1e-12."""
    interest, principal, final = run_schedule(B0, apr, M, interest_only=False)
    np.testing.assert_allclose(np.add(interest, principal), B0 / M, rtol=1e-6)
    assert annuity_payment(B0, apr, M) == pytest.approx(B0 / M, rel=1e-6)
    assert final == 0.0


def test_scheduled_payment_keeps_the_broadcast_shape() -> None:
    """Arguments broadcast to (2, 3); each element is that loan's ``payment_due``."""
    from usdai_sim.protocol.loans import payment_due

    balance = np.array([[1000.0], [2000.0]])
    apr = np.array([0.12, 0.0, 0.24])
    interest, principal = scheduled_payment(balance, apr, np.array([12, 1, 3]), np.array([False, False, True]))
    assert interest.shape == principal.shape == (2, 3)
    for r in range(2):
        for c in range(3):
            want = payment_due(float(balance[r, 0]), float(apr[c]), [12, 1, 3][c], [False, False, True][c])
            assert (interest[r, c], principal[r, c]) == pytest.approx(want, rel=1e-15)
