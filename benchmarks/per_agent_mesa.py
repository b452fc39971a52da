"""The per-agent baseline: the borrower and loan rules written the way one would by hand in mesa.

One mesa Model per Monte Carlo path, one Python object per borrower, Python floats and
``random.Random`` draws (the model's ``random``). It re-implements, per object and in plain Python, the
engine's borrower side (usdai_sim/model.py, agents/borrowers.py, protocol/loans.py, liquidation.py,
market/state.py), in the engine's order within a step:

    markets (T-bill, GPU common/class factors, rentals, resale index) →
    each borrower: own factors (idiosyncratic resale, utilisation OU in logit space), collateral value →
    operate (rental revenue, power, colocation, overhead; hardware failure) → accrue (interest, grace
    interest) → collect (loan-router schedule, refinance of the final payment, cash then reserve, grace
    on a miss, reserve top-up and cash sweep) → defaults (fraud, payment, strategic) →
    sales (after time to sell: forced-sale factor, price impact on the class, fee, waterfall).

Then the holder side, also per object (usdai_sim/depositor_phases.py, agents/depositors.py, holders.py,
protocol/vault.py): the path's signals (spread over the look-back, drawdown, loss news, queue shares,
7-day outflow share), each unstaked holder (one uniform a day: redeem its whole balance 1:1 with
probability 1 − exp(−h·Δ/365)·(1 − wave); calm inflows), each staker (one uniform a day: want out with
probability 1 − exp(−h·Δ/365)·(1 − wave) and request ``request_fraction`` of its shares into the queue,
or deposit ``deposit_fraction`` of its wallet at NAV with probability 1 − exp(−d·Δ/365) when the spread
beats its hurdle), and at each 30-day window end the due requests paid FIFO from idle USDai at the
redemption price. The vault: NAV = idle USDai + principal outstanding; idle USDai funds the day-0 loans
and receives every payment and sale recovery. The per-step uniform is the hand-written rule; the engine
draws the same law by Poisson thinning (usdai_sim/agents/thinning.py).

Not modelled (the engine has them): capacity limits (every loan is funded at day 0), shocks,
maintenance-LTV covenants, GPU value insurance, springing recourse, CIR/historical T-bill; on the holder
side the secondary market (stakers always queue), reserve yield and fees, first-loss capital, the QEV
auction, and loss recognition before sale (a loss reaches NAV when the fleet is sold). Static borrower
and holder parameters come from ``compile_borrowers``, ``draw_depositors`` and ``HolderBook.draw`` (path
p's populations on path p, as the engine draws them) so both simulate the same agents.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass

import mesa
import numpy as np

from usdai_sim.agents.depositors import DepositorParams, draw_depositors
from usdai_sim.agents.holders import CALM_NEWS, HolderBook
from usdai_sim.agents.signals import OUTFLOW_WINDOW_DAYS
from usdai_sim.params import BorrowerParams, Params, compile_borrowers, compile_params
from usdai_sim.scenario.schema import Depositors, Depreciation, Scenario

PENDING, ACTIVE, REPAID, DEFAULTED, CLOSED = range(5)
NO_ROUTE, ROUTE_PAYMENT, ROUTE_STRATEGIC, ROUTE_FRAUD = range(4)
ROUTE_NAMES = {ROUTE_PAYMENT: "payment", ROUTE_STRATEGIC: "strategic", ROUTE_FRAUD: "fraud"}
DAYS_PER_YEAR = 365.0
PERIOD_DAYS = 30.0


# ------------------------------------------------------------------ plain-Python formulas


def ou_constants(kappa: float, sigma: float, dt_years: float) -> tuple[float, float]:
    """(decay, noise scale) of an exact OU step over dt: e^{-κdt}, σ·sqrt((1 − e^{-2κdt}) / 2κ)."""
    if kappa == 0.0:
        return 1.0, sigma * math.sqrt(dt_years)
    return math.exp(-kappa * dt_years), sigma * math.sqrt(
        -math.expm1(-2.0 * kappa * dt_years) / (2.0 * kappa)
    )


def expit(x: float) -> float:
    """Logistic function, without overflow."""
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


def scheduled_payment(
    balance: float, apr: float, payments_left: int, interest_only: bool
) -> tuple[float, float]:
    """(interest, principal) due at the next date under the loan-router schedule (see protocol/loans.py)."""
    i = apr * PERIOD_DAYS / DAYS_PER_YEAR
    interest = balance * i
    m = max(payments_left, 1)
    if m == 1:
        return interest, balance
    if interest_only:
        return interest, 0.0
    principal = interest / ((1.0 + i) ** m - 1.0) if i > 0.0 else balance / m
    return interest, min(principal, balance)


def depreciation(age_years: float, spec: Depreciation) -> float:
    """Resale value of a GPU of that age as a fraction of list price (the three methods of market/gpu.py)."""
    age = max(age_years, 0.0)
    if spec.method == "straight_line":
        return max(spec.salvage_fraction, 1.0 - (1.0 - spec.salvage_fraction) * age / spec.life_years)
    if spec.method == "declining_balance":
        return max(spec.salvage_fraction, (1.0 - spec.annual_rate) ** age)
    table = spec.vintage_factors
    last = len(table) - 1
    if age > last:
        ratio = table[-1] / table[-2] if last > 0 else 1.0
        value = table[-1] * ratio ** (age - last)
    else:
        k = min(int(age), last - 1) if last > 0 else 0
        value = table[k] + (table[k + 1] - table[k]) * (age - k) if last > 0 else table[0]
    return max(spec.salvage_fraction, value)


# ------------------------------------------------------------------ run-wide constants


@dataclass(frozen=True)
class Rules:
    """Every scenario constant the per-agent model needs, as Python floats (computed once per run)."""

    dt_days: float
    tbill_mean: float
    tbill_decay: float
    tbill_noise: float
    common_drift: float
    common_scale: float
    class_drift: float
    class_scale: float
    resale_weights: tuple[float, float]
    rental_rho: float
    rental_decay: float
    rental_noise: float
    rental_drift: float
    idio_drift: float
    idio_scale: float
    util_decay: float
    util_noise: float
    util_weight: float
    grace_days: float
    grace_premium: float
    time_to_sell_days: float
    sale_factor: float
    fee_fraction: float
    impact: tuple[float, float, float, float, float]

    @classmethod
    def of(cls, scenario: Scenario, sale_factor: float) -> Rules:
        """Constants of ``scenario``; ``sale_factor`` is the forced-sale factor at the time to sell."""
        m, proto = scenario.markets, scenario.protocol
        dt_days = float(scenario.simulation.step_days)
        dt = dt_days / DAYS_PER_YEAR
        g = m.gpu
        sg, sc = g.common.vol_per_sqrt_year, g.class_factor.vol_per_sqrt_year
        total = math.hypot(sg, sc)
        imp = proto.liquidation.price_impact
        return cls(
            dt_days,
            m.tbill.mean_rate,
            *_tbill_constants(scenario, dt),
            *_gbm(g.common.drift_per_year, sg, dt),
            *_gbm(g.class_factor.drift_per_year, sc, dt),
            (sg / total, sc / total) if total > 0 else (0.0, 0.0),
            m.rental.correlation_with_resale,
            *ou_constants(m.rental.kappa_per_year, m.rental.vol_per_sqrt_year, dt),
            m.rental.drift_per_year,
            *_gbm(g.idiosyncratic.drift_per_year, g.idiosyncratic.vol_per_sqrt_year, dt),
            *ou_constants(m.utilisation.kappa_per_year, m.utilisation.vol_per_sqrt_year, dt),
            m.utilisation.common_weight,
            float(proto.grace_days),
            proto.grace_apr_premium,
            float(proto.liquidation.time_to_sell_days),
            sale_factor,
            proto.liquidation.fee_fraction,
            (
                imp.discount_slope,
                imp.max_discount,
                imp.index_impact_per_depth,
                imp.half_life_days,
                imp.window_days,
            ),
        )


def _tbill_constants(scenario: Scenario, dt_years: float) -> tuple[float, float]:
    """(decay, noise scale) of the Vasicek T-bill step; a constant rate never moves."""
    spec = scenario.markets.tbill
    if spec.model == "constant":
        return 1.0, 0.0
    return ou_constants(spec.kappa_per_year, spec.vol_per_sqrt_year, dt_years)


def _gbm(drift: float, vol: float, dt_years: float) -> tuple[float, float]:
    """(log drift per step, log noise scale) of a geometric Brownian factor."""
    return (drift - 0.5 * vol * vol) * dt_years, vol * math.sqrt(dt_years)


def check_supported(scenario: Scenario) -> None:
    """Refuse scenarios using mechanics the per-agent baseline does not implement."""
    proto, cohorts = scenario.protocol, scenario.borrowers.cohorts
    problems = [
        (bool(scenario.shocks), "shocks"),
        (scenario.markets.tbill.model not in ("vasicek", "constant"), "CIR or historical T-bill"),
        (any(c.maintenance_ltv is not None for c in cohorts), "maintenance-LTV covenants"),
        (proto.insurance.cover_usd > 0, "GPU value insurance"),
        (any(c.origination_day != 0 for c in cohorts), "origination after day 0"),
    ]
    unsupported = [name for bad, name in problems if bad]
    if unsupported:
        raise ValueError(f"the per-agent baseline does not implement: {', '.join(unsupported)}")


def forced_sale_factor(days: float, table: dict[int, float]) -> float:
    """Linear interpolation in the forced-sale table, flat beyond its ends (as numpy.interp)."""
    points = sorted(table.items())
    if days <= points[0][0]:
        return points[0][1]
    for (d0, f0), (d1, f1) in zip(points, points[1:], strict=False):
        if days <= d1:
            return f0 + (f1 - f0) * (days - d0) / (d1 - d0)
    return points[-1][1]


@dataclass(frozen=True)
class GpuClassInfo:
    """What a borrower needs to know about its GPU class."""

    list_price_usd: float
    rental_anchor_usd_per_gpu_hour: float
    power_kw_per_gpu: float
    max_ltv: float
    depth_gpus_per_30d: float
    depreciation: Depreciation


@dataclass(frozen=True)
class OperatorSpec:
    """One operator's static parameters (the same on every path), as Python floats."""

    gpu_class: int
    gpus: float
    age_years: float
    requested_ltv: float
    apr: float
    floating: bool
    floating_spread: float
    term_payments: int
    interest_only: bool
    contracted_share: float
    contract_price_fraction: float
    utilisation_logit: float
    power_usd_per_kwh: float
    idle_power_fraction: float
    colocation_usd_per_kw_month: float
    overhead_usd_per_gpu_month: float
    repair_usd_per_gpu_month: float
    pue: float
    contract_months: float
    renter_default_rate_per_year: float
    renter_default_elasticity: float
    renter_customers: float
    receivable_days: float
    sponsor_support_months: float
    operator_vol_per_sqrt_year: float
    initial_cash_months: float
    dsra_months: float
    sweep_months: float
    walk_ratio: float
    fraud_rate_per_year: float
    failure_rate_per_year: float
    insured_hardware: bool
    refinance_ltv: float
    fraud_missing_fraction: float


