"""``make bench``: measure the workloads, compare with the per-agent baseline and the random-number floor.

Usage: ``python -m benchmarks.run [small] [medium] [large] [--quick]`` (or ``BENCH=small,medium``);
no name runs all three. Each engine run happens in a fresh child process (``benchmarks.measure``) so
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.floor import count_draws, floor_seconds
from benchmarks.per_agent_mesa import run_paths
from benchmarks.workloads import WORKLOADS, Workload, build_scenario
from usdai_sim.rng import SEED_BLOCK

ROOT = Path(__file__).resolve().parent.parent
HISTORY = Path(__file__).resolve().parent / "history.csv"
HISTORY_COLUMNS = ("date", "commit", "machine", "workload", "metric", "value")
PER_AGENT_PATHS = 20
MEMORY_LIMIT_MB = 2048.0
GROWTH_TOLERANCE = 1.10
GROWTH_PATHS = 128
SCALING_REPEATS = 2
GOALS = {"per_agent_ratio": 50.0, "floor_ratio": 3.0, "scaling_exponent": 1.1, "speedup": 1.7}


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


def run_floor(workload: Workload) -> dict[str, Any]:
    """Count the workload's draws and time drawing them with default_rng (a sample of steps, scaled)."""
    profile = count_draws(build_scenario(workload))
    seconds, timed = floor_seconds(profile)
    return {"floor_s": seconds, "timed_steps": timed, "draws": profile.per_kind(), "total": profile.total()}


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
        f"  {'random-number floor (PCG64 default_rng)':<48} {r['floor_s']:8.1f} s  for "
        f"{r['total'] / 1e9:.3f} G numbers ({r['timed_steps']} of {w.steps} steps timed, extrapolated)"
        f"\n      draws: {kinds}",
        flush=True,
    )
    report.metric(w.name, "floor_s", r["floor_s"])
    report.metric(w.name, "floor_numbers", r["total"])


# ------------------------------------------------------------------ sections


def ratios(
    report: Report,
    w: Workload,
    engine: dict[str, Any],
    per_agent: dict[str, float],
    floor: dict[str, Any],
    judged: bool,
) -> None:
    """Engine vs per-agent throughput and engine wall vs floor; goals judged on the medium workload."""
    vs_agent = engine["bps_per_s"] / per_agent["bps_per_s"]
    vs_floor = engine["wall_s"] / floor["floor_s"]
    report.metric(w.name, "ratio_vs_per_agent", vs_agent)
    report.metric(w.name, "ratio_wall_vs_floor", vs_floor)
    agent_text = (
        f"engine full model (borrowers + depositors + vault; the baseline has borrowers only) "
        f"{vs_agent:.1f}× the per-agent baseline's throughput (goal ≥ {GOALS['per_agent_ratio']:.0f}×)"
    )
    floor_text = f"engine wall {vs_floor:.2f}× the random-number floor (goal ≤ {GOALS['floor_ratio']:.0f}×)"
    if judged:
        report.goal(f"{w.name} vs per-agent", agent_text, vs_agent >= GOALS["per_agent_ratio"])
        report.goal(f"{w.name} vs floor", floor_text, vs_floor <= GOALS["floor_ratio"])
    else:
        print(f"  info  {agent_text}\n  info  {floor_text}", flush=True)


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


def borrowers_only(report: Report, w: Workload, per_agent: dict[str, float]) -> None:
    """The engine with one inert depositor: its borrower side against the per-agent baseline (info)."""
    lone = run_engine(w, one_depositor=True)
    show_engine(report, w, "engine, borrowers only (1 inert depositor)", lone, "engine_borrowers_only")
    ratio = lone["bps_per_s"] / per_agent["bps_per_s"]
    report.metric(w.name, "ratio_borrowers_only_vs_per_agent", ratio)
    print(
        f"  info  engine with 1 inert depositor {ratio:.1f}× the per-agent baseline's throughput", flush=True
    )


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
    key = (w.borrowers, w.years)
    if key not in per_agent_cache:
        per_agent_cache[key] = run_per_agent(w, per_agent_paths)
    per_agent = per_agent_cache[key]
    show_per_agent(report, w, per_agent)
    floor = run_floor(w)
    show_floor(report, w, floor)
    ratios(report, w, engine, per_agent, floor, judged=w.name == "medium")
    if w.name == "small":
        scaling(report, w, engine)
    elif w.name == "medium":
        borrowers_only(report, w, per_agent)
        memory_growth(report, w)
    elif w.name == "large":
        workers(report, w, engine)


# ------------------------------------------------------------------ entry point


def quicken(w: Workload) -> Workload:
    """A smoke-test version of a workload: a tenth of the paths (whole seed blocks), one year."""
    return Workload(
        w.name,
        max(SEED_BLOCK, w.paths // 10 // SEED_BLOCK * SEED_BLOCK),
        w.borrowers,
        w.depositors,
        1,
        w.workers,
    )


def selection(argv: list[str]) -> tuple[list[str], bool]:
    """(workload names, quick) from argv, else from the BENCH and BENCH_QUICK environment variables."""
    quick = "--quick" in argv or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    names = [a for a in argv if not a.startswith("--")]
    if not names:
        names = [n for n in os.environ.get("BENCH", "").replace(",", " ").split() if n] or list(WORKLOADS)
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


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads; print results and goals; append history unless quick."""
    args = sys.argv[1:] if argv is None else argv
    names, quick = selection(args)
    report = Report(quick)
    print(f"usdai-sim benchmarks{' (quick smoke test)' if quick else ''} on {machine()}", flush=True)
    cache: dict[tuple[int, int], dict[str, float]] = {}
    for name in names:
        w = quicken(WORKLOADS[name]) if quick else WORKLOADS[name]
        bench_workload(report, w, cache, 4 if quick else PER_AGENT_PATHS)
    print_goals(report)
    if not quick:
        append_history(report)
        print(f"\nappended {len(report.rows)} rows to {HISTORY.relative_to(ROOT)}")
    return 1 if "--strict" in args and not all(ok for _, _, ok in report.goals) else 0


if __name__ == "__main__":
    raise SystemExit(main())
