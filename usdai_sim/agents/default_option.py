"""Default as an option: the equity holder's default boundary, solved once by backward induction on a lattice.

The owner of a non-recourse SPV keeps paying while continuing is worth more than walking away
(Leland 1994, endogenous default; here with finite maturity and an amortising schedule).

State and units. Everything is normalised by the operator's revenue rate at origination, Rev0 (USD per
year), so the solver is shared by every loan of a cohort whatever its size:
    x  = revenue rate now / Rev0                  the operator's cash-flow factor (dimensionless)
    c  = operating cost rate / Rev0               (power, colocation, overhead, repairs; per year / Rev0)
    d  = debt-service rate / Rev0                 (12 × monthly payment / Rev0)
    Δ  = time between decisions (years; one payment interval, 30/365, in the model)
Dynamics of y = log x (the processes that drive revenue in the simulation: ``markets.rental`` and each
operator's own factor):
    y' = m(τ+Δ) + (y − m(τ))·e^{−κΔ} + s·z,   s² = σ²(1 − e^{−2κΔ})/(2κ),   m(τ) = g·τ,   z ~ N(0, 1)
(κ = 0 is a geometric Brownian motion with log-drift g); for a cohort, σ and κ combine the rental process
with the operator's own random walk (``cohort_dynamics``). The transition is a matrix over a uniform grid
of y: the probability mass of each target cell (normal CDF between cell midpoints; tails to end cells).

Value of the equity with k payments left (V_k), at a payment date:
    continue_k(x) = (a·x − c − d)·Δ + e^{−rΔ}·E[V_{k−1}(x')]
    V_k(x)        = max(continue_k(x), W)        (``option``)  or  continue_k with E[V_{k−1}] un-maxed
                                                                   (``myopic``: no option to default later)
    V_0(x)        = max(0, ρ·x − γ) + R          terminal: residual fleet value (an income annuity,
                                                   floored at 0) plus the released reserve R
    W             = −F                             walking away: lose the fleet and the reserve, pay the
                                                   friction F (reputation, lost contracts, legal cost)
with r the owner's discount rate per year and a the weight of revenue in the cash flow (1 in the model).
The boundary x_B(k) is the lowest x at which continue_k(x) ≥ W (linear interpolation between grid nodes);
strategic default at a payment date ⇔ x < x_B(k).

Limits (tested): perpetual coupon, GBM cash flow, no friction and no residual → Leland's
x_B = γ/(γ−1)·(r−μ)·C/r (γ the negative root of ½σ²γ(γ−1) + μγ − r = 0); ``myopic`` with a = c = F = R = 0,
terminal ρ·x the collateral, r the loan rate and the collateral a martingale under it → walk exactly when
collateral < remaining principal (the Black–Cox barrier with ratio 1).
Monotone responses: x_B rises with d (more debt service), with c, and falls with F (friction) and with ρ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import ndtr

from usdai_sim.jit import element, kernel
from usdai_sim.scenario.schema import Cohort, Rental, Scenario, dist_bounds

Amount = float | np.ndarray
"""A number, or an array of them (one per claim solved together)."""

GRID_POINTS = 141
"""Nodes of the log-state grid."""


@dataclass(frozen=True)
class Dynamics:
    """The state's process: log-drift g per year, volatility σ per √year, mean reversion κ per year."""

    log_drift_per_year: float
    vol_per_sqrt_year: float
    kappa_per_year: float = 0.0


@dataclass(frozen=True)
class Claim:
    """The equity holder's cash flows, all normalised by Rev0 (module docstring)."""

    cost_rate: Amount
    debt_rate: Amount
    friction: Amount
    residual_slope: Amount
    residual_intercept: Amount = 0.0
    reserve_release: Amount = 0.0
    revenue_weight: Amount = 1.0


def log_grid(low: float, high: float, points: int = GRID_POINTS) -> np.ndarray:
    """Uniform grid of y = log x on [low, high]."""
    return np.linspace(low, high, points)


def transition_matrix(y: np.ndarray, mean_next: np.ndarray, sd: float) -> np.ndarray:
    """P[i, j] = probability that y' lands in cell j given y_i, with y' ~ N(mean_next[i], sd²).

    Cells are bounded by midpoints between nodes; the two end cells take the tails, so rows sum to 1.
    """
    edges = np.concatenate(([-np.inf], 0.5 * (y[1:] + y[:-1]), [np.inf]))
    if sd <= 0:
        cell = np.clip(np.searchsorted(edges, mean_next, side="right") - 1, 0, y.size - 1)
        out = np.zeros((y.size, y.size))
        out[np.arange(y.size), cell] = 1.0
        return out
    cdf = ndtr((edges[None, :] - mean_next[:, None]) / sd)
    return np.diff(cdf, axis=1)


