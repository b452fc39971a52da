"""Studies: identical numbers on every executor, resume after a kill, study-file errors at their line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.test_cli import CLI, EXIT_INPUT, cli
from usdai_sim import load_study, simulate
from usdai_sim.engine import with_overrides
from usdai_sim.executors import DaskExecutor, LocalExecutor
from usdai_sim.scenario.library import load_scenario
from usdai_sim.studies.run import build_points, run_study
from usdai_sim.studies.spec import load_study_file

SMALL_BOOK = """\
  borrowers.cohorts[0].count: 4
  borrowers.cohorts[1].count: 4
  borrowers.cohorts[2].count: 2
  borrowers.cohorts[3].count: 2
  depositors.count: 40
"""
"""Study ``set`` entries (under ``set:``) for a tiny book: 12 borrowers, 40 depositors."""
STUDY = """\
name: tiny
base: baseline
set:
  simulation.horizon_days: {horizon}
""" + SMALL_BOOK + """\
paths: 64
block_paths: {block}
design:
  type: grid
  parameters:
    markets.gpu.classes.H100.max_ltv: {{values: {ltvs}}}
    protocol.allocation.max_loan_share: {{values: [0.3, 0.6]}}
per_path: true
"""


def write_study(directory: Path, block: int = 32, horizon: int = 20, ltvs: str = "[0.5, 0.7]") -> Path:
    path = directory / "tiny.yaml"
    path.write_text(STUDY.format(block=block, horizon=horizon, ltvs=ltvs))
    return path


SMALL_SCENARIO = with_overrides(
    load_scenario("baseline", ["simulation.horizon_days=20", "borrowers.cohorts[0].count=4", "depositors.count=40"])[0],
    paths=64,
)


class _NoSharedDisk:
    """A Dask executor presented as one whose workers cannot see this machine's scratch files."""

    shares_disk = False

    def __init__(self, inner: DaskExecutor) -> None:
        self.inner, self.workers = inner, inner.workers

    def as_completed(self, fn, tasks):  # type: ignore[no-untyped-def]
        return self.inner.as_completed(fn, tasks)

    def close(self) -> None:
        return None


def run_api(study: Path, out: Path, executor: object) -> pd.DataFrame:
    spec, provenance = load_study_file(study)
    run_study(spec, study, build_points(spec, provenance, study), out, executor)  # type: ignore[arg-type]
    return load_study(out)


def test_same_numbers_on_local_1_local_2_and_dask(tmp_path: Path) -> None:
    one = run_api(write_study(tmp_path, block=32), tmp_path / "one", LocalExecutor(1))
    two = run_api(write_study(tmp_path, block=64), tmp_path / "two", LocalExecutor(2))
    dask = DaskExecutor("local", 2)
    try:
        on_dask = run_api(write_study(tmp_path, block=32), tmp_path / "dask", dask)
        runs = [simulate(SMALL_SCENARIO, executor=ex, block_paths=32) for ex in (dask, _NoSharedDisk(dask))]
        worker_trim = dask.client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
    finally:
        dask.close()
    assert set(worker_trim.values()) == {None}, "LocalCluster workers must keep glibc's dynamic mmap threshold"
    local = simulate(SMALL_SCENARIO)
    for run in runs:  # run --executor dask: series written by the workers, or sent back by them
        for frame in ("paths", "bands", "ledger", "waits"):
            pd.testing.assert_frame_equal(getattr(local, frame), getattr(run, frame), check_exact=True)
    assert one.shape == (4, 1 + 3 * 8) and one.index.names == [
        "markets.gpu.classes.H100.max_ltv",
        "protocol.allocation.max_loan_share",
    ]
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(one, on_dask, check_exact=True)
    paths = [pd.read_parquet(tmp_path / d / "paths/point=00003/part-0.parquet") for d in ("one", "two", "dask")]
    pd.testing.assert_frame_equal(paths[0], paths[1], check_exact=True)
    pd.testing.assert_frame_equal(paths[0], paths[2], check_exact=True)
    grid = one.to_xarray()
    assert dict(grid.sizes) == {"markets.gpu.classes.H100.max_ltv": 2, "protocol.allocation.max_loan_share": 2}


def test_killed_study_resumes_to_the_same_numbers(tmp_path: Path) -> None:
    study = write_study(tmp_path, horizon=60, ltvs="[0.5, 0.6, 0.7]")
    reference = run_api(study, tmp_path / "reference", LocalExecutor(1))
    process = subprocess.Popen([*CLI, "sweep", str(study), "--out", "out", "--quiet"], cwd=tmp_path)
    first = tmp_path / "out/results/point=00000/part-0.parquet"
    deadline = time.monotonic() + 300
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = sorted((tmp_path / "out/results").glob("point=*"))
    assert 1 <= len(finished) < 6, "the kill should land mid-study"
    stamps = {p.name: (p / "part-0.parquet").stat().st_mtime_ns for p in finished}
    result = cli(tmp_path, "sweep", str(study), "--out", "out", "--resume", "--quiet")
    assert result.returncode == 0, result.stderr
    pd.testing.assert_frame_equal(load_study(tmp_path / "out"), reference, check_exact=True)
    assert all((tmp_path / "out/results" / n / "part-0.parquet").stat().st_mtime_ns == t for n, t in stamps.items())
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    assert manifest["status"] == "done" and {p["status"] for p in manifest["points"]} == {"done"}
    assert (tmp_path / "out/study.html").read_text().count("<img") >= 5  # a metric that is NaN everywhere has none


def test_existing_study_directory_needs_resume_or_force(tmp_path: Path) -> None:
    study = write_study(tmp_path)
    assert cli(tmp_path, "sweep", str(study), "--out", "out", "--quiet").returncode == 0
    again = cli(tmp_path, "sweep", str(study), "--out", "out")
    assert again.returncode == EXIT_INPUT and "--resume" in again.stderr
    study.write_text(study.read_text().replace("paths: 64", "paths: 32"))
    changed = cli(tmp_path, "sweep", str(study), "--out", "out", "--resume")
    assert changed.returncode == EXIT_INPUT and "changed since it started" in changed.stderr


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("{values: [0.5, 0.7]}", "{values: [0.5, 1.7]}"),
            "tiny.yaml:15: design.parameters.markets.gpu.classes.H100.max_ltv:",
        ),
        (("type: grid", "type: lattice"), "tiny.yaml:13: design.type:"),
        (("paths: 64", "paths: -1"), "tiny.yaml:10: paths:"),
        (("depositors.count: 40", "depositors.count: nan"), "tiny.yaml:9: set.depositors.count:"),
    ],
)
def test_bad_study_file_is_one_line_at_its_line(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    study = write_study(tmp_path)
    study.write_text(study.read_text().replace(*edit))
    result = cli(tmp_path, "sweep", "tiny.yaml", "--out", "out")
    assert result.returncode == EXIT_INPUT
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
