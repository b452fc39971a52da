"""The calibration page: ``reports/calibration.md`` and its figures, generated from code.

Six sections: every default parameter with its unit and source (read from the schema's ``meta(...)``
extras and the GPU catalog), operator economics at origination against public figures, defaults and
losses of a small baseline run, the three default rules side by side on a crash, resale value against
rental income and the shipped market points, and the monotone checks with the tests that check them.
Deterministic: fixed seeds and paths, no timestamps, fixed float formats. :func:`write_page` is the only
function that writes files; it replaces the page and its figure folder whole.
"""

from __future__ import annotations

import ast
import csv
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pydantic import BaseModel

from usdai_sim.agents.default_option import (
    PAYMENT_YEARS,
    cohort_claim_factory,
    cohort_dynamics,
    solve_boundary,
)
from usdai_sim.calibration.economics import economics_summary, origination_economics
from usdai_sim.calibration.page_files import replace_page
from usdai_sim.engine import simulate
from usdai_sim.intervals import SEASONING_KEY
from usdai_sim.market.catalog import GPU_CATALOG, VINTAGE_FACTORS_DOMAIN
from usdai_sim.market.valuation import IncomeValuation
from usdai_sim.params import compile_params
from usdai_sim.scenario.field_docs import field_doc
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Cohort, GpuClass, Scenario, Spread, dist_bounds

ModelT = TypeVar("ModelT", bound=BaseModel)
PAGE_PATHS = 64
"""Baseline paths on the committed page; each default rule runs a quarter of them on each crash scenario."""
FIGURE_DIR = "calibration"
RULES = ("option", "myopic", "collateral_barrier")
RULE_SCENARIOS = ("gpu_resale_crash", "rental_collapse")
MARKET_POINTS = Path(__file__).parents[1] / "data" / "gpu_market_points.csv"
TESTS_DIR = Path(__file__).parents[2] / "tests"
ROUTES = ("payment", "strategic", "fraud", "covenant")
DAYS_PER_YEAR = 365.0

EBITDA_MARGIN_BAND = (0.45, 0.70)
"""CoreWeave 2024 adj. EBITDA ~64% (IPO prospectus 2025); smaller operators lower (issue #12)."""
DSCR_BAND = (1.2, 2.0)
"""Debt service coverage at origination of GPU-backed loans (issue #12; DOMAIN.md loan terms)."""
H100_BREAK_EVEN_USD = 1.65
"""H100 break-even rental, USD per GPU-hour (Latent Space; DOMAIN.md), checked within ±15%."""
POINT_TOLERANCE = 0.15
"""A point figure (low = high) is matched within ±15% (assumption: the spread of public quotes)."""
VINTAGE_TOLERANCE = 0.05
"""Model vintage factor within ±0.05 of DOMAIN.md's (assumption: the trackers' own scatter)."""
IRIS_EBITDA_TO_DEBT_SERVICE = 2.0 / 7.0
"""Iris Energy, Nov 2022: ~$2M/month earned vs ~$7M/month debt service when it walked (DOMAIN.md)."""
USED_AGE_YEARS = {"H100": (1.0, 3.0), "H200": (0.5, 1.5), "A100": (3.0, 5.5)}
"""Plausible ages of used GPUs on the market in 2026 (assumption: volume shipments from 2023, 2024, 2020)."""


# ---------------------------------------------------------------- formatting


def num(value: Any) -> str:
    """A number for the page: 4 significant digits, whole numbers from 1000; None/NaN 'n/a'."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal ('n/a' when missing)."""
    return "n/a" if value is None or not np.isfinite(value) else f"{100 * value:.1f}%"


def cell(text: str) -> str:
    """Markdown-table-safe text on one line."""
    return " ".join(str(text).split()).replace("|", "\\|")


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def value_text(value: Any) -> str:
    """A default value as text: spreads as low–high, mappings and tuples item by item."""
    if isinstance(value, Spread):
        return f"{num(value.low)}–{num(value.high)}" + (" (log-uniform)" if value.log else "")
    if isinstance(value, dict):
        if set(value) == {"low", "high", "log"}:
            return value_text(Spread.model_validate(value))
        return ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, tuple | list):
        return ", ".join(value_text(v) for v in value) or "none"
    if value is None:
        return "none"
    if value == "":
        return '""'
    return num(value) if isinstance(value, int | float) else str(value)


def verdict(inside: bool) -> str:
    """'within' or a bold 'outside'."""
    return "within" if inside else "**outside**"


def in_band(value: float, band: tuple[float, float]) -> bool:
    """True when value lies in [low, high] (NaN is outside)."""
    return bool(band[0] <= value <= band[1])


# ---------------------------------------------------------------- 1. parameters


@dataclass(frozen=True)
class ParamRow:
    """One default of the scenario schema."""

    key: str
    value: str
    unit: str
    source: str


def field_meta(model: type[BaseModel], name: str) -> tuple[str, str]:
    """(unit, source) of a field as the schema documents it (``scenario/field_docs.field_doc``: inline
    schema extras first, then the field-docs table); '' and 'no source recorded' when absent."""
    doc = field_doc(model, name)
    if doc is None:
        return "", "no source recorded"
    return doc[1], doc[2] or "no source recorded"


def walk_defaults(model: BaseModel, prefix: str = "") -> Iterator[ParamRow]:
    """Every leaf default of ``model`` (recursively), the GPU classes once as ``classes.*`` (the catalog
    table gives their per-class figures)."""
    for name in type(model).model_fields:
        key, value = f"{prefix}{name}", getattr(model, name)
        if isinstance(value, BaseModel) and not isinstance(value, Spread):
            yield from walk_defaults(value, f"{key}.")
        elif name == "classes" and isinstance(value, dict) and value:
            yield from walk_defaults(next(iter(value.values())), f"{key}.*.")
        elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            yield from walk_defaults(value[0], f"{key}[*].")
        else:
            unit, source = field_meta(type(model), name)
            if isinstance(model, GpuClass) and name in GPU_CATALOG["H100"] and source == "no source recorded":
                source = "per class: GPU catalog table below"
            yield ParamRow(key, value_text(value), unit or "—", source)


def catalog_rows() -> list[list[str]]:
    """One row per catalog class: its figures and its source string."""
    rows = []
    for name, entry in GPU_CATALOG.items():
        figures = [num(entry[k]) for k in ("list_price_usd", "rental_usd_per_gpu_hour", "power_kw_per_gpu")]
        figures += [num(entry["market_depth_gpus_per_30d"]), num(entry["max_ltv"])]
        rows.append([f"`{name}`", *figures, value_text(entry["vintage_factors"]), entry["source"]])
    return rows


