"""The explorer's logic without a browser: grouped parameters, edits, validation, saving, running, cancelling."""

from __future__ import annotations

from pathlib import Path

import pytest

from usdai_sim.app import logic
from usdai_sim.scenario.library import load_scenario

SHORT = 30


@pytest.fixture
def data() -> dict:
    base = logic.scenario_data("baseline")
    base["simulation"]["horizon_days"] = SHORT
    return base


def test_every_param_has_label_with_unit_and_description(data: dict) -> None:
    groups = dict(logic.grouped_params(data))
    assert "Simulation" in groups and any(title.startswith("Cohort 0") for title in groups)
    params = [p for ps in groups.values() for p in ps]
    assert all(p.label.endswith("]") and p.description for p in params)
    dotted = {p.dotted for p in params}
    assert {"simulation.horizon_days", "borrowers.cohorts[0].apr", "protocol.liquidation.fee_fraction"} <= dotted


def test_set_value_copies_and_parse_reads_yaml(data: dict) -> None:
    edited = logic.set_value(data, ("borrowers", "cohorts", 0, "apr"), logic.parse_value("{low: 0.1, high: 0.2}"))
    assert edited["borrowers"]["cohorts"][0]["apr"] == {"low": 0.1, "high": 0.2}
    assert data["borrowers"]["cohorts"][0]["apr"] != edited["borrowers"]["cohorts"][0]["apr"]
    assert logic.show_value({"low": 0.1, "high": 0.2}) == "{high: 0.2, low: 0.1}"
    assert logic.parse_value(logic.show_value(0.05)) == 0.05


def test_invalid_edit_is_named(data: dict) -> None:
    with pytest.raises(ValueError, match="simulation.paths"):
        logic.validate(logic.set_value(data, ("simulation", "paths"), -3))
    with pytest.raises(ValueError, match="gpu_class"):
        logic.validate(logic.set_value(data, ("borrowers", "cohorts", 0, "gpu_class"), "Z9"))


def test_save_yaml_loads_back_and_refuses_invalid(data: dict, tmp_path: Path) -> None:
    path = logic.save_yaml(data, tmp_path / "edited.yaml")
    assert load_scenario(path)[0].simulation.horizon_days == SHORT
    bad = logic.set_value(data, ("simulation", "paths"), 0)
    with pytest.raises(ValueError):
        logic.save_yaml(bad, tmp_path / "bad.yaml")
    assert not (tmp_path / "bad.yaml").exists()


def test_run_reports_progress_and_cancels(data: dict) -> None:
    seen: list[float] = []
    results = logic.run(data, 32, lambda f: seen.append(f) or True)
    assert results.scenario.simulation.horizon_days == SHORT and seen[-1] == pytest.approx(1.0)
    with pytest.raises(logic.Cancelled):
        logic.run(data, 32, lambda f: f < 0.5)


def test_write_full_report_needs_a_new_directory(data: dict, tmp_path: Path) -> None:
    results = logic.run(data, 32, lambda f: True)
    report = logic.write_full_report(results, tmp_path / "report")
    assert report.is_file()
    with pytest.raises(ValueError, match="not empty"):
        logic.write_full_report(results, tmp_path / "report")
