"""Historical replays: the committed validation page, the regression list, what a replay may set, the data.

The page is regenerated here with its own settings (``PAGE_PATHS`` paths, each scenario's seed) and must
equal ``reports/validation.md``; a check listed in ``usdai_sim/calibration/replays_passing.txt`` must still
pass. Tolerance bands live in the scenario files, never here.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from usdai_sim.calibration import replays, validation_page
from usdai_sim.market.catalog import GPU_CATALOG
from usdai_sim.scenario.library import builtin_path
from usdai_sim.scenario.load import load_mapping
from usdai_sim.scenario.series_csv import COLUMNS, packaged_dir, read_rows

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "reports" / "validation.md"
EXPECTED_REPLAYS = {
    "replay_2019_2026",
    "replay_2022_crypto_hardware",
    "replay_maple_orthogonal_2022",
    "replay_goldfinch_2023",
    "replay_usde_oct_2025",
}


@pytest.fixture(scope="module")
def runs() -> list[replays.ReplayRun]:
    return replays.run_all(replays.PAGE_PATHS)


def test_every_replay_is_built_in() -> None:
    assert set(replays.replay_names()) == EXPECTED_REPLAYS


def test_committed_page_is_in_sync(runs: list[replays.ReplayRun]) -> None:
    """Regenerating the page reproduces it; run `make validation` after changing the model or a replay."""
    fresh = validation_page.markdown(runs, replays.PAGE_PATHS)
    assert PAGE.read_text(encoding="utf-8") == fresh, "reports/validation.md is stale: run `make validation`"


def test_replays_that_passed_still_pass(runs: list[replays.ReplayRun]) -> None:
    """A check in replays_passing.txt that now misses is a regression (fix the model, or justify and edit)."""
    passing = set(replays.passing_ids(runs))
    listed = replays.read_passing()
    assert listed, "the regression list is empty"
    assert [ident for ident in listed if ident not in passing] == []


def test_regression_list_names_real_checks(runs: list[replays.ReplayRun]) -> None:
    known = {c.ident for run in runs for c in run.checks}
    assert set(replays.read_passing()) <= known


def test_page_names_every_miss_and_its_mechanism(runs: list[replays.ReplayRun]) -> None:
    text = validation_page.markdown(runs, replays.PAGE_PATHS)
    misses = [c for run in runs for c in run.checks if not c.passed]
    assert text.count("**Miss: ") == len(misses)
    for check in misses:
        assert f"`{check.replay}`" in text.split("Replays that miss today:")[1].split("\n")[0]


# ---------------------------------------------------------------- what a replay may set

DRIVERS = {
    "simulation.horizon_days", "simulation.step_days", "simulation.start_date",
    "markets.tbill.model", "markets.tbill.history_start_date", "markets.rental.drift_per_year",
    "markets.gpu.valuation.method",  # resale driven by an observed price series instead of the income approach
    "protocol.incentive_apr", "shocks",
}
COHORT_SHAPE = {
    "name", "count", "gpu_class", "gpus", "age_years", "requested_ltv", "apr", "rate_type", "floating_spread",
    "term_months", "amortisation", "origination_day", "contracted_share", "contract_price_fraction",
    "utilisation_level", "power_usd_per_kwh", "colocation_usd_per_kw_month", "overhead_usd_per_gpu_month",
    "repair_usd_per_gpu_month", "pue", "initial_cash_months",
}
PROTOCOL_SHAPE = {
    "protocol.initial_susdai_nav_usd", "protocol.unstaked_usdai_usd", "protocol.first_loss_usd",
    "protocol.supply_cap_usd", "protocol.allocation.max_loan_share",
    "protocol.allocation.min_dscr",  # null: the replayed loans were made; underwriting is history, not a rule
}
NEW_CLASS_KEYS = {
    "list_price_usd", "rental_usd_per_gpu_hour", "power_kw_per_gpu", "max_ltv", "market_depth_gpus_per_30d",
    "depreciation.vintage_factors",
}
TRIGGER_FRAUD_RATE_PER_YEAR = 12.0
"""A cohort's fraud rate is a trigger only when it makes the fraud near certain within a month."""
ALLOWED_TOP = {"extends", "name", "description", "validation"}


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def disallowed_keys(data: dict[str, Any]) -> list[str]:
    """Keys of a replay's own YAML that are not drivers, dates, cohort shape or triggers."""
    bad = []
    for key in _flat({k: v for k, v in data.items() if k not in ("borrowers", "markets")}):
        top = key.split(".")[0]
        if top not in ALLOWED_TOP and key not in DRIVERS | PROTOCOL_SHAPE and top != "shocks":
            bad.append(key)
    bad += [k for k in _flat(data.get("markets", {}), "markets") if not _market_key_allowed(k)]
    bad += _cohort_problems(data.get("borrowers", {}))
    return bad


