"""Local executor: results in task order whatever the finishing order; a killed worker's task is retried."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from usdai_sim.executors import ExecutorError, LocalExecutor, make_executor, run_in_order


def slow_square(x: int) -> int:
    time.sleep(0.05 * (3 - x % 3))
    return x * x


def die_once(x: int, marker: str) -> int:
    """Kill the worker process the first time task 1 runs (the marker file remembers it)."""
    if x == 1 and not os.path.exists(marker):
        Path(marker).write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return x + 100


def test_results_come_back_in_task_order() -> None:
    tasks = [(i,) for i in range(6)]
    assert run_in_order(LocalExecutor(2), slow_square, tasks) == [i * i for i in range(6)]
    assert run_in_order(LocalExecutor(1), slow_square, tasks) == [i * i for i in range(6)]


def test_a_killed_worker_loses_only_its_task(tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    assert run_in_order(LocalExecutor(2), die_once, [(i, marker) for i in range(4)]) == [100, 101, 102, 103]
    assert Path(marker).exists()


def test_unknown_executor_is_an_input_error() -> None:
    try:
        make_executor("spark")
    except ExecutorError as exc:
        assert str(exc).startswith("--executor: must be one of local, dask")
    else:
        raise AssertionError("expected an ExecutorError")
