"""The three loss-recognition policies on one fixed path: different exchange-ratio paths, the same total loss."""

from __future__ import annotations

import numpy as np
import pytest

from usdai_sim.engine import simulate
from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.protocol.loss_recognition import LossSchedule, expected_loss_usd, linear_fraction
from usdai_sim.scenario.schema import Scenario

N_PATHS, HORIZON_DAYS, DEFAULT_DAY = 4, 300, 60.0


def fraud_at_day_60(policy: str) -> Scenario:
    """Three loans at day 0 on a $50M vault, inert depositors, no reserve yield; every loan defaults by fraud on
    day 60 or 61 (fraud rate ×1e6 for one day), its fleet sold 30 days later; no recourse."""
    return Scenario.model_validate(
        {
            "simulation": {"horizon_days": HORIZON_DAYS, "paths": N_PATHS, "seed": 5},
            "markets": {"tbill": {"model": "constant", "initial_rate": 0.0}},
            "borrowers": {"cohorts": [{"count": 3, "gpus": 64, "origination_day": 0, "requested_ltv": 0.7}]},
            "depositors": {"count": 4, "redeem_base_rate_per_year": 0.0, "deposit_rate_per_year": 0.0,
                           "spread_sensitivity_per_year": 0.0, "loss_sensitivity_per_year": 0.0,
                           "herd_sensitivity_per_year": 0.0, "loss_news_sensitivity_per_year": 0.0,
                           "unstaked": {"redeem_base_rate_per_year": 0.0, "inflow_rate_per_year": 0.0}},
            "protocol": {
                "initial_susdai_nav_usd": 5e7, "unstaked_usdai_usd": 0.0, "incentive_apr": 0.0,
                "liquidation": {"recourse_recovery_fraction": 0.0, "time_to_sell_days": 30},
                "loss_recognition": {"policy": policy, "writedown_grace_days": 45, "writedown_days": 120},
            },
            "shocks": [{"type": "fraud_multiplier", "multiplier": 1e6, "start_day": DEFAULT_DAY,
                        "duration_days": 1}],
        }
    )


def run(policy: str) -> tuple[np.ndarray, float, float]:
    """(exchange ratio per day on path 0, total principal loss recognised on path 0, realised loss on path 0)."""
    model = UsdaiModel(compile_params(fraud_at_day_60(policy)), 0, N_PATHS, check_invariants=True)
    prices, recognised = [model.price_cons[0]], 0.0
    for _ in range(HORIZON_DAYS):
        model.step()
        prices.append(model.price_cons[0])
        recognised += model.ledger["principal_loss_usd"][0]
    return np.array(prices), recognised, float(model.book.loss_usd[0].sum())


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[np.ndarray, float, float]]:
    return {p: run(p) for p in ("on_sale", "on_default", "linear")}


def test_same_total_usd_loss_under_every_policy(runs) -> None:  # noqa: ANN001
    """The realised loss is positive and identical; each policy has recognised all of it by the horizon."""
    realised = runs["on_sale"][2]
    assert realised > 1e5
    for prices, recognised, loss in runs.values():
        assert loss == pytest.approx(realised, rel=1e-12)
        assert recognised == pytest.approx(realised, rel=1e-9)
        assert prices[-1] == pytest.approx(runs["on_sale"][0][-1], rel=1e-12)


def test_three_different_exchange_ratio_paths(runs) -> None:  # noqa: ANN001
    """on_sale: flat from default (day ~60) to the sale (day ~90), then one drop; on_default: the drop at
    default, to the expected loss, then a small true-up at the sale; linear: flat until default + 45 days of
    grace, then a gradual fall over 120 days (halfway on day 165) to the same final value."""
    on_sale, on_default, linear = (runs[p][0] for p in ("on_sale", "on_default", "linear"))
    before, final = on_sale[62], on_sale[-1]
    assert on_sale[89] == pytest.approx(before, rel=1e-12) and on_sale[92] == pytest.approx(final, rel=1e-12)
    assert on_default[62] < before - 0.01 and on_default[62] != pytest.approx(final, rel=1e-5)
    assert on_default[92] == pytest.approx(final, rel=1e-12)
    assert linear[104] == pytest.approx(before, rel=1e-12)
    assert linear[165] == pytest.approx((before + final) / 2, rel=1e-3)
    assert linear[226] == pytest.approx(final, rel=1e-12)
    assert not np.allclose(on_sale, on_default) and not np.allclose(on_sale, linear)


def test_linear_fraction_by_hand() -> None:
    """Default on day 10, grace 45, period 120: 0 until day 55, half on day 115, all from day 175."""
    f = linear_fraction(np.array([0.0, 55.0, 115.0, 175.0, 400.0]), np.full(5, 10.0), 45, 120)
    assert f.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert linear_fraction(50.0, np.array([np.inf]), 45, 120).tolist() == [0.0]


def test_expected_loss_by_hand() -> None:
    """P = 100, collateral 120 × 0.65 × 0.9 = 70.2, cash 4.8: EL = 25; over-collateralised: 0."""
    el = expected_loss_usd(np.array([100.0, 10.0]), np.array([120.0, 120.0]), 0.65, 0.1, np.array([4.8, 0.0]))
    assert el == pytest.approx([25.0, 0.0])


def test_a_reused_slot_flushes_the_old_tail() -> None:
    """A second sale on a slot whose first loss is still being written off recognises that remainder at once."""
    s = LossSchedule.new((1, 1))
    s.start_tail(np.array([[True]]), np.array([[10.0]]), np.array([[2.0]]), np.array([[0.0]]))
    flushed = s.start_tail(np.array([[True]]), np.array([[5.0]]), np.array([[0.0]]), np.array([[100.0]]))
    assert flushed.tolist() == [[8.0]]
    assert s.unrecognised_usd().tolist() == [5.0]


def test_with_behaviour_fixed_only_the_split_changes() -> None:
    """A scripted wave (30% of stakers ask out on day 100, no secondary market, hazards off): the same
    requests on the same paths under every policy. The realised loss and the loss the groups bear in total
    are the same; under on_sale the wave's leavers are still in the vault when the fleets sell (day ~90)
    and bear their share, under linear they leave (paid day 120) before most of the write-off (days 105-225),
    so stayers bear more."""
    splits, totals = {}, {}
    for policy in ("on_sale", "on_default", "linear"):
        data = fraud_at_day_60(policy).model_dump()
        data["simulation"]["paths"] = 32
        data["depositors"]["count"] = 20
        data["depositors"]["secondary"] = {"enabled": False}
        data["shocks"] = [*data["shocks"], {"type": "redemption_wave", "fraction_of_supply": 0.3, "start_day": 100}]
        res = simulate(Scenario.model_validate(data), check_invariants=True)
        splits[policy] = res.summary["loss_by_holder_group_usd"]
        totals[policy] = float(res.paths["loss_usd"].mean())
        borne = sum(splits[policy][g] for g in ("left_early", "queued", "stayed", "arbitrageurs"))
        assert borne == pytest.approx(totals[policy], rel=1e-6)
    assert totals["on_default"] == pytest.approx(totals["on_sale"], rel=1e-12)
    assert totals["linear"] == pytest.approx(totals["on_sale"], rel=1e-12)
    assert splits["linear"]["stayed"] > splits["on_sale"]["stayed"] * 1.05
