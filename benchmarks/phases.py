"""Where a step's time goes, phase by phase, and what a missed speed goal would need (issue #18).

``python -m benchmarks.phases [workload] [--paths N] [--years Y]`` times every phase of ``model.PHASES``
(each ``Phase.apply`` wrapped in a timer) inside one engine run of the workload's shape on one worker in
this process, and prints nanoseconds per borrower-path-step (bps) per phase. ``make bench`` calls it in a
child process (``profile_in_child``) for every workload with a missed speed goal and prints, for each such
goal (``explain``):

* the goal as a **budget** in ns per bps on one core (e.g. ≤ 3× the RNG floor ⇒ 3 × the floor's ns/bps);
* the measured phase table against that budget;
* two **projections** from measured numbers, to say what would close the gap:
  1. the borrower phase (``loans``: operations, accrual, walk decisions, payments, covenants and default routes)
     at the fused reference kernel's ns/bps
     (``benchmarks/reference_kernel.py``, timed on the same shape);
  2. every per-loan phase (that plus markets, originate, sales) at the reference kernel's ns/bps plus
     the RNG floor's (the normals must still be drawn);
  and what is left over in the depositor and book-keeping phases, which neither projection touches.

A projection still above the budget says the goal cannot be met by fusing the named phases alone.

It also estimates each phase's **fixed cost per step of a work block** — interpreter and numpy-call overhead,
paid once per step of every block whatever its size — from a second run of one seed block (32 paths):
with a phase's time t = steps·(blocks·F + paths·borrowers·c), two runs of different paths and block counts give
F = ((P/32)·t₃₂ − t_P) / (steps·(P/32 − k)) for the profile's P paths in k blocks. A compiled per-path step
would not pay F; per borrower-path-step it is F / (block paths × borrowers), so it weighs most on small blocks
and few borrowers.
The profile runs on fewer paths and years than the workload (one block, labelled): the cost per bps
is flat in paths and steps (scaling exponents ≤ 1.1, measured by ``make bench``'s small section).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from benchmarks.workloads import WORKLOADS, Workload, build_scenario
from usdai_sim.rng import SEED_BLOCK

ROOT = Path(__file__).resolve().parent.parent
BORROWER_PHASES = ("loans",)
"""The phase the fused reference kernel stands for (its loop: cash flow, accrual, payment, default)."""
PER_LOAN_PHASES = ("markets", "loans", "sales", "originate")
"""Phases whose work is per loan (P × B): what a fused per-path borrower kernel would take over."""
PROFILE_PATHS = 512
PROFILE_YEARS = 1


@dataclass(frozen=True)
class PhaseProfile:
    """Seconds per phase in one run of ``workload`` (1 worker), its wall time, the reference kernel's
    seconds on the same paths × borrowers × steps and the RNG floor's seconds for the same run."""

    workload: Workload
    wall_s: float
    phase_s: dict[str, float]
    reference_s: float
    floor_s: float
    blocks: int = 1
    seed_block_phase_s: dict[str, float] = field(default_factory=dict)
    """Seconds per phase of the same shape on one seed block (``SEED_BLOCK`` paths, one work block)."""
    loan_pass_s: float = 0.0
    """Seconds inside the fused loan pass (``borrower_kernel.loan_step_kernel``) of the ``loans`` phase."""

    @property
    def units(self) -> int:
        """Borrower-path-steps of the profiled run."""
        return self.workload.borrower_path_steps

    def ns(self, seconds: float) -> float:
        """Seconds of this run as nanoseconds per borrower-path-step."""
        return seconds / self.units * 1e9

    def total_ns(self) -> float:
        """The whole run (phases, set-up and merge) per borrower-path-step."""
        return self.ns(self.wall_s)

    def phases_ns(self, names: tuple[str, ...]) -> float:
        """Sum of the named phases per borrower-path-step."""
        return self.ns(sum(self.phase_s.get(n, 0.0) for n in names))

    def projection_ns(self, fused: tuple[str, ...], replacement_ns: float) -> float:
        """The total if the ``fused`` phases together cost ``replacement_ns`` per bps instead."""
        return self.total_ns() - self.phases_ns(fused) + replacement_ns

    def projections(self) -> list[tuple[str, float]]:
        """(what is assumed, projected ns/bps) for the two projections of the module docstring."""
        ref, floor = self.ns(self.reference_s), self.ns(self.floor_s)
        return [
            (f"{', '.join(BORROWER_PHASES)} at the reference kernel's {ref:.1f} ns",
             self.projection_ns(BORROWER_PHASES, ref)),
            (f"all per-loan phases ({', '.join(PER_LOAN_PHASES)}) at the reference kernel's {ref:.1f} ns "
             f"+ the RNG floor's {floor:.1f} ns", self.projection_ns(PER_LOAN_PHASES, ref + floor)),
        ]

    def fixed_per_block_step_s(self) -> dict[str, float]:
        """Each phase's fixed cost per step of a work block (s), from this run and the one-seed-block run (module
        docstring); empty when there is no such run or the two cannot be told apart (equal paths per block)."""
        ratio = self.workload.paths / SEED_BLOCK
        if not self.seed_block_phase_s or ratio <= self.blocks:
            return {}
        steps = self.workload.steps
        return {name: (ratio * self.seed_block_phase_s.get(name, 0.0) - seconds) / (steps * (ratio - self.blocks))
                for name, seconds in self.phase_s.items()}

    def fixed_ns(self) -> float:
        """The phases' fixed costs per borrower-path-step of this run: blocks × steps × ΣF over its bps."""
        fixed = sum(max(f, 0.0) for f in self.fixed_per_block_step_s().values())
        return self.ns(fixed * self.blocks * self.workload.steps)

    def rest_ns(self) -> float:
        """What no per-loan fusion touches: depositor and book-keeping phases, set-up and merge."""
        return self.total_ns() - self.phases_ns(PER_LOAN_PHASES)


