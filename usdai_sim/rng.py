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

import csv
import functools
from importlib import resources
from typing import Any

import numpy as np

from usdai_sim.jit import JIT_DISABLED, element, kernel

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
    "staker_clock",
    "staker_accept",
    "holder_clock",
    "holder_accept",
    "operator",
)
"""Append new purposes at the end: a purpose's index is part of its streams' keys."""

GOLDEN_GAMMA = 0x9E3779B97F4A7C15
"""Weyl increment of SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014), used to spread each key component before mixing."""


def seed_sequence(seed: int, purpose: str, block: int = 0) -> np.random.SeedSequence:
    """The SeedSequence of one (purpose, seed block) stream."""
    return np.random.SeedSequence(seed, spawn_key=(PURPOSES.index(purpose), block))


MIX_A = np.uint64(0xBF58476D1CE4E5B9)
MIX_B = np.uint64(0x94D049BB133111EB)
SHIFT_A, SHIFT_B, SHIFT_C, MANTISSA_SHIFT = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
GAMMA = np.uint64(GOLDEN_GAMMA)


@element
def mix64(x: Any) -> Any:
    """The SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijection of uint64 that scrambles every bit.
    Plain uint64 arithmetic (wrapping): compiled on scalars, or ``python_rule(mix64)`` on numpy arrays."""
    x = (x ^ (x >> SHIFT_A)) * MIX_A
    x = (x ^ (x >> SHIFT_B)) * MIX_B
    return x ^ (x >> SHIFT_C)


@functools.lru_cache(maxsize=256)
def purpose_key(seed: int, purpose: str) -> np.uint64:
    """The 64-bit key of one purpose's keyed uniforms, from its SeedSequence."""
    return np.uint64(seed_sequence(seed, purpose).generate_state(1, np.uint64)[0])


def keyed_uniforms(seed: int, purpose: str, paths: np.ndarray, cols: np.ndarray, step: int) -> np.ndarray:
    """Uniforms on [0, 1), one per (path, column), that are a function of (seed, purpose, path, column, step).

    A counter-based draw: x = mix(mix(mix(k + γ·path) + γ·column) + γ·step) with k the purpose's 64-bit key
    from its SeedSequence, γ the SplitMix64 increment and mix the SplitMix64 finaliser; the top 53 bits of x
    scaled by 2⁻⁵³. Sparse draws (a few agents of a few paths) therefore never depend on which other agents
    or paths drew, on the work block or on the worker count. Compiled (``keyed_uniform_kernel``).
    """
    args = (purpose_key(seed, purpose), np.asarray(paths, dtype=np.uint64), np.asarray(cols, dtype=np.uint64),
            np.uint64(step * GOLDEN_GAMMA % 2**64))
    return keyed_uniform(*args) if JIT_DISABLED else keyed_uniform_kernel(*args)


UNIT_53 = 1.0 / 9007199254740992.0
"""2⁻⁵³: a raw 64-bit draw's top 53 bits times this is numpy's ``next_double`` for PCG64."""


@element
def raw_double(raw: Any) -> float:
    """numpy's ``next_double`` of PCG64 from one raw 64-bit output: (raw >> 11) · 2⁻⁵³, on [0, 1); also the last step
    of a keyed uniform. Plain uint64 arithmetic: scalars compiled, or numpy arrays with numba off."""
    return (raw >> MANTISSA_SHIFT) * UNIT_53  # type: ignore[no-any-return]


@element
def keyed_uniform(key: Any, path: Any, col: Any, step_term: Any) -> Any:
    """One keyed uniform (``keyed_uniforms``), step_term = γ·step mod 2⁶⁴: plain uint64 arithmetic, so the same
    function runs compiled on scalars and, with numba off, on whole numpy arrays."""
    x = mix64(key + path * GAMMA)
    x = mix64(x + col * GAMMA)
    x = mix64(x + step_term)
    return raw_double(x)


