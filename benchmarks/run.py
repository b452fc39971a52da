"""``make bench``: measure the workloads, compare with the per-agent baseline and the random-number floor.

Usage: ``python -m benchmarks.run [small] [medium] [large] [huge] [--quick]`` (or
``BENCH=small,medium``); no name runs small, medium and large (``huge``, 100,000 paths of the shipped
baseline, only when named). Each engine run happens in a fresh child process (``benchmarks.measure``) so
that its peak memory is its own. ``--quick`` (or ``BENCH_QUICK=1``) shrinks every workload for a smoke
test; quick runs are not appended to ``benchmarks/history.csv``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.floor import count_draws, count_traffic, floor_seconds
from benchmarks.per_agent_mesa import run_paths
from benchmarks.phases import (
    BORROWER_PHASES,
    PhaseProfile,
    explain,
    print_lines,
    profile_in_child,
    profiled_shape,
    table,
)
from benchmarks.workloads import DEFAULT_WORKLOADS, WORKLOADS, Workload, build_scenario
from usdai_sim.rng import SEED_BLOCK

ROOT = Path(__file__).resolve().parent.parent
HISTORY = Path(__file__).resolve().parent / "history.csv"
HISTORY_COLUMNS = ("date", "commit", "machine", "workload", "metric", "value")
PER_AGENT_PATHS = 20
MEMORY_LIMIT_MB = 2048.0
GROWTH_TOLERANCE = 1.10
GROWTH_PATHS = 128
SCALING_REPEATS = 2
GOALS = {
    "per_agent_ratio": 100.0,
    "floor_ratio": 3.0,
    "memory_floor_ratio": 5.0,
    "scaling_exponent": 1.1,
    "speedup": 1.8,
    "large_speedup": 5.0,
    "kernel_ratio": 3.0,
}
"""Issue #18's goals: medium ≥ 100× per-agent, ≤ 3× the RNG floor, ≤ 5× the memory-traffic floor, borrower
phase within 3× the fused reference kernel; large ≥ 5× faster than before, 2 workers ≥ 1.8× one."""
LARGE_BEFORE_S = 422.4
"""Large workload's wall time on 2 workers before issue #18 (benchmarks/README.md results, commit ae6905f,
2026-11-27; history.csv)."""
HUGE_REFERENCE_METRIC = "reference_10k_wall_s"
"""history.csv metric (workload "huge") holding the wall time of 10,000 baseline paths before issue #18."""


@dataclass
class Report:
    """Rows for the history file and PASS/FAIL goals, printed as they come."""

    quick: bool
    rows: list[tuple[str, str, float]] = field(default_factory=list)
    goals: list[tuple[str, str, bool]] = field(default_factory=list)

    def metric(self, workload: str, name: str, value: float) -> None:
        """Record one number for the history file."""
        self.rows.append((workload, name, float(value)))

    def goal(self, label: str, detail: str, passed: bool) -> None:
        """Record and print a goal's verdict."""
        self.goals.append((label, detail, passed))
        print(f"  {'PASS' if passed else 'FAIL'}  {label}: {detail}", flush=True)


@dataclass(frozen=True)
class Budget:
    """A speed goal restated as the most nanoseconds per borrower-path-step one core may spend, and its verdict."""

    goal: str
    ns_per_bps: float
    passed: bool
    judged_ns_per_bps: float | None = None
    """The judged run's own ns per borrower-path-step on one core (wall × workers / bps), if it was a run."""


def core_ns_per_bps(w: Workload, seconds: float) -> float:
    """Wall ``seconds`` of a run of ``w`` as core-nanoseconds per borrower-path-step (wall × workers / bps)."""
    return seconds * w.workers / w.borrower_path_steps * 1e9


# ------------------------------------------------------------------ measurements


def run_engine(workload: Workload, one_depositor: bool = False) -> dict[str, Any]:
    """Measure one engine run in a fresh process (see benchmarks/measure.py)."""
    spec = json.dumps({"workload": asdict(workload), "one_depositor": one_depositor})
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", spec],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["bps_per_s"] = workload.borrower_path_steps / result["wall_s"]
    return result


