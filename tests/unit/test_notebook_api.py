"""The notebook API of Results: short repr, HTML display, tidy summary frame, xarray of per-path series."""

import sys

import pytest

from usdai_sim import simulate
from usdai_sim.scenario.schema import Scenario
from usdai_sim.tidy import summary_frame

SMALL = {
    "name": "small",
    "simulation": {"horizon_days": 60, "paths": 32},
    "borrowers": {"cohorts": [{"count": 4, "gpu_class": "H100"}, {"count": 2, "gpu_class": "B200"}]},
    "depositors": {"count": 20},
    "shocks": [{"type": "gpu_resale", "change": -0.3, "start_day": 10, "duration_days": 20}],
}


@pytest.fixture(scope="module")
def results():
    return simulate(Scenario.model_validate(SMALL), keep_series=True, quiet=True)


def test_repr_is_short_and_names_the_run(results) -> None:
    text = repr(results)
    assert len(text) < 400
    assert "'small'" in text and "32 paths" in text and f"seed {results.scenario.simulation.seed}" in text


def test_repr_html_has_table_and_inline_png(results) -> None:
    page = results._repr_html_()
    assert "<table>" in page and "susdai_var_99" in page
    assert "data:image/png;base64," in page


def test_summary_frame_is_tidy_with_units(results) -> None:
    frame = results.summary_frame()
    assert list(frame.columns) == ["metric", "value", "low", "high", "unit", "tail_paths"]
    row = frame.set_index("metric").loc["prob_principal_loss"]
    assert row["value"] == results.summary["prob_principal_loss"] and row["unit"] == "fraction"
    assert not frame["metric"].str.startswith("meta").any()
    with_interval = frame.dropna(subset=["low"])  # the summary's Monte Carlo intervals (intervals.py)
    assert len(with_interval) > 0 and (with_interval["low"] <= with_interval["high"]).all()
    assert set(with_interval["metric"]) <= set(results.summary["intervals"])


def test_summary_frame_shows_intervals_when_present() -> None:
    summary = {
        "susdai_var_99": 0.02,
        "intervals": {"susdai_var_99": {"low": 0.01, "high": 0.03, "method": "bootstrap", "level": 0.95,
                                        "tail_paths": 10}},
    }
    row = summary_frame(summary).set_index("metric").loc["susdai_var_99"]
    assert (row["low"], row["high"], row["tail_paths"]) == (0.01, 0.03, 10)
    assert "intervals.susdai_var_99.low" not in set(summary_frame(summary)["metric"])


def test_to_xarray_dims_and_values(results) -> None:
    ds = results.to_xarray()
    assert ds["exchange_ratio"].dims == ("path", "day")
    assert ds["resale_index"].dims == ("path", "day", "gpu_class")
    assert ds.sizes["path"] == 32 and ds.sizes["day"] == 61
    final = ds["exchange_ratio"].isel(day=-1).to_numpy()
    assert final == pytest.approx(results.paths["susdai_exchange_ratio_final"].to_numpy(), rel=1e-6)
    assert ds["loss_usd_by_cohort"].dims == ("path", "cohort") and ds.sizes["cohort"] == 2
    assert ds["loss_usd_by_class"].sum("gpu_class").to_numpy() == pytest.approx(results.paths["loss_usd"].to_numpy())
    median = float(ds["exchange_ratio"].sel(day=30).median())
    assert median == pytest.approx(results.band("exchange_ratio").loc[30, "p50"], rel=1e-6)


def test_to_xarray_without_series_says_how() -> None:
    res = simulate(Scenario.model_validate({**SMALL, "simulation": {"horizon_days": 5, "paths": 32}}), quiet=True)
    with pytest.raises(ValueError, match="keep_series=True"):
        res.to_xarray()


def test_quiet_prints_nothing_and_a_terminal_shows_a_bar(capsys, monkeypatch) -> None:
    scenario = Scenario.model_validate({**SMALL, "simulation": {"horizon_days": 5, "paths": 32}})
    simulate(scenario)
    assert capsys.readouterr().err == "", "no bar when stderr is not a terminal"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    simulate(scenario, quiet=True)
    assert capsys.readouterr().err == ""
    simulate(scenario)
    assert "100%" in capsys.readouterr().err
