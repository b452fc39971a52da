"""Whatever `validate` accepts, `run` runs: scenarios drawn from the JSON Schema, edge values included.

A scenario is a tiny base (few paths, borrowers and depositors, a short horizon) with a random subset of
the schema's keys set to edge values read from the schema itself: each bound (minimum, maximum, just
inside an exclusive bound), the default, extreme but valid magnitudes, every enum member, null where
allowed, and shocks of every type. It is written as YAML and loaded by the real loader; if the loader
accepts it, a few paths are simulated with the ledger identities checked every step
(``check_invariants``): no traceback, no broken identity, no NaN or infinity in the books.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from usdai_sim.engine import simulate
from usdai_sim.errors import InvariantError, ScenarioError
from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario

SCHEMA = Scenario.model_json_schema()
DEFS = SCHEMA["$defs"]
PATHS = 8
MAX_DEPTH = 3
SIZE_KEYS = {"count", "paths", "horizon_days", "step_days", "record_every_steps", "seed", "gpus"}
"""Keys that set the size of a run; drawn separately (small) so that every example stays fast."""
SHOCK_DEFS = [name for name in DEFS if name.endswith("Shock")]
LARGE = 1e9
"""An extreme but valid magnitude for an unbounded number (USD, counts, rates alike)."""


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return DEFS[ref.rsplit("/", 1)[1]] if ref else node


def number_edges(node: dict[str, Any]) -> st.SearchStrategy[float]:
    """Bounds, just inside exclusive bounds, the default, and large values where unbounded."""
    lo, hi = node.get("minimum"), node.get("maximum")
    xlo, xhi = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
    edges = [v for v in (lo, hi) if v is not None]
    edges += [xlo + max(abs(xlo), 1.0) * 1e-9 for _ in [0] if xlo is not None]
    edges += [xhi - max(abs(xhi), 1.0) * 1e-9 for _ in [0] if xhi is not None]
    low = lo if lo is not None else xlo
    high = hi if hi is not None else xhi
    if high is None:
        edges += [LARGE, (low or 0.0) + 1.0]
    if low is None:
        edges += [-LARGE, (high or 0.0) - 1.0]
    if isinstance(node.get("default"), int | float) and not isinstance(node.get("default"), bool):
        edges.append(node["default"])
    if node.get("type") == "integer":
        return st.sampled_from(sorted({int(math.ceil(e)) for e in edges if abs(e) <= LARGE}))
    return st.sampled_from(sorted(set(edges)))


SPREAD_EDGES = (0.0, 1e-6, 0.01, 0.5, 0.99, 1.0)
"""Ends of a per-agent spread {low, high}: the edges of a fraction (the most common spread)."""


def spread() -> st.SearchStrategy[dict[str, Any]]:
    """A per-agent spread with low <= high."""
    ends = st.tuples(st.sampled_from(SPREAD_EDGES), st.sampled_from(SPREAD_EDGES)).map(sorted)
    return ends.map(lambda lh: {"low": lh[0], "high": lh[1]})


def value_for(node: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    """Edge values for one schema node."""
    if node.get("$ref", "").endswith("/Spread"):
        return spread()
    node = _resolve(node)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "const" in node:
        return st.just(node["const"])
    if "anyOf" in node:
        return st.one_of([value_for(option, depth) for option in node["anyOf"]])
    kind = node.get("type")
    if kind in ("number", "integer"):
        return number_edges(node)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "object" and "properties" in node and depth < MAX_DEPTH:
        return section(node, depth + 1)
    return st.nothing()


def section(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping of a random subset of a model's keys to edge values (size keys left out)."""
    props = {k: v for k, v in node["properties"].items() if k not in SIZE_KEYS and k != "cohorts"}
    choices = {k: value_for(v, depth) for k, v in props.items()}
    choices = {k: v for k, v in choices.items() if not v.is_empty}
    if not choices:
        return st.just({})
    keys = st.lists(st.sampled_from(sorted(choices)), max_size=4, unique=True)
    return keys.flatmap(lambda ks: st.fixed_dictionaries({k: choices[k] for k in ks}))


