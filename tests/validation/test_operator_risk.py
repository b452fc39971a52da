"""The operators' own revenue risk (``operator_vol_per_sqrt_year``) on common random numbers.

The same calm world (shipped ``baseline``, isolated: every loan funded on day 0, inert depositors) run with
only each cohort's own-rental volatility changed. The own factor is a random walk driven by the same normals
in every run (stream ``operator``), so the runs differ only through σ_o:

- σ_o = 0 is the market alone: every loan's own factor stays 1 and its revenue is the market's;
- the exogenous markets (T-bill, rentals) do not depend on σ_o: a new stream shifts no other (the resale
  index does move: forced sales of the extra defaults press on it, as they should);
- more own risk fails more operators in the mean: a random walk's downside grows with σ while payment
  defaults need a fall deep enough to exhaust cash, reserve and sponsor support (a convex response), so
  the mean count of payment defaults rises; checked with a paired standard error over paths.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from tests.validation.borrower_worlds import isolated, run, with_cohorts
from usdai_sim.agents import borrowers as br
from usdai_sim.model import UsdaiModel
from usdai_sim.scenario.schema import Scenario

PATHS, BORROWERS, HORIZON_DAYS = 32, 10, 720


@cache
def world(vol: float) -> UsdaiModel:
    """The calm world after two years with every cohort's own volatility ``vol``."""
    return run(with_cohorts(calm(), operator_vol_per_sqrt_year=vol))


@cache
def calm() -> Scenario:
    return isolated("baseline", PATHS, HORIZON_DAYS, BORROWERS)


def payment_defaults(model: UsdaiModel) -> np.ndarray:
    """Payment defaults per path."""
    return (model.book.default_route == br.ROUTE_PAYMENT).sum(axis=1)


def test_without_own_risk_every_operator_earns_the_market_rental() -> None:
    model = world(0.0)
    assert np.all(model.book.operator_log == 0.0)


def test_own_risk_leaves_the_exogenous_markets_alone() -> None:
    calm_world, risky = world(0.0), world(0.4)
    np.testing.assert_array_equal(calm_world.market.tbill, risky.market.tbill)
    np.testing.assert_array_equal(calm_world.market.rental_usd_per_gpu_hour, risky.market.rental_usd_per_gpu_hour)
    assert np.any(risky.book.operator_log != 0.0)


def test_more_own_risk_fails_more_operators_in_the_mean() -> None:
    """σ_o 0.1 → 0.25 → 0.4: mean payment defaults per path rise each time by more than 3 paired standard
    errors."""
    counts = [payment_defaults(world(vol)) for vol in (0.1, 0.25, 0.4)]
    for low, high in zip(counts, counts[1:], strict=False):
        diff = (high - low).astype(float)
        assert diff.mean() > 3.0 * diff.std(ddof=1) / np.sqrt(diff.size), (low.mean(), high.mean())
