"""The scenario format: one frozen, typed pydantic model per YAML section.

Units are in the key names: ``*_usd`` dollars, ``*_days`` calendar days, ``apr`` and ``*_per_year``
annual decimals (0.05 = 5%), ``*_bps`` basis points, ``ltv`` and ``*_fraction`` fractions of 1.
Every default below is the baseline's and cites its source in ``scenarios/baseline.yaml``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from usdai_sim.market.catalog import GPU_CATALOG


def meta(unit: str, source: str) -> dict[str, Any]:
    """Schema extras of a field: its unit and the source of its default (or "assumption: why")."""
    return {"unit": unit, "source": source}


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
UsdAmount = Annotated[float, Field(ge=0.0, le=1.0e13)]
"""A protocol-level dollar amount. Assumption: $10 trillion, many times the whole stablecoin market, bounds any
real input; a larger one is a typo (or hostile) and would swamp float64 sums of cents."""
Volatility = Annotated[float, Field(ge=0.0, le=5.0)]
"""Annualised volatility of a log price (assumption: 500%/yr is far above any GPU price or rental series
observed; larger values overflow exp() within a year and turn money into infinity)."""
MeanReversion = Annotated[float, Field(ge=0.0, le=365.0)]
"""Mean-reversion speed per year (assumption: 365/yr, a one-day half-life scale, is the fastest meaningful)."""
RateVolatility = Annotated[float, Field(ge=0.0, le=0.5)]
"""T-bill volatility per sqrt(year), annual decimal (assumption: 50 points/yr against ~1-3 observed in TB3MS)."""


class Frozen(BaseModel):
    """Base of every section: immutable, unknown keys rejected, no NaN or infinity."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Spread(Frozen):
    """A per-agent parameter drawn per agent and path: uniform on [low, high] (log-uniform if ``log``)."""

    low: float
    high: float
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Spread:
        if self.high < self.low:
            raise ValueError(f"high must be >= low (got low={self.low}, high={self.high})")
        if self.log and self.low <= 0:
            raise ValueError("log-uniform spreads need low > 0")
        return self


Dist = float | Spread
"""A scalar (every agent the same) or a ``{low, high}`` spread drawn per agent."""


def dist_bounds(value: Dist) -> tuple[float, float]:
    """The smallest and largest value a Dist can take."""
    return (value, value) if isinstance(value, int | float) else (value.low, value.high)


# ---------------------------------------------------------------- simulation


class Simulation(Frozen):
    """Horizon, time step, Monte Carlo size and seed."""

    horizon_days: Annotated[int, Field(gt=0, le=36500)] = 1095
    step_days: Annotated[int, Field(gt=0, le=30)] = 1
    paths: Annotated[int, Field(gt=0, le=1_000_000)] = 1000
    seed: Annotated[int, Field(ge=0)] = 20261126
    population_seed: Annotated[int, Field(ge=0)] | None = None
    start_date: str = "2026-01-01"
    record_every_steps: Annotated[int, Field(gt=0)] = 1

    @model_validator(mode="after")
    def _step_divides(self) -> Simulation:
        if self.horizon_days % self.step_days:
            raise ValueError(f"horizon_days must be a multiple of step_days (got {self.horizon_days})")
        return self

    @property
    def n_steps(self) -> int:
        """Number of model steps in the horizon."""
        return self.horizon_days // self.step_days


# ---------------------------------------------------------------- markets


class TBill(Frozen):
    """Short rate process: Vasicek/OU or CIR (exact), a constant, or the shipped TB3MS history."""

    model: Literal["vasicek", "cir", "constant", "historical"] = "vasicek"
    initial_rate: Annotated[float, Field(ge=-0.05, le=0.5)] = 0.037
    mean_rate: Annotated[float, Field(ge=-0.05, le=0.5)] = 0.035
    kappa_per_year: MeanReversion = 0.4
    vol_per_sqrt_year: RateVolatility = 0.008
    history_start_date: str = "2019-01-01"

    @model_validator(mode="after")
    def _cir_is_well_posed(self) -> TBill:
        if self.model == "cir" and not (self.kappa_per_year > 0 and self.mean_rate > 0 and self.initial_rate >= 0):
            raise ValueError("the CIR model needs kappa_per_year > 0, mean_rate > 0 and initial_rate >= 0")
        return self