def operator_specs(bp: BorrowerParams) -> list[OperatorSpec]:
    """One path's compiled population ((n_borrowers,) arrays), one OperatorSpec per borrower."""
    names = [n for n in OperatorSpec.__dataclass_fields__ if n != "gpu_class"]
    columns = {n: getattr(bp, n).tolist() for n in names}
    classes = bp.class_index.tolist()
    return [OperatorSpec(classes[j], **{n: columns[n][j] for n in names}) for j in range(bp.count)]


def class_infos(scenario: Scenario, params: Params) -> list[GpuClassInfo]:
    """Per GPU class, in the scenario's class order."""
    c = params.classes
    specs = list(scenario.markets.gpu.classes.values())
    return [
        GpuClassInfo(
            float(c.list_price_usd[k]),
            float(c.rental_anchor_usd_per_gpu_hour[k]),
            float(c.power_kw_per_gpu[k]),
            float(c.max_ltv[k]),
            float(c.depth_gpus_per_30d[k]),
            specs[k].depreciation,
        )
        for k in range(len(specs))
    ]


# ------------------------------------------------------------------ agents and the per-path model


class GpuBorrower(mesa.Agent):
    """One GPU operator and its loan on one path; all state is Python floats."""

    def __init__(self, model: PathModel, spec: OperatorSpec) -> None:
        super().__init__(model)
        self.spec, self.info = spec, model.classes[spec.gpu_class]
        r = model.rules
        self.p_fraud = 1.0 - math.exp(-spec.fraud_rate_per_year * r.dt_days / DAYS_PER_YEAR)
        self.fleet_decay = (
            1.0
            if spec.insured_hardware
            else math.exp(-spec.failure_rate_per_year * r.dt_days / DAYS_PER_YEAR)
        )
        self.gpus, self.idio_log, self.util_logit = spec.gpus, 0.0, spec.utilisation_logit
        self.operator_log = 0.0
        self.status, self.route = PENDING, NO_ROUTE
        self.principal = self.originated = self.accrued = self.late = self.cash = self.dsra = 0.0
        self.due_interest = self.due_principal = self.claim_interest = self.loss = self.recovered = 0.0
        self.grace_until = self.sale_day = self.next_due = math.inf
        self.apr = self.contract_price = self.sponsor = 0.0
        self.share = spec.contracted_share
        self.payments_left = 0
        self.value_per_gpu = self.info.list_price_usd * depreciation(spec.age_years, self.info.depreciation)

    def open_loan(self) -> None:
        """Day 0: borrow min(requested LTV, class max) × appraisal; fund the reserve and starting cash."""
        s, m = self.spec, self.model
        self.principal = self.originated = (
            min(s.requested_ltv, self.info.max_ltv) * self.gpus * self.value_per_gpu
        )
        self.apr = m.tbill_rate + s.floating_spread if s.floating else s.apr
        self.payments_left, self.next_due = s.term_payments, PERIOD_DAYS
        payment = sum(scheduled_payment(self.principal, self.apr, self.payments_left, s.interest_only))
        self.dsra, self.cash = s.dsra_months * payment, s.initial_cash_months * payment
        self.sponsor = s.sponsor_support_months * payment
        self.contract_price = s.contract_price_fraction * m.rental[s.gpu_class]
        self.share = s.contracted_share
        self.status = ACTIVE

    def step(self) -> None:
        """One day of this operator: factors, value, then operate → accrue → collect → default."""
        if self.status == REPAID or self.status == CLOSED:
            return
        m, r, s = self.model, self.model.rules, self.spec
        gauss = m.random.gauss
        self.idio_log += r.idio_drift + r.idio_scale * gauss(0.0, 1.0)
        z = r.util_weight * m.z_util + math.sqrt(1.0 - r.util_weight**2) * gauss(0.0, 1.0)
        self.util_logit = (
            s.utilisation_logit + (self.util_logit - s.utilisation_logit) * r.util_decay + r.util_noise * z
        )
        age = s.age_years + m.day_end / DAYS_PER_YEAR
        self.value_per_gpu = (
            self.info.list_price_usd
            * depreciation(age, self.info.depreciation)
            * m.resale_index[s.gpu_class]
            * math.exp(self.idio_log)
        )
        if self.status == ACTIVE:
            dt_years, vol = r.dt_days / DAYS_PER_YEAR, s.operator_vol_per_sqrt_year
            self.operator_log += -0.5 * vol * vol * dt_years + vol * math.sqrt(dt_years) * gauss(0.0, 1.0)
            self.operate(m.rental[s.gpu_class] * math.exp(self.operator_log), expit(self.util_logit), r.dt_days)
        self.gpus *= self.fleet_decay
        if self.status == ACTIVE:
            self.accrue(r.dt_days)
            self.collect(m.day_end)
        if self.status == ACTIVE:
            self.check_default(m.day_end)

    def operate(self, spot: float, utilisation: float, dt_days: float) -> None:
        """Roll the contract book; rental revenue minus power, colocation, overhead and repairs into cash."""
        s = self.spec
        self.roll_contracts(spot, dt_days)
        share = self.share
        busy = share + (1.0 - share) * utilisation
        hours = 24.0 * dt_days
        price = share * self.contract_price + (1.0 - share) * utilisation * spot
        kw = self.info.power_kw_per_gpu
        power = kw * s.pue * s.power_usd_per_kwh * (s.idle_power_fraction + (1.0 - s.idle_power_fraction) * busy)
        monthly = kw * s.colocation_usd_per_kw_month + s.overhead_usd_per_gpu_month + s.repair_usd_per_gpu_month
        opex = hours * (power + monthly / (24.0 * PERIOD_DAYS))
        self.cash = max(self.cash + self.gpus * (hours * price - opex), 0.0)

    def roll_contracts(self, spot: float, dt_days: float) -> None:
        """One of n customers fails with probability 1 − e^{−n·h·dt/365}, h = h₀·(p_c / f·R)^k: its part of the
        book goes to spot and its unpaid billing (receivable days) is lost; a share dt/(30·L) of the target book
        is signed at f·R."""
        s = self.spec
        market = s.contract_price_fraction * spot
        over = self.contract_price / market if market > 0 else 1.0
        hazard = s.renter_default_rate_per_year * over**s.renter_default_elasticity
        lost = 0.0
        if self.share > 0 and self.model.random.random() < -math.expm1(
            -s.renter_customers * hazard * dt_days / DAYS_PER_YEAR
        ):
            lost = self.share / s.renter_customers
            self.cash = max(self.cash - lost * self.contract_price * self.gpus * 24.0 * s.receivable_days, 0.0)
        renew = min(dt_days / (PERIOD_DAYS * s.contract_months), 1.0)
        kept = (self.share - lost) * (1.0 - renew)
        signed = s.contracted_share * renew
        self.share = kept + signed
        self.contract_price = (kept * self.contract_price + signed * market) / self.share if self.share > 0 else market

    def accrue(self, dt_days: float) -> None:
        """Interest on the balance; grace interest on a missed payment."""
        self.accrued += self.principal * self.apr * dt_days / DAYS_PER_YEAR
        if self.grace_until != math.inf:
            premium = self.model.rules.grace_premium
            self.late += (
                (self.due_interest + self.due_principal) * (self.apr + premium) * dt_days / DAYS_PER_YEAR
            )

    def collect(self, day: float) -> None:
        """Fix a payment falling due (a floating rate then resets for the next period); pay it, or the
        overdue one, if cash + reserve (+ refinance of the final payment) allow; else start grace."""
        s = self.spec
        in_grace = self.grace_until != math.inf
        due = not in_grace and self.next_due <= day
        if due:
            self.due_interest, self.due_principal = scheduled_payment(
                self.principal, self.apr, self.payments_left, s.interest_only
            )
            if s.floating:
                self.apr = self.model.tbill_rate + s.floating_spread
        if not (due or in_grace):
            return
        amount = self.due_interest + self.due_principal + self.late
        refinance = 0.0
        if self.payments_left <= 1:
            refinance = min(
                max(amount - self.cash - self.dsra, 0.0), s.refinance_ltv * self.gpus * self.value_per_gpu
            )
        support = min(max(amount - self.cash - self.dsra - refinance, 0.0), self.sponsor)
        if self.cash + self.dsra + refinance + support >= amount:
            self.sponsor -= support
            self.pay(amount, refinance + support)
        elif due:
            self.grace_until = self.next_due + self.model.rules.grace_days

    def pay(self, amount: float, refinance: float) -> None:
        """Pay from cash, then the reserve; close at maturity, else refill the reserve and sweep cash."""
        self.model.vault.receive(amount)
        self.cash += refinance
        from_cash = min(self.cash, amount)
        self.cash -= from_cash
        self.dsra -= amount - from_cash
        self.principal -= self.due_principal
        self.accrued = max(self.accrued - self.due_interest, 0.0)
        self.payments_left -= 1
        self.next_due += PERIOD_DAYS
        self.late, self.grace_until = 0.0, math.inf
        if self.payments_left <= 0:
            self.status, self.cash, self.dsra, self.accrued = REPAID, 0.0, 0.0, 0.0
            return
        s = self.spec
        payment = sum(scheduled_payment(self.principal, self.apr, self.payments_left, s.interest_only))
        top_up = min(max(s.dsra_months * payment - self.dsra, 0.0), self.cash)
        self.dsra += top_up
        self.cash = min(self.cash - top_up, s.sweep_months * payment)

    def check_default(self, day: float) -> None:
        """Fraud (a draw), payment (grace expired) or strategic (collateral below walk ratio × principal)."""
        if self.model.random.random() < self.p_fraud:
            route = ROUTE_FRAUD
        elif self.grace_until <= day:
            route = ROUTE_PAYMENT
        elif self.gpus * self.value_per_gpu < self.spec.walk_ratio * self.principal:
            route = ROUTE_STRATEGIC
        else:
            return
        self.status, self.route, self.sale_day = DEFAULTED, route, day + self.model.rules.time_to_sell_days
        r = self.model.rules
        sale = self.gpus * self.value_per_gpu * r.sale_factor * (1.0 - r.fee_fraction) + self.dsra + self.cash
        self.model.vault.news_usd += max(self.principal - sale, 0.0)
        self.claim_interest, self.accrued = self.accrued + self.late, 0.0
        self.grace_until = math.inf
        if route == ROUTE_FRAUD:
            self.gpus *= 1.0 - self.spec.fraud_missing_fraction

    def sell(self, discount: float) -> None:
        """Sell at the forced-sale factor less impact and fee; proceeds + cash + reserve pay the lender."""
        r = self.model.rules
        gross = self.gpus * self.value_per_gpu * r.sale_factor * (1.0 - discount)
        available = max(gross * (1.0 - r.fee_fraction) + self.dsra + self.cash, 0.0)
        to_principal = min(available, self.principal)
        to_interest = min(available - to_principal, self.claim_interest)
        self.recovered += to_principal + to_interest
        self.model.vault.receive(to_principal + to_interest)
        self.model.vault.loss_usd += self.principal - to_principal
        self.loss += self.principal - to_principal
        self.principal = self.cash = self.dsra = 0.0
        self.status = CLOSED


