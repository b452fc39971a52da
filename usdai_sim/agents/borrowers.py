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

from dataclasses import dataclass, field, fields

import numpy as np

from usdai_sim.agents import borrower_kernel as bk
from usdai_sim.agents.base import ColumnAgent
from usdai_sim.agents.borrower_kernel import (  # noqa: F401 - the status, route and part codes live with the kernel
    ACCRUE,
    ACTIVE,
    ALL_PARTS,
    CLOSED,
    COLLECT,
    COVENANT,
    DEFAULTED,
    LAPSED,
    OPERATE,
    PENDING,
    REPAID,
    ROUTE,
    ROUTE_COVENANT,
    ROUTE_FRAUD,
    ROUTE_PAYMENT,
    ROUTE_STRATEGIC,
    WALK,
    YEARS_ON_BOOK_BINS,
)
from usdai_sim.agents.default_option import BoundaryStack, BoundaryTable
from usdai_sim.jit import python_rule
from usdai_sim.params import DAYS_PER_YEAR, HOURS_PER_DAY, PAYMENT_INTERVAL_DAYS, BorrowerParams

ROUTES = ("payment", "strategic", "fraud", "covenant")


VALUE_FIELDS = ("status", "principal_usd", "writedown_usd", "accrued_usd")
"""The loan fields ``carrying_usd`` and ``active_accrued_usd`` read."""


