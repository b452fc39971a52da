"""Helpers shared by the command-line suites (tests/e2e, tests/hostile): files and the one-line error check."""

from __future__ import annotations

import subprocess
from pathlib import Path

EXIT_INPUT = 2


def write(path: Path, content: str | bytes) -> Path:
    """Write a text or binary file and return its path."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a rejected command, after checking status 2 and no traceback."""
    assert result.returncode == EXIT_INPUT, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