# ------------------------------------------------------------------ the holder side


@dataclass(frozen=True)
class HolderRules:
    """The depositor and queue constants of a scenario, as Python floats."""

    run_proneness: float
    request_fraction: float
    min_request_shares: float
    window_days: float
    p_deposit: float
    deposit_fraction: float
    lookback_steps: int
    news_decay: float
    unstaked_base_rate_per_year: float
    inflow_fraction_per_step: float

    @classmethod
    def of(cls, scenario: Scenario) -> HolderRules:
        """Constants of ``scenario``."""
        spec: Depositors = scenario.depositors
        dt = float(scenario.simulation.step_days)
        queue = scenario.protocol.queue
        return cls(
            spec.run_proneness, spec.request_fraction, queue.min_request_shares, float(queue.window_days),
            1.0 - math.exp(-spec.deposit_rate_per_year * dt / DAYS_PER_YEAR), spec.deposit_fraction,
            max(1, round(spec.yield_lookback_days / dt)), 0.5 ** (dt / spec.loss_news_half_life_days),
            spec.unstaked.redeem_base_rate_per_year, spec.unstaked.inflow_rate_per_year * dt / DAYS_PER_YEAR,
        )


@dataclass
class PathSignals:
    """What holders observe on one path this step (usdai_sim/agents/signals.py; no secondary market)."""

    spread: float = 0.0
    drawdown: float = 0.0
    loss_news: float = 0.0
    queue_share: float = 0.0
    unfunded_queue_share: float = 0.0
    outflow_share: float = 0.0


