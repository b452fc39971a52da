"""Global sensitivity with SALib: Morris screening (many parameters) and Sobol first/total-order indices with
bootstrap intervals (the few that matter), plus a one-at-a-time tornado.

The parameters and their ranges are the study's design parameters (``low``/``high``). The sample points run as
study points (common random numbers, resumable); the tornado adds the centre of the ranges and, for each
parameter, its low and high end with the others at the centre.

``sample`` and ``analyse`` take plain arrays so they can be checked on functions with known indices.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from usdai_sim.errors import UsdaiSimError
from usdai_sim.studies.spec import StudySpec

Method = Literal["morris", "sobol"]
MORRIS_LEVELS = 4
"""Grid levels of the Morris design (SALib's default; Saltelli et al. 2008 recommend 4)."""
CONF_LEVEL = 0.95


class SensitivityError(UsdaiSimError):
    """A study that cannot be analysed as asked (exit status 2)."""


def problem(spec: StudySpec) -> dict[str, Any]:
    """The SALib problem: parameter names and [low, high] bounds."""
    params = spec.design.parameters
    if spec.design.type == "grid":
        raise SensitivityError("sensitivity needs ranges (design type lhs or sobol, parameters with low/high)")
    return {
        "num_vars": len(params),
        "names": list(params),
        "bounds": [[float(p.low), float(p.high)] for p in params.values()],  # type: ignore[arg-type]
    }


def sample(method: Method, prob: dict[str, Any], n: int, seed: int) -> np.ndarray:
    """Design points (rows): Morris trajectories (n of them) or Saltelli/Sobol points (base sample n)."""
    if method == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(prob, N=n, num_levels=MORRIS_LEVELS, seed=seed))
    from SALib.sample import sobol

    return np.asarray(sobol.sample(prob, n, calc_second_order=False, seed=seed))


def analyse(method: Method, prob: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Indices per parameter: Morris mu*, its interval half-width and sigma; Sobol S1, ST with half-widths."""
    if method == "morris":
        from SALib.analyze import morris

        r = morris.analyze(prob, x, y, num_levels=MORRIS_LEVELS, conf_level=CONF_LEVEL, seed=seed)
        columns = {"mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"], "sigma": r["sigma"]}
    else:
        from SALib.analyze import sobol

        r = sobol.analyze(prob, y, calc_second_order=False, conf_level=CONF_LEVEL, seed=seed)
        columns = {"S1": r["S1"], "S1_conf": r["S1_conf"], "ST": r["ST"], "ST_conf": r["ST_conf"]}
    return pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in columns.items()}, index=prob["names"])


def tornado_points(prob: dict[str, Any]) -> np.ndarray:
    """The centre of the ranges, then each parameter at its low and its high end (others at the centre)."""
    bounds = np.asarray(prob["bounds"], dtype=float)
    centre = bounds.mean(axis=1)
    rows = [centre]
    for i in range(len(centre)):
        for end in (0, 1):
            row = centre.copy()
            row[i] = bounds[i, end]
            rows.append(row)
    return np.array(rows)


def tornado(prob: dict[str, Any], y: np.ndarray) -> pd.DataFrame:
    """Metric at each parameter's low and high end, and the centre value, from ``tornado_points`` outputs."""
    return pd.DataFrame(
        {"low": y[1::2], "high": y[2::2], "centre": np.full(prob["num_vars"], y[0])}, index=prob["names"]
    )


def parameter_sets(prob: dict[str, Any], rows: np.ndarray, whole: list[bool] | None = None) -> list[dict[str, float]]:
    """Design rows as study points ``{parameter: value}`` (rounded where ``whole`` says a field is an integer)."""
    rounded = np.where(np.array(whole or [False] * prob["num_vars"]), np.rint(rows), rows)
    return [dict(zip(prob["names"], map(float, row), strict=True)) for row in rounded]
