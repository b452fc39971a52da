"""The holder side of a step (model phase ``depositors`` and payouts in ``service``), over whole arrays.

Order within the phase: observe the signals (``agents/signals.py``); spread the step's net recognised
loss over share holders and date the stress; unstaked holders redeem 1:1 or receive new USDai
(``agents/holders.py``); stakers deposit, sell in the secondary market (``market/secondary.py``) or request
redemption (``agents/depositors.py``).

Stress and the first-mover advantage: a path's stress starts on the first day a net loss is recognised or
a redemption wave hits. At that moment each staker's holding is valued at the redemption price (V₀);
afterwards its cash out (redemptions paid, sale proceeds; each credited with simple T-bill interest from
its day to the horizon, C_T − C_t) and cash in (deposits) are counted, and its return to the horizon is
(cash out with interest + final value − cash in) / V₀ − 1. Leavers are stakers whose first exit
falls within ``first_mover_days`` of the stress start; stayers never exit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from usdai_sim.agents import holders as hd
from usdai_sim.agents.depositors import (
    DepositorBook,
    DepositorParams,
    HazardBounds,
    candidate_mass,
    decide,
    draw_depositors,
)
from usdai_sim.agents.signals import Signals, SignalTracker, expected_wait_days
from usdai_sim.agents.thinning import CandidateClock, exponentials
from usdai_sim.ledger import Ledger
from usdai_sim.market import secondary
from usdai_sim.market.shocks import MarketShocks
from usdai_sim.market.state import MarketState
from usdai_sim.protocol.vault import VaultState, accepted_mints
from usdai_sim.rng import Streams
from usdai_sim.scenario.schema import Scenario

RECEIPTS = (
    "principal_repaid_usd", "interest_paid_usd", "late_interest_usd", "recovery_principal_usd",
    "recovery_interest_usd", "prepayments_usd", "reserve_yield_usd", "recourse_usd", "surplus_usd",
)
COSTS = ("reserve_fee_usd", "interest_fee_usd")


class HolderModel(Protocol):
    """What the holder phases read and change in a model (``model.UsdaiModel`` provides it).

    Declared here, below the model, so that these phases never import the model that calls them.
    """

    scenario: Scenario
    n_paths: int
    first_path: int
    dt_days: float
    day_end: float
    step_index: int
    streams: Streams
    ledger: Ledger
    vault: VaultState
    market: MarketState
    market_shocks: MarketShocks
    wave_hit: np.ndarray
    price_cons: np.ndarray
    price_opt: np.ndarray
    nav_cons: np.ndarray
    total_shares: np.ndarray
    pending_total: np.ndarray
    dparams: DepositorParams
    depositors: DepositorBook
    hazard_bounds: HazardBounds
    holders: hd.HolderBook
    holder_bounds: hd.HolderBounds
    staker_clock: CandidateClock
    holder_clock: CandidateClock
    tracker: SignalTracker
    accounts: StressAccounts
    signals: Signals | None

    def move_shares(self, minted: np.ndarray | float, pending_added: np.ndarray | float,
                    burned: np.ndarray | float) -> None: ...

    def place_requests(self, rows: np.ndarray, cols: np.ndarray, shares: np.ndarray, day: float) -> None: ...


@dataclass
class StressAccounts:
    """Per path (n_paths,) and per path and staker (n_paths, n_stakers + 1): the stress clock and accounts."""

    loss_day: np.ndarray
    stress_day: np.ndarray
    value_at_stress_usd: np.ndarray
    cash_out_usd: np.ndarray
    cash_out_tbill_usd: np.ndarray
    cash_in_usd: np.ndarray
    discount_max: np.ndarray
    insurance_usd: np.ndarray

    @classmethod
    def new(cls, shape: tuple[int, int]) -> StressAccounts:
        """No stress yet."""
        p = shape[0]
        return cls(np.full(p, np.inf), np.full(p, np.inf), np.zeros(shape), np.zeros(shape), np.zeros(shape),
                   np.zeros(shape), np.zeros(p), np.zeros(p))

    def pay_out(self, rows: np.ndarray, cols: np.ndarray, usd: np.ndarray, cum_tbill: np.ndarray) -> None:
        """Count cash paid to stakers after their path's stress start; ``cum_tbill`` (n_paths,) is C_t."""
        self.cash_out_usd[rows, cols] += usd
        self.cash_out_tbill_usd[rows, cols] += usd * cum_tbill[rows]

    def after_stress(self, rows: np.ndarray, day: float) -> np.ndarray:
        """Mask of ``rows`` whose stress has started by ``day``."""
        return self.stress_day[rows] <= day