class Depreciation(Frozen):
    """Age curve of resale value as a fraction of list price."""

    method: Literal["straight_line", "declining_balance", "table"] = "table"
    annual_rate: Fraction = 0.18
    life_years: Positive = 6.0
    salvage_fraction: Fraction = 0.05
    vintage_factors: tuple[Positive, ...] = (1.0, 0.78, 0.60, 0.46, 0.35)


class GpuClass(Frozen):
    """One GPU class: list price, depreciation, rental anchor, LTV limit, secondary-market depth."""

    list_price_usd: Positive
    rental_usd_per_gpu_hour: Positive
    power_kw_per_gpu: Positive = 1.2
    max_ltv: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    market_depth_gpus_per_30d: Positive = 5000.0
    depreciation: Depreciation = Depreciation()


def catalog_class_data(name: str) -> dict[str, Any]:
    """The shipped catalog entry of a class (``usdai_sim/market/catalog.py``) as raw GpuClass data."""
    spec = GPU_CATALOG[name]
    keys = set(GpuClass.model_fields) - {"depreciation"}
    data: dict[str, Any] = {k: v for k, v in spec.items() if k in keys}
    data["depreciation"] = {"vintage_factors": list(spec["vintage_factors"])}
    return data


def default_gpu_classes() -> dict[str, GpuClass]:
    """The shipped catalog as GpuClass sections."""
    return {name: GpuClass.model_validate(catalog_class_data(name)) for name in GPU_CATALOG}


def merge_with_catalog(classes: Any) -> Any:
    """User class entries laid over the catalog: a known class keeps every key the user does not set
    (one level deep, and inside ``depreciation``); new classes are added; catalog classes stay."""
    if not isinstance(classes, dict):
        return classes
    merged: dict[Any, Any] = {name: catalog_class_data(name) for name in GPU_CATALOG}
    for name, spec in classes.items():
        base = merged.get(name)
        if isinstance(base, dict) and isinstance(spec, dict):
            dep = spec.get("depreciation")
            if isinstance(dep, dict):
                spec = {**spec, "depreciation": {**base["depreciation"], **dep}}
            merged[name] = {**base, **spec}
        else:
            merged[name] = spec
    return merged


class Factor(Frozen):
    """A log-normal factor: drift and volatility of its log-returns."""

    drift_per_year: Annotated[float, Field(ge=-5.0, le=5.0)] = 0.0
    vol_per_sqrt_year: Volatility = 0.0


class Valuation(Frozen):
    """How a GPU's fundamental value is set (``usdai_sim/market/valuation.py``).

    ``income``: value = list price × PV(expected rental net of operating cost over the remaining economic
    life) / the same PV for a new GPU at day 0 — so a rental collapse lowers resale value through the model.
    ``depreciation``: value = list price × the age curve of ``classes.*.depreciation`` (the Merton/Black–Cox
    world of the closed-form checks; rentals do not move it).
    """

    method: Literal["income", "depreciation"] = "income"
    discount_rate: Annotated[float, Field(gt=0.0, le=1.0, json_schema_extra=meta(
        "per year", "assumption: GPU-loan pricing 10-17% APY (DOMAIN.md, Dec 2025) plus a premium"))] = 0.15
    economic_life_years: Annotated[float, Field(gt=0.0, le=20.0, json_schema_extra=meta(
        "years", "assumption: 7 yr, past the 4-6 yr accounting lives (10-K filings 2025, DOMAIN.md); "
        "with the rental drift it reproduces the vintage factors (calibration page)"))] = 7.0
    billable_fraction: Annotated[float, Field(gt=0.0, le=1.0, json_schema_extra=meta(
        "fraction", "neoclouds bill 85-95% (DOMAIN.md utilisation row)"))] = 0.85
    opex_fraction_of_revenue: Annotated[float, Field(ge=0.0, le=1.0, json_schema_extra=meta(
        "fraction of day-0 revenue",
        "CoreWeave 2024 adj. EBITDA ~64% -> cash opex ~36% of revenue (IPO prospectus 2025)"))] = 0.36


