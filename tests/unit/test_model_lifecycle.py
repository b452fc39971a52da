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


def test_a_finished_block_frees_its_model_before_the_next_block() -> None:
    """engine.run_block collects the block's model cycles itself: the cyclic collector counts objects, not
    bytes, so left to it each block's hundreds of MiB of arrays stayed alive into the next block (the large
    workload's RSS grew by ~160 MiB a block). Automatic collection is off here, as it effectively is then."""
    import usdai_sim.engine as engine

    scenario = Scenario.model_validate(
        {"simulation": {"horizon_days": 5, "paths": 4}, "borrowers": {"cohorts": [{"count": 3}]},
         "depositors": {"count": 4}}
    )
    refs: list[weakref.ref[UsdaiModel]] = []

    class Watched(UsdaiModel):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            refs.append(weakref.ref(self))

    original = engine.UsdaiModel
    engine.UsdaiModel = Watched  # type: ignore[misc]
    gc.disable()
    try:
        output = engine.run_block(scenario, 0, 4, None)
        assert refs and refs[0]() is None
        assert len(output.paths) > 0
    finally:
        gc.enable()
        engine.UsdaiModel = original  # type: ignore[misc]


def test_ltv_bins_equal_numpy_histogram_on_every_edge() -> None:
    """The recorder's bins count exactly what np.histogram counts, values on and either side of each edge,
    below 0, above 2 and infinite included (active loans with collateral 1, so LTV = principal)."""
    import numpy as np

    from usdai_sim.agents import borrowers as br
    from usdai_sim.recorder import LTV_BINS, live_ltv_summary

    rng = np.random.default_rng(7)
    edges = LTV_BINS
    values = np.concatenate(
        [rng.uniform(-1, 3, 5000), edges, np.nextafter(edges, -9), np.nextafter(edges, 9), [np.inf, -np.inf]]
    )[None, :]
    counts = np.zeros(len(LTV_BINS) - 1, np.int64)
    live_ltv_summary(np.full(values.shape, br.ACTIVE, np.int8), values, np.ones(values.shape), counts)
    expected = np.histogram(np.clip(values, 0.0, 2.0 - 1e-12), LTV_BINS)[0]
    np.testing.assert_array_equal(counts, expected)
    small = np.zeros(len(LTV_BINS) - 1, np.int64)
    live_ltv_summary(np.full((1, 4), br.ACTIVE, np.int8), np.array([[0.0, 0.05, 1.999, 7.0]]), np.ones((1, 4)), small)
    assert small.tolist()[:2] == [1, 1]


def test_live_ltv_summary_equals_the_numpy_rule() -> None:
    """The recorder's one-pass summary of active loans counts the LTV histogram and finds each path's capped
    maximum exactly as the numpy formulas do: inactive loans ignored, zero collateral an infinite LTV."""
    import numpy as np

    from usdai_sim.agents import borrowers as br
    from usdai_sim.recorder import LTV_BINS, LTV_MAX_CAP, live_ltv_summary

    rng = np.random.default_rng(11)
    status = rng.integers(0, 6, (7, 40)).astype(np.int8)
    status[3] = br.REPAID  # a path without an active loan
    principal = rng.uniform(0, 3e6, status.shape)
    collateral = rng.uniform(0, 4e6, status.shape)
    collateral[rng.random(status.shape) < 0.1] = 0.0
    collateral[0, :5] = 1e-6  # LTV above the cap
    live = status == br.ACTIVE
    ltv = np.divide(principal, collateral, out=np.full(status.shape, np.inf), where=collateral > 0)
    counts = np.zeros(len(LTV_BINS) - 1, np.int64)
    largest = live_ltv_summary(status, principal, collateral, counts)
    np.testing.assert_array_equal(counts, np.histogram(np.clip(ltv[live], 0.0, 2.0 - 1e-12), LTV_BINS)[0])
    np.testing.assert_array_equal(largest, np.where(live, np.minimum(ltv, LTV_MAX_CAP), 0.0).max(axis=1))
    assert largest[3] == 0.0 and counts.sum() == live.sum()


def test_nav_refreshed_on_the_funded_paths_equals_a_full_refresh_bit_for_bit() -> None:
    """After loans open on a few paths, the loan sums re-summed on those paths only are exactly the sums over
    all paths (numpy sums each row alone), step after step of the baseline with its monthly arrivals."""
    import numpy as np

    from usdai_sim.model import UsdaiModel
    from usdai_sim.params import compile_params
    from usdai_sim.scenario.library import load_scenario

    m = UsdaiModel(compile_params(load_scenario("baseline")[0]), 0, 40)
    opened = 0
    for _ in range(45):
        m.step()
        opened += int(m.ledger["loans_originated"].sum())
        carrying, accrued = m.carrying_usd.copy(), m.accrued_net_usd.copy()
        m._nav()
        np.testing.assert_array_equal(carrying, m.carrying_usd)
        np.testing.assert_array_equal(accrued, m.accrued_net_usd)
    assert opened > 0, "the check needs loans opened after day 0"
