"""A process pool that dies with its run: on any exception (including a signal) its workers are stopped.

Workers are forked; each one restores default SIGTERM, ignores SIGINT (the parent decides what a Ctrl-C
means) and, on Linux, asks the kernel to send it SIGTERM when the parent dies, so no worker outlives
the run even if the parent is killed outright.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any

GRACE_S = 2.0
"""Seconds a terminated worker gets to exit before it is killed (assumption: a block step is far shorter)."""
_PR_SET_PDEATHSIG = 1


def _init_worker() -> None:
    """Runs first in every worker process."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # without it the parent's cleanup still stops workers
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _workers_of(pool: ProcessPoolExecutor) -> list[Any]:
    """The pool's worker processes (``multiprocessing.Process``), taken from its private table."""
    return list((getattr(pool, "_processes", None) or {}).values())


def stop_workers(pool: ProcessPoolExecutor, grace_s: float = GRACE_S) -> None:
    """Cancel queued work, terminate every worker, kill those still alive after ``grace_s``, reap them all."""
    workers = _workers_of(pool)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        if process.is_alive():
            process.terminate()
    for process in workers:
        process.join(grace_s)
        if process.is_alive():
            process.kill()
            process.join(grace_s)


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A forked ProcessPoolExecutor; normal exit waits for it, an exception stops its workers first."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"), initializer=_init_worker)
    try:
        yield pool
    except BaseException:
        stop_workers(pool)
        raise
    pool.shutdown(wait=True)
