"""Unstaked USDai holders: a behavioural population that redeems 1:1 against reserves.

They hold USDai for payments or yield elsewhere, so they react to stress news faster than stakers and
do not wait in the sUSDai queue. Each step a holder with a balance redeems all of it with probability
1 − exp(−h·Δ/365)·(1 − wave), with
    h = base + ρ · [ s_news·loss news + s_disc·(discount − θ_disc)⁺ + s_queue·(queue share − θ_queue)⁺
                     + s_flow·(outflow share − θ_flow)⁺ ]
(ρ = ``depositors.run_proneness``; signals from ``usdai_sim/agents/signals.py``). Redemptions are paid
1:1 from reserves, within ``redeem_limit_usd_per_day`` × Δ per path when set (each redeemer then gets the
same fraction and keeps the rest). In calm conditions (no loss news, no wave, a queue that liquidity covers) new USDai
arrives at ``inflow_rate_per_year`` × the initial total, credited to holders pro rata to their initial
balances. Their flows change USDai supply and reserves, and hence the reserve yield minted to sUSDai.
Balances are capped Pareto shares of ``protocol.unstaked_usdai_usd``, drawn per path like the stakers'.

Who draws: Poisson thinning (``usdai_sim/agents/thinning.py``) against the per-path bound of h
(``HolderBounds``): only holders whose clock rings in a step get a uniform and redeem if
u < (1 − e^(−a)) / (1 − e^(−b)), a = h·Δ/365 − ln(1 − wave), b the same at the bound; the probability of
redeeming in a step is exactly 1 − exp(−h·Δ/365)·(1 − wave).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usdai_sim.agents.signals import Signals
from usdai_sim.agents.thinning import candidate_outcomes, hazard_mass, wave_mass
from usdai_sim.params import DAYS_PER_YEAR
from usdai_sim.population import capped_pareto_shares, draw_dist, population_uniforms
from usdai_sim.scenario.schema import Scenario, UnstakedHolders

CALM_NEWS = 1e-4
"""Loss news (fraction of NAV in attention) below which conditions count as calm for new inflows."""


@dataclass
class HolderBook:
    """Per path and holder (n_paths, n_holders): static draws and the current balance."""

    initial_usd: np.ndarray
    balance_usd: np.ndarray
    news_sensitivity: np.ndarray
    discount_threshold: np.ndarray
    discount_sensitivity: np.ndarray
    queue_threshold: np.ndarray
    queue_sensitivity: np.ndarray
    flow_threshold: np.ndarray
    flow_sensitivity: np.ndarray

    @classmethod
    def draw(cls, scenario: Scenario, first_path: int, n_paths: int) -> HolderBook:
        """The unstaked holders of paths [first_path, first_path + n_paths)."""
        spec, total = scenario.depositors.unstaked, scenario.protocol.unstaked_usdai_usd
        u = population_uniforms(scenario.simulation, "holder_population", first_path, n_paths, spec.count, 8)
        balance = total * capped_pareto_shares(u[:, :, 0], spec.balance_pareto_alpha, spec.max_holder_share)
        return cls(
            balance, balance.copy(),
            draw_dist(spec.loss_news_sensitivity_per_year, u[:, :, 1]),
            draw_dist(spec.discount_threshold, u[:, :, 2]),
            draw_dist(spec.discount_sensitivity_per_year, u[:, :, 3]),
            draw_dist(spec.queue_threshold, u[:, :, 4]),
            draw_dist(spec.queue_sensitivity_per_year, u[:, :, 5]),
            draw_dist(spec.outflow_threshold, u[:, :, 6]),
            draw_dist(spec.outflow_sensitivity_per_year, u[:, :, 7]),
        )


def hazard_per_year(
    book: HolderBook, spec: UnstakedHolders, run_proneness: float, s: Signals, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """h (module docstring) of holder ``cols[k]`` on path ``rows[k]``."""
    def gap(level: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        return np.maximum(level[rows] - threshold[rows, cols], 0.0)

    behaviour = (
        book.news_sensitivity[rows, cols] * s.loss_news[rows]
        + book.discount_sensitivity[rows, cols] * gap(s.discount, book.discount_threshold)
        + book.queue_sensitivity[rows, cols] * gap(s.queue_share, book.queue_threshold)
        + book.flow_sensitivity[rows, cols] * gap(s.outflow_share, book.flow_threshold)
    )
    return spec.redeem_base_rate_per_year + run_proneness * behaviour


@dataclass(frozen=True)
class HolderBounds:
    """Per path (n_paths,), the largest sensitivities and smallest thresholds over holders."""

    news_s: np.ndarray
    discount_s: np.ndarray
    discount_t: np.ndarray
    queue_s: np.ndarray
    queue_t: np.ndarray
    flow_s: np.ndarray
    flow_t: np.ndarray

    @classmethod
    def of(cls, book: HolderBook) -> HolderBounds:
        """Computed once per population."""
        return cls(
            book.news_sensitivity.max(axis=1), book.discount_sensitivity.max(axis=1),
            book.discount_threshold.min(axis=1), book.queue_sensitivity.max(axis=1),
            book.queue_threshold.min(axis=1), book.flow_sensitivity.max(axis=1), book.flow_threshold.min(axis=1),
        )

    def hazard(self, spec: UnstakedHolders, run_proneness: float, s: Signals) -> np.ndarray:
        """An upper bound of h (per year) over all holders, per path: each term at its largest gap."""
        return spec.redeem_base_rate_per_year + run_proneness * (
            self.news_s * s.loss_news
            + self.discount_s * np.maximum(s.discount - self.discount_t, 0.0)
            + self.queue_s * np.maximum(s.queue_share - self.queue_t, 0.0)
            + self.flow_s * np.maximum(s.outflow_share - self.flow_t, 0.0)
        )

    def candidate_mass(self, spec: UnstakedHolders, run_proneness: float, s: Signals, dt_days: float) -> np.ndarray:
        """b = h̄·Δ/365 − ln(1 − wave) per path: how far the holders' candidate clocks move this step."""
        return hazard_mass(self.hazard(spec, run_proneness, s), dt_days) + wave_mass(s.wave_probability)


