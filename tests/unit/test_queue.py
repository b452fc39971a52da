"""The sUSDai redemption queue on a real model: windows, pending shares sharing losses, QEV, a run clearing."""

from __future__ import annotations

import numpy as np
import pytest

from usdai_sim.model import UsdaiModel, nav, service
from usdai_sim.params import compile_params
from usdai_sim.scenario.schema import Scenario


def small_model(qev: bool = False, n_paths: int = 4) -> UsdaiModel:
    """4 depositors with $100 each, no borrowers funded, inert behaviour, no yield."""
    scenario = Scenario.model_validate(
        {
            "simulation": {"horizon_days": 120, "paths": n_paths},
            "markets": {"tbill": {"model": "constant", "initial_rate": 0.0}},
            "borrowers": {"cohorts": [{"count": 1, "origination_day": 10_000}]},
            "depositors": {"count": 4, "redeem_base_rate_per_year": 0.0, "deposit_rate_per_year": 0.0,
                           "spread_sensitivity_per_year": 0.0, "loss_sensitivity_per_year": 0.0,
                           "herd_sensitivity_per_year": 0.0, "qev_bid_probability": 1.0,
                           "loss_news_sensitivity_per_year": 0.0,
                           "qev_bid_bps": 100.0},
            "protocol": {"initial_susdai_nav_usd": 400.0, "unstaked_usdai_usd": 0.0, "incentive_apr": 0.0,
                         "queue": {"qev": {"enabled": qev}}},
        }
    )
    model = UsdaiModel(compile_params(scenario), 0, n_paths, check_invariants=True)
    model.depositors.shares[:, :4] = 100.0  # the last column is the arbitrageurs' book, empty
    model.total_shares, model.pending_total = model.count_shares()
    model._nav()
    return model


def request(model: UsdaiModel, col: int, shares: float, day: float) -> None:
    """Depositor ``col`` asks to redeem ``shares`` on ``day`` on every path (as the depositors phase does)."""
    rows = np.arange(model.n_paths)
    model.place_requests(rows, np.full(model.n_paths, col), np.full(model.n_paths, shares), day)


def lend(model: UsdaiModel, amount_usd: float) -> None:
    """Move ``amount_usd`` of idle USDai into a performing loan (NAV unchanged, liquidity gone)."""
    model.vault.pay_out(np.full(model.n_paths, amount_usd))
    model.book.principal_usd[:, 0] = amount_usd
    model.book.status[:, 0] = 1
    model._nav()


def at_day(model: UsdaiModel, day: float) -> None:
    model.day, model.day_end = day - 1.0, day


def test_request_waits_for_its_window_end() -> None:
    """A request made on day 10 joins the window ending on day 30: nothing is paid before, all of it then."""
    m = small_model()
    request(m, 0, 50.0, day=10.0)
    at_day(m, 29.0)
    service(m)
    assert m.depositors.pending_shares[:, 0] == pytest.approx(50.0)
    at_day(m, 30.0)
    service(m)
    assert m.depositors.pending_shares[:, 0] == pytest.approx(0.0)
    assert m.depositors.wallet_usd[:, 0] == pytest.approx(m.dparams.wallet_usd[:, 0] + 50.0)


def test_fifo_with_partial_fill_keeping_its_place() -> None:
    """$60 idle: the earlier request ($50) is paid in full, the later one ($50) gets $10 and stays first."""
    m = small_model()
    lend(m, 340.0)
    request(m, 2, 50.0, day=3.0)
    request(m, 1, 50.0, day=5.0)
    at_day(m, 30.0)
    service(m)
    d = m.depositors
    assert d.pending_shares[:, 2] == pytest.approx(0.0)
    assert d.pending_shares[:, 1] * m.price_cons == pytest.approx(40.0)
    assert d.queue_key[:, 1] == pytest.approx(5.0)


def test_pending_shares_share_a_loss() -> None:
    """A $40 loss on a $400 vault costs a pending requester 10% of its claim, like every holder."""
    m = small_model()
    request(m, 0, 100.0, day=1.0)
    before = m.depositors.pending_shares[:, 0] * m.price_cons
    m.vault.pay_out(np.full(m.n_paths, 40.0))  # value leaves the vault: a loss for all shares alike
    nav(m)
    after = m.depositors.pending_shares[:, 0] * m.price_cons
    assert after == pytest.approx(before * 0.9)


def test_qev_burn_raises_the_price_for_everyone_left() -> None:
    """Requesters bidding 100 bps burn 1% of their pending shares (99% burned, 1% to the admin)."""
    m = small_model(qev=True)
    lend(m, 400.0)  # nothing idle to pay with: the auction alone moves the price
    request(m, 0, 100.0, day=1.0)
    price_before, shares_before = m.price_cons.copy(), m.total_shares.copy()
    at_day(m, 30.0)
    m.day = 29.5
    service(m)
    burned = 100.0 * 0.01
    assert m.total_shares == pytest.approx(shares_before - 0.99 * burned)
    assert m.vault.admin_shares == pytest.approx(0.01 * burned)
    assert np.all(m.price_cons > price_before)
    assert m.price_cons == pytest.approx(400.0 / (400.0 - 0.99 * burned))
