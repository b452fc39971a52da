"""The project's streams, pinned: the compiled ziggurat gives numpy's standard normals bit for bit and leaves the
generator where numpy would; each (purpose, seed block) stream is numpy's generator from its spawn key; keyed
uniforms follow their SplitMix64 formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usdai_sim.rng import (
    GOLDEN_GAMMA,
    PURPOSES,
    STRIP_F,
    STRIP_K,
    STRIP_W,
    TAIL_INV_R,
    TAIL_R,
    Streams,
    fill_standard_normal,
    keyed_uniforms,
    normals_from_raw,
    purpose_key,
    ziggurat_normals,
    ziggurat_tables,
)


@pytest.mark.parametrize("shape", [(1,), (2,), (7,), (32, 1), (32, 200), (32, 13, 3), (250_000,)])
def test_fill_standard_normal_is_numpys_standard_normal(shape: tuple[int, ...]) -> None:
    """Same numbers, and the generator left in the same state: the next draws of both agree too."""
    ours, numpys = np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(3):
        out = np.empty(shape)
        fill_standard_normal(ours, out)
        np.testing.assert_array_equal(out, numpys.standard_normal(shape))
    assert ours.bit_generator.state == numpys.bit_generator.state
    assert ours.random() == numpys.random()


@pytest.mark.parametrize("size", [1, 2, 5, 64, 700])
def test_normals_from_raw_is_numpys_standard_normal_and_leaves_the_same_state(size: int) -> None:
    """The rounds themselves (also with numba off, where ``fill_standard_normal`` hands over to numpy): the same
    numbers, no raw output drawn beyond the last normal's, several calls in a row."""
    ours, numpys = np.random.default_rng(31), np.random.default_rng(31)
    for _ in range(4):
        out = np.empty(size)
        normals_from_raw(ours.bit_generator, out)
        np.testing.assert_array_equal(out, numpys.standard_normal(size))
        assert ours.bit_generator.state == numpys.bit_generator.state


@pytest.mark.parametrize(("seed", "size"), [(34, 16), (13, 37), (4, 100)])
def test_normals_from_raw_finishes_a_normal_cut_short_from_the_raws_it_had(seed: int, size: int) -> None:
    """Cases where a round's last raw begins a normal that needs more (seed 34, 16 normals: round 1 ends with one
    raw of a tail draw, round 2 with two, round 3 finishes it): the carried raws are used, none is lost."""
    ours = np.random.default_rng(seed)
    out = np.empty(size)
    normals_from_raw(ours.bit_generator, out)
    numpys = np.random.default_rng(seed)
    np.testing.assert_array_equal(out, numpys.standard_normal(size))
    assert ours.bit_generator.state == numpys.bit_generator.state


def test_the_rare_branches_agree_with_numpy_on_a_long_stream() -> None:
    """3 M normals hit the tail (|x| > R) ~800 times and each strip's wedge rejection thousands of times."""
    ours, numpys = np.random.default_rng(2026), np.random.default_rng(2026)
    out = np.empty(3_000_000)
    fill_standard_normal(ours, out)
    expected = numpys.standard_normal(out.size)
    assert (np.abs(expected) > TAIL_R).sum() > 500
    np.testing.assert_array_equal(out, expected)
    assert ours.bit_generator.state == numpys.bit_generator.state


def _raws_and_normals(seed: int, n_raw: int) -> tuple[np.ndarray, np.ndarray]:
    """n_raw raw outputs of a seeded PCG64 and numpy's normals from the same generator state (more than the raws
    can make, so every normal the raws complete has its reference)."""
    raw = np.random.default_rng(seed).bit_generator.random_raw(n_raw)
    return raw, np.random.default_rng(seed).standard_normal(n_raw)


