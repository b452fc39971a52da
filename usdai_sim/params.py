"""Compile a Scenario into flat numpy parameter arrays: per GPU class and per borrower.

Borrowers' static parameters are drawn once from the "population" stream, so a borrower is the same
operator on every path; paths differ only in what happens to it. Depositors and unstaked holders are
drawn per path (``usdai_sim/population.py``, ``agents/depositors.py``, ``agents/holders.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from usdai_sim.market.gpu import depreciation_factor, logit
from usdai_sim.rng import population_rng
from usdai_sim.scenario.schema import Cohort, Dist, Scenario, Spread

DAYS_PER_YEAR = 365.0
PAYMENT_INTERVAL_DAYS = 30.0
HOURS_PER_DAY = 24.0


def draw(value: Dist, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of a Dist: a constant, or uniform (log-uniform) on [low, high]."""
    if not isinstance(value, Spread):
        return np.full(n, float(value))
    if value.log:
        return np.exp(rng.uniform(np.log(value.low), np.log(value.high), n))
    return rng.uniform(value.low, value.high, n)


@dataclass(frozen=True)
class ClassParams:
    """Per GPU class, shape (n_classes,)."""

    names: tuple[str, ...]
    list_price_usd: np.ndarray
    rental_anchor_usd_per_gpu_hour: np.ndarray
    power_kw_per_gpu: np.ndarray
    max_ltv: np.ndarray
    depth_gpus_per_30d: np.ndarray


@dataclass(frozen=True)
class BorrowerParams:
    """Per borrower, shape (n_borrowers,); ``class_index`` points into ClassParams."""

    cohort: np.ndarray
    class_index: np.ndarray
    gpus: np.ndarray
    age_years: np.ndarray
    requested_ltv: np.ndarray
    apr: np.ndarray
    floating: np.ndarray
    floating_spread: np.ndarray
    term_payments: np.ndarray
    interest_only: np.ndarray
    origination_day: np.ndarray
    contracted_share: np.ndarray
    contract_price_fraction: np.ndarray
    utilisation_logit: np.ndarray
    power_usd_per_kwh: np.ndarray
    idle_power_fraction: np.ndarray
    colocation_usd_per_kw_month: np.ndarray
    overhead_usd_per_gpu_month: np.ndarray
    initial_cash_months: np.ndarray
    dsra_months: np.ndarray
    sweep_months: np.ndarray
    walk_ratio: np.ndarray
    fraud_rate_per_year: np.ndarray
    failure_rate_per_year: np.ndarray
    pue: np.ndarray
    repair_usd_per_gpu_month: np.ndarray
    contract_months: np.ndarray
    renter_default_rate_per_year: np.ndarray
    renter_default_elasticity: np.ndarray
    renter_customers: np.ndarray
    receivable_days: np.ndarray
    sponsor_support_months: np.ndarray
    arrival_rate_per_day: np.ndarray
    insured_hardware: np.ndarray
    refinance_ltv: np.ndarray
    maintenance_ltv: np.ndarray
    cure_days: np.ndarray
    fraud_missing_fraction: np.ndarray

    @property
    def count(self) -> int:
        """Number of borrowers."""
        return len(self.class_index)

    def take(self, cols: np.ndarray) -> BorrowerParams:
        """The parameters of borrowers ``cols`` (aligned with a sparse set of loans)."""
        return BorrowerParams(**{f.name: getattr(self, f.name)[cols] for f in fields(self)})


@dataclass(frozen=True)
class Params:
    """Everything the model needs, as arrays; ``depreciation`` is (n_steps + 1, n_borrowers)."""

    scenario: Scenario
    classes: ClassParams
    borrowers: BorrowerParams
    depreciation: np.ndarray
    class_onehot: np.ndarray


def compile_classes(scenario: Scenario) -> ClassParams:
    """Per-class arrays in the scenario's class order."""
    specs = list(scenario.markets.gpu.classes.values())
    return ClassParams(
        names=scenario.class_names,
        list_price_usd=np.array([c.list_price_usd for c in specs]),
        rental_anchor_usd_per_gpu_hour=np.array([c.rental_usd_per_gpu_hour for c in specs]),
        power_kw_per_gpu=np.array([c.power_kw_per_gpu for c in specs]),
        max_ltv=np.array([c.max_ltv for c in specs]),
        depth_gpus_per_30d=np.array([c.market_depth_gpus_per_30d for c in specs]),
    )


