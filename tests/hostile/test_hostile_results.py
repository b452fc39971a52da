"""Corrupt, foreign and other-version results directories given to `report` and `compare`.

Each is refused with status 2 and one line naming the damaged file; nothing in the sandbox changes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hostile_support import assert_refused_untouched


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _json_text(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text, encoding="utf-8")


def _manifest_field(key: str, value: object) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        data = json.loads(path.read_text())
        data[key] = value
        path.write_text(json.dumps(data))

    return change


def _foreign_parquet(path: Path) -> None:
    pd.DataFrame({"x": [1, 2, 3]}).to_parquet(path)


COMPARE_IDS = ("summary-garbage", "parquet-truncated", "parquet-foreign", "newer-format")
"""compare reads results as report does; a few cases show it (each subprocess costs about two seconds)."""
DAMAGE = [
    pytest.param("summary.json", _json_text("{not json"), "summary.json: not valid JSON", id="summary-garbage"),
    pytest.param("summary.json", _json_text("[1, 2]"), "summary.json: not valid results JSON", id="summary-list"),
    pytest.param("summary.json", _json_text('{"meta": {}}'), "summary.json: missing metrics", id="summary-partial"),
    pytest.param("summary.json", lambda p: p.write_bytes(b"\xff\xfe\x00"), "summary.json: not valid JSON",
                 id="summary-binary"),
    pytest.param("paths.parquet", _truncate, "paths.parquet: not a readable Parquet file", id="parquet-truncated"),
    pytest.param("timeseries.parquet", _json_text("PAR1 nope"), "timeseries.parquet: not a readable Parquet",
                 id="parquet-garbage"),
    pytest.param("ledger.parquet", _foreign_parquet, "ledger.parquet: not a usdai-sim results file",
                 id="parquet-foreign"),
    pytest.param("waits.parquet", lambda p: p.unlink(), "waits.parquet: missing", id="parquet-missing"),
    pytest.param("scenario.json", _json_text('{"simulation": {"paths": -1}}'), "scenario.json: not a valid scenario",
                 id="scenario-invalid"),
    pytest.param("manifest.json", _manifest_field("format", 99), "manifest.json: results format 99",
                 id="newer-format"),
    pytest.param("manifest.json", _manifest_field("format", 0), "manifest.json: results format 0",
                 id="older-format"),
    pytest.param("manifest.json", _manifest_field("kind", "comparison"), "manifest.json: a comparison directory",
                 id="comparison-not-results"),
    pytest.param("manifest.json", _json_text("nul"), "manifest.json: not valid JSON", id="manifest-garbage"),
]


COMMANDS = [("report", d) for d in DAMAGE] + [("compare", d) for d in DAMAGE if d.id in COMPARE_IDS]


@pytest.mark.parametrize(("command", "file", "damage", "expected"), [
    pytest.param(command, *d.values, id=f"{command}-{d.id}") for command, d in COMMANDS
])
def test_damaged_results_refused(
    tmp_path: Path, results_dir: Path, command: str, file: str, damage: Callable[[Path], None], expected: str
) -> None:
    copy = tmp_path / "res"
    shutil.copytree(results_dir, copy)
    damage(copy / file)
    args = [command, "res"] if command == "report" else [command, "res", str(results_dir), "--out", "cmp"]
    line = assert_refused_untouched(tmp_path, *args)
    assert line.startswith(f"res/{expected}"), line


@pytest.mark.parametrize("command", ["report", "compare"])
def test_not_a_results_directory_refused(tmp_path: Path, command: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "afile").write_text("x")
    for target in ("empty", "afile", "missing"):
        args = [command, target] if command == "report" else [command, target, "--out", "cmp"]
        line = assert_refused_untouched(tmp_path, *args)
        assert line.startswith(f"{target}: not a"), line