def _raws_per_normal(raw: np.ndarray, count: int) -> np.ndarray:
    """How many raws each of the first ``count`` normals takes, one kernel call a normal."""
    taken, pos = np.empty(count, np.int64), 0
    for k in range(count):
        filled, used = ziggurat_normals(raw[pos:], np.empty(1), 0)
        assert filled == 1
        taken[k], pos = used, pos + used
    return taken


def test_a_normal_the_raws_cannot_finish_is_not_begun() -> None:
    """Cut the raws just inside a normal that needs several (a wedge test or the tail): the kernel stops before
    it and reports only the raws of the normals it completed; resuming there with the rest gives numpy's."""
    raw, expected = _raws_and_normals(7, 40_000)
    taken = _raws_per_normal(raw, 30_000)
    starts = np.concatenate(([0], np.cumsum(taken)))
    wedge = np.nonzero(taken == 2)[0]  # a wedge test: the strip's raw, then one more
    tail = np.nonzero(np.abs(expected[: taken.size]) > TAIL_R)[0]  # strip 0's tail: then 2 more per try
    assert wedge.size >= 10 and tail.size >= 3 and (taken[tail] >= 3).all()
    for k in [*wedge[:10], *tail[:3]]:
        for inside in range(1, int(taken[k])):
            part = np.empty(expected.size)
            got, stop = ziggurat_normals(raw[: starts[k] + inside].copy(), part, 0)  # a copy: no raw beyond the cut
            assert (got, stop) == (k, starts[k])
            got, _ = ziggurat_normals(raw[stop:], part, got)
            np.testing.assert_array_equal(part[:got], expected[:got])


def _raw(strip: int, a: int, negative: bool = False) -> np.uint64:
    """The raw output whose low byte is ``strip``, bit 8 the sign and bits 9–60 the 52-bit magnitude a."""
    return np.uint64((((a << 1) | int(negative)) << 8) | strip)


def test_acceptance_is_a_strictly_below_k_by_hand() -> None:
    """numpy accepts x = ±a·w_i at once when a < k_i: a = k_i − 1 takes one raw, a = k_i goes on to the wedge
    test and takes a second (strip 5; the second raw u = 0 puts the point at f_5, below e^{−x²/2}: accepted)."""
    k = int(STRIP_K[5])
    out = np.empty(1)
    assert ziggurat_normals(np.array([_raw(5, k - 1, True), 0], np.uint64), out, 0) == (1, 1)
    assert out[0] == -(k - 1) * STRIP_W[5]
    assert ziggurat_normals(np.array([_raw(5, k), 0], np.uint64), out, 0) == (1, 2)
    assert out[0] == k * STRIP_W[5]


def test_the_shipped_tables_are_numpys_as_numba_copies_them() -> None:
    """Every digit of the shipped tables and constants, against numba's port of numpy's header (when present)."""
    constants = pytest.importorskip("numba.np.random._constants")
    k, w, f = ziggurat_tables()  # read afresh from the shipped file
    for read, kept, theirs in ((k, STRIP_K, constants.ki_double), (w, STRIP_W, constants.wi_double),
                               (f, STRIP_F, constants.fi_double)):
        assert read.shape == (256,) and read.dtype == theirs.dtype
        np.testing.assert_array_equal(read, theirs)
        np.testing.assert_array_equal(kept, theirs)
    assert (constants.ziggurat_nor_r, constants.ziggurat_nor_inv_r) == (TAIL_R, TAIL_INV_R)


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 400), min_size=1, max_size=6))
def test_any_split_of_the_raws_gives_the_same_normals(seed: int, cuts: list[int]) -> None:
    """Feeding the raws in pieces (carrying an unfinished normal's raws over) gives the same normals as numpy."""
    raw, expected = _raws_and_normals(seed, 1_000)
    out, filled, carry, start = np.empty(expected.size), 0, np.empty(0, np.uint64), 0
    for end in [*np.cumsum(cuts).tolist(), raw.size]:
        piece = np.concatenate((carry, raw[start : max(start, min(end, raw.size))]))
        start = max(start, min(end, raw.size))
        filled, used = ziggurat_normals(piece, out, filled)
        carry = piece[used:]
    np.testing.assert_array_equal(out[:filled], expected[:filled])
    assert filled >= 950


