"""Unit tests of usdai_sim.market.gpu and usdai_sim.market.catalog against hand-computed numbers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usdai_sim.market.catalog import GPU_CATALOG
from usdai_sim.market.gpu import (
    DEPRECIATION_METHODS,
    correlated_normal,
    decay_integral_years,
    depreciation_factor,
    expit,
    impact_log_step,
    log_factor_step,
    logit,
    ou_moments,
    ou_step,
    price_impact_discount,
    utilisation_step,
)

N_DRAWS = 200_000
DOMAIN_VINTAGE = (1.0, 0.78, 0.60, 0.46, 0.35)

# --- depreciation ----------------------------------------------------------------------------------


def test_straight_line_hand_computed() -> None:
    # life 6, salvage 0.1: 1 - 0.9 * a / 6 -> a=-1: 1.0 (age floored at 0); a=3: 0.55; a=6: 0.1;
    # a=8: 1 - 1.2 = -0.2 -> floored at 0.1
    ages = np.array([-1.0, 0.0, 3.0, 6.0, 8.0])
    got = depreciation_factor(ages, "straight_line", life_years=6.0, salvage_fraction=0.1)
    assert got == pytest.approx([1.0, 1.0, 0.55, 0.1, 0.1])


def test_declining_balance_hand_computed() -> None:
    # rate 0.2: 0.8^2 = 0.64; 0.8^0.5 = 0.894427191; 0.8^10 = 0.1073741824 (no salvage) / 0.3 (salvage 0.3)
    ages = np.array([2.0, 0.5, 10.0])
    assert depreciation_factor(ages, "declining_balance", annual_rate=0.2) == pytest.approx(
        [0.64, 0.894427191, 0.1073741824]
    )
    floored = depreciation_factor(ages, "declining_balance", annual_rate=0.2, salvage_fraction=0.3)
    assert floored == pytest.approx([0.64, 0.894427191, 0.3])


def test_vintage_table_hand_computed() -> None:
    # factors 1/0.78/0.60/0.46/0.35 at ages 0..4
    # a=1.5: (0.78 + 0.60) / 2 = 0.69; a=3.25: 0.46 - 0.25 * 0.11 = 0.4325; a=4: 0.35
    # beyond: ratio 0.35 / 0.46 = 0.7608695652; a=5: 0.35 * 0.7608695652 = 0.2663043478;
    # a=6: 0.35 * 0.7608695652^2 = 0.2026228733
    ages = np.array([0.0, 1.5, 3.25, 4.0, 5.0, 6.0])
    got = depreciation_factor(ages, "table", vintage_factors=DOMAIN_VINTAGE)
    assert got == pytest.approx([1.0, 0.69, 0.4325, 0.35, 0.2663043478, 0.2026228733])
    # salvage 0.25: a=5 stays 0.2663, a=6 becomes 0.25; salvage 0.5 also lifts the table from a=2 on
    floored = depreciation_factor(ages, "table", vintage_factors=DOMAIN_VINTAGE, salvage_fraction=0.25)
    assert floored[-2:] == pytest.approx([0.2663043478, 0.25])
    high = depreciation_factor(ages, "table", vintage_factors=DOMAIN_VINTAGE, salvage_fraction=0.5)
    assert high == pytest.approx([1.0, 0.69, 0.5, 0.5, 0.5, 0.5])


def test_vintage_table_single_entry_is_flat() -> None:
    assert depreciation_factor(np.array([0.0, 3.0]), "table") == pytest.approx([1.0, 1.0])


def test_depreciation_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown depreciation method 'sum_of_years'"):
        depreciation_factor(1.0, "sum_of_years")
    with pytest.raises(ValueError, match="vintage_factors"):
        depreciation_factor(1.0, "table", vintage_factors=(1.0, 0.0))
    with pytest.raises(ValueError, match="life_years"):
        depreciation_factor(1.0, "straight_line", life_years=0.0)


@given(
    ages=st.lists(st.floats(-2.0, 30.0), min_size=2, max_size=20),
    method=st.sampled_from(DEPRECIATION_METHODS),
    salvage=st.floats(0.0, 0.5),
)
def test_depreciation_is_non_increasing_and_bounded(ages: list[float], method: str, salvage: float) -> None:
    sorted_ages = np.sort(np.array(ages))
    values = depreciation_factor(
        sorted_ages, method, annual_rate=0.18, salvage_fraction=salvage, vintage_factors=DOMAIN_VINTAGE
    )
    assert np.all(np.diff(values) <= 1e-12)
    assert np.all(values <= 1.0) and np.all(values >= salvage - 1e-12)


# --- price factor, OU, correlation ------------------------------------------------------------------


def test_log_factor_step_hand_computed() -> None:
    # X=0, mu=0.1, sigma=0.2, dt=0.25, z=-1: (0.1 - 0.02) * 0.25 + 0.2 * 0.5 * (-1) = 0.02 - 0.1 = -0.08
    assert log_factor_step(np.array([0.0]), 0.1, 0.2, 0.25, np.array([-1.0])) == pytest.approx([-0.08])


def test_log_factor_step_martingale_mean() -> None:
    # E[exp X_1] = exp(X_0 + mu * 1) with X_0 = log 0.9, mu = -0.15, sigma = 0.4; mean within 4 SE
    rng = np.random.default_rng(11)
    x = log_factor_step(np.full(N_DRAWS, np.log(0.9)), -0.15, 0.4, 1.0, rng.standard_normal(N_DRAWS))
    level = np.exp(x)
    assert abs(level.mean() - 0.9 * np.exp(-0.15)) < 4.0 * level.std(ddof=1) / np.sqrt(N_DRAWS)


def test_decay_integral_limits() -> None:
    # (1 - e^{-2 * 0.5}) / 2 = 0.6321205588 / 2 = 0.3160602794; kappa = 0 gives t
    assert decay_integral_years(2.0, 0.5) == pytest.approx(0.3160602794)
    assert decay_integral_years(np.array([0.0, 1e-12]), 3.0) == pytest.approx([3.0, 3.0])


@pytest.mark.parametrize("n_steps", [1, 50])
def test_ou_simulated_moments(n_steps: int) -> None:
    # mean within 4 sigma / sqrt(n); sample variance within 4 sigma^2 sqrt(2 / (n - 1)) (normal law)
    rng = np.random.default_rng(300 + n_steps)
    x0, mean, kappa, sigma, dt = 1.0, -0.5, 3.0, 0.8, 1.0 / 52.0
    x = np.full(N_DRAWS, x0)
    for _ in range(n_steps):
        x = ou_step(x, mean, kappa, sigma, dt, rng.standard_normal(N_DRAWS))
    m, v = ou_moments(x0, mean, kappa, sigma, n_steps * dt)
    assert abs(x.mean() - m) < 4.0 * np.sqrt(v / N_DRAWS)
    assert abs(x.var(ddof=1) - v) < 4.0 * v * np.sqrt(2.0 / (N_DRAWS - 1))


def test_correlated_normal_hand_computed_and_correlation() -> None:
    # rho = 0.6: 0.6 * 1 + 0.8 * 2 = 2.2
    assert correlated_normal(np.array([1.0]), np.array([2.0]), 0.6) == pytest.approx([2.2])
    rng = np.random.default_rng(5)
    z_ref, z_own = rng.standard_normal((2, N_DRAWS))
    z = correlated_normal(z_ref, z_own, -0.3)
    # sample correlation has SE ~ (1 - rho^2) / sqrt(n) = 0.91 / 447.2 = 0.0020
    assert abs(np.corrcoef(z, z_ref)[0, 1] + 0.3) < 4.0 * 0.91 / np.sqrt(N_DRAWS)
    assert abs(z.var() - 1.0) < 4.0 * np.sqrt(2.0 / N_DRAWS)
    with pytest.raises(ValueError, match="correlation"):
        correlated_normal(z_ref, z_own, 1.2)


# --- utilisation ------------------------------------------------------------------------------------


def test_logit_and_expit_hand_computed() -> None:
    # logit(0.9) = ln 9 = 2.1972245773; logit(0) clips to 1e-9: ln(1e-9 / (1 - 1e-9)) = -20.7232658
    assert logit(np.array([0.9, 0.5, 0.0, 1.0])) == pytest.approx(
        [2.1972245773, 0.0, -20.7232658, 20.7232658], abs=1e-6
    )
    # expit(ln 9) = 0.9; large |x| does not overflow
    assert expit(np.array([np.log(9.0), 0.0, -800.0, 800.0])) == pytest.approx([0.9, 0.5, 0.0, 1.0])


@given(st.floats(1e-6, 1.0 - 1e-6))
def test_expit_inverts_logit(p: float) -> None:
    assert float(expit(logit(p))) == pytest.approx(p, rel=1e-9, abs=1e-12)


def test_utilisation_step_hand_computed() -> None:
    # L = logit(0.9) = 2.1972245773, level = logit(0.85) = ln(0.85/0.15) = 1.7346010554,
    # kappa=2, sigma=0.5, dt=0.25, z = 0.6*1 + 0.8*(-1) = -0.2
    # L' = 1.7346010554 + 0.4626235219 * e^{-0.5} + 0.5 * sqrt((1 - e^{-1}) / 4) * (-0.2)
    #    = 1.7346010554 + 0.2805953059 - 0.1987650244 * 0.2 = 1.9754434005
    new = utilisation_step(logit(np.array([0.9])), logit(0.85), 2.0, 0.5, 0.25, 1.0, -1.0, 0.6)
    assert new == pytest.approx([1.9754434005], abs=1e-9)
    assert 0.0 < float(expit(new[0])) < 1.0


# --- fire-sale impact -------------------------------------------------------------------------------


def test_price_impact_discount_hand_computed() -> None:
    # base 0.1, slope 0.3: sold/depth 0.5 -> 0.25; 5.0 -> 1.6 capped at 0.55; base -0.2, none sold -> 0
    sold = np.array([500.0, 5000.0])
    assert price_impact_discount(sold, 1000.0, 0.1, 0.3, 0.55) == pytest.approx([0.25, 0.55])
    assert price_impact_discount(0.0, 1000.0, -0.2, 0.3, 0.55) == pytest.approx(0.0)


def test_impact_log_step_hand_computed() -> None:
    # J=-0.2, 300 sold into depth 1000 at 0.1 per depth, half-life 30 d, dt 15 d:
    # -0.2 * 2^{-0.5} - 0.1 * 0.3 = -0.1414213562 - 0.03 = -0.1714213562
    got = impact_log_step(np.array([-0.2]), np.array([300.0]), 1000.0, 0.1, 30.0, 15.0)
    assert got == pytest.approx([-0.1714213562])
    # no sales: one half-life halves it
    assert impact_log_step(-0.2, 0.0, 1000.0, 0.1, 30.0, 30.0) == pytest.approx(-0.1)


# --- catalog ----------------------------------------------------------------------------------------

CATALOG_KEYS = {
    "list_price_usd",
    "rental_usd_per_gpu_hour",
    "power_kw_per_gpu",
    "market_depth_gpus_per_30d",
    "max_ltv",
    "vintage_factors",
    "source",
}


def test_catalog_classes_and_keys() -> None:
    assert set(GPU_CATALOG) == {"H100", "H200", "B200", "GB200", "RTX_PRO_6000", "A100"}
    for name, spec in GPU_CATALOG.items():
        assert set(spec) == CATALOG_KEYS, name
        assert 0.0 < spec["max_ltv"] <= 0.80, name  # USD.AI: max 80% at origination
        assert spec["list_price_usd"] > 0 and spec["rental_usd_per_gpu_hour"] > 0, name
        assert np.all(np.diff(spec["vintage_factors"]) < 0) and spec["vintage_factors"][0] == 1.0, name
        assert spec["source"], name


def test_catalog_domain_figures() -> None:
    assert GPU_CATALOG["H100"]["list_price_usd"] == 30_000.0
    assert GPU_CATALOG["H100"]["rental_usd_per_gpu_hour"] == 2.95
    assert GPU_CATALOG["GB200"]["list_price_usd"] == pytest.approx(3_100_000.0 / 72.0)  # 43,055.56
    assert 2.50 <= GPU_CATALOG["H200"]["rental_usd_per_gpu_hour"] <= 7.00  # May 2026 range
    assert 0.80 <= GPU_CATALOG["A100"]["rental_usd_per_gpu_hour"] <= 3.00


def test_catalog_is_read_only() -> None:
    with pytest.raises(TypeError):
        GPU_CATALOG["H100"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        GPU_CATALOG["H100"]["list_price_usd"] = 1.0  # type: ignore[index]