def run_per_agent(workload: Workload, paths: int) -> dict[str, float]:
    """Time the per-agent mesa baseline on ``paths`` paths of the workload's borrowers and horizon."""
    scenario = build_scenario(workload.scaled(paths=paths))
    started = time.perf_counter()
    run_paths(scenario, paths)
    wall = time.perf_counter() - started
    steps = paths * workload.borrowers * workload.steps
    return {
        "paths": paths,
        "wall_s": wall,
        "bps_per_s": steps / wall,
        "full_workload_s": workload.borrower_path_steps * wall / steps,
    }


def measure_bandwidth() -> float:
    """``memory_bandwidth_bytes_per_s`` in a child process: its 512 MiB of buffers must not raise this
    process's peak RSS, which Linux hands on to the engine runs started after it (ru_maxrss across fork)."""
    done = subprocess.run(
        [sys.executable, "-c", "from benchmarks.floor import memory_bandwidth_bytes_per_s as m; print(m())"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def run_floor(workload: Workload) -> dict[str, Any]:
    """Count the workload's draws and time drawing them with default_rng (a sample of steps, scaled); count
    the bytes of state it moves and divide by the measured copy bandwidth (benchmarks/floor.py)."""
    scenario = build_scenario(workload)
    profile = count_draws(scenario)
    seconds, timed = floor_seconds(profile)
    traffic, bandwidth = count_traffic(scenario), measure_bandwidth()
    return {
        "floor_s": seconds, "timed_steps": timed, "draws": profile.per_kind(), "total": profile.total(),
        "traffic_bytes": traffic.total_bytes(), "bandwidth_bytes_per_s": bandwidth,
        "memory_floor_s": traffic.total_bytes() / bandwidth,
    }


# ------------------------------------------------------------------ printing helpers


def describe(w: Workload) -> str:
    """One line naming a workload's size."""
    return (
        f"{w.paths:,} paths × {w.borrowers:,} borrowers × {w.depositors:,} depositors × {w.steps:,} "
        f"daily steps = {w.borrower_path_steps / 1e6:,.1f} M borrower-path-steps, {w.workers} worker(s)"
    )


def show_engine(report: Report, w: Workload, label: str, r: dict[str, Any], key: str = "engine") -> None:
    """Print and record an engine measurement (peak RSS of the whole run and of its step loop)."""
    split = (
        f" = main {r['rss_main_mb']:.0f} + {w.workers} × worker {r['rss_worker_mb']:.0f}"
        if w.workers > 1
        else ""
    )
    print(
        f"  {label:<48} wall {r['wall_s']:8.1f} s  {r['bps_per_s'] / 1e6:7.3f} M borrower-path-steps/s  "
        f"(CPU {r['cpu_s']:.1f} s)\n      memory: peak RSS {r['peak_mb']:.0f} MiB{split}, step loop "
        f"{r['loop_peak_mb']:.0f} MiB; sampled PSS {r['pss_peak_mb']:.0f} MiB, "
        f"anonymous {r['pss_anon_peak_mb']:.0f} MiB",
        flush=True,
    )
    for name in (
        "wall_s",
        "cpu_s",
        "bps_per_s",
        "peak_mb",
        "loop_peak_mb",
        "pss_peak_mb",
        "pss_anon_peak_mb",
    ):
        report.metric(w.name, f"{key}_{name}", r[name])


def show_per_agent(report: Report, w: Workload, r: dict[str, float]) -> None:
    """Print and record a per-agent baseline measurement."""
    print(
        f"  {'per-agent mesa baseline':<48} wall {r['wall_s']:8.1f} s  {r['bps_per_s'] / 1e6:7.3f} M "
        f"borrower-path-steps/s  (measured on {r['paths']} paths, extrapolated linearly per "
        f"borrower-path-step: full workload ≈ {r['full_workload_s']:,.0f} s)",
        flush=True,
    )
    report.metric(w.name, "per_agent_bps_per_s", r["bps_per_s"])


def show_floor(report: Report, w: Workload, r: dict[str, Any]) -> None:
    """Print and record the random-number floor."""
    kinds = ", ".join(f"{k} {v / 1e6:,.1f}M" for k, v in r["draws"].items())
    print(
        f"  {'random-number floor (PCG64, model normals)':<48} {r['floor_s']:8.2f} s  for "
        f"{r['total'] / 1e9:.3f} G numbers ({r['timed_steps']} of {w.steps} steps timed, extrapolated)"
        f"\n      draws: {kinds}",
        flush=True,
    )
    report.metric(w.name, "floor_s", r["floor_s"])
    report.metric(w.name, "floor_numbers", r["total"])
    print(
        f"  {'memory-traffic floor':<48} {r['memory_floor_s']:8.2f} s  for {r['traffic_bytes'] / 1e9:,.1f} GB of "
        f"state read + written at {r['bandwidth_bytes_per_s'] / 1e9:.1f} GB/s (numpy copy)",
        flush=True,
    )
    report.metric(w.name, "memory_floor_s", r["memory_floor_s"])
    report.metric(w.name, "traffic_bytes", r["traffic_bytes"])
    report.metric(w.name, "bandwidth_bytes_per_s", r["bandwidth_bytes_per_s"])


# ------------------------------------------------------------------ sections


def ratios(
    report: Report,
    w: Workload,
    engine: dict[str, Any],
    per_agent: dict[str, float],
    floor: dict[str, Any],
    judged: bool,
) -> list[Budget]:
    """Engine vs per-agent throughput, engine wall vs both floors; goals judged on the medium workload.
    Returns each judged goal as a budget in ns per borrower-path-step on one core (``Budget``)."""
    vs_agent = engine["bps_per_s"] / per_agent["bps_per_s"]
    vs_floor = engine["wall_s"] / floor["floor_s"]
    vs_memory = engine["wall_s"] / floor["memory_floor_s"]
    report.metric(w.name, "ratio_vs_per_agent", vs_agent)
    report.metric(w.name, "ratio_wall_vs_floor", vs_floor)
    report.metric(w.name, "ratio_wall_vs_memory_floor", vs_memory)
    checks = [
        ("vs per-agent", f"engine full model {vs_agent:.1f}× the per-agent baseline's throughput (both with "
         f"borrowers, stakers, unstaked holders and the vault queue; goal ≥ {GOALS['per_agent_ratio']:.0f}×)",
         vs_agent >= GOALS["per_agent_ratio"]),
        ("vs RNG floor", f"engine wall {vs_floor:.2f}× the random-number floor (goal ≤ {GOALS['floor_ratio']:.0f}×)",
         vs_floor <= GOALS["floor_ratio"]),
        ("vs memory floor", f"engine wall {vs_memory:.1f}× the memory-traffic floor "
         f"(goal ≤ {GOALS['memory_floor_ratio']:.0f}×)", vs_memory <= GOALS["memory_floor_ratio"]),
    ]
    for label, text, passed in checks:
        if judged:
            report.goal(f"{w.name} {label}", text, passed)
        else:
            print(f"  info  {text}", flush=True)
    if not judged:
        return []
    per_bps = 1e9 / w.borrower_path_steps
    budgets = (
        1e9 / (GOALS["per_agent_ratio"] * per_agent["bps_per_s"]),
        GOALS["floor_ratio"] * floor["floor_s"] * per_bps,
        GOALS["memory_floor_ratio"] * floor["memory_floor_s"] * per_bps,
    )
    judged_ns = core_ns_per_bps(w, engine["wall_s"])
    return [Budget(f"{w.name} {label}", ns, passed, judged_ns)
            for (label, _, passed), ns in zip(checks, budgets, strict=True)]


def memory_goal(report: Report, w: Workload, engine: dict[str, Any]) -> None:
    """Peak memory below the limit."""
    report.goal(
        f"{w.name} memory",
        f"peak RSS {engine['peak_mb']:.0f} MiB (goal < {MEMORY_LIMIT_MB:.0f} MiB)",
        engine["peak_mb"] < MEMORY_LIMIT_MB,
    )


def fit_exponent(sizes: list[float], seconds: list[float]) -> float:
    """Slope of log(time) against log(size): time ∝ size^b."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def best_cpu_s(workload: Workload, first: dict[str, Any] | None = None) -> float:
    """Least CPU time of SCALING_REPEATS engine runs (``first`` counts as one), to damp a busy machine."""
    runs = [first] if first is not None else []
    runs += [run_engine(workload) for _ in range(SCALING_REPEATS - len(runs))]
    return min(r["cpu_s"] for r in runs)


def scaling(report: Report, base: Workload, base_run: dict[str, Any]) -> None:
    """Double paths, borrowers and years separately (1×, 2×, 4×); fit the log-log exponent of CPU time.

    One worker, so CPU time is the run's work; unlike wall time it hardly moves when the machine is shared.
    """
    base_cpu = best_cpu_s(base, base_run)
    print(f"  scaling points: CPU time, least of {SCALING_REPEATS} runs each", flush=True)
    for dim in ("paths", "borrowers", "years"):
        sizes = [getattr(base, dim) * k for k in (1, 2, 4)]
        cpus = [base_cpu] + [best_cpu_s(base.scaled(**{dim: s})) for s in sizes[1:]]
        b = fit_exponent(sizes, cpus)
        points = ", ".join(f"{s}: {t:.1f} s" for s, t in zip(sizes, cpus, strict=True))
        report.metric(base.name, f"scaling_exponent_{dim}", b)
        report.goal(
            f"{base.name} scaling in {dim}",
            f"exponent {b:.2f} ({points}; goal ≤ {GOALS['scaling_exponent']})",
            b <= GOALS["scaling_exponent"],
        )


def memory_growth(report: Report, w: Workload) -> None:
    """Peak memory at 1, 2 and 3 years on the workload's shape with fewer paths: must not grow with steps.

    Judged on the step loop's peak (before Results are built); the whole run's peak is shown too: the
    quantile bands are computed in chunks of records, so their memory grows with steps up to the chunk size.
    """
    shape = w.scaled(paths=min(w.paths, GROWTH_PATHS))
    runs = {y: run_engine(shape.scaled(years=y)) for y in (1, 2, 3)}
    for y, r in runs.items():
        report.metric(w.name, f"growth_loop_peak_mb_{y}y", r["loop_peak_mb"])
        report.metric(w.name, f"growth_peak_mb_{y}y", r["peak_mb"])
    loop = ", ".join(f"{y} y: {r['loop_peak_mb']:.0f}" for y, r in runs.items())
    whole = ", ".join(f"{r['peak_mb']:.0f}" for r in runs.values())
    detail = (
        f"{shape.paths} paths, step-loop peak RSS {loop} MiB (whole run incl. Results: {whole} MiB; "
        f"goal: 3 y ≤ {GROWTH_TOLERANCE:.2f} × 1 y)"
    )
    report.goal(
        f"{w.name} memory vs steps",
        detail,
        runs[3]["loop_peak_mb"] <= GROWTH_TOLERANCE * runs[1]["loop_peak_mb"],
    )


def large_vs_before(report: Report, w: Workload, two: dict[str, Any]) -> Budget:
    """The large workload on 2 workers against its wall time before issue #18 (LARGE_BEFORE_S); the budget
    assumes the workers scale perfectly (core-seconds = workers × wall)."""
    before_s = LARGE_BEFORE_S * (w.borrower_path_steps / WORKLOADS["large"].borrower_path_steps)
    speedup = before_s / two["wall_s"]
    report.metric(w.name, "speedup_vs_before", speedup)
    label = f"{w.name} vs before"
    passed = speedup >= GOALS["large_speedup"]
    report.goal(
        label,
        f"{speedup:.2f}× faster than {LARGE_BEFORE_S:.0f} s (scaled to this size; "
        f"goal ≥ {GOALS['large_speedup']:.0f}×)",
        passed,
    )
    budget = core_ns_per_bps(w, before_s / GOALS["large_speedup"])
    return Budget(label, budget, passed, core_ns_per_bps(w, two["wall_s"]))


def workers(report: Report, w: Workload, two: dict[str, Any]) -> None:
    """One worker against two: speed-up and bit-identical results."""
    one = run_engine(w.scaled(workers=1))
    show_engine(report, w, "engine, 1 worker", one, "engine_1_worker")
    speedup = one["wall_s"] / two["wall_s"]
    same = one["digests"] == two["digests"]
    report.metric(w.name, "speedup_2_workers", speedup)
    report.metric(w.name, "identical_results_2_workers", float(same))
    report.goal(
        f"{w.name} 2 workers",
        f"{speedup:.2f}× one worker (goal ≥ {GOALS['speedup']})",
        speedup >= GOALS["speedup"],
    )
    different = [k for k in one["digests"] if one["digests"][k] != two["digests"][k]]
    report.goal(
        f"{w.name} 2 workers identical",
        "summary and every frame identical" if same else f"differ: {', '.join(different)}",
        same,
    )


def borrowers_only(report: Report, w: Workload, per_agent: dict[str, float]) -> dict[str, Any]:
    """The engine with one inert depositor: its borrower side against the per-agent baseline (info)."""
    lone = run_engine(w, one_depositor=True)
    show_engine(report, w, "engine, borrowers only (1 inert depositor)", lone, "engine_borrowers_only")
    ratio = lone["bps_per_s"] / per_agent["bps_per_s"]
    report.metric(w.name, "ratio_borrowers_only_vs_per_agent", ratio)
    print(
        f"  info  engine with 1 inert depositor {ratio:.1f}× the per-agent baseline's throughput", flush=True
    )
    return lone


def kernel_goal(report: Report, w: Workload, p: PhaseProfile) -> Budget:
    """The engine's borrower phase (timed inside one run of the workload's shape) against the fused reference
    kernel on the same paths × borrowers × steps; as a budget: the run with that phase at 3× the kernel."""
    borrower_ns, reference_ns = p.phases_ns(BORROWER_PHASES), p.ns(p.reference_s)
    ratio = borrower_ns / reference_ns
    report.metric(w.name, "ratio_borrower_phases_vs_kernel", ratio)
    label, passed = f"{w.name} borrower phase vs reference kernel", ratio <= GOALS["kernel_ratio"]
    report.goal(
        label,
        f"borrower phase ({', '.join(BORROWER_PHASES)}) {borrower_ns:.1f} ns per borrower-path-step (its compiled "
        f"loan pass {p.ns(p.loan_pass_s):.1f} ns), {ratio:.1f}× the fused reference kernel's {reference_ns:.1f} ns "
        f"(goal ≤ {GOALS['kernel_ratio']:.0f}×; timed on {p.workload.paths} paths × {p.workload.years} y)",
        passed,
    )
    budget = p.total_ns() - borrower_ns + GOALS["kernel_ratio"] * reference_ns
    return Budget(label, budget, passed)


def explain_missed(report: Report, w: Workload, budgets: list[Budget], profile: PhaseProfile | None = None) -> None:
    """For every missed speed goal of the section: the phase profile and why/what would close it
    (``benchmarks/phases.py``); the profile's numbers go to the history file."""
    missed = [b for b in budgets if not b.passed]
    if not missed:
        return
    p = profile or profile_in_child(profiled_shape(w))
    print_lines(table(p))
    for name, seconds in p.phase_s.items():
        report.metric(w.name, f"phase_{name}_ns_per_bps", p.ns(seconds))
    report.metric(w.name, "loan_pass_ns_per_bps", p.ns(p.loan_pass_s))
    for budget in missed:
        print_lines(explain(budget.goal, budget.ns_per_bps, p, budget.judged_ns_per_bps))


def reference_10k_s() -> float | None:
    """The latest wall time of 10,000 baseline paths recorded before issue #18 (history.csv), if any."""
    if not HISTORY.exists():
        return None
    with HISTORY.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["workload"] == "huge" and r["metric"] == HUGE_REFERENCE_METRIC]
    return float(rows[-1]["value"]) if rows else None