def _step_moments(dyn: Dynamics, y: np.ndarray, tau_years: float, dt_years: float) -> tuple[np.ndarray, float]:
    """Conditional mean of y' and its standard deviation over one step starting at time τ."""
    g, sigma, kappa = dyn.log_drift_per_year, dyn.vol_per_sqrt_year, dyn.kappa_per_year
    decay = np.exp(-kappa * dt_years)
    var = sigma**2 * (dt_years if kappa == 0 else -np.expm1(-2 * kappa * dt_years) / (2 * kappa))
    return g * (tau_years + dt_years) + (y - g * tau_years) * decay, float(np.sqrt(var))


def solve_boundary(
    claim: Claim,
    dyn: Dynamics,
    discount_rate: float,
    dt_years: float,
    payments: int,
    rule: str = "option",
    y: np.ndarray | None = None,
) -> np.ndarray:
    """Default boundary x_B(k) for k = 1 … ``payments`` payments left (row k − 1), by backward induction.

    ``rule`` is ``option`` (the holder keeps the better of continuing and walking at every later date) or
    ``myopic`` (compares walking now with the expected value of paying to maturity). Time τ runs from the
    first decision (τ = 0, ``payments`` left) to maturity. Claim fields may be arrays of one shape S (many
    claims solved at once on the same transitions); the result is then (payments, *S).
    """
    if rule not in ("option", "myopic"):
        raise ValueError(f"rule must be 'option' or 'myopic' (got {rule!r})")
    y = log_grid(-4.0, 3.0) if y is None else y
    x = np.exp(y)
    field = {name: np.asarray(getattr(claim, name), dtype=float) for name in Claim.__dataclass_fields__}
    shape = np.broadcast_shapes(*(v.shape for v in field.values()))
    f = {name: np.broadcast_to(v, shape).reshape(1, -1) for name, v in field.items()}
    xs = x[:, None]
    walk = -f["friction"]
    beta = np.exp(-discount_rate * dt_years)
    value = np.maximum(f["residual_slope"] * xs - f["residual_intercept"], 0.0) + f["reserve_release"]
    flow = (f["revenue_weight"] * xs - f["cost_rate"] - f["debt_rate"]) * dt_years
    boundary = np.empty((payments, flow.shape[1]))
    steady = None if dyn.kappa_per_year else transition_matrix(y, *_step_moments(dyn, y, 0.0, dt_years))
    for k in range(1, payments + 1):
        tau = (payments - k) * dt_years
        step = steady if steady is not None else transition_matrix(y, *_step_moments(dyn, y, tau, dt_years))
        cont = flow + beta * (step @ value)
        boundary[k - 1] = _crossings(x, cont - walk)
        value = np.maximum(cont, walk) if rule == "option" else cont
    return boundary.reshape((payments, *shape))


