"""SALib wiring on a function with known indices: y = x1 + 2 x2 on the unit square."""

from __future__ import annotations

import numpy as np
import pytest

from usdai_sim.studies.sensitivity import analyse, sample, tornado, tornado_points

PROBLEM = {"num_vars": 3, "names": ["x1", "x2", "unused"], "bounds": [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]}
WEIGHTS = np.array([1.0, 2.0, 0.0])


def test_sobol_indices_of_a_linear_function() -> None:
    x = sample("sobol", PROBLEM, 1024, seed=3)
    indices = analyse("sobol", PROBLEM, x, x @ WEIGHTS, seed=3)
    # Var(a x) = a^2 / 12 for x ~ U(0, 1): S1 = ST = a_i^2 / sum a^2 = 0.2, 0.8, 0
    assert indices.loc["x1", "S1"] == pytest.approx(0.2, abs=0.05)
    assert indices.loc["x2", "S1"] == pytest.approx(0.8, abs=0.05)
    assert indices.loc["unused", "ST"] == pytest.approx(0.0, abs=1e-9)
    x1, x2 = indices.loc["x1"], indices.loc["x2"]
    assert x2["S1"] - x2["S1_conf"] > x1["S1"] + x1["S1_conf"]  # the intervals separate the two


def test_morris_mu_star_of_a_linear_function() -> None:
    x = sample("morris", PROBLEM, 8, seed=3)
    indices = analyse("morris", PROBLEM, x, x @ WEIGHTS, seed=3)
    # every elementary effect of a linear function is its slope times the range
    assert indices["mu_star"].to_numpy() == pytest.approx(WEIGHTS, abs=1e-9)
    assert indices["sigma"].to_numpy() == pytest.approx(0.0, abs=1e-9)


def test_tornado_is_one_at_a_time_from_the_centre() -> None:
    points = tornado_points(PROBLEM)
    assert points.shape == (7, 3) and list(points[0]) == [0.5, 0.5, 0.5]
    table = tornado(PROBLEM, points @ WEIGHTS)
    assert list(table["low"]) == [1.0, 0.5, 1.5] and list(table["high"]) == [2.0, 2.5, 1.5]
