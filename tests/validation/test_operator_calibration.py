"""The shipped baseline's operators at origination land in the public ranges of issue #12 §2.

``calibration/economics.py`` prices each initial borrower's operation and loan under day-0 markets with the
model's own rules. Public figures (shared/DOMAIN.md "Operator economics and default behaviour"):
CoreWeave 2024 adjusted EBITDA margin ~64%, smaller operators lower → median margin in [0.45, 0.70];
DSCR at origination 1.2–2.0; H100 break-even rental ~$1.65/h (Latent Space) → median within ±15%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from usdai_sim.agents.borrowers import operating_rates
from usdai_sim.calibration.economics import economics_summary, origination_economics
from usdai_sim.market.gpu import expit
from usdai_sim.params import compile_params
from usdai_sim.scenario.library import load_scenario

H100_BREAK_EVEN_USD_PER_GPU_HOUR = 1.65
BREAK_EVEN_TOLERANCE = 0.15


@pytest.fixture(scope="module")
def economics() -> pd.DataFrame:
    return origination_economics(compile_params(load_scenario("baseline")[0]))


def test_every_initial_borrower_is_priced(economics: pd.DataFrame) -> None:
    """One row per initial (day-0 population) borrower of the baseline: 40 + 30 + 10 + 20."""
    assert len(economics) == 100
    assert economics.notna().all().all()


def test_median_ebitda_margin_is_in_the_public_range(economics: pd.DataFrame) -> None:
    assert 0.45 <= economics["ebitda_margin"].median() <= 0.70


def test_median_dscr_at_origination_is_in_the_public_range(economics: pd.DataFrame) -> None:
    assert 1.2 <= economics["dscr"].median() <= 2.0


def test_h100_break_even_rental_is_near_the_public_figure(economics: pd.DataFrame) -> None:
    h100 = economics.loc[economics["gpu_class"] == "H100", "break_even_rental_usd_per_gpu_hour"]
    assert len(h100) > 0
    assert h100.median() == pytest.approx(H100_BREAK_EVEN_USD_PER_GPU_HOUR, rel=BREAK_EVEN_TOLERANCE)


def test_break_even_rental_just_covers_opex_and_debt_service(economics: pd.DataFrame) -> None:
    """At p* every billed GPU-hour (contract and spot) earns p*: the model's own ``operating_rates`` then give
    revenue − opex = debt service for every borrower (checks the break-even formula, not just its range)."""
    params = compile_params(load_scenario("baseline")[0])
    initial = np.flatnonzero(params.borrowers.arrival_rate_per_day == 0)
    bp = params.borrowers.take(np.zeros_like(initial), initial)
    price = economics["break_even_rental_usd_per_gpu_hour"].to_numpy()
    revenue, opex = operating_rates(
        bp, bp.contracted_share, price, price, expit(bp.utilisation_logit),
        params.classes.power_kw_per_gpu[bp.class_index],
    )
    np.testing.assert_allclose(revenue - opex, economics["debt_service_usd_per_gpu_hour"].to_numpy(), rtol=1e-9)


def test_summary_all_row_is_the_median_over_borrowers(economics: pd.DataFrame) -> None:
    """The calibration page's 'all' row is the median over every borrower (not a median of cohort medians)."""
    row = economics_summary(economics).set_index("cohort").loc["all"]
    assert row["ebitda_margin"] == pytest.approx(economics["ebitda_margin"].median())
    assert row["dscr"] == pytest.approx(economics["dscr"].median())
