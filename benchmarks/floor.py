"""Two floors: the time to draw the random numbers a workload needs, and to move its state through memory.

Random-number floor. The draws are counted from the model itself: ``CountingStreams`` (a subclass of
``usdai_sim.rng.Streams``) is put in place of ``Streams`` in ``usdai_sim.model`` for the benchmark
process only, a model of one seed block is built and stepped ``SAMPLE_STEPS`` times, and every call
(kind, purpose, shape) is logged — the dense block draws and the sparse keyed uniforms of the thinned
holder exits (``Streams.keyed_uniform``: one number per candidate, so their count is what the thinned
model actually needs, sampled over those steps). A run of P paths and S steps makes the same calls for
each of its ceil(P / SEED_BLOCK) seed blocks, every step. The floor then replays those calls —
``default_rng`` (PCG64), same chunk shapes, one generator per (purpose, seed block) — for a sample of
steps and extrapolates linearly to the whole horizon. Normals are drawn the way the model draws them
(``rng.fill_standard_normal``: numpy's ziggurat compiled over the generator's raw outputs, the same numbers
as ``standard_normal`` at ~5.5 instead of ~9.5 ns each on the benchmark machine), so the floor is the
cheapest way this code base has to make those numbers, not numpy's slower path.

Memory-traffic floor. Bytes of state read and written per step, counted on the same one-seed-block
model: every numpy array reachable from the model (attributes of the model and of its books, depth ≤ 4)
that has a path axis is copied before a step and compared after it; each element that changed counts
as read once and written once (2 × itemsize bytes). The static borrower parameters
(``params.borrowers``) do not change but the borrower rules read them for every live loan: each counts
itemsize × the share of loans not yet repaid or closed. Arrays that neither change nor are borrower
parameters (e.g. a staker's drawn sensitivities, read only when its clock rings) count nothing. The
bytes per step (mean over the sampled steps) × seed blocks × steps, divided by the memory bandwidth of
a numpy copy (``np.copyto`` of a 256 MiB float64 array: 2 × 256 MiB moved; best of 5), is the floor.
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
from usdai_sim.rng import SEED_BLOCK, Streams, fill_standard_normal, seed_sequence
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

    def keyed_uniform(self, purpose: str, rows: np.ndarray, cols: np.ndarray, step: int) -> np.ndarray:
        """Log the sparse draw's size (one number per key), then draw."""
        self.calls.append(("uniform", purpose, (int(np.size(rows)),)))
        return super().keyed_uniform(purpose, rows, cols, step)

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


SAMPLE_STEPS = 20


def count_draws(scenario: Scenario, sample_steps: int = SAMPLE_STEPS) -> DrawProfile:
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
        fill_standard_normal(gen, np.empty(shape))  # the model's own (faster) way to numpy's normals
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


# ------------------------------------------------------------------ memory traffic

FINISHED = (3, 4)
"""Borrower status codes whose rules no longer run (REPAID, CLOSED in usdai_sim/agents/borrowers.py)."""


def path_arrays(obj: object, n_paths: int, prefix: str = "m", depth: int = 0) -> dict[str, np.ndarray]:
    """Numpy arrays with a path axis (first or last) reachable through attributes, by attribute path."""
    found: dict[str, np.ndarray] = {}
    if depth > 4 or not hasattr(obj, "__dict__") or isinstance(obj, type):
        return found
    for name, value in vars(obj).items():
        if name.startswith("_"):
            continue
        if isinstance(value, np.ndarray):
            if value.ndim and n_paths in (value.shape[0], value.shape[-1]) and value.dtype != object:
                found[f"{prefix}.{name}"] = value
        elif not isinstance(value, (list, tuple, dict, str, int, float)):
            found.update(path_arrays(value, n_paths, f"{prefix}.{name}", depth + 1))
    return found


def changed_bytes(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> int:
    """2 × itemsize for every element that differs between two snapshots (read once, written once)."""
    total = 0
    for name, new in after.items():
        old = before.get(name)
        if old is None or old.shape != new.shape:
            total += 2 * new.nbytes
            continue
        differs = ~((old == new) | (np.isnan(old) & np.isnan(new))) if new.dtype.kind == "f" else old != new
        total += 2 * new.itemsize * int(np.count_nonzero(differs))
    return total


def borrower_parameter_bytes(model: UsdaiModel) -> int:
    """Bytes of static borrower parameters the rules read in one step: itemsize × live loans, per array."""
    live = float(np.mean(~np.isin(model.book.status, FINISHED)))
    arrays = path_arrays(model.params.borrowers, model.n_paths)
    return round(live * sum(a.nbytes for a in arrays.values()))


@dataclass(frozen=True)
class TrafficProfile:
    """Mean bytes of state moved per step by one seed block, and the run's size."""

    bytes_per_step: float
    seed_blocks: int
    steps: int

    def total_bytes(self) -> float:
        """Bytes moved over the whole run."""
        return self.bytes_per_step * self.seed_blocks * self.steps


def count_traffic(scenario: Scenario, sample_steps: int = SAMPLE_STEPS) -> TrafficProfile:
    """Step a one-seed-block model ``sample_steps`` times; mean bytes of state read and written per step."""
    sim = scenario.simulation
    small = scenario.model_copy(update={"simulation": sim.model_copy(update={"paths": SEED_BLOCK})})
    model = UsdaiModel(compile_params(small), 0, SEED_BLOCK)
    steps, moved = min(sample_steps, sim.n_steps), 0
    for _ in range(steps):
        before = {k: v.copy() for k, v in path_arrays(model, SEED_BLOCK).items()}
        model.step()
        moved += changed_bytes(before, path_arrays(model, SEED_BLOCK)) + borrower_parameter_bytes(model)
    return TrafficProfile(moved / steps, -(-sim.paths // SEED_BLOCK), sim.n_steps)


def memory_bandwidth_bytes_per_s(mebibytes: int = 256, repeats: int = 5) -> float:
    """Bytes per second read plus written by ``np.copyto`` between two float64 arrays (best of ``repeats``)."""
    src = np.ones(mebibytes * 2**20 // 8)
    dst = np.empty_like(src)
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - started)
    return 2 * src.nbytes / best
