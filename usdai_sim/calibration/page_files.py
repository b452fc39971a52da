"""Writing a generated page and its figure folder beside it, replacing both whole (temporary files, renames)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def replace_page(page: Path, figure_dir: str, render: Callable[[Path], str]) -> None:
    """``render(figures)`` draws into a staging figure folder and returns the page text; then the page and
    ``page.parent / figure_dir`` replace what was there. Nothing is left behind when rendering fails."""
    page.parent.mkdir(parents=True, exist_ok=True)
    figures = page.parent / figure_dir
    staging = Path(tempfile.mkdtemp(prefix=f".{page.stem}-", dir=page.parent))
    try:
        (staging / figure_dir).mkdir()
        (staging / page.name).write_text(render(staging / figure_dir), encoding="utf-8")
        if figures.exists():
            shutil.rmtree(figures)
        os.replace(staging / figure_dir, figures)
        os.replace(staging / page.name, page)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
