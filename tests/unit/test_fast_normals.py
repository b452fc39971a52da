"""The compiled ziggurat gives numpy's standard normals bit for bit, and leaves the generator where numpy would."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usdai_sim.rng import Streams, fill_standard_normal, seed_sequence, ziggurat_normals

TAIL_R = 3.654152885361009
"""Where the ziggurat's base strip hands over to the tail sampler."""


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
    from numba.np.random._constants import ki_double, wi_double

    k = int(ki_double[5])
    out = np.empty(1)
    assert ziggurat_normals(np.array([_raw(5, k - 1, True), 0], np.uint64), out, 0) == (1, 1)
    assert out[0] == -(k - 1) * wi_double[5]
    assert ziggurat_normals(np.array([_raw(5, k), 0], np.uint64), out, 0) == (1, 2)
    assert out[0] == k * wi_double[5]


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


def test_streams_draw_numpys_normals_per_seed_block() -> None:
    """``Streams.normal`` is each seed block's generator's standard_normal, stacked (as before the kernel)."""
    got = Streams(3, 0, 40).normal("gpu_idio", 5)
    rows = [np.random.default_rng(seed_sequence(3, "gpu_idio", b)).standard_normal((32, 5)) for b in (0, 1)]
    np.testing.assert_array_equal(got, np.concatenate(rows)[:40])
