"""The per-step ledger: every flow of money (USD) and every counted event, per path.

With f the admin fee on loan interest, the optimistic NAV (idle + loans + (1 − f)·accrued) moves by
exactly the NAV-changing flows (``nav_change_usd``); originations, repayments, prepayments and
recovered principal only move value between idle USDai and loans. ``check_identities`` verifies this
and USDai supply = reserves to a relative 1e-9.
"""

from __future__ import annotations

import numpy as np

FLOWS: dict[str, str] = {
    "deposits_usd": "stablecoin deposited (USDai minted and staked)",
    "redemptions_usd": "sUSDai redemptions paid out",
    "reserve_yield_usd": "gross yield on USDai reserves (T-bills + incentive)",
    "reserve_fee_usd": "admin fee on reserve yield",
    "interest_accrued_usd": "interest accrued on performing loans (gross)",
    "interest_paid_usd": "scheduled loan interest received (settles accrual)",
    "late_interest_usd": "grace interest received on missed payments",
    "recovery_interest_usd": "interest recovered from collateral sales",
    "interest_fee_usd": "admin fee on loan interest received",
    "accrued_reversed_usd": "accrued interest dropped at default, or accrued past the final date (gross)",
    "originations_usd": "principal lent",
    "principal_repaid_usd": "scheduled principal received",
    "prepayments_usd": "principal prepaid to cure a covenant breach",
    "recovery_principal_usd": "principal recovered from collateral sales",
    "principal_loss_usd": "principal loss recognised in NAV (write-downs, sale shortfalls, less write-backs)",
    "surplus_usd": "sale proceeds above the claim kept by the protocol",
    "recourse_usd": "springing-recourse recoveries from fraudulent borrowers",
    "first_loss_usd": "losses absorbed by first-loss capital",
    "insurance_usd": "GPU value insurance payouts, paid into the sale waterfall (memo)",
    "insurance_premium_usd": "GPU value insurance premium paid",
    "sale_gross_usd": "gross collateral sale proceeds (memo)",
    "liquidation_fee_usd": "liquidation fees paid from sale proceeds (memo)",
    "borrower_surplus_usd": "sale surplus returned to borrowers (memo)",
    "unstaked_redemptions_usd": "unstaked USDai redeemed 1:1 by its holders (memo; not sUSDai value)",
    "unstaked_inflows_usd": "new unstaked USDai minted by holders in calm conditions (memo; not sUSDai value)",
    "default_expected_loss_usd": "expected loss of loans that defaulted this step, announced at default (memo)",
    "exits_usd": "sUSDai value stakers asked to take out, by sale or redemption request (memo)",
    "secondary_sales_usd": "sUSDai value sold to arbitrageurs in the secondary market, at NAV (memo)",
    "secondary_discount_usd": "discount to NAV paid by secondary-market sellers to arbitrageurs (memo)",
    "qev_burned_shares": "sUSDai burned in QEV priority bids (shares)",
    "qev_admin_shares": "sUSDai paid to the admin from QEV bids (shares)",
}
EVENTS: dict[str, str] = {
    "loans_originated": "loans funded",
    "loans_repaid": "loans repaid in full at maturity",
    "defaults_payment": "payment defaults (grace expired)",
    "defaults_strategic": "strategic defaults (owner walked away: below its default boundary, or collateral barrier)",
    "defaults_fraud": "fraud defaults",
    "defaults_covenant": "maintenance-LTV covenant defaults",
    "collateral_sales": "defaulted fleets sold",
    "demand_lapsed": "loan requests that lapsed unfunded",
    "demand_declined": "loan requests declined by underwriting (debt-service coverage below the floor)",
    "deposits": "deposits made",
    "mints_rejected": "deposits rejected by the USDai supply cap",
    "redemption_requests": "redemption requests made",
    "redemptions_completed": "redemption requests fully serviced",
}
COLUMNS = tuple(FLOWS) + tuple(EVENTS)


class Ledger:
    """One step's flows and events, each (n_paths,)."""

    def __init__(self, n_paths: int) -> None:
        self.values = np.zeros((len(COLUMNS), n_paths))
        self._index = {name: i for i, name in enumerate(COLUMNS)}

    def add(self, name: str, amount: np.ndarray | float) -> None:
        """Add a per-path amount; a (P, N) array is summed over its second axis."""
        amount = np.asarray(amount, dtype=float)
        self.values[self._index[name]] += amount.sum(axis=1) if amount.ndim == 2 else amount

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[self._index[name]]


