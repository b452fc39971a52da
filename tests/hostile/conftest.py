"""Fixtures of the hostile suite: one small genuine results directory, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import TINY, run_cli


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine results directory of a 10-day, 32-path run (no report)."""
    root = tmp_path_factory.mktemp("genuine")
    (root / "s.yaml").write_text(TINY, encoding="utf-8")
    result = run_cli(root, "run", "s.yaml", "--out", "results", "--quiet", "--no-report")
    assert result.returncode == 0, result.stderr
    return root / "results"