def _receipts_usd(m: HolderModel) -> np.ndarray:
    return sum((m.ledger[n] for n in RECEIPTS), np.zeros(m.n_paths)) - sum(
        (m.ledger[n] for n in COSTS), np.zeros(m.n_paths)
    )


def observe(m: HolderModel) -> Signals:
    """Update the tracker with this step and return what holders see (``agents/signals.py``)."""
    spec, queue = m.scenario.depositors, m.scenario.protocol.queue
    hit = m.market_shocks.wave_fraction
    wave_p = np.clip((hit - m.wave_hit) / np.maximum(1.0 - m.wave_hit, 1e-9), 0.0, 1.0)
    m.wave_hit = np.maximum(hit, m.wave_hit)
    news = m.ledger["default_expected_loss_usd"]
    net_loss = m.ledger["principal_loss_usd"] - m.ledger["first_loss_usd"]
    per_share = np.divide(net_loss, m.total_shares, out=np.zeros_like(net_loss), where=m.total_shares > 0)
    m.tracker.observe(m.price_cons, m.market.tbill, news, m.nav_cons, _receipts_usd(m), float(queue.window_days),
                      per_share)
    pending_usd = np.maximum(m.pending_total, 0.0) * m.price_cons
    nav = np.maximum(m.nav_cons, 1e-9)
    queue_share = np.where(m.total_shares > 0, pending_usd / nav, 0.0)
    unfunded = np.where(m.total_shares > 0, np.maximum(pending_usd - m.vault.idle_usd, 0.0) / nav, 0.0)
    wait = expected_wait_days(pending_usd, m.vault.idle_usd, m.tracker.inflow_usd_per_day, m.day_end,
                              float(queue.window_days))
    disc = secondary.discount(spec.secondary, queue_share, wait, m.tracker.loss_news)
    m.accounts.discount_max = np.maximum(m.accounts.discount_max, disc)
    outflow = m.tracker.outflow_share(m.nav_cons + m.vault.unstaked_usd)
    return Signals(m.tracker.spread(), m.tracker.drawdown(m.price_cons), m.tracker.loss_news.copy(), queue_share,
                   unfunded, wait, disc, wave_p, outflow)


def record_outflow(m: HolderModel) -> None:
    """Stakers' exits and unstaked redemptions of this step become visible to holders from the next step."""
    m.tracker.record_outflow(m.ledger["exits_usd"] + m.ledger["unstaked_redemptions_usd"])


def bear_losses(m: HolderModel, signals: Signals) -> None:
    """Spread the step's net loss over share holders; date the first loss and the stress start."""
    net_loss = m.ledger["principal_loss_usd"] - m.ledger["first_loss_usd"]
    m.depositors.bear_loss(net_loss, m.total_shares)
    a, day = m.accounts, m.day_end
    a.insurance_usd += m.ledger["insurance_usd"]
    a.loss_day = np.where(np.isinf(a.loss_day) & (net_loss > 0), day, a.loss_day)
    starts = np.flatnonzero(np.isinf(a.stress_day) & ((net_loss > 0) | (signals.wave_probability > 0)))
    if starts.size:
        a.stress_day[starts] = day
        d = m.depositors
        a.value_at_stress_usd[starts] = (d.shares[starts] + d.pending_shares[starts]) * m.price_cons[starts, None]


def candidates(m: HolderModel, clock: CandidateClock, mass: np.ndarray, purpose: str) -> tuple[
    tuple[np.ndarray, np.ndarray], np.ndarray
]:
    """Advance a population's candidate clock by this step's mass: its candidates (rows, cols), one keyed
    uniform each (stream ``<purpose>_accept``), and their clocks re-armed (stream ``<purpose>_clock``)."""
    rows, cols = clock.advance(mass)
    uniforms = m.streams.keyed_uniform(f"{purpose}_accept", rows, cols, m.step_index)
    clock.rearm(rows, cols, exponentials(m.streams.keyed_uniform(f"{purpose}_clock", rows, cols, m.step_index)))
    return (rows, cols), uniforms


