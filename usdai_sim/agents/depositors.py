"""sUSDai stakers: per-path populations, behaviour rules on observed signals, exits, and agent views.

Signals (spread, drawdown, loss news, unfunded queue share, expected wait, secondary discount) are
defined in ``usdai_sim/agents/signals.py``. Each step a staker without an open request wants out with
probability 1 − exp(−h·Δ/365)·(1 − wave), with the hazard per year
    h = base + ρ · [ s_spread·(θ_spread − spread)⁺ + s_loss·(drawdown − θ_loss)⁺ + s_news·loss news
                     + s_herd·(unfunded queue share − θ_herd)⁺ + s_flow·(outflow share − θ_flow)⁺ ]
(ρ = ``run_proneness``; sensitivities s and thresholds θ drawn per staker and path), plus a scripted
redemption wave's probability. A staker who wants out sells in the secondary market when the discount is
at most its tolerance (``exit_discount_tolerance``), within the arbitrageurs' daily capital, and requests
redemption through the queue otherwise (and for the part the market could not absorb). A staker whose
spread beats its hurdle deposits a fraction of its wallet at rate d per year (a deposit intention with
probability 1 − exp(−d·Δ/365) a step), unless it wants out that step.

Who draws: Poisson thinning (``usdai_sim/agents/thinning.py``). Each staker's exponential clock runs at its
path's hazard bound (``HazardBounds``) plus d; only the stakers whose clock rings in a step (the
candidates) get a uniform, which decides exit, deposit or nothing with the conditional probabilities
given there. The probability of wanting out in a step is exactly the rule above; a deposit intention
without an exit has probability exp(−a)·(1 − exp(−d·Δ/365)), a = h·Δ/365 − ln(1 − wave).

Populations: balances are capped Pareto shares of the initial NAV (``usdai_sim/population.py``), drawn per
path unless ``simulation.population_seed`` fixes one population. The last column is the arbitrageurs'
book: it starts empty, buys what stakers sell, never deposits or redeems.

Who bears the loss: each step's net recognised loss (after first-loss capital) is borne by the holders of
shares (held + pending) pro rata, accumulated per staker in ``loss_borne_usd``; secondary sellers also pay
the discount (``discount_paid_usd``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usdai_sim.agents.base import ColumnAgent
from usdai_sim.agents.signals import Signals
from usdai_sim.agents.thinning import candidate_outcomes, hazard_mass, wave_mass
from usdai_sim.jit import kernel
from usdai_sim.params import DAYS_PER_YEAR
from usdai_sim.population import capped_pareto_shares, draw_dist, population_uniforms
from usdai_sim.scenario.schema import Depositors, Scenario

DRAWN = (
    "balance",
    "deposit_hurdle",
    "spread_threshold",
    "spread_sensitivity",
    "loss_threshold",
    "loss_sensitivity",
    "news_sensitivity",
    "herd_threshold",
    "herd_sensitivity",
    "flow_threshold",
    "flow_sensitivity",
    "exit_tolerance",
    "qev_bid_bps",
)


@dataclass(frozen=True)
class DepositorParams:
    """Per path and staker, (n_paths, n_stakers + 1); the last column is the arbitrageurs' (inert)."""

    balance_usd: np.ndarray
    wallet_usd: np.ndarray
    redeem_base_rate_per_year: np.ndarray
    deposit_hurdle: np.ndarray
    spread_threshold: np.ndarray
    spread_sensitivity: np.ndarray
    loss_threshold: np.ndarray
    loss_sensitivity: np.ndarray
    news_sensitivity: np.ndarray
    herd_threshold: np.ndarray
    herd_sensitivity: np.ndarray
    flow_threshold: np.ndarray
    flow_sensitivity: np.ndarray
    exit_tolerance: np.ndarray
    qev_bid_bps: np.ndarray

    @property
    def arbitrageur(self) -> int:
        """Column of the arbitrageurs' book."""
        return self.balance_usd.shape[1] - 1


def _with_arbitrageur(values: np.ndarray, fill: float) -> np.ndarray:
    return np.concatenate([values, np.full((values.shape[0], 1), fill)], axis=1)