def _crossings(x: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """Per column, the lowest x at which ``excess`` (continue − walk, increasing in x) reaches 0, interpolated
    linearly between nodes; x[0] when it is never negative on the grid, +inf when never reached."""
    above = excess >= 0
    j = np.argmax(above, axis=0)
    cols = np.arange(excess.shape[1])
    jm = np.maximum(j - 1, 0)
    e0, e1 = excess[jm, cols], excess[j, cols]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(j > 0, -e0 / (e1 - e0), 0.0)
    out = x[jm] + (x[j] - x[jm]) * w
    return np.where(above.any(axis=0), out, np.inf)


def leland_boundary(coupon: float, drift: float, vol: float, rate: float) -> float:
    """Leland (1994) endogenous default boundary for a perpetual coupon C and a GBM cash flow δ (per year).

    δ_B = γ/(γ − 1)·(r − μ)·C/r, γ the negative root of ½σ²γ(γ − 1) + μγ − r = 0.
    """
    a, b = 0.5 * vol**2, drift - 0.5 * vol**2
    gamma = (-b - np.sqrt(b * b + 4 * a * rate)) / (2 * a)
    return float(gamma / (gamma - 1.0) * (rate - drift) * coupon / rate)


def annuity_years(rate: float, horizon_years: float) -> float:
    """∫₀ᴴ e^{−q·t} dt = (1 − e^{−qH})/q (→ H as q → 0), years."""
    return float(horizon_years if abs(rate) < 1e-12 else -np.expm1(-rate * horizon_years) / rate)


@dataclass(frozen=True)
class BoundaryTable:
    """Boundaries of one cohort on a grid of cost and debt ratios: ``values[k − 1, i, j]`` at (c_i, d_j)."""

    cost_grid: np.ndarray
    debt_grid: np.ndarray
    values: np.ndarray

    def lookup(self, payments_left: np.ndarray, cost_ratio: np.ndarray, debt_ratio: np.ndarray) -> np.ndarray:
        """``boundary_at`` of each loan (arguments broadcast)."""
        arrays = np.broadcast_arrays(np.asarray(payments_left, np.int64), np.asarray(cost_ratio, np.float64),
                                     np.asarray(debt_ratio, np.float64))
        left, cost, debt = (np.ascontiguousarray(a).ravel() for a in arrays)
        out = np.empty(left.size)
        grids = (np.ascontiguousarray(g, np.float64) for g in (self.values, self.cost_grid, self.debt_grid))
        lookup_kernel(*grids, left, cost, debt, out)
        return out.reshape(arrays[0].shape)


@element
def bracket(grid: np.ndarray, value: float) -> tuple[int, float]:
    """Index i of the lower grid node and the interpolation weight w = (v − g_i)/(g_{i+1} − g_i), with the value v
    clipped into the grid: i = (nodes ≤ v) − 1, clipped to [0, nodes − 2]."""
    v = min(max(value, grid[0]), grid[-1])
    below = 0
    while below < grid.size and grid[below] <= v:
        below += 1
    i = min(max(below - 1, 0), grid.size - 2)
    return i, (v - grid[i]) / (grid[i + 1] - grid[i])


@element
def boundary_at(values: np.ndarray, rows: int, cost_grid: np.ndarray, debt_grid: np.ndarray, payments_left: int,
                cost_ratio: float, debt_ratio: float) -> float:
    """One loan's boundary x_B: bilinear interpolation in (c, d) of ``values[k − 1]``, k = payments left clipped to
    [1, rows] (the table's first ``rows`` rows are read; ``bracket``: ratios clipped to the grid):
        x_B = (v[k,i,j]·(1 − w_d) + v[k,i,j+1]·w_d)·(1 − w_c) + (v[k,i+1,j]·(1 − w_d) + v[k,i+1,j+1]·w_d)·w_c."""
    k = min(max(payments_left, 1), rows) - 1
    ci, cw = bracket(cost_grid, cost_ratio)
    di, dw = bracket(debt_grid, debt_ratio)
    low = values[k, ci, di] * (1 - dw) + values[k, ci, di + 1] * dw
    high = values[k, ci + 1, di] * (1 - dw) + values[k, ci + 1, di + 1] * dw
    return low * (1 - cw) + high * cw  # type: ignore[no-any-return]


@kernel
def lookup_kernel(values: np.ndarray, cost_grid: np.ndarray, debt_grid: np.ndarray, payments_left: np.ndarray,
                  cost_ratio: np.ndarray, debt_ratio: np.ndarray, out: np.ndarray) -> None:
    """``boundary_at`` of each loan k (1-D arrays)."""
    for k in range(out.size):
        out[k] = boundary_at(values, values.shape[0], cost_grid, debt_grid, payments_left[k], cost_ratio[k],
                             debt_ratio[k])


@dataclass(frozen=True)
class BoundaryStack:
    """Every cohort's table in one set of arrays for the compiled walk rule: ``rows[g]`` payment rows of cohort g's
    table (0: no table, the owner never walks at a payment date), its grids and ``values[g, :rows[g]]``."""

    rows: np.ndarray
    cost_grid: np.ndarray
    debt_grid: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, tables: list[BoundaryTable | None]) -> BoundaryStack:
        """The stack of ``tables`` (one per cohort; every table on grids of the same sizes)."""
        real = [t for t in tables if t is not None]
        shape = (max((t.values.shape[0] for t in real), default=1), *(real[0].values.shape[1:] if real else
                                                                      (COST_GRID.size, DEBT_GRID.size)))
        values = np.zeros((len(tables), *shape))
        cost, debt = np.zeros((len(tables), shape[1])), np.zeros((len(tables), shape[2]))
        for g, t in enumerate(tables):
            if t is not None:
                values[g, : t.values.shape[0]], cost[g], debt[g] = t.values, t.cost_grid, t.debt_grid
        rows = np.array([0 if t is None else t.values.shape[0] for t in tables], np.int64)
        return cls(rows, cost, debt, values)


COST_GRID = np.linspace(0.0, 1.2, 9)
"""Operating cost / revenue at origination: the table's first axis."""
DEBT_GRID = np.linspace(0.05, 2.0, 14)
"""Debt service / revenue at origination: the table's second axis."""


