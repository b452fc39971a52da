"""Exits by Poisson thinning (Lewis & Shedler 1979): draw only for the agents whose clock rings.

The per-step rule "leave with probability 1 − exp(−h·Δ/365)·(1 − w)" (h per year, Δ days, w a scripted
wave's share) needs one uniform per agent and step, almost all of them answering "no". Instead each
agent holds an exponential clock against its path's hazard *bound* h̄ ≥ h (and, for stakers, the
constant deposit rate d):

* Candidate mass of step k (dimensionless, per path): B_k = b_k + c_k with
      b_k = h̄_k·Δ/365 − ln(1 − w_k)   (exit bound; a wave w adds the hazard −ln(1 − w) over the step)
      c_k = d·Δ/365                   (deposit intention; 0 for unstaked holders).
* The path's clock Λ = Σ B_k (the candidate process in its own time, where it has rate 1). Each agent's
  next candidate falls at Λ = T, T = Λ at its last candidate + E, E ~ Exp(1): time-changing a Poisson
  process, so a bound that changes from step to step needs no re-draw.
* An agent whose T is passed in step k had at least one candidate in that step (probability 1 − e^(−B_k)).
  With a = h·Δ/365 − ln(1 − w) its own exit mass, exits in the step are Poisson(a), deposit intentions
  Poisson(c), rejected candidates Poisson(b − a), all independent, so given ≥ 1 candidate:
      P(exit)                = (1 − e^(−a)) / (1 − e^(−B))
      P(deposit, no exit)    = e^(−a)·(1 − e^(−c)) / (1 − e^(−B))
  decided by one uniform (exit if u < P(exit), deposit if u ≥ 1 − P(deposit, no exit)); the agent's
  clock is re-armed at Λ_end + E.
* Unconditionally P(exit in the step) = 1 − e^(−a) = 1 − exp(−h·Δ/365)·(1 − w): the per-step rule's
  distribution exactly, for any Δ (not only as Δ → 0), provided h ≤ h̄; P(deposit, no exit) =
  e^(−a)·(1 − e^(−c)), where the per-step rule (one shared uniform) had 1 − e^(−c) — the two differ by
  O(Δ²) per step. Limit cases: h = h̄ accepts every exit candidate when c = 0; h = 0 and w = 0 never exits;
  w = 1 (capped at MAX_WAVE_SHARE) makes everyone a candidate who exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from usdai_sim.jit import keep_pair, kept_pairs, kernel, pair_buffer
from usdai_sim.params import DAYS_PER_YEAR

MAX_WAVE_SHARE = 1.0 - 1e-12
"""assumption: a wave share of 1 would need an infinite clock step; capped, everyone leaves with
probability 1 − 1e-12."""


def wave_mass(wave_share: np.ndarray) -> np.ndarray:
    """−ln(1 − w): the exit mass a scripted wave of share w adds to one step (dimensionless)."""
    return -np.log1p(-np.minimum(wave_share, MAX_WAVE_SHARE))


def hazard_mass(hazard_per_year: Any, dt_days: float) -> Any:
    """h·Δ/365: expected exits of one step at hazard h per year (dimensionless)."""
    return hazard_per_year * dt_days / DAYS_PER_YEAR


def exponentials(uniforms: np.ndarray) -> np.ndarray:
    """Exp(1) draws by inversion, −ln(1 − u), u on [0, 1)."""
    return -np.log1p(-uniforms)


def candidate_outcomes(
    exit_mass: np.ndarray, bound_mass: np.ndarray, deposit_mass: np.ndarray | float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(P(exit), P(deposit and no exit)) of an agent with ≥ 1 candidate in the step (module docstring).

    ``exit_mass`` a, ``bound_mass`` b ≥ a, ``deposit_mass`` c; a mass B = b + c of 0 gives (0, 0).
    """
    total = bound_mass + deposit_mass
    some = -np.expm1(-total)
    ratio = np.divide(1.0, some, out=np.zeros_like(some), where=some > 0)
    p_exit = np.minimum(-np.expm1(-exit_mass) * ratio, 1.0)
    p_deposit = np.exp(-exit_mass) * -np.expm1(-np.broadcast_to(deposit_mass, total.shape)) * ratio
    return p_exit, np.minimum(p_deposit, 1.0 - p_exit)


@kernel
def rung_clocks(next_candidate: np.ndarray, clock: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the agents whose next candidate is due, next_candidate[p, a] ≤ clock[p], in row-major
    order: ``np.nonzero(next_candidate <= clock[:, None])`` in one pass, without the mask."""
    n_paths, n_agents = next_candidate.shape
    due, found = pair_buffer(next_candidate.size), 0
    for p in range(n_paths):
        for a in range(n_agents):
            if next_candidate[p, a] <= clock[p]:
                found = keep_pair(due, found, p, a)
    return kept_pairs(due, found)


@dataclass
class CandidateClock:
    """Per path the clock Λ (n_paths,), per path and agent the Λ of its next candidate (n_paths, n_agents)."""

    clock: np.ndarray
    next_candidate: np.ndarray

    @classmethod
    def start(cls, first_gaps: np.ndarray) -> CandidateClock:
        """Clocks at 0; each agent's first candidate at its Exp(1) gap (``inf``: never a candidate)."""
        return cls(np.zeros(first_gaps.shape[0]), first_gaps.copy())

    def advance(self, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Move each path's clock by this step's candidate mass; (rows, cols) of agents with a candidate."""
        self.clock = self.clock + mass
        return rung_clocks(self.next_candidate, self.clock)

    def rearm(self, rows: np.ndarray, cols: np.ndarray, gaps: np.ndarray) -> None:
        """After a step with a candidate, the next one falls at the path's clock now + an Exp(1) gap."""
        self.next_candidate[rows, cols] = self.clock[rows] + gaps
