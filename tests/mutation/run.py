"""`make mutation`: mutmut 3 on the protocol, the ledger and the agent rule modules, one group at a time.

Each group mutates its modules and runs only the fast unit tests that exercise them (mutation testing is
CPU-heavy). mutmut skips decorated functions, so the scratch copy drops the compiler decorators (``@kernel``,
``@element``: the identity with numba off, as mutants run) and the compiled rules are mutated too. A group runs in
a scratch copy of the repository under ``build/mutation/GROUP`` (mutmut writes ``mutants/`` beside its
configuration); the scores and every surviving mutant are written to ``tests/mutation/RESULTS.md``, where each
survivor is either killed by a new test or marked equivalent in ``tests/mutation/equivalent.txt`` (one
``mutant-name reason`` per line).

Usage: python tests/mutation/run.py [GROUP ...]   (default: every group; `report` only rewrites RESULTS.md
from the groups already run; MUTMUT_CHILDREN=2 parallel mutants). ``GROUP=PATTERN[,PATTERN]`` re-runs only
the mutants matching the mutmut name patterns in the group's existing scratch copy, after copying the current
sources in (e.g. ``agents=usdai_sim.agents.borrowers.x_roll_contracts__mutmut_*`` after that function changed).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "mutation"
RESULTS = ROOT / "tests" / "mutation" / "RESULTS.md"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.txt"
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "ledger": (["usdai_sim/ledger.py"], ["tests/unit/test_ledger.py"]),
    "protocol": (
        ["usdai_sim/protocol/vault.py", "usdai_sim/protocol/loans.py", "usdai_sim/protocol/liquidation.py"],
        [
            "tests/unit/test_vault.py",
            "tests/unit/test_loans.py",
            "tests/unit/test_liquidation.py",
            "tests/unit/test_queue.py",
            "tests/unit/test_ledger.py",
            "tests/unit/test_price_roundoff.py",
            "tests/unit/test_protocol_edges.py",
            "tests/unit/test_loss_policies.py",
        ],
    ),
    "loss_recognition": (
        ["usdai_sim/protocol/loss_recognition.py"],
        [
            "tests/unit/test_loss_policies.py",
            "tests/unit/test_ledger.py",
            "tests/unit/test_protocol_edges.py",
            "tests/unit/test_recovery_split.py",
            "tests/unit/test_liquidation.py",
            "tests/unit/test_agent_rules_pinned.py",
        ],
    ),
    "rng": (
        ["usdai_sim/rng.py"],
        [
            "tests/unit/test_rng_streams.py",
            "tests/unit/test_thinning_and_floors.py",
            "tests/unit/test_borrower_population.py",
            "tests/unit/test_market_rates.py",
        ],
    ),
    "borrower_kernel": (
        ["usdai_sim/agents/borrower_kernel.py"],
        [
            "tests/unit/test_borrowers.py",
            "tests/unit/test_loan_rule_edges.py",
            "tests/unit/test_operator_rules.py",
            "tests/unit/test_agent_rules_pinned.py",
            "tests/unit/test_loan_years.py",
            "tests/unit/test_recovery_split.py",
            "tests/unit/test_model_lifecycle.py",
        ],
    ),
    "agents": (
        ["usdai_sim/agents/borrowers.py", "usdai_sim/agents/default_option.py", "usdai_sim/agents/depositors.py"],
        [
            "tests/unit/test_borrowers.py",
            "tests/unit/test_loan_rule_edges.py",
            "tests/unit/test_default_option.py",
            "tests/unit/test_model_lifecycle.py",
            "tests/unit/test_queue.py",
            "tests/unit/test_operator_rules.py",
            "tests/unit/test_loan_years.py",
            "tests/unit/test_depositor_signals.py",
            "tests/unit/test_calibration_depositors.py",
            "tests/unit/test_recovery_split.py",
            "tests/unit/test_agent_rules_pinned.py",
        ],
    ),
}
STATUS = re.compile(r"^\s*(\S+__mutmut_\d+):\s*(\w[\w ]*)$")


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def prepare(group: str) -> Path:
    """A scratch copy of the package, tests and pyproject with this group's [tool.mutmut] section."""
    modules, tests = GROUPS[group]
    work = BUILD / group
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / "usdai_sim", work / "usdai_sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__", "mutation"))
    # some tests import the benchmarks' floors: copy them too (and tell mutmut, which runs from its own copy)
    shutil.copytree(ROOT / "benchmarks", work / "benchmarks", ignore=shutil.ignore_patterns("__pycache__"))
    config = (
        "\n[tool.mutmut]\n"
        f'source_paths = ["usdai_sim"]\n'
        'also_copy = ["benchmarks"]\n'
        f"only_mutate = {_toml_list(modules)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-q", "-W", "ignore"]\n'
    )
    (work / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + config)
    for module in modules:
        undecorate(work / module)
    return work


COMPILER = re.compile(r"^@(?:kernel|element)\n(?=def )", re.MULTILINE)
"""A top-level ``@kernel`` or ``@element`` line (``usdai_sim.jit``) right above a ``def``."""