def boundary_table(
    make_claim: Callable[[np.ndarray, np.ndarray], Claim],
    dyn: Dynamics,
    discount_rate: float,
    dt_years: float,
    payments: int,
    rule: str,
) -> BoundaryTable:
    """Solve the boundary at every (c, d) node at once; ``make_claim(c, d)`` builds the claims (arrays)."""
    c, d = np.meshgrid(COST_GRID, DEBT_GRID, indexing="ij")
    values = solve_boundary(make_claim(c, d), dyn, discount_rate, dt_years, payments, rule)
    return BoundaryTable(COST_GRID, DEBT_GRID, values)


PAYMENT_YEARS = 30.0 / 365.0
"""Time between two payment dates, years (the loan router's 30-day interval)."""


def cohort_dynamics(rental: Rental, cohort: Cohort, expected_reversion_per_year: float | None = None) -> Dynamics:
    """The revenue factor's process for a cohort. The operator's rental is the market's (log-OU about its
    trend: σ_m, κ) times its own factor (a random walk: σ_o, ``operator_vol_per_sqrt_year``). Both reach
    revenue damped by half the cohort's mean contracted share s̄ (assumption: over a loan about half of the
    contract book has rolled to market). A one-dimensional state cannot tell the two apart, so the solver
    takes the total volatility and the reverting share of the variance (assumption: the owner expects the market's part
    of a fall to revert and its own part to last):
        σ = √(σ_m² + σ_o²)·(1 − s̄/2),    κ_eff = κ·σ_m²/(σ_m² + σ_o²)     (σ_o = 0: the rental process).
    κ is what owners expect of the market's falls: ``expected_reversion_per_year`` when given
    (``borrowers.expected_reversion_per_year``), else the simulated process's ``rental.kappa_per_year``.
    """
    market_var, own_var = rental.vol_per_sqrt_year**2, cohort.operator_vol_per_sqrt_year**2
    total_var = market_var + own_var
    mean_share = float(np.mean(dist_bounds(cohort.contracted_share)))
    vol = float(np.sqrt(total_var)) * (1.0 - 0.5 * mean_share)
    believed = rental.kappa_per_year if expected_reversion_per_year is None else expected_reversion_per_year
    kappa = believed * market_var / total_var if total_var > 0 else believed
    return Dynamics(rental.drift_per_year, vol, kappa)


def cohort_claim_factory(
    cohort: Cohort, rental: Rental, life_years: float
) -> Callable[[np.ndarray, np.ndarray], Claim]:
    """Claims of a cohort's loans at cost ratio c and debt ratio d (module docstring): the friction in months of
    revenue, the reserve released at maturity, and the fleet's income value over the life left at maturity."""
    lo, hi = dist_bounds(cohort.age_years)
    life_left = max(life_years - 0.5 * (lo + hi) - cohort.term_months / 12.0, 0.0)
    r, g = cohort.equity_discount_rate, rental.drift_per_year
    slope, per_cost = annuity_years(r - g, life_left), annuity_years(r, life_left)

    def make(c: np.ndarray, d: np.ndarray) -> Claim:
        return Claim(
            cost_rate=c,
            debt_rate=d,
            friction=cohort.default_friction_months / 12.0,
            residual_slope=slope,
            residual_intercept=c * per_cost,
            reserve_release=cohort.dsra_months * d * PAYMENT_YEARS,
        )

    return make


def cohort_tables(scenario: Scenario) -> list[BoundaryTable | None]:
    """One boundary table per cohort for the scenario's ``default_rule`` (None for ``collateral_barrier``)."""
    rule = scenario.borrowers.default_rule
    if rule == "collateral_barrier":
        return [None for _ in scenario.borrowers.cohorts]
    rental, life = scenario.markets.rental, scenario.markets.gpu.valuation.economic_life_years
    belief = scenario.borrowers.expected_reversion_per_year
    return [
        _cohort_table(c.model_dump_json(), rental.model_dump_json(), life, rule, belief)
        for c in scenario.borrowers.cohorts
    ]


@lru_cache(maxsize=128)
def _cohort_table(
    cohort_json: str, rental_json: str, life_years: float, rule: str, expected_reversion_per_year: float | None
) -> BoundaryTable:
    """The table of one cohort (memoised on its inputs: every work block of a run shares it)."""
    cohort, rental = Cohort.model_validate_json(cohort_json), Rental.model_validate_json(rental_json)
    dyn = cohort_dynamics(rental, cohort, expected_reversion_per_year)
    make = cohort_claim_factory(cohort, rental, life_years)
    return boundary_table(make, dyn, cohort.equity_discount_rate, PAYMENT_YEARS, cohort.term_months, rule)
