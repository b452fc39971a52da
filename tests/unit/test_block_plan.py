"""engine.plan_blocks: blocks tile the paths in whole seed blocks, fit the state budget and keep workers even."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import usdai_sim.engine as engine
from usdai_sim.rng import SEED_BLOCK
from usdai_sim.scenario.schema import Scenario

SCENARIO = Scenario.model_validate({"simulation": {"paths": 1}})


def plan(monkeypatch: pytest.MonkeyPatch, n_paths: int, workers: int, bytes_per_path: int,
         block_paths: int | None = None) -> list[tuple[int, int]]:
    monkeypatch.setattr(engine, "bytes_per_path", lambda scenario: bytes_per_path)
    return engine.plan_blocks(n_paths, SCENARIO, workers, block_paths)


@given(
    n_paths=st.integers(1, 40_000),
    workers=st.integers(1, 8),
    bytes_per_path=st.integers(1, 4 * engine.BLOCK_STATE_BUDGET_BYTES // SEED_BLOCK),
)
def test_default_plan_tiles_fits_and_balances(n_paths: int, workers: int, bytes_per_path: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        blocks = plan(monkeypatch, n_paths, workers, bytes_per_path)
    starts = [start for start, _ in blocks]
    assert starts[0] == 0 and sum(n for _, n in blocks) == n_paths
    assert all(a + n == b for (a, n), b in zip(blocks, starts[1:], strict=False))
    assert all(start % SEED_BLOCK == 0 for start in starts)
    seeds = [-(-n // SEED_BLOCK) for _, n in blocks]
    budget_seeds = max(1, engine.BLOCK_STATE_BUDGET_BYTES // bytes_per_path // SEED_BLOCK)
    assert max(seeds) <= budget_seeds  # every block's state within the budget (one seed block at least)
    assert max(seeds) - min(seeds) <= 1  # the seed blocks shared out evenly
    total_seeds = -(-n_paths // SEED_BLOCK)
    if len(blocks) < total_seeds:
        assert len(blocks) % workers == 0  # every worker gets as many blocks
    else:
        assert max(seeds) == 1  # too few paths to share evenly: one seed block each, the finest split
    if workers > 1:
        assert len(blocks) >= min(4 * workers, total_seeds)


def test_large_workload_on_two_workers_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 paths, a 256 MiB budget and 520 kB a path: 16 seed blocks (512 paths) fit, 313 seed blocks need
    20 blocks (a multiple of 2): 13 of 16 seed blocks and 7 of 15, the last cut to the 10,000th path."""
    blocks = plan(monkeypatch, 10_000, 2, 520_000)
    assert len(blocks) == 20
    assert [n for _, n in blocks].count(512) == 13 and [n for _, n in blocks].count(480) == 6
    assert blocks[-1] == (9_536, 464)


def test_a_given_block_size_is_rounded_up_to_seed_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert plan(monkeypatch, 100, 2, 1, block_paths=40) == [(0, 64), (64, 36)]