def _cohort_columns(cohort: Cohort, class_index: int, liq_missing: Dist, rng: np.random.Generator) -> dict:
    n = cohort.count
    maint = np.nan if cohort.maintenance_ltv is None else cohort.maintenance_ltv
    return {
        "class_index": np.full(n, class_index),
        "gpus": np.maximum(1.0, np.round(draw(cohort.gpus, n, rng))),
        "age_years": draw(cohort.age_years, n, rng),
        "requested_ltv": draw(cohort.requested_ltv, n, rng),
        "apr": draw(cohort.apr, n, rng),
        "floating": np.full(n, cohort.rate_type == "floating"),
        "floating_spread": draw(cohort.floating_spread, n, rng),
        "term_payments": np.full(n, cohort.term_months),
        "interest_only": np.full(n, cohort.amortisation == "interest_only"),
        "origination_day": np.round(draw(cohort.origination_day, n, rng)),
        "contracted_share": draw(cohort.contracted_share, n, rng),
        "contract_price_fraction": draw(cohort.contract_price_fraction, n, rng),
        "utilisation_logit": logit(draw(cohort.utilisation_level, n, rng)),
        "power_usd_per_kwh": draw(cohort.power_usd_per_kwh, n, rng),
        "idle_power_fraction": np.full(n, cohort.idle_power_fraction),
        "colocation_usd_per_kw_month": draw(cohort.colocation_usd_per_kw_month, n, rng),
        "overhead_usd_per_gpu_month": draw(cohort.overhead_usd_per_gpu_month, n, rng),
        "initial_cash_months": draw(cohort.initial_cash_months, n, rng),
        "dsra_months": np.full(n, cohort.dsra_months),
        "sweep_months": np.full(n, cohort.cash_sweep_above_months),
        "walk_ratio": draw(cohort.strategic_walk_ratio, n, rng),
        "fraud_rate_per_year": draw(cohort.fraud_rate_per_year, n, rng),
        "failure_rate_per_year": np.full(n, cohort.hardware_failure_rate_per_year),
        "pue": draw(cohort.pue, n, rng),
        "repair_usd_per_gpu_month": draw(cohort.repair_usd_per_gpu_month, n, rng),
        "contract_months": np.full(n, cohort.contract_months),
        "renter_default_rate_per_year": np.full(n, cohort.renter_default_rate_per_year),
        "renter_default_elasticity": np.full(n, cohort.renter_default_elasticity),
        "renter_customers": np.full(n, float(cohort.renter_customers)),
        "receivable_days": np.full(n, cohort.receivable_days),
        "sponsor_support_months": np.full(n, cohort.sponsor_support_months),
        "insured_hardware": np.full(n, cohort.hardware_insured),
        "refinance_ltv": np.full(n, cohort.refinance_ltv),
        "maintenance_ltv": np.full(n, maint),
        "cure_days": np.full(n, float(cohort.covenant_cure_days)),
        "fraud_missing_fraction": draw(liq_missing, n, rng),
    }


def arrival_slots(cohort: Cohort, horizon_days: float) -> int:
    """Borrower columns reserved for a cohort's Poisson arrivals: mean + 5 standard deviations + 2, so that
    running out of slots within the horizon has negligible probability (< 1e-6)."""
    mean = cohort.arrivals_per_month * horizon_days / PAYMENT_INTERVAL_DAYS
    return int(np.ceil(mean + 5.0 * np.sqrt(mean) + 2.0)) if mean > 0 else 0


def borrower_columns(scenario: Scenario) -> int:
    """Columns of the borrower arrays: every cohort's initial borrowers plus its arrival slots."""
    horizon = scenario.simulation.horizon_days
    return sum(c.count + arrival_slots(c, horizon) for c in scenario.borrowers.cohorts)


def compile_borrowers(scenario: Scenario, rng: np.random.Generator) -> BorrowerParams:
    """Draw every cohort's borrowers and stack them into (n_borrowers,) arrays.

    Each cohort has its ``count`` initial borrowers, then ``arrival_slots`` columns for new loan requests
    drawn from the same distributions; an arrival column's request day is drawn per path by the model
    (``arrival_rate_per_day`` > 0 marks it).
    """
    names = scenario.class_names
    missing = scenario.protocol.liquidation.fraud_missing_fraction
    horizon = scenario.simulation.horizon_days
    parts, cohort_ids = [], []
    for i, c in enumerate(scenario.borrowers.cohorts):
        slots = arrival_slots(c, horizon)
        part = _cohort_columns(c.model_copy(update={"count": c.count + slots}), names.index(c.gpu_class),
                               missing, rng)
        part["arrival_rate_per_day"] = np.r_[np.zeros(c.count), np.full(slots, c.arrivals_per_month / 30.0)]
        parts.append(part)
        cohort_ids.append(np.full(c.count + slots, i))
    columns = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return BorrowerParams(cohort=np.concatenate(cohort_ids), **columns)


def depreciation_table(scenario: Scenario, borrowers: BorrowerParams) -> np.ndarray:
    """Depreciation factor of each borrower's GPUs at the end of each step, (n_steps + 1, n_borrowers).

    age(t) = age_at_origination + (t − origination_day)/365, floored at 0; row k is day k·step_days.
    """
    sim = scenario.simulation
    days = np.arange(sim.n_steps + 1) * sim.step_days
    age = borrowers.age_years + (days[:, None] - borrowers.origination_day) / DAYS_PER_YEAR
    out = np.empty_like(age)
    for c, spec in enumerate(scenario.markets.gpu.classes.values()):
        cols = borrowers.class_index == c
        dep = spec.depreciation
        out[:, cols] = depreciation_factor(
            np.maximum(age[:, cols], 0.0),
            dep.method,
            annual_rate=dep.annual_rate,
            life_years=dep.life_years,
            salvage_fraction=dep.salvage_fraction,
            vintage_factors=dep.vintage_factors,
        )
    return out


def compile_params(scenario: Scenario) -> Params:
    """All arrays for one scenario (identical for every work block of a run)."""
    rng = population_rng(scenario.simulation.seed)
    classes = compile_classes(scenario)
    borrowers = compile_borrowers(scenario, rng)
    onehot = (borrowers.class_index[:, None] == np.arange(len(classes.names))[None, :]).astype(float)
    return Params(scenario, classes, borrowers, depreciation_table(scenario, borrowers), onehot)
