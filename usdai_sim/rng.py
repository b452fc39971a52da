"""Explicit randomness: one seed, independent streams keyed by (purpose, seed block).

Paths are grouped in fixed *seed blocks* of ``SEED_BLOCK`` paths. Each (purpose, seed block) pair has
its own ``numpy.random.Generator`` built from ``SeedSequence(seed, spawn_key=(purpose_id, block))``, and
every draw takes a whole seed block's rows, then keeps the rows of the paths it simulates. Hence a
path's numbers depend only on (seed, purpose, its seed block, the step) — never on how paths are
chunked into work blocks, on the worker count, or on how many paths the run has — and switching a
mechanic on or off (e.g. fraud) does not shift any other purpose's draws (common random numbers
across scenarios).
"""

from __future__ import annotations

from typing import Any

import numpy as np

SEED_BLOCK = 32
PURPOSES = (
    "population",
    "tbill",
    "gpu_common",
    "gpu_class",
    "gpu_idio",
    "rental",
    "util_common",
    "util_idio",
    "fraud",
    "depositors",
    "shocks",
    "qev",
    "wave",
    "arrivals",
    "depositor_population",
    "holder_population",
    "borrower_population",
    "holders",
    "renter_failure",
)


def seed_sequence(seed: int, purpose: str, block: int = 0) -> np.random.SeedSequence:
    """The SeedSequence of one (purpose, seed block) stream."""
    return np.random.SeedSequence(seed, spawn_key=(PURPOSES.index(purpose), block))


class Streams:
    """Random draws for the paths [first_path, first_path + n_paths) of one work block."""

    def __init__(self, seed: int, first_path: int, n_paths: int) -> None:
        if first_path % SEED_BLOCK:
            raise ValueError(f"a work block must start on a seed block boundary (got {first_path})")
        self.seed = seed
        self.n_paths = n_paths
        self.blocks = range(first_path // SEED_BLOCK, -(-(first_path + n_paths) // SEED_BLOCK))
        self._generators: dict[str, list[np.random.Generator]] = {}

    def _gens(self, purpose: str) -> list[np.random.Generator]:
        if purpose not in self._generators:
            self._generators[purpose] = [
                np.random.default_rng(seed_sequence(self.seed, purpose, b)) for b in self.blocks
            ]
        return self._generators[purpose]

    def _stack(self, draws: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(draws, axis=0)[: self.n_paths]

    def _fill(self, purpose: str, tail: tuple[int, ...], kind: str) -> np.ndarray:
        """Each seed block's generator fills its rows of one buffer in place; the run's paths are returned."""
        out = np.empty((len(self.blocks) * SEED_BLOCK, *tail))
        for i, g in enumerate(self._gens(purpose)):
            rows = out[i * SEED_BLOCK : (i + 1) * SEED_BLOCK]
            if kind == "normal":
                g.standard_normal(out=rows)
            else:
                g.random(out=rows)
        return out[: self.n_paths]

    def normal(self, purpose: str, *tail: int) -> np.ndarray:
        """Standard normals of shape (n_paths, *tail)."""
        return self._fill(purpose, tail, "normal")

    def uniform(self, purpose: str, *tail: int) -> np.ndarray:
        """Uniforms on [0, 1) of shape (n_paths, *tail)."""
        return self._fill(purpose, tail, "uniform")

    def noncentral_chisquare(self, df: Any, nonc: Any) -> Any:
        """Non-central chi-square draws, one per path (stream "tbill"); ``nonc`` has shape (n_paths,)."""
        padded = np.zeros(len(self.blocks) * SEED_BLOCK)
        padded[: self.n_paths] = nonc
        rows = padded.reshape(len(self.blocks), SEED_BLOCK)
        gens = self._gens("tbill")
        return self._stack(
            [g.noncentral_chisquare(df, np.maximum(r, 0.0)) for g, r in zip(gens, rows, strict=True)]
        )

