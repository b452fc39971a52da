"""End-to-end tests of the ``usdai-sim`` command line, each command run as a subprocess.

Every command runs with ``cwd=tmp_path`` and ``--out`` inside it, so nothing is written into the
repository. Bad input must end with exit status 2, exactly one ``FILE:LINE: key: message (got X)``
line on stderr (the parts that apply), no traceback, and nothing written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import error_line, write

from usdai_sim import __version__
from usdai_sim.scenario.library import DEFAULT_SCENARIO, builtin_names, load_scenario

CLI = (sys.executable, "-m", "usdai_sim")
EXIT_INPUT = 2
SHORT_HORIZON_DAYS = 180
TIMEOUT_S = 600
RESULT_FILES = ("manifest.json", "summary.json", "timeseries.parquet", "paths.parquet")
TINY = "extends: baseline\nsimulation: {horizon_days: 10, paths: 32}\n"
"""A valid scenario that runs in about a second."""


def cli(cwd: Path, *args: str, command: tuple[str, ...] = CLI) -> subprocess.CompletedProcess[str]:
    """Run the command line in ``cwd``; stdout and stderr captured as text."""
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )


def short_horizon_days(name: str) -> int:
    """The shortest horizon, at least 180 days and a multiple of the step, that every shock starts within."""
    scenario, _ = load_scenario(name)
    step = scenario.simulation.step_days
    latest = max((s.start_day + s.start_window_days for s in scenario.shocks), default=0.0)
    days = max(SHORT_HORIZON_DAYS, int(latest) + 1)
    return -(-days // step) * step


def staging_left(directory: Path) -> list[Path]:
    """Temporary siblings of an ``out`` directory (``.out.*``) that a run left behind."""
    return sorted(directory.glob(".out.*"))


def assert_rejected(
    tmp_path: Path, result: subprocess.CompletedProcess[str], prefix: str, got: str | None
) -> None:
    """Status 2, one ``prefix... (got X)`` line, and no output directory or staging left."""
    line = error_line(result)
    assert line.startswith(prefix), line
    if got is not None:
        assert line.endswith(f"(got {got})"), line
    assert not (tmp_path / "out").exists()
    assert staging_left(tmp_path) == []


# ---------------------------------------------------------------- the shipped scenarios


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_validates(tmp_path: Path, name: str) -> None:
    """`validate NAME` accepts every shipped scenario."""
    result = cli(tmp_path, "validate", name)
    assert result.returncode == 0, result.stderr
    assert f"ok ({name}:" in result.stdout


@pytest.mark.parametrize("name", [n for n in builtin_names() if n != DEFAULT_SCENARIO])
def test_builtin_runs_short(tmp_path: Path, name: str) -> None:
    """Every shipped scenario runs at 32 paths over a short horizon that still covers its shocks.

    The baseline is left out: test_baseline_full_run_replaces_results runs it over its full horizon.
    """
    days = short_horizon_days(name)
    text = f"extends: {name}\nsimulation: {{horizon_days: {days}, paths: 32}}\n"
    scenario = write(tmp_path / "short.yaml", text)
    result = cli(tmp_path, "run", str(scenario), "--out", "out", "--quiet", "--no-report")
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "out" / "summary.json").read_text())["meta"]
    assert (meta["scenario"], meta["horizon_days"], meta["paths"]) == ("short", days, 32)  # named after its file


def test_baseline_full_run_replaces_results(tmp_path: Path) -> None:
    """The full baseline with --force swaps its results in for an old directory, leaving no staging."""
    (tmp_path / "out").mkdir()
    write(tmp_path / "out" / "stale.txt", "old")
    write(tmp_path / "out" / "manifest.json", json.dumps({"tool": "usdai-sim", "kind": "results"}))
    result = cli(tmp_path, "run", DEFAULT_SCENARIO, "--paths", "32", "--out", "out", "--force")
    assert result.returncode == 0, result.stderr
    assert "sUSDai exchange ratio at horizon" in result.stdout
    for name in RESULT_FILES:
        assert (tmp_path / "out" / name).is_file(), name
    assert not (tmp_path / "out" / "stale.txt").exists()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["scenario_resolved"]["name"] == DEFAULT_SCENARIO
    assert staging_left(tmp_path) == []


# ---------------------------------------------------------------- the other commands


def test_list_prints_every_builtin(tmp_path: Path) -> None:
    """`list` prints one line per shipped scenario, its name first."""
    result = cli(tmp_path, "list")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == builtin_names()


def test_schema_is_json(tmp_path: Path) -> None:
    """`schema` prints the scenario's JSON Schema."""
    result = cli(tmp_path, "schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert "properties" in schema and "simulation" in schema["properties"]


def test_version(tmp_path: Path) -> None:
    """`--version` prints the package version."""
    result = cli(tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"usdai-sim {__version__}"


def test_console_script(tmp_path: Path) -> None:
    """The installed `usdai-sim` script runs the same command line as `python -m usdai_sim`."""
    beside = Path(sys.executable).with_name("usdai-sim")
    script = str(beside) if beside.is_file() else shutil.which("usdai-sim")
    if script is None:
        pytest.skip("the usdai-sim console script is not installed (pip install -e .)")
    result = cli(tmp_path, "validate", "baseline", command=(script,))
    assert result.returncode == 0, result.stderr
    assert cli(tmp_path, "--version", command=(script,)).stdout.strip() == f"usdai-sim {__version__}"


# ---------------------------------------------------------------- bad input: status 2, one line, no output

BAD_SCENARIOS = [
    pytest.param({}, "missing.yaml", "missing.yaml: no such file", None, id="missing-file"),
    pytest.param({"bad.yaml": None}, "bad.yaml", "bad.yaml: is a directory", None, id="directory"),
    pytest.param({"bad.yaml": ""}, "bad.yaml", "bad.yaml: file is empty", None, id="empty-file"),
    pytest.param({"bad.yaml": b"name: caf\xe9\n"}, "bad.yaml", "bad.yaml:1: file is not UTF-8", "b'\\xe9'",
                 id="not-utf8"),
    pytest.param({"bad.yaml": "a: [1, 2\n"}, "bad.yaml", "bad.yaml:2: invalid YAML", None, id="not-yaml"),
    pytest.param({"bad.yaml": "- 1\n- 2\n"}, "bad.yaml", "bad.yaml:1: top level must be a mapping", "[1, 2]",
                 id="top-level-list"),
    pytest.param({"bad.yaml": "extends: baseline\nsimulation:\n  paths: many\n"}, "bad.yaml",
                 "bad.yaml:3: simulation.paths: ", "'many'", id="wrong-type"),
    pytest.param({"bad.yaml": "extends: baseline\nborrowers:\n  cohorts:\n    - {count: -1}\n"}, "bad.yaml",
                 "bad.yaml:4: borrowers.cohorts[0].count: ", "-1", id="negative-count"),
    pytest.param({"bad.yaml": "extends: baseline\nmarkets:\n  gpu:\n    classes:\n      H100:\n"
                              "        list_price_usd: 30000\n        rental_usd_per_gpu_hour: 2.95\n"
                              "        max_ltv: 1.5\n"}, "bad.yaml",
                 "bad.yaml:8: markets.gpu.classes.H100.max_ltv: ", "1.5", id="ltv-above-one"),
    pytest.param({"bad.yaml": "extends: baseline\nmarkets:\n  gpu:\n    classes:\n      H100:\n"
                              "        max_ltv: 1.5\n"}, "bad.yaml",
                 "bad.yaml:6: markets.gpu.classes.H100.max_ltv: ", "1.5", id="ltv-above-one-partial-class"),
    pytest.param({"bad.yaml": "extends: baseline\nmarkets:\n  rental:\n    vol_per_sqrt_year: .nan\n"},
                 "bad.yaml", "bad.yaml:4: markets.rental.vol_per_sqrt_year: must be a finite number", "nan",
                 id="nan"),
    pytest.param({"bad.yaml": "extends: baseline\nprotocol:\n  incentive_apr: .inf\n"}, "bad.yaml",
                 "bad.yaml:3: protocol.incentive_apr: must be a finite number", "inf", id="infinity"),
    pytest.param({"bad.yaml": "extends: baseline\nsimulaton:\n  paths: 4\n"}, "bad.yaml",
                 "bad.yaml:2: simulaton: unknown key; did you mean 'simulation'?", "{'paths': 4}",
                 id="unknown-key"),
    pytest.param({"a.yaml": "extends: b.yaml\nname: a\n", "b.yaml": "extends: a.yaml\nname: b\n"}, "a.yaml",
                 "b.yaml:1: extends: extends cycle: a.yaml -> b.yaml -> a.yaml", None, id="extends-cycle"),
    pytest.param({"bad.yaml": "extends: baseline\nsimulation: {horizon_days: 100}\nshocks:\n"
                              "  - {type: fraud_multiplier, multiplier: 2, start_day: 200}\n"}, "bad.yaml",
                 "bad.yaml:4: shocks[0].start_day: shock starts at or after the horizon", "200.0",
                 id="shock-after-horizon"),
]


@pytest.mark.parametrize(("files", "scenario", "prefix", "got"), BAD_SCENARIOS)
def test_bad_scenario_rejected(
    tmp_path: Path, files: dict[str, str | bytes | None], scenario: str, prefix: str, got: str | None
) -> None:
    """A bad scenario file stops `run` with status 2 and one located line; nothing is written."""
    for name, content in files.items():
        if content is None:
            (tmp_path / name).mkdir()
        else:
            write(tmp_path / name, content)
    result = cli(tmp_path, "run", scenario, "--out", "out", "--quiet", "--no-report")
    assert_rejected(tmp_path, result, prefix, got)


HUGE = "extends: baseline\nsimulation:\n  paths: 1000000\ndepositors:\n  count: 1000000\n"
"""A run whose arrays cannot fit in memory."""


def test_run_too_large_rejected(tmp_path: Path) -> None:
    """A run too large for memory stops with status 2, one line that suggests fewer paths; nothing written."""
    write(tmp_path / "huge.yaml", HUGE)
    result = cli(tmp_path, "run", "huge.yaml", "--out", "out", "--quiet", "--no-report")
    line = error_line(result)
    assert "fewer" in line and "paths" in line and line.endswith("(got 1000000)"), line
    assert not (tmp_path / "out").exists()
    assert staging_left(tmp_path) == []


def test_run_too_large_names_file_and_line(tmp_path: Path) -> None:
    """The memory guard's line points at the `paths` key of the scenario file."""
    write(tmp_path / "huge.yaml", HUGE)
    result = cli(tmp_path, "run", "huge.yaml", "--out", "out", "--quiet", "--no-report")
    assert error_line(result).startswith("huge.yaml:3: simulation.paths: ")


def test_existing_out_needs_force(tmp_path: Path) -> None:
    """An existing --out without --force is status 2 and leaves the directory untouched."""
    write(tmp_path / "tiny.yaml", TINY)
    (tmp_path / "out").mkdir()
    write(tmp_path / "out" / "keep.txt", "mine")
    result = cli(tmp_path, "run", "tiny.yaml", "--out", "out", "--quiet", "--no-report")
    assert error_line(result) == "out: already exists; use --force to replace it"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
    assert staging_left(tmp_path) == []


def test_zero_paths_rejected(tmp_path: Path) -> None:
    """`--paths 0` is status 2 with one line; nothing written."""
    write(tmp_path / "tiny.yaml", TINY)
    result = cli(tmp_path, "run", "tiny.yaml", "--paths", "0", "--out", "out", "--quiet", "--no-report")
    assert_rejected(tmp_path, result, "--paths: must be a positive number of paths", "0")


def test_out_under_a_file_rejected(tmp_path: Path) -> None:
    """An --out whose parent is a regular file is status 2 with one line, not a traceback."""
    write(tmp_path / "tiny.yaml", TINY)
    write(tmp_path / "afile", "")
    result = cli(tmp_path, "run", "tiny.yaml", "--out", "afile/out", "--quiet", "--no-report")
    assert error_line(result).startswith("afile")