def shock(horizon_days: int) -> st.SearchStrategy[dict[str, Any]]:
    """One shock of any type, its required keys filled, starting inside the horizon."""

    def of(name: str) -> st.SearchStrategy[dict[str, Any]]:
        node = DEFS[name]
        required = {k: value_for(node["properties"][k], 1) for k in node.get("required", []) if k != "type"}
        start = st.integers(0, max(horizon_days - 1, 0)).map(float)
        tag = node["properties"]["type"].get("const") or node["properties"]["type"]["enum"][0]
        return st.fixed_dictionaries({**required, "start_day": start}).flatmap(
            lambda fixed: section(node, 1).map(lambda extra: {**extra, **fixed, "type": tag})
        )

    return st.sampled_from(SHOCK_DEFS).flatmap(of)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A whole scenario mapping: tiny sizes, edge values elsewhere."""
    step = draw(st.sampled_from([1, 7]))
    horizon = step * draw(st.integers(1, 12))
    props = SCHEMA["properties"]
    cohort = _resolve({"$ref": "#/$defs/Cohort"})
    cohorts = draw(st.lists(section(cohort, 1), min_size=1, max_size=2))
    for c in cohorts:
        c["count"] = draw(st.integers(0, 3))
        c.pop("gpu_class", None)
    data = {
        "name": "drawn",
        "simulation": {"horizon_days": horizon, "step_days": step, "paths": PATHS, "seed": draw(st.integers(0, 99))},
        "markets": draw(section(_resolve(props["markets"]), 1)),
        "borrowers": {**draw(section(_resolve(props["borrowers"]), 1)), "cohorts": cohorts},
        "depositors": {**draw(section(_resolve(props["depositors"]), 1)), "count": draw(st.integers(1, 4))},
        "protocol": draw(section(_resolve(props["protocol"]), 1)),
        "shocks": draw(st.lists(shock(horizon), max_size=2)),
    }
    data["markets"].pop("gpu", None)  # the class catalog is a mapping of names; the shipped one is kept
    return data


MAX_EXAMPLES = 2_000
"""Cap of this property in every profile (the ``deep`` one asks 10,000). Each example simulates a scenario:
2,000 take about 7 minutes on the shared 2-core machine, 10,000 would take about 35 on one worker, longer than
``make test-deep`` as a whole should (measured 2026-12-04); the issue asks for a deep run of 2,000."""


@settings(
    max_examples=min(settings.default.max_examples, MAX_EXAMPLES),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    deadline=None,
)
@given(data=scenarios())
@example(data={  # deep profile, 2026-12-06: a run-out of a 1e13 NAV under a 1e9 APR incentive left a NAV of a few
    # million USD while the step's flows were ~1e13; their round-off (0.006 USD) was judged against the NAV alone
    "name": "drawn", "simulation": {"horizon_days": 63, "step_days": 7, "paths": 8, "seed": 0}, "markets": {},
    "borrowers": {"cohorts": [{"count": 1}]}, "depositors": {"herd_threshold": -1e9, "count": 1},
    "protocol": {"initial_susdai_nav_usd": 1e13, "incentive_apr": 1e9}, "shocks": [],
})
def test_what_validate_accepts_runs(tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]) -> None:
    path = tmp_path_factory.mktemp("drawn") / "drawn.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    try:
        scenario, _ = load_scenario(path)
    except ScenarioError:
        return  # refused with a located one-line error: that is validate's job
    results = simulate(scenario, paths=PATHS, workers=1, check_invariants=True)
    ratio = results.paths["susdai_exchange_ratio_final"].to_numpy()
    assert np.all(np.isfinite(ratio)) and np.all(ratio >= 0.0)


def accepted(data: dict[str, Any]) -> str:
    """'ok', or the first validation problem of a drawn mapping (its dotted key and message)."""
    try:
        Scenario.model_validate(data)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
        return ".".join(map(str, first["loc"])) + ": " + first["msg"]
    return "ok"


def test_the_generator_mostly_draws_valid_scenarios() -> None:
    """At least a third of the drawn scenarios pass validation, or the property above would test little."""
    seen: list[str] = []

    @settings(max_examples=60, derandomize=True, database=None, deadline=None)
    @given(data=scenarios())
    def draw(data: dict[str, Any]) -> None:
        seen.append(accepted(data))

    draw()
    assert seen.count("ok") >= len(seen) / 3, sorted(seen)[:20]


def test_nan_in_the_state_breaks_an_invariant_loudly() -> None:
    """NaN or infinity in the books stops a checked run at once instead of flowing into the results."""
    scenario = Scenario.model_validate(
        {"simulation": {"horizon_days": 5, "paths": 2}, "borrowers": {"cohorts": [{"count": 1}]},
         "depositors": {"count": 2}}
    )
    for bad in (np.nan, np.inf):
        model = UsdaiModel(compile_params(scenario), 0, 2, check_invariants=True)
        model.vault.idle_usd[1] = bad
        with pytest.raises(InvariantError, match="NaN or infinity"):
            model.step()


def test_a_fee_of_all_the_base_yield_leaves_no_negative_idle() -> None:
    """Deep-profile falsification (2026-12-05): with ``admin_fee_base_yield_bps`` 10,000 the fee was computed as
    ``gross * 10000 / 1e4``, which can round one ulp above ``gross``; on a vault of 1e-9 USD earning an absurd but
    valid incentive, ``gross - fee`` was a negative amount larger than the vault ("negative idle USDai", day 1)."""
    scenario = Scenario.model_validate(
        {
            "name": "drawn",
            "simulation": {"horizon_days": 1, "step_days": 1, "paths": 8, "seed": 0},
            "borrowers": {"cohorts": [{"count": 0}]},
            "depositors": {"count": 1},
            "protocol": {
                "initial_susdai_nav_usd": 1e-09,
                "incentive_apr": 1e9,
                "admin_fee_loan_interest_bps": 0,
                "admin_fee_base_yield_bps": 10000,
            },
        }
    )
    results = simulate(scenario, paths=8, workers=1, check_invariants=True)
    assert np.all(results.paths["susdai_exchange_ratio_final"].to_numpy() >= 0.0)


def test_a_drained_supply_earns_no_negative_incentive() -> None:
    """Deep-profile falsification (2026-12-05): a redemption wave of the whole supply on day 0 drains the vault
    to a round-off below zero (−6e-8 USD on path 7 by day 35); with a zero cap and a 1e9 APR incentive,
    ``min(supply, cap) · incentive`` turned that into −$1.14 of yield ("negative idle USDai", day 42)."""
    scenario = Scenario.model_validate(
        {
            "name": "drawn",
            "simulation": {"horizon_days": 42, "step_days": 7, "paths": 8, "seed": 0},
            "borrowers": {"cohorts": [{"count": 1}]},
            "depositors": {"count": 1},
            "protocol": {"incentive_cap_usd": 0.0, "admin_fee_base_yield_bps": 0, "incentive_apr": 1e9},
            "shocks": [{"type": "redemption_wave", "fraction_of_supply": 1.0, "start_day": 0.0}],
        }
    )
    results = simulate(scenario, paths=8, workers=1, check_invariants=True)
    assert np.all(results.paths["susdai_exchange_ratio_final"].to_numpy() >= 0.0)


def test_a_gap_left_by_a_huge_deposit_and_redemption_is_roundoff() -> None:
    """Deep-profile falsification (2026-12-05): wallets of 1e9 × the balance deposit 5e16 USD, which the stakers
    redeem on day 35; supply and reserves (two running sums) then differ by 1.79 USD on a supply of 2.1e8, and the
    next quiet step's identity check, scaled by its own flows only, called that a broken backing on day 42."""
    scenario = Scenario.model_validate(
        {
            "name": "drawn",
            "simulation": {"horizon_days": 42, "step_days": 7, "paths": 8, "seed": 3},
            "borrowers": {"cohorts": [{"count": 0}]},
            "depositors": {"loss_news_half_life_days": 1e-09, "deposit_hurdle": -1e9, "wallet_multiple": 1e9,
                           "balance_pareto_alpha": 1.0, "count": 3},
        }
    )
    results = simulate(scenario, paths=8, workers=1, check_invariants=True)
    assert np.all(results.paths["usdai_backing_ratio_min"].to_numpy() == 1.0)
