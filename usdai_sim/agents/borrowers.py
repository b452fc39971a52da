"""GPU operators: their state arrays (n_paths, n_borrowers), their vectorised rules, and agent views.

Operating cash flow of an operator with an active loan, per GPU-hour (USD), with s its contracted share
(take-or-pay, billed at the contract price p_c), u the utilisation of the rest (billed at the spot rental R):
    revenue = s·p_c + (1 − s)·u·R
    opex    = kW · PUE · $/kWh · (idle + (1 − idle)·(s + (1 − s)·u)) + (kW · colocation + overhead + repairs)/720
              (colocation in $/kW-month; overhead and repairs in $/GPU-month; 720 hours a month)
Over dt days: cash ← max(cash + 24·dt·GPUs·(revenue − opex), 0): an SPV cannot go below zero, and a
shortfall at a payment date is met by the reserve, then by the sponsor's bounded support (``collect``).
Contract book (a ladder of contracts of average length L months, expiring evenly), held in equal parts by
n customers (``renter_customers``). Each customer fails at hazard h = h₀·(p_c/(f·R))^k per year, so one of
them fails within a step with probability q = 1 − e^{−n·h·dt/365} (two in one step neglected); a failure
(uniform U < q) sends that customer's part s/n to spot and loses its unpaid billing, ``receivable_days`` of
it, from cash: (s/n)·p_c·GPUs·24·receivable_days USD. Then a fraction a = dt/(30·L) of the target book is
(re)signed at the then-current market f·R (a new customer takes the failed one's place):
    s' = s·(1 − 1[U<q]/n)·(1 − a) + s*·a,    p_c' = (s·(1 − 1[U<q]/n)·(1 − a)·p_c + s*·a·f·R) / s'
so a rental crash reaches contracted revenue as contracts roll off, not on day 1, and a customer's failure
hits one operator hard rather than every operator a little. E[s'] = s·(1 − q/n)·(1 − a) + s*·a; as n → ∞
the book decays smoothly at e^{−h·dt/365}; h₀ = 0 gives the plain ladder; a higher h₀ (same U) fails no fewer
customers.
Hardware is permanently lost at rate λ per year: GPUs ← GPUs · exp(−λ·dt/365) (expected fleet), unless
insured; repairable failures are a cost (repairs per GPU-month).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from usdai_sim.agents.base import ColumnAgent
from usdai_sim.agents.default_option import BoundaryTable
from usdai_sim.params import DAYS_PER_YEAR, HOURS_PER_DAY, PAYMENT_INTERVAL_DAYS, BorrowerParams
from usdai_sim.protocol.loans import accrual, scheduled_payment

PENDING, ACTIVE, REPAID, DEFAULTED, CLOSED, LAPSED = range(6)
ROUTES = ("payment", "strategic", "fraud", "covenant")
ROUTE_PAYMENT, ROUTE_STRATEGIC, ROUTE_FRAUD, ROUTE_COVENANT = 1, 2, 3, 4


@dataclass
class BorrowerBook:
    """Dynamic state of every borrower on every path; each array is (n_paths, n_borrowers)."""

    status: np.ndarray
    gpus: np.ndarray
    idio_log: np.ndarray
    util_logit: np.ndarray
    principal_usd: np.ndarray
    apr: np.ndarray
    payments_left: np.ndarray
    next_due_day: np.ndarray
    accrued_usd: np.ndarray
    due_interest_usd: np.ndarray
    due_principal_usd: np.ndarray
    late_interest_usd: np.ndarray
    grace_until_day: np.ndarray
    cash_usd: np.ndarray
    dsra_usd: np.ndarray
    contract_price_usd_per_gpu_hour: np.ndarray
    breach_until_day: np.ndarray
    default_day: np.ndarray
    default_route: np.ndarray
    sale_day: np.ndarray
    ead_usd: np.ndarray
    claim_interest_usd: np.ndarray
    writedown_usd: np.ndarray
    recourse_day: np.ndarray
    recourse_usd: np.ndarray
    originated_usd: np.ndarray
    appraised_usd: np.ndarray
    recovered_usd: np.ndarray
    loss_usd: np.ndarray
    contracted_share: np.ndarray
    revenue0_usd_per_year: np.ndarray
    revenue_usd_per_year: np.ndarray
    cost_ratio: np.ndarray
    debt_ratio: np.ndarray
    sponsor_left_usd: np.ndarray
    walked: np.ndarray
    default_state: np.ndarray
    default_boundary: np.ndarray
    request_day: np.ndarray
    loans: np.ndarray
    recovered_reserve_usd: np.ndarray
    recovered_gpu_usd: np.ndarray
    recovered_recourse_usd: np.ndarray
    gpus_sold: np.ndarray

    @classmethod
    def new(cls, bp: BorrowerParams, n_paths: int) -> BorrowerBook:
        """Every borrower pending (no loan yet), on every path."""
        shape = (n_paths, bp.count)
        zeros = {f.name: np.zeros(shape) for f in fields(cls)}
        for name in ("grace_until_day", "breach_until_day", "default_day", "sale_day", "recourse_day"):
            zeros[name] = np.full(shape, np.inf)
        zeros["status"] = np.full(shape, PENDING, dtype=np.int8)
        zeros["default_route"] = np.zeros(shape, dtype=np.int8)
        zeros["payments_left"] = np.zeros(shape, dtype=np.int32)
        zeros["gpus"] = np.broadcast_to(bp.gpus, shape).copy()
        zeros["util_logit"] = np.broadcast_to(bp.utilisation_logit, shape).copy()
        zeros["contracted_share"] = np.broadcast_to(bp.contracted_share, shape).copy()
        zeros["request_day"] = np.broadcast_to(bp.origination_day, shape).copy()
        zeros["walked"] = np.zeros(shape, dtype=bool)
        zeros["loans"] = np.zeros(shape, dtype=np.int32)
        for name in ("default_state", "default_boundary"):
            zeros[name] = np.full(shape, np.nan)
        return cls(**zeros)

    def take(self, rows: np.ndarray, cols: np.ndarray, names: tuple[str, ...]) -> BorrowerBook:
        """A 1-D book of the loans at (rows[k], cols[k]) holding the fields ``names`` (others left empty):
        the same rules then run on it, touching only those loans."""
        empty = np.empty(0)
        return BorrowerBook(**{f.name: getattr(self, f.name)[rows, cols] if f.name in names else empty
                               for f in fields(self)})

    def put(self, sub: BorrowerBook, rows: np.ndarray, cols: np.ndarray, names: tuple[str, ...]) -> None:
        """Write the fields ``names`` of a book taken with ``take`` back into place."""
        for name in names:
            getattr(self, name)[rows, cols] = getattr(sub, name)

    def carrying_usd(self) -> np.ndarray:
        """Carrying value of each loan in NAV: principal − write-down while active or awaiting sale."""
        live = (self.status == ACTIVE) | (self.status == DEFAULTED)
        return np.where(live, self.principal_usd - self.writedown_usd, 0.0)

    def active_accrued_usd(self) -> np.ndarray:
        """Accrued, unpaid interest of performing loans (the optimistic NAV's extra)."""
        return np.where(self.status == ACTIVE, self.accrued_usd, 0.0)


HOURS_PER_MONTH = HOURS_PER_DAY * PAYMENT_INTERVAL_DAYS


def operating_rates(
    bp: BorrowerParams,
    share: np.ndarray,
    contract_price: np.ndarray,
    spot_usd_per_gpu_hour: np.ndarray,
    utilisation: np.ndarray,
    power_kw_per_gpu: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(revenue, opex) per GPU-hour, USD (module docstring); arguments broadcast."""
    busy = share + (1.0 - share) * utilisation
    revenue = share * contract_price + (1.0 - share) * utilisation * spot_usd_per_gpu_hour
    power = (
        power_kw_per_gpu
        * bp.pue
        * bp.power_usd_per_kwh
        * (bp.idle_power_fraction + (1.0 - bp.idle_power_fraction) * busy)
    )
    monthly = (
        power_kw_per_gpu * bp.colocation_usd_per_kw_month + bp.overhead_usd_per_gpu_month + bp.repair_usd_per_gpu_month
    )
    fixed = monthly / HOURS_PER_MONTH
    return revenue, power + fixed


def debt_service_coverage(
    revenue_usd_per_gpu_hour: np.ndarray, opex_usd_per_gpu_hour: np.ndarray, payment_usd_per_gpu: np.ndarray
) -> np.ndarray:
    """DSCR = (revenue − opex) · 720 h / monthly debt service per GPU: a month of EBITDA over a month of
    payments (dimensionless; inf when nothing is owed). Used by underwriting and the calibration page."""
    with np.errstate(divide="ignore"):
        return (revenue_usd_per_gpu_hour - opex_usd_per_gpu_hour) * HOURS_PER_MONTH / payment_usd_per_gpu


def roll_contracts(
    book: BorrowerBook, bp: BorrowerParams, spot_usd_per_gpu_hour: np.ndarray, dt_days: float, uniform: np.ndarray
) -> np.ndarray:
    """Customer failures and roll-off/renewal of the contract book of active loans (module docstring);
    ``uniform`` is one U(0,1) per loan. Returns the mask of loans that lost a customer this step."""
    active = book.status == ACTIVE
    market = bp.contract_price_fraction * spot_usd_per_gpu_hour
    with np.errstate(divide="ignore", invalid="ignore"):
        over = np.where(market > 0, book.contract_price_usd_per_gpu_hour / market, 1.0)
    hazard = bp.renter_default_rate_per_year * over**bp.renter_default_elasticity
    failed = active & (book.contracted_share > 0) & (
        uniform < -np.expm1(-bp.renter_customers * hazard * dt_days / DAYS_PER_YEAR)
    )
    lost_share = np.where(failed, book.contracted_share / bp.renter_customers, 0.0)
    unpaid = lost_share * book.contract_price_usd_per_gpu_hour * book.gpus * HOURS_PER_DAY * bp.receivable_days
    book.cash_usd = np.maximum(book.cash_usd - unpaid, 0.0)
    renew = np.minimum(dt_days / (PAYMENT_INTERVAL_DAYS * bp.contract_months), 1.0)
    kept = (book.contracted_share - lost_share) * (1.0 - renew)
    signed = bp.contracted_share * renew
    share = kept + signed
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(share > 0, (kept * book.contract_price_usd_per_gpu_hour + signed * market) / share, market)
    book.contracted_share = np.where(active, share, book.contracted_share)
    book.contract_price_usd_per_gpu_hour = np.where(active, price, book.contract_price_usd_per_gpu_hour)
    return failed


def operate(
    book: BorrowerBook,
    bp: BorrowerParams,
    spot_usd_per_gpu_hour: np.ndarray,
    utilisation: np.ndarray,
    power_kw_per_gpu: np.ndarray,
    dt_days: float,
    uniform: np.ndarray,
) -> np.ndarray:
    """Roll the contract book, add one step's operating cash flow to active borrowers' cash; return revenue.

    The revenue rate the owner judges its business by (``revenue_usd_per_year``, USD/yr) is the exponential
    average of the daily rate with a 30-day time constant — a month's P&L, not one day's utilisation.
    """
    roll_contracts(book, bp, spot_usd_per_gpu_hour, dt_days, uniform)
    active = book.status == ACTIVE
    revenue_rate, opex_rate = operating_rates(
        bp, book.contracted_share, book.contract_price_usd_per_gpu_hour, spot_usd_per_gpu_hour, utilisation,
        power_kw_per_gpu,
    )
    hours = HOURS_PER_DAY * dt_days
    revenue = np.where(active, book.gpus * hours * revenue_rate, 0.0)
    now = book.gpus * revenue_rate * HOURS_PER_DAY * DAYS_PER_YEAR
    weight = -np.expm1(-dt_days / PAYMENT_INTERVAL_DAYS)
    book.revenue_usd_per_year = np.where(
        active, book.revenue_usd_per_year + weight * (now - book.revenue_usd_per_year), 0.0
    )
    book.cash_usd = np.where(
        active, np.maximum(book.cash_usd + revenue - book.gpus * hours * opex_rate, 0.0), book.cash_usd
    )
    decay = np.where(bp.insured_hardware, 1.0, np.exp(-bp.failure_rate_per_year * dt_days / DAYS_PER_YEAR))
    live = active | (book.status == DEFAULTED)
    book.gpus = np.where(live, book.gpus * decay, book.gpus)
    return revenue


def accrue(book: BorrowerBook, bp: BorrowerParams, grace_apr_premium: float, dt_days: float) -> np.ndarray:
    """Accrue interest on active balances and grace interest on missed payments; return the accrual (P, B)."""
    active = book.status == ACTIVE
    accrued = np.where(active, accrual(book.principal_usd, book.apr, dt_days), 0.0)
    book.accrued_usd += accrued
    in_grace = active & np.isfinite(book.grace_until_day)
    missed = book.due_interest_usd + book.due_principal_usd
    book.late_interest_usd += np.where(in_grace, accrual(missed, book.apr + grace_apr_premium, dt_days), 0.0)
    return accrued


PAYMENT_FIELDS = (
    "status", "principal_usd", "apr", "payments_left", "next_due_day", "accrued_usd", "due_interest_usd",
    "due_principal_usd", "late_interest_usd", "grace_until_day", "cash_usd", "dsra_usd", "sponsor_left_usd",
    "walked",
)
"""The loan fields the payment rule reads or writes."""
DEFAULT_FIELDS = (
    "status", "default_route", "default_day", "sale_day", "ead_usd", "claim_interest_usd", "principal_usd",
    "accrued_usd", "late_interest_usd", "gpus", "grace_until_day", "breach_until_day", "cash_usd", "dsra_usd",
    "walked",
)
"""The loan fields a default writes or reads."""


@dataclass
class Payments:
    """Cash the lender received this step, (P, B) each (USD)."""

    interest_usd: np.ndarray
    principal_usd: np.ndarray
    late_interest_usd: np.ndarray


def _schedule_due(book: BorrowerBook, bp: BorrowerParams, day: float, tbill: np.ndarray) -> np.ndarray:
    """Fix the amounts of payments falling due this step at the rate that accrued over the period;
    floating loans then reset to T-bill + spread for the next period."""
    due = (book.status == ACTIVE) & ~np.isfinite(book.grace_until_day) & (book.next_due_day <= day)
    interest, principal = scheduled_payment(book.principal_usd, book.apr, book.payments_left, bp.interest_only)
    book.due_interest_usd = np.where(due, interest, book.due_interest_usd)
    book.due_principal_usd = np.where(due, principal, book.due_principal_usd)
    book.apr = np.where(due & bp.floating, tbill + bp.floating_spread, book.apr)
    return due


def _spend(book: BorrowerBook, pay: np.ndarray, amount_usd: np.ndarray) -> None:
    """Pay ``amount`` where ``pay``, from cash first, then the debt-service reserve."""
    from_cash = np.where(pay, np.minimum(book.cash_usd, amount_usd), 0.0)
    book.cash_usd -= from_cash
    book.dsra_usd -= np.where(pay, amount_usd - from_cash, 0.0)


def collect(
    book: BorrowerBook,
    bp: BorrowerParams,
    day: float,
    tbill: np.ndarray,
    grace_days: float,
    collateral: np.ndarray,
) -> tuple[Payments, np.ndarray]:
    """Collect due and overdue payments; start grace on misses; return (payments, matured mask), (P, B).

    Only loans with a payment due or overdue are touched (gathered, processed by ``collect_loans``, put back).
    """
    live = book.status == ACTIVE
    rows, cols = np.nonzero(live & ((book.next_due_day <= day) | np.isfinite(book.grace_until_day)))
    sub = book.take(rows, cols, PAYMENT_FIELDS)
    paid_sub, matured_sub = collect_loans(
        sub, bp.take(rows, cols), day, tbill[rows], grace_days, collateral[rows, cols]
    )
    book.put(sub, rows, cols, PAYMENT_FIELDS)
    dense = [np.zeros(book.status.shape) for _ in range(3)]
    for arr, values in zip(
        dense, (paid_sub.interest_usd, paid_sub.principal_usd, paid_sub.late_interest_usd), strict=True
    ):
        arr[rows, cols] = values
    matured = np.zeros(book.status.shape, bool)
    matured[rows, cols] = matured_sub
    return Payments(*dense), matured


def collect_loans(
    book: BorrowerBook,
    bp: BorrowerParams,
    day: float,
    tbill: np.ndarray,
    grace_days: float,
    collateral: np.ndarray,
) -> tuple[Payments, np.ndarray]:
    """The payment rule on loan arrays of any shape (``tbill`` broadcast to them).

    A payment is met from cash, then the reserve, then the sponsor's remaining support (bounded: USD left
    of ``sponsor_support_months`` of debt service); an operator that has walked (``walked``) pays nothing.
    A final payment the borrower cannot meet from cash and reserve is refinanced against the fleet:
    a new lender advances up to refinance_ltv × collateral value (so a bullet loan defaults at
    maturity exactly when cash + reserve + refinance_ltv · V_T < what is owed, as in Merton's model).
    """
    due = _schedule_due(book, bp, day, tbill)
    attempt = (due | ((book.status == ACTIVE) & np.isfinite(book.grace_until_day))) & ~book.walked
    amount = book.due_interest_usd + book.due_principal_usd + book.late_interest_usd
    final = book.payments_left <= 1
    refinance = np.where(
        final, np.clip(amount - book.cash_usd - book.dsra_usd, 0.0, bp.refinance_ltv * collateral), 0.0
    )
    support = np.clip(amount - book.cash_usd - book.dsra_usd - refinance, 0.0, book.sponsor_left_usd)
    pay = attempt & (book.cash_usd + book.dsra_usd + refinance + support >= amount)
    book.cash_usd += np.where(pay, refinance + support, 0.0)
    book.sponsor_left_usd -= np.where(pay, support, 0.0)
    _spend(book, pay, amount)
    paid = Payments(
        interest_usd=np.where(pay, book.due_interest_usd, 0.0),
        principal_usd=np.where(pay, book.due_principal_usd, 0.0),
        late_interest_usd=np.where(pay, book.late_interest_usd, 0.0),
    )
    book.principal_usd -= paid.principal_usd
    book.accrued_usd = np.maximum(book.accrued_usd - paid.interest_usd, 0.0)
    book.payments_left -= pay.astype(np.int32)
    book.next_due_day += np.where(pay, PAYMENT_INTERVAL_DAYS, 0.0)
    book.late_interest_usd = np.where(pay, 0.0, book.late_interest_usd)
    book.grace_until_day = np.where(pay, np.inf, book.grace_until_day)
    book.grace_until_day = np.where(due & ~pay, book.next_due_day + grace_days, book.grace_until_day)
    matured = pay & (book.payments_left <= 0)
    book.status = np.where(matured, REPAID, book.status).astype(np.int8)
    book.accrued_usd = np.where(matured, 0.0, book.accrued_usd)  # days past the last date are not owed
    _refill_reserve_and_sweep(book, bp, pay & ~matured)
    return paid, matured


def next_payment_usd(book: BorrowerBook, bp: BorrowerParams) -> np.ndarray:
    """The payment the current schedule implies for the next date (USD)."""
    interest, principal = scheduled_payment(
        book.principal_usd, book.apr, book.payments_left, bp.interest_only
    )
    return interest + principal


def _refill_reserve_and_sweep(book: BorrowerBook, bp: BorrowerParams, paid: np.ndarray) -> None:
    """After a payment: top the reserve up to its target from cash, then distribute cash above the sweep level."""
    payment = next_payment_usd(book, bp)
    top_up = np.where(paid, np.clip(bp.dsra_months * payment - book.dsra_usd, 0.0, book.cash_usd), 0.0)
    book.dsra_usd += top_up
    book.cash_usd -= top_up
    book.cash_usd = np.where(paid, np.minimum(book.cash_usd, bp.sweep_months * payment), book.cash_usd)


def collateral_usd(book: BorrowerBook, value_usd_per_gpu: np.ndarray) -> np.ndarray:
    """Resale value of each borrower's remaining fleet (USD)."""
    return book.gpus * value_usd_per_gpu


def covenant_check(book: BorrowerBook, bp: BorrowerParams, collateral: np.ndarray, day: float) -> np.ndarray:
    """Maintenance-LTV covenant: a breach must be cured (principal prepaid from cash) within the cure period.

    Breach when principal > maintenance_ltv · collateral; the cure prepays principal − mLTV·collateral
    from cash as soon as cash allows. Returns the prepayment (P, B), USD.
    """
    if not np.isfinite(bp.maintenance_ltv).any():
        return np.zeros(book.status.shape)
    active = (book.status == ACTIVE) & np.isfinite(bp.maintenance_ltv)
    limit = np.nan_to_num(bp.maintenance_ltv) * collateral
    excess = np.where(active, np.maximum(book.principal_usd - limit, 0.0), 0.0)
    prepay = np.where((excess > 0) & (book.cash_usd >= excess), excess, 0.0)
    book.cash_usd -= prepay
    book.principal_usd -= prepay
    breached = (excess > 0) & (prepay == 0)
    newly = breached & ~np.isfinite(book.breach_until_day)
    book.breach_until_day = np.where(newly, day + bp.cure_days, book.breach_until_day)
    book.breach_until_day = np.where(breached, book.breach_until_day, np.inf)
    return prepay


def decide_walk(
    book: BorrowerBook, bp: BorrowerParams, day: float, tables: list[BoundaryTable | None]
) -> np.ndarray:
    """At its payment date, each performing loan's owner compares its revenue factor x = revenue now /
    revenue at origination with its cohort's default boundary x_B(payments left, cost ratio, debt ratio)
    and walks away when x < x_B (``agents/default_option.py``). Marks ``walked`` and records x and x_B for
    the walkers; returns the walkers (P, B). Cohorts without a table (``collateral_barrier``) never walk here.
    """
    walk = np.zeros(book.status.shape, bool)
    due = (book.status == ACTIVE) & ~np.isfinite(book.grace_until_day) & (book.next_due_day <= day)
    rows, cols = np.nonzero(due)
    if rows.size == 0:
        return walk
    revenue0 = book.revenue0_usd_per_year[rows, cols]
    x = np.where(revenue0 > 0, book.revenue_usd_per_year[rows, cols] / np.maximum(revenue0, 1e-300), np.inf)
    boundary = np.full(rows.size, -np.inf)
    for g, table in enumerate(tables):
        sel = bp.cohort[cols] == g
        if table is not None and sel.any():
            r, c = rows[sel], cols[sel]
            boundary[sel] = table.lookup(book.payments_left[r, c], book.cost_ratio[r, c], book.debt_ratio[r, c])
    walking = x < boundary
    r, c = rows[walking], cols[walking]
    walk[r, c] = True
    book.walked[r, c] = True
    book.default_state[r, c] = x[walking]
    book.default_boundary[r, c] = boundary[walking]
    return walk


def default_routes(
    book: BorrowerBook,
    bp: BorrowerParams,
    collateral: np.ndarray,
    day: float,
    fraud_probability: np.ndarray,
    uniforms: np.ndarray,
    barrier: bool,
) -> np.ndarray:
    """Route of each new default this step (0 = none); fraud > payment > covenant > strategic.

    Strategic: the owner walked at a payment date (``decide_walk``), or, under the Black–Cox
    ``collateral_barrier`` rule (``barrier``), collateral < walk_ratio × principal at any step.
    """
    active = book.status == ACTIVE
    fraud = active & (uniforms < fraud_probability)
    payment = active & (book.grace_until_day <= day)
    covenant = active & (book.breach_until_day <= day)
    strategic = active & book.walked
    if barrier:
        strategic |= active & (collateral < bp.walk_ratio * book.principal_usd)
    route = np.select(
        [fraud, payment, covenant, strategic],
        [ROUTE_FRAUD, ROUTE_PAYMENT, ROUTE_COVENANT, ROUTE_STRATEGIC],
        0,
    )
    return route.astype(np.int8)


def start_defaults(
    book: BorrowerBook, bp: BorrowerParams, route: np.ndarray, day: float, time_to_sell_days: float
) -> np.ndarray:
    """Move newly defaulted loans to DEFAULTED; schedule the sale; return accrued interest reversed (P, B).

    Fraud removes the missing fraction of the fleet and empties the SPV's cash and reserve (assumption: the
    operator controls the SPV's accounts; Maple/Orthogonal 2022 lost ~93%). The lender's interest claim becomes
    accrued + grace interest; accrual stops. Only the defaulting loans are touched.
    """
    reversed_usd = np.zeros(route.shape)
    rows, cols = np.nonzero(route)
    if rows.size == 0:
        return reversed_usd
    sub = book.take(rows, cols, DEFAULT_FIELDS)
    new_route = route[rows, cols]
    sub.status[:] = DEFAULTED
    sub.default_route[:] = new_route
    sub.default_day[:] = day
    sub.sale_day[:] = day + time_to_sell_days
    sub.ead_usd[:] = sub.principal_usd
    sub.claim_interest_usd[:] = sub.accrued_usd + sub.late_interest_usd
    reversed_usd[rows, cols] = sub.accrued_usd
    sub.accrued_usd[:] = 0.0
    fraud = new_route == ROUTE_FRAUD
    sub.gpus *= np.where(fraud, 1.0 - bp.at("fraud_missing_fraction", rows, cols), 1.0)
    sub.cash_usd[:] = np.where(fraud, 0.0, sub.cash_usd)  # a fraudulent operator's SPV accounts are empty
    sub.dsra_usd[:] = np.where(fraud, 0.0, sub.dsra_usd)
    sub.grace_until_day[:] = np.inf
    sub.breach_until_day[:] = np.inf
    sub.walked[:] = False
    book.put(sub, rows, cols, DEFAULT_FIELDS)
    return reversed_usd


class Borrower(ColumnAgent):
    """One GPU operator; its state is column ``col`` of the model's BorrowerBook, on every path."""

    @property
    def gpu_class(self) -> str:
        """The class of its fleet."""
        return self.model.params.classes.names[self.model.params.borrowers.class_index[self.col]]

    @property
    def principal_usd(self) -> np.ndarray:
        """Outstanding principal on each path, (n_paths,)."""
        return self.model.book.principal_usd[:, self.col]

    @property
    def status(self) -> np.ndarray:
        """Loan status code on each path (PENDING, ACTIVE, REPAID, DEFAULTED, CLOSED, LAPSED)."""
        return self.model.book.status[:, self.col]

    @property
    def ltv(self) -> np.ndarray:
        """Outstanding principal / collateral resale value on each path."""
        value = self.model.collateral_usd[:, self.col]
        return np.divide(self.principal_usd, value, out=np.full_like(value, np.inf), where=value > 0)
