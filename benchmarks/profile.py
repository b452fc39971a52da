"""``python -m benchmarks.profile [small|medium|large]``: cProfile one engine run, top 25 by cumulative time.

Runs in this process with one worker (cProfile cannot see into worker processes), so use it on the
small workload; it shows which phases and numpy calls limit the step loop.
"""

from __future__ import annotations

import cProfile
import pstats
import sys

from benchmarks.workloads import WORKLOADS, build_scenario
from usdai_sim.engine import simulate

TOP = 25


def profile(name: str, top: int = TOP) -> pstats.Stats:
    """Profile ``simulate`` on the named workload (one worker) and print the top functions."""
    workload = WORKLOADS[name]
    scenario = build_scenario(workload)
    profiler = cProfile.Profile()
    profiler.enable()
    simulate(scenario, workers=1, quiet=True)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    print(
        f"cProfile of simulate() on the {name} workload ({workload.paths} paths × {workload.borrowers} "
        f"borrowers × {workload.depositors} depositors × {workload.steps} steps, 1 worker); "
        f"top {top} by cumulative time"
    )
    stats.sort_stats("cumulative").print_stats(top)
    return stats


def main(argv: list[str]) -> None:
    """Profile the workload named in argv (default: small)."""
    name = argv[0] if argv else "small"
    if name not in WORKLOADS:
        raise SystemExit(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    profile(name)


if __name__ == "__main__":
    main(sys.argv[1:])
