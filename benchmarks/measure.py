"""One engine measurement in a fresh process: ``python -m benchmarks.measure '<json spec>'``.

The spec names a workload (its fields, worker count included) and whether depositors are reduced to
one inert holder. The process runs ``simulate`` once, then prints one JSON line on stdout: wall time,
peak RSS of itself and of its worker processes (``resource.getrusage``) — over the whole run and up to
the moment block outputs are merged into Results (the step loop) — the peak proportional set size
(PSS) of itself and its workers sampled from /proc (a diagnostic), and SHA-256 digests of every
Results frame and the summary (to check that two runs produced identical results). Progress goes to
stderr. A fresh process per measurement keeps one workload's peak memory from hiding another's.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.workloads import Workload, build_scenario, inert_depositors
from usdai_sim import engine
from usdai_sim.results import Results

FRAMES = ("paths", "ledger", "bands", "ltv_hist", "waits")


class ProgressPrinter:
    """Prints a line to stderr at most every ``every_s`` seconds (share of path-steps done, ETA)."""

    def __init__(self, label: str, every_s: float = 20.0) -> None:
        self.label, self.every_s = label, every_s
        self.started = self.shown = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self.shown < self.every_s:
            return
        self.shown = now
        elapsed = now - self.started
        left = elapsed * (total - done) / max(done, 1)
        share = 100 * done / max(total, 1)
        print(
            f"    [{self.label}] {share:3.0f}%  {elapsed:7.1f} s elapsed, ~{left:6.1f} s left",
            file=sys.stderr,
            flush=True,
        )


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's column names and values (NaN-safe, bit-exact)."""
    h = hashlib.sha256(json.dumps(list(map(str, frame.columns))).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()


def results_digests(results: Results) -> dict[str, str]:
    """Digests of every frame and of the summary."""
    digests = {name: frame_digest(getattr(results, name)) for name in FRAMES}
    summary = json.dumps(results.summary, sort_keys=True, default=str)
    digests["summary"] = hashlib.sha256(summary.encode()).hexdigest()
    return digests


def peak_rss_mb(workers: int) -> dict[str, float]:
    """Peak RSS so far, MiB: this process, its largest finished child, and main + workers × child.

    Linux reports KiB. With worker processes the sum is an upper bound (forked pages are shared).
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"main": own, "worker": child, "total": own + workers * child if workers > 1 else own}


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is ``parent`` (a scan of /proc; empty where there is none)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(entry.parent.name))
    return found


def pss_kib(pid: int) -> tuple[int, int]:
    """(PSS, anonymous PSS) of a process in KiB from /proc/<pid>/smaps_rollup; (0, 0) if unreadable."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    values = {ln.split(":")[0]: int(ln.split()[1]) for ln in lines if ln.startswith(("Pss:", "Pss_Anon:"))}
    return values.get("Pss", 0), values.get("Pss_Anon", 0)


class MemorySampler(threading.Thread):
    """Samples the summed PSS of this process and its children every ``interval_s`` (a diagnostic).

    PSS splits shared pages between the processes that map them, so forked workers are not counted
    twice; the anonymous part excludes file-backed pages.
    """

    def __init__(self, interval_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.interval_s, self.stopped = interval_s, threading.Event()
        self.peak_kib, self.peak_anon_kib = 0, 0

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stopped.wait(self.interval_s):
            self.sample()

    def sample(self) -> None:
        """Add up PSS over this process and its children; keep the peaks."""
        me = os.getpid()
        total = [pss_kib(pid) for pid in [me, *child_pids(me)]]
        self.peak_kib = max(self.peak_kib, sum(t for t, _ in total))
        self.peak_anon_kib = max(self.peak_anon_kib, sum(a for _, a in total))

    def stop(self) -> dict[str, float]:
        """Stop sampling; the peaks in MiB."""
        self.sample()
        self.stopped.set()
        self.join()
        return {"pss_peak_mb": self.peak_kib / 1024, "pss_anon_peak_mb": self.peak_anon_kib / 1024}


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (s)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def step_loop_peak(workers: int) -> Iterator[dict[str, float]]:
    """Record the peak RSS reached before ``simulate`` merges block outputs (the step loop's peak).

    Wraps ``usdai_sim.engine.build_results`` in this process only; the dict yielded gets "total".
    """
    seen: dict[str, float] = {}
    original = engine.build_results

    def wrapped(*args: Any, **kwargs: Any) -> Results:
        seen.update(peak_rss_mb(workers))
        return original(*args, **kwargs)

    engine.build_results = wrapped  # type: ignore[assignment]
    try:
        yield seen
    finally:
        engine.build_results = original  # type: ignore[assignment]


def measure_engine(workload: Workload, one_depositor: bool = False) -> dict[str, Any]:
    """Run the workload's scenario once; return timings, peak memory and result digests."""
    scenario = build_scenario(workload)
    if one_depositor:
        scenario = inert_depositors(
            scenario.model_copy(update={"depositors": scenario.depositors.model_copy(update={"count": 1})})
        )
    progress = ProgressPrinter(f"{workload.name} workers={workload.workers}")
    sampler = MemorySampler()
    sampler.start()
    with step_loop_peak(workload.workers) as loop:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        results = engine.simulate(scenario, workers=workload.workers, progress=progress)
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    peak = peak_rss_mb(workload.workers)
    return {
        **sampler.stop(),
        "wall_s": wall,
        "cpu_s": cpu,
        "simulate_s": results.timings.get("simulate_s", wall),
        "rss_main_mb": peak["main"],
        "rss_worker_mb": peak["worker"],
        "peak_mb": peak["total"],
        "loop_peak_mb": loop.get("total", float("nan")),
        "digests": results_digests(results),
    }


def main(argv: list[str]) -> None:
    """Read the spec from argv[0], measure, print the JSON result as the last stdout line."""
    spec = json.loads(argv[0])
    workload = Workload(**spec["workload"])
    result = measure_engine(workload, spec.get("one_depositor", False))
    result["workload"] = asdict(workload)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