def first_clock(m: HolderModel, shape: tuple[int, int], purpose: str, inert_last: bool) -> CandidateClock:
    """A population's clocks at day 0: every agent's first candidate at an Exp(1) gap (keyed, step 0);
    with ``inert_last`` the last column (the arbitrageurs' book) never has one."""
    rows, cols = np.indices(shape).reshape(2, -1)
    gaps = exponentials(m.streams.keyed_uniform(f"{purpose}_clock", rows, cols, 0)).reshape(shape)
    if inert_last:
        gaps[:, -1] = np.inf
    return CandidateClock.start(gaps)


def unstaked_flows(m: HolderModel, signals: Signals) -> None:
    """Unstaked holders redeem 1:1 from reserves, or receive new USDai in calm conditions."""
    spec, h = m.scenario.depositors, m.holders
    mass = m.holder_bounds.candidate_mass(spec.unstaked, spec.run_proneness, signals, m.dt_days)
    pairs, uniforms = candidates(m, m.holder_clock, mass, "holder")
    out = hd.redeeming(h, m.holder_bounds, spec.unstaked, spec.run_proneness, signals, pairs, uniforms, m.dt_days)
    redeemed = hd.redemptions_usd(h, spec.unstaked, (pairs[0][out], pairs[1][out]), m.dt_days)
    minted = hd.inflows_usd(h, spec.unstaked, signals, m.dt_days)
    h.balance_usd = h.balance_usd - redeemed + minted
    held = h.balance_usd.sum(axis=1)  # the holders' books are the truth; reserves move by the same change
    m.vault.reserves_usd = m.vault.reserves_usd + (held - m.vault.unstaked_usd)
    m.vault.unstaked_usd = held
    m.ledger.add("unstaked_redemptions_usd", redeemed)
    m.ledger.add("unstaked_inflows_usd", minted)


def _deposit(m: HolderModel, rows: np.ndarray, cols: np.ndarray, amount: np.ndarray) -> None:
    d = m.depositors
    accepted = accepted_mints(rows, amount, m.vault.supply_usd, m.scenario.protocol.supply_cap_usd)
    m.ledger.add("mints_rejected", np.bincount(rows[~accepted], minlength=m.n_paths))
    rows, cols, amount = rows[accepted], cols[accepted], amount[accepted]
    per_path = np.bincount(rows, weights=amount, minlength=m.n_paths)
    d.wallet_usd[rows, cols] -= amount
    minted = amount / m.price_opt[rows]
    d.shares[rows, cols] += minted
    after = m.accounts.after_stress(rows, m.day_end)
    m.accounts.cash_in_usd[rows[after], cols[after]] += amount[after]
    m.vault.receive(per_path)
    m.ledger.add("deposits_usd", per_path)
    m.ledger.add("deposits", np.bincount(rows, minlength=m.n_paths))
    m.move_shares(minted=np.bincount(rows, weights=minted, minlength=m.n_paths), pending_added=0.0, burned=0.0)


def sell_shares(
    m: HolderModel, rows: np.ndarray, cols: np.ndarray, shares: np.ndarray, discount: np.ndarray
) -> np.ndarray:
    """Sellers' shares go to the arbitrageurs' book within their capital; returns the shares sold."""
    d, spec = m.depositors, m.scenario.depositors.secondary
    price = m.price_cons[rows]
    offered = np.bincount(rows, weights=shares * price, minlength=m.n_paths)
    sold = shares * secondary.fill_fraction(offered, spec.arbitrage_capital_usd_per_day * m.dt_days)[rows]
    value = sold * price
    proceeds, cost = (1.0 - discount[rows]) * value, discount[rows] * value
    d.shares[rows, cols] -= sold
    d.shares[:, -1] += np.bincount(rows, weights=sold, minlength=m.n_paths)
    d.wallet_usd[rows, cols] += proceeds
    d.sold_usd[rows, cols] += proceeds
    d.discount_paid_usd[rows, cols] += cost
    d.discount_paid_usd[:, -1] -= np.bincount(rows, weights=cost, minlength=m.n_paths)
    after = m.accounts.after_stress(rows, m.day_end)
    m.accounts.pay_out(rows[after], cols[after], proceeds[after], m.tracker.cum_tbill_now())
    m.ledger.add("secondary_sales_usd", np.bincount(rows, weights=value, minlength=m.n_paths))
    m.ledger.add("secondary_discount_usd", np.bincount(rows, weights=cost, minlength=m.n_paths))
    return sold