class Gpu(Frozen):
    """Resale value per GPU = fundamental value (``valuation``) × liquidity factor × exp(idiosyncratic).

    Liquidity factor of class c = exp(common + class + impact) × resale shocks: the secondary market's
    discount or premium to fundamental value. With ``liquidity_kappa_per_year`` > 0 the common and class
    log factors mean-revert to 0 (thin markets recover); 0 keeps them geometric Brownian motions.
    """

    common: Factor = Factor(drift_per_year=0.0, vol_per_sqrt_year=0.10)
    class_factor: Factor = Factor(drift_per_year=0.0, vol_per_sqrt_year=0.05)
    idiosyncratic: Factor = Factor(drift_per_year=0.0, vol_per_sqrt_year=0.05)
    liquidity_kappa_per_year: Annotated[float, Field(ge=0.0, json_schema_extra=meta(
        "per year", "assumption: secondary-market dislocations fade within about a year"))] = 1.0
    valuation: Valuation = Valuation()
    classes: dict[str, GpuClass] = Field(default_factory=default_gpu_classes)

    @model_validator(mode="before")
    @classmethod
    def _catalog_underneath(cls, data: Any) -> Any:
        if isinstance(data, dict) and "classes" in data:
            return {**data, "classes": merge_with_catalog(data["classes"])}
        return data


class Rental(Frozen):
    """Log rental price per class: OU around log(anchor) + drift·t, correlated with the resale factor."""

    drift_per_year: Annotated[float, Field(ge=-5.0, le=5.0, json_schema_extra=meta(
        "per year (log)", "assumption: a class's rental falls as newer generations arrive; "
        "-10%/yr makes the income value reproduce the DOMAIN.md vintage factors (calibration page)"))] = -0.10
    vol_per_sqrt_year: Volatility = 0.30
    kappa_per_year: MeanReversion = 0.5
    correlation_with_resale: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.6


class Utilisation(Frozen):
    """Utilisation per borrower: OU in logit space around its level, common demand factor plus noise."""

    kappa_per_year: MeanReversion = 6.0
    vol_per_sqrt_year: Volatility = 1.0
    common_weight: Fraction = 0.7


class Markets(Frozen):
    """The exogenous markets."""

    tbill: TBill = TBill()
    gpu: Gpu = Gpu()
    rental: Rental = Rental()
    utilisation: Utilisation = Utilisation()


# ---------------------------------------------------------------- borrowers


NON_NEGATIVE_COHORT_KEYS = (
    "gpus", "age_years", "apr", "floating_spread", "origination_day", "contract_price_fraction",
    "power_usd_per_kwh", "pue", "colocation_usd_per_kw_month", "overhead_usd_per_gpu_month",
    "repair_usd_per_gpu_month", "initial_cash_months", "strategic_walk_ratio", "fraud_rate_per_year",
)
"""Per-borrower parameters that are amounts, ages, days, prices or rates: a negative value has no meaning."""
MAX_APR = 5.0
"""Highest loan APR accepted (assumption: 500%/yr against the advertised 10-25%; keeps interest finite)."""


