"""Hostile and careless input: each case is refused with status 2 and one line, and touches nothing.

Paths chosen by a scenario, `..`, absolute names, symbolic links, devices, FIFOs, huge files, deep and
cyclic `extends`, YAML alias bombs, NaN/inf, wrong types, unknown keys, foreign output directories.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from cli_support import write
from hostile_support import TINY, assert_refused_untouched, run_cli, snapshot

from usdai_sim.errors import ScenarioError
from usdai_sim.scenario.files import MAX_INPUT_BYTES
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.load import MAX_EXTENDS_DEPTH, validate
from usdai_sim.scenario.schema import Scenario

FAST_S = 20.0
"""A refusal that must not wait on its input (a FIFO, a device) finishes well within this (seconds)."""


# ---------------------------------------------------------------- names and output paths


SAFE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@pytest.mark.parametrize(
    ("name", "slug"),
    [("/ABS/victim", None), ("../../escape", "escape"), ("a/../../b", "a-b"), ("x" * 300, "x" * 64)],
)
def test_scenario_name_never_becomes_a_path(tmp_path: Path, name: str, slug: str | None) -> None:
    """A scenario's name is slugged under reports/; with --force nothing outside reports/SLUG changes."""
    victim = tmp_path / "victim"
    victim.mkdir()
    write(victim / "keep.txt", "mine")
    write(tmp_path / "evil.yaml", TINY + f"name: {json.dumps(name.replace('/ABS', str(victim.parent)))}\n")
    (tmp_path / "tmp").mkdir()
    before = snapshot(tmp_path)
    result = run_cli(tmp_path, "run", "evil.yaml", "--force", "--quiet", "--no-report")
    assert result.returncode == 0, result.stderr
    after = snapshot(tmp_path)
    made = sorted({Path(p).parts[1] for p in after if p not in before and p != "reports"})
    assert len(made) == 1 and SAFE_SLUG.fullmatch(made[0]), made
    assert slug is None or made[0] == slug
    assert all(Path(p).parts[0] == "reports" for p in after if p not in before)
    assert {p: v for p, v in after.items() if p in before} == before
    assert (tmp_path / "reports" / made[0] / "manifest.json").is_file()


def test_name_without_safe_characters_refused(tmp_path: Path) -> None:
    write(tmp_path / "evil.yaml", TINY + "name: '../..'\n")
    assert_refused_untouched(tmp_path, "run", "evil.yaml", "--force", contains="no safe directory name")


def test_force_never_replaces_a_foreign_directory(tmp_path: Path) -> None:
    """--force over a directory without a usdai-sim manifest is refused; its files stay."""
    victim = tmp_path / "victim"
    victim.mkdir()
    write(victim / "thesis.tex", "years of work")
    write(victim / "manifest.json", json.dumps({"name": "someone else's"}))
    write(tmp_path / "s.yaml", TINY)
    assert_refused_untouched(tmp_path, "run", "s.yaml", "--out", "victim", "--force", contains="not a usdai-sim")


def test_force_over_dotdot_and_root_refused(tmp_path: Path) -> None:
    write(tmp_path / "s.yaml", TINY)
    inner = tmp_path / "inner"
    inner.mkdir()
    assert_refused_untouched(tmp_path, "run", "s.yaml", "--out", "inner/..", "--force", contains="not a usdai-sim")
    assert_refused_untouched(tmp_path, "run", "s.yaml", "--out", "/", "--force", contains="not a usdai-sim")


def test_symlinked_out_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    write(tmp_path / "s.yaml", TINY)
    assert_refused_untouched(tmp_path, "run", "s.yaml", "--out", "link", "--force", contains="symbolic link")


def test_out_under_a_file_refused(tmp_path: Path) -> None:
    write(tmp_path / "file", "x")
    write(tmp_path / "s.yaml", TINY)
    assert_refused_untouched(tmp_path, "run", "s.yaml", "--out", "file/out", contains="not a directory")


