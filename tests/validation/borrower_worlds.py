"""Small borrower-only worlds built from shipped scenarios, for the issue #12 validation tests.

``isolated`` takes a shipped scenario and shrinks it to a few paths, borrowers and months, with depositors
that never move, a vault large enough to fund every request at once, no new arrivals and no re-borrowing:
the loan book is then a function of the markets and the borrowers' own random numbers only, so two runs
with the same seed differ only through the parameter a test changes (common random numbers).
"""

from __future__ import annotations

from typing import Any

from benchmarks.workloads import inert_depositors
from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario

HUGE_NAV_USD = 1e12
"""A vault this large funds every request on its day (capacity never binds; assumption for isolation)."""


def isolated(
    name: str, paths: int, horizon_days: int, borrowers_per_cohort: int, **cohort_changes: Any
) -> Scenario:
    """Shipped scenario ``name``: every cohort cut to ``borrowers_per_cohort`` loans requested on day 0,
    no arrivals, no re-borrowing, inert depositors, a vault that funds everything (no underwriting floor, so
    a changed parameter changes how the same loans behave, not which exist); ``cohort_changes``
    applied to every cohort."""
    scenario = inert_depositors(load_scenario(name)[0])
    cohorts = tuple(
        c.model_copy(
            update={"count": borrowers_per_cohort, "arrivals_per_month": 0.0, "origination_day": 0.0,
                    **cohort_changes}
        )
        for c in scenario.borrowers.cohorts
    )
    allocation = scenario.protocol.allocation.model_copy(update={"min_dscr": None})  # underwriting off: same loans
    protocol = scenario.protocol.model_copy(update={"initial_susdai_nav_usd": HUGE_NAV_USD, "allocation": allocation})
    return scenario.model_copy(
        update={
            "simulation": scenario.simulation.model_copy(update={"paths": paths, "horizon_days": horizon_days}),
            "borrowers": scenario.borrowers.model_copy(update={"cohorts": cohorts, "refinance_at_maturity": False}),
            "depositors": scenario.depositors.model_copy(update={"count": 2}),
            "protocol": protocol,
        }
    )


def with_cohorts(scenario: Scenario, **changes: Any) -> Scenario:
    """``scenario`` with ``changes`` applied to every cohort."""
    cohorts = tuple(c.model_copy(update=changes) for c in scenario.borrowers.cohorts)
    return scenario.model_copy(update={"borrowers": scenario.borrowers.model_copy(update={"cohorts": cohorts})})


def run(scenario: Scenario) -> UsdaiModel:
    """A model of every path of ``scenario``, after its last step."""
    model = UsdaiModel(compile_params(scenario), 0, scenario.simulation.paths)
    for _ in range(scenario.simulation.n_steps):
        model.step()
    return model
