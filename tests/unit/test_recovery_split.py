"""Recovery of defaulted loans, split by source (reserve, GPU sale, springing recourse), by hand (issue #12 §4).

One path, two performing loans default on day 0 (``start_defaults``) and are sold on day 30 by the model's
own ``sales`` phase; no price impact (discount slope 0), no insurance cover, 30 days to sell (forced-sale
factor 0.65), 10% liquidation fee, recourse 10% of the shortfall 180 days after a fraud default, 80% of a
fraudulent fleet missing.

Loan 0, fraud: principal $1,000,000, accrued interest $20,000 (the claim), 500 GPUs of which 80% are missing
    → 100 left at $10,000; reserve $100,000 and SPV cash $40,000, both gone with the fraud (the operator
    controls the SPV's accounts). gross = 100 × 10,000 × 0.65 = 650,000; fee 65,000; available 585,000
    → principal 585,000 (interest 0), all from the GPUs; shortfall 415,000;
    recourse 0.1 × 415,000 = 41,500 on day 180 → loss 373,500, LGD 0.3735.
Loan 1, payment: principal $500,000, accrued interest $10,000, 50 GPUs at $10,000, reserve $30,000, cash $20,000.
    gross 325,000; fee 32,500; available = 292,500 + 50,000 = 342,500 → principal 342,500: reserve 50,000,
    GPUs 292,500; shortfall 157,500; no recourse (not fraud) → loss 157,500, LGD 0.315.
Pooled split of recoveries: reserve 50,000, GPUs 877,500, recourse 41,500 (total 969,000).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from usdai_sim.agents import borrowers as br
from usdai_sim.engine import loss_columns
from usdai_sim.model import UsdaiModel, sales
from usdai_sim.params import compile_params
from usdai_sim.scenario.schema import Scenario
from usdai_sim.summary import lgd_breakdown

LOANS = {
    "principal_usd": [1_000_000.0, 500_000.0],
    "accrued_usd": [20_000.0, 10_000.0],
    "gpus": [500.0, 50.0],
    "dsra_usd": [100_000.0, 30_000.0],
    "cash_usd": [40_000.0, 20_000.0],
}


def sell(loans: dict[str, list[float]]) -> UsdaiModel:
    """The two loans after the sale on day 30 and the recourse on day 180."""
    scenario = Scenario.model_validate(
        {
            "simulation": {"horizon_days": 200, "paths": 1},
            "borrowers": {"cohorts": [{"count": 2, "origination_day": 500}]},
            "depositors": {"count": 1},
            "markets": {"tbill": {"model": "constant"}},
            "protocol": {
                "liquidation": {
                    "price_impact": {"discount_slope": 0.0},
                    "recourse_delay_days": 180,
                    "fraud_missing_fraction": 0.8,
                    "recourse_recovery_fraction": 0.1,
                }
            },
        }
    )
    m = UsdaiModel(compile_params(scenario), 0, 1)
    book = m.book
    book.status[:] = br.ACTIVE
    for name, values in loans.items():
        getattr(book, name)[0] = values
    route = np.array([[br.ROUTE_FRAUD, br.ROUTE_PAYMENT]], dtype=np.int8)
    br.start_defaults(book, m.params.borrowers, route, 0.0, 30.0)
    m.value_usd_per_gpu = np.full((1, 2), 10_000.0)
    m.day_end = 30.0
    sales(m)
    m.day_end = 180.0
    sales(m)
    return m


@pytest.fixture
def sold() -> UsdaiModel:
    return sell(LOANS)


def test_reserve_first_then_gpu_proceeds_then_recourse(sold: UsdaiModel) -> None:
    book = sold.book
    np.testing.assert_allclose(book.recovered_reserve_usd[0], [0.0, 50_000.0])
    np.testing.assert_allclose(book.recovered_gpu_usd[0], [585_000.0, 292_500.0])
    np.testing.assert_allclose(book.recovered_recourse_usd[0], [41_500.0, 0.0])
    np.testing.assert_allclose(book.loss_usd[0], [373_500.0, 157_500.0])
    np.testing.assert_allclose(book.ead_usd[0], [1_000_000.0, 500_000.0])
    assert book.status[0].tolist() == [br.CLOSED, br.CLOSED]


def test_summary_reports_lgd_by_route_and_the_split(sold: UsdaiModel) -> None:
    book = sold.book
    columns = loss_columns(book, book.status == br.CLOSED, sold.params)
    out = lgd_breakdown(pd.DataFrame(columns))
    lgd = out["loss_given_default_by_route"]
    assert lgd["fraud"] == pytest.approx(0.3735)
    assert lgd["payment"] == pytest.approx(0.315)
    assert np.isnan(lgd["strategic"]) and np.isnan(lgd["covenant"])
    split = out["recovery_split"]
    total = 969_000.0
    assert split["reserve"] == pytest.approx(50_000.0 / total)
    assert split["gpu"] == pytest.approx(877_500.0 / total)
    assert split["recourse"] == pytest.approx(41_500.0 / total)
    share = out["loss_share_by_route"]
    assert share["fraud"] == pytest.approx(373_500.0 / 531_000.0)
    assert share["payment"] == pytest.approx(157_500.0 / 531_000.0)
    assert share["strategic"] == share["covenant"] == 0.0


def test_a_reserve_larger_than_the_claim_recovers_only_the_claim() -> None:
    """Loan 1 with a $600,000 reserve: available 292,500 + 620,000 = 912,500 pays principal 500,000 and
    interest 10,000 (surplus 402,500 is not a recovery); the recovery 510,000 is all reserve, none GPUs."""
    book = sell({**LOANS, "dsra_usd": [100_000.0, 600_000.0]}).book
    np.testing.assert_allclose(book.recovered_reserve_usd[0], [0.0, 510_000.0])
    np.testing.assert_allclose(book.recovered_gpu_usd[0], [585_000.0, 0.0])
    np.testing.assert_allclose(book.loss_usd[0], [373_500.0, 0.0])
