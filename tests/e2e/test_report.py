"""End to end: ``usdai-sim run`` / ``report`` / ``compare`` write a complete, self-contained risk report.

The expensive runs (baseline, 32 paths, 1095 days; a GPU-crash variant, 32 paths, 365 days) happen once
per test session, even under pytest-xdist: workers share them through a directory guarded by a file lock.
"""

from __future__ import annotations

import csv
import fcntl
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pytest

from usdai_sim.report.build import (
    METRIC_DOCS,
    METRIC_GROUPS,
    METRIC_KEYS,
    assumptions,
    fmt,
)
from usdai_sim.scenario.library import load_scenario, scenario_sha256
from usdai_sim.scenario.schema import GpuResaleShock, Scenario
from usdai_sim.tidy import flat_numbers

PATHS = "32"
CLI_TIMEOUT_S = 600
BROWSER_TIMEOUT_S = 60
MIN_PIXEL_STD = 0.02
HELD_CLASSES = ("H100", "H200", "B200", "GB200")
RUN_FIGURES = {"exchange_ratio", "holder_loss", "nav_attribution", "loss_waterfall", "defaults", "seasoning", "ltv",
               "queue",
               "loss_split", "secondary_discount", "waits", "wait_survival",
               "utilisation", "tbill", *(f"resale_index_{c}" for c in HELD_CLASSES),
               *(f"rental_{c}" for c in HELD_CLASSES)}
COMPARISON_FIGURES = {"exchange_ratio", "holder_loss", "defaults", "queue"}
MANIFEST_KEYS = ("scenario_sha256", "seed", "paths", "borrowers", "depositors", "steps", "step_days",
                 "version")
CRASH_YAML = """\
extends: baseline
name: gpu_crash
description: Baseline with GPU resale prices falling by half over six months from day 30.
simulation:
  horizon_days: 365
shocks:
  - {type: gpu_resale, change: -0.5, start_day: 30, duration_days: 180, shape: ramp}
"""
EXTERNAL_REF = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
ATTRIBUTE_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


# ---------------------------------------------------------------- shared runs


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m usdai_sim ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "usdai_sim", *args], capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S, check=False)


def cli_ok(*args: str) -> None:
    """Run the CLI and fail the test with its stderr unless it exits 0."""
    done = cli(*args)
    assert done.returncode == 0, f"usdai-sim {' '.join(args)} exited {done.returncode}:\n{done.stderr}"


