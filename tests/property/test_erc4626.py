"""ERC-4626 round trips on the sUSDai vault, after the a16z erc4626-tests round-trip properties.

Source: a16z, "Generalized property tests for ERC4626 vaults" (github.com/a16z/erc4626-tests,
ERC4626.prop.sol, ``prop_RT_*``): no one can make a free profit by going in and straight back out.

The model has no convert/preview functions: deposits are the ``depositors`` phase (shares = USD /
NAV_opt per share), redemptions an ERC-7540 request (``UsdaiModel.place_requests``) paid by the ``service``
phase at the window end (USD = shares × NAV_cons per share). ERC-4626's ``mint(shares)`` and
``withdraw(assets)`` do not exist in the model; they are expressed here through its two prices:
mint(s) deposits s·price_opt, withdraw(a) redeems a/price_cons shares. The vault state (idle USDai, a
loan with unpaid accrued interest so NAV_opt > NAV_cons, other holders' shares) is drawn by hypothesis;
no time passes between the legs of a round trip (no accrual, no market move).
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from usdai_sim.agents import borrowers as br
from usdai_sim.ledger import Ledger
from usdai_sim.model import UsdaiModel, depositors, service
from usdai_sim.params import compile_params
from usdai_sim.scenario.schema import Scenario

REL = 1e-12  # float64 round-off allowed on a round trip (the contracts' "delta")
ACTOR, OTHERS = 0, 1


def scenario() -> Scenario:
    """One borrower (its loan set by hand), two depositors who deposit their whole wallet whenever they
    have one (deposit rate 1e12/yr, hurdle −10) and never request redemption on their own (hazards 0)."""
    return Scenario.model_validate(
        {
            "simulation": {"horizon_days": 360, "paths": 1, "seed": 3},
            "markets": {"tbill": {"model": "constant"}},
            "borrowers": {
                "cohorts": [{"count": 1, "origination_day": 1000.0}],
                "demand_patience_days": 10_000,
            },
            "depositors": {
                "count": 2,
                "deposit_rate_per_year": 1e12,
                "deposit_fraction": 1.0,
                "deposit_hurdle": -10.0,
                "redeem_base_rate_per_year": 0.0,
                "spread_sensitivity_per_year": 0.0,
                "loss_sensitivity_per_year": 0.0,
                "herd_sensitivity_per_year": 0.0,
                "loss_news_sensitivity_per_year": 0.0,
                "unstaked": {"redeem_base_rate_per_year": 0.0, "inflow_rate_per_year": 0.0,
                             "loss_news_sensitivity_per_year": 0.0, "discount_sensitivity_per_year": 0.0,
                             "queue_sensitivity_per_year": 0.0},
            },
        }
    )


PARAMS = compile_params(scenario())


def vault(idle: float, loan: float, accrued: float, actor_shares: float, other_shares: float) -> UsdaiModel:
    """A one-path model: ``idle`` USDai and a performing ``loan`` with ``accrued`` unpaid interest."""
    m = UsdaiModel(PARAMS, 0, 1)
    book = m.book
    book.status[0, 0], book.principal_usd[0, 0], book.accrued_usd[0, 0] = br.ACTIVE, loan, accrued
    book.next_due_day[0, 0] = np.inf
    m.vault.reserves_usd += idle - m.vault.idle_usd
    m.vault.idle_usd[:] = idle
    d = m.depositors
    d.shares[0, :2] = [actor_shares, other_shares]  # column 2 is the arbitrageurs' book, empty
    d.wallet_usd[:] = 0.0
    m.total_shares, m.pending_total = m.count_shares()
    m._nav()
    return m


def deposit(m: UsdaiModel, assets: float) -> float:
    """ERC-4626 deposit through the depositors phase: the actor's wallet is staked; returns shares minted."""
    m.depositors.wallet_usd[0, ACTOR] = assets
    before = m.depositors.shares[0, ACTOR]
    m.ledger, m.day_end = Ledger(1), m.day
    depositors(m)
    return float(m.depositors.shares[0, ACTOR] - before)


def redeem(m: UsdaiModel, shares: float) -> float:
    """ERC-7540 request of ``shares`` now, serviced at the window end (nothing else happens); returns USD."""
    d = m.depositors
    m.ledger = Ledger(1)
    m.place_requests(np.array([0]), np.array([ACTOR]), np.array([shares]), m.day)
    before = d.wallet_usd[0, ACTOR]
    m.ledger, m.day_end = Ledger(1), float(d.window_end_day[0, ACTOR])
    service(m)
    m.day = m.day_end
    assume(d.pending_shares[0, ACTOR] == 0.0)  # fully serviced (idle USDai sufficed)
    return float(d.wallet_usd[0, ACTOR] - before)


def mint(m: UsdaiModel, shares: float) -> tuple[float, float]:
    """ERC-4626 mint(s) expressed as a deposit of s × NAV_opt per share: (assets paid, shares received)."""
    assets = shares * float(m.price_opt[0])
    return assets, deposit(m, assets)


def withdraw(m: UsdaiModel, assets: float) -> tuple[float, float]:
    """ERC-4626 withdraw(a) as a redemption of a / (NAV_cons per share) shares: (shares burned, assets)."""
    shares = assets / float(m.price_cons[0])
    return shares, redeem(m, shares)


states = st.tuples(
    st.floats(1e8, 1e9),  # idle USDai
    st.floats(0.0, 1e9),  # loan principal
    st.floats(0.0, 5e7),  # accrued unpaid interest
    st.floats(1e7, 1e9),  # other holders' shares
)
amounts = st.floats(1.0, 1e7)