def flat_dump(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted leaves of a model dump (spreads stay whole)."""
    if isinstance(data, dict) and set(data) != {"low", "high", "log"}:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(flat_dump(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


def overrides(scenario: Scenario) -> list[list[str]]:
    """(key, schema default, scenario value) for every leaf the scenario sets differently."""
    cohorts = scenario.borrowers.cohorts
    ours = flat_dump(scenario.model_copy(update={"borrowers": scenario.borrowers.model_copy(
        update={"cohorts": Scenario().borrowers.cohorts})}).model_dump(mode="json"))
    base = flat_dump(Scenario().model_dump(mode="json"))
    rows = [[f"`{k}`", value_text(base.get(k)), value_text(v)] for k, v in ours.items()
            if v != base.get(k) and k not in ("name", "description")]
    default_cohort = flat_dump(Cohort().model_dump(mode="json"))
    for i, cohort in enumerate(cohorts):
        for k, v in flat_dump(cohort.model_dump(mode="json")).items():
            if v != default_cohort[k]:
                rows.append([f"`borrowers.cohorts[{i}].{k}`", value_text(default_cohort[k]), value_text(v)])
    return rows


def parameters_section(baseline: Scenario) -> str:
    """Section 1: the schema's defaults with units and sources, the catalog, the baseline's overrides."""
    params = list(walk_defaults(Scenario()))
    sourced = [p for p in params if p.source != "no source recorded" and not p.source.startswith("per class")]
    assumed = [p for p in sourced if p.source.lower().startswith("assumption")]
    rows = [[f"`{p.key}`", p.value, p.unit, p.source] for p in params]
    catalog_header = ["class", "list USD", "rental USD/GPU-h", "kW/GPU", "depth GPUs/30d", "max LTV",
                      "vintage factors", "source"]
    return (
        "## 1. Parameters\n\n"
        f"Every default of the scenario schema ({len(params)} leaves; `[*]` = each list item, `classes.*` = each "
        "GPU class). Unit and source come from the schema's own documentation (`field_doc`: a field's inline "
        "`meta(unit, source)` in `usdai_sim/scenario/schema.py`, else `usdai_sim/scenario/field_docs.py`); "
        "the GPU classes' figures come from the catalog "
        f"(`usdai_sim/market/catalog.py`). {len(sourced)} carry a source, {len(assumed)} of them marked "
        f"\"assumption\"; {len(params) - len(sourced)} show **no source recorded**.\n\n"
        + table(["key", "default", "unit", "source"], rows)
        + "\n\n### GPU catalog\n\n"
        + table(catalog_header, catalog_rows())
        + f"\n\n### Baseline overrides (`{baseline.name}`)\n\n"
        "What `usdai_sim/scenarios/baseline.yaml` sets differently from the schema defaults (its sources are "
        "the comments at the head of the file).\n\n"
        + table(["key", "schema default", "baseline"], overrides(baseline))
        + "\n"
    )


# ---------------------------------------------------------------- 2. economics


def economics_section(baseline: Scenario) -> tuple[str, pd.DataFrame]:
    """Section 2: margin, DSCR and break-even per cohort and overall, with verdicts (returns the per-loan frame)."""
    frame = origination_economics(compile_params(baseline))
    summary = economics_summary(frame)
    low, high = H100_BREAK_EVEN_USD * (1 - POINT_TOLERANCE), H100_BREAK_EVEN_USD * (1 + POINT_TOLERANCE)
    rows, misses = [], []
    for rec in summary.to_dict("records"):
        label = f"{rec['cohort']} ({rec['gpu_class']})"
        margin, dscr, be = rec["ebitda_margin"], rec["dscr"], rec["break_even_rental_usd_per_gpu_hour"]
        be_verdict = verdict(low <= be <= high) if rec["gpu_class"] == "H100" else "n/a (no public figure)"
        checks = {"EBITDA margin": in_band(margin, EBITDA_MARGIN_BAND), "DSCR": in_band(dscr, DSCR_BAND)}
        if rec["gpu_class"] == "H100":
            checks["H100 break-even"] = low <= be <= high
        misses += [f"{name} of {label}" for name, ok in checks.items() if not ok]
        rows.append([label, pct(margin), verdict(checks["EBITDA margin"]), num(dscr), verdict(checks["DSCR"]),
                     f"${be:.2f}", be_verdict])
    header = ["cohort (class)", "EBITDA margin", "45–70%", "DSCR", "1.2–2.0", "break-even $/GPU-h",
              f"${low:.2f}–{high:.2f} (H100)"]
    plain = ("Everything lands inside its public range." if not misses else
             "Outside the public range (not tuned away): " + "; ".join(misses) + ".")
    floor = baseline.protocol.allocation.min_dscr
    if floor is not None:
        declined = float((frame["dscr"] < floor).mean())
        plain += (f" Underwriting (`protocol.allocation.min_dscr` = {floor:g}) declines {pct(declined)} of these "
                  "requests at day-0 markets (later arrivals meet the market of their day); the medians above are "
                  "over every request, funded or not.")
    text = (
        "## 2. Operator economics vs public figures\n\n"
        "Medians over the baseline's initial loans at origination (`usdai_sim/calibration/economics.py`: day-0 "
        "spot = class anchor, contracts at the contract fraction, loan = min(requested LTV, class max LTV) × "
        "day-0 value). Public figures: CoreWeave 2024 adjusted EBITDA ~64% (IPO prospectus 2025; target "
        "45–70%, smaller operators lower); DSCR at origination 1.2–2.0; H100 break-even ~$1.65/GPU-h ±15% "
        "(Latent Space). Break-even = (opex + debt service) / billable share: the rental at which the "
        "operator just pays its costs and its loan.\n\n"
        + table(header, rows) + f"\n\n{plain}\n"
    )
    return text, frame


# ---------------------------------------------------------------- 3. defaults and losses


def route_mix(summary: dict[str, Any]) -> dict[str, float]:
    """Share of defaults by route (mean defaults per path, normalised)."""
    counts = summary["defaults_by_route"]
    total = sum(counts.values())
    return {r: (counts[r] / total if total else float("nan")) for r in ROUTES}


@dataclass(frozen=True)
class Comparison:
    """A model figure next to a public one, with the band that counts as agreement and why a gap exists."""

    label: str
    model: float
    public: str
    band: tuple[float, float]
    below: str
    above: str

    def row(self) -> list[str]:
        """Table row: label, model, public, band, verdict, explanation of the gap."""
        ok = in_band(self.model, self.band)
        why = "—" if ok else (self.below if self.model < self.band[0] else self.above)
        if not np.isfinite(self.model):
            why = "no defaults of this kind in the run"
        band = f"{pct(self.band[0])}–{pct(self.band[1])}"
        return [self.label, pct(self.model), self.public, band, verdict(ok), why]


def loss_comparisons(s: dict[str, Any], scenario: Scenario) -> list[Comparison]:
    """The scenario's default and loss figures against the public ones."""
    lgd_route = s["loss_given_default_by_route"]
    mix = route_mix(s)
    fraud_rates = sorted({"–".join(pct(b) for b in sorted(set(dist_bounds(c.fraud_rate_per_year))))
                          for c in scenario.borrowers.cohorts})
    worst = max((r for r in ROUTES if lgd_route[r] is not None), key=lambda r: lgd_route[r], default="fraud")
    missing = scenario.protocol.liquidation.fraud_missing_fraction
    kept = [1.0 - b for b in reversed(dist_bounds(missing))]
    liq = scenario.protocol.liquidation

    def get(value: float | None) -> float:
        return float("nan") if value is None else float(value)

    oldest = max(s[SEASONING_KEY], key=int, default="1")

    return [
        Comparison("default rate per loan-year", get(s["default_rate_per_loan_year"]),
                   "S&P global speculative-grade one-year default rate 1.9% (2022), 3.7% (2023) (S&P annual "
                   "default study 2023); CoreWeave, the largest neocloud, rated Ba3 / BB- (Moody's, Fitch, May 2025): "
                   "smaller, unrated operators are no safer", (0.01, 0.05),
                   "the operators' own revenue risk (`operator_vol_per_sqrt_year`) is too small to fail them as "
                   "often as speculative-grade firms",
                   "the operators' own revenue risk fails them more often than single-B firms"),
        Comparison(f"default rate per loan-year, year {oldest} on book", last_year_rate(s[SEASONING_KEY]),
                   "the same S&P one-year rates",
                   (0.01, 0.05), "old loans are mostly repaid and rarely fail",
                   "by the last year each operator's own rental has wandered furthest from origination, and level "
                   "payments meet a rental that trends down (seasoning above: what underwriting on the expected "
                   "path changes, and the σ table: what the operators' own risk does)"),
        Comparison("default rate (principal, horizon)", get(s["default_rate_principal"]),
                   "Maple delegate pool: $850M originated at a 1.2% default rate before Dec 2022 (The Block; "
                   "read here as a share of the dollars lent)", (0.005, 0.03),
                   "operators at DSCR ~1.7 rarely miss a payment in calm markets",
                   "more of the book fails than a vetted crypto-lending pool; fraud and payment hazards set it"),
        Comparison("payment share of defaults", mix["payment"], "issue #12: most baseline defaults are payment",
                   (0.5, 1.0), f"fraud ({' / '.join(fraud_rates)} a year per loan) rivals payment defaults in calm "
                   "markets, where operators rarely run out of cash",
                   "—"),
        Comparison("fraud share of losses", get(s["loss_share_by_route"]["fraud"]),
                   "LexisNexis Risk Solutions small-business lending fraud studies: ~11% of lenders' losses (2019), "
                   "up to 15% (2022)", (0.05, 0.30),
                   "few fraud defaults in the run",
                   f"a fraud loses most of a whole loan ({pct(get(lgd_route['fraud']))}) while other defaults "
                   "lose little against hard collateral, so a few frauds dominate the losses; small-business "
                   "lenders' other losses are larger (much of their lending is unsecured)"),
        Comparison("LGD, payment defaults", get(lgd_route["payment"]),
                   "equipment finance, computers ~29% (Leaseurope/Deloitte)", (0.19, 0.39),
                   "most payment defaults are an operator's own failure in a healthy GPU market, late in the loan "
                   "(seasoning above): the fleet sells near its income value, on a loan that amortises faster than "
                   "GPUs depreciate, with the reserve on top; lessors' averages include downturn defaults and "
                   "workout costs the model does not have",
                   f"a forced sale within {liq.time_to_sell_days} days plus the {liq.fee_fraction:.0%} fee, on "
                   "used GPUs, loses more"),
        Comparison("LGD, fraud", get(lgd_route["fraud"]),
                   "Maple/Orthogonal Dec 2022 ~93% (The Block); the fraud parameters are set from it, so "
                   "agreement is by construction, not a test",
                   (0.80, 1.0), f"{kept[0]:.0%}–{kept[1]:.0%} of the fleet is still there to sell "
                   f"(fraud_missing_fraction {value_text(missing)}) and springing recourse recovers "
                   f"{liq.recourse_recovery_fraction:.0%} of the shortfall; Orthogonal had no hard collateral", "—"),
        Comparison("LGD, pooled without fraud", get(s["loss_given_default_pooled_ex_fraud"]),
                   "equipment finance ~20–29% (Leaseurope)", (0.19, 0.45),
                   "calm-market defaults are mostly operators' own failures: fleets sell near their income value "
                   "and part of the reserve is kept",
                   "forced sales of used GPUs at a discount lose more than a lessor's average"),
        Comparison("LGD, pooled", get(s["loss_given_default_pooled"]),
                   "equipment finance ~20–29% (Leaseurope); fraud-heavy books higher", (0.19, 0.45),
                   "few fraud losses in the run", f"pooled by exposure, not by count: {worst} "
                   f"defaults lose {pct(get(lgd_route.get(worst)))} and the largest defaults weigh most"),
    ]


OPERATOR_VOLS = (0.0, 0.15, 0.35)
"""The operators' own revenue volatility (per √year) shown next to the model's: 0 is the market alone."""


def with_fields(model: ModelT, path: str, **update: Any) -> ModelT:
    """``model`` with ``update`` set on its section at the dotted ``path`` (e.g. "protocol.allocation"), every
    section above it copied."""
    head, _, rest = path.partition(".")
    section = getattr(model, head)
    section = with_fields(section, rest, **update) if rest else section.model_copy(update=update)
    return model.model_copy(update={head: section})


def last_year_rate(curve: dict[str, float]) -> float:
    """The seasoning curve's rate in the oldest year on book it reached (NaN for an empty curve)."""
    return float(curve[max(curve, key=int)]) if curve else float("nan")


def with_operator_vol(scenario: Scenario, vol: float) -> Scenario:
    """The scenario with every cohort's ``operator_vol_per_sqrt_year`` set to ``vol``."""
    cohorts = tuple(c.model_copy(update={"operator_vol_per_sqrt_year": vol}) for c in scenario.borrowers.cohorts)
    return scenario.model_copy(update={"borrowers": scenario.borrowers.model_copy(update={"cohorts": cohorts})})


def operator_risk_text(results: Any, paths: int) -> str:
    """How the operators' own revenue risk sets the calm default rate and the loss mix: the same baseline, seed
    and paths, only ``operator_vol_per_sqrt_year`` changed (the model's own run reused)."""
    scenario = results.scenario
    own = {c.operator_vol_per_sqrt_year for c in scenario.borrowers.cohorts}
    if len(own) != 1:
        return ""
    model_vol = own.pop()
    rows = []
    for vol in sorted({model_vol, *OPERATOR_VOLS}):
        s = results.summary if vol == model_vol else simulate(with_operator_vol(scenario, vol), paths=paths).summary
        rows.append([f"{vol:g}" + (" (model)" if vol == model_vol else ""), pct(s["default_rate_per_loan_year"]),
                     pct(last_year_rate(s[SEASONING_KEY])),
                     pct(route_mix(s)["payment"]), pct(s["loss_given_default_pooled"]),
                     pct(s["loss_given_default_by_route"]["payment"]), pct(s["loss_share_by_route"]["fraud"])])
    header = ["operator σ per √year", "defaults per loan-year", "last year on book", "payment share", "pooled LGD",
              "payment LGD", "fraud share of losses"]
    return (
        "\n\nThe operators' own revenue risk (`operator_vol_per_sqrt_year`: a random walk of the rental each "
        "operator achieves, beside the market's) sets how often an operator fails in calm markets. Its value is "
        "an assumption of the order of firm-level sales volatility (section 1), not fitted to the rows below; "
        "the same run with only it changed:\n\n" + table(header, rows)
    )


UNDERWRITING_VARIANTS = (("today", 1.2), ("expected_path", 1.0), ("expected_path", 1.2))
"""(``dscr_basis``, ``min_dscr``) pairs the seasoning table compares (the model's first)."""


def underwriting_rows(results: Any, paths: int) -> tuple[list[str], list[list[str]], list[float]]:
    """Header, rows and last-year rates of the seasoning under each ``UNDERWRITING_VARIANTS`` entry (same seed and
    paths; the model's own run reused where it is the model's setting)."""
    scenario = results.scenario
    model = (scenario.protocol.allocation.dscr_basis, scenario.protocol.allocation.min_dscr)
    years = [str(y) for y in range(1, 4)]
    rows, last = [], []
    for basis, floor in UNDERWRITING_VARIANTS:
        run = results if (basis, floor) == model else simulate(
            with_fields(scenario, "protocol.allocation", dscr_basis=basis, min_dscr=floor), paths=paths)
        s, curve = run.summary, run.summary[SEASONING_KEY]
        declined = float(run.ledger["demand_declined"].sum())
        label = f"`{basis}`, min_dscr {floor:g}" + (" (model)" if (basis, floor) == model else "")
        rows.append([label, num(declined), num(float(run.paths["loans_originated"].mean())),
                     f"${run.paths['principal_originated_usd'].mean() / 1e6:,.0f}M",
                     *(pct(curve.get(y, float("nan"))) for y in years), pct(s["loss_given_default_pooled"]),
                     num(s["susdai_exchange_ratio_final"]["p50"])])
        last.append(float(curve.get(years[-1], float("nan"))))
    header = ["underwriting", "requests declined per path", "loans per path", "lent per path",
              *(f"year {y}: defaults per loan-year" for y in years), "pooled LGD", "median exchange ratio"]
    return header, rows, last


def seasoning_text(results: Any, paths: int) -> str:
    """The seasoning curve (defaults per loan-year by year on book), what shapes it, and whether underwriting on
    the expected path changes it."""
    s, scenario = results.summary, results.scenario
    curve = s[SEASONING_KEY]
    if len(curve) < 2:
        return ""
    rows = [[year, pct(rate)] for year, rate in curve.items()]
    rates = list(curve.values())
    shape = "Defaults come late in a loan's life" if rates[-1] > rates[0] else "Defaults do not rise with a loan's age"
    header, uw_rows, last = underwriting_rows(results, paths)
    moved = abs(last[1] - last[0]) > 0.25 * last[0]
    verdict_text = (
        "moves the last year's rate by more than a quarter" if moved else
        "lends less but moves the last year's rate by less than a quarter"
    )
    return (
        "\n\nSeasoning (`default_rate_per_loan_year_by_year_on_book`: defaults of loans in their n-th year on book / "
        "loan-years spent there; year 1 = the first 12 payments):\n\n"
        + table(["year on book", "defaults per loan-year"], rows)
        + f"\n\n{shape}. Two things grow with a loan's age: the distance each operator's own rental has wandered "
        "from where it was at origination (a random walk, `operator_vol_per_sqrt_year`: its spread grows with √t; "
        "the σ table below shows the last year's rate with it), and the expected decline of revenue against "
        "level payments (`amortisation`): the market's rental trends at "
        f"{scenario.markets.rental.drift_per_year:+.0%} a year (`markets.rental.drift_per_year`), contracts re-price "
        "to it as they roll and the fleet wears out. Underwriting tests the coverage at the day's market "
        "(`protocol.allocation.dscr_basis: today`). Tested instead on the lowest coverage along the market's "
        "median path (`expected_path`), the same run, seed and paths:\n\n"
        + table(header, uw_rows)
        + f"\n\nUnderwriting on the expected path at a floor of 1.0 (the loan is repaid on the median path) "
        f"{verdict_text}. A calm study's default rate depends on its horizon, and the rate per loan-year in the "
        "headline is an average over the ages this run's loans reached. No seasoning curve of GPU loans is "
        "published to compare with."
    )


def losses_section(results: Any, paths: int) -> str:
    """Section 3: default rate, route mix, LGD by route and class, recovery split, against public figures."""
    s = results.summary
    mix = route_mix(s)
    counts = s["defaults_by_route"]
    route_rows = [[r, num(counts[r]), pct(mix[r]), pct(s["loss_given_default_by_route"][r])] for r in ROUTES]
    class_rows = [[c, pct(v)] for c, v in s["loss_given_default_by_class"].items() if v is not None]
    split = s["recovery_split"]
    return (
        "## 3. Defaults and losses (baseline)\n\n"
        f"`baseline`, {paths} paths, seed {results.scenario.simulation.seed}, over its "
        f"{results.scenario.simulation.horizon_days}-day horizon. Default rate {pct(s['default_rate_count'])} of "
        f"loans ({pct(s['default_rate_principal'])} of principal; {pct(s['default_rate_per_loan_year'])} per "
        "loan-year); pooled LGD "
        f"{pct(s['loss_given_default_pooled'])}; P(holder loss) {pct(s['prob_principal_loss'])}. LGD is loss / "
        "exposure of sold defaults, recourse netted (`summary.json`).\n\n"
        + table(["route", "defaults per path", "share of defaults", "LGD"], route_rows)
        + "\n\n" + table(["GPU class", "LGD"], class_rows)
        + f"\n\nRecoveries: reserve (DSRA + SPV cash) {pct(split['reserve'])}, GPU sales {pct(split['gpu'])}, "
        f"springing recourse {pct(split['recourse'])}."
        + seasoning_text(results, paths)
        + operator_risk_text(results, paths)
        + "\n\nBands are this page's judgement (assumption) around each public figure; a gap is explained, not tuned "
        "away.\n\n"
        + table(["figure", "model", "public", "band", "verdict", "why the gap"],
                [c.row() for c in loss_comparisons(s, results.scenario)])
        + "\n"
    )


# ---------------------------------------------------------------- 4. default rules


def with_rule(scenario: Scenario, rule: str) -> Scenario:
    """The scenario with another ``borrowers.default_rule``."""
    return with_fields(scenario, "borrowers", default_rule=rule)


def rule_variants(scenario: Scenario) -> list[tuple[str, Scenario]]:
    """Each default rule on ``scenario``, then ``option`` with owners who expect a rental fall to last."""
    lasting = with_fields(scenario, "borrowers", default_rule="option", expected_reversion_per_year=0.0)
    return [*((f"`{rule}`", with_rule(scenario, rule)) for rule in RULES),
            ("`option`, expecting no recovery", lasting)]


def rule_rows(name: str, paths: int) -> list[list[str]]:
    """One row per default rule on a built-in scenario (same seed, same paths), and one for ``option`` with
    ``borrowers.expected_reversion_per_year: 0``."""
    scenario, _ = load_scenario(name)
    rows = []
    for label, variant in rule_variants(scenario):
        s = simulate(variant, paths=paths).summary
        by_route = [num(s["defaults_by_route"][r]) for r in ROUTES]
        ratio = s["susdai_exchange_ratio_final"]["p50"]
        rows.append([f"`{name}`", label, *by_route, pct(s["default_rate_count"]),
                     pct(s["loss_given_default_pooled"]), pct(s["prob_principal_loss"]), num(ratio)])
    return rows


@dataclass(frozen=True)
class Boundary:
    """x_B(k) of one cohort at its median cost and debt ratios, for the option and myopic rules."""

    cohort: str
    cost_ratio: float
    debt_ratio: float
    option: np.ndarray
    myopic: np.ndarray
    solver_kappa: float


def cohort_boundary(
    baseline: Scenario, frame: pd.DataFrame, gpu_class: str = "H100", kappa_per_year: float | None = None
) -> Boundary:
    """Solve the boundary of the baseline's first ``gpu_class`` cohort with the model's own solver (owners
    believing the baseline's rental process, or expecting falls to revert at ``kappa_per_year`` instead)."""
    cohort = next(c for c in baseline.borrowers.cohorts if c.gpu_class == gpu_class)
    loans = frame[frame["cohort"] == cohort.name]
    revenue = loans["revenue_usd_per_gpu_hour"]
    c = float((loans["opex_usd_per_gpu_hour"] / revenue).median())
    d = float((loans["debt_service_usd_per_gpu_hour"] / revenue).median())
    rental, life = baseline.markets.rental, baseline.markets.gpu.valuation.economic_life_years
    belief = baseline.borrowers.expected_reversion_per_year if kappa_per_year is None else kappa_per_year
    make = cohort_claim_factory(cohort, rental, life)
    dyn = cohort_dynamics(rental, cohort, belief)
    solved = {rule: solve_boundary(make(np.array(c), np.array(d)), dyn, cohort.equity_discount_rate,
                                   PAYMENT_YEARS, cohort.term_months, rule) for rule in ("option", "myopic")}
    return Boundary(cohort.name, c, d, solved["option"], solved["myopic"], dyn.kappa_per_year)


def boundary_rows(b: Boundary) -> list[list[str]]:
    """x_B and EBITDA / debt service at the boundary, at a few payments-left counts."""
    term = b.option.shape[0]
    rows = []
    for k in sorted({term, term // 2, 12, 1}):
        rows.append([str(k), num(float(b.option[k - 1])), num(ebitda_to_debt_service(b, k)),
                     num(float(b.myopic[k - 1])), num(ebitda_to_debt_service(b, k, "myopic"))])
    return rows


IRIS_BAND = (0.15, 0.45)
"""EBITDA / debt service at the walk-away that counts as near Iris Energy's 0.29 (assumption: one case)."""


def iris_text(b: Boundary) -> str:
    """The implied EBITDA / debt service at the boundary at origination, against Iris Energy's ~0.29."""
    term = b.option.shape[0]
    option, myopic = ebitda_to_debt_service(b, term), ebitda_to_debt_service(b, term, "myopic")
    ok = in_band(option, IRIS_BAND)
    where = "inside" if ok else ("below" if option < IRIS_BAND[0] else "above")
    return (
        f"At origination ({term} payments left) the option rule walks when EBITDA / debt service falls to "
        f"{option:.2f} (myopic: {myopic:.2f}); Iris Energy walked at ~{IRIS_EBITDA_TO_DEBT_SERVICE:.2f} (2 vs 7 "
        f"$M/month, DOMAIN.md; band {IRIS_BAND[0]:g}–{IRIS_BAND[1]:g}, assumption): {verdict(ok)}, {where} the band. "
        + ("" if ok else "A value below the band means the model's operators keep paying longer than Iris did: they "
           "expect a fall in rentals to revert to trend, and the fleet's residual value after the loan (income "
           "value over the life left) and the friction of walking outweigh months of negative cash flow; the "
           "table below separates the first. ")
        + f"The option to wait lowers the boundary by {(b.myopic[term - 1] - b.option[term - 1]):.4f} in x here."
    )


def ebitda_to_debt_service(b: Boundary, payments_left: int, rule: str = "option") -> float:
    """EBITDA / debt service at the boundary with ``payments_left`` payments left: (x_B − c)/d."""
    x_b = float((b.option if rule == "option" else b.myopic)[payments_left - 1])
    return (x_b - b.cost_ratio) / b.debt_ratio


PERSISTENCE_KAPPAS = (0.25, 0.1, 0.0)
"""Rental mean reversion (per year) shown next to the model's: κ = 0 is a permanent fall (a random walk)."""


def persistence_rows(baseline: Scenario, frame: pd.DataFrame) -> list[list[str]]:
    """EBITDA / debt service at the boundary (origination, mid-term) as the reversion owners expect of a rental
    fall goes from the process's κ to 0, with the verdict against Iris Energy's band at mid-term and origination."""
    model_kappa = baseline.markets.rental.kappa_per_year
    rows = []
    for kappa in (model_kappa, *(k for k in PERSISTENCE_KAPPAS if k != model_kappa)):
        b = cohort_boundary(baseline, frame, kappa_per_year=kappa)
        term = b.option.shape[0]
        at = [ebitda_to_debt_service(b, k, rule) for k in (term, term // 2) for rule in ("option", "myopic")]
        label = f"{kappa:g}" + (" (model)" if kappa == model_kappa else "") + (" (permanent)" if kappa == 0 else "")
        half_life = "∞" if kappa == 0 else f"{np.log(2) / kappa:.1f}"
        hits = verdict(in_band(at[0], IRIS_BAND) or in_band(at[2], IRIS_BAND))
        rows.append([label, half_life, num(b.solver_kappa), *(num(v) for v in at), hits])
    return rows


def persistence_text(baseline: Scenario, frame: pd.DataFrame) -> str:
    """Why the boundary sits where it does: how persistent the owner expects a rental fall to be."""
    header = ["expected reversion κ per year", "half-life of a market shock, years", "solver κ",
              "origination: option", "origination: myopic", "mid-term: option", "mid-term: myopic",
              "Iris band at either date"]
    return (
        "How long the owner expects a fall in rentals to last weighs heavily on the boundary. "
        "The model's rental process reverts to its trend (`markets.rental.kappa_per_year`, an assumption with "
        "no published figure), so an owner whose revenue has fallen with the market expects most of the fall "
        "back within the loan and keeps paying; a fall of its own rental factor (`operator_vol_per_sqrt_year`, a "
        "random walk) lasts. The solver sees one revenue factor, so it uses the reverting share of the variance, "
        "κ·σ_m²/(σ_m² + σ_o²) (`cohort_dynamics`; the \"solver κ\" column). Iris Energy's revenue was hashprice, "
        "which follows the bitcoin price, usually modelled as a random walk (assumption): a fall there is "
        "expected to last (κ = 0). The same solver, the same H100 claim, only the reversion the owner expects "
        "changed (`borrowers.expected_reversion_per_year`; EBITDA / debt service at the boundary):\n\n"
        + table(header, persistence_rows(baseline, frame))
        + "\n\nThe model's own κ is not changed to match one case; a scenario whose owners believe rental falls are "
        "permanent sets `borrowers.expected_reversion_per_year: 0` (the simulated rentals keep their process) and "
        "its owners walk near where Iris did."
    )


def boundary_png(b: Boundary, path: Path) -> None:
    """x_B(payments left) for both rules, with the break-even line (EBITDA = debt service)."""
    figure = Figure(figsize=(7.0, 3.6), layout="tight")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    k = np.arange(1, b.option.shape[0] + 1)
    ax.plot(k, b.option, label="option (walk when x < x_B)")
    ax.plot(k, b.myopic, label="myopic")
    ax.axhline(b.cost_ratio + b.debt_ratio, color="grey", ls="--", label="EBITDA = debt service")
    ax.axhline(b.cost_ratio + IRIS_EBITDA_TO_DEBT_SERVICE * b.debt_ratio, color="black", ls=":",
               label="EBITDA = 0.29 × debt service (Iris Energy)")
    ax.set_xlabel("payments left")
    ax.set_ylabel("revenue / revenue at origination")
    ax.set_title(f"default boundary, {b.cohort} at median c = {b.cost_ratio:.2f}, d = {b.debt_ratio:.2f}")
    ax.legend(fontsize=7)
    _save(figure, path)


def rules_section(frame: pd.DataFrame, baseline: Scenario, rule_paths: int, figures: Path) -> str:
    """Section 4: the three default rules on the crash scenario(s), and the boundary of the H100 cohort."""
    rows = [row for name in RULE_SCENARIOS for row in rule_rows(name, rule_paths)]
    b = cohort_boundary(baseline, frame)
    boundary_png(b, figures / "boundary.png")
    header = ["scenario", "rule", *[f"{r} / path" for r in ROUTES], "default rate", "pooled LGD", "P(loss)",
              "median exchange ratio"]
    bheader = ["payments left", "x_B option", "EBITDA/DS at x_B (option)", "x_B myopic", "EBITDA/DS at x_B (myopic)"]
    return (
        "## 4. Default rules side by side\n\n"
        f"Same scenario, seed and {rule_paths} paths for each `borrowers.default_rule` (defaults per path by "
        "route; the median sUSDai exchange ratio at the horizon). `option` walks when the operator's revenue "
        "factor is below its default boundary, `myopic` the same without the option to walk later, "
        "`collateral_barrier` when collateral < `strategic_walk_ratio` × principal (Black–Cox). A resale crash "
        "without a rental crash is a liquidity shock: it moves the barrier rule, not the income-based ones. "
        "\"Expecting no recovery\" is `option` with `borrowers.expected_reversion_per_year: 0`: the simulated "
        "rentals are the same, but owners solve their boundary as if a fall lasts (section below).\n\n"
        + table(header, rows)
        + "\n\n### The boundary itself\n\n"
        f"`{b.cohort}` at its median cost ratio c = opex/revenue = {b.cost_ratio:.3f} and debt ratio d = debt "
        f"service/revenue = {b.debt_ratio:.3f} at origination, solved by `usdai_sim/agents/default_option.py` "
        "(the solver the model uses). x = revenue / revenue at origination; at the boundary EBITDA / debt "
        f"service = (x_B − c)/d.\n\n"
        + table(bheader, boundary_rows(b))
        + "\n\n" + iris_text(b)
        + "\n\n" + persistence_text(baseline, frame)
        + "\n\n![default boundary](calibration/boundary.png)\n"
    )


# ---------------------------------------------------------------- 5. resale vs rental


def vintage_curve(baseline: Scenario, ages: range = range(5)) -> list[float]:
    """Value / list price of a GPU bought new at day 0, at age k on the expected rental path (trend)."""
    gpu = baseline.markets.gpu
    valuation = IncomeValuation(gpu.valuation, baseline.markets.rental)
    life = gpu.valuation.economic_life_years
    zero = np.zeros((1, 1))
    return [float(valuation.value_fraction(k, zero, np.array([0]), np.array([[life - k]]))[0, 0]) for k in ages]


def vintage_png(model: list[float], path: Path) -> None:
    """Model vintage curve against DOMAIN.md's factors."""
    figure = Figure(figsize=(6.0, 3.4), layout="tight")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ages = np.arange(len(model))
    ax.plot(ages, model, "o-", label="income value on the expected path (model)")
    ax.plot(ages, VINTAGE_FACTORS_DOMAIN[: len(model)], "s--", label="vintage factors (DOMAIN.md)")
    ax.set_xlabel("age, years")
    ax.set_ylabel("value / list price")
    ax.legend(fontsize=7)
    _save(figure, path)


@dataclass(frozen=True)
class MarketModel:
    """What the model says about a class at time t on the expected path."""

    baseline: Scenario
    valuation: IncomeValuation

    def value_usd(self, gpu: str, t_years: float, age_years: float) -> float:
        """Fundamental value of one GPU of ``gpu`` aged ``age_years`` at t (trend, no shocks)."""
        life = self.baseline.markets.gpu.valuation.economic_life_years
        fraction = self.valuation.value_fraction(t_years, np.zeros((1, 1)), np.array([0]),
                                                 np.array([[life - age_years]]))[0, 0]
        return float(self.baseline.markets.gpu.classes[gpu].list_price_usd * fraction)

    def rental_usd(self, gpu: str, t_years: float) -> float:
        """Median spot rental of ``gpu`` at t: anchor × e^{drift·t}."""
        anchor = self.baseline.markets.gpu.classes[gpu].rental_usd_per_gpu_hour
        return float(anchor * np.exp(self.baseline.markets.rental.drift_per_year * t_years))


def read_market_points() -> list[dict[str, str]]:
    """Rows of the shipped ``gpu_market_points.csv`` (comment lines skipped)."""
    with MARKET_POINTS.open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def price_point(m: MarketModel, row: dict[str, str], t: float) -> tuple[str, float, float, str]:
    """(what the model prices, model low, model high, note) for one priceable row; low = high for a point."""
    gpu, kind = row["gpu"], row["kind"]
    if kind == "price_new_usd":
        v = m.value_usd(gpu, t, 0.0)
        return "new GPU value", v, v, "age 0"
    if kind == "price_used_usd":
        young, old = USED_AGE_YEARS[gpu]
        return "used GPU value", m.value_usd(gpu, t, old), m.value_usd(gpu, t, young), f"ages {young:g}–{old:g} y"
    spot = m.rental_usd(gpu, t)
    if "contract" in row["source"]:
        fraction = float(dist_bounds(Cohort().contract_price_fraction)[0])
        return "contract rental", fraction * spot, fraction * spot, f"{fraction:g} × median spot"
    return "median spot rental", spot, spot, "trend"


def why_not_priced(m: MarketModel, row: dict[str, str], t: float) -> str | None:
    """Why a row cannot be compared (None when it can)."""
    if row["gpu"] not in m.baseline.markets.gpu.classes:
        return "not a catalog class"
    if t < 0:
        return f"before the model's start ({m.baseline.simulation.start_date}); history is replayed in validation.md"
    if row["kind"] == "price_used_usd" and row["gpu"] not in USED_AGE_YEARS:
        return "no plausible used age for this class"
    return None


def market_point_row(m: MarketModel, row: dict[str, str]) -> list[str]:
    """One CSV row with the model's figure and an in/out verdict (or why it cannot be compared)."""
    start = date.fromisoformat(m.baseline.simulation.start_date)
    t = (date.fromisoformat(row["date"]) - start).days / DAYS_PER_YEAR
    low, high = float(row["low"]), float(row["high"])
    stated = num(low) if low == high else f"{num(low)}–{num(high)}"
    head = [row["date"], row["gpu"], row["kind"], stated, row["source"]]
    reason = why_not_priced(m, row, t)
    if reason is not None:
        return [*head, "—", "not compared: " + reason]
    what, mlo, mhi, note = price_point(m, row, t)
    if low == high:
        low, high = low * (1 - POINT_TOLERANCE), high * (1 + POINT_TOLERANCE)
    model = num(mlo) if mlo == mhi else f"{num(mlo)}–{num(mhi)}"
    return [*head, f"{model} ({what}, {note})", verdict(mhi >= low and mlo <= high)]


def resale_section(baseline: Scenario, figures: Path) -> str:
    """Section 5: implied vintage curve vs DOMAIN.md, and every market point the model can price."""
    curve = vintage_curve(baseline)
    vintage_png(curve, figures / "vintage.png")
    vrows = [[str(k), num(v), num(d), verdict(abs(v - d) <= VINTAGE_TOLERANCE)]
             for k, (v, d) in enumerate(zip(curve, VINTAGE_FACTORS_DOMAIN, strict=False))]
    v = baseline.markets.gpu.valuation
    m = MarketModel(baseline, IncomeValuation(v, baseline.markets.rental))
    prows = [market_point_row(m, row) for row in read_market_points()]
    return (
        "## 5. Resale vs rental\n\n"
        "Income value (`usdai_sim/market/valuation.py`) of a GPU bought new at day 0, at age k on the expected "
        f"rental path (trend {baseline.markets.rental.drift_per_year:g}/yr, no shocks, liquidity factor 1), "
        f"economic life {v.economic_life_years:g} y, discount {v.discount_rate:g}/yr, billable "
        f"{v.billable_fraction:g}, opex {v.opex_fraction_of_revenue:g} of revenue; against DOMAIN.md's vintage "
        f"factors (band ±{VINTAGE_TOLERANCE:g}). Every class shares the rental trend and the valuation's opex "
        "fraction, so the curve is the same for all classes as a fraction of list price.\n\n"
        + table(["age, years", "model", "DOMAIN.md", "verdict"], vrows)
        + "\n\n![vintage curve](calibration/vintage.png)\n\n"
        "### Shipped market points (`usdai_sim/data/gpu_market_points.csv`)\n\n"
        "Each row the model can price, on the expected path at the row's date (t = date − start): values of "
        "new GPUs at age 0 and used GPUs at plausible ages (H100 1–3 y, H200 0.5–1.5 y, A100 3–5.5 y: "
        "assumption from volume-shipment years); median spot rentals (anchor × e^{drift·t}); contract rentals "
        f"(contract fraction × spot). A point figure counts as matched within ±{POINT_TOLERANCE:.0%}; a range "
        "when the model's range overlaps it. Rows before the start date or of non-catalog classes cannot be "
        "compared here: the model starts at its day-0 anchors and does not run backwards.\n\n"
        + table(["date", "GPU", "kind", "stated", "source", "model", "verdict"], prows)
        + "\n"
    )


# ---------------------------------------------------------------- 6. monotone checks and limits


MONOTONE_CHECKS: tuple[tuple[str, str], ...] = (
    ("Leland limit: perpetual coupon, GBM, no friction → lattice boundary within 1% of X_B", r"leland"),
    ("Myopic limit: no cash flow, martingale collateral → walk exactly when collateral < debt", r"myopic_limit"),
    ("Boundary rises with debt service and cost, falls with friction and residual value",
     r"boundary_monotone"),
    ("Option boundary at or below the myopic one", r"cohort_tables_follow_the_rule|myopic_limit"),
    ("Strategic defaults only below the boundary recorded at that date", r"strategic.*boundary|below_the_boundary"),
    ("Deeper resale shock → no fewer defaults (common random numbers)", r"deeper_resale|resale.*monoton"),
    ("Deeper rental shock → no fewer defaults (common random numbers)", r"deeper_rental|rental.*monoton"),
    ("Higher LTV → no fewer defaults", r"higher_ltv|ltv.*monoton"),
    ("Higher APR → no fewer defaults", r"higher_apr|apr.*monoton"),
    ("Higher default friction → no more strategic defaults", r"friction.*(fewer|monoton|no_more)"),
    ("Fraud has the highest mean LGD of all routes", r"fraud.*(highest|lgd)"),
    ("Thinner secondary market → lower recovery", r"thinner_secondary"),
    ("Bigger forced sale of a class → lower price", r"bigger_forced_sale"),
    ("Income value non-decreasing in rental and life left; depreciation non-increasing",
     r"depreciation_is_non_increasing|income.*monoton|value.*non_decreasing"),
    ("Single-borrower default frequency matches the Merton PD", r"merton_pd"),
    ("Portfolio default fraction follows the Vasicek distribution", r"portfolio_default_fraction"),
)
"""(claim, regex on test function names): the tests are found in tests/ when the page is generated."""


def list_test_functions(tests_dir: Path = TESTS_DIR) -> list[str]:
    """Every ``tests/…/file.py::test_name`` (sorted), read with ast (nothing is imported)."""
    found = []
    for path in sorted(tests_dir.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(tests_dir.parent).as_posix()
        found += [f"{rel}::{node.name}" for node in ast.walk(tree)
                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    return sorted(found)


def checks_section(tests_dir: Path = TESTS_DIR) -> str:
    """Section 6: each monotone check or limit with the tests that check it (or 'no test yet')."""
    tests = list_test_functions(tests_dir) if tests_dir.is_dir() else []
    rows = []
    for claim, pattern in MONOTONE_CHECKS:
        hits = [t for t in tests if re.search(pattern, t.split("::")[1])]
        rows.append([claim, "<br>".join(f"`{t}`" for t in hits) or "**no test yet**"])
    return (
        "## 6. Monotone checks and limits\n\n"
        "Each claim the calibration rests on, with the test functions that check it (found by name in "
        "`tests/` when this page is generated).\n\n"
        + table(["check", "tests"], rows)
        + "\n"
    )


# ---------------------------------------------------------------- page


DEPOSITOR_FIELDS = ("quantity", "model_value", "public_figure", "source", "verdict")
"""Fields of each row of ``usdai_sim/calibration/depositors.py: calibration_rows(results)`` (issue #13 §7)."""


def depositor_section(results: Any) -> str:
    """HOOK (issue #13 §7): the depositor rows of ``usdai_sim.calibration.depositors.calibration_rows(results)``
    on the baseline run, when that module exists; until then the section is left out of the page."""
    try:
        module = importlib.import_module("usdai_sim.calibration.depositors")
    except ModuleNotFoundError:
        return ""
    rows = []
    for row in module.calibration_rows(results):
        quantity, model, public, source, said = (getattr(row, f) for f in DEPOSITOR_FIELDS)
        rows.append([quantity, num(model), public, source, said])
    return (
        "## 7. Depositor behaviour (baseline)\n\n"
        "From `usdai_sim/calibration/depositors.py` on the baseline run of section 3.\n\n"
        + table(["quantity", "model", "public figure", "source", "verdict"], rows) + "\n"
    )


def _save(figure: Figure, path: Path) -> None:
    figure.savefig(path, format="png", dpi=90, metadata={"Software": None})
    figure.clear()


def markdown(paths: int, figures: Path, progress: Callable[[str], None] | None = None) -> str:
    """The whole page (figures are drawn into ``figures``)."""
    say = progress or (lambda _: None)
    baseline, _ = load_scenario("baseline")
    economics, frame = economics_section(baseline)
    say(f"running baseline ({paths} paths)")
    results = simulate(baseline, paths=paths)
    say(f"running the default rules on {', '.join(RULE_SCENARIOS)} ({rule_paths(paths)} paths each)")
    parts = [
        "# Calibration: defaults, sources and the model against public figures\n\n"
        "Generated by `usdai-sim calibrate` (`make calibration`); do not edit by hand. A test regenerates it "
        "and fails when the committed page is out of date. Verdicts are stated, not tuned away.\n",
        parameters_section(baseline),
        economics,
        losses_section(results, paths),
        rules_section(frame, baseline, rule_paths(paths), figures),
        resale_section(baseline, figures),
        checks_section(),
        depositor_section(results),
    ]
    return "\n".join(p for p in parts if p)


def rule_paths(paths: int) -> int:
    """Paths per default rule: a quarter of the baseline's, at least 1."""
    return max(1, paths // 4)


def write_page(page: Path, paths: int = PAGE_PATHS, progress: Callable[[str], None] | None = None) -> None:
    """Write ``page`` and its figure folder beside it, replacing both whole."""
    replace_page(page, FIGURE_DIR, lambda figures: markdown(paths, figures, progress))
