"""Validation of usdai_sim.validation's closed forms against direct Monte Carlo and each other.

Monte Carlo tolerances are SE_MULTIPLE derived standard errors, never hand-picked. The Monte Carlo
uses scipy's normal functions, an implementation independent of the module's stdlib ones.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.special import ndtr, ndtri

from usdai_sim.metrics import value_at_risk
from usdai_sim.validation import (
    expected_loss,
    merton_distance_to_default,
    merton_pd,
    quantile_standard_error,
    vasicek_loss_cdf,
    vasicek_loss_pdf,
    vasicek_loss_quantile,
)

SE_MULTIPLE = 4.0
N_FACTOR_DRAWS = 200_000
N_ASSET_PATHS = 400_000
VASICEK_CASES = [(0.02, 0.12), (0.05, 0.30), (0.005, 0.04), (0.10, 0.70)]
VASICEK_LEVELS = [0.01, 0.5, 0.9, 0.99, 0.999]


@pytest.mark.parametrize(("pd", "rho"), VASICEK_CASES)
def test_vasicek_quantile_inverts_cdf(pd: float, rho: float) -> None:
    """Vasicek (2002), Risk 15(12): x_q = Phi((Phi^-1(pd) + sqrt(rho) Phi^-1(q)) / sqrt(1 - rho))
    solves F(x_q) = q, and x_q(F(x)) = x."""
    q = np.array(VASICEK_LEVELS)
    x = vasicek_loss_quantile(q, pd, rho)
    np.testing.assert_allclose(vasicek_loss_cdf(x, pd, rho), q, rtol=1e-9)
    np.testing.assert_allclose(vasicek_loss_quantile(vasicek_loss_cdf(x, pd, rho), pd, rho), x, rtol=1e-9)


@given(pd=st.floats(1e-4, 0.5), rho=st.floats(0.01, 0.9), q=st.floats(1e-4, 1 - 1e-4))
def test_vasicek_quantile_inverts_cdf_everywhere(pd: float, rho: float, q: float) -> None:
    """Vasicek (2002), Risk 15(12): the quantile function is the inverse of the loss cdf.

    Near x = 1 the float x carries a relative error of about one ulp, which moves F(x) by up to
    f(x) x eps; the tolerance is 64 times that plus 1e-12. Quantiles that round to 1.0 are skipped.
    """
    x = float(vasicek_loss_quantile(q, pd, rho))
    assume(x < 1.0)
    assert x > 0.0
    tolerance = 1e-12 + 64 * np.finfo(float).eps * x * float(vasicek_loss_pdf(x, pd, rho))
    assert vasicek_loss_cdf(x, pd, rho) == pytest.approx(q, rel=1e-9, abs=tolerance)


def test_vasicek_boundaries_and_median() -> None:
    """Vasicek (2002), Risk 15(12): F(0) = 0, F(1) = 1, median = Phi(Phi^-1(pd) / sqrt(1 - rho))."""
    assert vasicek_loss_cdf(0.0, 0.02, 0.12) == 0.0
    assert vasicek_loss_cdf(1.0, 0.02, 0.12) == 1.0
    assert vasicek_loss_quantile(0.5, 0.02, 0.12) == pytest.approx(
        ndtr(ndtri(0.02) / math.sqrt(0.88)), rel=1e-12
    )


@pytest.mark.parametrize(("pd", "rho"), VASICEK_CASES)
def test_vasicek_pdf_is_derivative_of_cdf(pd: float, rho: float) -> None:
    """Vasicek (2002), Risk 15(12): the density used for Monte Carlo tolerances is dF/dx
    (checked by a central difference)."""
    x = np.asarray(vasicek_loss_quantile(np.array(VASICEK_LEVELS), pd, rho))
    step = 1e-6 * x
    rise = np.asarray(vasicek_loss_cdf(x + step, pd, rho)) - vasicek_loss_cdf(x - step, pd, rho)
    numeric = rise / (2 * step)
    np.testing.assert_allclose(vasicek_loss_pdf(x, pd, rho), numeric, rtol=1e-5)


@pytest.mark.parametrize(("pd", "rho"), VASICEK_CASES)
def test_one_factor_copula_monte_carlo_matches_vasicek_quantiles(pd: float, rho: float) -> None:
    """Vasicek (2002), Risk 15(12): in the large-portfolio limit of the one-factor Gaussian copula the
    defaulted fraction given the factor Z is p(Z) = Phi((Phi^-1(pd) - sqrt(rho) Z) / sqrt(1 - rho)).
    Sample quantiles of p(Z) over 200,000 factor draws must lie within 4 asymptotic standard errors,
    sqrt(q (1 - q) / n) / f(x_q) (van der Vaart 1998, ch. 21), of the closed form."""
    factor = np.random.default_rng(2002).standard_normal(N_FACTOR_DRAWS)
    defaulted_fraction = ndtr((ndtri(pd) - math.sqrt(rho) * factor) / math.sqrt(1.0 - rho))
    for q in VASICEK_LEVELS:
        exact = float(vasicek_loss_quantile(q, pd, rho))
        standard_error = quantile_standard_error(q, vasicek_loss_pdf(exact, pd, rho), N_FACTOR_DRAWS)
        assert abs(value_at_risk(defaulted_fraction, q) - exact) < SE_MULTIPLE * standard_error, q
    mean_standard_error = defaulted_fraction.std(ddof=1) / math.sqrt(N_FACTOR_DRAWS)
    assert abs(defaulted_fraction.mean() - pd) < SE_MULTIPLE * mean_standard_error


def test_merton_hand_worked_example() -> None:
    """Merton (1974), J. Finance 29(2): V=100, D=80, mu=8%, sigma=25%, T=1 year:
    DD = (ln 1.25 + (0.08 - 0.25^2/2) * 1) / 0.25 = (0.2231436 + 0.04875) / 0.25 = 1.0875742;
    PD = Phi(-1.0875742)."""
    assert merton_distance_to_default(100.0, 80.0, 0.08, 0.25, 1.0) == pytest.approx(1.0875742, abs=1e-7)
    assert merton_pd(100.0, 80.0, 0.08, 0.25, 1.0) == pytest.approx(ndtr(-1.0875742), abs=1e-8)


@pytest.mark.parametrize(
    ("asset_value", "debt_face", "drift", "vol", "horizon_years"),
    [(100.0, 80.0, 0.08, 0.25, 1.0), (44_000.0, 35_200.0, -0.18, 0.35, 3.0), (1.0, 0.9, 0.0, 0.6, 0.5)],
)
def test_merton_pd_matches_simulated_gbm(
    asset_value: float, debt_face: float, drift: float, vol: float, horizon_years: float
) -> None:
    """Merton (1974), J. Finance 29(2): with dV = mu V dt + sigma V dW, P(V_T < D) = Phi(-DD).
    Simulates 400,000 paths of 36 exact log-normal steps and compares the default frequency within
    4 binomial standard errors sqrt(p (1 - p) / n)."""
    steps = 36
    dt = horizon_years / steps
    shocks = np.random.default_rng(1974).standard_normal((N_ASSET_PATHS, steps))
    log_growth = ((drift - 0.5 * vol**2) * dt + vol * math.sqrt(dt) * shocks).sum(axis=1)
    simulated = np.mean(asset_value * np.exp(log_growth) < debt_face)
    exact = float(merton_pd(asset_value, debt_face, drift, vol, horizon_years))
    standard_error = math.sqrt(exact * (1.0 - exact) / N_ASSET_PATHS)
    assert abs(simulated - exact) < SE_MULTIPLE * standard_error


def test_merton_functions_vectorise_and_validate() -> None:
    """Merton (1974): PD falls as assets rise relative to debt; non-positive inputs are rejected."""
    pds = merton_pd(np.array([90.0, 100.0, 120.0]), 80.0, 0.05, 0.3, 1.0)
    assert np.all(np.diff(pds) < 0)
    with pytest.raises(ValueError):
        merton_pd(100.0, 80.0, 0.05, 0.0, 1.0)


def test_expected_loss_identity() -> None:
    """BCBS (2005), An Explanatory Note on the Basel II IRB Risk Weight Functions: EL = PD x LGD x EAD."""
    assert expected_loss(0.02, 0.45, 1_000_000.0) == pytest.approx(9_000.0, rel=1e-15)
    np.testing.assert_allclose(expected_loss([0.01, 0.1], [0.5, 0.2], [100.0, 50.0]), [0.5, 1.0])


def test_expected_loss_matches_monte_carlo_with_random_lgd() -> None:
    """BCBS (2005): with default independent of LGD, E[1{default} LGD EAD] = PD E[LGD] EAD.
    Bernoulli(0.03) defaults, Beta(2, 3) LGD (mean 0.4), EAD $44,000; 4 standard errors of the mean."""
    rng = np.random.default_rng(2005)
    n, pd, ead = 400_000, 0.03, 44_000.0
    losses = (rng.random(n) < pd) * rng.beta(2.0, 3.0, n) * ead
    standard_error = losses.std(ddof=1) / math.sqrt(n)
    assert abs(losses.mean() - expected_loss(pd, 0.4, ead)) < SE_MULTIPLE * standard_error


def test_quantile_standard_error_matches_replicated_medians() -> None:
    """van der Vaart (1998), Asymptotic Statistics, ch. 21: the sample median of n uniforms has SE
    sqrt(0.25 / n) / 1. The spread of 4,000 replicated medians matches within 4 SEs of a standard
    deviation estimate (relative SE 1 / sqrt(2 (reps - 1)))."""
    reps, n = 4_000, 1_001
    medians = np.median(np.random.default_rng(21).random((reps, n)), axis=1)
    predicted = quantile_standard_error(0.5, 1.0, n)
    assert abs(medians.std(ddof=1) / predicted - 1.0) < SE_MULTIPLE / math.sqrt(2 * (reps - 1))
