"""Keyed uniforms, the candidate clock and the benchmark floors' counting, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from benchmarks.floor import CountingStreams, changed_bytes, path_arrays
from usdai_sim.agents.thinning import CandidateClock, candidate_outcomes, wave_mass
from usdai_sim.rng import Streams, keyed_uniforms


def test_keyed_uniforms_depend_on_the_global_path_not_the_block() -> None:
    """Path 40 drawn from a block starting at 32 equals path 40 drawn from a block starting at 0."""
    rows, cols = np.array([8, 9, 8]), np.array([0, 5, 7])
    late = Streams(7, 32, 32).keyed_uniform("staker_accept", rows, cols, 3)
    whole = Streams(7, 0, 64).keyed_uniform("staker_accept", rows + 32, cols, 3)
    np.testing.assert_array_equal(late, whole)


def test_keyed_uniforms_differ_by_purpose_step_and_seed_and_look_uniform() -> None:
    paths, cols = np.repeat(np.arange(200), 500), np.tile(np.arange(500), 200)
    u = keyed_uniforms(1, "staker_accept", paths, cols, 5)
    assert not np.array_equal(u, keyed_uniforms(1, "staker_clock", paths, cols, 5))
    assert not np.array_equal(u, keyed_uniforms(1, "staker_accept", paths, cols, 6))
    assert not np.array_equal(u, keyed_uniforms(2, "staker_accept", paths, cols, 5))
    assert ((u >= 0) & (u < 1)).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[1:], u[:-1])[0, 1]) < 0.01


def test_candidate_outcomes_by_hand() -> None:
    """a = 0.1, b = 0.2, c = 0.3: P(exit) = (1 − e^−0.1)/(1 − e^−0.5) = 0.241855;
    P(deposit, no exit) = e^−0.1·(1 − e^−0.3)/(1 − e^−0.5) = 0.596025; nothing can happen at B = 0."""
    p_exit, p_deposit = candidate_outcomes(np.array([0.1, 0.0]), np.array([0.2, 0.0]), 0.3)
    assert p_exit[0] == pytest.approx(-math.expm1(-0.1) / -math.expm1(-0.5), rel=1e-12)
    assert p_exit[0] == pytest.approx(0.241855, abs=1e-6)
    assert p_deposit[0] == pytest.approx(math.exp(-0.1) * -math.expm1(-0.3) / -math.expm1(-0.5), rel=1e-12)
    p_exit, p_deposit = candidate_outcomes(np.array([0.0]), np.array([0.0]))
    assert (p_exit[0], p_deposit[0]) == (0.0, 0.0)


def test_unconditional_exit_probability_is_the_per_step_rule() -> None:
    """P(candidate)·P(exit | candidate) = (1 − e^−B)·(1 − e^−a)/(1 − e^−B) = 1 − e^−h·Δ/365·(1 − w)."""
    a = 2.0 * 5 / 365 + wave_mass(np.array([0.2]))
    b = 3.0 * 5 / 365 + wave_mass(np.array([0.2]))
    p_exit, _ = candidate_outcomes(a, b, 0.01)
    assert (-np.expm1(-(b + 0.01)) * p_exit)[0] == pytest.approx(1 - math.exp(-2.0 * 5 / 365) * 0.8, rel=1e-12)


def test_candidate_clock_rings_when_the_path_clock_passes_and_rearms_from_now() -> None:
    """Gaps 0.5, 1.5, inf; masses 0.6 then 1.0: agent 0 rings first (0.6 ≥ 0.5), is re-armed at 0.6 + 2,
    agent 1 rings at 1.6; the inert column never does."""
    clock = CandidateClock.start(np.array([[0.5, 1.5, np.inf]]))
    rows, cols = clock.advance(np.array([0.6]))
    assert cols.tolist() == [0]
    clock.rearm(rows, cols, np.array([2.0]))
    assert clock.next_candidate[0, 0] == pytest.approx(2.6)
    assert clock.advance(np.array([1.0]))[1].tolist() == [1]


def test_counting_streams_log_keyed_draws_by_size() -> None:
    streams = CountingStreams(3, 0, 32)
    streams.keyed_uniform("holder_accept", np.array([1, 2, 3]), np.array([0, 0, 1]), 4)
    streams.uniform("fraud", 5)
    assert streams.calls == [("uniform", "holder_accept", (3,)), ("uniform", "fraud", (32, 5))]


class _Book:
    def __init__(self) -> None:
        self.cash = np.zeros((4, 3))
        self.flags = np.zeros((4, 3), dtype=np.int8)
        self.other = np.zeros(7)  # no path axis: not state of a path


class _Model:
    def __init__(self) -> None:
        self.book = _Book()
        self.price = np.full(4, np.nan)


def test_memory_traffic_counts_changed_elements_twice() -> None:
    """Three float64 cash cells and one int8 flag change, NaN → NaN does not: 3·2·8 + 1·2·1 = 50 bytes."""
    model = _Model()
    before = {k: v.copy() for k, v in path_arrays(model, 4).items()}
    assert sorted(before) == ["m.book.cash", "m.book.flags", "m.price"]
    model.book.cash[0, :] = 1.0
    model.book.flags[2, 1] = 3
    assert changed_bytes(before, path_arrays(model, 4)) == 50


def test_rung_clocks_are_numpys_nonzero_of_the_due_mask() -> None:
    """The compiled scan finds exactly the agents np.nonzero finds (row-major, ties at the clock included,
    never-ringing ∞ clocks excluded), and nothing on a block where no clock is due."""
    from usdai_sim.agents.thinning import rung_clocks

    rng = np.random.default_rng(5)
    next_candidate = rng.exponential(1.0, (9, 33))
    next_candidate[:, -1] = np.inf
    clock = rng.uniform(0, 1.5, 9)
    next_candidate[2, 4] = clock[2]  # a tie rings
    rows, cols = rung_clocks(next_candidate, clock)
    expected = np.nonzero(next_candidate <= clock[:, None])
    np.testing.assert_array_equal(rows, expected[0])
    np.testing.assert_array_equal(cols, expected[1])
    assert (2, 4) in set(zip(rows.tolist(), cols.tolist(), strict=True))
    none = rung_clocks(next_candidate, np.full(9, -1.0))
    assert none[0].size == none[1].size == 0


def test_keyed_uniforms_compiled_equal_the_array_rule_and_splitmix64_vector() -> None:
    """The compiled keyed draw equals the same uint64 rule evaluated on numpy arrays bit for bit, and the
    finaliser reproduces SplitMix64's published first output for seed 0 (mix(γ) = 0xE220A8397B1DCDAF)."""
    from usdai_sim.jit import python_rule
    from usdai_sim.rng import GAMMA, keyed_uniform, keyed_uniform_kernel, mix64

    assert int(python_rule(mix64)(np.array([GAMMA], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF
    rng = np.random.default_rng(2)
    paths = rng.integers(0, 2**40, 500).astype(np.uint64)
    cols = rng.integers(0, 5000, 500).astype(np.uint64)
    key, step = np.uint64(0x0123456789ABCDEF), np.uint64(987654321987654321)
    with np.errstate(over="ignore"):  # numba off, the kernel's loop wraps numpy scalars (numpy warns)
        expected = python_rule(keyed_uniform)(key, paths, cols, step)
        compiled = keyed_uniform_kernel(key, paths, cols, step)
    np.testing.assert_array_equal(compiled, expected)
    assert np.all((expected >= 0.0) & (expected < 1.0))
