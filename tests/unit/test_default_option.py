"""The default-boundary solver (usdai_sim.agents.default_option) against closed forms and monotone responses."""

from __future__ import annotations

import numpy as np
import pytest

from usdai_sim.agents.default_option import (
    BoundaryTable,
    Claim,
    Dynamics,
    annuity_years,
    cohort_dynamics,
    cohort_tables,
    leland_boundary,
    solve_boundary,
    transition_matrix,
)
from usdai_sim.scenario.schema import Scenario

BGK = 0.5826
"""Broadie–Glasserman–Kou continuity correction: a barrier monitored every Δ acts like one shifted by
exp(β·σ·√Δ), β = −ζ(1/2)/√(2π) ≈ 0.5826."""


def leland_lattice(mu: float, sigma: float, r: float, dt: float, points: int) -> float:
    """The lattice's boundary for Leland's perpetual problem (long horizon: e^{−rT} < 1e-5)."""
    exact = leland_boundary(1.0, mu, sigma, r)
    y = np.linspace(np.log(exact) - 2.0, np.log(exact) + 3.0, points)
    claim = Claim(cost_rate=0.0, debt_rate=1.0, friction=0.0, residual_slope=0.0)
    steps = int(12.0 / r / dt)
    return float(solve_boundary(claim, Dynamics(mu - 0.5 * sigma**2, sigma), r, dt, steps, "option", y)[-1])


def test_leland_closed_form_hand_numbers() -> None:
    """μ = 0.02, σ = 0.25, r = 0.2: a = ½σ² = 0.03125, b = μ − ½σ² = −0.01125,
    γ = (0.01125 − √(0.01125² + 4·0.03125·0.2))/0.0625 = (0.01125 − 0.158513)/0.0625 = −2.35621;
    x_B = γ/(γ − 1)·(r − μ)·C/r = 0.70205·0.9 = 0.63184."""
    assert leland_boundary(1.0, 0.02, 0.25, 0.2) == pytest.approx(0.63184, rel=1e-4)


@pytest.mark.parametrize(("mu", "sigma", "r"), [(0.02, 0.25, 0.2), (-0.05, 0.3, 0.1)])
def test_lattice_converges_to_leland(mu: float, sigma: float, r: float) -> None:
    """Monthly and weekly lattices: with the √Δ continuity correction each is within 1% of Leland, and the
    Richardson extrapolation of the two (error ∝ √Δ) is within 1% too."""
    exact = leland_boundary(1.0, mu, sigma, r)
    coarse, fine = leland_lattice(mu, sigma, r, 1 / 12, 241), leland_lattice(mu, sigma, r, 1 / 48, 481)
    for dt, value in ((1 / 12, coarse), (1 / 48, fine)):
        assert value * np.exp(-BGK * sigma * np.sqrt(dt)) == pytest.approx(exact, rel=0.01)
    s1, s2 = np.sqrt(1 / 12), np.sqrt(1 / 48)
    assert (fine * s1 - coarse * s2) / (s1 - s2) == pytest.approx(exact, rel=0.01)


def test_myopic_limit_is_the_unit_collateral_barrier() -> None:
    """No operating cash flow, no friction, no reserve, terminal = collateral x, discounting at the loan rate
    under which x is a martingale: walk exactly when x < PV of the remaining payments = remaining debt."""
    r, sigma, dt, payments, d = 0.13, 0.3, 30 / 365, 36, 0.4
    claim = Claim(cost_rate=0.0, debt_rate=d, friction=0.0, residual_slope=1.0, revenue_weight=0.0)
    y = np.linspace(-5.0, 3.0, 321)
    myopic = solve_boundary(claim, Dynamics(r - 0.5 * sigma**2, sigma), r, dt, payments, "myopic", y)
    beta = np.exp(-r * dt)
    debt = np.array([d * dt * sum(beta**j for j in range(k)) for k in range(1, payments + 1)])
    np.testing.assert_allclose(myopic, debt, rtol=2e-3)
    option = solve_boundary(claim, Dynamics(r - 0.5 * sigma**2, sigma), r, dt, payments, "option", y)
    assert np.all(option <= myopic * (1 + 1e-9))  # the option to wait lowers the boundary
    assert option[-1] < 0.97 * myopic[-1]


def base_claim(**change: float) -> Claim:
    values = {"cost_rate": 0.4, "debt_rate": 0.4, "friction": 0.25, "residual_slope": 1.5, "residual_intercept": 0.6}
    return Claim(**{**values, **change})


DYN = Dynamics(-0.08, 0.25, 0.5)


def boundary(claim: Claim) -> np.ndarray:
    return solve_boundary(claim, DYN, 0.25, 30 / 365, 36)


def test_boundary_monotone_in_debt_cost_friction_and_residual() -> None:
    """More debt service or cost raises x_B at every date; more friction or residual value lowers it."""
    b = boundary(base_claim())
    assert np.all(boundary(base_claim(debt_rate=0.6)) >= b) and np.any(boundary(base_claim(debt_rate=0.6)) > b)
    assert np.all(boundary(base_claim(cost_rate=0.6)) >= b)
    assert np.all(boundary(base_claim(friction=1.0)) <= b)
    assert np.all(boundary(base_claim(residual_slope=3.0)) <= b)


