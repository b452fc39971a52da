"""`usdai-sim replay-report` as a subprocess: it writes the page and its figures; bad flags exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = (sys.executable, "-m", "usdai_sim")
TIMEOUT_S = 600


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def test_writes_page_and_figures(tmp_path: Path) -> None:
    result = cli(tmp_path, "replay-report", "--paths", "2", "--out", "site/validation.md", "--quiet")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "validation.md").read_text()
    assert "2 paths per replay" in page
    figures = sorted(p.name for p in (tmp_path / "site" / "validation").iterdir())
    assert figures == [
        "replay_2019_2026.png",
        "replay_2022_crypto_hardware.png",
        "replay_goldfinch_2023.png",
        "replay_maple_orthogonal_2022.png",
        "replay_usde_oct_2025.png",
    ]
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--paths", "0"), "--paths: must be a positive number of paths (got 0)"),
        (("--out", "page.html"), "--out: the page must be a .md file (got page.html)"),
        (("--out", "file.txt/page.md"), "file.txt/page.md: cannot create it, file.txt is not a directory"),
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    result = cli(tmp_path, "replay-report", *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [message]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
