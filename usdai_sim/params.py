"""Compile a Scenario into flat numpy parameter arrays: per GPU class and per borrower.

Borrowers' per-borrower draws (the cohort distributions: fleet size, age, LTV, APR, costs, ...) are a
population drawn per path like depositors' and holders' (``usdai_sim/population.py``, purpose
"borrower_population"): with ``simulation.population_seed`` unset each path has its own borrowers and a
path's borrowers depend only on (seed, path index); with it set every path has the same borrowers. Drawn
fields are (n_paths, n_borrowers) arrays for a work block (``block_params``); fixed fields (class, terms,
cohort constants) stay (n_borrowers,) and broadcast. ``compile_params`` holds path 0's population as
(n_borrowers,) arrays, for pages that read one population (the calibration page).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from usdai_sim.market.gpu import depreciation_factor, logit
from usdai_sim.population import draw_dist, population_uniforms
from usdai_sim.scenario.schema import Cohort, Scenario

DAYS_PER_YEAR = 365.0
PAYMENT_INTERVAL_DAYS = 30.0
HOURS_PER_DAY = 24.0


DRAWN_FIELDS: dict[str, str] = {
    "gpus": "gpus",
    "age_years": "age_years",
    "requested_ltv": "requested_ltv",
    "apr": "apr",
    "floating_spread": "floating_spread",
    "origination_day": "origination_day",
    "contracted_share": "contracted_share",
    "contract_price_fraction": "contract_price_fraction",
    "utilisation_logit": "utilisation_level",
    "power_usd_per_kwh": "power_usd_per_kwh",
    "colocation_usd_per_kw_month": "colocation_usd_per_kw_month",
    "overhead_usd_per_gpu_month": "overhead_usd_per_gpu_month",
    "initial_cash_months": "initial_cash_months",
    "walk_ratio": "strategic_walk_ratio",
    "fraud_rate_per_year": "fraud_rate_per_year",
    "pue": "pue",
    "repair_usd_per_gpu_month": "repair_usd_per_gpu_month",
    "fraud_missing_fraction": "",  # protocol.liquidation.fraud_missing_fraction, the same Dist for every cohort
}
"""BorrowerParams field → the Cohort Dist it is drawn from; these fields are per path (P, B) in a block."""


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
    """Per borrower: fixed fields (n_borrowers,), drawn fields (``DRAWN_FIELDS``) (n_paths, n_borrowers) in a
    work block or (n_borrowers,) for one path; ``class_index`` points into ClassParams."""

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
    operator_vol_per_sqrt_year: np.ndarray
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

    def at(self, name: str, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Field ``name`` of the loans (rows[k], cols[k]): [rows, cols] of a per-path field, [cols] of a fixed one."""
        values = getattr(self, name)
        return values[rows, cols] if values.ndim == 2 else values[cols]

    def take(self, rows: np.ndarray, cols: np.ndarray) -> BorrowerParams:
        """The parameters of the loans (rows[k], cols[k]) as 1-D arrays (aligned with a sparse set of loans)."""
        flat = rows * self.count + cols
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return BorrowerParams(**{k: v.take(flat) if v.ndim == 2 else v.take(cols) for k, v in values.items()})

    def take_entries(self, keep: np.ndarray) -> BorrowerParams:
        """Of parameters already taken for a sparse set of loans (``take``), those selected by ``keep``."""
        return BorrowerParams(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})


@dataclass(frozen=True)
class Params:
    """Everything the model needs, as arrays; ``borrowers`` is one path's population or a work block's."""

    scenario: Scenario
    classes: ClassParams
    borrowers: BorrowerParams
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


def _fixed_columns(cohort: Cohort, class_index: int, n: int) -> dict:
    """The fields every borrower of a cohort shares, (n,)."""
    maint = np.nan if cohort.maintenance_ltv is None else cohort.maintenance_ltv
    return {
        "class_index": np.full(n, class_index),
        "floating": np.full(n, cohort.rate_type == "floating"),
        "term_payments": np.full(n, cohort.term_months),
        "interest_only": np.full(n, cohort.amortisation == "interest_only"),
        "idle_power_fraction": np.full(n, cohort.idle_power_fraction),
        "dsra_months": np.full(n, cohort.dsra_months),
        "sweep_months": np.full(n, cohort.cash_sweep_above_months),
        "failure_rate_per_year": np.full(n, cohort.hardware_failure_rate_per_year),
        "contract_months": np.full(n, cohort.contract_months),
        "renter_default_rate_per_year": np.full(n, cohort.renter_default_rate_per_year),
        "renter_default_elasticity": np.full(n, cohort.renter_default_elasticity),
        "renter_customers": np.full(n, float(cohort.renter_customers)),
        "receivable_days": np.full(n, cohort.receivable_days),
        "sponsor_support_months": np.full(n, cohort.sponsor_support_months),
        "operator_vol_per_sqrt_year": np.full(n, cohort.operator_vol_per_sqrt_year),
        "insured_hardware": np.full(n, cohort.hardware_insured),
        "refinance_ltv": np.full(n, cohort.refinance_ltv),
        "maintenance_ltv": np.full(n, maint),
        "cure_days": np.full(n, float(cohort.covenant_cure_days)),
    }


