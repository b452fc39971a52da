"""Run a study: points × seed blocks as tasks on an executor, one Parquet partition per finished point, a manifest,
resume.

Layout of a study directory::

    manifest.json                 study file, code version, points (parameters, scenario hash, status)
    study.yaml                    a copy of the study file
    results/point=00007/part-0.parquet   one row per metric: value, low, high, method, tail_paths
    paths/point=00007/part-0.parquet     per-path outcomes (when the study sets per_path: true)
    study.html                    the report

Every point uses the study's seed, so its paths share random numbers with every other point (common random
numbers); results depend on neither the executor, nor the worker count, nor the block size.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from usdai_sim.engine import BlockOutput, run_block, with_overrides
from usdai_sim.errors import ScenarioError, UsdaiSimError
from usdai_sim.executors import Executor
from usdai_sim.report.build import lookup
from usdai_sim.results import Results, waits_frame
from usdai_sim.rng import SEED_BLOCK
from usdai_sim.scenario.library import load_scenario, scenario_sha256
from usdai_sim.scenario.load import Provenance
from usdai_sim.scenario.overrides import SET_FLAG
from usdai_sim.scenario.schema import Scenario
from usdai_sim.studies.design import design_points
from usdai_sim.studies.spec import StudySpec, at_parameter, base_reference, override_text, study_sha256
from usdai_sim.summary import summarise
from usdai_sim.version import __version__

MANIFEST = "manifest.json"
Progress = Callable[[int, int], None]


class StudyError(UsdaiSimError):
    """A study directory that cannot be used as asked (exit status 2)."""


@dataclass(frozen=True)
class StudyPoint:
    """One point: its index, parameter values and the scenario they give."""

    index: int
    parameters: dict[str, float]
    scenario: Scenario


def _relocate(error: ScenarioError, spec: StudySpec, provenance: Provenance) -> ScenarioError:
    """An override error moved to the study file line of the parameter or ``set`` entry that caused it."""
    path = error.file.removeprefix(f"{SET_FLAG} ")
    if path in spec.design.parameters:
        return at_parameter(provenance, path, error)
    if path in spec.set:
        file, line = provenance.locate(("set", path))
        return ScenarioError(file, line, f"set.{path}", error.message, error.got)
    return error


def point_scenario(
    spec: StudySpec, study_file: Path, extra: Sequence[str], parameters: dict[str, Any]
) -> Scenario:
    """The base scenario with the study's ``set``, the command line's ``--set`` and the point's values."""
    overrides = [
        *(override_text(k, v) for k, v in spec.set.items()),
        *extra,
        *(override_text(k, v) for k, v in parameters.items()),
    ]
    scenario, _ = load_scenario(base_reference(spec, study_file), overrides)
    return with_overrides(scenario, spec.paths, spec.seed)


def build_points(
    spec: StudySpec,
    provenance: Provenance,
    study_file: Path,
    extra: Sequence[str] = (),
    parameter_sets: Sequence[dict[str, float]] | None = None,
) -> list[StudyPoint]:
    """Every point of the study (its design's, or ``parameter_sets``), validated before anything runs."""
    points = []
    sets = design_points(spec.design) if parameter_sets is None else parameter_sets
    for i, parameters in enumerate(sets):
        try:
            scenario = point_scenario(spec, study_file, extra, parameters)
        except ScenarioError as exc:
            raise _relocate(exc, spec, provenance) from None
        points.append(StudyPoint(i, parameters, scenario))
    return points