def _market_key_allowed(key: str) -> bool:
    if key in DRIVERS:
        return True
    match = re.fullmatch(r"markets\.gpu\.classes\.([A-Za-z0-9_]+)\.(.+)", key)
    return bool(match) and match.group(1) not in GPU_CATALOG and match.group(2) in NEW_CLASS_KEYS


def _cohort_problems(borrowers: dict[str, Any]) -> list[str]:
    bad = [f"borrowers.{k}" for k in borrowers if k != "cohorts"]
    for i, cohort in enumerate(borrowers.get("cohorts", [])):
        for key, value in cohort.items():
            is_trigger = key == "fraud_rate_per_year" and value >= TRIGGER_FRAUD_RATE_PER_YEAR
            if key not in COHORT_SHAPE and not is_trigger:
                bad.append(f"borrowers.cohorts[{i}].{key}")
    return bad


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLAYS))
def test_replay_sets_only_drivers_dates_shape_and_triggers(name: str) -> None:
    path = builtin_path(name)
    assert path is not None
    data, _ = load_mapping(path)
    assert data.get("extends") == "baseline"
    assert disallowed_keys(data) == []


def test_the_key_check_can_fail() -> None:
    data = {
        "depositors": {"herd_threshold": 0.1},
        "protocol": {"liquidation": {"fee_fraction": 0.2}},
        "markets": {"gpu": {"classes": {"H100": {"list_price_usd": 1.0}}}, "rental": {"vol_per_sqrt_year": 1.0}},
        "borrowers": {"cohorts": [{"strategic_walk_ratio": 0.5, "fraud_rate_per_year": 0.5}]},
    }
    assert sorted(disallowed_keys(data)) == sorted([
        "depositors.herd_threshold", "protocol.liquidation.fee_fraction", "markets.gpu.classes.H100.list_price_usd",
        "markets.rental.vol_per_sqrt_year", "borrowers.cohorts[0].strategic_walk_ratio",
        "borrowers.cohorts[0].fraud_rate_per_year",
    ])


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLAYS))
def test_replay_is_headed_by_its_judgements(name: str) -> None:
    path = builtin_path(name)
    assert path is not None
    head = path.read_text(encoding="utf-8").split("\nextends:")[0]
    assert head.startswith(f"# {name}")
    assert "What it tests" in head or name == "replay_2019_2026"
    assert "judgement" in head.lower()


# ---------------------------------------------------------------- the shipped data


def _data_rows(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


SERIES_FILES = sorted(p for p in packaged_dir().glob("*.csv") if not p.stem.endswith("_outcomes"))


@pytest.mark.parametrize("path", SERIES_FILES, ids=lambda p: p.name)
def test_series_rows_have_date_value_and_source(path: Path) -> None:
    rows = _data_rows(path)
    assert rows and tuple(rows[0])[:3] == COLUMNS
    for row in rows:
        dt.date.fromisoformat(row["date"])
        float(row["value"])
        assert re.search(r"(19|20)\d\d", row["source"]), f"{path.name} {row['date']}: source without a date"


DRIVER_FILES = [p for p in SERIES_FILES if not p.stem.endswith("_events")]
"""Series a shock can read (the ``*_events`` files are dated event lists, several on one day)."""


@pytest.mark.parametrize("path", DRIVER_FILES, ids=lambda p: p.name)
def test_interpolated_rows_lie_between_observations(path: Path) -> None:
    """A row marked interpolated is the straight line between the observed rows either side of it (to the
    4 decimals written), and its source names both of their dates."""
    rows = read_rows(path)
    observed = [r for r in rows if not r.interpolated]
    for row in (r for r in rows if r.interpolated):
        before = max((r for r in observed if r.date < row.date), key=lambda r: r.date)
        after = min((r for r in observed if r.date > row.date), key=lambda r: r.date)
        share = (row.date - before.date).days / (after.date - before.date).days
        assert row.value == pytest.approx(before.value + share * (after.value - before.value), abs=6e-5), row
        assert str(before.date) in row.source and str(after.date) in row.source, row


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLAYS))
def test_every_replay_has_sourced_outcomes(name: str) -> None:
    rows = replays.read_outcomes(name)
    assert rows and tuple(rows[0]) == ("outcome", "value", "unit", "source", "date")
    for row in rows:
        float(row["value"])
        assert re.fullmatch(r"\d{4}(-\d\d){0,2}", row["date"]) and row["source"].strip()