def _drawn_columns(scenario: Scenario, first_path: int, n_paths: int) -> dict:
    """The drawn fields (``DRAWN_FIELDS``) of every borrower column, (n_paths, n_borrowers): each an inverse CDF
    of its own uniform from the "borrower_population" stream (``population_uniforms``)."""
    cohorts, horizon = scenario.borrowers.cohorts, scenario.simulation.horizon_days
    widths = [c.count + arrival_slots(c, horizon) for c in cohorts]
    u = population_uniforms(
        scenario.simulation, "borrower_population", first_path, n_paths, sum(widths), len(DRAWN_FIELDS)
    )
    missing = scenario.protocol.liquidation.fraud_missing_fraction
    edges = np.cumsum([0, *widths])
    out = {name: np.empty((n_paths, edges[-1])) for name in DRAWN_FIELDS}
    for c, cohort in enumerate(cohorts):
        block = u[:, edges[c] : edges[c + 1]]
        for k, (name, source) in enumerate(DRAWN_FIELDS.items()):
            out[name][:, edges[c] : edges[c + 1]] = draw_dist(getattr(cohort, source) if source else missing,
                                                              block[..., k])
    out["gpus"] = np.maximum(1.0, np.round(out["gpus"]))
    out["origination_day"] = np.round(out["origination_day"])
    out["utilisation_logit"] = logit(out["utilisation_logit"])
    return out


def arrival_slots(cohort: Cohort, horizon_days: float) -> int:
    """Borrower columns reserved for a cohort's Poisson arrivals: mean + 5 standard deviations + 2, so that
    running out of slots within the horizon has negligible probability (< 1e-6)."""
    mean = cohort.arrivals_per_month * horizon_days / PAYMENT_INTERVAL_DAYS
    return int(np.ceil(mean + 5.0 * np.sqrt(mean) + 2.0)) if mean > 0 else 0


def borrower_columns(scenario: Scenario) -> int:
    """Columns of the borrower arrays: every cohort's initial borrowers plus its arrival slots."""
    horizon = scenario.simulation.horizon_days
    return sum(c.count + arrival_slots(c, horizon) for c in scenario.borrowers.cohorts)


def compile_borrowers(scenario: Scenario, first_path: int, n_paths: int) -> BorrowerParams:
    """The borrowers of paths [first_path, first_path + n_paths): fixed fields (n_borrowers,), drawn fields
    (n_paths, n_borrowers).

    Each cohort has its ``count`` initial borrowers, then ``arrival_slots`` columns for new loan requests
    drawn from the same distributions; an arrival column's request day is drawn per path by the model
    (``arrival_rate_per_day`` > 0 marks it).
    """
    names = scenario.class_names
    horizon = scenario.simulation.horizon_days
    parts = []
    for i, c in enumerate(scenario.borrowers.cohorts):
        slots = arrival_slots(c, horizon)
        part = _fixed_columns(c, names.index(c.gpu_class), c.count + slots)
        part["arrival_rate_per_day"] = np.r_[np.zeros(c.count), np.full(slots, c.arrivals_per_month / 30.0)]
        part["cohort"] = np.full(c.count + slots, i)
        parts.append(part)
    columns = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return BorrowerParams(**columns, **_drawn_columns(scenario, first_path, n_paths))


def depreciation_fraction(scenario: Scenario, borrowers: BorrowerParams, day: float) -> np.ndarray:
    """Depreciation factor of each borrower's GPUs at ``day``, shaped like ``borrowers.age_years``.

    age(t) = age_at_origination + (t − origination_day)/365, floored at 0.
    """
    age = np.maximum(borrowers.age_years + (day - borrowers.origination_day) / DAYS_PER_YEAR, 0.0)
    out = np.empty_like(age)
    for c, spec in enumerate(scenario.markets.gpu.classes.values()):
        cols = borrowers.class_index == c
        dep = spec.depreciation
        out[..., cols] = depreciation_factor(
            age[..., cols],
            dep.method,
            annual_rate=dep.annual_rate,
            life_years=dep.life_years,
            salvage_fraction=dep.salvage_fraction,
            vintage_factors=dep.vintage_factors,
        )
    return out


def block_params(params: Params, first_path: int, n_paths: int) -> Params:
    """The scenario's params with the borrower population of the work block's paths (the model's view)."""
    return replace(params, borrowers=compile_borrowers(params.scenario, first_path, n_paths))


def compile_params(scenario: Scenario) -> Params:
    """All arrays for one scenario, with path 0's borrower population as (n_borrowers,) arrays."""
    classes = compile_classes(scenario)
    block = compile_borrowers(scenario, 0, 1)
    borrowers = block.take(np.zeros(block.count, dtype=int), np.arange(block.count))
    onehot = (borrowers.class_index[:, None] == np.arange(len(classes.names))[None, :]).astype(float)
    return Params(scenario, classes, borrowers, onehot)
