"""Unit tests for usdai_sim.metrics: VaR and ES against closed forms and hand-worked cases."""

import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usdai_sim.metrics import (
    QUANTILE_LEVELS,
    annualised_return,
    days_to_first_drop,
    expected_shortfall,
    max_drawdown,
    normal_es,
    normal_var,
    quantile_summary,
    value_at_risk,
)

N_NORMAL_DRAWS = 400_000
SE_MULTIPLE = 4.0

# Ten equally likely losses: P(L=0) = 0.8, P(L=10) = 0.1, P(L=20) = 0.1, so F(0)=0.8, F(10)=0.9, F(20)=1.
TEN_LOSSES = [0.0] * 8 + [10.0, 20.0]
# level 0.85: VaR = inf{x: F(x) >= 0.85} = 10 (F(0)=0.8 < 0.85 <= F(10)=0.9)
#             ES = (E[L 1{L>10}] + 10 (F(10) - 0.85)) / 0.15 = (0.1*20 + 10*0.05) / 0.15 = 2.5 / 0.15 = 50/3
# level 0.90: VaR = 10 (F(10) = 0.9 >= 0.9, the boundary is attained)
#             ES = (0.1*20 + 10 (0.9 - 0.9)) / 0.1 = 2 / 0.1 = 20
# level 0.95: VaR = 20 (F(10) = 0.9 < 0.95 <= F(20) = 1)
#             ES = (E[L 1{L>20}] = 0  +  20 (1 - 0.95)) / 0.05 = 1 / 0.05 = 20
HAND_CASES = [(0.85, 10.0, 50.0 / 3.0), (0.90, 10.0, 20.0), (0.95, 20.0, 20.0)]


def _normal_es_standard_error(mu: float, sigma: float, level: float, n: int) -> float:
    """Asymptotic SE of the sample ES: sqrt((Var(L | L > VaR) + level (ES - VaR)^2) / ((1 - level) n)).

    From the influence function of ES = VaR + E[(L - VaR)+] / (1 - level) (Manistre & Hancock 2005,
    "Variance of the CTE estimator", North American Actuarial Journal 9(2)); the tail variance of a
    normal is sigma^2 (1 + z lam - lam^2) with lam = phi(z) / (1 - level).
    """
    z = NormalDist().inv_cdf(level)
    lam = NormalDist().pdf(z) / (1.0 - level)
    tail_variance = sigma**2 * (1.0 + z * lam - lam**2)
    gap = normal_es(mu, sigma, level) - normal_var(mu, sigma, level)
    return math.sqrt((tail_variance + level * gap**2) / ((1.0 - level) * n))


@pytest.fixture(scope="module")
def normal_losses() -> np.ndarray:
    return np.random.default_rng(20240611).normal(1.0, 2.0, N_NORMAL_DRAWS)


@pytest.mark.parametrize("level", [0.95, 0.99, 0.999])
def test_var_of_normal_sample_matches_closed_form(normal_losses: np.ndarray, level: float) -> None:
    mu, sigma = 1.0, 2.0
    exact = normal_var(mu, sigma, level)
    density = NormalDist(mu, sigma).pdf(exact)
    standard_error = math.sqrt(level * (1.0 - level) / N_NORMAL_DRAWS) / density
    assert abs(value_at_risk(normal_losses, level) - exact) < SE_MULTIPLE * standard_error


@pytest.mark.parametrize("level", [0.95, 0.99, 0.999])
def test_es_of_normal_sample_matches_closed_form(normal_losses: np.ndarray, level: float) -> None:
    mu, sigma = 1.0, 2.0
    standard_error = _normal_es_standard_error(mu, sigma, level, N_NORMAL_DRAWS)
    assert abs(expected_shortfall(normal_losses, level) - normal_es(mu, sigma, level)) < (
        SE_MULTIPLE * standard_error
    )


