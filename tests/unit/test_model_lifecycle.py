"""A finished model is freed: mesa 3.3's class-level agent-id counters must not keep it alive."""

from __future__ import annotations

import gc
import weakref

from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.scenario.schema import Scenario


def test_a_dropped_model_is_garbage_collected() -> None:
    """mesa issue #3179: Agent._ids keyed by the model leaked every model (and its arrays) in mesa 3.3."""
    scenario = Scenario.model_validate(
        {"simulation": {"horizon_days": 30, "paths": 4}, "borrowers": {"cohorts": [{"count": 3}]},
         "depositors": {"count": 4}}
    )
    model = UsdaiModel(compile_params(scenario), 0, 4)
    model.step()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
