"""`usdai-sim calibrate` as a subprocess: the committed page is what the code generates today; bad flags exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.image import imread

CLI = (sys.executable, "-m", "usdai_sim")
TIMEOUT_S = 600
REPO = Path(__file__).parents[2]
PAGE = REPO / "reports" / "calibration.md"
FIGURES = ("boundary.png", "vintage.png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def assert_valid_pngs(directory: Path) -> None:
    assert sorted(p.name for p in directory.iterdir()) == sorted(FIGURES)
    for name in FIGURES:
        path = directory / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        height, width = imread(path).shape[:2]
        assert height > 100 and width > 100


def test_committed_page_is_in_sync(tmp_path: Path) -> None:
    """Regenerating reproduces reports/calibration.md byte for byte; run `make calibration` after a change."""
    result = cli(tmp_path, "calibrate", "--out", "site/calibration.md", "--quiet")
    assert result.returncode == 0, result.stderr
    fresh = (tmp_path / "site" / "calibration.md").read_bytes()
    assert PAGE.read_bytes() == fresh, "reports/calibration.md is stale: run `make calibration`"
    assert_valid_pngs(tmp_path / "site" / "calibration")
    assert_valid_pngs(REPO / "reports" / "calibration")
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--paths", "0"), "--paths: must be a positive number of paths (got 0)"),
        (("--paths", "-3"), "--paths: must be a positive number of paths (got -3)"),
        (("--out", "page.html"), "--out: the page must be a .md file (got page.html)"),
        (("--out", "file.txt/page.md"), "file.txt/page.md: cannot create it, file.txt is not a directory"),
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    result = cli(tmp_path, "calibrate", *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [message]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