class Cohort(Frozen):
    """A group of similar GPU operators; each parameter may be a scalar or a per-borrower spread."""

    name: str = "operators"
    count: Annotated[int, Field(ge=0, le=100_000)] = 100
    gpu_class: str = "H100"
    gpus: Dist = Spread(low=64, high=1024, log=True)
    age_years: Dist = Spread(low=0.0, high=1.0)
    requested_ltv: Dist = Spread(low=0.6, high=0.8)
    apr: Dist = Spread(low=0.12, high=0.15)
    rate_type: Literal["fixed", "floating"] = "fixed"
    floating_spread: Dist = 0.09
    term_months: Annotated[int, Field(gt=0, le=120)] = 36
    amortisation: Literal["amortising", "interest_only"] = "amortising"
    origination_day: Dist = 0.0
    contracted_share: Dist = Spread(low=0.3, high=0.8)
    contract_price_fraction: Dist = Field(default=0.75, json_schema_extra=meta(
        "fraction of the spot rental", "H100 1-year contracts $1.70-2.35 vs on-demand median ~$2.95 "
        "(SemiAnalysis; GPU price index, Oct 2025-May 2026)"))
    contract_months: Annotated[float, Field(gt=0.0, le=120.0, json_schema_extra=meta(
        "months", "CoreWeave: committed contracts average ~4 years (IPO prospectus 2025); smaller "
        "operators sign 1-year contracts (SemiAnalysis): 24 is an assumption between them"))] = 24.0
    renter_default_rate_per_year: Annotated[float, Field(ge=0.0, le=1.0, json_schema_extra=meta(
        "per year", "assumption: near single-B corporate default rates for AI-startup renters"))] = 0.03
    renter_default_elasticity: Annotated[float, Field(ge=0.0, le=10.0, json_schema_extra=meta(
        "dimensionless", "assumption: hazard × (trend rental / rental)^k; renters fail as the market "
        "reprices below their contract"))] = 2.0
    renter_customers: Annotated[int, Field(ge=1, le=1000, json_schema_extra=meta(
        "customers", "assumption: a small operator's contract book sits with a few customers; even at scale "
        "CoreWeave's largest customer was 62% of its 2024 revenue (IPO prospectus, Mar 2025)"))] = 3
    receivable_days: Annotated[float, Field(ge=0.0, le=180.0, json_schema_extra=meta(
        "days", "assumption: monthly billing in arrears on net-15 terms leaves ~45 days of a customer's "
        "billing unpaid when it fails"))] = 45.0
    utilisation_level: Dist = Spread(low=0.75, high=0.95)
    power_usd_per_kwh: Dist = Spread(low=0.06, high=0.12)
    pue: Dist = Field(default=Spread(low=1.2, high=1.5), json_schema_extra=meta(
        "dimensionless", "data-centre norms PUE 1.2-1.5 (DOMAIN.md operator economics)"))
    idle_power_fraction: Fraction = 0.3
    colocation_usd_per_kw_month: Dist = Field(default=Spread(low=150.0, high=220.0), json_schema_extra=meta(
        "USD per kW of IT load per month", "assumption: high-density colocation in Tier III/IV sites"))
    overhead_usd_per_gpu_month: Dist = Field(default=250.0, json_schema_extra=meta(
        "USD per GPU-month", "assumption: staff, network, software, sales; sets the EBITDA margin near "
        "CoreWeave's 64% less a small-operator discount (calibration page)"))
    repair_usd_per_gpu_month: Dist = Field(default=20.0, json_schema_extra=meta(
        "USD per GPU-month", "assumption: ~9%/yr interruptions (Meta, Llama 3) mostly repaired or replaced "
        "under warranty at ~10% of a $25k GPU"))
    operator_vol_per_sqrt_year: Annotated[float, Field(ge=0.0, le=3.0, json_schema_extra=meta(
        "per √year", "assumption: one operator's own revenue risk (sales, pricing, outages, customer mix) as a "
        "random walk of its achievable rental; firm-level sales-growth volatility of US firms is of order "
        "0.1-0.4 a year, higher for small private firms (Comin & Mulani 2006, REStat; Davis et al. 2006, NBER "
        "Macroeconomics Annual); the value within that order is judgement, checked against speculative-grade "
        "default rates on the calibration page"))] = 0.25
    initial_cash_months: Dist = Spread(low=1.0, high=3.0)
    dsra_months: NonNegative = 3.0
    cash_sweep_above_months: NonNegative = 3.0
    sponsor_support_months: Annotated[float, Field(ge=0.0, le=120.0, json_schema_extra=meta(
        "months of debt service", "assumption: a parent covers SPV shortfalls of about one quarter while "
        "continuing is worth it (Iris Energy 2022 stopped when it was not)"))] = 3.0
    default_friction_months: Annotated[float, Field(ge=0.0, le=120.0, json_schema_extra=meta(
        "months of revenue at origination", "assumption: lost customer contracts, reputation and legal cost "
        "of handing a fleet back"))] = 3.0
    equity_discount_rate: Annotated[float, Field(gt=0.0, le=2.0, json_schema_extra=meta(
        "per year", "assumption: operators' cost of equity above their 10-17% debt (DOMAIN.md loan pricing)"))] = 0.25
    strategic_walk_ratio: Dist = Field(default=Spread(low=0.5, high=0.8), json_schema_extra=meta(
        "collateral / principal", "assumption; used only by default_rule: collateral_barrier (Black-Cox)"))
    fraud_rate_per_year: Dist = Field(default=0.001, json_schema_extra=meta(
        "per year", "assumption: fraud is rare where fleets are verified (bailment, tokenised GPUs, third-party "
        "appraisals) and a minority of defaults in secured lending; no public rate exists (DOMAIN.md)"))
    hardware_failure_rate_per_year: Annotated[float, Field(ge=0.0, le=1.0, json_schema_extra=meta(
        "per year", "permanent loss of collateral 1-2%/yr: assumption (DOMAIN.md hardware failure row: 9%/yr "
        "interruptions are mostly repaired, the cost is in repair_usd_per_gpu_month)"))] = 0.015
    hardware_insured: bool = False
    arrivals_per_month: Annotated[float, Field(ge=0.0, le=100.0, json_schema_extra=meta(
        "loans per month", "assumption: new loan requests of this template (Poisson)"))] = 0.0
    refinance_ltv: Fraction = 0.6
    maintenance_ltv: Annotated[float, Field(gt=0.0, le=2.0)] | None = None
    covenant_cure_days: Annotated[int, Field(ge=0)] = 30

    @model_validator(mode="after")
    def _fractions(self) -> Cohort:
        for key in ("requested_ltv", "contracted_share", "utilisation_level"):
            low, high = dist_bounds(getattr(self, key))
            if low < 0 or high > 1:
                raise ValueError(f"{key} must lie within [0, 1] (got {low}..{high})")
        for key in NON_NEGATIVE_COHORT_KEYS:
            low, high = dist_bounds(getattr(self, key))
            if low < 0:
                raise ValueError(f"{key} must not be negative (got {low}..{high})")
        if dist_bounds(self.apr)[1] > MAX_APR:
            raise ValueError(f"apr must be at most {MAX_APR} (got {dist_bounds(self.apr)[1]})")
        return self


