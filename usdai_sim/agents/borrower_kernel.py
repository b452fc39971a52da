"""The per-step borrower rules as compiled loops over (path, borrower) loans: the kernel is the rule.

``loan_step_kernel`` walks every loan of a work block once a step and runs its own rules in order
(operations, accrual, the owner's walk decision, the payment, the covenant, the default route), in place,
with no temporary arrays; the per-rule functions of ``agents/borrowers.py`` run parts of the same kernel, so
each rule is written once. Loans that are not live (pending, repaid, closed, lapsed) cost one status test
each, no arithmetic. Random numbers come in as arrays drawn from the project's streams for the whole block,
so results do not depend on which loans are live. Parameters arrive broadcast to (paths, borrowers).
The formulas are in the module docstring of ``agents/borrowers.py`` and next to each rule.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from usdai_sim.agents.default_option import boundary_at
from usdai_sim.jit import element, keep_pair, kept_pairs, kernel, pair_buffer
from usdai_sim.params import DAYS_PER_YEAR, HOURS_PER_DAY, PAYMENT_INTERVAL_DAYS
from usdai_sim.protocol.loans import accrual, payment_due

PENDING, ACTIVE, REPAID, DEFAULTED, CLOSED, LAPSED = range(6)
ROUTE_PAYMENT, ROUTE_STRATEGIC, ROUTE_FRAUD, ROUTE_COVENANT = 1, 2, 3, 4


@element
def at(values: np.ndarray, p: int, b: int) -> float:
    """Loan (p, b)'s value of a 2-D parameter given per loan (paths, borrowers), per borrower (1, borrowers)
    or once (1, 1): length-1 axes broadcast, as in numpy."""
    return values[p if values.shape[0] > 1 else 0, b if values.shape[1] > 1 else 0]


PAYMENTS_PER_YEAR_ON_BOOK = 12
YEARS_ON_BOOK_BINS = 5
"""Bins of a loan's age for seasoning curves: years 1-4 on book, and the 5th year or later together."""