def test_normal_closed_forms_against_published_values() -> None:
    # Standard normal: z_0.99 = 2.326348, ES_0.975 = phi(1.959964) / 0.025 = 2.337803.
    assert normal_var(0.0, 1.0, 0.99) == pytest.approx(2.3263479, abs=1e-6)
    assert normal_es(0.0, 1.0, 0.975) == pytest.approx(2.3378027, abs=1e-6)
    assert normal_es(1.0, 2.0, 0.975) == pytest.approx(1.0 + 2.0 * 2.3378027, abs=1e-6)


@pytest.mark.parametrize(("level", "var", "es"), HAND_CASES)
def test_var_and_es_of_hand_worked_discrete_distribution(level: float, var: float, es: float) -> None:
    assert value_at_risk(TEN_LOSSES, level) == var
    assert expected_shortfall(TEN_LOSSES, level) == pytest.approx(es, rel=1e-12)


@pytest.mark.parametrize("weights", [[0.8, 0.1, 0.1], [8, 1, 1], [80.0, 10.0, 10.0]])
@pytest.mark.parametrize(("level", "var", "es"), HAND_CASES)
def test_weights_reproduce_the_repeated_sample(
    weights: list[float], level: float, var: float, es: float
) -> None:
    assert value_at_risk([0.0, 10.0, 20.0], level, weights=weights) == var
    assert expected_shortfall([0.0, 10.0, 20.0], level, weights=weights) == pytest.approx(es, rel=1e-12)


def test_unordered_weighted_losses_are_sorted_with_their_weights() -> None:
    assert value_at_risk([20.0, 0.0, 10.0], 0.85, weights=[0.1, 0.8, 0.1]) == 10.0
    assert expected_shortfall([20.0, 0.0, 10.0], 0.85, weights=[0.1, 0.8, 0.1]) == pytest.approx(50.0 / 3.0)


def test_zero_weight_losses_are_ignored() -> None:
    assert value_at_risk([0.0, 1e9, 5.0], 0.99, weights=[0.5, 0.0, 0.5]) == 5.0
    assert expected_shortfall([0.0, 1e9, 5.0], 0.99, weights=[0.5, 0.0, 0.5]) == 5.0


def test_unweighted_var_equals_numpy_inverted_cdf() -> None:
    sample = np.random.default_rng(7).standard_t(3, 1_001)
    for level in (0.01, 0.5, 0.95, 0.99, 0.999):
        assert value_at_risk(sample, level) == np.quantile(sample, level, method="inverted_cdf")


@pytest.mark.parametrize(
    ("losses", "level", "weights"),
    [
        ([], 0.9, None),
        ([1.0, np.nan], 0.9, None),
        ([1.0], 1.0, None),
        ([1.0], 0.0, None),
        ([1.0, 2.0], 0.9, [1.0]),
        ([1.0, 2.0], 0.9, [-1.0, 2.0]),
        ([1.0, 2.0], 0.9, [0.0, 0.0]),
    ],
)
def test_invalid_inputs_raise(losses: list[float], level: float, weights: list[float] | None) -> None:
    with pytest.raises(ValueError):
        value_at_risk(losses, level, weights=weights)
    with pytest.raises(ValueError):
        expected_shortfall(losses, level, weights=weights)


finite_losses = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50)
levels = st.floats(0.001, 0.999)


@given(losses=finite_losses, first=levels, second=levels)
def test_es_dominates_var_and_both_are_monotone_in_level(
    losses: list[float], first: float, second: float
) -> None:
    low, high = sorted((first, second))
    tolerance = 1e-9 * max(1.0, max(abs(x) for x in losses))
    var_low, var_high = value_at_risk(losses, low), value_at_risk(losses, high)
    es_low, es_high = expected_shortfall(losses, low), expected_shortfall(losses, high)
    assert var_low in losses and var_low <= var_high
    assert es_low >= var_low and es_high >= var_high
    assert es_low <= es_high + tolerance
    assert es_high <= max(losses) + tolerance