class Borrowers(Frozen):
    """The GPU-operator population and the rule by which a solvent operator walks away.

    ``option`` (default): walk at a payment date when the operator's revenue factor is below its default
    boundary (continuing, with the option to walk later, is worth less than walking;
    ``usdai_sim/agents/default_option.py``); ``myopic``: the same without the option to walk later;
    ``collateral_barrier``: walk as soon as collateral < strategic_walk_ratio × principal (Black–Cox).
    ``expected_reversion_per_year`` is what owners believe of a fall in market rentals when the boundary is
    solved: null, the simulated process (``markets.rental.kappa_per_year``); 0, a fall lasts.
    """

    cohorts: Annotated[tuple[Cohort, ...], Field(min_length=1)] = (Cohort(),)
    demand_patience_days: Annotated[int, Field(ge=0)] = 90
    default_rule: Literal["option", "myopic", "collateral_barrier"] = "option"
    expected_reversion_per_year: MeanReversion | None = None
    refinance_at_maturity: bool = True

    @property
    def count(self) -> int:
        """Borrowers in all cohorts."""
        return sum(c.count for c in self.cohorts)


# ---------------------------------------------------------------- protocol


class PriceImpact(Frozen):
    """Fire-sale discount growth and resale-index depression from forced sales of one class."""

    discount_slope: NonNegative = 0.5
    max_discount: Fraction = 0.9
    index_impact_per_depth: NonNegative = 0.2
    half_life_days: Positive = 60.0
    window_days: Positive = 30.0


class Liquidation(Frozen):
    """Time to sell, forced-sale value curve, fee, surplus, springing recourse."""

    time_to_sell_days: Annotated[int, Field(ge=0)] = 30
    forced_sale_factors: dict[int, Fraction] = Field(
        default_factory=lambda: {0: 0.45, 7: 0.45, 30: 0.65, 90: 0.85, 365: 1.0}
    )
    fee_fraction: Fraction = 0.10
    surplus_to: Literal["protocol", "borrower"] = "protocol"
    price_impact: PriceImpact = PriceImpact()
    fraud_missing_fraction: Dist = Field(default=Spread(low=0.9, high=1.0), json_schema_extra=meta(
        "fraction of the fleet", "Maple/Orthogonal Dec 2022: expected recovery $2.5M of $36M (LGD ~93%, "
        "DOMAIN.md), i.e. almost nothing left to take; assumption: 0-10% of a fraudulent fleet is found "
        "(the rest never bought or pledged to another lender)"))
    recourse_recovery_fraction: Annotated[float, Field(ge=0.0, le=1.0, json_schema_extra=meta(
        "fraction of the shortfall", "Maple/Orthogonal Dec 2022: ~7% of the claim recovered from a borrower "
        "liable in full (DOMAIN.md)"))] = 0.07
    recourse_delay_days: Annotated[int, Field(ge=0)] = 180


class LossRecognition(Frozen):
    """When a default's loss reaches the exchange ratio."""

    policy: Literal["on_sale", "on_default", "linear"] = "on_sale"
    writedown_grace_days: Annotated[int, Field(ge=0)] = 45
    writedown_days: Annotated[int, Field(gt=0)] = 120


class Insurance(Frozen):
    """GPU value insurance: pays (insured value − gross sale proceeds)⁺ until the aggregate cover is used."""

    cover_usd: UsdAmount = 0.0
    insured_fraction: Fraction = 0.7
    premium_bps_per_year: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0


