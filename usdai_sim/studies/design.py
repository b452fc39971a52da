"""Points of a study design: a full grid, a Latin hypercube or a scrambled Sobol sequence (scipy.stats.qmc).

Points are dicts ``{dotted.path: value}`` in a fixed order; sampled designs are reproducible from
``design.sample_seed``.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from usdai_sim.studies.spec import Design

Point = dict[str, float]


def grid_points(design: Design) -> list[Point]:
    """The Cartesian product of every parameter's values, the last parameter varying fastest."""
    names = list(design.parameters)
    values = [design.parameters[name].values for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def unit_samples(design: Design) -> np.ndarray:
    """(samples, parameters) points in the unit cube."""
    from scipy.stats import qmc

    d = len(design.parameters)
    if design.type == "lhs":
        return qmc.LatinHypercube(d=d, seed=design.sample_seed).random(design.samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy warns when n is not a power of two
        return qmc.Sobol(d=d, scramble=True, seed=design.sample_seed).random(design.samples)


def scale(unit: np.ndarray, design: Design) -> list[Point]:
    """Unit-cube samples mapped onto each parameter's [low, high]."""
    names = list(design.parameters)
    low = np.array([design.parameters[n].low for n in names], dtype=float)
    high = np.array([design.parameters[n].high for n in names], dtype=float)
    values = low + unit * (high - low)
    whole = np.array([design.parameters[n].integer for n in names])
    values = np.where(whole, np.rint(values), values)
    return [dict(zip(names, map(float, row), strict=True)) for row in values]


def design_points(design: Design) -> list[Point]:
    """Every point of the design, in study order."""
    if design.type == "grid":
        return grid_points(design)
    return scale(unit_samples(design), design)
