"""Borrower populations drawn per path (``params.compile_borrowers``, issue #13 §6).

With ``simulation.population_seed`` unset every path has its own borrowers and a path's borrowers depend only
on (seed, path index); with it set every path has the same borrowers.
"""

import numpy as np
import pytest

from usdai_sim.model import UsdaiModel
from usdai_sim.params import DRAWN_FIELDS, compile_borrowers, compile_params
from usdai_sim.rng import SEED_BLOCK, seed_sequence
from usdai_sim.scenario.schema import Scenario

APR_LOW, APR_HIGH = 0.10, 0.16


def scenario(population_seed: int | None = None, seed: int = 5) -> Scenario:
    """Two cohorts with spread draws (one with Poisson arrivals, so arrival slots are drawn too)."""
    return Scenario.model_validate(
        {
            "simulation": {"horizon_days": 60, "paths": 64, "seed": seed, "population_seed": population_seed},
            "borrowers": {
                "cohorts": [
                    {"count": 3, "apr": {"low": APR_LOW, "high": APR_HIGH}, "gpus": {"low": 8, "high": 512}},
                    {"count": 2, "gpu_class": "B200", "origination_day": {"low": 0, "high": 30},
                     "arrivals_per_month": 1.0},
                ]
            },
        }
    )


def test_each_path_has_its_own_borrowers_when_no_population_seed_is_set() -> None:
    """Drawn fields are (paths, borrowers) with different rows; fixed fields stay one row per borrower."""
    bp = compile_borrowers(scenario(), 0, 64)
    assert bp.apr.shape == (64, bp.count)
    assert bp.class_index.shape == (bp.count,)
    assert not np.array_equal(bp.apr[0], bp.apr[1])
    assert not np.array_equal(bp.gpus[0], bp.gpus[1])
    assert np.all((bp.apr[:, :3] >= APR_LOW) & (bp.apr[:, :3] <= APR_HIGH))
    assert np.all(bp.gpus == np.round(bp.gpus)) and bp.gpus.min() >= 8


def test_a_population_seed_gives_every_path_the_same_borrowers_whatever_the_run_seed() -> None:
    """population_seed set: every row equal, in any block, and the Monte Carlo seed does not move it."""
    block = compile_borrowers(scenario(population_seed=1), 32, 8)
    other_seed = compile_borrowers(scenario(population_seed=1, seed=6), 0, 8)
    for name in DRAWN_FIELDS:
        values = getattr(block, name)
        np.testing.assert_array_equal(values, np.broadcast_to(values[0], values.shape))
        np.testing.assert_array_equal(values, getattr(other_seed, name))


def test_a_paths_borrowers_depend_only_on_the_seed_and_the_path_index() -> None:
    """Hand check: the APR of borrower j on path p is low + u·(high − low), u the (p mod 32)-th row of the
    "borrower_population" stream of seed block p // 32; the block a path is drawn in does not matter."""
    sim = scenario()
    whole = compile_borrowers(sim, 0, 64)
    tail = compile_borrowers(sim, 32, 32)
    for name in DRAWN_FIELDS:
        np.testing.assert_array_equal(getattr(tail, name), getattr(whole, name)[32:])
    path, borrower, field = 37, 2, list(DRAWN_FIELDS).index("apr")
    g = np.random.default_rng(seed_sequence(5, "borrower_population", path // SEED_BLOCK))
    u = g.random((SEED_BLOCK, whole.count, len(DRAWN_FIELDS)))[path % SEED_BLOCK, borrower, field]
    assert whole.apr[path, borrower] == pytest.approx(APR_LOW + u * (APR_HIGH - APR_LOW), rel=1e-15)


def test_compile_params_holds_path_zeros_population() -> None:
    """The scenario-level params (the calibration page's input) are path 0's borrowers as 1-D arrays."""
    sim = scenario()
    one = compile_params(sim).borrowers
    block = compile_borrowers(sim, 0, 2)
    for name in DRAWN_FIELDS:
        np.testing.assert_array_equal(getattr(one, name), getattr(block, name)[0])


def test_take_indexes_per_path_fields_by_loan_and_fixed_fields_by_column() -> None:
    bp = compile_borrowers(scenario(), 0, 4)
    rows, cols = np.array([3, 0, 3]), np.array([1, 4, 0])
    taken = bp.take(rows, cols)
    np.testing.assert_array_equal(taken.apr, bp.apr[rows, cols])
    np.testing.assert_array_equal(taken.cohort, bp.cohort[cols])
    assert taken.apr.shape == taken.cohort.shape == (3,)


def test_the_model_books_each_paths_own_fleet() -> None:
    """A model of paths [32, 64) starts with the fleets those paths have in a model of paths [0, 64)."""
    params = compile_params(scenario())
    whole, tail = UsdaiModel(params, 0, 64), UsdaiModel(params, 32, 32)
    np.testing.assert_array_equal(tail.book.gpus, whole.book.gpus[32:])
    np.testing.assert_array_equal(tail.book.request_day[:, :3], whole.book.request_day[32:, :3])
    assert not np.array_equal(whole.book.gpus[0], whole.book.gpus[1])


def test_population_uniforms_are_the_streams_uniforms_kept_inside_the_open_interval() -> None:
    """The static draws are the purpose's uniforms clipped to [1e-12, 1 − 1e-12] (so inverse CDFs stay finite),
    bit for bit; with a population seed every path gets the same row."""
    from usdai_sim.population import population_uniforms
    from usdai_sim.rng import Streams

    sim = scenario().simulation
    u = population_uniforms(sim, "borrower_population", 32, 40, 7)
    raw = Streams(sim.seed, 32, 40).uniform("borrower_population", 7)
    np.testing.assert_array_equal(u, np.clip(raw, 1e-12, 1.0 - 1e-12))
    assert u.min() >= 1e-12 and u.max() <= 1.0 - 1e-12
    fixed = sim.model_copy(update={"population_seed": 3})
    shared = population_uniforms(fixed, "borrower_population", 0, 2, 5)
    assert shared.shape == (2, 5) and np.array_equal(shared[0], shared[1])