class Qev(Frozen):
    """Queue-extractable-value priority auction at each window close."""

    enabled: bool = False
    admin_share: Fraction = 0.01
    min_bid_bps: Annotated[float, Field(ge=0, le=10_000)] = 10.0
    max_bid_bps: Annotated[float, Field(ge=0, le=10_000)] = 10_000.0


class Queue(Frozen):
    """ERC-7540 redemption queue."""

    window_days: Annotated[int, Field(gt=0)] = 30
    min_request_shares: NonNegative = 1.0
    qev: Qev = Qev()


class Allocation(Frozen):
    """How idle USDai is lent. Underwriting declines a request whose debt-service coverage is below ``min_dscr``:
    at the day's market (``dscr_basis: today``), or at its lowest over the loan's payment dates on the market's
    median path (``expected_path``: the rental trend, today's deviation fading, contracts re-pricing, fleet wear)."""

    max_loan_share: Fraction = 0.6
    min_liquidity_fraction: Fraction = 0.05
    min_dscr: Annotated[float, Field(ge=0.0, le=10.0)] | None = 1.2
    dscr_basis: Literal["today", "expected_path"] = "today"


class Protocol(Frozen):
    """USDai, the sUSDai vault and loan servicing."""

    grace_days: Annotated[int, Field(ge=0)] = 30
    grace_apr_premium: NonNegative = 0.05
    admin_fee_base_yield_bps: Annotated[float, Field(ge=0, le=10_000)] = 100.0
    admin_fee_loan_interest_bps: Annotated[float, Field(ge=0, le=10_000)] = 100.0
    incentive_apr: NonNegative = 0.045
    incentive_cap_usd: UsdAmount = 1.0e9
    supply_cap_usd: Annotated[float, Field(gt=0.0, le=1.0e13)] | None = None
    initial_susdai_nav_usd: Annotated[float, Field(gt=0.0, le=1.0e13)] = 3.0e8
    unstaked_usdai_usd: UsdAmount = 2.0e8
    first_loss_usd: UsdAmount = 0.0
    liquidation: Liquidation = Liquidation()
    loss_recognition: LossRecognition = LossRecognition()
    insurance: Insurance = Insurance()
    queue: Queue = Queue()
    allocation: Allocation = Allocation()


# ---------------------------------------------------------------- depositors


class UnstakedHolders(Frozen):
    """Holders of unstaked USDai (``protocol.unstaked_usdai_usd`` in total): redeem 1:1, react to news faster."""

    count: Annotated[int, Field(gt=0, le=1_000_000)] = 200
    balance_pareto_alpha: Positive = 1.5
    max_holder_share: Fraction = 0.10
    redeem_base_rate_per_year: NonNegative = 0.6
    inflow_rate_per_year: NonNegative = 0.6
    loss_news_sensitivity_per_year: Dist = Spread(low=0.0, high=900.0)
    discount_threshold: Dist = Spread(low=0.0, high=0.01)
    discount_sensitivity_per_year: Dist = Spread(low=0.0, high=300.0)
    queue_threshold: Dist = Spread(low=0.05, high=0.20)
    queue_sensitivity_per_year: Dist = Spread(low=0.0, high=30.0)
    outflow_threshold: Dist = Spread(low=0.02, high=0.06)
    outflow_sensitivity_per_year: Dist = Spread(low=0.0, high=200.0)
    redeem_limit_usd_per_day: Positive | None = None


class SecondaryMarket(Frozen):
    """Selling sUSDai now at a discount to NAV: d = min(cap, base + a·queue + b·wait/365 + c·loss news)."""

    enabled: bool = True
    base_discount: Fraction = 0.001
    queue_slope: NonNegative = 0.05
    wait_slope_per_year: NonNegative = 0.10
    loss_news_slope: NonNegative = 2.0
    max_discount: Fraction = 0.30
    arbitrage_capital_usd_per_day: NonNegative = 5.0e6


