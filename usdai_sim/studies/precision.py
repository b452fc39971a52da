"""``--until-precise "metric:halfwidth"``: add paths (on common seeds) until a metric's interval is narrow enough.

Paths 0..n−1 are the same whatever n (seed blocks), so a larger run extends the smaller one. The next path count
follows from the half-width falling as 1/√n: n' = n·(h/target)²·1.1, rounded up to whole seed blocks, at least one
block more and at most four times n, never above the cap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from usdai_sim.errors import UsdaiSimError
from usdai_sim.intervals import halfwidth, metric_key
from usdai_sim.rng import SEED_BLOCK

T = TypeVar("T")
SAFETY = 1.1
"""Aim 10% beyond the 1/√n estimate (assumption: one more round costs more than a few extra paths)."""
MAX_GROWTH = 4


class PrecisionError(UsdaiSimError):
    """A malformed ``--until-precise`` target (exit status 2)."""


@dataclass(frozen=True)
class PrecisionTarget:
    """Stop when ``summary["intervals"][metric]`` has a half-width at or below ``halfwidth``."""

    metric: str
    halfwidth: float


@dataclass
class PrecisionOutcome(Generic[T]):
    """The last run, and the path counts and half-widths of every round."""

    result: T
    target: PrecisionTarget
    rounds: list[dict[str, float]] = field(default_factory=list)
    converged: bool = False

    def summary(self) -> dict[str, Any]:
        """The ``precision`` entry of summary.json and manifest.json."""
        last = self.rounds[-1]
        return {
            "metric": self.target.metric,
            "target_halfwidth": self.target.halfwidth,
            "halfwidth": last["halfwidth"] if math.isfinite(last["halfwidth"]) else None,
            "paths": int(last["paths"]),
            "converged": self.converged,
            "rounds": self.rounds,
        }


def parse_target(text: str, known: Callable[[str], bool] | None = None) -> PrecisionTarget:
    """``"es99_er_loss:0.002"`` → PrecisionTarget("susdai_es_99", 0.002)."""
    name, sep, width = text.rpartition(":")
    try:
        value = float(width)
    except ValueError:
        value = math.nan
    if not sep or not name or not math.isfinite(value) or value <= 0:
        raise PrecisionError(f"--until-precise: expected METRIC:HALFWIDTH with a positive half-width (got {text!r})")
    key = metric_key(name.strip())
    if known is not None and not known(key):
        raise PrecisionError(f"--until-precise: {name.strip()!r} is not a metric with an interval (got {text!r})")
    return PrecisionTarget(key, value)


def next_paths(paths: int, current: float, target: float, cap: int) -> int:
    """The path count for the next round (whole seed blocks)."""
    wanted = paths * MAX_GROWTH if not math.isfinite(current) else paths * (current / target) ** 2 * SAFETY
    wanted = min(max(wanted, paths + SEED_BLOCK), paths * MAX_GROWTH)
    return min(cap, -(-math.ceil(wanted) // SEED_BLOCK) * SEED_BLOCK)


def until_precise(
    run: Callable[[int], T],
    intervals_of: Callable[[T], dict[str, Any]],
    target: PrecisionTarget,
    start_paths: int,
    max_paths: int,
) -> PrecisionOutcome[T]:
    """Run with ``start_paths``, then with more paths, until the target half-width or ``max_paths`` is reached."""
    paths = min(start_paths, max_paths)
    rounds: list[dict[str, float]] = []
    while True:
        result = run(paths)
        width = halfwidth(intervals_of(result).get(target.metric) or {})
        rounds.append({"paths": paths, "halfwidth": width})
        converged = width <= target.halfwidth
        if converged or paths >= max_paths:
            return PrecisionOutcome(result, target, rounds, converged)
        paths = next_paths(paths, width, target.halfwidth, max_paths)
