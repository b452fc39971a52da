"""The random-number floor: how long numpy's default generator takes to draw what a workload consumes.

The draws are counted from the model itself: ``CountingStreams`` (a subclass of ``usdai_sim.rng.Streams``)
is put in place of ``Streams`` in ``usdai_sim.model`` for the benchmark process only, a model of one
seed block is built and stepped a few times, and every call (kind, purpose, shape) is logged. A run of
P paths and S steps makes the same calls for each of its ceil(P / SEED_BLOCK) seed blocks, every step.
The floor then replays those calls — ``default_rng`` (PCG64), same chunk shapes, one generator per
(purpose, seed block) — for a sample of steps and extrapolates linearly to the whole horizon.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from usdai_sim import model as model_module
from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.rng import SEED_BLOCK, Streams, seed_sequence
from usdai_sim.scenario.schema import Scenario

Call = tuple[str, str, tuple[int, ...]]
"""(kind, purpose, shape drawn per seed block): kind is "normal", "uniform" or "noncentral_chisquare"."""


class CountingStreams(Streams):
    """Streams that log every call with the shape it draws per seed block."""

    def __init__(self, seed: int, first_path: int, n_paths: int) -> None:
        super().__init__(seed, first_path, n_paths)
        self.calls: list[Call] = []

    def normal(self, purpose: str, *tail: int) -> np.ndarray:
        """Log, then draw standard normals."""
        self.calls.append(("normal", purpose, (SEED_BLOCK, *tail)))
        return super().normal(purpose, *tail)

    def uniform(self, purpose: str, *tail: int) -> np.ndarray:
        """Log, then draw uniforms."""
        self.calls.append(("uniform", purpose, (SEED_BLOCK, *tail)))
        return super().uniform(purpose, *tail)

    def noncentral_chisquare(self, df: float, nonc: np.ndarray) -> np.ndarray:
        """Log, then draw non-central chi-squares."""
        self.calls.append(("noncentral_chisquare", "tbill", (SEED_BLOCK,)))
        return super().noncentral_chisquare(df, nonc)


@contextmanager
def counting_streams() -> Iterator[None]:
    """Make models built inside the block use CountingStreams (this process only)."""
    original = model_module.Streams
    model_module.Streams = CountingStreams  # type: ignore[misc]
    try:
        yield
    finally:
        model_module.Streams = original  # type: ignore[misc]


@dataclass(frozen=True)
class DrawProfile:
    """The calls one seed block makes per step (over ``sample_steps`` steps) and the run's size."""

    step_calls: tuple[Call, ...]
    sample_steps: int
    seed_blocks: int
    steps: int

    def per_kind(self) -> dict[str, int]:
        """Numbers drawn in the whole run, by "kind:purpose"."""
        counts: Counter[str] = Counter()
        for kind, purpose, shape in self.step_calls:
            counts[f"{kind}:{purpose}"] += int(np.prod(shape))
        scale = self.seed_blocks * self.steps / self.sample_steps
        return {key: round(value * scale) for key, value in sorted(counts.items())}

    def total(self) -> int:
        """Every number drawn in the run (the setup's few draws excluded)."""
        return sum(self.per_kind().values())


def count_draws(scenario: Scenario, sample_steps: int = 5) -> DrawProfile:
    """Log the draws of one seed block for ``sample_steps`` steps of the scenario's model."""
    sim = scenario.simulation
    small = scenario.model_copy(update={"simulation": sim.model_copy(update={"paths": SEED_BLOCK})})
    with counting_streams():
        model = UsdaiModel(compile_params(small), 0, SEED_BLOCK)
    streams = model.streams
    assert isinstance(streams, CountingStreams)
    setup = len(streams.calls)
    steps = min(sample_steps, sim.n_steps)
    for _ in range(steps):
        model.step()
    return DrawProfile(tuple(streams.calls[setup:]), steps, -(-sim.paths // SEED_BLOCK), sim.n_steps)


def _draw(gen: np.random.Generator, kind: str, shape: tuple[int, ...]) -> None:
    if kind == "normal":
        gen.standard_normal(shape)
    elif kind == "uniform":
        gen.random(shape)
    else:
        gen.noncentral_chisquare(1.0, np.ones(shape))


def floor_seconds(profile: DrawProfile, seed: int = 0, max_steps: int = 60) -> tuple[float, int]:
    """(seconds to draw the whole run's numbers, steps actually timed): replay a sample of steps, scale up."""
    purposes = sorted({purpose for _, purpose, _ in profile.step_calls})
    gens = {
        p: [np.random.default_rng(seed_sequence(seed, p, b)) for b in range(profile.seed_blocks)]
        for p in purposes
    }
    timed = max(1, min(max_steps, profile.steps) // profile.sample_steps) * profile.sample_steps
    started = time.perf_counter()
    for _ in range(timed // profile.sample_steps):
        for kind, purpose, shape in profile.step_calls:
            for gen in gens[purpose]:
                _draw(gen, kind, shape)
    elapsed = time.perf_counter() - started
    return elapsed * profile.steps / timed, timed