def timed_phases(workload: Workload) -> tuple[float, dict[str, float], float]:
    """(wall seconds, seconds per phase, seconds inside the fused loan pass) of one run of the workload on 1 worker
    in this process."""
    import usdai_sim.agents.borrower_kernel as bk
    import usdai_sim.model as model
    from usdai_sim.engine import simulate

    spent: dict[str, float] = defaultdict(float)
    loan_pass = bk.loan_step_kernel

    in_pass = [0.0]  # seconds inside the loan pass

    def timed_pass(*args: object) -> None:
        start = time.perf_counter()
        loan_pass(*args)
        in_pass[0] += time.perf_counter() - start

    def timed(phase: model.Phase) -> model.Phase:
        def apply(m: model.UsdaiModel, run: Callable[[model.UsdaiModel], None] = phase.apply) -> None:
            start = time.perf_counter()
            run(m)
            spent[phase.name] += time.perf_counter() - start

        return model.Phase(phase.name, phase.description, apply)

    scenario = build_scenario(workload)
    original = model.PHASES
    model.PHASES = tuple(timed(p) for p in original)
    bk.loan_step_kernel = timed_pass
    try:
        simulate(scenario.model_copy(update={"simulation": scenario.simulation.model_copy(
            update={"paths": 64, "horizon_days": 3})}), workers=1, quiet=True)  # kernels compiled or loaded
        spent.clear()
        in_pass[0] = 0.0
        started = time.perf_counter()
        simulate(scenario, workers=1, quiet=True)
        wall = time.perf_counter() - started
    finally:
        model.PHASES, bk.loan_step_kernel = original, loan_pass
    return wall, dict(spent), in_pass[0]


def profile(workload: Workload) -> PhaseProfile:
    """Phase times, the reference kernel and the RNG floor on the workload's shape (1 worker)."""
    from benchmarks.floor import count_draws, floor_seconds
    from benchmarks.reference_kernel import run_reference
    from usdai_sim.engine import plan_blocks

    scenario = build_scenario(workload)
    wall, spent, loan_pass_s = timed_phases(workload)
    _, seed_block, _ = timed_phases(replace(workload, paths=SEED_BLOCK))
    blocks = len(plan_blocks(workload.paths, scenario, 1, None))
    reference_s, _, _ = run_reference(workload.paths, workload.borrowers, workload.steps)
    floor_s, _ = floor_seconds(count_draws(scenario))
    return PhaseProfile(workload, wall, spent, reference_s, floor_s, blocks, seed_block, loan_pass_s)


def profiled_shape(workload: Workload, paths: int = PROFILE_PATHS, years: int = PROFILE_YEARS) -> Workload:
    """The workload with at most ``paths`` paths and ``years`` years, on 1 worker."""
    return workload.scaled(paths=min(workload.paths, paths), years=min(workload.years, years), workers=1)