@element
def year_on_book(term_payments: Any, payments_left: Any) -> Any:
    """The bin of a loan's age: payments made // 12, clipped to [0, ``YEARS_ON_BOOK_BINS`` − 1] (0 = first year).

    Age is counted in payments made (the lending industry's "months on book"; one payment per 30 days, so a
    year on book is 360 days). A defaulted loan keeps its count at default, so its bin is its age at default.
    Plain arithmetic: works on scalars in a kernel and on integer arrays through ``python_rule``."""
    made = term_payments - payments_left
    return np.minimum(np.maximum(made // PAYMENTS_PER_YEAR_ON_BOOK, 0), YEARS_ON_BOOK_BINS - 1)


@kernel
def customer_failure_probability(
    price_over_market: float, h0_per_year: float, elasticity: float, customers: float, dt_days: float
) -> float:
    """q = 1 − exp(−n·h·dt/365) with h = h₀·(p_c/(f·R))^k per year: one of n customers fails this step."""
    hazard = h0_per_year * price_over_market**elasticity
    return -math.expm1(-customers * hazard * dt_days / DAYS_PER_YEAR)


@kernel
def operating_rate(
    share: Any, contract_price: Any, spot: Any, utilisation: Any, power_usd_per_gpu_hour: Any, idle_fraction: Any,
    fixed_usd_per_gpu_hour: Any,
) -> tuple[Any, Any]:
    """(revenue, opex) per GPU-hour (USD) with s the contracted share billed at p_c and u the utilisation of
    the rest billed at spot R:  revenue = s·p_c + (1 − s)·u·R,
    opex = power·(idle + (1 − idle)·(s + (1 − s)·u)) + fixed  (power at full load; fixed = colocation,
    overhead and repairs). Plain arithmetic: ``python_rule(operating_rate)`` evaluates it on numpy arrays."""
    busy = share + (1.0 - share) * utilisation
    revenue = share * contract_price + (1.0 - share) * utilisation * spot
    opex = power_usd_per_gpu_hour * (idle_fraction + (1.0 - idle_fraction) * busy) + fixed_usd_per_gpu_hour
    return revenue, opex


BOUND_SLACK = 1e-9
"""Relative slack of the probability bounds: far above the round-off of their few multiplications."""
ABSOLUTE_SLACK = 4.0 * 2.0**-53
"""Absolute slack of the probability bounds: 1 − e^{−x} evaluated in floating point is a multiple of 2⁻⁵³ near 0
(e^{−x} rounds next to 1), so it can exceed x itself by up to about one such step when x is tiny."""


@element
def probability_bound(mass: float) -> float:
    """An upper bound of the computed 1 − e^{−x} for a hazard mass x ≥ 0 (1 − e^{−x} ≤ x, plus the slacks)."""
    return mass * (1.0 + BOUND_SLACK) + ABSOLUTE_SLACK


@kernel
def customer_failure_bound(
    price_over_market: float, h0_per_year: float, elasticity: float, customers: float, dt_days: float
) -> float:
    """An upper bound of ``customer_failure_probability`` without its power and exponential:
    q = 1 − e^{−x} ≤ x = n·h₀·(p_c/(f·R))^k·dt/365 ≤ n·h₀·max(1, p_c/(f·R))^⌈k⌉·dt/365 (k ≥ 0), times
    the slacks of ``probability_bound``. A uniform at or above it cannot fail a customer, whatever q's last digits."""
    base = max(price_over_market, 1.0)
    power = 1.0
    for _ in range(int(math.ceil(elasticity))):
        power *= base
    return probability_bound(customers * h0_per_year * power * dt_days / DAYS_PER_YEAR)


@kernel
def customer_fails(
    uniform: float, price_over_market: float, h0_per_year: float, elasticity: float, customers: float,
    dt_days: float,
) -> bool:
    """U < q (``customer_failure_probability``), decided without q when U ≥ ``customer_failure_bound`` (almost
    always: q is ~1e-4 a day), so the power and the exponential are evaluated for the few uniforms below the
    bound only. The outcome is the same as U < q for every U."""
    if uniform >= customer_failure_bound(price_over_market, h0_per_year, elasticity, customers, dt_days):
        return False
    return uniform < customer_failure_probability(price_over_market, h0_per_year, elasticity, customers, dt_days)


@kernel
def roll_contract_book(
    share: float, price: float, cash_usd: float, gpus: float, market: float, uniform: float, h0_per_year: float,
    elasticity: float, customers: float, receivable_days: float, renew: float, target_share: float,
    dt_days: float,
) -> tuple[float, float, float, bool]:
    """Customer failure, then roll-off and renewal of one active loan's contract book at the market price
    f·R (USD/GPU-hour); returns (share s', contract price p_c', cash, customer failed).

    A failure (U < q) sends one customer's part s/n to spot and loses (s/n)·p_c·GPUs·24·receivable_days USD
    of unpaid billing from cash (floored at 0); then a = min(dt/(30·L), 1) of the target book s* is signed at
    the market:  s' = (s − s/n·1[U<q])·(1 − a) + s*·a,  p_c' = (kept·p_c + s*·a·f·R) / s'.
    """
    over = price / market if market > 0 else 1.0
    failed = share > 0 and customer_fails(uniform, over, h0_per_year, elasticity, customers, dt_days)
    lost = share / customers if failed else 0.0
    unpaid = lost * price * gpus * HOURS_PER_DAY * receivable_days
    kept = (share - lost) * (1.0 - renew)
    signed = target_share * renew
    new_share = kept + signed
    new_price = (kept * price + signed * market) / new_share if new_share > 0 else market
    return new_share, new_price, max(cash_usd - unpaid, 0.0), failed


@kernel
def operating_cash(
    share: float, price: float, cash_usd: float, gpus: float, revenue_usd_per_year: float, spot: float,
    utilisation: float, power_usd_per_gpu_hour: float, idle_fraction: float, fixed_usd_per_gpu_hour: float,
    dt_days: float, weight: float,
) -> tuple[float, float, float]:
    """One step's operating cash flow of one active loan; returns (cash, judged revenue rate (USD/yr),
    revenue this step = GPUs·24·dt·revenue (USD)).

    With the rates of ``operating_rate`` (USD/GPU-hour): cash ← max(cash + 24·dt·GPUs·(revenue − opex), 0);
    the judged revenue rate moves a fraction
    w = 1 − e^{−dt/30} toward GPUs·revenue·24·365.
    """
    hours = HOURS_PER_DAY * dt_days
    rate, opex = operating_rate(
        share, price, spot, utilisation, power_usd_per_gpu_hour, idle_fraction, fixed_usd_per_gpu_hour
    )
    revenue = gpus * hours * rate
    now = gpus * rate * HOURS_PER_DAY * DAYS_PER_YEAR
    judged = revenue_usd_per_year + weight * (now - revenue_usd_per_year)
    return max(cash_usd + revenue - gpus * hours * opex, 0.0), judged, revenue


@kernel
def roll_contracts_kernel(
    status: np.ndarray, share: np.ndarray, price: np.ndarray, cash: np.ndarray, gpus: np.ndarray,
    spot: np.ndarray, uniform: np.ndarray, target_share: np.ndarray, price_fraction: np.ndarray,
    h0_per_year: np.ndarray, elasticity: np.ndarray, customers: np.ndarray, receivable_days: np.ndarray,
    renew: np.ndarray, dt_days: float, failed: np.ndarray,
) -> None:
    """``roll_contract_book`` on every active loan, in place; ``failed`` marks those that lost a customer."""
    n_paths, n_loans = status.shape
    for p in range(n_paths):
        for b in range(n_loans):
            if status[p, b] == ACTIVE:
                share[p, b], price[p, b], cash[p, b], failed[p, b] = roll_contract_book(
                    share[p, b], price[p, b], cash[p, b], gpus[p, b], at(price_fraction, p, b) * at(spot, p, b),
                    at(uniform, p, b), at(h0_per_year, p, b), at(elasticity, p, b), at(customers, p, b),
                    at(receivable_days, p, b), at(renew, p, b), at(target_share, p, b), dt_days,
                )


@kernel
def operator_log_step(log_factor: float, vol_per_sqrt_year: float, dt_days: float, z: float) -> float:
    """One step of the log of the operator's own rental factor e^ε, a random walk that is a martingale in
    level:  ε' = ε − ½σ²·dt + σ·√dt·z  (σ per √year, dt = dt_days/365 years, z ~ N(0, 1)), so E[e^ε'] = e^ε.
    σ = 0 leaves ε unchanged. The compiled, scalar form of ``market.gpu.log_factor_step`` with drift 0 (a test
    holds the two equal)."""
    dt_years = dt_days / DAYS_PER_YEAR
    return log_factor - 0.5 * vol_per_sqrt_year**2 * dt_years + vol_per_sqrt_year * math.sqrt(dt_years) * z


@element
def accrue_loan(
    principal: float, apr: float, accrued: float, late: float, in_grace: bool, missed: float, grace_premium: float,
    dt_days: float,
) -> tuple[float, float, float]:
    """One active loan's accrual over dt days: simple interest B·apr·dt/365 (USD), and in grace the missed payment
    (due interest + due principal) accrues (apr + premium)·dt/365 of late interest; returns (interest accrued,
    accrued, late interest)."""
    amount = accrual(principal, apr, dt_days)
    if in_grace:
        late += accrual(missed, apr + grace_premium, dt_days)
    return amount, accrued + amount, late


@kernel
def requests_due(
    status: np.ndarray, request_day: np.ndarray, day: float, patience_days: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pending loan requests asked by ``day``, in one pass, row-major: (rows, cols) of those that lapse
    (day > request day + patience) and (rows, cols) of those still wanting; requests dated after ``day``
    are neither."""
    n_paths, n_loans = status.shape
    lapsed, wanting = pair_buffer(status.size), pair_buffer(status.size)
    n_lapsed = n_wanting = 0
    for p in range(n_paths):
        for b in range(n_loans):
            if status[p, b] != PENDING or request_day[p, b] > day:
                continue
            if day > request_day[p, b] + patience_days:
                n_lapsed = keep_pair(lapsed, n_lapsed, p, b)
            else:
                n_wanting = keep_pair(wanting, n_wanting, p, b)
    return (*kept_pairs(lapsed, n_lapsed), *kept_pairs(wanting, n_wanting))


@element
def collect_payment(
    state: tuple, terms: tuple, p: int, b: int, day: float, tbill: float, grace_days: float, collateral: float,
    paid: tuple,
) -> None:
    """One loan's payment date. A payment falling due is fixed at the rate that accrued (``payment_due``);
    a floating loan then resets to T-bill + spread. What is owed (due + late interest) is met from cash, then
    the reserve, then the sponsor's remaining support; a final payment the borrower cannot meet from cash
    and reserve is refinanced up to refinance_ltv × collateral value (Merton default at maturity). A walked
    owner pays nothing. A miss starts grace until the date + ``grace_days``; the last payment matures the
    loan (REPAID, days past the last date not owed); otherwise the reserve is refilled and cash swept.
    """
    (status, principal, apr, left, next_due, accrued, due_i, due_p, late, grace_until, cash, dsra,
     sponsor_left, walked) = state
    interest_only, floating, spread, refinance_ltv = terms[0], terms[1], terms[2], terms[3]
    due = not math.isfinite(grace_until[p, b]) and next_due[p, b] <= day
    if due:
        due_i[p, b], due_p[p, b] = payment_due(principal[p, b], apr[p, b], left[p, b], at(interest_only, p, b))
        if at(floating, p, b):
            apr[p, b] = tbill + at(spread, p, b)
    amount = due_i[p, b] + due_p[p, b] + late[p, b]
    short = amount - cash[p, b] - dsra[p, b]
    refinance = min(max(short, 0.0), at(refinance_ltv, p, b) * collateral) if left[p, b] <= 1 else 0.0
    support = min(max(short - refinance, 0.0), sponsor_left[p, b])
    if walked[p, b] or cash[p, b] + dsra[p, b] + refinance + support < amount:
        if due:
            grace_until[p, b] = next_due[p, b] + grace_days
        return
    cash[p, b] += refinance + support
    sponsor_left[p, b] -= support
    from_cash = min(cash[p, b], amount)
    cash[p, b] -= from_cash
    dsra[p, b] -= amount - from_cash
    paid[0][p, b], paid[1][p, b], paid[2][p, b] = due_i[p, b], due_p[p, b], late[p, b]
    paid[4][p] = True
    principal[p, b] -= due_p[p, b]
    accrued[p, b] = max(accrued[p, b] - due_i[p, b], 0.0)
    left[p, b] -= 1
    next_due[p, b] += PAYMENT_INTERVAL_DAYS
    late[p, b] = 0.0
    grace_until[p, b] = np.inf
    if left[p, b] <= 0:
        paid[3][p, b] = True
        status[p, b] = REPAID
        accrued[p, b] = 0.0
        return
    refill_reserve_and_sweep(state, terms, p, b)


@element
def refill_reserve_and_sweep(state: tuple, terms: tuple, p: int, b: int) -> None:
    """After a payment: top the reserve up toward dsra_months × next payment from cash, then cash above
    sweep_months × next payment is distributed to the owner (USD)."""
    principal, apr, left, cash, dsra = state[1], state[2], state[3], state[10], state[11]
    interest_only, dsra_months, sweep_months = terms[0], terms[4], terms[5]
    interest, principal_due = payment_due(principal[p, b], apr[p, b], left[p, b], at(interest_only, p, b))
    payment = interest + principal_due
    top_up = min(max(at(dsra_months, p, b) * payment - dsra[p, b], 0.0), cash[p, b])
    dsra[p, b] += top_up
    cash[p, b] -= top_up
    cash[p, b] = min(cash[p, b], at(sweep_months, p, b) * payment)


@kernel
def below_fraud_bound(
    rate_per_year: np.ndarray, multiplier: np.ndarray, uniform: np.ndarray, dt_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) in row-major order of the loans whose uniform U < ``probability_bound``(λ·m·dt/365), λ the fraud
    rate per year (per loan, broadcast like ``at``), m the path's shock multiplier: every loan whose fraud draw
    U < p = 1 − e^{−λ·m·dt/365} is among them (p ≤ λ·m·dt/365 up to round-off), and almost no other."""
    n_paths, n_loans = uniform.shape
    below, found = pair_buffer(uniform.size), 0
    for p in range(n_paths):
        for b in range(n_loans):
            if uniform[p, b] < probability_bound(at(rate_per_year, p, b) * multiplier[p] * dt_days / DAYS_PER_YEAR):
                found = keep_pair(below, found, p, b)
    return kept_pairs(below, found)


@element
def route_of(
    active: bool, uniform: float, fraud_probability: float, grace_until_day: float, breach_until_day: float,
    day: float, walked: bool, barrier: bool, collateral: float, walk_ratio: float, principal: float,
) -> int:
    """Route of an active loan's default this step, first that applies: fraud (U < p_fraud), payment (grace over),
    covenant (cure period over), strategic (walked, or under ``barrier`` collateral < walk_ratio × principal);
    0 = none (and for a loan that is not active)."""
    if not active:
        return 0
    if uniform < fraud_probability:
        return ROUTE_FRAUD
    if grace_until_day <= day:
        return ROUTE_PAYMENT
    if breach_until_day <= day:
        return ROUTE_COVENANT
    if walked or (barrier and collateral < walk_ratio * principal):
        return ROUTE_STRATEGIC
    return 0


@element
def covenant_step(
    active: bool, maintenance_ltv: float, principal: float, cash: float, breach_until_day: float, collateral: float,
    day: float, cure_days: float,
) -> tuple[float, float]:
    """Maintenance-LTV covenant of one loan: an active loan with a finite mLTV is in breach when its principal
    exceeds mLTV · collateral (USD); the excess is prepaid from cash as soon as cash covers it; a breach not cured
    keeps (or, if new, starts) its cure deadline day + cure days, and any other loan's deadline is cleared (∞).
    Returns (prepayment USD, cure deadline day)."""
    excess = max(principal - maintenance_ltv * collateral, 0.0) if active and math.isfinite(maintenance_ltv) else 0.0
    prepay = excess if excess > 0 and cash >= excess else 0.0
    if excess > 0 and prepay == 0:
        return prepay, breach_until_day if math.isfinite(breach_until_day) else day + cure_days
    return prepay, np.inf


@element
def payment_date(status: int, grace_until_day: float, next_due_day: float, day: float) -> bool:
    """An active loan not in grace whose next payment falls due by ``day``: its owner decides whether to walk."""
    return status == ACTIVE and not math.isfinite(grace_until_day) and next_due_day <= day


@element
def walk_loan(walk: tuple, boundaries: tuple, cohort: np.ndarray, p: int, b: int) -> bool:
    """At a payment date the owner of loan (p, b) compares its revenue factor x = judged revenue now / revenue at
    origination (∞ when the latter is 0) with its cohort's boundary x_B (``default_option.boundary_at`` of payments
    left, cost and debt ratios) and walks when x < x_B: ``walked`` is set and x, x_B recorded. A cohort without a
    table (``rows`` 0) never walks here. (Arrays in tuples: called at payment dates only.)"""
    revenue, revenue0, payments_left, cost_ratio, debt_ratio, walked, default_state, default_boundary = walk
    rows, cost_grid, debt_grid, values = boundaries
    g = cohort[b]
    if rows[g] == 0:
        return False
    r0 = revenue0[p, b]
    x = revenue[p, b] / max(r0, 1e-300) if r0 > 0 else np.inf
    x_b = boundary_at(values[g], rows[g], cost_grid[g], debt_grid[g], payments_left[p, b], cost_ratio[p, b],
                      debt_ratio[p, b])
    if not x < x_b:
        return False
    walked[p, b] = True
    default_state[p, b], default_boundary[p, b] = x, x_b
    return True


OPERATE, ACCRUE, WALK, COLLECT, COVENANT, ROUTE = 1, 2, 4, 8, 16, 32
"""The parts of ``loan_step_kernel``, in the order each loan runs them (bit flags of its ``parts``)."""
ALL_PARTS = OPERATE | ACCRUE | WALK | COLLECT | COVENANT | ROUTE


@kernel
def loan_step_kernel(
    parts: int,
    status: np.ndarray, share: np.ndarray, price: np.ndarray, cash: np.ndarray, gpus: np.ndarray,
    revenue_per_year: np.ndarray, operator_log: np.ndarray, active_days: np.ndarray, spot: np.ndarray,
    utilisation: np.ndarray, uniform: np.ndarray, normal: np.ndarray, operator_vol: np.ndarray,
    payments_left: np.ndarray, days_on_book: np.ndarray, revenue_out: np.ndarray,
    target_share: np.ndarray, price_fraction: np.ndarray, h0_per_year: np.ndarray, elasticity: np.ndarray,
    customers: np.ndarray, receivable_days: np.ndarray, renew: np.ndarray, power_usd_per_gpu_hour: np.ndarray,
    idle_fraction: np.ndarray, fixed_usd_per_gpu_hour: np.ndarray, decay: np.ndarray, dt_days: float, weight: float,
    term_payments: np.ndarray,
    value_per_gpu: np.ndarray, collateral_io: np.ndarray,
    principal: np.ndarray, apr: np.ndarray, accrued: np.ndarray, late: np.ndarray, grace_until: np.ndarray,
    due_interest: np.ndarray, due_principal: np.ndarray, grace_premium: float, accrued_out: np.ndarray,
    next_due: np.ndarray, revenue0: np.ndarray, cost_ratio: np.ndarray, debt_ratio: np.ndarray, walked: np.ndarray,
    default_state: np.ndarray, default_boundary: np.ndarray, cohort: np.ndarray, rows: np.ndarray,
    cost_grid: np.ndarray, debt_grid: np.ndarray, values: np.ndarray, walk_out: np.ndarray,
    dsra: np.ndarray, sponsor_left: np.ndarray, interest_only: np.ndarray, floating: np.ndarray, spread: np.ndarray,
    refinance_ltv: np.ndarray, dsra_months: np.ndarray, sweep_months: np.ndarray, day: float, tbill: np.ndarray,
    grace_days: float, paid_interest: np.ndarray, paid_principal: np.ndarray, paid_late: np.ndarray,
    matured: np.ndarray, paying_paths: np.ndarray, unowed_out: np.ndarray,
    maintenance_ltv: np.ndarray, cure_days: np.ndarray, breach_until: np.ndarray, prepaid_out: np.ndarray,
    walk_ratio: np.ndarray, fraud_probability: np.ndarray, fraud_uniform: np.ndarray, barrier: bool,
    route_out: np.ndarray,
) -> None:
    """One step of every loan's own rules in one pass, in place. Each loan (p, b) runs the ``parts`` asked for, in
    this order:
    OPERATE: an active loan's own rental factor moves (``operator_log_step``), so the rental it achieves is the
    market's R·e^ε (spot billing and contract renewals alike); it rolls its contract book (``roll_contract_book``)
    and books its operating cash flow (``operating_cash``; ``revenue_out`` gets the revenue); any other loan's
    judged revenue rate is 0 and its factor stays; an active loan's days at risk (``active_days``) grow by dt, and
    so do its path's days at risk in its year on book (``days_on_book``, (paths, ``YEARS_ON_BOOK_BINS``));
    a live loan's fleet (active or defaulted) decays by ``decay`` = e^{−λ·dt/365} (1 if insured), and its
    collateral GPUs · value per GPU is written to ``collateral_io`` (without OPERATE, read from it);
    ACCRUE: ``accrue_loan`` (``accrued_out`` gets the interest); WALK: ``walk_loan`` at a ``payment_date``
    (``walk_out`` marks the walkers); COLLECT: ``collect_payment`` at a payment date or in grace (``unowed_out``
    keeps the accrued interest it found); COVENANT: ``covenant_step`` (``prepaid_out``); ROUTE: ``route_of``.
    A loan's rules read only its own state and its path's market, so the numbers are those of running each part
    over every loan in turn; per-path sums are left to the caller. (Arrays come one by one: numba types a tuple
    argument in Python, ~10 µs an array; inside, helpers that take arrays run at payment dates only, since each
    call of one costs reference counting, ~2 ns an array.)"""
    walk = (revenue_per_year, revenue0, payments_left, cost_ratio, debt_ratio, walked, default_state, default_boundary)
    boundaries = (rows, cost_grid, debt_grid, values)
    state = (status, principal, apr, payments_left, next_due, accrued, due_interest, due_principal, late, grace_until,
             cash, dsra, sponsor_left, walked)
    payment_terms = (interest_only, floating, spread, refinance_ltv, dsra_months, sweep_months)
    paid = (paid_interest, paid_principal, paid_late, matured, paying_paths)
    n_paths, n_loans = status.shape
    for p in range(n_paths):
        for b in range(n_loans):
            if parts & OPERATE:
                code = status[p, b]
                if code == ACTIVE:
                    active_days[p, b] += dt_days
                    days_on_book[p, year_on_book(at(term_payments, p, b), payments_left[p, b])] += dt_days
                    operator_log[p, b] = operator_log_step(
                        operator_log[p, b], at(operator_vol, p, b), dt_days, at(normal, p, b)
                    )
                    spot_now = at(spot, p, b) * math.exp(operator_log[p, b])
                    share[p, b], price[p, b], cash[p, b], _ = roll_contract_book(
                        share[p, b], price[p, b], cash[p, b], gpus[p, b], at(price_fraction, p, b) * spot_now,
                        at(uniform, p, b), at(h0_per_year, p, b), at(elasticity, p, b), at(customers, p, b),
                        at(receivable_days, p, b), at(renew, p, b), at(target_share, p, b), dt_days,
                    )
                    cash[p, b], revenue_per_year[p, b], revenue_out[p, b] = operating_cash(
                        share[p, b], price[p, b], cash[p, b], gpus[p, b], revenue_per_year[p, b], spot_now,
                        at(utilisation, p, b), at(power_usd_per_gpu_hour, p, b), at(idle_fraction, p, b),
                        at(fixed_usd_per_gpu_hour, p, b), dt_days, weight,
                    )
                else:
                    revenue_per_year[p, b] = 0.0
                if code in (ACTIVE, DEFAULTED):
                    gpus[p, b] = gpus[p, b] * at(decay, p, b)
                collateral_io[p, b] = gpus[p, b] * at(value_per_gpu, p, b)
            collateral = at(collateral_io, p, b)
            if parts & ACCRUE and status[p, b] == ACTIVE:
                accrued_out[p, b], accrued[p, b], late[p, b] = accrue_loan(
                    principal[p, b], apr[p, b], accrued[p, b], late[p, b], math.isfinite(grace_until[p, b]),
                    due_interest[p, b] + due_principal[p, b], grace_premium, dt_days,
                )
            if parts & WALK and payment_date(status[p, b], grace_until[p, b], next_due[p, b], day):
                walk_out[p, b] = walk_loan(walk, boundaries, cohort, p, b)
            if parts & COLLECT and status[p, b] == ACTIVE and (
                next_due[p, b] <= day or math.isfinite(grace_until[p, b])
            ):
                unowed_out[p, b] = accrued[p, b]
                collect_payment(state, payment_terms, p, b, day, tbill[p], grace_days, collateral, paid)
            if parts & COVENANT:
                prepay, breach_until[p, b] = covenant_step(
                    status[p, b] == ACTIVE, at(maintenance_ltv, p, b), principal[p, b], cash[p, b],
                    breach_until[p, b], collateral, day, at(cure_days, p, b),
                )
                cash[p, b] -= prepay
                principal[p, b] -= prepay
                prepaid_out[p, b] = prepay
            if parts & ROUTE:
                route_out[p, b] = route_of(
                    status[p, b] == ACTIVE, at(fraud_uniform, p, b), at(fraud_probability, p, b), grace_until[p, b],
                    breach_until[p, b], day, walked[p, b], barrier, collateral, at(walk_ratio, p, b), principal[p, b],
                )
