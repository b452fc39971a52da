"""The mesa Model: one work block of paths, advanced by a declared list of phases.

Every phase is a function of the whole model that works on (n_paths, ...) arrays at once; there is
no Python loop over paths, borrowers or depositors inside a step (the borrower rules are compiled loops
over the live loans, ``agents/borrower_kernel.py``). Agents (mesa) are views of one
column of the arrays, for reading and reporting. The order of PHASES is part of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import mesa
import numpy as np

from usdai_sim import depositor_phases as dph
from usdai_sim.agents import borrower_kernel as bk
from usdai_sim.agents import borrowers as br
from usdai_sim.agents.borrowers import Borrower, BorrowerBook
from usdai_sim.agents.default_option import BoundaryStack, cohort_tables
from usdai_sim.agents.depositors import Depositor
from usdai_sim.errors import InvariantError
from usdai_sim.ledger import Ledger, identity_errors, roundoff_scale_usd
from usdai_sim.market.gpu import expit, log_factor_step, price_impact_discount, utilisation_step
from usdai_sim.market.shocks import ShockSchedule
from usdai_sim.market.state import MarketState, advance_markets, record_forced_sales, tbill_history
from usdai_sim.market.valuation import FleetView, IncomeValuation, median_log_change, trend_deviation
from usdai_sim.params import (
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    PAYMENT_INTERVAL_DAYS,
    BorrowerParams,
    Params,
    block_params,
    depreciation_fraction,
)
from usdai_sim.protocol import liquidation as liq
from usdai_sim.protocol import loss_recognition as lr
from usdai_sim.protocol.loans import scheduled_payment
from usdai_sim.protocol.vault import (
    VaultState,
    fifo_fill_requests,
    qev_bids,
    reserve_yield_usd,
    running_sums_by_row,
    share_price,
    window_end_day,
)
from usdai_sim.recorder import Recorder
from usdai_sim.rng import Streams, seed_sequence
from usdai_sim.series import SeriesFile

Amount = np.ndarray | float
"""A per-path amount, or one number for every path."""


@dataclass(frozen=True)
class Phase:
    """A named step of the model with a one-line description."""

    name: str
    description: str
    apply: Callable[[UsdaiModel], None]


class UsdaiModel(mesa.Model):
    """GPU loans, USDai and sUSDai on ``n_paths`` Monte Carlo paths starting at path ``first_path``."""

    def __init__(
        self,
        params: Params,
        first_path: int,
        n_paths: int,
        check_invariants: bool = False,
        series_out: np.ndarray | SeriesFile | None = None,
    ) -> None:
        scenario = params.scenario
        super().__init__(
            rng=np.random.default_rng(seed_sequence(scenario.simulation.seed, "population", first_path))
        )
        self.params, self.scenario = block_params(params, first_path, n_paths), scenario
        params = self.params
        self.dt_days = float(scenario.simulation.step_days)
        self.n_paths, self.first_path = n_paths, first_path
        self.check_invariants = check_invariants
        self.streams = Streams(scenario.simulation.seed, first_path, n_paths)
        self.day, self.day_end, self.step_index = 0.0, 0.0, 0
        self.book = BorrowerBook.new(params.borrowers, n_paths)
        power_kw = params.classes.power_kw_per_gpu[params.borrowers.class_index]
        self.operator_terms = br.OperatorTerms.new(params.borrowers, power_kw, self.dt_days)
        self.boundaries = BoundaryStack.of(cohort_tables(scenario))
        valuation = scenario.markets.gpu.valuation
        self.valuation = (
            IncomeValuation(valuation, scenario.markets.rental) if valuation.method == "income" else None
        )
        self.losses = lr.LossSchedule.new((n_paths, params.borrowers.count))
        dph.new_holder_state(self)
        proto = scenario.protocol
        self.vault = VaultState.new(
            n_paths,
            proto.initial_susdai_nav_usd,
            proto.unstaked_usdai_usd,
            proto.first_loss_usd,
            proto.insurance.cover_usd,
        )
        self.market = MarketState.new(n_paths, params.classes, scenario.markets.tbill.initial_rate)
        self.shocks = ShockSchedule(scenario, self.streams)
        self.history = tbill_history(scenario.markets, scenario.simulation)
        self.sale_factor = liq.forced_sale_factor(
            proto.liquidation.time_to_sell_days, proto.liquidation.forced_sale_factors
        )
        self.interest_fee = proto.admin_fee_loan_interest_bps / 1e4
        self.borrower_agents = [Borrower(self, col) for col in range(params.borrowers.count)]
        self.depositor_agents = [Depositor(self, col) for col in range(self.depositors.shares.shape[1])]
        self.wave_hit = np.zeros(n_paths)
        self.queue_due_day = np.inf  # earliest window end among open requests: no servicing before it
        self._draw_arrivals()
        order = np.argsort(self._queue_key(), axis=1, kind="stable")
        self.origination_rank = np.empty_like(order)  # each request's place in its path's funding order
        np.put_along_axis(self.origination_rank, order, np.arange(params.borrowers.count)[None, :], axis=1)
        self.class_columns = [np.flatnonzero(params.class_onehot[:, c]) for c in range(len(params.classes.names))]
        self.recorder = Recorder(self, series_out)
        self._initial_state()

    # -------------------------------------------------------------- helpers

    def _draw_arrivals(self) -> None:
        """Request days of the arrival columns, per path: a Poisson process per cohort (exponential gaps at the
        cohort's rate, cumulated over its arrival columns in order). The fleet's build day follows from its age."""
        bp, book = self.params.borrowers, self.book
        arriving = bp.arrival_rate_per_day > 0
        if arriving.any():
            gaps = -np.log1p(-self.streams.uniform("arrivals", int(arriving.sum())))
            days = np.zeros(book.request_day.shape)
            days[:, arriving] = gaps / bp.arrival_rate_per_day[arriving]
            for g in np.unique(bp.cohort[arriving]):
                cols = np.flatnonzero(arriving & (bp.cohort == g))
                book.request_day[:, cols] = np.cumsum(days[:, cols], axis=1)
        self.fleet_built_day = book.request_day - bp.age_years * DAYS_PER_YEAR

    def _queue_key(self) -> np.ndarray:
        """Funding order of requests per path (P, B): planned origination day, or an arrival column's expected
        arrival day."""
        bp = self.params.borrowers
        rank = np.zeros(bp.count)
        for g in np.unique(bp.cohort):
            cols = np.flatnonzero((bp.cohort == g) & (bp.arrival_rate_per_day > 0))
            rank[cols] = np.arange(1, cols.size + 1) / bp.arrival_rate_per_day[cols]
        return np.broadcast_to(np.where(bp.arrival_rate_per_day > 0, rank, bp.origination_day), self.book.status.shape)

    def _initial_state(self) -> None:
        """Day 0: price the collateral, fund the loans requested at day 0, record."""
        self.ledger = Ledger(self.n_paths)
        self.total_shares, self.pending_total = self.count_shares()
        self.share_scale = np.maximum(self.total_shares, 1.0)  # round-off scale of the running share totals
        self.price_cons = self.price_opt = np.ones(self.n_paths)
        if self.history is not None:
            self.market.tbill_base = np.full(self.n_paths, self.history[0])
            self.market.tbill = np.maximum(self.market.tbill_base, 0.0)
        self.market_shocks = self.shocks.at(0.0)
        self._value_collateral()
        self.utilisation = self._utilisation()
        self._nav()
        originate(self)
        self._nav()
        proto = self.scenario.protocol
        start = np.full(self.n_paths, proto.initial_susdai_nav_usd + proto.unstaked_usdai_usd)
        self.roundoff_scale_usd = roundoff_scale_usd(start, self.ledger, self.vault.supply_usd, self.vault.reserves_usd)
        self.recorder.start(self)

    def _value_collateral(self) -> None:
        """Resale value per GPU (P, B) = list × fundamental fraction × liquidity index × exp(idiosyncratic);
        the fundamental fraction is the income value (``market/valuation.py``, one compiled pass that also
        values the collateral) or the depreciation curve."""
        cls = self.params.borrowers.class_index
        list_usd = self.params.classes.list_price_usd[cls]
        if self.valuation is not None:
            fleet = FleetView(cls, list_usd, self.market.resale_index, self.book.idio_log, self.fleet_built_day,
                              self.book.gpus)
            self.fundamental, self.value_usd_per_gpu, self.collateral_usd = self.valuation.value_per_gpu(
                self.day_end / DAYS_PER_YEAR, self._trend_deviation(), self.day_end, fleet
            )
            return
        fraction = depreciation_fraction(self.scenario, self.params.borrowers, self.step_index * self.dt_days)
        self.fundamental = list_usd * np.broadcast_to(fraction, self.book.status.shape)
        self.value_usd_per_gpu = self.fundamental * self.market.resale_index[:, cls] * np.exp(self.book.idio_log)
        self.collateral_usd = br.collateral_usd(self.book, self.value_usd_per_gpu)

    def _trend_deviation(self) -> np.ndarray:
        """Each class's rental deviation from its trend today, (P, C) (``valuation.trend_deviation``)."""
        return trend_deviation(
            self.market.rental_usd_per_gpu_hour,
            self.params.classes.rental_anchor_usd_per_gpu_hour,
            self.scenario.markets.rental.drift_per_year,
            self.day_end / DAYS_PER_YEAR,
        )

    def life_left_years(self) -> np.ndarray:
        """Economic life each fleet has left at the step's end, (P, B) years (negative once it is spent)."""
        life = self.scenario.markets.gpu.valuation.economic_life_years
        return life - (self.day_end - self.fleet_built_day) / DAYS_PER_YEAR

    def _utilisation(self) -> np.ndarray:
        return np.minimum(
            expit(self.book.util_logit) * self.market_shocks.utilisation_multiplier[:, None], 1.0
        )

    def _nav(self, loans_changed: bool = True, paths: np.ndarray | None = None) -> None:
        """NAV (both), total shares and prices; the loan sums are reused when only the vault side moved, and
        re-summed only on ``paths`` when only their loans moved (a row's sum does not depend on the others)."""
        if loans_changed and paths is None:
            self.carrying_usd = self.book.carrying_usd().sum(axis=1) + self.losses.unrecognised_usd()
            self.accrued_net_usd = (1.0 - self.interest_fee) * self.book.active_accrued_usd().sum(axis=1)
        elif loans_changed and paths is not None:
            book = self.book.rows(paths)
            self.carrying_usd[paths] = book.carrying_usd().sum(axis=1) + self.losses.rows(paths).unrecognised_usd()
            self.accrued_net_usd[paths] = (1.0 - self.interest_fee) * book.active_accrued_usd().sum(axis=1)
        self.nav_cons = self.vault.idle_usd + self.carrying_usd
        self.nav_opt = self.nav_cons + self.accrued_net_usd
        self.price_cons = share_price(self.nav_cons, self.total_shares, self.price_cons)
        self.price_opt = share_price(self.nav_opt, self.total_shares, self.price_opt)

    def count_shares(self) -> tuple[np.ndarray, np.ndarray]:
        """(total sUSDai shares incl. pending and admin, pending shares) per path, summed from the books."""
        d = self.depositors
        pending = d.pending_shares.sum(axis=1)
        return d.shares.sum(axis=1) + pending + self.vault.admin_shares, pending

    def move_shares(self, minted: Amount, pending_added: Amount, burned: Amount) -> None:
        """Keep the running share totals (per path): mints, shares moved into pending, shares burned."""
        self.total_shares = self.total_shares + minted - burned
        self.pending_total = self.pending_total + pending_added

    def place_requests(self, rows: np.ndarray, cols: np.ndarray, shares: np.ndarray, day: float) -> None:
        """ERC-7540 requestRedeem: shares move to pending and join the window in progress on ``day``."""
        d, window = self.depositors, self.scenario.protocol.queue.window_days
        d.shares[rows, cols] -= shares
        d.pending_shares[rows, cols] += shares
        d.queue_key[rows, cols] = day
        d.request_day[rows, cols] = day
        d.window_end_day[rows, cols] = window_end_day(day, window)
        if rows.size:
            self.queue_due_day = min(self.queue_due_day, window_end_day(day, window))
        self.ledger.add("redemption_requests", np.bincount(rows, minlength=self.n_paths))
        self.move_shares(0.0, np.bincount(rows, weights=shares, minlength=self.n_paths), 0.0)
        self._nav(loans_changed=False)

    def recognise_loss(self, loss_usd: np.ndarray) -> None:
        """Write a loan down by a principal loss (P, B) (negative = write-back) and book it."""
        self.book.writedown_usd += loss_usd
        self.book_loss(loss_usd)

    def book_loss(self, loss_usd: np.ndarray) -> None:
        """Book a recognised principal loss (P, B) in NAV; first-loss capital absorbs positive losses."""
        per_path = loss_usd.sum(axis=1)
        self.ledger.add("principal_loss_usd", per_path)
        absorbed = np.minimum(np.maximum(per_path, 0.0), self.vault.first_loss_left_usd)
        self.vault.first_loss_left_usd -= absorbed
        self.vault.receive(absorbed)
        self.ledger.add("first_loss_usd", absorbed)

    # -------------------------------------------------------------- mesa

    def step(self) -> None:
        """Advance every path by one time step: run each phase in order."""
        self.ledger = Ledger(self.n_paths)
        nav_before = self.nav_opt.copy()
        self.day_end = self.day + self.dt_days
        for phase in PHASES:
            phase.apply(self)
        if self.check_invariants:
            self._check(nav_before)
        self.day = self.day_end

    def _balances(self) -> tuple[tuple[str, np.ndarray], ...]:
        """The balances that must stay finite and non-negative, by name."""
        return (
            ("idle USDai", self.vault.idle_usd),
            ("borrower cash", self.book.cash_usd),
            ("reserve", self.book.dsra_usd),
            ("shares", self.depositors.shares),
            ("pending shares", self.depositors.pending_shares),
        )

    def _check(self, nav_before: np.ndarray) -> None:
        problems = identity_errors(
            nav_before,
            self.nav_opt,
            self.ledger,
            self.interest_fee,
            self.vault.supply_usd,
            self.vault.reserves_usd,
            self.roundoff_scale_usd,
        )
        negatives = [
            name
            for name, arr in self._balances()
            if np.any(arr < -1e-6 * max(1.0, float(np.abs(arr).max(initial=0.0))))
        ]
        problems += [f"negative {name}" for name in negatives]
        problems += [f"NaN or infinity in {name}" for name, arr in self._balances() if not np.all(np.isfinite(arr))]
        total, pending = self.count_shares()
        drift = np.maximum(np.abs(total - self.total_shares), np.abs(pending - self.pending_total))
        if np.any(drift > 1e-9 * np.maximum(total, self.share_scale)):
            problems.append("running share totals disagree with the depositors' books")
        if np.any(self.nav_opt < self.nav_cons - 1e-9 * np.abs(self.nav_cons)):
            problems.append("optimistic NAV below conservative NAV")
        if problems:
            raise InvariantError(f"day {self.day_end:g}: " + "; ".join(problems))


# ------------------------------------------------------------------ phases


def row_totals(values: np.ndarray) -> np.ndarray:
    """Per-path sums of a (P, N) array over a *subset* of columns, summed in column order over its non-zero
    entries, so the total does not depend on which zero columns the subset happened to include (and hence
    not on how paths were grouped into work blocks)."""
    rows, cols = np.nonzero(values)
    return np.bincount(rows, weights=values[rows, cols], minlength=values.shape[0])



def markets(m: UsdaiModel) -> None:
    """Move T-bill, GPU factors, rentals and utilisation to the step's end; apply shocks; revalue collateral."""
    spec = m.scenario.markets
    m.step_index += 1
    m.market_shocks = m.shocks.at(m.day_end)
    history = None if m.history is None else float(m.history[m.step_index])
    advance_markets(
        m.market, spec, m.params.classes, m.streams, m.market_shocks, m.day_end, m.dt_days, history
    )
    dt_years = m.dt_days / DAYS_PER_YEAR
    n_b = m.params.borrowers.count
    idio = spec.gpu.idiosyncratic
    m.book.idio_log = log_factor_step(
        m.book.idio_log,
        idio.drift_per_year,
        idio.vol_per_sqrt_year,
        dt_years,
        m.streams.normal("gpu_idio", n_b),
    )
    u = spec.utilisation
    m.book.util_logit = utilisation_step(
        m.book.util_logit,
        m.params.borrowers.utilisation_logit,
        u.kappa_per_year,
        u.vol_per_sqrt_year,
        dt_years,
        m.streams.normal("util_common")[:, None],
        m.streams.normal("util_idio", n_b),
        u.common_weight,
    )
    m.utilisation = m._utilisation()
    m._value_collateral()


def loans(m: UsdaiModel) -> None:
    """Every loan's own rules in one compiled pass (``borrowers.step_loans``): borrowers earn rental revenue and pay
    power, colocation and overhead, and hardware fails; interest accrues, grace interest on missed payments; owners
    at a payment date below their default boundary walk; due payments are paid from cash, the reserve, then the
    sponsor's bounded support, misses start the grace period, loans mature; covenant breaches are cured or run
    out; fraud, payment, covenant and strategic defaults start. Then the books: reserve yield is minted to the
    vault, payments received, healthy owners of matured loans re-borrow, sales are scheduled."""
    loan_rules(m, br.ALL_PARTS)


def loan_rules(m: UsdaiModel, parts: int) -> None:
    """``loans`` restricted to ``parts`` of the rules (``borrower_kernel.OPERATE`` | ...): their draws, their pass
    and their book-keeping only (the stateful tests interleave them)."""
    bp, proto = m.params.borrowers, m.scenario.protocol
    cls = bp.class_index
    operating = parts & br.OPERATE
    draws: dict[str, np.ndarray] = {}  # the random numbers of the parts run; LoanMarket's stand-ins for the others
    if operating:
        draws.update(renter_uniform=m.streams.uniform("renter_failure", cls.size),
                     operator_normal=m.streams.normal("operator", cls.size))
    if parts & br.ROUTE:
        fraud = m.streams.uniform("fraud", bp.count)
        chances = br.fraud_chances(bp.fraud_rate_per_year, m.market_shocks.fraud_multiplier, fraud, m.dt_days)
        draws.update(fraud_probability=chances, fraud_uniform=fraud)
    market = br.LoanMarket(m.market.rental_usd_per_gpu_hour[:, cls], m.utilisation, m.value_usd_per_gpu,
                           m.market.tbill, **draws)
    insured = parts & br.ACCRUE and proto.insurance.premium_bps_per_year > 0
    carrying_usd = m.book.carrying_usd().sum(axis=1) if insured else None  # before any payment, as cover is priced
    rules = br.StepRules(m.day_end, m.dt_days, proto.grace_days, proto.grace_apr_premium,
                         m.scenario.borrowers.default_rule == "collateral_barrier")
    step = br.step_loans(m.book, bp, m.operator_terms, market, rules, m.boundaries, m.recorder.days_on_book, parts,
                         None if operating else m.collateral_usd)
    m.collateral_usd = step.collateral_usd
    if parts & br.ACCRUE:
        _book_accrual(m, step.accrued_usd, carrying_usd)
    _book_payments(m, step)
    if parts & (br.COVENANT | br.ROUTE):
        _book_defaults(m, step)


def _book_accrual(m: UsdaiModel, accrued_usd: np.ndarray, carrying_usd: np.ndarray | None) -> None:
    """Interest accrued on loans is booked; reserve yield is minted to the vault; the insurance premium on the
    cover of ``carrying_usd`` (per path; None: no premium) is paid from idle USDai."""
    proto = m.scenario.protocol
    m.ledger.add("interest_accrued_usd", accrued_usd)
    gross = reserve_yield_usd(
        m.vault.supply_usd, m.market.tbill, proto.incentive_apr, proto.incentive_cap_usd, m.dt_days
    )
    fee = gross * (proto.admin_fee_base_yield_bps / 1e4)  # a fraction <= 1 first: the fee never rounds above gross
    m.vault.receive(gross - fee)
    m.ledger.add("reserve_yield_usd", gross)
    m.ledger.add("reserve_fee_usd", fee)
    if carrying_usd is not None:
        covered = np.minimum(m.vault.insurance_left_usd, carrying_usd)
        premium = covered * proto.insurance.premium_bps_per_year / 1e4 * m.dt_days / DAYS_PER_YEAR
        premium = np.minimum(premium, np.maximum(m.vault.idle_usd, 0.0))  # paid from idle USDai only
        m.vault.pay_out(premium)
        m.ledger.add("insurance_premium_usd", premium)


def _book_payments(m: UsdaiModel, step: br.LoanStep) -> None:
    """Payments received go to the vault less the interest fee; a matured loan's SPV is closed and the accrued
    interest it was not charged reversed; healthy owners of matured loans re-borrow."""
    paid, matured = step.payments, step.matured
    if paid.paths.size == 0:  # nobody paid (so nothing matured): every sum below is 0
        return
    interest_usd, late_usd = paid.per_path(paid.interest_usd), paid.per_path(paid.late_interest_usd)
    principal_usd = paid.per_path(paid.principal_usd)
    fee = m.interest_fee * (interest_usd + late_usd)
    m.vault.receive(interest_usd + late_usd - fee + principal_usd)
    for name, amount in (
        ("interest_paid_usd", interest_usd),
        ("late_interest_usd", late_usd),
        ("principal_repaid_usd", principal_usd),
        ("interest_fee_usd", fee),
        ("loans_repaid", paid.per_path(matured)),
    ):
        m.ledger.add(name, amount)
    if not matured.any():
        return
    m.book.cash_usd = np.where(matured, 0.0, m.book.cash_usd)
    m.book.dsra_usd = np.where(matured, 0.0, m.book.dsra_usd)
    m.ledger.add("accrued_reversed_usd", np.where(matured, step.unowed_usd - paid.interest_usd, 0.0))
    if m.scenario.borrowers.refinance_at_maturity:
        _request_again(m, matured)


def _request_again(m: UsdaiModel, matured: np.ndarray) -> None:
    """An owner whose fleet has at least half a loan term of economic life left asks for a new loan now."""
    again = matured & (m.life_left_years() * 12.0 >= 0.5 * m.params.borrowers.term_payments)
    m.book.status = np.where(again, br.PENDING, m.book.status).astype(np.int8)
    m.book.request_day = np.where(again, m.day_end, m.book.request_day)


def _book_defaults(m: UsdaiModel, step: br.LoanStep) -> None:
    """Covenant prepayments go to the vault; new defaults start (sales scheduled, accrued interest reversed,
    expected losses booked); the linear write-down advances."""
    book, bp = m.book, m.params.borrowers
    if step.prepaid_usd.any():
        m.vault.receive(step.prepaid_usd.sum(axis=1))
        m.ledger.add("prepayments_usd", step.prepaid_usd)
    route = step.route
    if route.any():  # a step without a new default changes nothing below but the linear write-downs
        liq_spec = m.scenario.protocol.liquidation
        m.ledger.add(
            "accrued_reversed_usd", br.start_defaults(book, bp, route, m.day_end, liq_spec.time_to_sell_days)
        )
        for code, name in enumerate(br.ROUTES, start=1):
            m.ledger.add(f"defaults_{name}", route == code)
        m.collateral_usd = br.collateral_usd(book, m.value_usd_per_gpu)
        expect_losses(m, route)
    if m.scenario.protocol.loss_recognition.policy == "linear":
        write_down_linearly(m)


def expect_losses(m: UsdaiModel, route: np.ndarray) -> None:
    """The expected loss of each new default (``route`` > 0) is booked as expected and, per
    ``protocol.loss_recognition``, recognised at once (on_default) or kept for the linear write-down."""
    book, policy = m.book, m.scenario.protocol.loss_recognition
    expected = lr.expected_loss_usd(
        book.principal_usd, m.collateral_usd, m.sale_factor,
        m.scenario.protocol.liquidation.fee_fraction, book.dsra_usd + book.cash_usd,
    )
    m.ledger.add("default_expected_loss_usd", np.where(route > 0, expected, 0.0))
    if policy.policy == "on_default":
        m.recognise_loss(np.where(route > 0, expected, 0.0))
    elif policy.policy == "linear":
        m.losses.expected_usd = np.where(route > 0, expected, m.losses.expected_usd)


def write_down_linearly(m: UsdaiModel) -> None:
    """Defaulted loans are written down toward their expected loss over the write-down period; the tails of
    sold loans are recognised (protocol/loss_recognition.py)."""
    book, policy = m.book, m.scenario.protocol.loss_recognition
    f = lr.linear_fraction(m.day_end, book.default_day, policy.writedown_grace_days, policy.writedown_days)
    target = f * m.losses.expected_usd
    m.recognise_loss(np.where(book.status == br.DEFAULTED, target - book.writedown_usd, 0.0))
    m.book_loss(m.losses.advance_tail(m.day_end, policy.writedown_grace_days, policy.writedown_days))


def sales(m: UsdaiModel) -> None:
    """Defaulted fleets due for sale are sold with fire-sale discount and price impact; proceeds waterfall."""
    book, spec = m.book, m.scenario.protocol.liquidation
    selling = (book.status == br.DEFAULTED) & (book.sale_day <= m.day_end)
    if selling.any():
        _sell(m, selling)
    else:
        record_forced_sales(
            m.market, np.zeros_like(m.market.impact_log), m.params.classes, spec.price_impact, m.dt_days
        )
    _collect_recourse(m)


def _sell(m: UsdaiModel, selling: np.ndarray) -> None:
    book, spec, cls = m.book, m.scenario.protocol.liquidation, m.params.borrowers.class_index
    on_sale = np.where(selling, book.gpus, 0.0)
    sold = np.stack([on_sale[:, cols].sum(axis=1) for cols in m.class_columns], axis=1)
    window = record_forced_sales(m.market, sold, m.params.classes, spec.price_impact, m.dt_days)
    impact = spec.price_impact
    discount = price_impact_discount(
        window,
        m.params.classes.depth_gpus_per_30d * m.market_shocks.liquidity_multiplier,
        0.0,
        impact.discount_slope,
        impact.max_discount,
    )
    gross = np.where(
        selling, liq.gross_proceeds(book.gpus, m.value_usd_per_gpu, m.sale_factor, discount[:, cls]), 0.0
    )
    fee = spec.fee_fraction * gross
    insured = m.scenario.protocol.insurance.insured_fraction * book.gpus * m.fundamental
    payout = liq.insurance_payout(np.where(selling, insured, 0.0), gross, m.vault.insurance_left_usd)
    m.vault.insurance_left_usd -= payout.sum(axis=1)
    reserve = np.where(selling, book.dsra_usd + book.cash_usd, 0.0)
    available = np.where(selling, gross - fee + payout, 0.0) + reserve
    principal = np.where(selling, book.principal_usd, 0.0)
    to_principal, to_interest, surplus = liq.waterfall(
        available, principal, np.where(selling, book.claim_interest_usd, 0.0)
    )
    recovered = to_principal + to_interest
    from_reserve = np.minimum(reserve, recovered)  # the reserve is applied first, then the fleet's proceeds
    book.recovered_reserve_usd += from_reserve
    book.recovered_gpu_usd += recovered - from_reserve
    _settle_sale(m, selling, to_principal, to_interest, surplus)
    for name, amount in (
        ("sale_gross_usd", gross),
        ("liquidation_fee_usd", fee),
        ("insurance_usd", payout),
        ("collateral_sales", selling),
    ):
        m.ledger.add(name, amount)


def _settle_sale(
    m: UsdaiModel, selling: np.ndarray, to_principal: np.ndarray, to_interest: np.ndarray, surplus: np.ndarray
) -> None:
    """Pay the vault, recognise the remaining loss, schedule springing recourse, close the loans."""
    book, spec = m.book, m.scenario.protocol.liquidation
    keep_surplus = spec.surplus_to == "protocol"
    fee = m.interest_fee * to_interest.sum(axis=1)
    m.vault.receive(
        to_principal.sum(axis=1) + to_interest.sum(axis=1) - fee + keep_surplus * surplus.sum(axis=1)
    )
    realised = np.where(selling, book.principal_usd - to_principal, 0.0)
    if m.scenario.protocol.loss_recognition.policy == "linear":
        m.book_loss(m.losses.start_tail(selling, realised, book.writedown_usd, book.default_day))
    else:
        m.recognise_loss(np.where(selling, realised - book.writedown_usd, 0.0))
    shortfall = book.principal_usd - to_principal
    claim = liq.springing_recourse(
        np.where(selling, shortfall, 0.0),
        book.default_route == br.ROUTE_FRAUD,
        spec.recourse_recovery_fraction,
    )
    book.recourse_usd += claim
    book.recourse_day = np.where(
        claim > 0, np.maximum(m.day_end, book.default_day + spec.recourse_delay_days), book.recourse_day
    )
    book.recovered_usd += to_principal + to_interest
    book.loss_usd += np.where(selling, shortfall, 0.0)
    book.gpus_sold += np.where(selling, book.gpus, 0.0)
    for name, amount in (
        ("recovery_principal_usd", to_principal),
        ("recovery_interest_usd", to_interest),
        ("interest_fee_usd", fee),
        ("surplus_usd", keep_surplus * surplus),
        ("borrower_surplus_usd", (not keep_surplus) * surplus),
    ):
        m.ledger.add(name, amount)
    for name in ("principal_usd", "writedown_usd", "cash_usd", "dsra_usd"):
        setattr(book, name, np.where(selling, 0.0, getattr(book, name)))
    book.status = np.where(selling, br.CLOSED, book.status).astype(np.int8)


def _collect_recourse(m: UsdaiModel) -> None:
    book = m.book
    due = book.recourse_day <= m.day_end
    if not due.any():
        return
    amount = np.where(due, book.recourse_usd, 0.0)
    m.vault.receive(amount.sum(axis=1))
    m.ledger.add("recourse_usd", amount)
    book.recovered_usd += amount
    book.recovered_recourse_usd += amount
    book.loss_usd -= amount
    book.recourse_usd = np.where(due, 0.0, book.recourse_usd)
    book.recourse_day = np.where(due, np.inf, book.recourse_day)


def nav(m: UsdaiModel) -> None:
    """Conservative and optimistic NAV, total shares, exchange ratio."""
    m._nav()


def depositors(m: UsdaiModel) -> None:
    """Holders see the signals; unstaked holders redeem 1:1 or add USDai; stakers deposit, sell or queue."""
    signals = dph.observe(m)
    dph.bear_losses(m, signals)
    dph.unstaked_flows(m, signals)
    dph.staker_flows(m, signals)
    dph.record_outflow(m)
    m.signals = signals


def service(m: UsdaiModel) -> None:
    """At window ends the QEV auction (if on) reorders the queue; due requests are paid FIFO from idle USDai."""
    d, queue = m.depositors, m.scenario.protocol.queue
    if m.queue_due_day > m.day_end:
        return
    if queue.qev.enabled and np.floor(m.day_end / queue.window_days) > np.floor(m.day / queue.window_days):
        cols = np.flatnonzero((d.window_end_day <= m.day_end).any(axis=0))
        _qev_auction(m, (d.pending_shares[:, cols] > 0) & (d.window_end_day[:, cols] <= m.day_end), cols)
    rows, cols = np.nonzero((d.pending_shares > 0) & (d.window_end_day <= m.day_end))
    price = m.price_cons[rows]
    before = d.pending_shares[rows, cols]
    value = before * price
    paid = fifo_fill_requests(rows, value, d.queue_key[rows, cols], np.maximum(m.vault.idle_usd, 0.0))
    done = paid >= value * (1.0 - 1e-12)
    after = np.where(done, 0.0, np.maximum(before - paid / price, 0.0))
    d.pending_shares[rows, cols] = after
    removed = np.bincount(rows, weights=before - after, minlength=m.n_paths)
    m.move_shares(minted=np.zeros(m.n_paths), pending_added=-removed, burned=removed)
    d.wallet_usd[rows, cols] += paid
    dph.record_payouts(m, rows, cols, paid)
    paid_per_path = np.bincount(rows, weights=paid, minlength=m.n_paths)
    m.vault.pay_out(paid_per_path)
    m.ledger.add("redemptions_usd", paid_per_path)
    m.ledger.add("redemptions_completed", np.bincount(rows[done], minlength=m.n_paths))
    m.recorder.record_waits(rows[done], m.day_end - d.request_day[rows[done], cols[done]])
    for name in ("queue_key", "request_day", "window_end_day"):
        getattr(d, name)[rows[done], cols[done]] = np.inf
    m.queue_due_day = float(d.window_end_day.min(initial=np.inf))
    m._nav(loans_changed=False)


def _qev_auction(m: UsdaiModel, eligible: np.ndarray, cols: np.ndarray) -> None:
    """Eligible requesters may bid bps of their pending shares; bidders jump the queue by bid; bids are burned."""
    d, qev = m.depositors, m.scenario.protocol.queue.qev
    bidding = eligible & (
        m.streams.uniform("qev", d.shares.shape[1])[:, cols] < m.scenario.depositors.qev_bid_probability
    )
    bid_bps = m.dparams.qev_bid_bps[:, cols]
    burned = qev_bids(d.pending_shares[:, cols], bid_bps, bidding, qev.min_bid_bps, qev.max_bid_bps)
    d.pending_shares[:, cols] -= burned
    d.queue_key[:, cols] = np.where(
        bidding, -np.clip(bid_bps, qev.min_bid_bps, qev.max_bid_bps), d.queue_key[:, cols]
    )
    total_burned = row_totals(burned)
    to_admin = qev.admin_share * total_burned
    m.vault.admin_shares += to_admin
    m.move_shares(minted=to_admin, pending_added=-total_burned, burned=total_burned)
    m.ledger.add("qev_burned_shares", total_burned - to_admin)
    m.ledger.add("qev_admin_shares", to_admin)
    m._nav(loans_changed=False)


def originate(m: UsdaiModel) -> None:
    """Underwrite new loan requests (debt-service coverage ≥ ``min_dscr`` unless null, at today's rentals or on
    the market's median path per ``dscr_basis``, else declined), then fund them in arrival order while lending
    capacity lasts; stale requests lapse."""
    book, day = m.book, m.day_end
    patience = float(m.scenario.borrowers.demand_patience_days)
    lapsed_rows, lapsed_cols, rows, cols = bk.requests_due(book.status, book.request_day, day, patience)
    _close_requests(m, lapsed_rows, lapsed_cols, "demand_lapsed")
    if rows.size == 0:
        return
    bp = m.params.borrowers.take(rows, cols)
    appraised = m.collateral_usd[rows, cols]
    amount = np.minimum(bp.requested_ltv, m.params.classes.max_ltv[bp.class_index]) * appraised
    terms = _loan_terms(m, rows, cols, bp, amount)
    floor = m.scenario.protocol.allocation.min_dscr
    declined = _origination_dscr(m, rows, cols, bp, terms) < floor if floor is not None else np.zeros(rows.size, bool)
    _close_requests(m, rows[declined], cols[declined], "demand_declined")
    fund = ~declined & _within_capacity(m, rows, cols, np.where(declined, 0.0, amount))
    _open_loans(m, rows[fund], cols[fund], bp.take_entries(fund), terms.take(fund), amount[fund], appraised[fund])


def _close_requests(m: UsdaiModel, rows: np.ndarray, cols: np.ndarray, counter: str) -> None:
    """Requests (rows, cols) lapse unfunded; the ledger's ``counter`` counts them per path."""
    m.book.status[rows, cols] = br.LAPSED
    m.ledger.add(counter, np.bincount(rows, minlength=m.n_paths))


def lending_capacity_usd(m: UsdaiModel) -> np.ndarray:
    """New lending allowed per path: min(idle − buffer − pending redemptions, max loan share · NAV − loans)⁺."""
    alloc = m.scenario.protocol.allocation
    pending_value = m.pending_total * m.price_cons
    liquidity = m.vault.idle_usd - alloc.min_liquidity_fraction * m.nav_cons - pending_value
    share_room = alloc.max_loan_share * m.nav_cons - m.carrying_usd
    return np.maximum(np.minimum(liquidity, share_room), 0.0)


def _within_capacity(m: UsdaiModel, rows: np.ndarray, cols: np.ndarray, amount_usd: np.ndarray) -> np.ndarray:
    """Requests (rows, cols) funded first-come first-served (by origination day, then borrower) while each path's
    running sum of what is asked fits its lending capacity; a request asking nothing is not funded."""
    order = np.lexsort((m.origination_rank[rows, cols], rows))
    running = running_sums_by_row(rows, order, amount_usd)
    return (amount_usd > 0) & (running <= lending_capacity_usd(m)[rows])


@dataclass
class LoanTerms:
    """Terms and day-one economics of new loans at (rows, cols), each (k,): APR, first level payment (USD),
    the spot rental the operator achieves, contract price and the operating rates (USD per GPU-hour) at today's
    market."""

    apr: np.ndarray
    payment_usd: np.ndarray
    spot_usd_per_gpu_hour: np.ndarray
    contract_price_usd_per_gpu_hour: np.ndarray
    revenue_usd_per_gpu_hour: np.ndarray
    opex_usd_per_gpu_hour: np.ndarray

    def take(self, keep: np.ndarray) -> LoanTerms:
        """The terms of the loans selected by the mask or index ``keep``."""
        return LoanTerms(*(getattr(self, f.name)[keep] for f in fields(self)))


def _loan_terms(
    m: UsdaiModel, rows: np.ndarray, cols: np.ndarray, bp: BorrowerParams, principal_usd: np.ndarray
) -> LoanTerms:
    """The terms a loan of ``principal_usd`` would get today (see ``LoanTerms``) for the requests (rows, cols) with
    parameters ``bp``, at the rental the operator achieves: the market's × e^ε, its own factor (1 for a first
    loan; a returning owner keeps its record)."""
    apr = np.where(bp.floating, m.market.tbill[rows] + bp.floating_spread, bp.apr)
    interest, first_principal = scheduled_payment(principal_usd, apr, bp.term_payments, bp.interest_only)
    spot = m.market.rental_usd_per_gpu_hour[rows, bp.class_index] * np.exp(m.book.operator_log[rows, cols])
    contract_price = bp.contract_price_fraction * spot
    revenue_rate, opex_rate = br.operating_rates(
        bp, bp.contracted_share, contract_price, spot, m.utilisation[rows, cols],
        m.params.classes.power_kw_per_gpu[bp.class_index],
    )
    return LoanTerms(apr, interest + first_principal, spot, contract_price, revenue_rate, opex_rate)


def _origination_dscr(
    m: UsdaiModel, rows: np.ndarray, cols: np.ndarray, bp: BorrowerParams, terms: LoanTerms
) -> np.ndarray:
    """Debt-service coverage of each request (rows, cols), (k,): at today's market (``br.debt_service_coverage``),
    or with ``dscr_basis: expected_path`` its lowest over the loan's payment dates on the market's median path
    (``br.projected_coverage``)."""
    payment_per_gpu = terms.payment_usd / m.book.gpus[rows, cols]
    if m.scenario.protocol.allocation.dscr_basis == "today":
        return br.debt_service_coverage(terms.revenue_usd_per_gpu_hour, terms.opex_usd_per_gpu_hour, payment_per_gpu)
    return br.projected_coverage(
        bp, terms.spot_usd_per_gpu_hour, terms.contract_price_usd_per_gpu_hour, m.utilisation[rows, cols],
        m.params.classes.power_kw_per_gpu[bp.class_index], payment_per_gpu, _expected_spot_path(m, rows, bp),
    )


def _expected_spot_path(m: UsdaiModel, rows: np.ndarray, bp: BorrowerParams) -> np.ndarray:
    """ĝ at each payment date of each request (``valuation.median_log_change`` of its class from today), (k, n)
    with n the longest term asked, +inf past a request's own last payment."""
    rental = m.scenario.markets.rental
    months = np.arange(1, int(bp.term_payments.max(initial=1)) + 1)
    tau = months * PAYMENT_INTERVAL_DAYS / DAYS_PER_YEAR
    deviation = m._trend_deviation()[rows, bp.class_index]
    path = median_log_change(deviation[:, None], rental.drift_per_year, rental.kappa_per_year, tau[None, :])
    return np.where(months[None, :] <= bp.term_payments[:, None], path, np.inf)


def _open_loans(
    m: UsdaiModel, rows: np.ndarray, cols: np.ndarray, bp: BorrowerParams, terms: LoanTerms, principal: np.ndarray,
    appraised: np.ndarray,
) -> None:
    """Book the funded loans (rows, cols) with parameters ``bp`` on ``terms``: principal, first payment, reserve
    and cash; pay the principal out of idle USDai."""
    if rows.size == 0:
        return
    book, day = m.book, m.day_end
    apr, payment, contract_price = terms.apr, terms.payment_usd, terms.contract_price_usd_per_gpu_hour
    revenue_rate, opex_rate = terms.revenue_usd_per_gpu_hour, terms.opex_usd_per_gpu_hour
    revenue0 = book.gpus[rows, cols] * revenue_rate * HOURS_PER_DAY * DAYS_PER_YEAR
    values = {
        "status": br.ACTIVE,
        "principal_usd": principal,
        "apr": apr,
        "payments_left": bp.term_payments,
        "next_due_day": day + PAYMENT_INTERVAL_DAYS,
        "dsra_usd": bp.dsra_months * payment,
        "cash_usd": bp.initial_cash_months * payment,
        "sponsor_left_usd": bp.sponsor_support_months * payment,
        "originated_usd": book.originated_usd[rows, cols] + principal,
        "loans": book.loans[rows, cols] + 1,
        "appraised_usd": appraised,
        "contracted_share": bp.contracted_share,
        "contract_price_usd_per_gpu_hour": contract_price,
        "revenue0_usd_per_year": revenue0,
        "revenue_usd_per_year": revenue0,
        "cost_ratio": opex_rate / np.maximum(revenue_rate, 1e-12),
        "debt_ratio": payment * DAYS_PER_YEAR / PAYMENT_INTERVAL_DAYS / np.maximum(revenue0, 1e-12),
        "walked": False,
    }
    for name, value in values.items():
        getattr(book, name)[rows, cols] = value
    per_path = np.bincount(rows, weights=principal, minlength=m.n_paths)
    m.vault.pay_out(per_path)
    m.ledger.add("originations_usd", per_path)
    m.ledger.add("loans_originated", np.bincount(rows, minlength=m.n_paths))
    m._nav(paths=np.unique(rows))


def record(m: UsdaiModel) -> None:
    """The books' round-off scale takes in the step's flows; streaming aggregation: per-path series, ledger sums,
    histograms, running extremes."""
    m.roundoff_scale_usd = roundoff_scale_usd(m.roundoff_scale_usd, m.ledger, m.vault.supply_usd, m.vault.reserves_usd)
    m.recorder.record(m)


PHASES: tuple[Phase, ...] = (
    Phase("markets", markets.__doc__ or "", markets),
    Phase("loans", loans.__doc__ or "", loans),
    Phase("sales", sales.__doc__ or "", sales),
    Phase("nav", nav.__doc__ or "", nav),
    Phase("depositors", depositors.__doc__ or "", depositors),
    Phase("service", service.__doc__ or "", service),
    Phase("originate", originate.__doc__ or "", originate),
    Phase("record", record.__doc__ or "", record),
)