def test_compare_into_foreign_directory_refused(tmp_path: Path, results_dir: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    write(target / "notes.txt", "keep")
    assert_refused_untouched(
        tmp_path, "compare", str(results_dir), "--out", "mine", "--force", contains="not a usdai-sim"
    )


@pytest.mark.parametrize(("flag", "value"), [("--workers", "0"), ("--paths", "0"), ("--paths", "-5")])
def test_bad_flags_refused(tmp_path: Path, flag: str, value: str) -> None:
    write(tmp_path / "s.yaml", TINY)
    line = assert_refused_untouched(tmp_path, "run", "s.yaml", "--out", "out", flag, value)
    assert line.startswith(flag), line


def test_too_many_workers_capped_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path / "s.yaml", TINY)
    result = run_cli(tmp_path, "run", "s.yaml", "--out", "out", "--workers", "100000", "--quiet", "--no-report")
    assert result.returncode == 0, result.stderr
    assert "--workers 100000 is more than" in result.stderr


# ---------------------------------------------------------------- files that are not small regular files


def test_dev_zero_refused_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    assert_refused_untouched(tmp_path, "validate", "/dev/zero", contains="a device")
    assert_refused_untouched(tmp_path, "run", "/dev/zero", "--out", "out", contains="a device")
    assert time.monotonic() - started < 2 * FAST_S


def test_fifo_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    assert_refused_untouched(tmp_path, "validate", "pipe.yaml", contains="named pipe")
    write(tmp_path / "s.yaml", "extends: pipe.yaml\n")
    assert_refused_untouched(tmp_path, "validate", "s.yaml", contains="named pipe")


def test_fifo_and_device_csv_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "rates.csv")
    shock = "shocks:\n  - {type: tbill_path, csv: %s}\n"
    write(tmp_path / "a.yaml", TINY + shock % "rates.csv")
    assert_refused_untouched(tmp_path, "validate", "a.yaml", contains="named pipe")
    write(tmp_path / "b.yaml", TINY + shock % "/dev/zero")
    assert_refused_untouched(tmp_path, "validate", "b.yaml", contains="a device")


def test_huge_files_refused(tmp_path: Path) -> None:
    with open(tmp_path / "huge.yaml", "wb") as handle:
        handle.truncate(MAX_INPUT_BYTES + 1)  # sparse: costs no disk
    assert_refused_untouched(tmp_path, "validate", "huge.yaml", contains="larger than")
    with open(tmp_path / "huge.csv", "wb") as handle:
        handle.truncate(MAX_INPUT_BYTES + 1)
    write(tmp_path / "c.yaml", TINY + "shocks:\n  - {type: tbill_path, csv: huge.csv}\n")
    assert_refused_untouched(tmp_path, "validate", "c.yaml", contains="larger than")


def test_deep_extends_refused(tmp_path: Path) -> None:
    write(tmp_path / "s0.yaml", TINY)
    for i in range(1, MAX_EXTENDS_DEPTH + 2):
        write(tmp_path / f"s{i}.yaml", f"extends: s{i - 1}.yaml\n")
    assert_refused_untouched(tmp_path, "validate", f"s{MAX_EXTENDS_DEPTH + 1}.yaml", contains="deeper than")


def test_cyclic_extends_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: c.yaml\n")
    write(tmp_path / "c.yaml", "extends: a.yaml\n")
    assert_refused_untouched(tmp_path, "run", "a.yaml", "--out", "out", contains="extends cycle")
    write(tmp_path / "self.yaml", "extends: self.yaml\n")
    assert_refused_untouched(tmp_path, "validate", "self.yaml", contains="extends cycle")


def test_yaml_alias_bomb_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    write(tmp_path / "bomb.yaml", "\n".join([*lines, "simulation: *a9", ""]))
    assert_refused_untouched(tmp_path, "validate", "bomb.yaml", contains="expands to more than")


def test_recursive_alias_refused(tmp_path: Path) -> None:
    write(tmp_path / "loop.yaml", "a: &a [*a]\n")
    assert_refused_untouched(tmp_path, "validate", "loop.yaml")


