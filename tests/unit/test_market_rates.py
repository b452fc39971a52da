"""Unit tests of usdai_sim.market.rates: hand-computed steps, closed-form moments and the T-bill history."""

import re

import numpy as np
import pytest

from usdai_sim.market.gpu import ou_step
from usdai_sim.market.rates import (
    cir_moments,
    cir_stationary,
    cir_step,
    discount_to_bond_equivalent,
    historical_rate_path,
    load_tbill_history,
    vasicek_moments,
    vasicek_stationary,
    vasicek_step,
)

N_DRAWS = 200_000
MONTH = 1.0 / 12.0


def _bey(pct: float) -> float:
    """365 d / (360 - 91 d), d = pct / 100: the 3-month bill convention, written out for the tests."""
    d = pct / 100.0
    return 365.0 * d / (360.0 - 91.0 * d)


class RecordingChiSquare:
    """Stand-in for a Generator: records the arguments and returns the mean df + nonc of the law."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray]] = []

    def noncentral_chisquare(self, df: np.ndarray, nonc: np.ndarray) -> np.ndarray:
        self.calls.append((np.asarray(df), np.asarray(nonc)))
        return np.asarray(df) + np.asarray(nonc)


def _assert_normal_moments(sample: np.ndarray, mean: float, var: float) -> None:
    """Sample mean within 4 SE (sigma / sqrt(n)) and variance within 4 SE (sigma^2 sqrt(2 / (n - 1)))."""
    n = sample.size
    assert abs(sample.mean() - mean) < 4.0 * np.sqrt(var / n)
    assert abs(sample.var(ddof=1) - var) < 4.0 * var * np.sqrt(2.0 / (n - 1))


def _assert_moments_any_law(sample: np.ndarray, mean: float, var: float) -> None:
    """Mean within 4 sqrt(var / n); variance within 4 SE, SE^2 = (m4 - s^4 (n - 3) / (n - 1)) / n."""
    n = sample.size
    s2 = sample.var(ddof=1)
    m4 = np.mean((sample - sample.mean()) ** 4)
    assert abs(sample.mean() - mean) < 4.0 * np.sqrt(var / n)
    assert abs(s2 - var) < 4.0 * np.sqrt((m4 - s2**2 * (n - 3) / (n - 1)) / n)


# --- Vasicek ---------------------------------------------------------------------------------------


def test_vasicek_step_hand_computed() -> None:
    # r=0.05, kappa=0.5, theta=0.04, sigma=0.01, dt=1, z=1.5:
    # e^{-0.5} = 0.6065306597; sqrt((1 - e^{-1}) / (2*0.5)) = sqrt(0.6321205588) = 0.7950600976
    # r' = 0.04 + 0.01*0.6065306597 + 0.01*0.7950600976*1.5 = 0.04 + 0.0060653066 + 0.0119259015
    #    = 0.0579912081
    r = vasicek_step(np.array([0.05]), 0.5, 0.04, 0.01, 1.0, np.array([1.5]))
    assert r == pytest.approx([0.0579912081], abs=1e-10)


def test_vasicek_step_kappa_zero_is_random_walk() -> None:
    # kappa = 0: r' = r + sigma sqrt(dt) z = 0.03 + 0.02 * 0.5 * (-1) = 0.02 for dt = 0.25
    z = np.array([-1.0, 0.0, 2.0])
    assert vasicek_step(np.full(3, 0.03), 0.0, 0.05, 0.02, 0.25, z) == pytest.approx([0.02, 0.03, 0.05])
    near_zero = vasicek_step(np.full(3, 0.03), 1e-12, 0.05, 0.02, 0.25, z)
    assert near_zero == pytest.approx([0.02, 0.03, 0.05], abs=1e-12)


def test_vasicek_step_is_ou_step() -> None:
    z = np.linspace(-2.0, 2.0, 5)
    args = (np.full(5, 0.05), 0.7, 0.03, 0.015, MONTH)
    expected = ou_step(np.full(5, 0.05), 0.03, 0.7, 0.015, MONTH, z)
    np.testing.assert_array_equal(vasicek_step(*args, z), expected)


def test_vasicek_moments_hand_computed_and_stationary_limit() -> None:
    # r0=0.05, kappa=0.5, theta=0.04, sigma=0.01, t=1:
    # mean = 0.04 + 0.01*e^{-0.5} = 0.0460653066; var = 1e-4 * (1 - e^{-1}) / 1 = 6.321205588e-5
    mean, var = vasicek_moments(0.05, 0.5, 0.04, 0.01, 1.0)
    assert mean == pytest.approx(0.0460653066, abs=1e-10)
    assert var == pytest.approx(6.321205588e-5, rel=1e-9)
    # kappa -> 0: var -> sigma^2 t = 1e-4 * 2
    assert vasicek_moments(0.05, 0.0, 0.04, 0.01, 2.0)[1] == pytest.approx(2e-4)
    # t -> infinity: (theta, sigma^2 / (2 kappa)) = (0.04, 1e-4)
    far = vasicek_moments(0.05, 0.5, 0.04, 0.01, 200.0)
    assert far == pytest.approx(vasicek_stationary(0.5, 0.04, 0.01))
    assert vasicek_stationary(0.5, 0.04, 0.01) == pytest.approx((0.04, 1e-4))


@pytest.mark.parametrize("n_steps", [1, 50])
def test_vasicek_simulated_moments(n_steps: int) -> None:
    rng = np.random.default_rng(20260501 + n_steps)
    r0, kappa, theta, sigma = 0.05, 0.5, 0.04, 0.02
    r = np.full(N_DRAWS, r0)
    for _ in range(n_steps):
        r = vasicek_step(r, kappa, theta, sigma, MONTH, rng.standard_normal(N_DRAWS))
    mean, var = vasicek_moments(r0, kappa, theta, sigma, n_steps * MONTH)
    _assert_normal_moments(r, float(mean), float(var))


def test_vasicek_stationary_rejects_non_positive_kappa() -> None:
    with pytest.raises(ValueError, match="kappa > 0"):
        vasicek_stationary(0.0, 0.04, 0.01)


# --- CIR -------------------------------------------------------------------------------------------


def test_cir_step_chi_square_arguments_hand_computed() -> None:
    # kappa=0.5, theta=0.04, sigma=0.1, dt=1, r=0.05:
    # c = sigma^2 (1 - e^{-0.5}) / (4*0.5) = 0.01 * 0.3934693403 / 2 = 0.0019673467
    # d = 4*0.5*0.04 / 0.01 = 8;  lambda = 0.05 * 0.6065306597 / 0.0019673467 = 15.4149408
    rng = RecordingChiSquare()
    r = cir_step(np.array([0.05, 0.0]), 0.5, 0.04, 0.1, 1.0, rng)
    ((df, nonc),) = rng.calls
    assert df == pytest.approx(8.0)
    assert nonc == pytest.approx([15.4149408, 0.0], abs=1e-6)
    # returning the chi-square mean d + lambda gives c (d + lambda) = the conditional mean
    # theta (1 - e^{-0.5}) + r e^{-0.5}: 0.04*0.3934693403 + 0.05*0.6065306597 = 0.0460653066
    assert r == pytest.approx([0.0460653066, 0.0157387736], abs=1e-10)


def test_cir_step_without_volatility_is_the_mean_path() -> None:
    # 0.04 + (0.05 - 0.04) e^{-0.5} = 0.0460653066; no random draw is requested
    rng = RecordingChiSquare()
    assert cir_step(np.array([0.05]), 0.5, 0.04, 0.0, 1.0, rng) == pytest.approx([0.0460653066], abs=1e-10)
    assert rng.calls == []


def test_cir_step_rejects_negative_rates() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        cir_step(np.array([-0.01]), 0.5, 0.04, 0.1, MONTH, np.random.default_rng(0))


def test_cir_moments_hand_computed_and_limits() -> None:
    # r0=0.05, kappa=0.5, theta=0.04, sigma=0.1, t=1: e^{-0.5}=0.6065306597, e^{-1}=0.3678794412
    # var = 0.05*0.01/0.5*(0.6065306597 - 0.3678794412) + 0.04*0.01/1*(0.3934693403)^2
    #     = 0.001*0.2386512185 + 0.0004*0.1548181217 = 2.386512185e-4 + 0.619272487e-4 = 3.005784672e-4
    mean, var = cir_moments(0.05, 0.5, 0.04, 0.1, 1.0)
    assert mean == pytest.approx(0.0460653066, abs=1e-10)
    assert var == pytest.approx(3.005784672e-4, rel=1e-8)
    # kappa -> 0: var -> r0 sigma^2 t = 0.05 * 0.01 * 2 = 1e-3
    assert cir_moments(0.05, 0.0, 0.04, 0.1, 2.0)[1] == pytest.approx(1e-3)
    assert cir_moments(0.05, 1e-9, 0.04, 0.1, 2.0)[1] == pytest.approx(1e-3, rel=1e-6)
    # t -> infinity: (theta, theta sigma^2 / (2 kappa)) = (0.04, 4e-4)
    assert cir_moments(0.05, 0.5, 0.04, 0.1, 200.0) == pytest.approx(cir_stationary(0.5, 0.04, 0.1))
    assert cir_stationary(0.5, 0.04, 0.1) == pytest.approx((0.04, 4e-4))


@pytest.mark.parametrize("sigma", [0.1, 0.3], ids=["feller", "hits-zero"])
@pytest.mark.parametrize("n_steps", [1, 50])
def test_cir_simulated_moments(n_steps: int, sigma: float) -> None:
    # sigma = 0.3 breaks the Feller condition (2 kappa theta = 0.064 < sigma^2 = 0.09): still exact.
    rng = np.random.default_rng(7_000 + n_steps + int(100 * sigma))
    r0, kappa, theta = 0.05, 0.8, 0.04
    r = np.full(N_DRAWS, r0)
    for _ in range(n_steps):
        r = cir_step(r, kappa, theta, sigma, MONTH, rng)
    assert np.all(r >= 0.0)
    mean, var = cir_moments(r0, kappa, theta, sigma, n_steps * MONTH)
    _assert_moments_any_law(r, float(mean), float(var))


# --- T-bill history --------------------------------------------------------------------------------


def test_discount_to_bond_equivalent_hand_computed() -> None:
    # 5.00%: 365*0.05 / (360 - 0.05*91) = 18.25 / 355.45 = 0.0513433676
    assert discount_to_bond_equivalent(5.0) == pytest.approx(0.0513433676, abs=1e-10)
    # 0.14%: 365*0.0014 / (360 - 0.0014*91) = 0.511 / 359.8726 = 0.0014199469
    assert discount_to_bond_equivalent(0.14) == pytest.approx(0.0014199469, abs=1e-10)
    # 6-month bill, 4%: 365*0.04 / (360 - 0.04*182) = 14.6 / 352.72 = 0.0413926060
    assert discount_to_bond_equivalent(4.0, days=182) == pytest.approx(0.0413926060, abs=1e-10)
    assert discount_to_bond_equivalent(np.array([0.0, 5.0])) == pytest.approx([0.0, 0.0513433676])


def test_load_tbill_history_shape_and_values() -> None:
    dates, yields = load_tbill_history()
    assert dates.dtype == np.dtype("datetime64[D]")
    assert dates.shape == yields.shape == (85,)  # 2019-01 ... 2026-01, monthly
    assert dates[0] == np.datetime64("2019-01-01") and dates[-1] == np.datetime64("2026-01-01")
    assert np.all(np.diff(dates) > np.timedelta64(0, "D"))
    assert yields[0] == pytest.approx(_bey(2.37))
    assert yields.max() == pytest.approx(_bey(5.34))  # Oct 2023
    assert dates[np.argmax(yields)] == np.datetime64("2023-10-01")


def test_historical_rate_path_inside_the_history() -> None:
    # 2020-04-15 + 0 and + 15 days are in April (0.14%); + 16 days is 2020-05-01 (0.13%)
    path = historical_rate_path("2020-04-15", np.array([0, 15, 16]))
    assert path == pytest.approx([_bey(0.14), _bey(0.14), _bey(0.13)])
    assert path[0] == pytest.approx(0.0014199469, abs=1e-10)
    # fractional days are floored: day 15.9 is still 2020-04-30
    assert historical_rate_path("2020-04-15", np.array([15.9])) == pytest.approx([_bey(0.14)])


def test_historical_rate_path_outside_the_history() -> None:
    # after the last row (2026-01, 3.57%): 365*0.0357 / (360 - 0.0357*91) = 13.0305 / 356.7513 = 0.0365254450
    after = historical_rate_path("2026-06-01", np.array([0, 365, 3650]))
    assert after == pytest.approx([0.0365254450] * 3, abs=1e-10)
    # before the first row (2019-01, 2.37%); 2018-06-01 + 214 days = 2019-01-01, + 245 = 2019-02-01 (2.39%)
    before = historical_rate_path("2018-06-01", np.array([0, 213, 214, 245]))
    assert before == pytest.approx([_bey(2.37), _bey(2.37), _bey(2.37), _bey(2.39)])


@pytest.mark.parametrize("bad", ["2020-13-01", "2020-02-30", "not a date", ""])
def test_historical_rate_path_rejects_invalid_dates(bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        historical_rate_path(bad, np.arange(3))