class Depositors(Frozen):
    """sUSDai holders: balances and behaviour; rates are hazards per year, thresholds annual decimals."""

    count: Annotated[int, Field(gt=0, le=1_000_000)] = 500
    balance_pareto_alpha: Positive = 1.5
    max_holder_share: Fraction = 0.10
    wallet_multiple: NonNegative = 0.3
    deposit_hurdle: Dist = Spread(low=0.0, high=0.03)
    deposit_rate_per_year: NonNegative = 2.0
    deposit_fraction: Fraction = 0.5
    redeem_base_rate_per_year: NonNegative = 0.3
    run_proneness: NonNegative = 1.0
    spread_threshold: Dist = Spread(low=-0.01, high=0.01)
    spread_sensitivity_per_year: Dist = Spread(low=0.0, high=200.0)
    loss_threshold: Dist = Spread(low=0.002, high=0.02)
    loss_sensitivity_per_year: Dist = Spread(low=0.0, high=100.0)
    loss_news_half_life_days: Positive = 14.0
    loss_news_sensitivity_per_year: Dist = Spread(low=0.0, high=300.0)
    herd_threshold: Dist = Spread(low=0.0, high=0.05)
    herd_sensitivity_per_year: Dist = Spread(low=0.0, high=20.0)
    outflow_threshold: Dist = Spread(low=0.03, high=0.08)
    outflow_sensitivity_per_year: Dist = Spread(low=0.0, high=60.0)
    exit_discount_tolerance: Dist = Spread(low=0.0, high=0.03)
    request_fraction: Fraction = 1.0
    qev_bid_bps: Dist = Spread(low=10.0, high=200.0)
    qev_bid_probability: Fraction = 0.2
    yield_lookback_days: Annotated[int, Field(gt=0, le=3650)] = 90
    first_mover_days: Annotated[int, Field(gt=0)] = 30
    unstaked: UnstakedHolders = UnstakedHolders()
    secondary: SecondaryMarket = SecondaryMarket()


# ---------------------------------------------------------------- shocks


class ShockBase(Frozen):
    """Timing common to every shock: envelope e(t) in [0, 1].

    step: e = 1 on [start, start + duration) (permanent when duration is null);
    ramp: e = clip((t − start)/duration, 0, 1), then holds.
    ``probability`` < 1 makes it stochastic: each path has it with that probability, and its start is
    drawn uniformly within ``[start_day, start_day + start_window_days]``.
    """

    start_day: Annotated[float, Field(ge=0)] = 0.0
    duration_days: Annotated[float, Field(gt=0)] | None = None
    shape: Literal["step", "ramp"] = "step"
    probability: Fraction = 1.0
    start_window_days: NonNegative = 0.0

    @model_validator(mode="after")
    def _ramp_has_duration(self) -> ShockBase:
        if self.shape == "ramp" and self.duration_days is None:
            raise ValueError("a ramp needs duration_days")
        return self


class GpuResaleShock(ShockBase):
    """Resale index of the named classes (all when empty) × (1 + change·e(t))."""

    type: Literal["gpu_resale"]
    classes: tuple[str, ...] = ()
    change: Annotated[float, Field(ge=-1.0)]


class RentalShock(ShockBase):
    """Rental price of the named classes (all when empty) × (1 + change·e(t))."""

    type: Literal["rental"]
    classes: tuple[str, ...] = ()
    change: Annotated[float, Field(ge=-1.0)]


class UtilisationShock(ShockBase):
    """Every borrower's utilisation × (1 + change·e(t)), capped at 1."""

    type: Literal["utilisation"]
    change: Annotated[float, Field(ge=-1.0)]


class TbillShiftShock(ShockBase):
    """T-bill rate + shift·e(t) (annual decimal), floored at zero."""

    type: Literal["tbill_shift"]
    shift: Annotated[float, Field(ge=-0.5, le=0.5)]


class TbillPathShock(ShockBase):
    """T-bill rate replaced by a given path: ``rates`` on ``days`` after start (step-wise); from CSV via ``csv``."""

    type: Literal["tbill_path"]
    days: tuple[NonNegative, ...] = ()
    rates: tuple[Annotated[float, Field(ge=-0.05, le=0.5)], ...] = ()

    @model_validator(mode="after")
    def _aligned(self) -> TbillPathShock:
        if not self.days or len(self.days) != len(self.rates):
            raise ValueError("days and rates must be non-empty and of equal length")
        return self


class TbillLevelShock(ShockBase):
    """T-bill rate moved to ``level`` as e(t) rises: (1 − e)·rate + e·level (annual decimal)."""

    type: Literal["tbill_level"]
    level: Annotated[float, Field(ge=0.0, le=0.5)]


class FraudShock(ShockBase):
    """Fraud rate × (1 + (multiplier − 1)·e(t))."""

    type: Literal["fraud_multiplier"]
    multiplier: NonNegative


class RedemptionWaveShock(ShockBase):
    """A share of sUSDai supply requests redemption as e(t) rises (step: all at start)."""

    type: Literal["redemption_wave"]
    fraction_of_supply: Fraction