def point_blocks(spec: StudySpec) -> list[tuple[int, int]]:
    """(first path, paths) of each task of a point: whole seed blocks of about ``block_paths``."""
    size = max(SEED_BLOCK, -(-spec.block_paths // SEED_BLOCK) * SEED_BLOCK)
    return [(first, min(size, spec.paths - first)) for first in range(0, spec.paths, size)]


def point_block(scenario: Scenario, first_path: int, n_paths: int) -> BlockOutput:
    """The unit of work: one seed block range of one point (no per-step series kept)."""
    return run_block(scenario, first_path, n_paths, None)


def point_results(scenario: Scenario, outputs: list[BlockOutput]) -> Results:
    """Per-path outcomes, waits and the summary (with intervals) of one point, from its blocks in path order."""
    paths = pd.DataFrame({k: np.concatenate([o.paths[k] for o in outputs]) for k in outputs[0].paths})
    empty = pd.DataFrame()
    results = Results(scenario, empty, paths, empty, empty, waits_frame(outputs))
    results.summary = summarise(results)
    return results


def metric_rows(summary: dict[str, Any], metrics: Sequence[str]) -> pd.DataFrame:
    """One row per metric: value and its interval (NaN / empty where the metric has none)."""
    rows = []
    for key in metrics:
        value = lookup(summary, key)
        interval = summary.get("intervals", {}).get(key) or {}
        rows.append(
            {
                "metric": key,
                "value": np.nan if value is None else float(value),
                "low": np.nan if interval.get("low") is None else float(interval["low"]),
                "high": np.nan if interval.get("high") is None else float(interval["high"]),
                "method": interval.get("method", ""),
                "tail_paths": int(interval.get("tail_paths", -1)),
            }
        )
    return pd.DataFrame(rows)


def _partition(directory: Path, kind: str, index: int) -> Path:
    return directory / kind / f"point={index:05d}" / "part-0.parquet"


def _write_parquet(frame: pd.DataFrame, target: Path) -> None:
    """Write atomically: a temporary sibling renamed onto the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    frame.to_parquet(staging, index=False)
    os.replace(staging, target)


def write_json(target: Path, content: dict[str, Any]) -> None:
    """Write JSON atomically."""
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    staging.write_text(json.dumps(content, indent=2, allow_nan=False) + "\n")
    os.replace(staging, target)


def new_manifest(spec: StudySpec, study_file: Path, points: list[StudyPoint]) -> dict[str, Any]:
    """The manifest of a study that has not started."""
    return {
        "study": spec.name,
        "study_file": str(study_file),
        "study_sha256": study_sha256(spec),
        "study_resolved": spec.model_dump(mode="json"),
        "version": __version__,
        "paths_per_point": spec.paths,
        "seed": points[0].scenario.simulation.seed if points else spec.seed,
        "metrics": list(spec.metric_keys),
        "parameters": list(spec.design.parameters),
        "status": "pending",
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "points": [
            {
                "point": p.index,
                "parameters": p.parameters,
                "scenario_sha256": scenario_sha256(p.scenario),
                "status": "pending",
            }
            for p in points
        ],
    }


def _open_directory(
    directory: Path, manifest: dict[str, Any], resume: bool, force: bool
) -> dict[str, Any]:
    """The manifest to continue from: a fresh one, or the one on disk when resuming the same study."""
    target = directory / MANIFEST
    if resume and target.is_file():
        old = json.loads(target.read_text())
        same = [p["scenario_sha256"] for p in old["points"]] == [p["scenario_sha256"] for p in manifest["points"]]
        if old.get("study_sha256") != manifest["study_sha256"] or not same:
            raise StudyError(f"{directory}: --resume: the study (or its base scenario) changed since it started")
        return dict(old)
    if directory.exists() and not resume:
        if not force:
            raise StudyError(f"{directory}: already exists; use --resume to continue it or --force to replace it")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return manifest


def _finish_point(
    directory: Path, spec: StudySpec, point: StudyPoint, outputs: list[BlockOutput], manifest: dict[str, Any]
) -> None:
    results = point_results(point.scenario, outputs)
    if spec.per_path:
        _write_parquet(results.paths, _partition(directory, "paths", point.index))
    _write_parquet(metric_rows(results.summary, spec.metric_keys), _partition(directory, "results", point.index))
    manifest["points"][point.index]["status"] = "done"
    write_json(directory / MANIFEST, manifest)


def _pending(directory: Path, points: list[StudyPoint]) -> list[StudyPoint]:
    return [p for p in points if not _partition(directory, "results", p.index).is_file()]


def run_study(
    spec: StudySpec,
    study_file: Path,
    points: list[StudyPoint],
    directory: Path,
    executor: Executor,
    resume: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every unfinished point; returns the final manifest. Ctrl-C leaves a resumable directory."""
    manifest = _open_directory(directory, new_manifest(spec, study_file, points), resume, force)
    shutil.copyfile(study_file, directory / "study.yaml")
    todo = _pending(directory, points)
    for point in points:  # a kill between a point's Parquet and the manifest leaves it marked pending
        if point not in todo:
            manifest["points"][point.index]["status"] = "done"
    blocks = point_blocks(spec)
    tasks = [(p.scenario, first, n) for p in todo for first, n in blocks]
    collected: dict[int, dict[int, BlockOutput]] = {p.index: {} for p in todo}
    by_index = {p.index: p for p in todo}
    manifest["status"] = "running"
    write_json(directory / MANIFEST, manifest)
    done = 0
    try:
        for task_index, output in executor.as_completed(point_block, tasks):
            point = todo[task_index // len(blocks)]
            collected[point.index][output.first_path] = output
            if len(collected[point.index]) == len(blocks):
                finished = collected.pop(point.index)
                ordered = [finished[first] for first, _ in blocks]
                _finish_point(directory, spec, by_index[point.index], ordered, manifest)
            done += 1
            if progress is not None:
                progress(done, len(tasks))
    except BaseException:
        manifest["status"] = "interrupted"
        write_json(directory / MANIFEST, manifest)
        raise
    manifest["status"] = "done"
    manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    write_json(directory / MANIFEST, manifest)
    return manifest


def load_study(directory: str | os.PathLike[str]) -> pd.DataFrame:
    """A study's results: one row per finished point, indexed by the parameters (so ``.to_xarray()`` gives the
    parameters as dimensions for a grid); columns ``point``, each metric, and ``METRIC.low`` / ``METRIC.high``."""
    root = Path(directory)
    manifest_file = root / MANIFEST
    if not manifest_file.is_file():
        raise StudyError(f"{root}: not a study directory (no {MANIFEST})")
    manifest = json.loads(manifest_file.read_text())
    rows = []
    for entry in manifest["points"]:
        part = _partition(root, "results", entry["point"])
        if not part.is_file():
            continue
        frame = pd.read_parquet(part).set_index("metric")
        row: dict[str, Any] = {**entry["parameters"], "point": entry["point"]}
        for metric, values in frame.iterrows():
            row[str(metric)] = values["value"]
            row[f"{metric}.low"], row[f"{metric}.high"] = values["low"], values["high"]
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*manifest["parameters"], "point"] if not rows else None)
    return table.set_index(manifest["parameters"])


def load_study_paths(directory: str | os.PathLike[str]) -> pd.DataFrame:
    """Per-path outcomes of every finished point (studies with ``per_path: true``), with a ``point`` column."""
    parts = sorted(Path(directory).glob("paths/point=*/part-0.parquet"))
    frames = [pd.read_parquet(p).assign(point=int(p.parent.name.split("=")[1])) for p in parts]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