@given(losses=finite_losses, counts=st.lists(st.integers(1, 5), min_size=50, max_size=50), level=levels)
def test_integer_weights_equal_repetition(losses: list[float], counts: list[int], level: float) -> None:
    weights = counts[: len(losses)]
    repeated = np.repeat(losses, weights)
    tolerance = 1e-9 * max(1.0, max(abs(x) for x in losses))
    assert value_at_risk(losses, level, weights=weights) == value_at_risk(repeated, level)
    assert expected_shortfall(losses, level, weights=weights) == pytest.approx(
        expected_shortfall(repeated, level), abs=tolerance
    )


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ([1.0, 1.2, 0.9, 1.1, 0.6, 0.8], 0.5),  # peak 1.2, trough 0.6 after it: 1 - 0.6/1.2
        ([1.0, 1.1, 1.2, 1.3], 0.0),  # never falls
        ([2.0, 1.0, 3.0, 2.4], 0.5),  # 1 - 1/2 beats 1 - 2.4/3 = 0.2
        ([1.0, 0.0], 1.0),  # total loss
        ([5.0], 0.0),
    ],
)
def test_max_drawdown_on_hand_series(series: list[float], expected: float) -> None:
    assert max_drawdown(series) == pytest.approx(expected, rel=1e-12)


def test_max_drawdown_is_vectorised_over_paths() -> None:
    paths = np.array([[1.0, 1.2, 0.9, 1.1, 0.6, 0.8], [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]])
    np.testing.assert_allclose(max_drawdown(paths), [0.5, 0.0])
    np.testing.assert_allclose(max_drawdown(paths.T, axis=0), [0.5, 0.0])


@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=30))
def test_max_drawdown_equals_brute_force(series: list[float]) -> None:
    brute = max((1.0 - series[j] / max(series[: j + 1]) for j in range(len(series))), default=0.0)
    assert max_drawdown(series) == pytest.approx(brute, abs=1e-12)


def test_max_drawdown_rejects_non_positive_start() -> None:
    with pytest.raises(ValueError):
        max_drawdown([0.0, 1.0])


def test_days_to_first_drop() -> None:
    days = [0, 30, 60, 90, 120]
    paths = np.array(
        [
            [1.0, 1.01, 1.02, 1.0, 1.05],  # first below the earlier peak 1.02 on day 90
            [1.0, 1.0, 1.0, 1.0, 1.0],  # flat: never
            [1.0, 1.0 - 1e-14, 1.0, 1.0, 1.0],  # a 1e-14 wobble is within the 1e-12 tolerance
            [1.0, 0.9, 1.1, 0.5, 0.4],  # falls at once on day 30
            [1.0, 1.1, 1.2, 1.2, 1.2 * (1 - 1e-9)],  # a 1e-9 fall counts, on day 120
        ]
    )
    np.testing.assert_array_equal(days_to_first_drop(paths, days), [90.0, np.nan, np.nan, 30.0, 120.0])


def test_days_to_first_drop_shapes() -> None:
    assert np.isnan(days_to_first_drop([1.0], [0]))
    assert days_to_first_drop(np.ones((3, 4, 2)), [0, 1]).shape == (3, 4)
    with pytest.raises(ValueError):
        days_to_first_drop(np.ones((2, 3)), [0, 1])


def test_quantile_summary_keys_and_values() -> None:
    summary = quantile_summary(np.append(np.arange(1.0, 101.0), np.nan))
    assert list(summary) == ["mean", *QUANTILE_LEVELS]
    # 100 equally likely values 1..100: the lower q-quantile is 100 q.
    assert summary == {"mean": 50.5, "p01": 1.0, "p05": 5.0, "p50": 50.0, "p95": 95.0, "p99": 99.0}


@pytest.mark.parametrize("values", [[], [np.nan, np.nan], np.empty((0, 3))])
def test_quantile_summary_of_empty_input_is_all_nan(values: list[float]) -> None:
    summary = quantile_summary(values)
    assert list(summary) == ["mean", *QUANTILE_LEVELS]
    assert all(math.isnan(v) for v in summary.values())


def test_annualised_return() -> None:
    np.testing.assert_allclose(annualised_return([1.1, 1.0, 0.9], 365), [0.1, 0.0, -0.1])
    assert annualised_return(1.1, 182.5) == pytest.approx(1.1**2 - 1.0)
    with pytest.raises(ValueError):
        annualised_return(1.1, 0)