class NewGenerationShock(ShockBase):
    """A launch: older classes lose extra value at a rate per year after start, plus optional jumps."""

    type: Literal["new_generation"]
    classes: tuple[str, ...]
    extra_depreciation_per_year: NonNegative = 0.2
    resale_jump: Annotated[float, Field(ge=-1.0)] = 0.0
    rental_jump: Annotated[float, Field(ge=-1.0)] = 0.0


class SeriesShock(ShockBase):
    """An observed driver: ``target`` of the named classes (all when empty) × value(t) (1.0 = unchanged).

    value(t) is linear between ``values`` on ``days`` after ``start_day`` (negative: before it), the first
    value before the first day and the last after the last; from a CSV (``date,value,source``) via ``csv``.
    ``liquidity`` multiplies the secondary-market depth that sets the fire-sale discount (values must be
    > 0); ``utilisation`` multiplies every borrower's utilisation.
    """

    type: Literal["series"]
    target: Literal["rental", "resale", "liquidity", "utilisation"]
    classes: tuple[str, ...] = ()
    days: tuple[float, ...] = ()
    values: tuple[NonNegative, ...] = ()

    @model_validator(mode="after")
    def _aligned(self) -> SeriesShock:
        if not self.days or len(self.days) != len(self.values):
            raise ValueError("days and values must be non-empty and of equal length")
        if any(b <= a for a, b in zip(self.days, self.days[1:], strict=False)):
            raise ValueError("days must be strictly increasing")
        if self.target == "liquidity" and min(self.values) <= 0:
            raise ValueError("liquidity values must be > 0 (they divide the volume sold)")
        return self


Shock = Annotated[
    GpuResaleShock
    | RentalShock
    | UtilisationShock
    | TbillShiftShock
    | TbillPathShock
    | TbillLevelShock
    | FraudShock
    | RedemptionWaveShock
    | NewGenerationShock
    | SeriesShock,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------- validation


class ValidationTarget(Frozen):
    """An observed outcome and the tolerance band, set before running, that the model's median must hit.

    ``metric`` is a replay metric of ``usdai_sim.calibration.replays`` (listed in the README); values are
    in the metric's unit (fractions of 1 unless the metric says otherwise). Metrics over a window of the
    run read ``from_day`` and ``to_day`` (days from the start; default the whole horizon).
    """

    metric: str
    observed: float
    low: float
    high: float
    source: str
    note: str = ""
    from_day: NonNegative | None = None
    to_day: NonNegative | None = None
    gpu_class: str | None = None

    @model_validator(mode="after")
    def _band_ordered(self) -> ValidationTarget:
        if self.high < self.low:
            raise ValueError(f"high must be >= low (got low={self.low}, high={self.high})")
        if self.from_day is not None and self.to_day is not None and self.to_day <= self.from_day:
            raise ValueError("to_day must be after from_day")
        return self


# ---------------------------------------------------------------- scenario


class Scenario(Frozen):
    """A whole stress scenario."""

    name: str = "baseline"
    description: str = ""
    simulation: Simulation = Simulation()
    markets: Markets = Markets()
    borrowers: Borrowers = Borrowers()
    depositors: Depositors = Depositors()
    protocol: Protocol = Protocol()
    shocks: tuple[Shock, ...] = ()
    validation: tuple[ValidationTarget, ...] = ()

    @property
    def class_names(self) -> tuple[str, ...]:
        """GPU classes in a fixed order (the column order of per-class arrays)."""
        return tuple(self.markets.gpu.classes)


def cross_check(scenario: Scenario) -> list[tuple[tuple[str | int, ...], str, object]]:
    """Errors that span sections: (location, message, offending value); empty when consistent."""
    known = set(scenario.markets.gpu.classes)
    problems: list[tuple[tuple[str | int, ...], str, object]] = []
    for i, cohort in enumerate(scenario.borrowers.cohorts):
        if cohort.gpu_class not in known:
            message = f"unknown GPU class; known: {', '.join(sorted(known))}"
            problems.append((("borrowers", "cohorts", i, "gpu_class"), message, cohort.gpu_class))
    horizon = scenario.simulation.horizon_days
    for i, shock in enumerate(scenario.shocks):
        if shock.start_day + shock.start_window_days >= horizon:
            message = f"shock starts at or after the horizon of {horizon} days"
            problems.append((("shocks", i, "start_day"), message, shock.start_day))
        for name in getattr(shock, "classes", ()):
            if name not in known:
                problems.append((("shocks", i, "classes"), "unknown GPU class", name))
    return problems