class PathVault:
    """sUSDai on one path: idle USDai, shares (held + pending), the FIFO queue and the signal history."""

    def __init__(self, nav_usd: float, unstaked_usd: float, lookback_steps: int, outflow_steps: int) -> None:
        self.idle_usd, self.shares, self.pending = nav_usd, nav_usd, 0.0
        self.initial_shares = nav_usd
        self.loans_usd, self.unstaked_usd = 0.0, unstaked_usd
        self.price = self.peak_price = 1.0
        self.news_usd = self.loss_usd = self.cum_loss_per_share = self.cum_tbill = 0.0
        self.history: deque[tuple[float, float]] = deque([(1.0, 0.0)] * lookback_steps, maxlen=lookback_steps)
        self.outflows: deque[float] = deque([0.0] * outflow_steps, maxlen=outflow_steps)
        self.queue: deque[Staker] = deque()
        self.signals = PathSignals()
        self.redeemed_shares = 0.0

    def receive(self, usd: float) -> None:
        """A payment or recovery into idle USDai."""
        self.idle_usd += usd

    def nav_usd(self) -> float:
        """Idle USDai plus principal outstanding."""
        return self.idle_usd + self.loans_usd

    def observe(self, loans_usd: float, tbill: float, dt_days: float, news_decay: float) -> None:
        """Mark NAV and the price to the step's end and compute the signals (usdai_sim/agents/signals.py)."""
        self.loans_usd = loans_usd
        nav = max(self.nav_usd(), 1e-9)
        self.price = nav / self.shares if self.shares > 0 else self.price
        self.peak_price = max(self.peak_price, self.price)
        self.cum_loss_per_share += self.loss_usd / self.shares if self.shares > 0 else 0.0
        self.cum_tbill += tbill * dt_days / DAYS_PER_YEAR
        quality = self.price + self.cum_loss_per_share
        old_quality, old_tbill = self.history[0]
        window = len(self.history) * dt_days
        self.history.append((quality, self.cum_tbill))
        s = self.signals
        s.spread = (quality / old_quality - 1.0 - (self.cum_tbill - old_tbill)) * DAYS_PER_YEAR / window
        s.drawdown = 1.0 - self.price / self.peak_price
        s.loss_news = s.loss_news * news_decay + self.news_usd / nav
        pending_usd = self.pending * self.price
        s.queue_share, s.unfunded_queue_share = pending_usd / nav, max(pending_usd - self.idle_usd, 0.0) / nav
        s.outflow_share = sum(self.outflows) / (nav + self.unstaked_usd)
        self.news_usd = self.loss_usd = 0.0
        self.outflows.append(0.0)

    def request(self, staker: Staker, shares: float, window_end_day: float) -> None:
        """requestRedeem: shares move to pending, the request joins the queue's tail."""
        staker.shares -= shares
        staker.pending += shares
        staker.window_end = window_end_day
        self.pending += shares
        self.outflows[-1] += shares * self.price
        self.queue.append(staker)

    def deposit(self, staker: Staker, usd: float) -> None:
        """Mint shares at the redemption price for USDai from the staker's wallet."""
        minted = usd / self.price
        staker.wallet -= usd
        staker.shares += minted
        self.shares += minted
        self.idle_usd += usd

    def service(self, day_end: float) -> None:
        """Pay due requests FIFO from idle USDai at the price; a partly paid request stays at the head."""
        while self.queue and self.queue[0].window_end <= day_end and self.idle_usd > 0.0:
            staker = self.queue[0]
            value = staker.pending * self.price
            paid = min(value, self.idle_usd)
            burned = staker.pending if paid >= value * (1.0 - 1e-12) else paid / self.price
            self.idle_usd -= paid
            staker.wallet += paid
            staker.pending -= burned
            self.pending -= burned
            self.shares -= burned
            self.redeemed_shares += burned
            if staker.pending > 0.0:
                return
            staker.window_end = math.inf
            self.queue.popleft()


