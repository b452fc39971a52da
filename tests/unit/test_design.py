"""Study designs: grid order, reproducible Latin hypercube and Sobol points inside their ranges; the frontier
of a 2-D grid drawn where a known target starts to hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from usdai_sim.report.figures import new_axes
from usdai_sim.studies.design import design_points
from usdai_sim.studies.report import draw_metric_map
from usdai_sim.studies.spec import Design
from usdai_sim.studies.targets import Target


def test_grid_is_the_product_last_parameter_fastest() -> None:
    design = Design(type="grid", parameters={"a": {"values": [1, 2]}, "b": {"values": [10, 20, 30]}})
    points = design_points(design)
    assert [(p["a"], p["b"]) for p in points] == [(1, 10), (1, 20), (1, 30), (2, 10), (2, 20), (2, 30)]


@pytest.mark.parametrize("kind", ["lhs", "sobol"])
def test_sampled_designs_are_reproducible_and_inside_their_ranges(kind: str) -> None:
    params = {"a": {"low": 0.5, "high": 0.8}, "days": {"low": 7, "high": 90, "integer": True}}
    design = Design(type=kind, parameters=params, samples=16, sample_seed=3)
    points = design_points(design)
    assert points == design_points(design) and len(points) == 16
    a = np.array([p["a"] for p in points])
    assert a.min() >= 0.5 and a.max() <= 0.8
    assert all(float(p["days"]).is_integer() and 7 <= p["days"] <= 90 for p in points)
    if kind == "lhs":  # one point in each of the 16 strata of every parameter
        assert sorted(np.floor((a - 0.5) / 0.3 * 16).astype(int)) == list(range(16))


def test_design_forms_must_match_the_type() -> None:
    with pytest.raises(ValidationError, match="a grid design needs values"):
        Design(type="grid", parameters={"a": {"low": 0, "high": 1}})
    with pytest.raises(ValidationError, match="low must be below high"):
        Design(type="lhs", parameters={"a": {"low": 1, "high": 0}})


def test_frontier_is_drawn_where_a_known_target_starts_to_hold() -> None:
    x, y = np.meshgrid(np.linspace(0, 1, 11), np.linspace(0, 1, 11))
    table = pd.DataFrame({"x": x.ravel(), "y": y.ravel(), "m": (x + y).ravel()}).set_index(["x", "y"])
    ax = draw_metric_map(table, ("x", "y"), "m", Target("m", ">", 1.0, "m > 1.0"), new_axes())
    lines = [seg for collection in ax.collections[1:] for seg in _segments(collection)]
    assert lines, "the frontier contour is drawn"
    points = np.vstack(lines)
    assert np.allclose(points.sum(axis=1), 1.0, atol=1e-9)  # the frontier of x + y > 1 is the line x + y = 1


def _segments(collection: object) -> list[np.ndarray]:
    paths = collection.get_paths() if hasattr(collection, "get_paths") else []
    return [p.vertices for p in paths if len(p.vertices)]