@dataclass
class BorrowerBook:
    """Dynamic state of every borrower on every path; each array is (n_paths, n_borrowers)."""

    status: np.ndarray
    gpus: np.ndarray
    idio_log: np.ndarray
    util_logit: np.ndarray
    operator_log: np.ndarray
    active_days: np.ndarray
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

    def rows(self, paths: np.ndarray, names: tuple[str, ...] = VALUE_FIELDS) -> BorrowerBook:
        """A (len(paths), n_borrowers) copy of the book on ``paths`` holding the fields ``names`` (others left
        empty); by default the fields the loans' carrying value and accrued interest are read from."""
        empty = np.empty((0, 0))
        return BorrowerBook(**{f.name: getattr(self, f.name)[paths] if f.name in names else empty
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
    """(revenue, opex) per GPU-hour, USD (``borrower_kernel.operating_rate``, on arrays); arguments broadcast."""
    power, fixed = _power_and_fixed_usd_per_gpu_hour(bp, power_kw_per_gpu)
    rates: tuple[np.ndarray, np.ndarray] = python_rule(bk.operating_rate)(
        share, contract_price, spot_usd_per_gpu_hour, utilisation, power, bp.idle_power_fraction, fixed
    )
    return rates


def _power_and_fixed_usd_per_gpu_hour(
    bp: BorrowerParams, power_kw_per_gpu: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(power cost at full load, fixed cost) per GPU-hour, USD: kW · PUE · $/kWh, and (kW · colocation +
    overhead + repairs) / 720 (colocation in $/kW-month; overhead and repairs in $/GPU-month)."""
    monthly = (
        power_kw_per_gpu * bp.colocation_usd_per_kw_month + bp.overhead_usd_per_gpu_month + bp.repair_usd_per_gpu_month
    )
    return power_kw_per_gpu * bp.pue * bp.power_usd_per_kwh, monthly / HOURS_PER_MONTH


def debt_service_coverage(
    revenue_usd_per_gpu_hour: np.ndarray, opex_usd_per_gpu_hour: np.ndarray, payment_usd_per_gpu: np.ndarray
) -> np.ndarray:
    """DSCR = (revenue − opex) · 720 h / monthly debt service per GPU: a month of EBITDA over a month of
    payments (dimensionless; inf when nothing is owed). Used by underwriting and the calibration page."""
    with np.errstate(divide="ignore"):
        return (revenue_usd_per_gpu_hour - opex_usd_per_gpu_hour) * HOURS_PER_MONTH / payment_usd_per_gpu


def projected_coverage(
    bp: BorrowerParams, spot_usd_per_gpu_hour: np.ndarray, contract_price_usd_per_gpu_hour: np.ndarray,
    utilisation: np.ndarray, power_kw_per_gpu: np.ndarray, payment_usd_per_gpu: np.ndarray,
    spot_log_change: np.ndarray,
) -> np.ndarray:
    """The lowest DSCR over a new loan's payment dates on the market's median path, (k,) for k requests
    (underwriting with ``protocol.allocation.dscr_basis: expected_path``).

    At payment m = 1..n (τ_m = 30m/365 years; ``spot_log_change`` (k, n) is ĝ(τ_m), ``valuation.median_log_change``,
    and +inf past a request's last payment): spot R_m = R·e^{ĝ_m}; the contract book renews at the model's
    speed, so e^{−m/L} of it is still at the price signed p_c and the rest at f·R_m; the fleet survives
    e^{−λτ_m} (1 if insured); revenue and opex per GPU-hour by ``operating_rates`` at today's utilisation;
        DSCR_m = (revenue_m − opex_m) · 720 h · survival_m / payment per GPU at origination.
    Limits: ĝ = 0, λ = 0 and a book signed at today's market (p_c = f·R) → every DSCR_m is today's DSCR.
    Monotone: a lower ĝ (deeper expected decline) gives no higher coverage.
    """
    after = np.isinf(spot_log_change.T)  # (n, k): payment dates down, requests across, so (k,) parameters broadcast
    months = np.arange(1, after.shape[0] + 1)[:, None]
    tau = months * PAYMENT_INTERVAL_DAYS / DAYS_PER_YEAR
    spot = spot_usd_per_gpu_hour * np.exp(np.where(after, 0.0, spot_log_change.T))
    kept = np.exp(-months / bp.contract_months)
    price = kept * contract_price_usd_per_gpu_hour + (1.0 - kept) * bp.contract_price_fraction * spot
    revenue, opex = operating_rates(bp, bp.contracted_share, price, spot, utilisation, power_kw_per_gpu)
    survival = np.where(bp.insured_hardware, 1.0, np.exp(-bp.failure_rate_per_year * tau))
    dscr = debt_service_coverage(revenue, opex, payment_usd_per_gpu / survival)
    return np.min(np.where(after, np.inf, dscr), axis=0)


def _param(values: np.ndarray | float, dtype: type = np.float64) -> np.ndarray:
    """A parameter as a 2-D array the kernels broadcast (``borrower_kernel.at``): (P, B), (1, B) or (1, 1);
    no copy when it already is a contiguous float64 array."""
    return np.ascontiguousarray(np.atleast_2d(np.asarray(values, dtype=dtype)))


def contract_terms(bp: BorrowerParams, dt_days: float) -> tuple[np.ndarray, ...]:
    """The contract book's constants for steps of dt days (``borrower_kernel.roll_contract_book``): target share,
    contract price fraction, customer hazard h₀ and elasticity k, customers n, receivable days, and the
    renewed fraction a = min(dt/(30·L), 1)."""
    renew = np.minimum(dt_days / (PAYMENT_INTERVAL_DAYS * bp.contract_months), 1.0)
    return tuple(_param(x) for x in (
        bp.contracted_share, bp.contract_price_fraction, bp.renter_default_rate_per_year,
        bp.renter_default_elasticity, bp.renter_customers, bp.receivable_days, renew,
    ))


@dataclass(frozen=True)
class OperatorTerms:
    """The operating rules' constants for steps of ``dt_days``, computed once per work block: the contract
    terms (``contract_terms``), power cost at full load (USD per GPU-hour), idle power fraction, fixed cost
    (colocation, overhead, repairs; USD per GPU-hour), fleet decay per step, and the revenue average's weight."""

    contract: tuple[np.ndarray, ...]
    power_usd_per_gpu_hour: np.ndarray
    idle_fraction: np.ndarray
    fixed_usd_per_gpu_hour: np.ndarray
    decay: np.ndarray
    operator_vol: np.ndarray
    term_payments: np.ndarray
    dt_days: float
    weight: float

    @classmethod
    def new(cls, bp: BorrowerParams, power_kw_per_gpu: np.ndarray, dt_days: float) -> OperatorTerms:
        """Terms of the population ``bp`` whose GPUs draw ``power_kw_per_gpu`` (per borrower)."""
        power, fixed = _power_and_fixed_usd_per_gpu_hour(bp, power_kw_per_gpu)
        decay = np.where(bp.insured_hardware, 1.0, np.exp(-bp.failure_rate_per_year * dt_days / DAYS_PER_YEAR))
        return cls(
            contract=contract_terms(bp, dt_days),
            power_usd_per_gpu_hour=_param(power),
            idle_fraction=_param(bp.idle_power_fraction),
            fixed_usd_per_gpu_hour=_param(fixed),
            decay=_param(decay),
            operator_vol=_param(bp.operator_vol_per_sqrt_year),
            term_payments=_param(bp.term_payments, np.int64),
            dt_days=float(dt_days),
            weight=float(-np.expm1(-dt_days / PAYMENT_INTERVAL_DAYS)),
        )


def roll_contracts(
    book: BorrowerBook, bp: BorrowerParams, spot_usd_per_gpu_hour: np.ndarray, dt_days: float, uniform: np.ndarray
) -> np.ndarray:
    """Customer failures and roll-off/renewal of the contract book of active loans (module docstring,
    ``borrower_kernel.roll_contract_book``); ``uniform`` is one U(0,1) per loan. Returns the mask of loans
    that lost a customer this step."""
    failed = np.zeros(book.status.shape, bool)
    bk.roll_contracts_kernel(
        book.status, book.contracted_share, book.contract_price_usd_per_gpu_hour, book.cash_usd, book.gpus,
        _param(spot_usd_per_gpu_hour), _param(uniform), *contract_terms(bp, dt_days), float(dt_days), failed,
    )
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
    """Roll the contract book, add one step's operating cash flow to active borrowers' cash; return revenue
    (``operate_with`` on the population's ``OperatorTerms``)."""
    terms = OperatorTerms.new(bp, power_kw_per_gpu, dt_days)
    return operate_with(book, terms, spot_usd_per_gpu_hour, utilisation, uniform)


def operate_with(
    book: BorrowerBook, terms: OperatorTerms, spot_usd_per_gpu_hour: np.ndarray, utilisation: np.ndarray,
    uniform: np.ndarray, normal: np.ndarray | None = None, days_on_book: np.ndarray | None = None,
) -> np.ndarray:
    """One step of operations (``borrower_kernel.loan_step_kernel``, part OPERATE): the operator's own rental factor
    moves (one N(0,1) per loan in ``normal``), contract roll, customer failures (one U(0,1) per loan in ``uniform``),
    operating cash flow, fleet decay; returns revenue (P, B), USD. Without ``normal`` the factor stays.

    The revenue rate the owner judges its business by (``revenue_usd_per_year``, USD/yr) is the exponential
    average of the daily rate with a 30-day time constant — a month's P&L, not one day's utilisation.
    Days at risk by year on book accumulate per path into ``days_on_book`` (paths, ``YEARS_ON_BOOK_BINS``)
    when it is given.
    """
    market = LoanMarket(_param(spot_usd_per_gpu_hour), _param(utilisation), renter_uniform=_param(uniform),
                        operator_normal=normal)
    return _run(bk.OPERATE, book, None, terms, market, StepRules(dt_days=terms.dt_days), days_on_book).revenue_usd


def accrue(book: BorrowerBook, bp: BorrowerParams, grace_apr_premium: float, dt_days: float) -> np.ndarray:
    """Accrue interest on active balances and grace interest on missed payments; return the accrual (P, B)
    (``borrower_kernel.accrue_loan``)."""
    rules = StepRules(dt_days=dt_days, grace_premium=grace_apr_premium)
    return _run(bk.ACCRUE, book, bp, None, LoanMarket(), rules).accrued_usd


DEFAULT_FIELDS = (
    "status", "default_route", "default_day", "sale_day", "ead_usd", "claim_interest_usd", "principal_usd",
    "accrued_usd", "late_interest_usd", "gpus", "grace_until_day", "breach_until_day", "cash_usd", "dsra_usd",
    "walked",
)
"""The loan fields a default writes or reads."""


@dataclass
class Payments:
    """Cash the lender received this step, (P, B) each (USD), and the paths on which a loan paid (ascending):
    every other path's rows are 0."""

    interest_usd: np.ndarray
    principal_usd: np.ndarray
    late_interest_usd: np.ndarray
    paths: np.ndarray

    def per_path(self, amount: np.ndarray) -> np.ndarray:
        """Σ over each path's loans of ``amount`` (P, B), summed on the paying paths only (each row is summed
        alone, so the sums are those over every path, bit for bit)."""
        sums = np.zeros(amount.shape[0])
        sums[self.paths] = amount[self.paths].sum(axis=1)
        return sums


def collect(
    book: BorrowerBook,
    bp: BorrowerParams,
    day: float,
    tbill: np.ndarray,
    grace_days: float,
    collateral: np.ndarray,
) -> tuple[Payments, np.ndarray]:
    """Collect due and overdue payments; start grace on misses; return (payments, matured mask), (P, B).

    Only active loans with a payment due or overdue are touched (``borrower_kernel.collect_payment``):
    a payment is met from cash, then the reserve, then the sponsor's remaining support (bounded: USD left
    of ``sponsor_support_months`` of debt service); an operator that has walked (``walked``) pays nothing.
    A final payment the borrower cannot meet from cash and reserve is refinanced against the fleet:
    a new lender advances up to refinance_ltv × collateral value (so a bullet loan defaults at
    maturity exactly when cash + reserve + refinance_ltv · V_T < what is owed, as in Merton's model).
    """
    rules = StepRules(day=day, grace_days=grace_days)
    step = _run(bk.COLLECT, book, bp, None, LoanMarket(tbill=tbill), rules, collateral=collateral)
    return step.payments, step.matured


def collateral_usd(book: BorrowerBook, value_usd_per_gpu: np.ndarray) -> np.ndarray:
    """Resale value of each borrower's remaining fleet (USD)."""
    return book.gpus * value_usd_per_gpu


def year_on_book_index(term_payments: np.ndarray, payments_left: np.ndarray) -> np.ndarray:
    """Each loan's bin of age (``borrower_kernel.year_on_book``: payments made // 12, clipped; 0 = first year)."""
    rule = python_rule(bk.year_on_book)
    return np.asarray(rule(np.asarray(term_payments), np.asarray(payments_left)))


def covenant_check(book: BorrowerBook, bp: BorrowerParams, collateral: np.ndarray, day: float) -> np.ndarray:
    """Maintenance-LTV covenant (``borrower_kernel.covenant_step``): a breach must be cured (principal prepaid from
    cash) within the cure period. Breach when principal > maintenance_ltv · collateral; the cure prepays
    principal − mLTV·collateral from cash as soon as cash allows. Returns the prepayment (P, B), USD.
    """
    if not has_covenants(bp):
        return np.zeros(book.status.shape)
    return _run(bk.COVENANT, book, bp, None, LoanMarket(), StepRules(day=day), collateral=collateral).prepaid_usd


def has_covenants(bp: BorrowerParams) -> bool:
    """Whether any loan has a maintenance-LTV covenant (a finite ``maintenance_ltv``)."""
    return bool(np.isfinite(bp.maintenance_ltv).any())


def decide_walk(
    book: BorrowerBook, bp: BorrowerParams, day: float, tables: list[BoundaryTable | None] | BoundaryStack
) -> np.ndarray:
    """At its payment date, each performing loan's owner compares its revenue factor x = revenue now /
    revenue at origination with its cohort's default boundary x_B(payments left, cost ratio, debt ratio)
    and walks away when x < x_B (``agents/default_option.py``; ``borrower_kernel.walk_loan``). Marks ``walked`` and
    records x and x_B for the walkers; returns the walkers (P, B). Cohorts without a table (``collateral_barrier``)
    never walk here.
    """
    stack = tables if isinstance(tables, BoundaryStack) else BoundaryStack.of(tables)
    return _run(bk.WALK, book, bp, None, LoanMarket(), StepRules(day=day), boundaries=stack).walked


def fraud_probability(rate_per_year: np.ndarray, multiplier: np.ndarray, dt_days: float) -> np.ndarray:
    """p = 1 − exp(−λ·m·dt/365): the chance a loan's fraud surfaces within a step of dt days, at its rate λ per
    year times the scenario's shock multiplier m (elementwise)."""
    rate = rate_per_year * multiplier
    return 1.0 - np.exp(-rate * dt_days / DAYS_PER_YEAR)


def fraud_chances(
    rate_per_year: np.ndarray, multiplier: np.ndarray, uniforms: np.ndarray, dt_days: float
) -> np.ndarray:
    """``fraud_probability`` (P, B) where it can matter, 0 elsewhere: exact for the loans whose uniform falls below
    its upper bound λ·m·dt/365 (``borrower_kernel.below_fraud_bound``, ~p of them), so that U < chance is
    U < p for every loan while the exponential runs for a handful of loans a step instead of all."""
    rows, cols = bk.below_fraud_bound(_param(rate_per_year), multiplier, uniforms, float(dt_days))
    chances = np.zeros(uniforms.shape)
    rate = np.broadcast_to(rate_per_year, uniforms.shape)[rows, cols]
    chances[rows, cols] = fraud_probability(rate, multiplier[rows], dt_days)
    return chances


def default_routes(
    book: BorrowerBook,
    bp: BorrowerParams,
    collateral: np.ndarray,
    day: float,
    fraud_probability: np.ndarray,
    uniforms: np.ndarray,
    barrier: bool,
) -> np.ndarray:
    """Route of each new default this step (0 = none); fraud > payment > covenant > strategic
    (``borrower_kernel.route_of``).

    Strategic: the owner walked at a payment date (``decide_walk``), or, under the Black–Cox
    ``collateral_barrier`` rule (``barrier``), collateral < walk_ratio × principal at any step.
    """
    market = LoanMarket(fraud_probability=_param(fraud_probability), fraud_uniform=_param(uniforms))
    return _run(bk.ROUTE, book, bp, None, market, StepRules(day=day, barrier=barrier), collateral=collateral).route


def _nothing() -> np.ndarray:
    """A (1, 1) zero: an input of a part not run."""
    return np.zeros((1, 1))


@dataclass(frozen=True)
class LoanMarket:
    """A step's inputs to the loan rules from the markets and the random streams: spot rental (USD/GPU-hour) and
    utilisation, resale value per GPU (USD), the T-bill rate per path, one U(0,1) per loan for customer failures
    and one N(0,1) for the operator's own factor (None: the factor stays), and fraud: its chance and its uniform;
    (P, B) or broadcast like ``borrower_kernel.at``. Inputs of parts not run may be left out."""

    spot_usd_per_gpu_hour: np.ndarray = field(default_factory=_nothing)
    utilisation: np.ndarray = field(default_factory=_nothing)
    value_usd_per_gpu: np.ndarray = field(default_factory=_nothing)
    tbill: np.ndarray | float = 0.0
    renter_uniform: np.ndarray = field(default_factory=_nothing)
    operator_normal: np.ndarray | None = None
    fraud_probability: np.ndarray = field(default_factory=_nothing)
    fraud_uniform: np.ndarray = field(default_factory=_nothing)


@dataclass(frozen=True)
class StepRules:
    """A step's day (the step's end), its length dt (days), and the protocol's terms the loan rules read: the grace
    period (days) and grace APR premium, and whether strategic defaults follow the ``collateral_barrier`` rule."""

    day: float = 0.0
    dt_days: float = 0.0
    grace_days: float = 0.0
    grace_premium: float = 0.0
    barrier: bool = False


@dataclass
class LoanStep:
    """What one step of every loan's own rules hands to the protocol's book-keeping, (P, B) each: revenue this step
    and collateral after the fleet's decay (USD), interest accrued (USD), the owners who walked at a payment date,
    the payments received and the loans that matured, the accrued interest each collected loan owed before its
    payment date (USD), covenant prepayments (USD) and each new default's route (0 = none)."""

    revenue_usd: np.ndarray
    collateral_usd: np.ndarray
    accrued_usd: np.ndarray
    walked: np.ndarray
    payments: Payments
    matured: np.ndarray
    unowed_usd: np.ndarray
    prepaid_usd: np.ndarray
    route: np.ndarray


def step_loans(
    book: BorrowerBook, bp: BorrowerParams, terms: OperatorTerms | None, market: LoanMarket, rules: StepRules,
    boundaries: BoundaryStack, days_on_book: np.ndarray, parts: int = bk.ALL_PARTS,
    collateral: np.ndarray | None = None,
) -> LoanStep:
    """One step of every loan's own rules in one compiled pass (``borrower_kernel.loan_step_kernel``), each loan in
    turn: operations (``operate_with``), accrual (``accrue``), the owner's walk decision at a payment date
    (``decide_walk``), the payment (``collect``), the covenant (``covenant_check``, when any loan has one) and the
    default route (``default_routes``): the numbers those functions give called one after another. ``parts``
    (``borrower_kernel.OPERATE`` | ...) runs some of them only; without OPERATE (``terms`` may then be None) the
    others read ``collateral``."""
    if not has_covenants(bp):
        parts &= ~bk.COVENANT
    return _run(parts, book, bp, terms, market, rules, days_on_book, boundaries, collateral)


def _run(
    parts: int, book: BorrowerBook, bp: BorrowerParams | None, terms: OperatorTerms | None, market: LoanMarket,
    rules: StepRules, days_on_book: np.ndarray | None = None, boundaries: BoundaryStack | None = None,
    collateral: np.ndarray | None = None,
) -> LoanStep:
    """``loan_step_kernel`` on ``parts`` of the rules; what a part not run needs is left at harmless defaults
    (no terms: nothing operates; no ``bp``: no loan terms; no boundaries: nobody walks). ``collateral`` (USD,
    broadcast to (P, B)) is the collateral the parts read when OPERATE, which values it, is not run."""
    shape = book.status.shape
    held = np.zeros(shape) if collateral is None else np.array(np.broadcast_to(collateral, shape), np.float64)
    revenue, accrued, unowed, prepaid = np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape)
    walked, route = np.zeros(shape, bool), np.zeros(shape, np.int8)
    paid = (np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape, bool), np.zeros(shape[0], bool))
    if days_on_book is None:
        days_on_book = np.zeros((shape[0], YEARS_ON_BOOK_BINS))
    stack = BoundaryStack.of([]) if boundaries is None else boundaries
    loan = _loan_terms(bp)
    bk.loan_step_kernel(
        int(parts), *_operating(book, terms if parts & bk.OPERATE else None, market, days_on_book, revenue,
                                rules.dt_days),
        _param(market.value_usd_per_gpu), held,
        book.principal_usd, book.apr, book.accrued_usd, book.late_interest_usd, book.grace_until_day,
        book.due_interest_usd, book.due_principal_usd, float(rules.grace_premium), accrued,
        book.next_due_day, book.revenue0_usd_per_year, book.cost_ratio, book.debt_ratio, book.walked,
        book.default_state, book.default_boundary, loan[0], stack.rows, stack.cost_grid, stack.debt_grid,
        stack.values, walked,
        book.dsra_usd, book.sponsor_left_usd, *loan[1:7], float(rules.day), _per_path(market.tbill, shape[0]),
        float(rules.grace_days), *paid, unowed,
        loan[7], loan[8], book.breach_until_day, prepaid,
        loan[9], _param(market.fraud_probability), _param(market.fraud_uniform), bool(rules.barrier), route,
    )
    payments = Payments(paid[0], paid[1], paid[2], np.flatnonzero(paid[4]))
    return LoanStep(revenue, held, accrued, walked, payments, paid[3], unowed, prepaid, route)


def _operating(
    book: BorrowerBook, terms: OperatorTerms | None, market: LoanMarket, days_on_book: np.ndarray,
    revenue: np.ndarray, dt_days: float,
) -> tuple:
    """The OPERATE part's arguments of ``loan_step_kernel``, in its order (without terms, inert constants); the
    step's ``dt_days`` (which accrual uses too) must be the one the terms were made for."""
    normal = market.operator_normal
    constants: tuple
    if terms is None:
        constants = (*(_nothing(),) * 11, float(dt_days), 0.0, np.zeros((1, 1), np.int64))
        vol = _nothing()
    else:
        if terms.dt_days != dt_days:
            raise ValueError(f"operator terms for steps of {terms.dt_days:g} days used for a step of {dt_days:g}")
        constants = (*terms.contract, terms.power_usd_per_gpu_hour, terms.idle_fraction, terms.fixed_usd_per_gpu_hour,
                     terms.decay, float(dt_days), terms.weight, terms.term_payments)
        vol = terms.operator_vol
    own = (_nothing(), _nothing()) if normal is None else (_param(normal), vol)  # (z, σ_o)
    return (
        book.status, book.contracted_share, book.contract_price_usd_per_gpu_hour, book.cash_usd, book.gpus,
        book.revenue_usd_per_year, book.operator_log, book.active_days, _param(market.spot_usd_per_gpu_hour),
        _param(market.utilisation), _param(market.renter_uniform), *own, book.payments_left, days_on_book, revenue,
        *constants,
    )


def _loan_terms(bp: BorrowerParams | None) -> tuple[np.ndarray, ...]:
    """The loan terms ``loan_step_kernel`` reads, in its order: cohort per borrower; interest-only, floating, floating
    spread, refinance LTV, reserve and sweep months (the payment rule); maintenance LTV and cure days (covenant);
    strategic walk ratio. Without ``bp``, (1, 1) stand-ins of the same types."""
    if bp is None:
        flags = np.zeros((1, 1), np.bool_)
        return (np.zeros(1, np.int64), flags, flags, *(_nothing(),) * 4, np.full((1, 1), np.nan), _nothing(),
                _nothing())
    return (
        _param(bp.cohort, np.int64)[0],
        *(_param(getattr(bp, name), dtype)
          for name, dtype in (("interest_only", np.bool_), ("floating", np.bool_), ("floating_spread", np.float64),
                              ("refinance_ltv", np.float64), ("dsra_months", np.float64),
                              ("sweep_months", np.float64), ("maintenance_ltv", np.float64),
                              ("cure_days", np.float64), ("walk_ratio", np.float64))),
    )


def _per_path(values: np.ndarray | float, n_paths: int) -> np.ndarray:
    """A per-path value (or one for all paths) as a contiguous (n_paths,) float64 array."""
    return np.ascontiguousarray(np.broadcast_to(np.asarray(values, np.float64), (n_paths,)))


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
