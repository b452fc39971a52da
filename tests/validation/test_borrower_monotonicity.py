"""Monotone responses of the loan book on common random numbers (issue #12, "Done when").

Each comparison runs one small world twice with the same seed and one parameter changed (``borrower_worlds.
isolated``: inert depositors, a vault that funds every loan on day 0, no arrivals, no re-borrowing, so
nothing but the changed parameter separates the two runs). Population draws are uniform on each Spread,
so a Spread shifted by a constant keeps every borrower's random number (its quantile) and every market
and fraud draw is the same in both runs.

Checked per loan, which implies per path: every loan that defaults in the milder world defaults in the
harsher one (and, for friction, every strategic walker with high friction also walks with low friction).
Each docstring says why it must hold exactly; each test also requires the change to matter somewhere
(more defaults in total), so a rule that ignored the parameter would fail.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tests.validation.borrower_worlds import isolated, run, with_cohorts
from usdai_sim.agents import borrowers as br
from usdai_sim.scenario.schema import Scenario, Spread

PATHS, BORROWERS = 16, 5


@cache
def rental_world() -> Scenario:
    """Shipped ``rental_collapse``, 16 paths × 5 loans per cohort × 18 months (walkers occur)."""
    return isolated("rental_collapse", PATHS, 540, BORROWERS)


@cache
def balloon_world(rule: str) -> Scenario:
    """Shipped ``gpu_resale_crash`` with 5-month interest-only loans (refinanced against the fleet at 90% of
    its value at the balloon, day 150, a third of the way down the crash), 8 months, default rule ``rule``."""
    scenario = isolated(
        "gpu_resale_crash", PATHS, 240, BORROWERS, amortisation="interest_only", term_months=5, refinance_ltv=0.9
    )
    return scenario.model_copy(update={"borrowers": scenario.borrowers.model_copy(update={"default_rule": rule})})


def defaults_of(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """(defaulted, strategic) masks (paths, borrowers) at the horizon."""
    route = _routes(scenario.model_dump_json())
    return route > 0, route == br.ROUTE_STRATEGIC


@cache
def _routes(scenario_json: str) -> np.ndarray:
    """Default route of every loan at the horizon (memoised: the base worlds are shared by several tests)."""
    return run(Scenario.model_validate_json(scenario_json)).book.default_route


def deeper(scenario: Scenario, factor: float) -> Scenario:
    """Every shock's change × ``factor`` (capped at a total loss)."""
    shocks = tuple(s.model_copy(update={"change": max(-1.0, s.change * factor)}) for s in scenario.shocks)
    return scenario.model_copy(update={"shocks": shocks})


def shifted(scenario: Scenario, name: str, by: float) -> Scenario:
    """Every cohort's Spread ``name`` moved up by ``by`` (each borrower keeps its quantile)."""
    def moved(spread: Spread) -> Spread:
        return spread.model_copy(update={"low": spread.low + by, "high": spread.high + by})

    cohorts = tuple(c.model_copy(update={name: moved(getattr(c, name))}) for c in scenario.borrowers.cohorts)
    return scenario.model_copy(update={"borrowers": scenario.borrowers.model_copy(update={"cohorts": cohorts})})


def higher_ltv(scenario: Scenario, by: float) -> Scenario:
    """Requested LTV and every class's max LTV raised by ``by`` (so the cap does not undo the change)."""
    scenario = shifted(scenario, "requested_ltv", by)
    gpu = scenario.markets.gpu
    classes = {k: v.model_copy(update={"max_ltv": min(1.0, v.max_ltv + by)}) for k, v in gpu.classes.items()}
    markets = scenario.markets.model_copy(update={"gpu": gpu.model_copy(update={"classes": classes})})
    return scenario.model_copy(update={"markets": markets})


def assert_no_fewer_defaults(milder: Scenario, harsher: Scenario) -> None:
    """Every loan defaulted in ``milder`` defaulted in ``harsher``; at least one more default in total."""
    before, _ = defaults_of(milder)
    after, _ = defaults_of(harsher)
    escaped = np.argwhere(before & ~after)
    assert escaped.size == 0, f"(path, borrower) defaulted only in the milder world: {escaped[:5].tolist()}"
    assert after.sum(axis=1).tolist() >= before.sum(axis=1).tolist()
    assert after.sum() > before.sum(), "the change made no difference: the test would not see a broken rule"


