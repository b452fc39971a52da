"""Closed-form credit-risk results that the simulator's Monte Carlo is validated against.

Standard normal cdf and inverse come from the standard library (``math.erfc``,
``statistics.NormalDist``), vectorised with numpy, so this module needs no scipy at run time.
Every function accepts floats or arrays and returns a float for scalar input.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatOrArray = float | NDArray[np.float64]

_STANDARD_NORMAL = NormalDist()


def _scalar_or_array(values: NDArray[np.float64]) -> FloatOrArray:
    return float(values) if values.ndim == 0 else values


def _phi_cdf_scalar(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _phi_inv_scalar(p: float) -> float:
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    return _STANDARD_NORMAL.inv_cdf(p) if 0.0 < p < 1.0 else math.nan


_norm_cdf = np.vectorize(_phi_cdf_scalar, otypes=[float])
_norm_ppf = np.vectorize(_phi_inv_scalar, otypes=[float])


def _check_probability_array(name: str, values: NDArray[np.float64]) -> None:
    if np.any((values < 0.0) | (values > 1.0)):
        raise ValueError(f"{name} must lie in [0, 1]")


def _check_open_unit(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")


def vasicek_loss_cdf(x: ArrayLike, pd: float, rho: float) -> FloatOrArray:
    """P(L <= x) for the defaulted fraction L of a large homogeneous portfolio (Vasicek).

    F(x) = Phi((sqrt(1 - rho) Phi^-1(x) - Phi^-1(pd)) / sqrt(rho)), with ``x`` a fraction of the
    portfolio in [0, 1], ``pd`` the unconditional default probability over the horizon and ``rho``
    the asset correlation of the one-factor Gaussian copula. Source: O. Vasicek (2002), "The
    distribution of loan portfolio value", Risk 15(12), 160-162.
    """
    _check_open_unit("pd", pd)
    _check_open_unit("rho", rho)
    fraction = np.asarray(x, dtype=float)
    _check_probability_array("x", fraction)
    z = (math.sqrt(1.0 - rho) * _norm_ppf(fraction) - _STANDARD_NORMAL.inv_cdf(pd)) / math.sqrt(rho)
    return _scalar_or_array(_norm_cdf(z))


def vasicek_loss_quantile(q: ArrayLike, pd: float, rho: float) -> FloatOrArray:
    """The q-quantile of the Vasicek defaulted fraction, as a fraction of the portfolio.

    x_q = Phi((Phi^-1(pd) + sqrt(rho) Phi^-1(q)) / sqrt(1 - rho)); the inverse of
    :func:`vasicek_loss_cdf`. Source: Vasicek (2002), Risk 15(12).
    """
    _check_open_unit("pd", pd)
    _check_open_unit("rho", rho)
    prob = np.asarray(q, dtype=float)
    _check_probability_array("q", prob)
    z = (_STANDARD_NORMAL.inv_cdf(pd) + math.sqrt(rho) * _norm_ppf(prob)) / math.sqrt(1.0 - rho)
    return _scalar_or_array(_norm_cdf(z))


def vasicek_loss_pdf(x: ArrayLike, pd: float, rho: float) -> FloatOrArray:
    """Density of the Vasicek defaulted fraction at ``x`` in the open interval (0, 1), per unit fraction.

    f(x) = sqrt((1 - rho)/rho) exp(u^2/2 - (sqrt(1 - rho) u - Phi^-1(pd))^2 / (2 rho)), u = Phi^-1(x);
    the derivative of :func:`vasicek_loss_cdf`. Source: Vasicek (2002), Risk 15(12).
    """
    _check_open_unit("pd", pd)
    _check_open_unit("rho", rho)
    fraction = np.asarray(x, dtype=float)
    if np.any((fraction <= 0.0) | (fraction >= 1.0)):
        raise ValueError("x must lie strictly between 0 and 1 (the density's limit there depends on rho)")
    u = _norm_ppf(fraction)
    g = (math.sqrt(1.0 - rho) * u - _STANDARD_NORMAL.inv_cdf(pd)) / math.sqrt(rho)
    return _scalar_or_array(math.sqrt((1.0 - rho) / rho) * np.exp(0.5 * u * u - 0.5 * g * g))


def merton_distance_to_default(
    asset_value: ArrayLike,
    debt_face: ArrayLike,
    drift_per_year: ArrayLike,
    vol_per_sqrt_year: ArrayLike,
    horizon_years: ArrayLike,
) -> FloatOrArray:
    """Distance to default DD = (ln(V/D) + (mu - sigma^2/2) T) / (sigma sqrt(T)), in standard deviations.

    Assets follow geometric Brownian motion with drift ``mu`` (per year; the real-world drift gives
    a physical PD, the risk-free rate a risk-neutral one) and volatility ``sigma`` (per sqrt year);
    default means assets below the debt face ``D`` at the horizon ``T`` (years). ``V`` and ``D`` in
    the same unit (USD). Source: R. C. Merton (1974), "On the pricing of corporate debt: the risk
    structure of interest rates", Journal of Finance 29(2), 449-470.
    """
    inputs = (asset_value, debt_face, drift_per_year, vol_per_sqrt_year, horizon_years)
    v, d, mu, sigma, t = (np.asarray(a, dtype=float) for a in inputs)
    if np.any(v <= 0) or np.any(d <= 0) or np.any(sigma <= 0) or np.any(t <= 0):
        raise ValueError("asset_value, debt_face, vol_per_sqrt_year and horizon_years must be positive")
    dd = (np.log(v / d) + (mu - 0.5 * sigma * sigma) * t) / (sigma * np.sqrt(t))
    return _scalar_or_array(dd)


def merton_pd(
    asset_value: ArrayLike,
    debt_face: ArrayLike,
    drift_per_year: ArrayLike,
    vol_per_sqrt_year: ArrayLike,
    horizon_years: ArrayLike,
) -> FloatOrArray:
    """Probability that assets end below the debt face at the horizon: Phi(-DD), a probability.

    Arguments as for :func:`merton_distance_to_default`. Source: Merton (1974), J. Finance 29(2).
    """
    dd = merton_distance_to_default(asset_value, debt_face, drift_per_year, vol_per_sqrt_year, horizon_years)
    return _scalar_or_array(_norm_cdf(-np.asarray(dd)))


def expected_loss(pd: ArrayLike, lgd: ArrayLike, ead: ArrayLike) -> FloatOrArray:
    """Expected loss EL = PD x LGD x EAD, in the unit of ``ead`` (USD).

    ``pd`` a probability over the horizon, ``lgd`` a fraction of exposure, ``ead`` the exposure at
    default. Source: BCBS (2005), "An Explanatory Note on the Basel II IRB Risk Weight Functions".
    """
    product = np.asarray(pd, dtype=float) * np.asarray(lgd, dtype=float) * np.asarray(ead, dtype=float)
    return _scalar_or_array(product)


def quantile_standard_error(q: ArrayLike, density_at_quantile: ArrayLike, n: int) -> FloatOrArray:
    """Asymptotic standard error of the sample q-quantile of n i.i.d. draws, in the variable's unit.

    SE = sqrt(q (1 - q) / n) / f(x_q), with ``density_at_quantile`` = f(x_q) > 0 in 1/unit. Source:
    A. W. van der Vaart (1998), Asymptotic Statistics, ch. 21 (asymptotic normality of quantiles).
    """
    prob = np.asarray(q, dtype=float)
    density = np.asarray(density_at_quantile, dtype=float)
    if n < 1 or np.any(density <= 0):
        raise ValueError("n must be positive and density_at_quantile must be positive")
    return _scalar_or_array(np.sqrt(prob * (1.0 - prob) / n) / density)