def staker_flows(m: HolderModel, signals: Signals) -> None:
    """Stakers deposit, sell at the secondary discount, or request redemption for what is left."""
    spec, d = m.scenario.depositors, m.depositors
    min_shares = m.scenario.protocol.queue.min_request_shares
    mass = candidate_mass(m.hazard_bounds, spec, signals, m.dt_days)
    pairs, uniforms = candidates(m, m.staker_clock, mass, "staker")
    dec = decide(d, m.dparams, m.hazard_bounds, spec, signals, pairs, uniforms, min_shares, m.dt_days)
    _deposit(m, dec.deposit_rows, dec.deposit_cols, dec.deposit_usd)
    rows, cols, shares = dec.exit_rows, dec.exit_cols, dec.exit_shares
    d.first_exit_day[rows, cols] = np.minimum(d.first_exit_day[rows, cols], m.day_end)
    m.ledger.add("exits_usd", np.bincount(rows, weights=shares * m.price_cons[rows], minlength=m.n_paths))
    sold = np.zeros_like(shares)
    if dec.sell.any():
        sold[dec.sell] = sell_shares(m, rows[dec.sell], cols[dec.sell], shares[dec.sell], signals.discount)
    rest = shares - sold
    queue = rest >= min_shares
    m.place_requests(rows[queue], cols[queue], rest[queue], m.day_end)
    arbitrageurs_redeem(m, min_shares)


def arbitrageurs_redeem(m: HolderModel, min_shares: float) -> None:
    """Arbitrageurs redeem what they bought through the queue (their profit is the discount); while a
    request of theirs is open they hold new purchases, so they never jump the queue."""
    d = m.depositors
    rows = np.flatnonzero((d.shares[:, -1] >= min_shares) & (d.pending_shares[:, -1] == 0.0))
    if rows.size:
        m.place_requests(rows, np.full(rows.size, d.shares.shape[1] - 1), d.shares[rows, -1].copy(), m.day_end)


def record_payouts(m: HolderModel, rows: np.ndarray, cols: np.ndarray, paid_usd: np.ndarray) -> None:
    """Redemptions paid to stakers (rows, cols), each (k,) USD, count as their cash out."""
    m.depositors.exited_usd[rows, cols] += paid_usd
    after = (paid_usd > 0) & m.accounts.after_stress(rows, m.day_end)
    m.accounts.pay_out(rows[after], cols[after], paid_usd[after], m.tracker.cum_tbill_now())


def new_holder_state(m: HolderModel) -> None:
    """Books, bounds, the signal tracker and stress accounts of a fresh model (called from its __init__)."""
    scenario = m.scenario
    m.dparams = draw_depositors(scenario, m.first_path, m.n_paths)
    m.depositors = DepositorBook.new(m.dparams)
    m.hazard_bounds = HazardBounds.of(m.dparams)
    m.holders = hd.HolderBook.draw(scenario, m.first_path, m.n_paths)
    m.holder_bounds = hd.HolderBounds.of(m.holders)
    m.staker_clock = first_clock(m, m.depositors.shares.shape, "staker", inert_last=True)
    m.holder_clock = first_clock(m, m.holders.balance_usd.shape, "holder", inert_last=False)
    spec = scenario.depositors
    m.tracker = SignalTracker(m.n_paths, spec.yield_lookback_days, m.dt_days, spec.loss_news_half_life_days)
    m.accounts = StressAccounts.new(m.depositors.shares.shape)
    m.signals = None
