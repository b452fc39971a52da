"""Where work runs: one interface over a local process pool and a Dask cluster (optional extra ``cluster``).

A task is a picklable function and its arguments; an executor hands back ``(task index, result)`` pairs as tasks
finish. Callers put results back in task order, so what a run or study computes never depends on the executor,
its worker count or the order tasks finish in.

* ``LocalExecutor(workers)``: in-process for one worker, else a forked process pool (no extra dependency); if a
  worker process dies, the tasks not yet handed back run again in a fresh pool (``TASK_RETRIES`` times).
* ``DaskExecutor(scheduler, workers)``: ``scheduler="local"`` starts a ``distributed.LocalCluster`` with that many
  single-threaded worker processes on loopback (glibc's malloc left at its defaults, ``NANNY_TRIM_KEY``) and closes
  it afterwards; ``"tcp://HOST:8786"`` connects to a
  running cluster. A task whose worker dies is retried (``TASK_RETRIES``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, Protocol

from usdai_sim.errors import UsdaiSimError
from usdai_sim.pool import worker_pool

TASK_RETRIES: Final = 2
EXECUTORS: Final = ("local", "dask")
NANNY_TRIM_KEY: Final = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
"""Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers (to hand memory back to the OS). Setting it
switches off glibc's dynamic mmap threshold, so every numpy temporary above 128 KiB is a fresh ``mmap`` whose pages
fault in again: measured 2026-12-05 on the study's unit of work (one 128-path point, one year), 7.3 s per task in
such a worker against 3.0-3.5 s in a process pool. The LocalCluster is started with the variable unset (``None``
unsets a pre-spawn variable in Dask's config); for a cluster of your own see the README ("Executors")."""


class ExecutorError(UsdaiSimError):
    """An executor that cannot be used as asked (missing extra, bad scheduler address): exit status 2."""


class Executor(Protocol):
    """Runs tasks somewhere; ``shares_disk`` says whether workers see this machine's temporary files."""

    workers: int
    shares_disk: bool

    def as_completed(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Run ``fn(*task)`` for every task; yield (index, result) as each finishes."""
        ...

    def close(self) -> None:
        """Release workers (idempotent)."""
        ...


class LocalExecutor:
    """This process for one worker, a forked process pool for more."""

    shares_disk = True

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)

    def as_completed(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        if self.workers == 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                yield i, fn(*task)
            return
        remaining = dict(enumerate(tasks))
        for attempt in range(TASK_RETRIES + 1):
            try:
                yield from self._pool_round(fn, remaining)
                return
            except BrokenProcessPool:  # a worker died (e.g. killed): run what is left in a fresh pool
                if attempt == TASK_RETRIES:
                    raise

    def _pool_round(self, fn: Callable[..., Any], remaining: dict[int, tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Run the remaining tasks in one pool, removing each from ``remaining`` as it is handed back."""
        with worker_pool(self.workers) as pool:
            pending: dict[Future[Any], int] = {pool.submit(fn, *task): i for i, task in remaining.items()}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=pending.__getitem__):
                        i = pending.pop(future)
                        result = future.result()
                        del remaining[i]
                        yield i, result
            finally:
                for future in pending:
                    future.cancel()

    def close(self) -> None:
        return None


class DaskExecutor:
    """A Dask ``distributed`` client on a LocalCluster it owns (``scheduler="local"``) or on a given address."""

    def __init__(self, scheduler: str = "local", workers: int = 2) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError(
                "--executor dask: needs the optional extra 'cluster' (pip install 'usdai-sim[cluster]')"
            ) from None
        self.cluster: Any = None
        self.shares_disk = scheduler == "local"
        if scheduler == "local":
            import dask

            with dask.config.set({NANNY_TRIM_KEY: None}):
                self.cluster = LocalCluster(
                    n_workers=max(1, workers),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",
                )
            self.client = Client(self.cluster)
        else:
            if not scheduler.startswith(("tcp://", "tls://")):
                raise ExecutorError(f"--scheduler: expected 'local' or tcp://HOST:PORT (got {scheduler!r})")
            try:
                self.client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise ExecutorError(f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def as_completed(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        futures = [self.client.submit(fn, *task, pure=False, retries=TASK_RETRIES) for task in tasks]
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield index[future.key], future.result()
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
            self.cluster = None


def make_executor(name: str = "local", workers: int = 1, scheduler: str = "local") -> Executor:
    """The executor a command line asked for (``--executor``, ``--workers``, ``--scheduler``)."""
    if name == "local":
        return LocalExecutor(workers)
    if name == "dask":
        return DaskExecutor(scheduler, workers)
    raise ExecutorError(f"--executor: must be one of {', '.join(EXECUTORS)} (got {name!r})")


def run_in_order(executor: Executor, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Every task's result, in task order."""
    results: list[Any] = [None] * len(tasks)
    for i, result in executor.as_completed(fn, tasks):
        results[i] = result
    return results
