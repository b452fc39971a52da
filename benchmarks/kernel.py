"""``python -m benchmarks.kernel [small|medium|large]``: the borrower kernels' compile time and speed.

1. **Compile time**, measured in child processes running a 1-path, 3-day baseline twice (``jit_seconds``):
   cold (an empty ``NUMBA_CACHE_DIR``: every kernel the model uses compiled), warm (the same directory
   again: kernels loaded from the on-disk cache; every worker process pays this once). Goal: cold < 10 s.
2. **Borrower phase vs the reference kernel**: the engine's borrower phase (``loans``: operations, accrual,
   walk decisions, payments, covenants and default routes in one compiled pass, with its random draws and
   book-keeping) timed inside one run of the workload (1 worker), per borrower-path-step, against
   the fused reference kernel of the same shape (``benchmarks/reference_kernel.py``) on the same paths ×
   borrowers × steps (normals drawn outside both). Goal: within 3×.
Machines shared with other work give noisy numbers; run it on a quiet one for the record.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.phases import BORROWER_PHASES, timed_phases
from benchmarks.reference_kernel import run_reference
from benchmarks.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parent.parent
COMPILE_GOAL_S = 10.0
REFERENCE_GOAL = 3.0


def jit_seconds(cache_dir: str) -> float:
    """In a fresh child process using ``cache_dir``: a 1-path, 3-day baseline run's first time minus its second
    (the default boundary tables are solved beforehand), i.e. the seconds numba spends compiling or loading
    the kernels the model calls."""
    code = (
        "import time\n"
        "from usdai_sim.agents.default_option import cohort_tables\n"
        "from usdai_sim.engine import simulate\n"
        "from usdai_sim.scenario.library import load_scenario\n"
        "s = load_scenario('baseline')[0]\n"
        "s = s.model_copy(update={'simulation': s.simulation.model_copy(update={'horizon_days': 3})})\n"
        "cohort_tables(s)\n"
        "times = []\n"
        "for _ in range(2):\n"
        "    t = time.perf_counter()\n"
        "    simulate(s, paths=1, workers=1, quiet=True)\n"
        "    times.append(time.perf_counter() - t)\n"
        "print(times[0] - times[1])\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def compile_times() -> tuple[float, float]:
    """(cold, warm) JIT seconds (``jit_seconds``): with an empty cache directory, then with the one it filled."""
    with tempfile.TemporaryDirectory() as cache_dir:
        cold = jit_seconds(cache_dir)
        warm = jit_seconds(cache_dir)
    return cold, warm


def main(argv: list[str]) -> None:
    """Print compile times and the borrower phases against the reference kernel."""
    name = argv[0] if argv else "small"
    workload = WORKLOADS[name]
    cold, warm = compile_times()
    print(f"JIT compile: cold {cold:.1f} s (empty NUMBA_CACHE_DIR), warm {warm:.2f} s (cached); "
          f"{'PASS' if cold < COMPILE_GOAL_S else 'FAIL'} cold < {COMPILE_GOAL_S:g} s")
    _, spent, loan_pass_s = timed_phases(workload)
    units = workload.borrower_path_steps
    borrower_s = sum(spent[p] for p in BORROWER_PHASES)
    kernel_s, draw_s, _ = run_reference(workload.paths, workload.borrowers, workload.steps)
    print(f"{name}: {workload.paths} paths × {workload.borrowers} borrowers × {workload.steps} steps "
          f"= {units / 1e6:.2f} M borrower-path-steps, 1 worker")
    for phase, seconds in spent.items():
        print(f"  phase {phase:11s} {seconds:7.3f} s  {seconds / units * 1e9:7.1f} ns per borrower-path-step")
    print(f"  borrower phase ({', '.join(BORROWER_PHASES)}): {borrower_s:.3f} s, "
          f"{borrower_s / units * 1e9:.1f} ns per borrower-path-step; of it the compiled loan pass "
          f"{loan_pass_s:.3f} s, {loan_pass_s / units * 1e9:.1f} ns")
    print(f"  reference kernel: {kernel_s:.3f} s ({kernel_s / units * 1e9:.1f} ns per borrower-path-step; "
          f"its normals {draw_s:.3f} s more)")
    ratio = borrower_s / kernel_s
    print(f"  {'PASS' if ratio <= REFERENCE_GOAL else 'FAIL'}  borrower phase {ratio:.1f}× the reference kernel "
          f"(goal ≤ {REFERENCE_GOAL:g}×)")


if __name__ == "__main__":
    main(sys.argv[1:])