def redeeming(
    book: HolderBook,
    bounds: HolderBounds,
    spec: UnstakedHolders,
    run_proneness: float,
    s: Signals,
    candidates: tuple[np.ndarray, np.ndarray],
    uniforms: np.ndarray,
    dt_days: float,
) -> np.ndarray:
    """Mask of the candidates (rows, cols) that redeem this step: u < (1 − e^(−a)) / (1 − e^(−b))."""
    rows, cols = candidates
    wave = wave_mass(s.wave_probability[rows])
    h = hazard_per_year(book, spec, run_proneness, s, rows, cols)
    p_exit, _ = candidate_outcomes(hazard_mass(h, dt_days) + wave, bounds.candidate_mass(spec, run_proneness, s,
                                                                                          dt_days)[rows])
    return uniforms < p_exit


def redemptions_usd(book: HolderBook, spec: UnstakedHolders, redeemers: tuple[np.ndarray, np.ndarray],
                    dt_days: float) -> np.ndarray:
    """USD each holder redeems this step, (n_paths, n_holders): all of its balance for the ``redeemers``
    (rows, cols), within the daily limit."""
    rows, cols = redeemers
    wanted = np.zeros_like(book.balance_usd)
    wanted[rows, cols] = book.balance_usd[rows, cols]
    if spec.redeem_limit_usd_per_day is None:
        return wanted
    offered = wanted.sum(axis=1)
    limit = spec.redeem_limit_usd_per_day * dt_days
    fraction = np.minimum(1.0, np.divide(limit, offered, out=np.ones_like(offered), where=offered > 0))
    return wanted * fraction[:, None]


def inflows_usd(book: HolderBook, spec: UnstakedHolders, s: Signals, dt_days: float) -> np.ndarray:
    """New USDai credited to each holder this step in calm conditions (module docstring)."""
    calm = (s.loss_news < CALM_NEWS) & (s.wave_probability == 0.0) & (s.unfunded_queue_share == 0.0)
    return np.where(calm[:, None], book.initial_usd * spec.inflow_rate_per_year * dt_days / DAYS_PER_YEAR, 0.0)