def profile_in_child(workload: Workload) -> PhaseProfile:
    """``profile`` in a fresh process (its memory must not count towards the parent's peak RSS)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.phases", "--json", json.dumps(asdict(workload))],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return PhaseProfile(Workload(**data.pop("workload")), **data)


def table(p: PhaseProfile) -> list[str]:
    """The phase table: ns per borrower-path-step and share of the wall time, largest first."""
    w = p.workload
    lines = [f"phase profile: {w.paths} paths × {w.borrowers} borrowers × {w.steps} steps, 1 worker "
             f"(wall {p.wall_s:.1f} s = {p.total_ns():.0f} ns per borrower-path-step)"]
    for name, seconds in sorted(p.phase_s.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {name:<11} {p.ns(seconds):7.1f} ns  {seconds / p.wall_s:6.1%}")
    other = p.wall_s - sum(p.phase_s.values())
    lines.append(f"  {'(set-up, merge)':<11} {p.ns(other):7.1f} ns  {other / p.wall_s:6.1%}")
    if p.loan_pass_s:
        lines.append(f"of loans, the compiled loan pass takes {p.ns(p.loan_pass_s):.1f} ns (the reference kernel's "
                     f"loop {p.ns(p.reference_s):.1f} ns); its random draws and book-keeping the other "
                     f"{p.phases_ns(BORROWER_PHASES) - p.ns(p.loan_pass_s):.1f} ns")
    fixed = {k: v for k, v in p.fixed_per_block_step_s().items() if v > 0}
    if fixed:
        parts = ", ".join(f"{k} {v * 1e3:.2f}" for k, v in sorted(fixed.items(), key=lambda kv: -kv[1])[:5])
        lines.append(f"fixed cost per step of a work block: {sum(fixed.values()) * 1e3:.2f} ms ({parts} ms, …); in "
                     f"{p.blocks} block(s) of ~{w.paths // p.blocks} paths that is {p.fixed_ns():.1f} ns per "
                     f"borrower-path-step ({p.fixed_ns() / p.total_ns():.0%}), which a compiled per-path step would "
                     "not pay")
    return lines


def explain(goal: str, budget_ns: float, p: PhaseProfile, full_ns: float | None = None) -> list[str]:
    """Why a speed goal is missed and what would close it, as printable lines (see the module docstring).

    ``full_ns``: the judged run's own ns per borrower-path-step on one core (wall × workers / bps), when the
    goal was judged on a run larger than the profile; the profile's numbers are then scaled by
    full_ns / profiled ns (the phases are assumed to keep their shares), and the scale is printed.
    """
    scale = 1.0 if full_ns is None else full_ns / p.total_ns()
    measured = p.total_ns() * scale
    where = "" if full_ns is None else f" (profile scaled ×{scale:.2f} to the judged run)"
    lines = [f"why '{goal}' is missed: budget {budget_ns:.1f} ns per borrower-path-step on one core, "
             f"measured {measured:.1f} ns ({measured / budget_ns:.1f}× over){where}"]
    for assumption, projected in p.projections():
        projected *= scale
        verdict = "would meet it" if projected <= budget_ns else f"still {projected / budget_ns:.1f}× over"
        lines.append(f"  if {assumption}: {projected:.1f} ns → {verdict}")
    if p.loan_pass_s:
        ratio = p.loan_pass_s / p.reference_s
        lines.append(f"  the loans phase is already one compiled pass over the loans; that pass alone takes "
                     f"{p.ns(p.loan_pass_s) * scale:.1f} ns, {ratio:.1f}× the reference kernel's loop: the gap is the "
                     "per-loan work of the model's rules (state read and written, arithmetic), which the projections "
                     "at the reference kernel's speed assume away; closing it takes fewer bytes and operations per "
                     "live loan, not fewer passes")
    if p.fixed_ns() > 0:
        lines.append(f"  of the measured, {p.fixed_ns() * scale:.1f} ns is the phases' fixed cost per block-step "
                     "(interpreter and numpy calls), which a compiled per-path step would not pay")
    rest = p.rest_ns() * scale
    if rest > budget_ns:
        lines.append(f"  the depositor and book-keeping phases alone take {rest:.1f} ns (> budget): they too must "
                     "become compiled loops over live holders and requests, not numpy passes over every column")
    return lines


def print_lines(lines: list[str], indent: str = "      ") -> None:
    """Print lines under a goal."""
    for line in lines:
        print(f"{indent}{line}", flush=True)


def main(argv: list[str]) -> None:
    """Print the phase profile of a workload (default small), or its JSON for ``profile_in_child``."""
    if argv[:1] == ["--json"]:
        result = profile(Workload(**json.loads(argv[1])))
        print(json.dumps({**asdict(result), "workload": asdict(result.workload)}), flush=True)
        return
    name = next((a for a in argv if not a.startswith("--") and not a.isdigit()), "small")
    if name not in WORKLOADS:
        raise SystemExit(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    paths = int(argv[argv.index("--paths") + 1]) if "--paths" in argv else PROFILE_PATHS
    years = int(argv[argv.index("--years") + 1]) if "--years" in argv else PROFILE_YEARS
    p = profile(profiled_shape(WORKLOADS[name], paths, years))
    print_lines(table(p), "")
    for assumption, projected in p.projections():
        print(f"projection: {assumption}: {projected:.1f} ns per borrower-path-step")
    print(f"depositor and book-keeping phases, set-up and merge: {p.rest_ns():.1f} ns per borrower-path-step")


if __name__ == "__main__":
    main(sys.argv[1:])