@kernel
def keyed_uniform_kernel(key: np.uint64, paths: np.ndarray, cols: np.ndarray, step_term: np.uint64) -> np.ndarray:
    """``keyed_uniform`` of each (paths[k], cols[k])."""
    out = np.empty(paths.size)
    for k in range(paths.size):
        out[k] = keyed_uniform(key, paths[k], cols[k], step_term)
    return out


def ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's 256-strip tables of the normal ziggurat (k_i uint64, w_i and f_i float64), shipped in
    ``data/ziggurat_normal.csv`` with every digit a float64 needs: the ``ki_double``, ``wi_double`` and ``fi_double``
    of numpy's ``random/src/distributions/ziggurat_constants.h`` (as numba's port copies them). The tests hold the
    normals made with them to numpy's, bit for bit."""
    text = resources.files("usdai_sim").joinpath("data/ziggurat_normal.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    k = np.array([int(r["k"]) for r in rows], dtype=np.uint64)
    return k, np.array([float(r["w"]) for r in rows]), np.array([float(r["f"]) for r in rows])


STRIP_K, STRIP_W, STRIP_F = ziggurat_tables()
TAIL_R = 3.6541528853610087963519472518
"""R, where the base strip hands over to the tail (numpy's ``ziggurat_nor_r``)."""
TAIL_INV_R = 0.27366123732975827203338247596
"""1/R as numpy rounds it (``ziggurat_nor_inv_r``)."""
LOW_8, LOW_52 = np.uint64(0xFF), np.uint64(0x000FFFFFFFFFFFFF)
ONE, EIGHT = np.uint64(1), np.uint64(8)


@kernel
def ziggurat_normals(raw: np.ndarray, out: np.ndarray, filled: int) -> tuple[int, int]:
    """Standard normals ``out[filled:]`` from raw 64-bit generator outputs, exactly as numpy's
    ``Generator.standard_normal`` makes them from the same outputs; returns (normals filled, raw outputs used).

    numpy's 256-strip ziggurat (Marsaglia & Tsang, "The Ziggurat Method for Generating Random Variables",
    J. Stat. Softw. 5(8), 2000; numpy's ``random_standard_normal``, its tables: ``ziggurat_tables``): a raw r gives
    the strip i = r & 255, the sign from bit 8 and a 52-bit a = (r >> 9); x = ±a·w_i. Accept when a < k_i
    (~99% of draws); else strip 0 samples the tail beyond R = 3.654 from two more raws
    (x = R − ln(1−u₁)/R until −2·ln(1−u₂) > x'², sign from bit 8 of a), and any other strip accepts when
    (f_{i−1} − f_i)·u + f_i < e^{−x²/2} with one more raw, or draws again. A normal that needs more raws than
    are left is not begun: the count of raws used stops before it, so the caller can hand over the rest
    with more raws appended, and a generator is never advanced past the normals it delivered.
    """
    used = 0
    while filled < out.size:
        pos = used
        while True:  # one normal: draw until accepted, or stop before it when the raws run out
            if pos >= raw.size:
                return filled, used
            r = raw[pos] >> EIGHT
            strip = raw[pos] & LOW_8
            pos += 1
            a = (r >> ONE) & LOW_52
            value = a * STRIP_W[strip]
            if r & ONE:
                value = -value
            if a < STRIP_K[strip]:
                break
            if strip == 0:
                tail = tail_normal(raw, pos, a)
                if tail[1] < 0:
                    return filled, used
                value, pos = tail
                break
            if pos >= raw.size:
                return filled, used
            u = raw_double(raw[pos])
            pos += 1
            if (STRIP_F[strip - 1] - STRIP_F[strip]) * u + STRIP_F[strip] < np.exp(-0.5 * value * value):
                break
        out[filled] = value
        filled += 1
        used = pos
    return filled, used


@element
def tail_normal(raw: np.ndarray, pos: int, a: Any) -> tuple[float, int]:
    """The ziggurat's tail beyond R from raws ``raw[pos:]`` (``ziggurat_normals``): x = R − ln(1−u₁)/R until
    −2·ln(1−u₂) > (x − R)², signed by bit 8 of a; returns (x, next raw), or (0, −1) when the raws run out."""
    while pos + 2 <= raw.size:
        xx = -TAIL_INV_R * np.log1p(-raw_double(raw[pos]))
        yy = -np.log1p(-raw_double(raw[pos + 1]))
        pos += 2
        if yy + yy > xx * xx:
            return (-(TAIL_R + xx) if (a >> EIGHT) & ONE else TAIL_R + xx), pos
    return 0.0, -1


def fill_standard_normal(generator: np.random.Generator, out: np.ndarray) -> None:
    """Fill the C-contiguous ``out`` with ``generator.standard_normal`` — the same numbers, and the generator left
    in the same state — through ``normals_from_raw`` (PCG64: ~5.5 ns a normal against numpy's ~9.5 on the
    benchmark machine). With numba off, numpy's own ``standard_normal`` (the same numbers at a fraction of the
    interpreted kernel's cost; the tests run ``normals_from_raw`` itself on small arrays)."""
    if JIT_DISABLED:
        generator.standard_normal(out=out)
    else:
        normals_from_raw(generator.bit_generator, out.reshape(-1))


def normals_from_raw(bits: np.random.BitGenerator, flat: np.ndarray) -> None:
    """Fill the 1-D ``flat`` with the standard normals numpy would draw from ``bits`` (``ziggurat_normals`` on its
    raw outputs). Each round draws one raw output per normal still missing, which no normal can need fewer of, so
    the generator is never advanced past the normals delivered; a normal cut short is finished in the next round
    from the raws it had plus the new ones."""
    filled, carry = 0, np.empty(0, np.uint64)
    while filled < flat.size:
        fresh = bits.random_raw(flat.size - filled)
        raw = np.concatenate((carry, fresh)) if carry.size else fresh
        filled, used = ziggurat_normals(raw, flat, filled)
        carry = raw[used:]


class Streams:
    """Random draws for the paths [first_path, first_path + n_paths) of one work block."""

    def __init__(self, seed: int, first_path: int, n_paths: int) -> None:
        if first_path % SEED_BLOCK:
            raise ValueError(f"a work block must start on a seed block boundary (got {first_path})")
        self.seed = seed
        self.first_path, self.n_paths = first_path, n_paths
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
                fill_standard_normal(g, rows)
            else:
                g.random(out=rows)
        return out[: self.n_paths]

    def normal(self, purpose: str, *tail: int) -> np.ndarray:
        """Standard normals of shape (n_paths, *tail)."""
        return self._fill(purpose, tail, "normal")

    def uniform(self, purpose: str, *tail: int) -> np.ndarray:
        """Uniforms on [0, 1) of shape (n_paths, *tail)."""
        return self._fill(purpose, tail, "uniform")

    def keyed_uniform(self, purpose: str, rows: np.ndarray, cols: np.ndarray, step: int) -> np.ndarray:
        """Uniforms for the sparse (row, column) pairs of this block at ``step`` (``keyed_uniforms``)."""
        return keyed_uniforms(self.seed, purpose, self.first_path + np.asarray(rows), cols, step)

    def noncentral_chisquare(self, df: Any, nonc: Any) -> Any:
        """Non-central chi-square draws, one per path (stream "tbill"); ``nonc`` has shape (n_paths,)."""
        padded = np.zeros(len(self.blocks) * SEED_BLOCK)
        padded[: self.n_paths] = nonc
        rows = padded.reshape(len(self.blocks), SEED_BLOCK)
        gens = self._gens("tbill")
        return self._stack(
            [g.noncentral_chisquare(df, np.maximum(r, 0.0)) for g, r in zip(gens, rows, strict=True)]
        )

