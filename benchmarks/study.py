"""Study benchmark: ``studies/ltv_h100.yaml`` on a local pool of 1 and 2 workers and a Dask LocalCluster of 2.

Goals (issue 15): 2 workers >= 1.8x one worker; Dask LocalCluster wall time (cluster start included) within
10% of the local pool at equal workers; identical results on all three. The full study (32 points x 1,000
paths x 3 years) takes about an hour of CPU; ``--points/--paths/--horizon-days`` run a reduced version (the
workload name in ``history.csv`` records the size).

    python -m benchmarks.study                                   # the full study (a quiet machine, please)
    python -m benchmarks.study --points 8 --paths 128 --horizon-days 365
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from benchmarks.run import ROOT, Report, append_history, print_goals
from usdai_sim import load_study
from usdai_sim.executors import DaskExecutor, Executor, LocalExecutor
from usdai_sim.studies.run import build_points, run_study
from usdai_sim.studies.spec import load_study_file

STUDY = ROOT / "studies" / "ltv_h100.yaml"
GOALS = {"speedup_2_workers": 1.8, "dask_overhead": 0.10}


def timed_study(
    executor_factory: Callable[[], Executor], args: argparse.Namespace, out: Path
) -> tuple[float, pd.DataFrame]:
    """Wall seconds of the whole study (executor start and stop included) and its results table."""
    spec, provenance = load_study_file(STUDY)
    spec = spec.model_copy(update={"paths": args.paths})
    extra = [f"simulation.horizon_days={args.horizon_days}"]
    points = build_points(spec, provenance, STUDY, extra)[: args.points]
    started = time.perf_counter()
    executor = executor_factory()
    try:
        run_study(spec, STUDY, points, out, executor)
    finally:
        executor.close()
    return time.perf_counter() - started, load_study(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=32)
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--horizon-days", type=int, default=1095)
    parser.add_argument("--no-history", action="store_true", help="do not append to benchmarks/history.csv")
    args = parser.parse_args(argv)
    full = (args.points, args.paths, args.horizon_days) == (32, 1000, 1095)
    workload = "ltv_h100" if full else f"ltv_h100_{args.points}x{args.paths}x{args.horizon_days}d"
    report = Report(quick=False)
    with tempfile.TemporaryDirectory() as scratch:
        one_s, one = timed_study(lambda: LocalExecutor(1), args, Path(scratch) / "one")
        two_s, two = timed_study(lambda: LocalExecutor(2), args, Path(scratch) / "two")
        dask_s, dask = timed_study(lambda: DaskExecutor("local", 2), args, Path(scratch) / "dask")
    same = one.equals(two) and one.equals(dask)
    for name, value in (("local1_wall_s", one_s), ("local2_wall_s", two_s), ("dask2_wall_s", dask_s)):
        report.metric(workload, name, value)
    speedup, overhead = one_s / two_s, dask_s / two_s - 1.0
    report.metric(workload, "speedup_2_workers", speedup)
    report.metric(workload, "dask_overhead", overhead)
    report.goal(workload, f"2 workers {speedup:.2f}x one (goal >= {GOALS['speedup_2_workers']})",
                speedup >= GOALS["speedup_2_workers"])
    report.goal(workload, f"Dask LocalCluster overhead {overhead:+.1%} (goal < {GOALS['dask_overhead']:.0%})",
                overhead < GOALS["dask_overhead"])
    report.goal(workload, "identical results on local-1, local-2 and Dask", same)
    print_goals(report)
    if not args.no_history:
        append_history(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