def draw_depositors(scenario: Scenario, first_path: int, n_paths: int) -> DepositorParams:
    """The stakers of paths [first_path, first_path + n_paths) and the arbitrageurs' empty book."""
    spec = scenario.depositors
    u = population_uniforms(scenario.simulation, "depositor_population", first_path, n_paths, spec.count, len(DRAWN))
    col = {name: u[:, :, i] for i, name in enumerate(DRAWN)}
    balance = scenario.protocol.initial_susdai_nav_usd * capped_pareto_shares(
        col["balance"], spec.balance_pareto_alpha, spec.max_holder_share
    )
    drawn = {
        "deposit_hurdle": (spec.deposit_hurdle, np.inf),
        "spread_threshold": (spec.spread_threshold, -np.inf),
        "spread_sensitivity": (spec.spread_sensitivity_per_year, 0.0),
        "loss_threshold": (spec.loss_threshold, np.inf),
        "loss_sensitivity": (spec.loss_sensitivity_per_year, 0.0),
        "news_sensitivity": (spec.loss_news_sensitivity_per_year, 0.0),
        "herd_threshold": (spec.herd_threshold, np.inf),
        "herd_sensitivity": (spec.herd_sensitivity_per_year, 0.0),
        "flow_threshold": (spec.outflow_threshold, np.inf),
        "flow_sensitivity": (spec.outflow_sensitivity_per_year, 0.0),
        "exit_tolerance": (spec.exit_discount_tolerance, -1.0),
        "qev_bid_bps": (spec.qev_bid_bps, 0.0),
    }
    traits = {
        "redeem_base_rate_per_year": _with_arbitrageur(np.full(balance.shape, spec.redeem_base_rate_per_year), 0.0),
        **{name: _with_arbitrageur(draw_dist(dist, col[name]), fill) for name, (dist, fill) in drawn.items()},
    }
    return DepositorParams(
        balance_usd=_with_arbitrageur(balance, 0.0),
        wallet_usd=_with_arbitrageur(balance * spec.wallet_multiple, 0.0),
        **side_by_side(traits),
    )