@given(state=states, a=amounts)
def test_redeem_of_deposit_returns_at_most_the_deposit(state: tuple, a: float) -> None:
    """prop_RT_deposit_redeem: redeem(deposit(a)) ≤ a."""
    m = vault(state[0], state[1], state[2], 0.0, state[3])
    assert redeem(m, deposit(m, a)) <= a * (1 + REL)


@given(state=states, s=amounts)
def test_deposit_of_redeem_returns_at_most_the_shares(state: tuple, s: float) -> None:
    """prop_RT_redeem_deposit: deposit(redeem(s)) ≤ s."""
    m = vault(state[0], state[1], state[2], s, state[3])
    assert deposit(m, redeem(m, s)) <= s * (1 + REL)


@given(state=states, a=amounts)
def test_withdrawing_a_deposit_burns_at_least_the_shares_received(state: tuple, a: float) -> None:
    """prop_RT_deposit_withdraw: s = deposit(a), s' = withdraw(a) ⇒ s' ≥ s."""
    m = vault(state[0], state[1], state[2], 0.0, state[3])
    s = deposit(m, a)
    m.depositors.shares[0, ACTOR] += s  # room to burn more than was received
    s_burned, _ = withdraw(m, a)
    assert s_burned >= s * (1 - REL)


@given(state=states, s=amounts)
def test_minting_after_redeeming_costs_at_least_the_proceeds(state: tuple, s: float) -> None:
    """prop_RT_redeem_mint: a = redeem(s), a' = mint(s) ⇒ a' ≥ a."""
    m = vault(state[0], state[1], state[2], s, state[3])
    a = redeem(m, s)
    a_paid, _ = mint(m, s)
    assert a_paid >= a * (1 - REL)


@given(state=states, s=amounts)
def test_withdrawing_the_cost_of_a_mint_burns_at_least_the_shares(state: tuple, s: float) -> None:
    """prop_RT_mint_withdraw: withdraw(mint(s)) ≥ s, and the mint delivers s shares."""
    m = vault(state[0], state[1], state[2], 0.0, state[3])
    a, received = mint(m, s)
    assert received == pytest.approx(s, rel=1e-9)
    m.depositors.shares[0, ACTOR] += s
    s_burned, _ = withdraw(m, a)
    assert s_burned >= s * (1 - REL)


@given(state=states, s=amounts)
def test_redeeming_minted_shares_returns_at_most_their_cost(state: tuple, s: float) -> None:
    """prop_RT_mint_redeem: a = mint(s), a' = redeem(s) ⇒ a' ≤ a."""
    m = vault(state[0], state[1], state[2], 0.0, state[3])
    a, received = mint(m, s)
    assert redeem(m, received) <= a * (1 + REL)


@given(state=states, a=amounts)
def test_minting_back_withdrawn_shares_costs_at_least_the_withdrawal(state: tuple, a: float) -> None:
    """prop_RT_withdraw_mint: mint(withdraw(a)) ≥ a."""
    m = vault(state[0], state[1], state[2], 2 * a, state[3])
    s, got = withdraw(m, a)
    assert got == pytest.approx(a, rel=1e-9)
    a_paid, _ = mint(m, s)
    assert a_paid >= a * (1 - REL)


@given(state=states, a=amounts)
def test_depositing_a_withdrawal_gets_at_most_the_shares_burned(state: tuple, a: float) -> None:
    """prop_RT_withdraw_deposit: s = withdraw(a), s' = deposit(a) ⇒ s' ≤ s."""
    m = vault(state[0], state[1], state[2], 2 * a, state[3])
    s, _ = withdraw(m, a)
    assert deposit(m, a) <= s * (1 + REL)


@given(state=states)
def test_zero_in_zero_out_and_prices_favour_the_vault(state: tuple) -> None:
    """deposit(0) mints 0 shares; redeem(0) pays 0; deposits price at NAV_opt ≥ redemptions' NAV_cons."""
    m = vault(state[0], state[1], state[2], 1e6, state[3])
    assert m.price_opt[0] >= m.price_cons[0]
    assert deposit(m, 0.0) == 0.0
    assert redeem(m, 0.0) == 0.0


def test_pending_redeemers_share_a_loss_recognised_before_service() -> None:
    """ERC-7540: shares requested stay in the vault until serviced. Idle $600M, loan $400M, 1e9 shares
    (price 1.0); the actor requests 1e7 shares; a $100M loss (price 0.9) before the window ends pays $9M."""
    m = vault(6e8, 4e8, 0.0, 1e7, 9.9e8)
    d = m.depositors
    m.ledger = Ledger(1)
    m.place_requests(np.array([0]), np.array([ACTOR]), np.array([1e7]), 0.0)
    m.recognise_loss(np.array([[1e8]]))
    m._nav()
    m.day_end = 30.0
    service(m)
    assert d.wallet_usd[0, ACTOR] == pytest.approx(9e6, rel=1e-12)


def test_first_deposit_into_an_emptied_vault_is_worth_what_was_paid() -> None:
    """ERC-4626's empty-vault case: after every holder has redeemed, round-off can leave dust shares (here
    1e-9, from partial fills) and no assets. A $1,000 deposit must then be worth ≈ $1,000 (the price must
    not be 0 or dust/dust). Today price_opt = 0/1e-9 = 0, the deposit mints inf shares (divide by zero),
    and NAV per share becomes 0 — found by the protocol state machine after a bank run and a fraud wave."""
    m = vault(0.0, 0.0, 0.0, 0.0, 0.0)
    m.depositors.pending_shares[0, OTHERS] = 1e-9
    m.total_shares, m.pending_total = m.count_shares()
    m._nav()
    shares = deposit(m, 1000.0)
    assert np.isfinite(shares)
    assert shares * m.price_cons[0] == pytest.approx(1000.0, rel=1e-6)
