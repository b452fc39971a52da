"""The simulator against published credit-risk and short-rate results, run through the real engine.

The "Merton portfolio": bullet loans (interest-only at 0% APR, so only the balloon D = L·V0 falls due, at
T = 12 × 30 days), no cash, no reserve, refinance_ltv 1 (at maturity a borrower pays iff its collateral
V_T ≥ D), no walk-away, fraud or hardware failure, flat depreciation, zero grace (the default is routed
on the due date). Collateral is GPU resale value: log V_T/V0 = −σ²T/2 + σ_c·W_c + σ_i·W_i (common and
idiosyncratic factors, class factor off, zero drift), so
    PD = Φ((ln L + σ²T/2)/(σ√T)),  σ² = σ_c² + σ_i²,  asset correlation ρ = σ_c²/σ².
Rentals ($1e-9/GPU-h) and costs (0) are negligible, so the SPV's cash stays ~0 (checked). Monthly steps
are exact here (the factors are stepped with their exact transition) and keep the runs short.
"""

import math

import numpy as np
import pytest
from scipy.stats import norm

from usdai_sim.agents import borrowers as br
from usdai_sim.engine import simulate
from usdai_sim.market.rates import cir_moments, vasicek_moments
from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.scenario.schema import Scenario
from usdai_sim.validation import (
    expected_loss,
    merton_pd,
    quantile_standard_error,
    vasicek_loss_pdf,
    vasicek_loss_quantile,
)

SE_MULTIPLE = 4.0
TERM_DAYS = 360
T_YEARS = TERM_DAYS / 365
V0_USD = 10 * 30_000.0  # 10 GPUs at $30,000, depreciation factor 1
INERT = {
    "count": 1,
    "deposit_rate_per_year": 0.0,
    "redeem_base_rate_per_year": 0.0,
    "spread_sensitivity_per_year": 0.0,
    "loss_sensitivity_per_year": 0.0,
    "herd_sensitivity_per_year": 0.0,
    "loss_news_sensitivity_per_year": 0.0,
    "unstaked": {"redeem_base_rate_per_year": 0.0, "inflow_rate_per_year": 0.0,
                 "loss_news_sensitivity_per_year": 0.0, "discount_sensitivity_per_year": 0.0,
                 "queue_sensitivity_per_year": 0.0},
}


def merton_portfolio(
    n_borrowers: int,
    paths: int,
    ltv: float,
    vol_common: float,
    vol_idio: float,
    drift: float = 0.0,
    seed: int = 1,
) -> Scenario:
    """The bullet-loan portfolio of the module docstring (horizon = term + one 30-day step)."""
    flat = {"drift_per_year": 0.0, "vol_per_sqrt_year": 0.0}
    h100 = {
        "list_price_usd": 30_000.0,
        "rental_usd_per_gpu_hour": 1e-9,
        "max_ltv": 1.0,
        "depreciation": {"method": "table", "vintage_factors": [1.0]},
    }
    cohort = {
        "count": n_borrowers,
        "gpus": 10,
        "age_years": 0.0,
        "requested_ltv": ltv,
        "apr": 0.0,
        "term_months": TERM_DAYS // 30,
        "amortisation": "interest_only",
        "initial_cash_months": 0.0,
        "dsra_months": 0.0,
        "refinance_ltv": 1.0,
        "strategic_walk_ratio": 0.0,
        "fraud_rate_per_year": 0.0,
        "hardware_failure_rate_per_year": 0.0,
        "contracted_share": 0.0,
        "power_usd_per_kwh": 0.0,
        "colocation_usd_per_kw_month": 0.0,
        "overhead_usd_per_gpu_month": 0.0,
        "repair_usd_per_gpu_month": 0.0,
        "sponsor_support_months": 0.0,
    }
    return Scenario.model_validate(
        {
            "simulation": {"horizon_days": TERM_DAYS + 30, "step_days": 30, "paths": paths, "seed": seed},
            "markets": {
                "tbill": {"model": "constant"},
                "rental": {"vol_per_sqrt_year": 0.0},
                "gpu": {
                    "common": {"drift_per_year": drift, "vol_per_sqrt_year": vol_common},
                    "class_factor": flat,
                    "idiosyncratic": {"drift_per_year": 0.0, "vol_per_sqrt_year": vol_idio},
                    "liquidity_kappa_per_year": 0.0,
                    "valuation": {"method": "depreciation"},
                    "classes": {"H100": h100},
                },
            },
            "borrowers": {"cohorts": [cohort], "default_rule": "collateral_barrier", "refinance_at_maturity": False},
            "depositors": INERT,
            "protocol": {
                "grace_days": 0,
                "initial_susdai_nav_usd": 1e10,
                "allocation": {"max_loan_share": 1.0, "min_liquidity_fraction": 0.0},
            },
        }
    )