def huge_goal(report: Report, w: Workload, engine: dict[str, Any]) -> list[Budget]:
    """100,000 baseline paths on 2 workers within the time 10,000 took before (scaled by paths when quick)."""
    before = reference_10k_s()
    if before is None:
        print(f"  n/a   {w.name}: no '{HUGE_REFERENCE_METRIC}' row for workload huge in history.csv; record it "
              "with `python -m benchmarks.run huge --reference` on the commit before issue #18", flush=True)
        return []
    allowed = before * w.paths / WORKLOADS["huge"].paths
    label, passed = f"{w.name} vs 10,000 paths before", engine["wall_s"] <= allowed
    report.goal(
        label,
        f"wall {engine['wall_s']:.0f} s for {w.paths:,} paths (goal ≤ {allowed:.0f} s, the time "
        f"{w.paths // 10:,} paths took before)",
        passed,
    )
    return [Budget(label, core_ns_per_bps(w, allowed), passed, core_ns_per_bps(w, engine["wall_s"]))]


def bench_workload(
    report: Report,
    w: Workload,
    per_agent_cache: dict[tuple[int, int], dict[str, float]],
    per_agent_paths: int,
) -> None:
    """Everything measured for one workload, plus its section's extra checks."""
    print(f"\n== {w.name}: {describe(w)}", flush=True)
    engine = run_engine(w)
    show_engine(report, w, "engine, full model", engine)
    memory_goal(report, w, engine)
    if w.shipped:
        explain_missed(report, w, huge_goal(report, w, engine))
        return
    key = (w.borrowers, w.years)
    if key not in per_agent_cache:
        per_agent_cache[key] = run_per_agent(w, per_agent_paths)
    per_agent = per_agent_cache[key]
    show_per_agent(report, w, per_agent)
    floor = run_floor(w)
    show_floor(report, w, floor)
    budgets = ratios(report, w, engine, per_agent, floor, judged=w.name == "medium")
    profile = None
    if w.name == "small":
        scaling(report, w, engine)
    elif w.name == "medium":
        borrowers_only(report, w, per_agent)
        profile = profile_in_child(profiled_shape(w))
        budgets.append(kernel_goal(report, w, profile))
        memory_growth(report, w)
    elif w.name == "large":
        budgets.append(large_vs_before(report, w, engine))
        workers(report, w, engine)
    explain_missed(report, w, budgets, profile)


