"""Recommendations: for each GPU class the largest maximum LTV, and for the protocol the largest loan share of
assets, such that a loss budget holds under every scenario of a set — with a Monte Carlo interval.

Public practice this follows (DOMAIN.md, "How risk teams answer parameter questions"): Gauntlet's Morpho tool
sweeps LLTV and keeps the largest with zero bad debt; Chaos Labs bisects for the largest supply cap whose
stress-case bad debt stays under a budget. Here the search is a bisection on common random numbers
(``search.find_threshold`` on the largest budget violation over scenarios and clauses): the recommendation is
where the violation crosses zero, interpolated between the last evaluated value that keeps the budget and the
first that breaks it (both reported as ``bracket``); the interval resamples paths jointly in every scenario.

Assumption: when an LTV cap is searched, the operators of that class ask for the cap (``requested_ltv`` = x), so
the cap binds — a recommendation for a book that borrows as much as it is allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from usdai_sim.engine import simulate, with_overrides
from usdai_sim.executors import Executor
from usdai_sim.intervals import LEVEL, path_columns, path_statistic, statistic_value
from usdai_sim.scenario.library import DEFAULT_SCENARIO, builtin_names, load_scenario
from usdai_sim.scenario.schema import Scenario
from usdai_sim.studies.search import Cases, SearchResult, find_threshold, worst_violation
from usdai_sim.studies.targets import Target

LTV_RANGE = (0.30, 0.95)
SHARE_RANGE = (0.05, 1.00)
"""Search ranges (assumption: below 30% LTV or 5% of assets a GPU lending book is not worth running)."""


@dataclass(frozen=True)
class Lever:
    """A parameter to recommend: its name, its search range and the overrides that set it in a scenario."""

    name: str
    low: float
    high: float
    overrides: Callable[[Scenario, float], list[str]]


def ltv_lever(gpu_class: str) -> Lever:
    """The class's maximum LTV, with its operators asking for the cap."""

    def overrides(scenario: Scenario, x: float) -> list[str]:
        cohorts = [i for i, c in enumerate(scenario.borrowers.cohorts) if c.gpu_class == gpu_class]
        return [
            f"markets.gpu.classes.{gpu_class}.max_ltv={x!r}",
            *(f"borrowers.cohorts[{i}].requested_ltv={x!r}" for i in cohorts),
        ]

    return Lever(f"max_ltv.{gpu_class}", *LTV_RANGE, overrides)


SHARE_LEVER = Lever(
    "max_loan_share", *SHARE_RANGE, lambda _scenario, x: [f"protocol.allocation.max_loan_share={x!r}"]
)


def default_cases(base: str) -> list[str]:
    """The base scenario and every shipped stress scenario (all built-ins but the baseline and the base)."""
    return [base, *(name for name in builtin_names() if name not in (base, DEFAULT_SCENARIO))]


def classes_lent_against(scenario: Scenario) -> list[str]:
    """GPU classes the scenario's cohorts borrow against, in cohort order."""
    return list(dict.fromkeys(c.gpu_class for c in scenario.borrowers.cohorts if c.count > 0))


@dataclass(frozen=True)
class Book:
    """The cases (scenario references) a budget must hold under, the common overrides, paths and seed."""

    cases: tuple[str, ...]
    overrides: tuple[str, ...]
    paths: int
    seed: int

    def scenario(self, case: str, lever: Lever, x: float) -> Scenario:
        """One case with the lever at x."""
        plain, _ = load_scenario(case, self.overrides)
        scenario, _ = load_scenario(case, [*self.overrides, *lever.overrides(plain, x)])
        return with_overrides(scenario, self.paths, self.seed)


def evaluator(book: Book, lever: Lever, executor: Executor | None) -> Callable[[float], Cases]:
    """x → per-path columns of every case with the lever at x (same seed everywhere)."""

    def evaluate(x: float) -> Cases:
        runs = {case: simulate(book.scenario(case, lever, x), executor=executor) for case in book.cases}
        return {case: path_columns(results.paths) for case, results in runs.items()}

    return evaluate


def recommend_lever(
    book: Book, lever: Lever, budget: Sequence[Target], tolerance: float, executor: Executor | None = None
) -> SearchResult:
    """The largest lever value at which every budget clause holds in every case."""
    for x in (lever.low, lever.high):
        for case in book.cases:
            book.scenario(case, lever, x)  # every scenario must be valid before anything runs
    conditions = [(case, path_statistic(t.metric), t.violation) for case in book.cases for t in budget]
    margin = worst_violation(conditions)
    return find_threshold(evaluator(book, lever, executor), margin, lever.low, lever.high, tolerance)


def binding(result: SearchResult, budget: Sequence[Target]) -> list[str]:
    """The (case: clause) pairs that fail at the smallest evaluated value that breaks the budget."""
    broken = sorted(x for x, verdict in result.verdicts.items() if verdict)
    if not broken:
        return []
    cases = result.evaluations[broken[0]]
    return [
        f"{case}: {t.text} (got {value:.4g})"
        for case, columns in cases.items()
        for t in budget
        if not t.holds(value := statistic_value(path_statistic(t.metric), columns))
    ]


def recommended_value(result: SearchResult, lever: Lever) -> float | None:
    """Where the budget starts to break (the top of the range when it never does; None when it always does)."""
    if result.status == "broken_at_low":
        return None
    return lever.high if result.value is None else result.value


def recommendation(lever: Lever, result: SearchResult, budget: Sequence[Target]) -> dict[str, Any]:
    """One row of recommend.json."""
    return {
        "lever": lever.name,
        "range": [lever.low, lever.high],
        "recommended": recommended_value(result, lever),
        "bracket": list(result.bracket),
        "interval": {"low": result.low, "high": result.high, "method": "bootstrap", "level": LEVEL},
        "status": result.status,
        "binding": binding(result, budget),
        "evaluations": len(result.evaluations),
    }


def markdown(rows: list[dict[str, Any]], budget_text: str, cases: Sequence[str]) -> str:
    """The recommendation table in Markdown."""
    lines = [
        "# Recommended limits",
        "",
        f"Budget `{budget_text}` must hold under: {', '.join(f'`{c}`' for c in cases)}.",
        "",
        "| lever | recommended | 95% interval | status | binding at the first breach |",
        "|---|---:|---|---|---|",
    ]
    for row in rows:
        value = "none (budget broken at the low end)" if row["recommended"] is None else f"{row['recommended']:.3f}"
        iv = row["interval"]
        lines.append(
            f"| `{row['lever']}` | {value} | {iv['low']:.3f} – {iv['high']:.3f} | {row['status']} | "
            f"{'; '.join(row['binding']) or '–'} |"
        )
    return "\n".join(lines) + "\n"
