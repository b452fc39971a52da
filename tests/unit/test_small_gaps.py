"""The tbill_level shock (hand-computed blends) and a scenario's name defaulting to its file's stem."""

from pathlib import Path

import numpy as np
import pytest

from usdai_sim.market.shocks import ShockSchedule
from usdai_sim.rng import Streams
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario


def _schedule(*shocks: dict) -> ShockSchedule:
    scenario = Scenario.model_validate({"shocks": list(shocks)})
    return ShockSchedule(scenario, Streams(scenario.simulation.seed, 0, 4))


def test_tbill_level_step_sets_the_level_inside_its_window_only() -> None:
    schedule = _schedule({"type": "tbill_level", "level": 0.01, "start_day": 10, "duration_days": 5})
    before, inside, after = schedule.at(9.0), schedule.at(12.0), schedule.at(15.0)
    assert np.all(before.tbill_level_weight == 0.0)
    assert np.all(inside.tbill_level_weight == 1.0) and np.all(inside.tbill_level == 0.01)
    assert np.all(after.tbill_level_weight == 0.0)


def test_tbill_level_ramp_blends_linearly() -> None:
    schedule = _schedule({"type": "tbill_level", "level": 0.0, "start_day": 0, "duration_days": 40, "shape": "ramp"})
    assert np.allclose(schedule.at(10.0).tbill_level_weight, 0.25)


@pytest.mark.parametrize("level", [-0.01, 0.6])
def test_tbill_level_out_of_range_is_rejected(level: float) -> None:
    with pytest.raises(ValueError, match="level"):
        Scenario.model_validate({"shocks": [{"type": "tbill_level", "level": level}]})


def test_tbill_level_moves_the_simulated_rate() -> None:
    from usdai_sim import simulate

    base = {
        "simulation": {"horizon_days": 20, "paths": 32},
        "borrowers": {"cohorts": [{"count": 2}]},
        "depositors": {"count": 10},
    }
    scenario = Scenario.model_validate(
        {**base, "shocks": [{"type": "tbill_level", "level": 0.09, "start_day": 5, "duration_days": 10}]}
    )
    band = simulate(scenario).band("tbill_rate")
    assert band.loc[10, "p50"] == pytest.approx(0.09, abs=1e-6)
    assert band.loc[3, "p50"] < 0.06


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "my_stress.yaml"
    path.write_text("extends: baseline\nsimulation: {paths: 32}\n")
    assert load_scenario(path)[0].name == "my_stress"


def test_name_set_in_file_wins(tmp_path: Path) -> None:
    path = tmp_path / "my_stress.yaml"
    path.write_text("extends: baseline\nname: other\n")
    assert load_scenario(path)[0].name == "other"
