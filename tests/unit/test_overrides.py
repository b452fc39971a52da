"""``--set dotted.path=value``: parsing, application before validation, errors located at the flag."""

from __future__ import annotations

import pytest

from usdai_sim.errors import ScenarioError
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.overrides import parse_path


def test_paths_accept_brackets_and_dots() -> None:
    assert parse_path("shocks[0].change") == ("shocks", 0, "change")
    assert parse_path("borrowers.cohorts.1.apr") == ("borrowers", "cohorts", 1, "apr")


def test_overrides_reach_the_validated_scenario() -> None:
    scenario, _ = load_scenario(
        "baseline",
        [
            "markets.gpu.classes.H100.max_ltv=0.75",
            "protocol.allocation.max_loan_share=0.5",
            "borrowers.cohorts[0].apr={low: 0.1, high: 0.2}",
            "simulation.paths=64",
        ],
    )
    assert scenario.markets.gpu.classes["H100"].max_ltv == 0.75
    assert scenario.markets.gpu.classes["H100"].list_price_usd > 0  # the catalog stays underneath
    assert scenario.protocol.allocation.max_loan_share == 0.5
    assert (scenario.borrowers.cohorts[0].apr.low, scenario.borrowers.cohorts[0].apr.high) == (0.1, 0.2)
    assert scenario.simulation.paths == 64


def test_later_override_wins() -> None:
    scenario, _ = load_scenario("baseline", ["simulation.paths=64", "simulation.paths=96"])
    assert scenario.simulation.paths == 96


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("protocol.allocation.max_loan_share=2", "--set protocol.allocation.max_loan_share: Input should be less"),
        ("markets.gpu.classes.H100.max_ltv=.nan", "--set markets.gpu.classes.H100.max_ltv: must be a finite"),
        ("markets.gpu.classes.H100.max_ltv=nan", "--set markets.gpu.classes.H100.max_ltv: Input should be a finite"),
        ("protocol.initial_susdai_nav_usd=1e400", "--set protocol.initial_susdai_nav_usd: Input should be a finite"),
        ("protocol.initial_susdai_nav_usd=1e300", "--set protocol.initial_susdai_nav_usd: Input should be less"),
        ("simulation.paths=1e12", "--set simulation.paths: Input should be a valid integer"),
        ("simulation.paths=abc", "--set simulation.paths: Input should be a valid integer"),
        ("protocol.max_ltv.H100=0.75", "--set protocol.max_ltv.H100: protocol.max_ltv: unknown key"),
        ("borrowers.cohorts[9].apr=0.1", "--set borrowers.cohorts[9].apr: no list item 9"),
        ("shocks[0].change=1", "--set shocks[0].change: no list item 0"),
        ("borrowers.cohorts[0].gpu_class=XYZ", "--set borrowers.cohorts[0].gpu_class: unknown GPU class"),
        ("simulation.paths=[1, 2", "--set simulation.paths: value is not valid YAML"),
        ("no_equals_sign", "--set: expected dotted.path=value"),
        ("a..b=1", "--set a..b: not a dotted path"),
    ],
)
def test_bad_overrides_are_one_line_errors(override: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario("baseline", [override])
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)
