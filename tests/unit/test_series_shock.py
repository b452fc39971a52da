"""The ``type: series`` shock: observed driver series, inline or from a CSV with a source on every row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from usdai_sim.errors import ScenarioError
from usdai_sim.market.shocks import ShockSchedule
from usdai_sim.rng import Streams
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario


def _schedule(*shocks: dict) -> ShockSchedule:
    scenario = Scenario.model_validate({"shocks": list(shocks)})
    return ShockSchedule(scenario, Streams(scenario.simulation.seed, 0, 3))


def _col(name: str) -> int:
    return Scenario().class_names.index(name)


def test_rental_series_is_linear_between_rows_and_held_outside() -> None:
    sched = _schedule(
        {"type": "series", "target": "rental", "classes": ["H100"], "days": [10, 20], "values": [0.8, 0.4]}
    )
    h100, b200 = _col("H100"), _col("B200")
    # before the first row: the first value; halfway 0.8 + (0.4 - 0.8) * 0.5 = 0.6; after: 0.4
    for day, want in ((0.0, 0.8), (15.0, 0.6), (20.0, 0.4), (400.0, 0.4)):
        np.testing.assert_allclose(sched.at(day).rental_multiplier[:, h100], want)
        np.testing.assert_allclose(sched.at(day).rental_multiplier[:, b200], 1.0)


@pytest.mark.parametrize("target", ["resale", "liquidity"])
def test_class_targets(target: str) -> None:
    sched = _schedule({"type": "series", "target": target, "days": [0, 100], "values": [1.0, 0.5]})
    effect = sched.at(50.0)
    got = effect.resale_multiplier if target == "resale" else effect.liquidity_multiplier
    np.testing.assert_allclose(got, 0.75)  # every class when classes is empty
    other = effect.liquidity_multiplier if target == "resale" else effect.resale_multiplier
    np.testing.assert_allclose(other, 1.0)


def test_utilisation_series_and_start_day_offset() -> None:
    sched = _schedule(
        {"type": "series", "target": "utilisation", "start_day": 30, "days": [0, 10], "values": [0.5, 1.0]}
    )
    np.testing.assert_allclose(sched.at(29.0).utilisation_multiplier, 1.0)  # not started
    np.testing.assert_allclose(sched.at(35.0).utilisation_multiplier, 0.75)


@pytest.mark.parametrize(
    ("shock", "message"),
    [
        ({"days": [0, 1], "values": [1.0]}, "equal length"),
        ({"days": [5, 5], "values": [1.0, 1.0]}, "strictly increasing"),
        ({"days": [0], "values": [0.0], "target": "liquidity"}, "must be > 0"),
    ],
)
def test_invalid_series(shock: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scenario.model_validate({"shocks": [{"type": "series", "target": "rental", **shock}]})


def _write(tmp_path: Path, csv_text: str) -> Path:
    (tmp_path / "drv.csv").write_text(csv_text)
    path = tmp_path / "s.yaml"
    path.write_text(
        'simulation: {start_date: "2022-01-01"}\n'
        "shocks:\n  - {type: series, target: resale, classes: [H100], csv: drv.csv}\n"
    )
    return path


def test_csv_dates_become_days_from_start(tmp_path: Path) -> None:
    csv_text = "# comment\ndate,value,source\n2021-12-01,1.0,a (2021)\n2022-03-01,0.5,b (2022)\n"
    scenario, _ = load_scenario(_write(tmp_path, csv_text))
    shock = scenario.shocks[0]
    assert shock.days == (-31.0, 59.0)
    assert shock.values == (1.0, 0.5)


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("date,value\n2022-01-01,1.0\n", "header must be date,value,source"),
        ("date,value,source\n2022-01-01,1.0,\n", "has no source"),
        ("date,value,source\n2022-13-01,1.0,x\n", "month must be in 1..12"),
        ("date,value,source\n2022-01-01,abc,x\n", "could not convert"),
    ],
)
def test_bad_csv_is_one_error_at_the_csv_key(tmp_path: Path, csv_text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(_write(tmp_path, csv_text))
    assert "s.yaml:3" in str(info.value) and "shocks[0].csv" in str(info.value)


@pytest.mark.parametrize(
    ("csv_text", "where"),
    [
        ("# c\ndate,value,source\n2022-01-01,1.0,a (2022)\n2022-02-01,0.9,\n", "drv.csv:4: source: row has no source"),
        ("date,value,source\n2022-01-01,1.0,a\n2022-03-01,0.9,b\n2022-02-01,0.8,c\n",
         "drv.csv:4: date: dates must rise strictly (2022-02-01 after 2022-03-01 on line 3)"),
        ("date,value,source\n2022-01-01,1.0,a\n2022-01-01,0.9,b\n", "drv.csv:3: date: dates must rise"),
        ("date,value,source,interpolated\n2022-01-01,1.0,a,maybe\n", "drv.csv:2: interpolated: must be yes or no"),
        ("date,value,source\n2022-01-01,1.0,a,extra\n", "drv.csv:2: 4 cells, the header has 3"),
    ],
)
def test_bad_row_is_located_in_the_csv(tmp_path: Path, csv_text: str, where: str) -> None:
    """A bad row names the CSV's file:line: column, and the scenario key that reads it."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, csv_text))
    assert where in str(info.value)
    assert "s.yaml:3 shocks[0].csv" in str(info.value)


def test_interpolated_column_is_read_and_rows_kept(tmp_path: Path) -> None:
    csv_text = ("date,value,source,interpolated\n2022-01-01,1.0,a (2022),no\n"
                "2022-01-11,0.75,linear between the 2022-01-01 and 2022-01-21 rows,yes\n2022-01-21,0.5,b (2022),\n")
    shock = load_scenario(_write(tmp_path, csv_text))[0].shocks[0]
    assert shock.days == (0.0, 10.0, 20.0)
    assert shock.values == (1.0, 0.75, 0.5)


def test_header_only_csv_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="days and values must be non-empty"):
        load_scenario(_write(tmp_path, "date,value,source\n"))


def test_non_utf8_csv(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    (tmp_path / "drv.csv").write_bytes(b"date,value,source\n2022-01-01,1.0,\xff\xfe\n")
    with pytest.raises(ScenarioError, match="cannot read series CSV"):
        load_scenario(path)


def test_csv_and_inline_values_together(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("shocks:\n  - {type: series, target: rental, csv: x.csv, days: [0], values: [1.0]}\n")
    with pytest.raises(ScenarioError, match="either csv or days and values") as info:
        load_scenario(path)
    assert "s.yaml:2" in str(info.value)


def test_missing_csv(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("shocks:\n  - {type: series, target: rental, csv: nowhere.csv}\n")
    with pytest.raises(ScenarioError, match="cannot read series CSV"):
        load_scenario(path)


def _recovery_usd(liquidity: float) -> float:
    from usdai_sim.engine import simulate

    scenario = Scenario.model_validate({
        "simulation": {"horizon_days": 120, "paths": 4},
        "borrowers": {"cohorts": [{"count": 5, "gpus": 500, "fraud_rate_per_year": 365.0}]},
        "shocks": [{"type": "series", "target": "liquidity", "days": [0], "values": [liquidity]}],
    })
    return float(simulate(scenario).paths["recovery_usd"].sum())


def test_thinner_secondary_market_recovers_less() -> None:
    """Liquidity × 0.01 leaves 1% of the market depth, so the fire-sale discount of the same sales is larger."""
    assert _recovery_usd(0.01) < _recovery_usd(1.0)