def undecorate(path: Path) -> None:
    """Drop the compiler decorators of a module's functions in the scratch copy: mutmut does not mutate decorated
    functions, and with numba off (as mutants run) ``kernel(f)`` and ``element(f)`` are ``f`` itself, so the
    compiled rules become mutable without changing what runs."""
    path.write_text(COMPILER.sub("", path.read_text()))


MUTMUT = str(Path(sys.executable).with_name("mutmut"))
ENV = {**os.environ, "HYPOTHESIS_PROFILE": "dev", "NUMBA_DISABLE_JIT": "1"}  # numba cannot compile mutmut's trampolines


def run(group: str, patterns: list[str]) -> None:
    """Run mutmut for one group in a fresh scratch copy, or only ``patterns`` in the existing copy."""
    if patterns and (BUILD / group / "mutants").is_dir():
        work = BUILD / group
        for tree, skip in (("usdai_sim", ("__pycache__",)), ("tests", ("__pycache__", "mutation"))):
            shutil.copytree(ROOT / tree, work / tree, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*skip))
    else:
        work = prepare(group)
    children = os.environ.get("MUTMUT_CHILDREN", "2")
    subprocess.run([MUTMUT, "run", "--max-children", children, *patterns], cwd=work, env=ENV, check=False)


def collect(group: str) -> dict[str, str]:
    """Mutant name -> status of a group already run."""
    listing = subprocess.run(
        [MUTMUT, "results", "--all", "true"], cwd=BUILD / group, env=ENV, capture_output=True, text=True, check=False
    )
    return {m.group(1): m.group(2).strip() for m in map(STATUS.match, listing.stdout.splitlines()) if m}


def equivalents() -> dict[str, str]:
    """Mutants marked equivalent, with their one-line reasons."""
    if not EQUIVALENT.exists():
        return {}
    rows = [line.split(None, 1) for line in EQUIVALENT.read_text().splitlines() if line.strip() and line[0] != "#"]
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


def module_of(mutant: str) -> str:
    """The dotted module of a mutant name (``pkg.mod.x_func__mutmut_3`` or ``pkg.mod.xǁClassǁmethod__mutmut_3``)."""
    return mutant.rsplit(".", 1)[0]


def score_row(label: str, statuses: dict[str, str], marked: dict[str, str]) -> str:
    """One table row: mutants, killed, equivalent, survived, killed / non-equivalent."""
    killed = sum(s in ("killed", "timeout") for s in statuses.values())
    equivalent = sum(s not in ("killed", "timeout") and n in marked for n, s in statuses.items())
    left = len(statuses) - killed - equivalent
    score = killed / max(len(statuses) - equivalent, 1)
    return f"| {label} | {len(statuses)} | {killed} | {equivalent} | {left} | {score:.1%} |"


def carried_over(scores: dict[str, dict[str, str]]) -> tuple[list[str], list[str]]:
    """Table rows and survivor lines of groups scored in an earlier RESULTS.md but not run in this checkout."""
    if not RESULTS.exists():
        return [], []
    absent = [g for g in GROUPS if g not in scores]
    rows, survivors = [], []
    for line in RESULTS.read_text().splitlines():
        cells = [c.strip().strip("*") for c in line.split("|")]
        label = cells[1] if len(cells) > 2 else ""
        if line.startswith("|") and (label in absent or any(_in_group(f"{label}.x", g) for g in absent)):
            rows.append(line)
        elif line.startswith("- `") and any(_in_group(line[3:].split("`")[0], g) for g in absent):
            survivors.append(line)
    return rows, survivors


def _in_group(mutant: str, group: str) -> bool:
    path = module_of(mutant).replace(".", "/") + ".py"
    return any(fnmatch.fnmatch(path, pattern) for pattern in GROUPS[group][0])


def report(scores: dict[str, dict[str, str]]) -> str:
    """RESULTS.md: a score per group and per module (killed / non-equivalent), then every survivor."""
    marked = equivalents()
    lines = ["# Mutation testing (`make mutation`, mutmut 3)", "", "| group / module | mutants | killed | equivalent |"
             " survived | score (killed / non-equivalent) |", "|---|---|---|---|---|---|"]
    carried_rows, survivors = carried_over(scores)
    lines += carried_rows
    for group, statuses in scores.items():
        lines.append(score_row(f"**{group}**", statuses, marked))
        for module in sorted({module_of(n) for n in statuses}):
            lines.append(score_row(module, {n: s for n, s in statuses.items() if module_of(n) == module}, marked))
        alive = [name for name, s in statuses.items() if s not in ("killed", "timeout")]
        survivors += [f"- `{n}` ({statuses[n]}): equivalent — {marked[n]}" for n in alive if n in marked]
        survivors += [f"- `{n}` ({statuses[n]}): **not killed**" for n in alive if n not in marked]
    return "\n".join([*lines, "", "## Surviving mutants", "", *(survivors or ["none"]), ""])


def main(argv: list[str]) -> int:
    """Run the groups asked for (default all; ``report`` runs none); RESULTS.md covers every group run so far."""
    for arg in [a for a in (argv or list(GROUPS)) if a != "report"]:
        group, _, patterns = arg.partition("=")
        run(group, [p for p in patterns.split(",") if p])
    scores = {group: collect(group) for group in GROUPS if (BUILD / group / "mutants").is_dir()}
    RESULTS.write_text(report(scores))
    print(RESULTS.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
