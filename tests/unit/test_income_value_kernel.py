"""The fused income valuation (``IncomeValuation.value_per_gpu``) equals the numpy rule it replaced.

To 1e-13 here: numpy's vectorised exp may differ from the C library's by an ulp; with numpy on the C library's
functions the two are equal bit for bit (``tests/validation/test_kernel_golden.py``, three scenarios).

Reference: ``value_fraction`` (PV(t, ℓ)/PV(0, L) read between months) × list price × the class's liquidity
index × e^{idiosyncratic}, and collateral = GPUs × that value, on random states that cover a fleet past its
economic life (ℓ < 0: value 0), one with more than a whole life left (ℓ clipped to L), rental deviations of
either sign deep enough to floor the net income at zero, and a class in the catalog nobody holds.
"""

from __future__ import annotations

import numpy as np
import pytest

from usdai_sim.market.valuation import FleetView, IncomeValuation
from usdai_sim.params import DAYS_PER_YEAR
from usdai_sim.scenario.schema import Rental, Valuation

CLASSES = 3


def reference(valuation: IncomeValuation, t_years: float, deviation: np.ndarray, day: float, fleet: FleetView,
              list_usd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    life_left = valuation.spec.economic_life_years - (day - fleet.built_day) / DAYS_PER_YEAR
    fundamental = list_usd * valuation.value_fraction(t_years, deviation, fleet.class_index, life_left)
    value = fundamental * fleet.resale_index[:, fleet.class_index] * np.exp(fleet.idio_log)
    return fundamental, value, fleet.gpus * value


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fused_value_equals_the_numpy_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    paths, loans = 7, 11
    valuation = IncomeValuation(Valuation(economic_life_years=6.5, discount_rate=0.12),
                                Rental(drift_per_year=-0.1, vol_per_sqrt_year=0.3, kappa_per_year=0.5))
    classes = np.array([0, 2, 2, 0, 0, 2, 0, 2, 2, 0, 0])  # class 1 held by nobody
    list_usd = np.array([30_000.0, 35_000.0, 55_000.0])[classes]
    built = rng.uniform(-3000.0, 700.0, (paths, loans))  # up to 8 years old, some built after today
    fleet = FleetView(classes, list_usd, rng.uniform(0.5, 1.5, (paths, CLASSES)), rng.normal(0.0, 0.2, (paths, loans)),
                      built, rng.uniform(0.0, 500.0, (paths, loans)))
    deviation = rng.normal(0.0, 1.5, (paths, CLASSES))
    day = 400.0
    got = valuation.value_per_gpu(day / DAYS_PER_YEAR, deviation, day, fleet)
    want = reference(valuation, day / DAYS_PER_YEAR, deviation, day, fleet, list_usd)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=0.0)
    life_left = 6.5 - (day - built) / DAYS_PER_YEAR
    assert (life_left < 0).any() and (life_left > 6.5).any()
    assert np.all(got[0][life_left <= 0] == 0.0)
