"""The benchmark's goal arithmetic (issue #18): budgets, projections and the huge goal, on hand numbers."""

from __future__ import annotations

from dataclasses import replace

import pytest

import benchmarks.run as run
from benchmarks.phases import PhaseProfile, explain
from benchmarks.workloads import Workload

SHAPE = Workload("shape", paths=10, borrowers=10, depositors=5, years=1)  # 10 × 10 × 365 = 36,500 bps


def profile() -> PhaseProfile:
    """1 ms of wall per 36,500 bps; phases: markets 0.3, loans 0.5, depositors 0.1 (ms); reference 0.05 ms;
    floor 0.05 ms."""
    ms = 1e-3
    phases = {"markets": 0.3 * ms, "loans": 0.5 * ms, "depositors": 0.1 * ms}
    return PhaseProfile(SHAPE, 1.0 * ms, phases, 0.05 * ms, 0.05 * ms)


def test_profile_ns_and_projections_by_hand() -> None:
    p = profile()
    per = 1e-3 / 36_500 * 1e9  # ns per bps of 1 ms
    assert p.total_ns() == pytest.approx(per)
    assert p.phases_ns(("markets", "loans")) == pytest.approx(0.8 * per)
    (_, borrower), (_, per_loan) = p.projections()
    assert borrower == pytest.approx((1.0 - 0.5 + 0.05) * per)  # loans → reference
    assert per_loan == pytest.approx((1.0 - 0.8 + 0.05 + 0.05) * per)  # + markets, at reference + floor
    assert p.rest_ns() == pytest.approx(0.2 * per)  # depositors 0.1 + set-up 0.1


def test_explain_says_which_projection_meets_the_budget() -> None:
    p, per = profile(), 1e-3 / 36_500 * 1e9
    lines = explain("g", 0.4 * per, p)
    assert "2.5× over" in lines[0]
    assert "still 1.4× over" in lines[1] and "would meet it" in lines[2]
    assert not any("alone take" in line for line in lines)
    assert any("alone take" in line for line in explain("g", 0.1 * per, p))


def test_huge_goal_allows_the_old_time_of_a_tenth_of_the_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """100,000 paths may take what 10,000 took before; at 2,000 paths, what 200 took (a fifth of 10,000's time
    / 10), not ten times that."""
    monkeypatch.setattr(run, "reference_10k_s", lambda: 500.0)
    w = run.WORKLOADS["huge"].scaled(paths=2_000)
    report = run.Report(quick=True)
    (budget,) = run.huge_goal(report, w, {"wall_s": 99.0})
    assert not budget.passed and "goal ≤ 10 s" in report.goals[0][1]
    (budget,) = run.huge_goal(report, w, {"wall_s": 9.9})
    assert budget.passed
    assert budget.ns_per_bps == pytest.approx(10.0 * 2 / w.borrower_path_steps * 1e9)


def test_flag_values_are_not_workload_names() -> None:
    assert run.selection(["huge", "--paths", "2000"]) == (["huge"], False)
    assert run.selection(["--reference", "--commit", "abc123", "--paths", "1000"])[0] == list(run.DEFAULT_WORKLOADS)
    with pytest.raises(SystemExit):
        run.selection(["nonsense"])


def test_explain_scales_the_profile_to_the_judged_run() -> None:
    """A judged run at 2 × the profile's ns per bps doubles the measured figure and every projection."""
    p, per = profile(), 1e-3 / 36_500 * 1e9
    lines = explain("g", 1.0 * per, p, full_ns=2.0 * per)
    assert "2.0× over" in lines[0] and "scaled ×2.00" in lines[0]
    assert "still 1.1× over" in lines[1]  # (1.0 − 0.5 + 0.05) × 2 = 1.1
    assert "would meet it" in lines[2]  # (1.0 − 0.8 + 0.1) × 2 = 0.6


def test_the_loan_pass_is_set_against_the_reference_kernel() -> None:
    """Loans 0.5 ms of which the compiled pass 0.2 ms, reference 0.05 ms: the table splits the phase (0.2 vs 0.3 ms
    of draws and book-keeping) and the explanation says the pass alone is 4.0× the reference's loop."""
    per = 1e-3 / 36_500 * 1e9
    p = replace(profile(), loan_pass_s=0.2e-3)
    assert any(f"compiled loan pass takes {0.2 * per:.1f} ns" in line and f"other {0.3 * per:.1f} ns" in line
               for line in run.table(p))
    assert any("4.0× the reference kernel's loop" in line for line in explain("g", 0.1 * per, p))
    assert not any("compiled loan pass" in line for line in run.table(profile()))


def test_fixed_cost_per_block_step_from_two_block_sizes_by_hand() -> None:
    """A phase costing F = 1 ms per block-step plus 100 ns per bps: 64 paths × 10 borrowers in one block take
    365·(1 ms + 64·10·100 ns) = 0.38836 s, one seed block of 32 paths 365·(1 ms + 32·10·100 ns) = 0.37668 s;
    F = (2·0.37668 − 0.38836) / (365·(2 − 1)) = 1 ms, i.e. 0.365 s over 64·10·365 bps = 1,562.5 ns per bps.
    A phase with no fixed cost (200 ns per bps only) gets F = 0."""
    shape = Workload("shape64", paths=64, borrowers=10, depositors=5, years=1)
    big = {"depositors": 365 * (1e-3 + 64 * 10 * 100e-9), "loans": 365 * 64 * 10 * 200e-9}
    small = {"depositors": 365 * (1e-3 + 32 * 10 * 100e-9), "loans": 365 * 32 * 10 * 200e-9}
    p = PhaseProfile(shape, 1.0, big, 0.1, 0.1, blocks=1, seed_block_phase_s=small)
    fixed = p.fixed_per_block_step_s()
    assert fixed["depositors"] == pytest.approx(1e-3)
    assert fixed["loans"] == pytest.approx(0.0, abs=1e-12)
    assert p.fixed_ns() == pytest.approx(1562.5)
    assert any("1562.5 ns is the phases' fixed cost" in line for line in explain("g", 10.0, p))
    assert any("fixed cost per step of a work block: 1.00 ms (depositors 1.00" in line for line in run.table(p))


def test_no_fixed_cost_estimate_without_a_second_block_size() -> None:
    """Without the seed-block run, or when the profile's blocks are themselves one seed block, nothing is claimed."""
    assert profile().fixed_per_block_step_s() == {} and profile().fixed_ns() == 0.0
    shape = Workload("shape32", paths=32, borrowers=10, depositors=5, years=1)
    one = PhaseProfile(shape, 1.0, {"markets": 0.5}, 0.1, 0.1, blocks=1, seed_block_phase_s={"markets": 0.5})
    assert one.fixed_per_block_step_s() == {}
    assert not any("fixed cost" in line for line in explain("g", 1.0, one))