def test_deeper_rental_shock_gives_no_fewer_defaults() -> None:
    """Rental shocks 20% deeper (H100/H200 −90% instead of −75%, newer classes −48%). With the same draws,
    spot revenue is lower at every date, renewed contracts are signed at lower prices and renters default
    more, so revenue and cash are lower at every payment date: x falls against the same boundary table (the
    table depends on the rental process, not on the shock) and shortfalls are larger. A loan that walked or
    missed in the milder world walks or misses no later in the harsher one."""
    assert_no_fewer_defaults(rental_world(), deeper(rental_world(), 1.2))


def test_higher_apr_gives_no_fewer_defaults() -> None:
    """APR +3 points for every loan (each keeps its quantile). Same revenue, larger payments: the debt ratio
    d is higher, so the boundary x_B(d) is higher (it rises with d), and cash after each payment is lower, so
    every walk and every miss of the lower-rate world happens no later."""
    assert_no_fewer_defaults(rental_world(), shifted(rental_world(), "apr", 0.03))


def test_higher_ltv_gives_no_fewer_defaults() -> None:
    """Requested LTV and class max LTV +0.10. The fleets are the same, the loans larger: payments are larger
    in proportion (higher d, higher x_B, less cash), and the balance owed at each date is higher."""
    assert_no_fewer_defaults(rental_world(), higher_ltv(rental_world(), 0.10))


@pytest.mark.parametrize("rule", ["option", "collateral_barrier"])
def test_deeper_resale_shock_gives_no_fewer_defaults(rule: str) -> None:
    """Resale crash 1.5× deeper (−75% instead of −50%). Revenue is untouched, so under ``option`` the walk
    decisions are the same; the balloons are refinanced against the fleet (refinance_ltv × collateral), which
    is worth less at every date, so every balloon missed in the milder crash is missed in the deeper one.
    Under ``collateral_barrier`` the walk test collateral < ratio × principal also fires no later."""
    assert_no_fewer_defaults(balloon_world(rule), deeper(balloon_world(rule), 1.5))
    if rule == "collateral_barrier":
        _, walked_before = defaults_of(balloon_world(rule))
        _, walked_after = defaults_of(deeper(balloon_world(rule), 1.5))
        assert walked_after.sum() > walked_before.sum(), "the barrier did not respond to the deeper crash"


def test_higher_default_friction_gives_no_more_strategic_defaults() -> None:
    """default_friction_months 3 → 12. Walking costs more, so x_B is lower at every (k, c, d) (it falls with
    the friction). Until a loan's first walk the two worlds are identical (friction only enters the walk),
    so a loan that walks with high friction at date k has x < x_B,high ≤ x_B,low there and walked at k or
    earlier with low friction."""
    low = with_cohorts(rental_world(), default_friction_months=3.0)
    high = with_cohorts(rental_world(), default_friction_months=12.0)
    _, walked_low = defaults_of(low)
    _, walked_high = defaults_of(high)
    extra = np.argwhere(walked_high & ~walked_low)
    assert extra.size == 0, f"(path, borrower) walked only with the higher friction: {extra[:5].tolist()}"
    assert walked_high.sum() < walked_low.sum(), "friction made no difference to the walkers"


def test_owners_who_expect_a_fall_to_last_walk_no_later() -> None:
    """``borrowers.expected_reversion_per_year`` null (owners expect the market's falls to revert at the process's
    κ = 0.5 a year) → 0 (a fall lasts). Without the expected recovery, continuing is worth less below trend, so
    x_B is no lower at every (k, c, d) (``test_default_option``); the belief only enters the walk, so until a
    loan's first walk the two worlds are identical, and a loan that walks expecting reversion walks no later
    expecting none."""
    reverting = rental_world()
    lasting = reverting.model_copy(
        update={"borrowers": reverting.borrowers.model_copy(update={"expected_reversion_per_year": 0.0})})
    _, walked_reverting = defaults_of(reverting)
    _, walked_lasting = defaults_of(lasting)
    missing = np.argwhere(walked_reverting & ~walked_lasting)
    assert missing.size == 0, f"(path, borrower) walked only when expecting reversion: {missing[:5].tolist()}"
    assert walked_lasting.sum() > walked_reverting.sum(), "the belief made no difference to the walkers"
