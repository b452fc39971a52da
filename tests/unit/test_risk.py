"""Holder losses as positive numbers (hand-computed) and the USD loss waterfall (sums to the sUSDai loss)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from usdai_sim import simulate
from usdai_sim.risk import WATERFALL_STEPS, holder_risk, loss_splits, loss_waterfall
from usdai_sim.scenario.schema import Scenario

STRESS = {
    "name": "waterfall",
    "simulation": {"horizon_days": 300, "paths": 32},
    "borrowers": {"cohorts": [
        {"name": "a", "count": 6, "gpu_class": "H100", "requested_ltv": 0.8},
        {"name": "b", "count": 4, "gpu_class": "B200", "requested_ltv": 0.8, "fraud_rate_per_year": 0.5},
    ]},
    "depositors": {"count": 20},
    "protocol": {"first_loss_usd": 2.0e6, "initial_susdai_nav_usd": 1.0e8,
                 "insurance": {"cover_usd": 3.0e6, "insured_fraction": 0.9},
                 "liquidation": {"recourse_delay_days": 30}},
    "shocks": [{"type": "gpu_resale", "change": -0.7, "start_day": 10, "duration_days": 60, "shape": "ramp"},
               {"type": "rental", "change": -0.7, "start_day": 10, "duration_days": 60, "shape": "ramp"}],
}


def test_holder_measures_hand_computed() -> None:
    """Ratios 1.10, 0.95, 0.80 and T-bill growth 1.05 over one year: principal losses 0, 5%, 20%."""
    paths = pd.DataFrame({"susdai_exchange_ratio_final": [1.10, 0.95, 0.80],
                          "tbill_growth_factor": [1.05, 1.05, 1.05]})
    risk = holder_risk(paths, 365)
    assert risk["principal_loss"]["p50"] == pytest.approx(0.05)
    assert risk["principal_loss_var_99"] == pytest.approx(0.20)
    assert risk["principal_loss_es_99"] == pytest.approx(0.20)
    assert risk["tbill_shortfall"]["p50"] == pytest.approx(1 - 0.95 / 1.05)
    assert risk["tbill_shortfall_annualised"]["mean"] == pytest.approx((0 + 0.10 + 0.25) / 3)
    assert risk["prob_tbill_shortfall"] == pytest.approx(2 / 3)
    assert all(value >= 0 for key, value in risk.items() if key.endswith(("_95", "_99")))


@pytest.fixture(scope="module")
def stressed():
    return simulate(Scenario.model_validate(STRESS), quiet=True)


def test_waterfall_sums_to_the_susdai_loss(stressed) -> None:
    """The loss to holders equals the book's net principal loss less first-loss, to 1e-9 of vault assets."""
    waterfall = loss_waterfall(stressed.ledger).set_index("step")
    assert list(waterfall.index) == list(WATERFALL_STEPS)
    deductions = waterfall["amount_usd"].iloc[:-1].sum()
    holders = waterfall.loc["loss to sUSDai holders", "amount_usd"]
    assert deductions == pytest.approx(holders, abs=1e-6)
    paths = stressed.paths
    from_book = float((paths["loss_usd"] - paths["first_loss_used_usd"]).mean())
    assets = float(paths["nav_final_usd"].mean())
    assert abs(holders - from_book) <= 1e-9 * assets
    assert waterfall.loc["gross default loss", "amount_usd"] > 0
    for step in ("DSRA and SPV cash", "GPU sales net of fees", "first-loss capital", "GPU value insurance"):
        assert waterfall.loc[step, "amount_usd"] < 0, step


def test_splits_add_up_to_the_net_loss(stressed) -> None:
    splits = loss_splits(stressed.paths, ["a", "b"])
    total = float(stressed.paths["loss_usd"].mean())
    for kind in ("route", "cohort", "class"):
        part = splits[splits["split"] == kind]
        assert part["net_loss_usd"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6), kind
    assert set(splits.loc[splits["split"] == "cohort", "group"]) <= {"a", "b"}


def test_summary_has_positive_losses(stressed) -> None:
    s = stressed.summary
    for key in ("principal_loss_var_99", "principal_loss_es_99", "tbill_shortfall_var_99",
                "tbill_shortfall_annualised_es_99"):
        assert s[key] >= 0.0, key
    assert s["principal_loss_es_99"] >= s["principal_loss_var_99"]
    assert np.isfinite(s["tbill_return_annualised"]["p50"])
