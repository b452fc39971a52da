"""Replay diagnoses: each names a built-in replay, and each diagnostic run's overrides load."""

from __future__ import annotations

import pytest

from usdai_sim.calibration.diagnoses import DIAGNOSES, Counterfactual
from usdai_sim.calibration.replays import replay_names
from usdai_sim.scenario.library import load_scenario

RUNS = [(name, c) for name, d in DIAGNOSES.items() for c in d.counterfactuals]


def test_diagnoses_name_replays() -> None:
    assert set(DIAGNOSES) <= set(replay_names())
    assert all("disagrees because" in d.paragraph for d in DIAGNOSES.values())


@pytest.mark.parametrize(("name", "counterfactual"), RUNS, ids=[c.label for _, c in RUNS])
def test_counterfactual_overrides_load_and_change_the_replay(name: str, counterfactual: Counterfactual) -> None:
    base, _ = load_scenario(name)
    changed, _ = load_scenario(name, counterfactual.overrides)
    assert (changed == base) == (not counterfactual.overrides)
