"""Poisson thinning of staker exits (agents/thinning.py) draws request times from the per-step rule's law.

N stakers with heterogeneous sensitivities on one path see signals that move every day (a drawdown and a
herd signal on 90- and 45-day cycles) and a scripted wave of 30% on day 200. The per-step rule draws a
uniform per staker and day and leaves if u < 1 − exp(−h·Δ/365)·(1 − w); the thinned rule runs the
engine's own pieces (``candidate_mass``, ``CandidateClock``, ``decide``). Both record each staker's first
request day (HORIZON + 1 when it never asks). A two-sample Kolmogorov–Smirnov test at a fixed seed must
not reject equality (p > P_SAME); the same test must reject (p < P_WRONG) a thinned rule whose acceptance
probability is 0.8× the right one, so it has the power to see a wrong ratio.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from usdai_sim.agents import depositors as dep
from usdai_sim.agents.depositors import (
    DepositorBook,
    DepositorParams,
    HazardBounds,
    decide,
    exit_probability,
    redeem_hazard_per_year,
)
from usdai_sim.agents.signals import Signals
from usdai_sim.agents.thinning import CandidateClock, candidate_outcomes, exponentials
from usdai_sim.scenario.schema import Depositors

STAKERS = 20_000
HORIZON = 365
DT_DAYS = 1.0
WAVE_DAY, WAVE_SHARE = 200, 0.3
P_SAME, P_WRONG = 0.01, 1e-6
SPEC = Depositors.model_validate({"deposit_rate_per_year": 2.0, "run_proneness": 1.0, "request_fraction": 0.5})


def population(rng: np.random.Generator) -> DepositorParams:
    """Stakers (last column the inert arbitrageurs' book) with sensitivities spread over [0, 4] per year."""
    n = STAKERS

    def column(values: np.ndarray, fill: float) -> np.ndarray:
        return np.append(values, fill)[None, :]

    zero, inf = np.zeros(n), np.full(n, np.inf)
    return DepositorParams(
        balance_usd=column(np.full(n, 100.0), 0.0), wallet_usd=column(np.full(n, 100.0), 0.0),
        redeem_base_rate_per_year=column(np.full(n, 0.3), 0.0), deposit_hurdle=column(zero, np.inf),
        spread_threshold=column(np.full(n, -1.0), -np.inf), spread_sensitivity=column(zero, 0.0),
        loss_threshold=column(rng.uniform(0.0, 0.1, n), np.inf), loss_sensitivity=column(rng.uniform(0, 4, n), 0.0),
        news_sensitivity=column(zero, 0.0), herd_threshold=column(rng.uniform(0.0, 0.2, n), np.inf),
        herd_sensitivity=column(rng.uniform(0, 4, n), 0.0), flow_threshold=column(inf, np.inf),
        flow_sensitivity=column(zero, 0.0), exit_tolerance=column(zero, -1.0), qev_bid_bps=column(zero, 0.0),
    )


def signals_on(day: int) -> Signals:
    """Drawdown 0–0.2 on a 90-day cycle, unfunded queue share 0–0.3 on a 45-day cycle, the wave on its day."""
    def one(x: float) -> np.ndarray:
        return np.array([x])

    drawdown = 0.1 * (1.0 + np.sin(2 * np.pi * day / 90.0))
    unfunded = 0.15 * (1.0 + np.cos(2 * np.pi * day / 45.0))
    wave = WAVE_SHARE if day == WAVE_DAY else 0.0
    return Signals(one(0.0), one(drawdown), one(0.0), one(unfunded), one(unfunded), one(0.0), one(0.0), one(wave),
                   one(0.0))


def per_step_request_days(dp: DepositorParams, seed: int) -> np.ndarray:
    """First request day of each staker under the per-step rule (one uniform per staker and day)."""
    rng, days = np.random.default_rng(seed), np.full(STAKERS, HORIZON + 1.0)
    rows, cols = np.zeros(STAKERS, dtype=int), np.arange(STAKERS)
    for day in range(1, HORIZON + 1):
        s = signals_on(day)
        p = exit_probability(redeem_hazard_per_year(dp, SPEC.run_proneness, s, rows, cols),
                             s.wave_probability[rows], DT_DAYS)
        leaving = (rng.random(STAKERS) < p) & (days > HORIZON)
        days[leaving] = day
    return days


def thinned_request_days(dp: DepositorParams, seed: int) -> np.ndarray:
    """First request day of each staker under thinning: the engine's candidate mass, clock and decide."""
    rng, days = np.random.default_rng(seed), np.full(STAKERS, HORIZON + 1.0)
    book, bounds = DepositorBook.new(dp), HazardBounds.of(dp)
    gaps = exponentials(rng.random((1, STAKERS + 1)))
    gaps[:, -1] = np.inf
    clock = CandidateClock.start(gaps)
    for day in range(1, HORIZON + 1):
        s = signals_on(day)
        rows, cols = clock.advance(dep.candidate_mass(bounds, SPEC, s, DT_DAYS))
        dec = decide(book, dp, bounds, SPEC, s, (rows, cols), rng.random(rows.size), 1.0, DT_DAYS)
        clock.rearm(rows, cols, exponentials(rng.random(rows.size)))
        days[dec.exit_cols] = day
        book.pending_shares[dec.exit_rows, dec.exit_cols] = 1.0  # an open request: no second one
    return days


def ks(seed: int) -> stats._stats_py.KstestResult:
    dp = population(np.random.default_rng(0))
    return stats.ks_2samp(per_step_request_days(dp, seed), thinned_request_days(dp, seed + 1))


@pytest.mark.slow
def test_thinned_request_days_follow_the_per_step_law() -> None:
    """KS of the two rules' request-day samples does not reject (fixed seeds); most stakers do ask."""
    dp = population(np.random.default_rng(0))
    a, b = per_step_request_days(dp, 11), thinned_request_days(dp, 12)
    assert 0.5 < (a <= HORIZON).mean() < 0.99
    result = stats.ks_2samp(a, b)
    assert result.pvalue > P_SAME, f"KS D = {result.statistic:.4f}, p = {result.pvalue:.3g}"


def _scaled(factor: float) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    def outcomes(exit_mass: np.ndarray, bound_mass: np.ndarray, deposit_mass: float = 0.0):
        p_exit, p_deposit = candidate_outcomes(exit_mass, bound_mass, deposit_mass)
        return factor * p_exit, p_deposit

    return outcomes


@pytest.mark.slow
def test_ks_rejects_a_wrong_acceptance_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accepting with 0.8× the right probability shifts request days later: KS rejects."""
    monkeypatch.setattr(dep, "candidate_outcomes", _scaled(0.8))
    result = ks(11)
    assert result.pvalue < P_WRONG, f"KS D = {result.statistic:.4f}, p = {result.pvalue:.3g}"
