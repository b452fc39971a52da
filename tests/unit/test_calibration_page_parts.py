"""The calibration page's parts (usdai_sim.calibration.page) on hand-checked inputs; no simulation runs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pydantic import Field

from usdai_sim.calibration import page
from usdai_sim.market.catalog import GPU_CATALOG
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Frozen, Scenario, Spread, meta


class Toy(Frozen):
    sourced: float = Field(default=0.25, json_schema_extra=meta("per year", "assumption: a reason"))
    bare: int = 3
    spread: Spread = Spread(low=0.1, high=0.2, log=True)


def test_walk_reads_unit_and_source_and_flags_missing_ones() -> None:
    rows = {r.key: r for r in page.walk_defaults(Toy(), "toy.")}
    assert list(rows) == ["toy.sourced", "toy.bare", "toy.spread"]
    assert (rows["toy.sourced"].value, rows["toy.sourced"].unit, rows["toy.sourced"].source) == (
        "0.25", "per year", "assumption: a reason")
    assert (rows["toy.bare"].value, rows["toy.bare"].unit, rows["toy.bare"].source) == (
        "3", "—", "no source recorded")
    assert rows["toy.spread"].value == "0.1–0.2 (log-uniform)"


def test_walk_covers_every_section_once_with_sources_from_the_schema() -> None:
    rows = {r.key: r for r in page.walk_defaults(Scenario())}
    assert len(rows) == len(list(page.walk_defaults(Scenario())))
    assert rows["borrowers.cohorts[*].pue"].source.startswith("data-centre norms PUE 1.2-1.5")
    assert rows["markets.gpu.classes.*.list_price_usd"].source == "per class: GPU catalog table below"
    assert rows["protocol.liquidation.forced_sale_factors"].value == "0: 0.45, 7: 0.45, 30: 0.65, 90: 0.85, 365: 1"
    assert rows["shocks"].value == "none"


def test_catalog_rows_carry_each_class_source() -> None:
    rows = page.catalog_rows()
    assert [r[0] for r in rows] == [f"`{n}`" for n in GPU_CATALOG]
    assert rows[0][1:3] == ["30000", "2.95"] and rows[0][-1] == GPU_CATALOG["H100"]["source"]


def test_overrides_list_the_baselines_own_settings() -> None:
    baseline, _ = load_scenario("baseline")
    rows = {r[0]: r[1:] for r in page.overrides(baseline)}
    assert rows["`protocol.initial_susdai_nav_usd`"] == ["300000000", "400000000"]
    assert rows["`borrowers.cohorts[0].name`"] == ["operators", "neocloud_h100"]
    assert "`simulation.paths`" not in rows  # the baseline keeps the default 1000
    assert page.overrides(Scenario()) == []


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.123456, "0.1235"), (12345.6, "12346"), (7, "7"), (None, "n/a"), (float("nan"), "n/a"), (True, "true")],
)
def test_num_formats(value: object, text: str) -> None:
    assert page.num(value) == text


def test_comparison_verdicts_and_gap_explanations() -> None:
    low = page.Comparison("x", 0.1, "pub", (0.2, 0.4), "too low because", "too high because")
    high = page.Comparison("x", 0.5, "pub", (0.2, 0.4), "too low because", "too high because")
    ok = page.Comparison("x", 0.3, "pub", (0.2, 0.4), "too low because", "too high because")
    assert low.row()[4:] == ["**outside**", "too low because"]
    assert high.row()[4:] == ["**outside**", "too high because"]
    assert ok.row()[1:] == ["30.0%", "pub", "20.0%–40.0%", "within", "—"]
    assert page.Comparison("x", float("nan"), "p", (0, 1), "a", "b").row()[-1] == "no defaults of this kind in the run"


def test_vintage_curve_starts_at_list_price_and_falls() -> None:
    curve = page.vintage_curve(Scenario())
    assert curve[0] == pytest.approx(1.0)
    assert np.all(np.diff(curve) < 0)


def test_market_model_at_day_zero_is_the_catalog() -> None:
    scenario = Scenario()
    m = page.MarketModel(scenario, page.IncomeValuation(scenario.markets.gpu.valuation, scenario.markets.rental))
    assert m.value_usd("H100", 0.0, 0.0) == pytest.approx(30_000.0)
    assert m.rental_usd("H100", 0.0) == pytest.approx(2.95)
    assert m.rental_usd("H100", 1.0) == pytest.approx(2.95 * np.exp(scenario.markets.rental.drift_per_year))


def test_market_point_rows_compare_what_the_model_can_price() -> None:
    scenario = Scenario()
    m = page.MarketModel(scenario, page.IncomeValuation(scenario.markets.gpu.valuation, scenario.markets.rental))
    row = {"date": "2026-01-01", "gpu": "H100", "kind": "rental_usd_per_gpu_hour", "low": "2.0", "high": "2.5",
           "source": "spot"}
    assert page.market_point_row(m, row)[-2:] == ["2.95 (median spot rental, trend)", "**outside**"]
    point = {**row, "low": "2.6", "high": "2.6"}  # ±15% → 2.21–2.99 holds 2.95
    assert page.market_point_row(m, point)[-1] == "within"
    assert page.market_point_row(m, {**row, "gpu": "RTX4090"})[-1] == "not compared: not a catalog class"
    assert page.market_point_row(m, {**row, "date": "2025-06-01"})[-1].startswith("not compared: before")


def test_every_check_pattern_compiles_and_the_limits_have_tests() -> None:
    for _claim, pattern in page.MONOTONE_CHECKS:
        re.compile(pattern)
    text = page.checks_section()
    assert "test_lattice_converges_to_leland" in text
    assert "test_myopic_limit_is_the_unit_collateral_barrier" in text
    assert page.checks_section(Path("/nonexistent")).count("**no test yet**") == len(page.MONOTONE_CHECKS)


def test_boundary_of_the_h100_cohort_and_its_iris_comparison() -> None:
    baseline, _ = load_scenario("baseline")
    frame = page.origination_economics(page.compile_params(baseline))
    b = page.cohort_boundary(baseline, frame)
    assert b.cohort == "neocloud_h100"
    assert b.option.shape == b.myopic.shape == (36,)
    assert np.all(b.option <= b.myopic + 1e-9)
    assert "Iris Energy walked at ~0.29" in page.iris_text(b)
    assert page.ebitda_to_debt_service(b, 36) == pytest.approx((b.option[35] - b.cost_ratio) / b.debt_ratio)


def test_the_persistence_table_changes_only_kappa_and_starts_with_the_model() -> None:
    """One row per κ, the model's first; the solver's κ is the rental's reverting share of the variance
    (σ_R 0.3, σ_o 0.25: 0.5·0.09/0.1525 = 0.2951); the boundary at origination rises as a rental fall lasts
    longer."""
    baseline, _ = load_scenario("baseline")
    frame = page.origination_economics(page.compile_params(baseline))
    rows = page.persistence_rows(baseline, frame)
    assert [r[0] for r in rows] == ["0.5 (model)", "0.25", "0.1", "0 (permanent)"]
    assert rows[-1][1] == "∞" and rows[0][1] == "1.4"
    assert float(rows[0][2]) == pytest.approx(0.5 * 0.09 / 0.1525, rel=1e-3) and float(rows[-1][2]) == 0.0
    at_origination = [float(r[3]) for r in rows]
    assert at_origination == sorted(at_origination) and len(set(at_origination)) == len(rows)
    model = page.cohort_boundary(baseline, frame)
    assert float(rows[0][3]) == pytest.approx(page.ebitda_to_debt_service(model, 36), rel=1e-3)


def test_depositor_hook_is_empty_without_the_module_and_renders_its_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types
    from dataclasses import dataclass

    monkeypatch.setitem(sys.modules, "usdai_sim.calibration.depositors", None)  # import → ModuleNotFoundError
    assert page.depositor_section(object()) == ""

    @dataclass(frozen=True)
    class Row:
        quantity: str
        model_value: float
        public_figure: str
        source: str
        verdict: str

    fake = types.ModuleType("usdai_sim.calibration.depositors")
    fake.calibration_rows = lambda results: [Row("monthly churn", 0.04321, "2–10%", "assumption", "within range")]
    monkeypatch.setitem(sys.modules, "usdai_sim.calibration.depositors", fake)
    text = page.depositor_section(object())
    assert text.startswith("## 7. Depositor behaviour")
    assert "| monthly churn | 0.04321 | 2–10% | assumption | within range |" in text
