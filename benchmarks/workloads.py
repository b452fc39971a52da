"""Benchmark workloads: Scenario objects built from the shipped baseline, scaled to a given size.

Every workload keeps the baseline's markets and protocol, replaces the borrower population by one
cohort (the baseline's first, H100 operators whose loans all start at day 0) scaled to the borrower
count, sets the depositor count, horizon and paths, and sizes the vault so that every loan is funded
at day 0 (so the engine does the same borrower work as the per-agent baseline, which funds every loan).
The ``huge`` workload is the other kind: the shipped baseline as it is (its four cohorts, arrivals and
vault), only the number of paths replaced; it is not in the default set (``DEFAULT_WORKLOADS``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from usdai_sim.params import DAYS_PER_YEAR, compile_params, depreciation_fraction
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario

FUNDING_MARGIN = 1.25
"""The vault's initial NAV is at least this multiple of (all day-0 loans / max loan share)."""


@dataclass(frozen=True)
class Workload:
    """A benchmark size: Monte Carlo paths × borrowers × depositors × years of daily steps."""

    name: str
    paths: int
    borrowers: int
    depositors: int
    years: int
    workers: int = 1
    shipped: bool = False
    """True: the shipped baseline as it is, paths and horizon (years) replaced (borrowers and depositors are
    then labels: the baseline has 100 borrowers in four cohorts and 500 stakers)."""

    @property
    def steps(self) -> int:
        """Daily steps in the horizon."""
        return self.years * int(DAYS_PER_YEAR)

    @property
    def borrower_path_steps(self) -> int:
        """The throughput unit: borrowers × paths × steps."""
        return self.paths * self.borrowers * self.steps

    def scaled(self, **changes: int) -> Workload:
        """A copy with some sizes replaced (e.g. ``paths=200``), named after the change."""
        suffix = ",".join(f"{k}={v}" for k, v in changes.items())
        return replace(self, name=f"{self.name}[{suffix}]", **changes)


WORKLOADS: dict[str, Workload] = {
    "small": Workload("small", paths=100, borrowers=50, depositors=500, years=1),
    "medium": Workload("medium", paths=1_000, borrowers=200, depositors=2_000, years=3),
    "large": Workload("large", paths=10_000, borrowers=200, depositors=500, years=3, workers=2),
    "huge": Workload("huge", paths=100_000, borrowers=100, depositors=500, years=3, workers=2, shipped=True),
}
DEFAULT_WORKLOADS = ("small", "medium", "large")
"""What ``make bench`` runs when no workload is named (``huge`` takes tens of minutes)."""


def baseline() -> Scenario:
    """The shipped baseline scenario."""
    return load_scenario("baseline")[0]


def day0_lending_usd(scenario: Scenario) -> float:
    """What every day-0 loan request of the scenario adds up to (USD), at day-0 appraisals."""
    params = compile_params(scenario)
    bp, classes = params.borrowers, params.classes
    appraised = bp.gpus * classes.list_price_usd[bp.class_index] * depreciation_fraction(scenario, bp, 0.0)
    ltv = np.minimum(bp.requested_ltv, classes.max_ltv[bp.class_index])
    return float(np.sum(np.where(bp.origination_day <= 0, ltv * appraised, 0.0)))


def fund_every_loan(scenario: Scenario) -> Scenario:
    """The scenario with the vault's initial NAV raised (never lowered) so every day-0 loan is funded."""
    protocol = scenario.protocol
    needed = FUNDING_MARGIN * day0_lending_usd(scenario) / protocol.allocation.max_loan_share
    nav = max(protocol.initial_susdai_nav_usd, needed)
    return scenario.model_copy(
        update={"protocol": protocol.model_copy(update={"initial_susdai_nav_usd": nav})}
    )


def sized(base: Scenario, paths: int, borrowers: int, depositors: int, horizon_days: int) -> Scenario:
    """``base`` with its first cohort scaled to ``borrowers``, other sizes replaced, every loan funded."""
    cohort = base.borrowers.cohorts[0].model_copy(update={"count": borrowers})
    updates = {
        "simulation": base.simulation.model_copy(update={"paths": paths, "horizon_days": horizon_days}),
        "borrowers": base.borrowers.model_copy(update={"cohorts": (cohort,)}),
        "depositors": base.depositors.model_copy(update={"count": depositors}),
    }
    return fund_every_loan(base.model_copy(update=updates))


def build_scenario(workload: Workload, base: Scenario | None = None) -> Scenario:
    """The Scenario of a workload (from the baseline unless ``base`` is given)."""
    horizon = workload.years * int(DAYS_PER_YEAR)
    if workload.shipped:
        scenario = base or baseline()
        sim = scenario.simulation.model_copy(update={"paths": workload.paths, "horizon_days": horizon})
        return scenario.model_copy(update={"simulation": sim})
    return sized(base or baseline(), workload.paths, workload.borrowers, workload.depositors, horizon)


def inert_depositors(scenario: Scenario) -> Scenario:
    """The scenario with depositors that never deposit or redeem (for borrower-only comparisons)."""
    quiet = {
        "deposit_rate_per_year": 0.0,
        "redeem_base_rate_per_year": 0.0,
        "spread_sensitivity_per_year": 0.0,
        "loss_sensitivity_per_year": 0.0,
        "herd_sensitivity_per_year": 0.0,
        "loss_news_sensitivity_per_year": 0.0,
        "unstaked": scenario.depositors.unstaked.model_copy(update={
            "redeem_base_rate_per_year": 0.0, "inflow_rate_per_year": 0.0, "loss_news_sensitivity_per_year": 0.0,
            "discount_sensitivity_per_year": 0.0, "queue_sensitivity_per_year": 0.0}),
    }
    return scenario.model_copy(update={"depositors": scenario.depositors.model_copy(update=quiet)})
