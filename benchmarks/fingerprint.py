"""Fingerprints of engine outputs, to show a performance change leaves every number bit-identical.

``python -m benchmarks.fingerprint OUT.json`` runs 16 short scenarios (the shipped stress scenarios and
variants that reach the rarer code: QEV auction, expected-path underwriting, no DSCR floor, on_default and
linear loss recognition, a maintenance covenant, the medium benchmark's shape) with invariant checks on,
and writes a SHA-256 prefix of each output table (bands, per-path table, ledger, LTV histogram, waits,
per-path series, summary). Run it before and after a change (e.g. from a ``git worktree`` of the old
commit) and compare the two files: any difference is a changed number. Takes about a minute.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.workloads import WORKLOADS, build_scenario
from usdai_sim.engine import simulate
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario

SHIPPED = ("baseline", "bank_run", "fraud_wave", "gpu_resale_crash", "rental_collapse", "severely_adverse",
           "rate_spike", "replay_usde_oct_2025", "new_generation")
TABLES = ("bands", "paths", "ledger", "ltv_hist", "waits", "series")


def digest(value: Any) -> str:
    """SHA-256 prefix of a frame (values and index) or an array (its bytes)."""
    if isinstance(value, pd.DataFrame):
        data = pd.util.hash_pandas_object(value, index=True).values.tobytes()
    else:
        data = np.ascontiguousarray(value).tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


def with_field(scenario: Scenario, section: str, part: str, **update: Any) -> Scenario:
    """The scenario with ``scenario.<section>.<part>`` updated."""
    outer = getattr(scenario, section)
    inner = getattr(outer, part).model_copy(update=update)
    return scenario.model_copy(update={section: outer.model_copy(update={part: inner})})


def runs() -> Iterator[tuple[str, Scenario, int | None]]:
    """(name, scenario, paths) of every fingerprinted run."""
    for name in SHIPPED:
        yield name, load_scenario(name)[0], 48
    bank = load_scenario("bank_run")[0]
    qev = bank.protocol.queue.qev.model_copy(update={"enabled": True})
    yield "bank_run_qev", with_field(bank, "protocol", "queue", qev=qev), 48
    base = load_scenario("baseline")[0]
    yield "baseline_expected_path", with_field(base, "protocol", "allocation", dscr_basis="expected_path"), 32
    yield "baseline_no_floor", with_field(base, "protocol", "allocation", min_dscr=None), 32
    adverse = load_scenario("severely_adverse")[0]
    for policy in ("on_default", "linear"):
        yield f"adverse_{policy}", with_field(adverse, "protocol", "loss_recognition", policy=policy), 32
    cohorts = tuple(c.model_copy(update={"maintenance_ltv": 0.75}) for c in adverse.borrowers.cohorts)
    yield "adverse_covenant", adverse.model_copy(
        update={"borrowers": adverse.borrowers.model_copy(update={"cohorts": cohorts})}
    ), 32
    yield "medium", build_scenario(WORKLOADS["medium"].scaled(paths=32, years=1)), None


def fingerprint(scenario: Scenario, paths: int | None) -> dict[str, str]:
    """Digests of one run's outputs."""
    results = simulate(scenario, paths=paths, workers=1, quiet=True, keep_series=True, check_invariants=True)
    out = {name: digest(getattr(results, name)) for name in TABLES}
    out["summary"] = hashlib.sha256(json.dumps(results.summary, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return out


def main(argv: list[str]) -> None:
    """Write the fingerprints of every run to the file named in argv."""
    if len(argv) != 1:
        sys.exit("usage: python -m benchmarks.fingerprint OUT.json")
    prints = {}
    for name, scenario, paths in runs():
        prints[name] = fingerprint(scenario, paths)
        print(name, prints[name], flush=True)
    with open(argv[0], "w", encoding="utf-8") as f:
        json.dump(prints, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