def _generator(seed: int, purpose: str, block: int) -> np.random.Generator:
    """numpy's generator of one (purpose, seed block) stream, from its spawn key (purpose index, block)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PURPOSES.index(purpose), block)))


def test_streams_are_numpys_generators_per_seed_block_call_after_call() -> None:
    """``Streams`` draws each seed block's rows from that block's own generator, stacked and cut to the block's
    paths; a second call continues each generator where the first left it (normals and uniforms alike)."""
    streams = Streams(3, 0, 40)
    gens = {p: [_generator(3, p, b) for b in (0, 1)] for p in ("gpu_idio", "fraud")}
    for _ in range(2):
        got = streams.normal("gpu_idio", 5)
        expected = np.concatenate([g.standard_normal((32, 5)) for g in gens["gpu_idio"]])[:40]
        np.testing.assert_array_equal(got, expected)
        got = streams.uniform("fraud", 3)
        np.testing.assert_array_equal(got, np.concatenate([g.random((32, 3)) for g in gens["fraud"]])[:40])


def test_a_block_that_starts_off_a_seed_block_boundary_is_refused_with_its_first_path() -> None:
    with pytest.raises(ValueError, match="seed block boundary.*got 33"):
        Streams(1, 33, 10)


def test_noncentral_chisquare_is_each_seed_blocks_tbill_draw_with_negative_noncentrality_at_0() -> None:
    """One draw per path from the block's "tbill" generator over the padded row of noncentralities (max(λ, 0))."""
    nonc = np.linspace(-0.5, 3.0, 40)
    got = Streams(9, 32, 40).noncentral_chisquare(2.5, nonc)
    padded = np.zeros(64)
    padded[:40] = np.maximum(nonc, 0.0)
    expected = np.concatenate([_generator(9, "tbill", b).noncentral_chisquare(2.5, padded[k * 32 : (k + 1) * 32])
                               for k, b in enumerate((1, 2))])[:40]
    np.testing.assert_array_equal(got, expected)
    assert got.shape == (40,)


def _splitmix_finaliser(x: int) -> int:
    """SplitMix64's finaliser on a Python integer, mod 2⁶⁴ (Steele, Lea & Flood 2014)."""
    mask = 2**64 - 1
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
    return x ^ (x >> 31)


def test_keyed_uniforms_follow_their_formula_by_hand() -> None:
    """u = top 53 bits of mix(mix(mix(k + γ·path) + γ·col) + γ·step) · 2⁻⁵³, k the purpose's first 64-bit state word
    of SeedSequence(seed, spawn_key=(purpose index, 0)); through ``Streams`` the path is global (first + row)."""
    purpose_key.cache_clear()  # computed afresh from the seed sequence, not remembered from an earlier test
    mask, seed, purpose = 2**64 - 1, 7, "staker_accept"
    key = int(np.random.SeedSequence(seed, spawn_key=(PURPOSES.index(purpose), 0)).generate_state(1, np.uint64)[0])
    paths, cols, step = np.array([0, 40, 63]), np.array([5, 0, 1999]), 12

    def by_hand(path: int, col: int) -> float:
        x = _splitmix_finaliser((key + path * GOLDEN_GAMMA) & mask)
        x = _splitmix_finaliser((x + col * GOLDEN_GAMMA) & mask)
        x = _splitmix_finaliser((x + step * GOLDEN_GAMMA) & mask)
        return (x >> 11) * 2.0**-53

    expected = [by_hand(int(p), int(c)) for p, c in zip(paths, cols, strict=True)]
    assert keyed_uniforms(seed, purpose, paths, cols, step).tolist() == expected
    assert Streams(seed, 32, 32).keyed_uniform(purpose, paths[1:] - 32, cols[1:], step).tolist() == expected[1:]