@dataclass(frozen=True)
class StakerSpec:
    """One staker's drawn behaviour (agents/depositors.py), as Python floats."""

    base: float
    hurdle: float
    spread_t: float
    spread_s: float
    loss_t: float
    loss_s: float
    news_s: float
    herd_t: float
    herd_s: float
    flow_t: float
    flow_s: float


def staker_specs(dp: DepositorParams, path: int) -> list[tuple[StakerSpec, float, float]]:
    """Path ``path``'s stakers (the arbitrageurs' column left out): (spec, balance, wallet) each."""
    names = ("redeem_base_rate_per_year", "deposit_hurdle", "spread_threshold", "spread_sensitivity",
             "loss_threshold", "loss_sensitivity", "news_sensitivity", "herd_threshold", "herd_sensitivity",
             "flow_threshold", "flow_sensitivity")
    columns = [getattr(dp, n)[path, :-1].tolist() for n in names]
    balances, wallets = dp.balance_usd[path, :-1].tolist(), dp.wallet_usd[path, :-1].tolist()
    return [(StakerSpec(*values), b, w) for values, b, w in zip(zip(*columns, strict=True), balances, wallets,
                                                                 strict=True)]


class Staker(mesa.Agent):
    """One sUSDai holder on one path: shares, pending shares, its wallet; one uniform a day."""

    def __init__(self, model: PathModel, spec: StakerSpec, balance_usd: float, wallet_usd: float) -> None:
        super().__init__(model)
        self.spec, self.shares, self.wallet = spec, balance_usd, wallet_usd
        self.pending, self.window_end = 0.0, math.inf

    def hazard_per_year(self, s: PathSignals, run_proneness: float) -> float:
        """h = base + ρ·[s·(θ − spread)⁺ + s·(drawdown − θ)⁺ + s·news + s·(unfunded − θ)⁺ + s·(outflow − θ)⁺]."""
        p = self.spec
        behaviour = (
            p.spread_s * max(p.spread_t - s.spread, 0.0) + p.loss_s * max(s.drawdown - p.loss_t, 0.0)
            + p.news_s * s.loss_news + p.herd_s * max(s.unfunded_queue_share - p.herd_t, 0.0)
            + p.flow_s * max(s.outflow_share - p.flow_t, 0.0)
        )
        return p.base + run_proneness * behaviour

    def step(self) -> None:
        """Want out with probability 1 − exp(−h·Δ/365) and queue a request; else maybe deposit."""
        m = self.model
        r, vault = m.holder_rules, m.vault
        u = m.holder_random.random()
        p_out = -math.expm1(-self.hazard_per_year(vault.signals, r.run_proneness) * m.rules.dt_days / DAYS_PER_YEAR)
        amount = r.request_fraction * self.shares
        if u < p_out and self.pending == 0.0 and amount >= r.min_request_shares:
            vault.request(self, amount, (math.floor(m.day_end / r.window_days) + 1.0) * r.window_days)
        elif u >= 1.0 - r.p_deposit and vault.signals.spread > self.spec.hurdle and self.wallet > 0.0:
            vault.deposit(self, r.deposit_fraction * self.wallet)