def side_by_side(traits: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The (paths, stakers) trait arrays as views of one (paths, stakers, traits) block, so that one staker's
    traits are neighbours in memory: a step's candidates are scattered over the population, and reading a
    candidate's traits then costs a cache line or two instead of one per trait."""
    block = np.stack(list(traits.values()), axis=2)
    return {name: block[:, :, k] for k, name in enumerate(traits)}


@dataclass
class DepositorBook:
    """Dynamic state of every staker on every path; arrays are (n_paths, n_stakers + 1)."""

    shares: np.ndarray
    pending_shares: np.ndarray
    queue_key: np.ndarray
    request_day: np.ndarray
    window_end_day: np.ndarray
    wallet_usd: np.ndarray
    loss_borne_usd: np.ndarray
    discount_paid_usd: np.ndarray
    first_exit_day: np.ndarray
    exited_usd: np.ndarray
    sold_usd: np.ndarray

    @classmethod
    def new(cls, dp: DepositorParams) -> DepositorBook:
        """Balances staked at a price of 1.0, no open requests."""
        shape = dp.balance_usd.shape
        zeros = [np.zeros(shape) for _ in range(5)]
        return cls(
            dp.balance_usd.copy(), np.zeros(shape), np.full(shape, np.inf), np.full(shape, np.inf),
            np.full(shape, np.inf), dp.wallet_usd.copy(), zeros[0], zeros[1], np.full(shape, np.inf),
            zeros[2], zeros[3],
        )

    def bear_loss(self, net_loss_usd: np.ndarray, total_shares: np.ndarray) -> None:
        """Spread a per-path net loss over holders of shares (held + pending), pro rata."""
        per_share = np.divide(net_loss_usd, total_shares, out=np.zeros_like(net_loss_usd), where=total_shares > 0)
        rows = np.flatnonzero(per_share)
        if rows.size:
            self.loss_borne_usd[rows] += per_share[rows, None] * (self.shares[rows] + self.pending_shares[rows])


def picked(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """values[rows, cols] of a (P, N) array: through flat indices when it is C-ordered (cheaper than 2-D fancy
    indexing), else by 2-D indexing (a strided view's ravel would copy it whole)."""
    if values.flags.c_contiguous:
        return values.ravel()[rows * values.shape[1] + cols]
    return values[rows, cols]


def redeem_hazard_per_year(
    dp: DepositorParams, run_proneness: float, signals: Signals, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """h (per year, module docstring) of staker ``cols[k]`` on path ``rows[k]`` (``staker_hazard_kernel``)."""
    return staker_hazard_kernel(
        rows, cols, dp.redeem_base_rate_per_year, dp.spread_sensitivity, dp.spread_threshold, dp.loss_sensitivity,
        dp.loss_threshold, dp.news_sensitivity, dp.herd_sensitivity, dp.herd_threshold, dp.flow_sensitivity,
        dp.flow_threshold, signals.spread, signals.drawdown, signals.loss_news, signals.unfunded_queue_share,
        signals.outflow_share, float(run_proneness),
    )


@kernel
def staker_hazard_kernel(
    rows: np.ndarray, cols: np.ndarray, base: np.ndarray, spread_s: np.ndarray, spread_t: np.ndarray,
    loss_s: np.ndarray, loss_t: np.ndarray, news_s: np.ndarray, herd_s: np.ndarray, herd_t: np.ndarray,
    flow_s: np.ndarray, flow_t: np.ndarray, spread: np.ndarray, drawdown: np.ndarray, news: np.ndarray,
    unfunded_queue_share: np.ndarray, outflow_share: np.ndarray, run_proneness: float,
) -> np.ndarray:
    """h = base + run_proneness · (s_spread·(t_spread − spread)⁺ + s_loss·(drawdown − t_loss)⁺ + s_news·news
    + s_herd·(unfunded queue share − t_herd)⁺ + s_flow·(outflow share − t_flow)⁺) per year, for the stakers
    (rows[k], cols[k]) with parameters (paths, stakers) and signals per path; summed left to right."""
    hazard = np.empty(rows.size)
    for k in range(rows.size):
        p, a = rows[k], cols[k]
        behaviour = (
            spread_s[p, a] * max(spread_t[p, a] - spread[p], 0.0)
            + loss_s[p, a] * max(drawdown[p] - loss_t[p, a], 0.0)
            + news_s[p, a] * news[p]
            + herd_s[p, a] * max(unfunded_queue_share[p] - herd_t[p, a], 0.0)
            + flow_s[p, a] * max(outflow_share[p] - flow_t[p, a], 0.0)
        )
        hazard[k] = base[p, a] + run_proneness * behaviour
    return hazard


@dataclass(frozen=True)
class HazardBounds:
    """Per path, the largest sensitivities and base rate and the smallest/largest thresholds over stakers."""

    base: np.ndarray
    spread_s: np.ndarray
    spread_t: np.ndarray
    loss_s: np.ndarray
    loss_t: np.ndarray
    news_s: np.ndarray
    herd_s: np.ndarray
    herd_t: np.ndarray
    flow_s: np.ndarray
    flow_t: np.ndarray

    @classmethod
    def of(cls, dp: DepositorParams) -> HazardBounds:
        """Computed once per population."""
        return cls(
            dp.redeem_base_rate_per_year.max(axis=1), dp.spread_sensitivity.max(axis=1),
            dp.spread_threshold.max(axis=1), dp.loss_sensitivity.max(axis=1), dp.loss_threshold.min(axis=1),
            dp.news_sensitivity.max(axis=1), dp.herd_sensitivity.max(axis=1), dp.herd_threshold.min(axis=1),
            dp.flow_sensitivity.max(axis=1), dp.flow_threshold.min(axis=1),
        )

    def hazard(self, run_proneness: float, s: Signals) -> np.ndarray:
        """An upper bound of h over all stakers, per path: each term at its largest sensitivity and gap."""
        return self.base + run_proneness * (
            self.spread_s * np.maximum(self.spread_t - s.spread, 0.0)
            + self.loss_s * np.maximum(s.drawdown - self.loss_t, 0.0)
            + self.news_s * s.loss_news
            + self.herd_s * np.maximum(s.unfunded_queue_share - self.herd_t, 0.0)
            + self.flow_s * np.maximum(s.outflow_share - self.flow_t, 0.0)
        )


def exit_probability(hazard_per_year: np.ndarray, wave_probability: np.ndarray, dt_days: float) -> np.ndarray:
    """P(want out this step) = 1 − exp(−h·Δ/365)·(1 − wave probability)."""
    return 1.0 - np.exp(-hazard_per_year * dt_days / DAYS_PER_YEAR) * (1.0 - wave_probability)


@dataclass
class Decisions:
    """One step's decisions, sparse: path rows and staker columns (row-major order) with amounts.

    ``exit_*`` are stakers that want out, with the shares they want to sell or redeem and whether they
    accept the secondary market's discount (``sell``)."""

    deposit_rows: np.ndarray
    deposit_cols: np.ndarray
    deposit_usd: np.ndarray
    exit_rows: np.ndarray
    exit_cols: np.ndarray
    exit_shares: np.ndarray
    sell: np.ndarray


def exit_bound_mass(bounds: HazardBounds, spec: Depositors, signals: Signals, dt_days: float) -> np.ndarray:
    """b = h̄·Δ/365 − ln(1 − wave) per path: the step's exit mass at the hazard bound (dimensionless)."""
    return hazard_mass(bounds.hazard(spec.run_proneness, signals), dt_days) + wave_mass(signals.wave_probability)


def deposit_mass(spec: Depositors, dt_days: float) -> float:
    """c = d·Δ/365: the step's expected deposit intentions of one staker (dimensionless)."""
    return float(hazard_mass(spec.deposit_rate_per_year, dt_days))


def candidate_mass(bounds: HazardBounds, spec: Depositors, signals: Signals, dt_days: float) -> np.ndarray:
    """B = b + c per path: how far the stakers' candidate clocks move this step (``agents/thinning.py``)."""
    return exit_bound_mass(bounds, spec, signals, dt_days) + deposit_mass(spec, dt_days)


def decide(
    book: DepositorBook,
    dp: DepositorParams,
    bounds: HazardBounds,
    spec: Depositors,
    signals: Signals,
    candidates: tuple[np.ndarray, np.ndarray],
    uniforms: np.ndarray,
    min_request_shares: float,
    dt_days: float,
) -> Decisions:
    """This step's deposits (USD) and exits (shares) of the candidates (rows, cols), one uniform each.

    A candidate wants out if u < P(exit) and intends to deposit if u ≥ 1 − P(deposit, no exit), the
    conditional probabilities of ``thinning.candidate_outcomes`` with a = h·Δ/365 − ln(1 − wave), b at the
    path's hazard bound and c = d·Δ/365.
    """
    rows, cols = candidates
    wave = wave_mass(signals.wave_probability[rows])
    exit_mass = hazard_mass(redeem_hazard_per_year(dp, spec.run_proneness, signals, rows, cols), dt_days) + wave
    bound = exit_bound_mass(bounds, spec, signals, dt_days)[rows]
    p_exit, p_deposit = candidate_outcomes(exit_mass, bound, deposit_mass(spec, dt_days))
    amount = spec.request_fraction * picked(book.shares, rows, cols)
    out = (uniforms < p_exit) & (picked(book.pending_shares, rows, cols) == 0.0) & (amount >= min_request_shares)
    wallet = picked(book.wallet_usd, rows, cols)
    deposit = (uniforms >= 1.0 - p_deposit) & (p_deposit > 0) & ~out
    deposit &= (signals.spread[rows] > picked(dp.deposit_hurdle, rows, cols)) & (wallet > 0.0)
    sell = spec.secondary.enabled & (signals.discount[rows] <= picked(dp.exit_tolerance, rows, cols))
    return Decisions(
        rows[deposit], cols[deposit], spec.deposit_fraction * wallet[deposit],
        rows[out], cols[out], amount[out], sell[out],
    )


class Depositor(ColumnAgent):
    """One sUSDai holder; its state is column ``col`` of the model's DepositorBook, on every path."""

    @property
    def shares(self) -> np.ndarray:
        """sUSDai held (excluding pending), (n_paths,)."""
        return self.model.depositors.shares[:, self.col]

    @property
    def pending_shares(self) -> np.ndarray:
        """sUSDai in the redemption queue, (n_paths,)."""
        return self.model.depositors.pending_shares[:, self.col]

    @property
    def value_usd(self) -> np.ndarray:
        """Holdings (held + pending) at the redemption price, (n_paths,)."""
        return (self.shares + self.pending_shares) * self.model.price_cons