def test_a_more_persistent_rental_fall_raises_the_boundary() -> None:
    """Less mean reversion (κ 0.5 → 0.25 → 0.1 → 0 per year) means a fall below trend is expected to last, so
    the owner walks at a higher revenue at every date (1e-9 slack: one payment left barely depends on κ), and
    strictly higher at origination."""
    bs = [solve_boundary(base_claim(), Dynamics(-0.08, 0.25, k), 0.25, 30 / 365, 36) for k in (0.5, 0.25, 0.1, 0.0)]
    for faster, slower in zip(bs[:-1], bs[1:], strict=True):
        assert np.all(slower >= faster - 1e-9)
        assert slower[-1] > faster[-1] + 1e-3


def test_vectorised_claims_match_one_by_one() -> None:
    """Claims solved together give the same boundaries as solved alone."""
    together = solve_boundary(
        Claim(cost_rate=np.array([0.2, 0.5]), debt_rate=0.4, friction=0.25, residual_slope=1.5), DYN, 0.25, 30 / 365, 12
    )
    for i, c in enumerate((0.2, 0.5)):
        alone = solve_boundary(
            Claim(cost_rate=c, debt_rate=0.4, friction=0.25, residual_slope=1.5), DYN, 0.25, 30 / 365, 12
        )
        np.testing.assert_allclose(together[:, i], alone, rtol=1e-12)


def test_transition_rows_are_probabilities_and_mean_is_kept() -> None:
    y = np.linspace(-3, 3, 121)
    p = transition_matrix(y, y + 0.1, 0.2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    inner = slice(30, 90)
    np.testing.assert_allclose((p @ y)[inner], (y + 0.1)[inner], atol=1e-4)


def test_table_lookup_is_exact_on_nodes_and_linear_between() -> None:
    values = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    table = BoundaryTable(np.array([0.0, 0.5, 1.0]), np.array([0.0, 1.0, 2.0, 3.0]), values)
    assert table.lookup(np.array([2]), np.array([0.5]), np.array([2.0]))[0] == values[1, 1, 2]
    mid = table.lookup(np.array([1]), np.array([0.25]), np.array([1.5]))[0]
    assert mid == pytest.approx(values[0, :2, 1:3].mean())
    assert table.lookup(np.array([99]), np.array([9.0]), np.array([-1.0]))[0] == values[1, 2, 0]  # clipped


def test_annuity_limits() -> None:
    assert annuity_years(0.0, 3.0) == 3.0
    assert annuity_years(0.1, 3.0) == pytest.approx((1 - np.exp(-0.3)) / 0.1)


def test_cohort_tables_follow_the_rule() -> None:
    """collateral_barrier needs no table; option boundaries sit at or below myopic ones."""
    scenario = Scenario()
    assert cohort_tables(
        scenario.model_copy(
            update={"borrowers": scenario.borrowers.model_copy(update={"default_rule": "collateral_barrier"})}
        )
    ) == [None]
    option = cohort_tables(scenario)[0]
    myopic = cohort_tables(
        scenario.model_copy(update={"borrowers": scenario.borrowers.model_copy(update={"default_rule": "myopic"})})
    )[0]
    assert option is not None and myopic is not None
    assert np.all(option.values <= myopic.values + 1e-9)


def test_expected_reversion_replaces_the_process_kappa_in_the_owners_beliefs() -> None:
    """``borrowers.expected_reversion_per_year``: null keeps the rental process's κ; a number replaces it in the
    solver only (κ_eff = κ·σ_m²/(σ_m² + σ_o²): 0.5·0.0225/0.085 with σ_m = 0.15, σ_o = 0.25); owners who
    expect no reversion get the boundary of a process with κ = 0 and walk at a higher revenue, at every date
    no lower for operators with cost ratio c ≤ 0.6 that cover cost and debt at trend revenue (c + d ≤ 1; the
    shipped cohorts have c ≈ 0.3–0.45, d ≈ 0.35), strictly higher somewhere. Not everywhere: near a high cost
    ratio (c = 0.75–0.9, d ≤ 0.2) a random walk's larger variance makes waiting worth more than the lost
    recovery, and x_B falls by up to 0.01."""
    scenario = Scenario()
    cohort, rental = scenario.borrowers.cohorts[0], scenario.markets.rental
    rental = rental.model_copy(update={"vol_per_sqrt_year": 0.15, "kappa_per_year": 0.5})
    cohort = cohort.model_copy(update={"operator_vol_per_sqrt_year": 0.25})
    share = 0.0225 / (0.0225 + 0.0625)
    assert cohort_dynamics(rental, cohort).kappa_per_year == pytest.approx(0.5 * share)
    assert cohort_dynamics(rental, cohort, 0.2).kappa_per_year == pytest.approx(0.2 * share)
    assert cohort_dynamics(rental, cohort, 0.0).kappa_per_year == 0.0

    def with_borrowers(s: Scenario, **update: object) -> Scenario:
        return s.model_copy(update={"borrowers": s.borrowers.model_copy(update=update)})

    believed = cohort_tables(scenario)[0]
    lasting = cohort_tables(with_borrowers(scenario, expected_reversion_per_year=0.0))[0]
    markets = scenario.markets.model_copy(
        update={"rental": scenario.markets.rental.model_copy(update={"kappa_per_year": 0.0})})
    process_without_reversion = cohort_tables(scenario.model_copy(update={"markets": markets}))[0]
    assert believed is not None and lasting is not None and process_without_reversion is not None
    np.testing.assert_array_equal(lasting.values, process_without_reversion.values)
    c, d = believed.cost_grid[:, None], believed.debt_grid[None, :]
    viable = np.broadcast_to(((c <= 0.6) & (c + d <= 1.0))[None], believed.values.shape)
    assert np.all(lasting.values[viable] >= believed.values[viable] - 1e-9)
    assert np.any(lasting.values[viable] > believed.values[viable] + 1e-3)