class UnstakedHolder(mesa.Agent):
    """One unstaked USDai holder on one path (agents/holders.py; no secondary discount): one uniform a day."""

    def __init__(self, model: PathModel, initial_usd: float, sensitivities: tuple[float, ...]) -> None:
        super().__init__(model)
        self.initial, self.balance = initial_usd, initial_usd
        self.news_s, self.queue_t, self.queue_s, self.flow_t, self.flow_s = sensitivities

    def step(self) -> None:
        """Redeem the whole balance with probability 1 − exp(−h·Δ/365); calm days bring inflows."""
        m = self.model
        s, r, vault = m.vault.signals, m.holder_rules, m.vault
        behaviour = (self.news_s * s.loss_news + self.queue_s * max(s.queue_share - self.queue_t, 0.0)
                     + self.flow_s * max(s.outflow_share - self.flow_t, 0.0))
        h = r.unstaked_base_rate_per_year + r.run_proneness * behaviour
        if m.holder_random.random() < -math.expm1(-h * m.rules.dt_days / DAYS_PER_YEAR):
            vault.outflows[-1] += self.balance
            vault.unstaked_usd -= self.balance
            self.balance = 0.0
        if s.loss_news < CALM_NEWS and s.unfunded_queue_share == 0.0:
            inflow = self.initial * r.inflow_fraction_per_step
            self.balance += inflow
            vault.unstaked_usd += inflow