def merton_portfolio_pd(ltv: float, vol_common: float, vol_idio: float) -> tuple[float, float]:
    """(PD, ρ) of the Merton portfolio: PD = Φ((ln L + σ²T/2)/(σ√T)), ρ = σ_c²/σ²."""
    sigma2 = vol_common**2 + vol_idio**2
    return float(norm.cdf((math.log(ltv) + sigma2 * T_YEARS / 2) / math.sqrt(sigma2 * T_YEARS))), vol_common**2 / sigma2


def test_spv_cash_stays_negligible() -> None:
    """With $1e-9/GPU-h rent and no costs, no borrower holds more than $0.01 at maturity, so whether it pays
    depends on V_T alone (10 GPUs · 24 h · 390 d · 1e-9 = $9.4e-5 of revenue at most)."""
    m = UsdaiModel(compile_params(merton_portfolio(20, 32, 0.6, 0.2, 0.35)), 0, 32)
    for _ in range(TERM_DAYS // 30 - 1):
        m.step()
    assert m.book.cash_usd.max() < 0.01 and m.book.dsra_usd.max() == 0.0
    assert np.all(m.book.status == br.ACTIVE)


def test_single_borrower_default_frequency_matches_merton_pd() -> None:
    """Merton (1974), J. Finance 29(2): PD = Φ(−DD), DD = (ln(V/D) + (μ − σ²/2)T)/(σ√T). One borrower on
    4,096 paths, L = 0.75, σ_c = 0.25, σ_i = 0.30, drift μ = 0.05: the default frequency is within 4
    binomial standard errors of merton_pd."""
    paths, ltv, s_c, s_i, mu = 4096, 0.75, 0.25, 0.30, 0.05
    res = simulate(merton_portfolio(1, paths, ltv, s_c, s_i, drift=mu, seed=2))
    expected = merton_pd(V0_USD, ltv * V0_USD, mu, math.hypot(s_c, s_i), T_YEARS)
    frequency = res.paths["loans_defaulted"].mean()
    se = math.sqrt(expected * (1 - expected) / paths)
    assert abs(frequency - expected) <= SE_MULTIPLE * se


def granularity_adjustment(q: float, pd: float, rho: float, n: int) -> float:
    """Shift of the q-quantile of the defaulted fraction when n is finite (binomial noise of variance
    x(1 − x)/n around the large-portfolio value x): −(1/(2 f(x_q))) · d/dx [f(x)·x(1 − x)/n] at x_q.
    Gordy (2003), J. Financial Intermediation 12, 199–232; Martin & Wilde (2002), Risk 15(11)."""
    x = float(vasicek_loss_quantile(q, pd, rho))
    h = 1e-5

    def g(y: float) -> float:
        return float(vasicek_loss_pdf(y, pd, rho)) * y * (1 - y) / n

    return -(g(x + h) - g(x - h)) / (2 * h) / (2 * float(vasicek_loss_pdf(x, pd, rho)))


@pytest.fixture(scope="module")
def vasicek_run():
    """400 borrowers × 1,024 paths of the Merton portfolio, L = 0.6, σ_c = 0.2, σ_i = 0.35."""
    return simulate(merton_portfolio(400, 1024, 0.6, 0.2, 0.35, seed=3), block_paths=256)


def test_portfolio_default_fraction_follows_vasicek(vasicek_run) -> None:  # noqa: ANN001
    """Vasicek (2002), "The distribution of loan portfolio value", Risk 15(12): the defaulted fraction of a
    large homogeneous one-factor portfolio has quantiles Φ((Φ⁻¹(PD) + √ρ Φ⁻¹(q))/√(1 − ρ)). Here
    PD = 0.141, ρ = 0.246, N = 400, 1,024 paths. Tolerance per quantile: 4 × the sample-quantile standard
    error √(q(1 − q)/P)/f(x_q) (van der Vaart 1998, ch. 21) + |granularity adjustment| (finite N) + 1/N
    (the fraction moves in steps of 1/N)."""
    n, paths = 400, 1024
    pd, rho = merton_portfolio_pd(0.6, 0.2, 0.35)
    fraction = vasicek_run.paths["loans_defaulted"].to_numpy() / n
    assert (vasicek_run.paths["loans_originated"] == n).all()
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        x = float(vasicek_loss_quantile(q, pd, rho))
        se = float(quantile_standard_error(q, vasicek_loss_pdf(x, pd, rho), paths))
        tolerance = SE_MULTIPLE * se + abs(granularity_adjustment(q, pd, rho, n)) + 1 / n
        assert abs(np.quantile(fraction, q) - x) <= tolerance, q


def test_portfolio_mean_default_fraction_is_pd(vasicek_run) -> None:  # noqa: ANN001
    """E[defaulted fraction] = PD for any N (Vasicek 2002); within 4 standard errors of the path mean."""
    fraction = vasicek_run.paths["loans_defaulted"].to_numpy() / 400
    pd, _ = merton_portfolio_pd(0.6, 0.2, 0.35)
    assert abs(fraction.mean() - pd) <= SE_MULTIPLE * fraction.std(ddof=1) / math.sqrt(fraction.size)


def test_expected_loss_is_pd_times_lgd_times_ead(vasicek_run) -> None:  # noqa: ANN001
    """BCBS (2005), "An Explanatory Note on the Basel II IRB Risk Weight Functions": EL = PD × LGD × EAD.
    The summary's expected_loss_usd equals the definition computed from the per-path table (PD = defaults /
    loans, LGD = loss / sold exposure, EAD = principal per path); every default is sold by the horizon and
    the loans are identical, so it also equals the mean simulated loss."""
    paths, summary = vasicek_run.paths, vasicek_run.summary
    assert paths["unsold_defaulted_usd"].sum() == 0.0
    pd = paths["loans_defaulted"].sum() / paths["loans_originated"].sum()
    lgd = paths["loss_usd"].sum() / paths["sold_exposure_usd"].sum()
    ead = paths["principal_originated_usd"].mean()
    definition = float(expected_loss(pd, lgd, ead))
    assert summary["expected_loss_usd"] == pytest.approx(definition, rel=1e-12)
    assert summary["default_rate_count"] == pytest.approx(pd, rel=1e-12)
    assert definition == pytest.approx(paths["loss_usd"].mean(), rel=1e-9)
    assert 0.0 < lgd < 1.0


def rate_scenario(model: str, r0: float, theta: float, kappa: float, sigma: float, paths: int) -> Scenario:
    """Only a T-bill process (no borrowers), monthly steps to day 360."""
    tbill = {
        "model": model,
        "initial_rate": r0,
        "mean_rate": theta,
        "kappa_per_year": kappa,
        "vol_per_sqrt_year": sigma,
    }
    return Scenario.model_validate(
        {
            "simulation": {"horizon_days": TERM_DAYS, "step_days": 30, "paths": paths, "seed": 4},
            "markets": {"tbill": tbill},
            "borrowers": {"cohorts": [{"count": 0}]},
            "depositors": INERT,
        }
    )


@pytest.mark.parametrize(
    ("model", "moments", "params"),
    [
        ("vasicek", vasicek_moments, (0.02, 0.05, 0.5, 0.01)),
        ("cir", cir_moments, (0.02, 0.05, 0.8, 0.05)),
    ],
)
def test_tbill_mean_at_horizon_matches_closed_form(model: str, moments, params: tuple) -> None:  # noqa: ANN001
    """Vasicek (1977), J. Financial Economics 5, 177–188; Cox, Ingersoll & Ross (1985), Econometrica 53,
    385–407: E[r_T] = θ + (r0 − θ)e^{−κT}. The engine's mean T-bill at day 360 over 4,096 paths is within
    4 standard errors (closed-form variance) of it. r0 = 2%, θ = 5%: the Vasicek rate's sd at T is 0.8%, so
    P(r < 0) < 1e-6 and the engine's floor at 0 is irrelevant; CIR satisfies Feller (2κθ ≥ σ²), stays > 0."""
    paths = 4096
    r0, theta, kappa, sigma = params
    band = simulate(rate_scenario(model, r0, theta, kappa, sigma, paths)).band("tbill_rate").loc[TERM_DAYS]
    mean, var = moments(r0, kappa, theta, sigma, T_YEARS)
    assert abs(band["mean"] - mean) <= SE_MULTIPLE * math.sqrt(var / paths)


def test_vasicek_tbill_quantiles_at_horizon_are_gaussian() -> None:
    """Vasicek (1977): r_T is normal with the closed-form mean and variance; the engine's 5% and 95% bands
    at day 360 are within 4 sample-quantile standard errors √(q(1 − q)/P)/φ(x_q) of the normal quantiles."""
    paths, (r0, theta, kappa, sigma) = 4096, (0.02, 0.05, 0.5, 0.01)
    band = simulate(rate_scenario("vasicek", r0, theta, kappa, sigma, paths)).band("tbill_rate").loc[TERM_DAYS]
    mean, var = vasicek_moments(r0, kappa, theta, sigma, T_YEARS)
    sd = math.sqrt(var)
    for q, key in ((0.05, "p05"), (0.95, "p95")):
        x = mean + sd * norm.ppf(q)
        se = float(quantile_standard_error(q, norm.pdf(x, mean, sd), paths))
        assert abs(band[key] - x) <= SE_MULTIPLE * se