# ------------------------------------------------------------------ entry point


def quicken(w: Workload) -> Workload:
    """A smoke-test version of a workload: a tenth of the paths (at most 1,024; whole seed blocks), one year."""
    paths = max(SEED_BLOCK, min(w.paths // 10, 1024) // SEED_BLOCK * SEED_BLOCK)
    return replace(w, paths=paths, years=1)


VALUE_FLAGS = ("--paths", "--commit")
"""Flags followed by a value: ``--paths N`` (every named workload at N paths, labelled ``name[paths=N]``),
``--commit REV`` (with ``--reference``: measure that commit's engine)."""


def selection(argv: list[str]) -> tuple[list[str], bool]:
    """(workload names, quick) from argv, else from the BENCH and BENCH_QUICK environment variables."""
    quick = "--quick" in argv or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    values = {i + 1 for i, a in enumerate(argv) if a in VALUE_FLAGS}
    names = [a for i, a in enumerate(argv) if not a.startswith("--") and i not in values]
    if not names:
        names = [n for n in os.environ.get("BENCH", "").replace(",", " ").split() if n] or list(DEFAULT_WORKLOADS)
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        raise SystemExit(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    return [n for n in WORKLOADS if n in names], quick


def commit() -> str:
    """The short git commit of the working tree, or "unknown"."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine() -> str:
    """Platform, CPU model and CPU count."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        model = names[0] if names else model
    return f"{platform.platform()}; {model}; {os.cpu_count()} cpus; python {platform.python_version()}"


def append_history(report: Report) -> None:
    """Append this run's metrics to benchmarks/history.csv (header written on first use)."""
    new = not HISTORY.exists()
    stamp, rev, host = dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), commit(), machine()
    with HISTORY.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(HISTORY_COLUMNS)
        for workload, name, value in report.rows:
            writer.writerow(
                (stamp, rev, host, workload, name, f"{value:.6g}" if math.isfinite(value) else value)
            )


def print_goals(report: Report) -> None:
    """The verdicts of every goal checked in this run."""
    passed = sum(ok for _, _, ok in report.goals)
    print(f"\n== goals: {passed} of {len(report.goals)} passed")
    for label, detail, ok in report.goals:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}: {detail}")


REFERENCE_SCRIPT = """
import sys, time
from usdai_sim.engine import simulate
from usdai_sim.scenario.library import load_scenario
s = load_scenario("baseline")[0]
s = s.model_copy(update={"simulation": s.simulation.model_copy(update={"horizon_days": int(sys.argv[2])})})
started = time.perf_counter()
simulate(s, paths=int(sys.argv[1]), workers=int(sys.argv[3]), quiet=True)
print(time.perf_counter() - started)
"""
"""A cold run of the shipped baseline with the engine API every commit since the first wave shares (timed like
``benchmarks.measure``: one fresh process, no warm-up)."""


def wall_at_commit(rev: str, w: Workload) -> float:
    """Wall seconds of the workload's baseline run with the engine of commit ``rev`` (a temporary git worktree
    run with this environment's packages)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="usdai-ref-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-f", str(tree), rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            done = subprocess.run(
                [sys.executable, "-c", REFERENCE_SCRIPT, str(w.paths), str(w.steps), str(w.workers)],
                cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True, stdout=subprocess.PIPE, text=True,
            )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    return float(done.stdout.strip().splitlines()[-1])


def record_reference(report: Report, quick: bool, rev: str | None = None, paths: int | None = None) -> None:
    """Measure 10,000 baseline paths on 2 workers (1,000 when quick, ``paths`` when given, then scaled to 10,000
    linearly and labelled) as the huge workload's reference, with this checkout's engine or commit ``rev``'s."""
    n = paths or (1_000 if quick else 10_000)
    w = replace(WORKLOADS["huge"], name="huge", paths=n)
    where = f"commit {rev}" if rev else "this checkout"
    print(f"\n== reference for huge ({where}): {describe(w)}", flush=True)
    if rev:
        wall = wall_at_commit(rev, w)
        print(f"  engine at {rev:<38} wall {wall:8.1f} s", flush=True)
    else:
        engine = run_engine(w)
        show_engine(report, w, "engine, full model (reference)", engine)
        wall = engine["wall_s"]
    scaled = wall * 10_000 / n
    if n != 10_000:
        print(f"  reference for 10,000 paths: {scaled:.0f} s, scaled linearly from {n:,} paths", flush=True)
    report.metric("huge", HUGE_REFERENCE_METRIC, scaled)
    report.metric("huge", "reference_measured_paths", n)


def option(args: list[str], flag: str) -> str | None:
    """The value after ``flag`` in args, if the flag is there."""
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads; print results and goals; append history unless quick."""
    args = sys.argv[1:] if argv is None else argv
    names, quick = selection(args)
    report = Report(quick)
    print(f"usdai-sim benchmarks{' (quick smoke test)' if quick else ''} on {machine()}", flush=True)
    cache: dict[tuple[int, int], dict[str, float]] = {}
    paths = option(args, "--paths")
    if "--reference" in args:
        record_reference(report, quick, option(args, "--commit"), int(paths) if paths else None)
        names = []
    for name in names:
        w = quicken(WORKLOADS[name]) if quick else WORKLOADS[name]
        w = w.scaled(paths=int(paths)) if paths else w
        bench_workload(report, w, cache, 4 if quick else PER_AGENT_PATHS)
    print_goals(report)
    if not quick:
        append_history(report)
        print(f"\nappended {len(report.rows)} rows to {HISTORY.relative_to(ROOT)}")
    return 1 if "--strict" in args and not all(ok for _, _, ok in report.goals) else 0


if __name__ == "__main__":
    raise SystemExit(main())