def holder_specs(book: HolderBook, path: int) -> list[tuple[float, tuple[float, ...]]]:
    """Path ``path``'s unstaked holders: (balance, (news s, queue θ, queue s, flow θ, flow s)) each."""
    arrays = (book.news_sensitivity, book.queue_threshold, book.queue_sensitivity, book.flow_threshold,
              book.flow_sensitivity)
    columns = [a[path].tolist() for a in arrays]
    return list(zip(book.initial_usd[path].tolist(), zip(*columns, strict=True), strict=True))


@dataclass(frozen=True)
class HolderPopulation:
    """One path's stakers and unstaked holders, as the engine draws them."""

    stakers: list[tuple[StakerSpec, float, float]]
    holders: list[tuple[float, tuple[float, ...]]]


class PathModel(mesa.Model):
    """One Monte Carlo path: markets as Python floats (one entry per GPU class), the borrowers, the vault
    and its holders."""

    def __init__(
        self,
        rules: Rules,
        specs: list[OperatorSpec],
        classes: list[GpuClassInfo],
        tbill0: float,
        seed: int,
        holders: tuple[HolderRules, HolderPopulation, float, float] | None = None,
    ) -> None:
        super().__init__(rng=seed)
        self.holder_random = random.Random(seed + 1)  # holders draw apart, so borrowers see the same numbers
        self.rules, self.classes = rules, classes
        n = len(classes)
        self.day = self.day_end = 0.0
        self.tbill_base, self.tbill_rate = tbill0, max(tbill0, 0.0)
        self.common_log, self.z_util = 0.0, 0.0
        self.class_log, self.rental_dev = [0.0] * n, [0.0] * n
        self.impact_log, self.recent_sold = [0.0] * n, [0.0] * n
        self.resale_index = [1.0] * n
        self.rental = [c.rental_anchor_usd_per_gpu_hour for c in classes]
        self.borrowers = [GpuBorrower(self, spec) for spec in specs]
        self.vault = PathVault(0.0, 0.0, 1, 1)
        self.stakers: list[Staker] = []
        self.unstaked: list[UnstakedHolder] = []
        if holders is not None:
            self.open_vault(*holders)
        for agent in self.borrowers:
            agent.open_loan()
        self.vault.idle_usd -= sum(a.originated for a in self.borrowers)

    def open_vault(self, rules: HolderRules, population: HolderPopulation, nav_usd: float,
                   unstaked_usd: float) -> None:
        """The vault at its initial NAV (shares at a price of 1.0) and its stakers and unstaked holders."""
        self.holder_rules = rules
        outflow_steps = max(1, round(OUTFLOW_WINDOW_DAYS / self.rules.dt_days))
        self.vault = PathVault(nav_usd, unstaked_usd, rules.lookback_steps, outflow_steps)
        self.stakers = [Staker(self, *staker) for staker in population.stakers]
        self.unstaked = [UnstakedHolder(self, *holder) for holder in population.holders]

    def step(self) -> None:
        """One day: markets, every borrower, the sales of fleets whose time to sell has passed, then the
        holders (signals, unstaked holders, stakers) and the queue's service at a window end."""
        self.day_end = self.day + self.rules.dt_days
        self.markets()
        for agent in self.borrowers:
            agent.step()
        self.sales()
        if self.stakers:
            self.holder_phase()
        self.day = self.day_end

    def holder_phase(self) -> None:
        """Observe, unstaked holders, stakers, then pay due requests (usdai_sim/model.py: depositors, service)."""
        loans = sum(a.principal for a in self.borrowers if a.status in (ACTIVE, DEFAULTED))
        self.vault.observe(loans, self.tbill_rate, self.rules.dt_days, self.holder_rules.news_decay)
        for holder in self.unstaked:
            holder.step()
        for staker in self.stakers:
            staker.step()
        self.vault.service(self.day_end)

    def markets(self) -> None:
        """T-bill (Vasicek), GPU common and class factors, rentals (OU, tied to resale), resale index."""
        r, gauss = self.rules, self.random.gauss
        self.tbill_base = (
            r.tbill_mean + (self.tbill_base - r.tbill_mean) * r.tbill_decay + r.tbill_noise * gauss(0.0, 1.0)
        )
        self.tbill_rate = max(self.tbill_base, 0.0)
        z_common = gauss(0.0, 1.0)
        self.common_log += r.common_drift + r.common_scale * z_common
        trend = r.rental_drift * self.day_end / DAYS_PER_YEAR
        own = math.sqrt(1.0 - r.rental_rho**2)
        for c, info in enumerate(self.classes):
            z_class = gauss(0.0, 1.0)
            self.class_log[c] += r.class_drift + r.class_scale * z_class
            z_resale = r.resale_weights[0] * z_common + r.resale_weights[1] * z_class
            z_rental = r.rental_rho * z_resale + own * gauss(0.0, 1.0)
            self.rental_dev[c] = self.rental_dev[c] * r.rental_decay + r.rental_noise * z_rental
            self.rental[c] = info.rental_anchor_usd_per_gpu_hour * math.exp(trend + self.rental_dev[c])
            self.resale_index[c] = math.exp(self.common_log + self.class_log[c] + self.impact_log[c])
        self.z_util = gauss(0.0, 1.0)

    def sales(self) -> None:
        """Sell due fleets: the class's sold volume depresses its index and sets the fire-sale discount."""
        r = self.rules
        selling = [a for a in self.borrowers if a.status == DEFAULTED and a.sale_day <= self.day_end]
        sold = [0.0] * len(self.classes)
        for agent in selling:
            sold[agent.spec.gpu_class] += agent.gpus
        slope, max_discount, per_depth, half_life, window = r.impact
        for c, info in enumerate(self.classes):
            self.recent_sold[c] = self.recent_sold[c] * math.exp(-r.dt_days / window) + sold[c]
            self.impact_log[c] = (
                self.impact_log[c] * 2.0 ** (-r.dt_days / half_life)
                - per_depth * sold[c] / info.depth_gpus_per_30d
            )
        for agent in selling:
            ratio = self.recent_sold[agent.spec.gpu_class] / agent.info.depth_gpus_per_30d
            agent.sell(min(max(slope * ratio, 0.0), max_discount))

    def outcome(self) -> dict[str, float]:
        """This path at the horizon: loans originated and defaulted, outstanding principal, loss, recovery;
        with holders, the share of the initial sUSDai redeemed and the open requests."""
        agents = self.borrowers
        borrowers = {
            "loans_originated": float(sum(a.originated > 0 for a in agents)),
            "loans_defaulted": float(sum(a.route != NO_ROUTE for a in agents)),
            **{
                f"defaults_{name}": float(sum(a.route == code for a in agents))
                for code, name in ROUTE_NAMES.items()
            },
            "principal_outstanding_usd": sum(a.principal for a in agents),
            "loss_usd": sum(a.loss for a in agents),
            "recovery_usd": sum(a.recovered for a in agents),
        }
        if not self.stakers:
            return borrowers
        initial = self.vault.initial_shares
        return {
            **borrowers,
            "redeemed_share": self.vault.redeemed_shares / initial,
            "open_requests": float(sum(s.pending > 0.0 for s in self.stakers)),
            "pending_share": self.vault.pending / initial,
        }


