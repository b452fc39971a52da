"""``--set`` on the command line: ``run`` and ``validate`` apply it; a bad one is exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import EXIT_INPUT, cli


def test_run_applies_set(tmp_path: Path) -> None:
    result = cli(
        tmp_path, "run", "baseline", "--paths", "32", "--out", "out", "--quiet", "--no-report",
        "--set", "simulation.horizon_days=10", "--set", "protocol.allocation.max_loan_share=0.3",
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["scenario_resolved"]["protocol"]["allocation"]["max_loan_share"] == 0.3
    assert manifest["horizon_days"] == 10


def test_bad_set_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    for command in ("run", "validate"):
        result = cli(tmp_path, command, "baseline", "--set", "protocol.allocation.max_loan_share=nan")
        assert result.returncode == EXIT_INPUT
        assert result.stderr.startswith("--set protocol.allocation.max_loan_share: ")
        assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_until_precise_records_the_paths_it_took(tmp_path: Path) -> None:
    result = cli(
        tmp_path, "run", "baseline", "--paths", "32", "--out", "out", "--no-report",
        "--set", "simulation.horizon_days=30", "--until-precise", "p99_er_loss:0.05", "--max-paths", "96",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    precision = summary["precision"]
    assert precision["metric"] == "susdai_var_99" and precision["paths"] == summary["meta"]["paths"]
    assert precision["rounds"][0]["paths"] == 32
    assert "precision" in json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert f"with {precision['paths']} paths" in result.stdout
    entry = summary["intervals"]["susdai_es_99"]
    assert set(entry) == {"low", "high", "method", "level", "tail_paths"} and entry["method"] == "bootstrap"


def test_until_precise_bad_target_is_exit_2(tmp_path: Path) -> None:
    result = cli(tmp_path, "run", "baseline", "--until-precise", "es99_er_loss:-1")
    assert result.returncode == EXIT_INPUT and result.stderr.startswith("--until-precise: ")
