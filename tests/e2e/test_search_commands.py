"""reverse-stress and recommend on tiny runs: outputs, and bad input as exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import EXIT_INPUT, cli
from tests.e2e.test_studies import SMALL_BOOK

SMALL = [
    "--set", "simulation.horizon_days=120", "--set", "borrowers.cohorts[0].count=4",
    "--set", "borrowers.cohorts[1].count=2", "--set", "borrowers.cohorts[2].count=2",
    "--set", "borrowers.cohorts[3].count=2", "--set", "depositors.count=40", "--paths", "32",
]


def test_reverse_stress_writes_threshold_interval_and_scenario(tmp_path: Path) -> None:
    result = cli(
        tmp_path, "reverse-stress", "baseline", "--shock", "gpu_resale.depth", "--target", "prob_any_drawdown > 0.5",
        "--tolerance", "0.2", "--out", "out", *SMALL,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out/reverse.json").read_text())
    assert summary["status"] in ("found", "broken_at_low", "safe_in_range")
    xs = [e["x"] for e in summary["evaluations"]]
    assert xs[0] == 0.0 and xs[-1] == 0.95 and summary["interval"]["method"] == "bootstrap"
    if summary["status"] == "found":
        assert summary["interval"]["low"] <= summary["threshold"] <= summary["interval"]["high"]
        assert cli(tmp_path, "validate", "out/threshold_scenario.yaml").returncode == 0
    assert (tmp_path / "out/reverse.html").read_text().count("<img") == 1


def test_recommend_writes_markdown_and_json(tmp_path: Path) -> None:
    result = cli(
        tmp_path, "recommend", "baseline", "--budget", "p99_er_loss<=0.5, p_loss<=1", "--scenarios",
        "gpu_resale_crash", "--classes", "H100", "--tolerance", "0.4", "--out", "out", *SMALL,
    )
    assert result.returncode == 0, result.stderr
    content = json.loads((tmp_path / "out/recommend.json").read_text())
    assert content["cases"] == ["baseline", "gpu_resale_crash"]
    levers = [row["lever"] for row in content["recommendations"]]
    assert levers == ["max_ltv.H100", "max_loan_share"]
    assert all(row["status"] == "safe_in_range" for row in content["recommendations"])  # a budget nothing breaks
    assert content["recommendations"][0]["recommended"] == 0.95
    assert "| `max_ltv.H100` | 0.950 |" in (tmp_path / "out/recommend.md").read_text()
    assert (tmp_path / "out/recommend.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["reverse-stress", "baseline", "--shock", "gpu_resale.depth", "--target", "p99 >> 1"], "--target: "),
        (["reverse-stress", "baseline", "--shock", "protocol.grace_days", "--target", "p_loss > 0.1"], "--range: "),
        (["reverse-stress", "baseline", "--shock", "x.y", "--target", "p_loss > 0.1", "--range", "0:1"], "--set x.y: "),
        (["recommend", "baseline", "--budget", "p_loss"], "--budget: "),
        (["recommend", "baseline", "--budget", "p_loss<=0.1", "--classes", "Z100"], "--classes: "),
        (["recommend", "baseline", "--budget", "p_loss<=0.1", "--scenarios", "nope"], "nope: "),
    ],
)
def test_bad_search_input_is_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    result = cli(tmp_path, *args, "--out", "out")
    assert result.returncode == EXIT_INPUT, result.stderr
    assert result.stderr.startswith(expected) and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


SENSITIVITY_STUDY = """\
name: sens
base: baseline
set:
  simulation.horizon_days: 60
""" + SMALL_BOOK + """\
paths: 32
design:
  type: lhs
  parameters:
    markets.gpu.classes.H100.max_ltv: {low: 0.4, high: 0.8}
    markets.gpu.common.vol_per_sqrt_year: {low: 0.1, high: 0.5}
metrics: [p99_er_loss, default_rate, p99_longest_wait_days]
sensitivity: {method: morris, samples: 2}
"""


def test_sensitivity_writes_indices_tornado_and_report(tmp_path: Path) -> None:
    (tmp_path / "sens.yaml").write_text(SENSITIVITY_STUDY)
    result = cli(tmp_path, "sensitivity", "sens.yaml", "--out", "out", "--quiet", "--workers", "2")
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "out/sensitivity.json").read_text())
    assert found["method"] == "morris" and "susdai_var_99" in found["metrics"]
    entry = found["metrics"]["susdai_var_99"]
    assert set(entry["indices"]) == set(entry["tornado"]) == {
        "markets.gpu.classes.H100.max_ltv",
        "markets.gpu.common.vol_per_sqrt_year",
    }
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    assert len(manifest["points"]) == 2 * 3 + 5  # Morris: samples x (parameters + 1); tornado: 2 x parameters + 1
    assert (tmp_path / "out/study.html").read_text().count("<img") >= 2 * len(found["metrics"])


def test_sensitivity_needs_ranges(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text("base: baseline\ndesign:\n  parameters:\n    simulation.seed: {values: [1]}\n")
    result = cli(tmp_path, "sensitivity", "tiny.yaml", "--out", "out")
    assert result.returncode == EXIT_INPUT, result.stderr
    assert result.stderr.startswith("tiny.yaml:2: design.type: sensitivity needs ranges")