def nav_change_usd(ledger: Ledger, interest_fee_fraction: float) -> np.ndarray:
    """ΔNAV_opt implied by the flows (module docstring), per path."""
    keep = 1.0 - interest_fee_fraction
    g = ledger.__getitem__
    accrued_change = keep * (g("interest_accrued_usd") - g("interest_paid_usd") - g("accrued_reversed_usd"))
    interest_cash = (
        g("interest_paid_usd") + g("late_interest_usd") + g("recovery_interest_usd") - g("interest_fee_usd")
    )
    external = (
        g("deposits_usd")
        - g("redemptions_usd")
        + g("first_loss_usd")
        - g("insurance_premium_usd")
    )
    income = g("reserve_yield_usd") - g("reserve_fee_usd") + g("surplus_usd") + g("recourse_usd")
    return external + income + interest_cash + accrued_change - g("principal_loss_usd")


def gross_flows_usd(ledger: Ledger) -> np.ndarray:
    """Σ|flow| of the step per path (USD): the size of what moved, which round-off of emptying balances scales with."""
    return np.abs(ledger.values[: len(FLOWS)]).sum(axis=0)


def roundoff_scale_usd(
    previous_usd: np.ndarray, ledger: Ledger, supply: np.ndarray, reserves: np.ndarray
) -> np.ndarray:
    """Running round-off scale of the USDai books per path (USD): the largest of its previous value, this step's
    gross flows Σ|flow| and the supply and reserves now.

    Supply and reserves are two running sums; their gap is round-off of the largest amounts that ever passed
    through them, and it stays after they shrink (seen: 5e16 USD deposited and redeemed leaves a 1.79 USD gap
    on a supply of 2e8, 8e-9 of it). Never decreases.
    """
    return np.maximum.reduce([previous_usd, gross_flows_usd(ledger), np.abs(supply), np.abs(reserves)])


def identity_errors(
    nav_before: np.ndarray,
    nav_after: np.ndarray,
    ledger: Ledger,
    fee: float,
    supply: np.ndarray,
    reserves: np.ndarray,
    backing_scale_usd: float | np.ndarray = 1.0,
) -> list[str]:
    """Broken identities this step (empty when the books balance to a relative 1e-9): the NAV identity relative to
    max(NAV before, NAV after, this step's gross flows) — a NAV computed from flows of 1e13 carries their
    round-off even when it ends near zero; the backing check relative to max(reserves, this step's gross flows,
    ``backing_scale_usd``) (per path: ``roundoff_scale_usd``), so round-off of a fully redeemed supply is not a gap.

    NaN or infinity in any input is reported on its own (comparisons with NaN are false, so it would
    otherwise pass every identity silently).
    """
    named = (("NAV before", nav_before), ("NAV after", nav_after), ("ledger", ledger.values),
             ("USDai supply", supply), ("reserves", reserves))
    non_finite = [name for name, values in named if not np.all(np.isfinite(values))]
    if non_finite:
        return [f"NaN or infinity in {', '.join(non_finite)}"]
    problems = []
    flows = gross_flows_usd(ledger)
    # round-off of the larger side: the NAV before or after, or the step's gross flows it was computed from
    scale = np.maximum.reduce([np.abs(nav_before), np.abs(nav_after), flows, np.ones_like(flows)])
    gap = nav_after - nav_before - nav_change_usd(ledger, fee)
    if np.any(np.abs(gap) > 1e-9 * scale):
        worst = int(np.argmax(np.abs(gap) / scale))
        problems.append(f"NAV moved by flows it cannot explain: gap {gap[worst]:.6g} USD on path {worst}")
    floor = np.maximum(flows, np.maximum(backing_scale_usd, 1.0))
    backing = np.abs(supply - reserves) > 1e-9 * np.maximum(np.abs(reserves), floor)
    if np.any(backing):
        worst = int(np.argmax(backing))
        problems.append(f"USDai supply {supply[worst]:.2f} != reserves {reserves[worst]:.2f} on path {worst}")
    return problems
