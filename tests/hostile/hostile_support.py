"""Helpers of the hostile-input suite: run the CLI in a subprocess and snapshot a directory tree.

Every hostile case runs the command line with ``cwd`` and ``TMPDIR`` inside one sandbox directory and
compares a snapshot of the whole sandbox before and after, so a case proves that nothing outside the
intended output (usually: nothing at all) was created, changed or removed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from cli_support import error_line

CLI = (sys.executable, "-m", "usdai_sim")
TIMEOUT_S = 300
TINY = "extends: baseline\nsimulation: {horizon_days: 10, paths: 32}\n"
"""A valid scenario that runs in about a second."""

Snapshot = dict[str, tuple[str, str]]


def snapshot(root: Path) -> Snapshot:
    """Every entry under ``root`` (links not followed): relative path -> (kind, content hash or target)."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = ("dir", "")
            elif path.is_file():
                out[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                out[rel] = ("special", "")
    return out


def run_cli(sandbox: Path, *args: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """The command line in ``sandbox`` with its temporary files there too."""
    tmp = sandbox / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.run(
        [*CLI, *args], cwd=sandbox, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def assert_refused_untouched(sandbox: Path, *args: str, contains: str = "") -> str:
    """Run a command that must be refused: status 2, one line (holding ``contains``), sandbox unchanged."""
    (sandbox / "tmp").mkdir(exist_ok=True)
    before = snapshot(sandbox)
    line = error_line(run_cli(sandbox, *args))
    assert contains in line, line
    assert snapshot(sandbox) == before
    return line