# ------------------------------------------------------------------ running it


def path_seed(seed: int, path: int) -> int:
    """An independent seed for each path's model."""
    return int(np.random.SeedSequence([seed, path]).generate_state(1)[0])


def holder_populations(scenario: Scenario, paths: int) -> list[HolderPopulation]:
    """Per path, the stakers and unstaked holders the engine draws for it."""
    dp, book = draw_depositors(scenario, 0, paths), HolderBook.draw(scenario, 0, paths)
    return [HolderPopulation(staker_specs(dp, p), holder_specs(book, p)) for p in range(paths)]


def run_paths(
    scenario: Scenario, paths: int, seed: int | None = None, holders: bool = True
) -> dict[str, np.ndarray]:
    """Simulate ``paths`` paths of the scenario to its horizon; per-path outcomes as arrays.

    ``holders=False`` leaves out the vault's holders (borrowers only, as the first baseline)."""
    check_supported(scenario)
    params = compile_params(scenario)
    proto = scenario.protocol
    sale_factor = forced_sale_factor(
        proto.liquidation.time_to_sell_days, proto.liquidation.forced_sale_factors
    )
    rules = Rules.of(scenario, sale_factor)
    population, classes = compile_borrowers(scenario, 0, paths), class_infos(scenario, params)
    populations = holder_populations(scenario, paths) if holders else None
    vault_rules = HolderRules.of(scenario)
    everyone = np.arange(population.count)
    base_seed = scenario.simulation.seed if seed is None else seed
    rows = []
    for p in range(paths):
        specs = operator_specs(population.take(np.full(population.count, p), everyone))
        side = None if populations is None else (
            vault_rules, populations[p], proto.initial_susdai_nav_usd, proto.unstaked_usdai_usd
        )
        model = PathModel(rules, specs, classes, scenario.markets.tbill.initial_rate, path_seed(base_seed, p), side)
        for _ in range(scenario.simulation.n_steps):
            model.step()
        rows.append(model.outcome())
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}