def shared_root(factory: pytest.TempPathFactory) -> Path:
    """A directory every xdist worker of this session sees (the session's own temp dir without xdist)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def produce_once(target: Path, produce: Callable[[Path], None]) -> Path:
    """Make ``target`` with ``produce`` unless another worker already has (its manifest or report exists)."""
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "report.html").is_file():
            produce(target)
    return target


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return produce_once(shared_root(tmp_path_factory) / "e2e_baseline",
                        lambda out: cli_ok("run", "baseline", "--paths", PATHS, "--out", str(out), "--quiet"))


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = shared_root(tmp_path_factory)

    def produce(out: Path) -> None:
        scenario_file = root / "e2e_gpu_crash.yaml"
        scenario_file.write_text(CRASH_YAML)
        cli_ok("run", str(scenario_file), "--paths", PATHS, "--out", str(out), "--quiet")

    return produce_once(root / "e2e_gpu_crash", produce)


@pytest.fixture(scope="module")
def comparison(baseline_run: Path, crash_run: Path) -> Path:
    out = baseline_run.parent / "e2e_compare"
    return produce_once(out, lambda o: cli_ok("compare", str(baseline_run), str(crash_run), "--out", str(o)))


# ---------------------------------------------------------------- helpers


def assert_png_decodes(path: Path) -> None:
    """The PNG decodes and is not one flat colour."""
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 100, path
    assert pixels[..., :3].std() > MIN_PIXEL_STD, path


def assert_self_contained(html: str) -> None:
    """No src/href reaches the network, and every image is an embedded PNG."""
    assert not EXTERNAL_REF.search(html), EXTERNAL_REF.search(html)
    assert "url(http" not in html and "@import" not in html
    refs = ATTRIBUTE_REF.findall(html)
    assert all(ref.startswith(("#", "data:image/png;base64,")) for ref in refs), [r[:40] for r in refs]
    assert re.findall(r"<img[^>]+src=\"data:image/png;base64,", html)


def read_metrics_csv(path: Path) -> list[list[str]]:
    """The rows of a metrics.csv, header first."""
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


# ---------------------------------------------------------------- one run


def test_run_writes_every_file(baseline_run: Path) -> None:
    for name in ("report.html", "report.md", "metrics.csv", "manifest.json", "summary.json"):
        assert (baseline_run / name).is_file(), name
    assert {p.stem for p in (baseline_run / "figures").glob("*.png")} == RUN_FIGURES


def test_manifest_records_identity_and_timings(baseline_run: Path) -> None:
    manifest = json.loads((baseline_run / "manifest.json").read_text())
    for key in MANIFEST_KEYS:
        assert key in manifest, key
    assert manifest["paths"] == int(PATHS)
    assert manifest["timings"]["simulate_s"] > 0 and manifest["timings"]["report_s"] > 0
    scenario = Scenario.model_validate_json((baseline_run / "scenario.json").read_text())
    assert manifest["scenario_sha256"] == scenario_sha256(scenario)


def test_report_html_is_self_contained(baseline_run: Path) -> None:
    assert_self_contained((baseline_run / "report.html").read_text())


def test_report_states_identity_assumptions_and_timing(baseline_run: Path) -> None:
    manifest = json.loads((baseline_run / "manifest.json").read_text())
    for text in ((baseline_run / "report.html").read_text(), (baseline_run / "report.md").read_text()):
        for fact in ("baseline", str(manifest["seed"]), manifest["scenario_sha256"], "1095 days",
                     "Key metrics", "What this scenario assumes", "This is the baseline scenario",
                     "simulation took", "timings.report_s", "How to read it"):
            assert fact in text, fact


def test_every_png_decodes(baseline_run: Path) -> None:
    for path in (baseline_run / "figures").glob("*.png"):
        assert_png_decodes(path)


def test_markdown_links_every_figure(baseline_run: Path) -> None:
    links = set(re.findall(r"\]\((figures/[^)]+\.png)\)", (baseline_run / "report.md").read_text()))
    assert links == {f"figures/{p.name}" for p in (baseline_run / "figures").glob("*.png")}


def test_metrics_csv_matches_summary(baseline_run: Path) -> None:
    summary = json.loads((baseline_run / "summary.json").read_text())
    flat = flat_numbers(summary)
    rows = read_metrics_csv(baseline_run / "metrics.csv")
    assert rows[0] == ["metric", "value"]
    assert [r[0] for r in rows[1:]] == list(flat)
    for key, value in rows[1:]:
        expected = flat[key]
        assert (value == "") if expected is None else math.isclose(float(value), float(expected)), key


def test_metric_docs_match_summary_keys(baseline_run: Path) -> None:
    summary = json.loads((baseline_run / "summary.json").read_text())
    assert set(METRIC_DOCS) == set(summary) - {"meta", "intervals"}
    assert tuple(METRIC_DOCS) == METRIC_KEYS
    grouped = [key for keys in METRIC_GROUPS.values() for key in keys]
    assert sorted(grouped) == sorted(METRIC_KEYS)
    assert all(unit and description for unit, description in METRIC_DOCS.values())


def test_report_command_rebuilds_the_report(baseline_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(baseline_run, copy)
    shutil.rmtree(copy / "figures")
    for name in ("report.html", "report.md", "metrics.csv"):
        (copy / name).unlink()
    cli_ok("report", str(copy))
    assert (copy / "report.html").read_text() == (baseline_run / "report.html").read_text()
    assert {p.name for p in (copy / "figures").glob("*.png")} == {f"{n}.png" for n in RUN_FIGURES}


def test_shocked_run_lists_its_assumptions(crash_run: Path) -> None:
    text = (crash_run / "report.md").read_text()
    assert "differ from the baseline scenario 'baseline'" in text
    assert "`simulation.horizon_days` | 1095 | 365" in text
    assert "gpu_resale (change=-0.5): from day 30, ramp over 180 days" in text


# ---------------------------------------------------------------- comparison


def test_compare_writes_its_report(comparison: Path, baseline_run: Path, crash_run: Path) -> None:
    for name in ("report.html", "report.md", "metrics.csv"):
        assert (comparison / name).is_file(), name
    assert {p.stem for p in (comparison / "figures").glob("*.png")} == COMPARISON_FIGURES
    for path in (comparison / "figures").glob("*.png"):
        assert_png_decodes(path)
    html = (comparison / "report.html").read_text()
    assert_self_contained(html)
    assert "different horizons" in html and "gpu_resale" in html
    rows = read_metrics_csv(comparison / "metrics.csv")
    assert rows[0] == ["metric", baseline_run.name, crash_run.name]
    assert all(len(row) == 3 for row in rows)


# ---------------------------------------------------------------- in a browser


@pytest.mark.parametrize("which", ["baseline_run", "comparison"])
def test_report_renders_in_headless_chromium(which: str, request: pytest.FixtureRequest,
                                             tmp_path: Path) -> None:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed (CI installs it with apt-get in .ci/run)")
    report = request.getfixturevalue(which) / "report.html"
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2000",
         report.resolve().as_uri()],
        capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False)
    problems = [line for line in done.stderr.splitlines()
                if "Uncaught" in line or "ERR_FILE_NOT_FOUND" in line]
    assert not problems, problems
    assert shot.is_file(), done.stderr
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    assert float(np.std(pixels[..., :3])) > MIN_PIXEL_STD


# ---------------------------------------------------------------- report text helpers


def test_assumptions_say_what_differs_from_the_baseline() -> None:
    base, _ = load_scenario("baseline")
    assert "No baseline" in assumptions(base, None)["status"]
    assert assumptions(base, base)["status"].startswith("This is the baseline scenario")
    smaller = base.model_copy(update={"simulation": base.simulation.model_copy(update={"paths": 8})})
    sized = assumptions(smaller, base)
    assert sized["status"].startswith("This is the baseline scenario")
    assert sized["settings"] == [("simulation.paths", "1000", "8")]
    renamed = assumptions(base.model_copy(update={"name": "copy"}), base)
    assert renamed["status"].startswith("No model parameter differs")
    shock = GpuResaleShock(type="gpu_resale", change=-0.3, start_day=10, duration_days=None, probability=0.5)
    shocked = assumptions(base.model_copy(update={"name": "s", "shocks": (shock,)}), base)
    assert [row[0] for row in shocked["rows"]] == ["shocks"]
    assert shocked["shocks"] == ["gpu_resale (change=-0.3): from day 10, permanent; on 50% of paths, "
                                 "starting within 0 days of that day"]


@pytest.mark.parametrize(("value", "unit", "text"), [
    (None, "fraction", "n/a"), (float("nan"), "days", "n/a"), (0.01234, "fraction", "1.23%"),
    (0.0525, "annual decimal", "5.25%"), (1.5e6, "USD", "$1.50M"), (2500.0, "USD", "$2.5k"),
    (12.0, "USD", "$12"), (30.0, "days", "30"), (16.3, "days", "16.3"),
    (1.26944, "USDai per sUSDai", "1.2694"), (367, "count", "367"), (1.34375, "defaults per path", "1.34"),
])
def test_fmt_shows_units(value: float | None, unit: str, text: str) -> None:
    assert fmt(value, unit) == text


@pytest.mark.parametrize("which", ["baseline_run", "comparison"])
def test_report_images_load_without_errors_or_overflow(which: str, request: pytest.FixtureRequest,
                                                        chromium_page: Any) -> None:
    """In Chromium at 1280 px: no console errors, every image decoded, nothing wider than the window."""
    report = request.getfixturevalue(which) / "report.html"
    chromium_page.goto(report.resolve().as_uri())
    chromium_page.wait_for_load_state("load")
    broken = chromium_page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length")
    images = chromium_page.evaluate("document.images.length")
    overflow = chromium_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert images > 0 and broken == 0
    assert overflow <= 0, f"page is {overflow} px wider than 1280 px"
    assert chromium_page.console_errors == []


# ---------------------------------------------------------------- issue 17: risk report content


def test_report_leads_with_positive_losses_waterfall_and_inputs(baseline_run: Path) -> None:
    for text in ((baseline_run / "report.html").read_text(), (baseline_run / "report.md").read_text()):
        for fact in ("principal_loss_es_99", "tbill_shortfall_annualised_es_99", "Loss waterfall",
                     "loss to sUSDai holders", "Inputs: how to reproduce this report", "MC interval",
                     "default route, cohort and GPU", "neocloud_h100"):
            assert fact in text, fact
    summary = json.loads((baseline_run / "summary.json").read_text())
    assert all(summary[k] >= 0 for k in ("principal_loss_var_99", "tbill_shortfall_es_99"))
    rerun = load_scenario(baseline_run / "scenario.yaml")[0]
    assert scenario_sha256(rerun) == json.loads((baseline_run / "manifest.json").read_text())["scenario_sha256"]


def test_comparison_ranks_and_shows_deltas(comparison: Path) -> None:
    for text in ((comparison / "report.html").read_text(), (comparison / "report.md").read_text()):
        assert "Ranking by principal_loss_es_99" in text and "Differences from" in text and " pp" in text


def test_compare_rank_by_other_metric_and_unknown_metric(baseline_run: Path, crash_run: Path,
                                                         tmp_path: Path) -> None:
    ok = cli("compare", str(baseline_run), str(crash_run), "--out", str(tmp_path / "c"),
             "--rank-by", "tbill_shortfall_es_99")
    assert ok.returncode == 0, ok.stderr
    assert "Ranking by tbill_shortfall_es_99" in (tmp_path / "c" / "report.md").read_text()
    bad = cli("compare", str(baseline_run), str(crash_run), "--out", str(tmp_path / "d"),
              "--rank-by", "no_such_metric")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--rank-by" in bad.stderr
    assert not (tmp_path / "d").exists()