@pytest.mark.parametrize(
    ("text", "contains"),
    [
        (TINY + "protocol: {incentive_apr: .nan}\n", "finite"),
        (TINY + "protocol: {first_loss_usd: -.inf}\n", "finite"),
        (TINY + "markets: {tbill: {initial_rate: .inf}}\n", "finite"),
        ("extends: baseline\nsimulation: {paths: .nan}\n", "simulation.paths"),
        ("extends: baseline\nsimulation: {paths: many}\n", "simulation.paths"),
        (TINY + "borrowers: {cohorts: {count: 3}}\n", "borrowers.cohorts"),
        (TINY + "depositors: [1, 2]\n", "depositors"),
        (TINY + "protocol: {grace_days: thirty}\n", "protocol.grace_days"),
        (TINY + "protocl: {grace_days: 30}\n", "unknown key"),
        (TINY + "protocol: {grace_dayz: 30}\n", "unknown key"),
        (b"\x00\x01\x02binary", ""),
        (b"name: caf\xe9\n", "UTF-8"),
    ],
    ids=["nan", "neg-inf", "inf", "nan-count", "word-count", "map-for-list", "list-for-map", "string-number",
         "unknown-section", "unknown-key", "binary", "latin1"],
)
def test_bad_values_refused(tmp_path: Path, text: str | bytes, contains: str) -> None:
    write(tmp_path / "bad.yaml", text)
    assert_refused_untouched(tmp_path, "run", "bad.yaml", "--out", "out", contains=contains)


def test_nan_in_rate_csv_refused(tmp_path: Path) -> None:
    write(tmp_path / "rates.csv", "day,rate\n0,0.04\n30,nan\n")
    write(tmp_path / "s.yaml", TINY + "shocks:\n  - {type: tbill_path, csv: rates.csv}\n")
    assert_refused_untouched(tmp_path, "validate", "s.yaml", contains="finite")


# ---------------------------------------------------------------- NaN/inf wherever a number goes (in-process)


def _numeric_leaves(obj: object, path: tuple = ()) -> list[tuple]:
    if isinstance(obj, dict):
        return [leaf for k, v in obj.items() for leaf in _numeric_leaves(v, (*path, k))]
    if isinstance(obj, list):
        return [leaf for i, v in enumerate(obj) for leaf in _numeric_leaves(v, (*path, i))]
    return [path] if isinstance(obj, int | float) and not isinstance(obj, bool) else []


def _set(data: dict, path: tuple, value: float) -> dict:
    copy = json.loads(json.dumps(data))
    node = copy
    for seg in path[:-1]:
        node = node[seg]
    node[path[-1]] = value
    return copy


@pytest.mark.parametrize("base", ["baseline", "severely_adverse"])
def test_non_finite_rejected_at_every_number(base: str) -> None:
    """Every numeric key of a resolved built-in, set to NaN or ±inf, is a ScenarioError naming that key.

    The data is validated in-process as the loader does after parsing (the YAML spelling ``.nan`` is
    covered by the subprocess cases above).
    """
    data = load_scenario(base)[0].model_dump(mode="json")
    leaves = _numeric_leaves(data)
    assert len(leaves) > 100
    for i, path in enumerate(leaves):
        value = (float("nan"), float("inf"), float("-inf"))[i % 3]
        with pytest.raises(ScenarioError) as caught:
            validate(Scenario, _set(data, path, value), {}, "x.yaml")
        top = str(path[0])
        assert caught.value.key.startswith(top), (path, str(caught.value))


def test_two_scenarios_with_one_slug_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", TINY + "name: same/name\n")
    write(tmp_path / "b.yaml", TINY + "name: same..name\n")
    assert_refused_untouched(tmp_path, "run", "a.yaml", "b.yaml", "--out", "out", contains="two scenarios")


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        ("2022-01-01,1.0,a (2022)\n2022-02-01,0.9,\n", "drv.csv:3: source"),
        ("2022-03-01,1.0,a (2022)\n2022-02-01,0.9,b (2022)\n", "drv.csv:3: date"),
    ],
)
def test_series_csv_without_source_or_with_falling_dates_refused(tmp_path: Path, rows: str, where: str) -> None:
    """A driver CSV row with no source, or dates that do not rise, is refused at the CSV's file:line: column."""
    write(tmp_path / "drv.csv", "date,value,source\n" + rows)
    write(tmp_path / "s.yaml", TINY + "shocks:\n  - {type: series, target: rental, csv: drv.csv}\n")
    assert_refused_untouched(tmp_path, "validate", "s.yaml", contains=where)
    assert_refused_untouched(tmp_path, "run", "s.yaml", "--force", contains=where)


def test_series_csv_fifo_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "drv.csv")
    write(tmp_path / "s.yaml", TINY + "shocks:\n  - {type: series, target: rental, csv: drv.csv}\n")
    assert_refused_untouched(tmp_path, "validate", "s.yaml", contains="named pipe")
