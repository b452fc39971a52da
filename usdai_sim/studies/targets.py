"""Targets and budgets on metrics: ``"p99_er_loss > 0.05"`` (reverse stress), ``"es99_er_loss<=0.02, p_loss<=0.01"``
(a recommendation's budget). Metric names are summary keys or the short names of ``intervals.ALIASES``."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from usdai_sim.errors import UsdaiSimError
from usdai_sim.intervals import metric_key, path_statistic

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_PATTERN = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|<|>)\s*(\S+)\s*$")


class TargetError(UsdaiSimError):
    """A malformed target or budget (exit status 2)."""


@dataclass(frozen=True)
class Target:
    """``metric op threshold``; ``holds(value)`` says whether a metric value satisfies it."""

    metric: str
    op: str
    threshold: float
    text: str

    def holds(self, value: float) -> bool:
        """True when ``value op threshold``; a missing value (NaN) never holds."""
        return not math.isnan(value) and OPERATORS[self.op](value, self.threshold)

    def margin(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """How far each value is past the threshold in the target's direction (> 0: the target holds);
        a missing value (NaN) is -inf: it never holds."""
        signed = values - self.threshold if self.op in (">", ">=") else self.threshold - values
        return np.where(np.isnan(values), -np.inf, signed)

    def violation(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """How far each value fails the target read as a budget clause (> 0: fails); NaN fails (+inf)."""
        return -self.margin(values)


def parse_target(text: str, flag: str = "--target") -> Target:
    """``"p99_er_loss > 0.05"`` → Target("susdai_var_99", ">", 0.05)."""
    match = _PATTERN.match(text)
    value = math.nan
    if match:
        try:
            value = float(match.group(3))
        except ValueError:
            value = math.nan
    if not match or not math.isfinite(value):
        raise TargetError(f"{flag}: expected METRIC OP NUMBER with OP one of <, <=, >, >= (got {text!r})")
    key = metric_key(match.group(1))
    try:
        path_statistic(key)
    except KeyError:
        message = f"{flag}: {match.group(1)!r} is not a tail metric of the per-path outcomes (got {text!r})"
        raise TargetError(message) from None
    return Target(key, match.group(2), value, " ".join(text.split()))


def parse_budget(text: str, flag: str = "--budget") -> list[Target]:
    """Comma-separated targets that must all hold."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise TargetError(f"{flag}: expected METRIC<=NUMBER[, ...] (got {text!r})")
    return [parse_target(p, flag) for p in parts]
