"""Observed driver series for ``type: series`` shocks: CSV ``date,value,source`` → days from the start date.

A row's ``date`` is ISO (``2022-06-01``), ``value`` a multiplier of the shock's target (1.0 = unchanged)
and ``source`` the citation of that row, required on every row. Lines starting with '#' are comments.
A file is looked up next to the scenario first, then among the packaged replay data
(``usdai_sim/data/replays``).
"""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources
from pathlib import Path

from usdai_sim.errors import ScenarioError

COLUMNS = ("date", "value", "source")


def packaged_dir() -> Path:
    """The folder of the shipped replay series (``usdai_sim/data/replays``)."""
    return Path(str(resources.files("usdai_sim") / "data" / "replays"))


def find_series_csv(name: str, scenario_dir: Path) -> Path:
    """``name`` next to the scenario if it exists there, else the packaged replay file of that name."""
    beside = scenario_dir / name
    packaged = packaged_dir() / name
    return packaged if not beside.exists() and packaged.is_file() else beside


def _rows(csv_path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in csv_path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"header must be {','.join(COLUMNS)} (got {','.join(reader.fieldnames or ())})")
    return list(reader)


def _day(row: dict[str, str], start: dt.date) -> float:
    if not (row.get("source") or "").strip():
        raise ValueError(f"row {row.get('date')} has no source")
    return float((dt.date.fromisoformat(row["date"]) - start).days)


def read_series_csv(
    csv_path: Path, start_date: str, where: tuple[str, int | None, str]
) -> tuple[list[float], list[float]]:
    """(days from ``start_date``, values) of a series CSV; any problem is a ScenarioError at ``where``."""
    file, line, key = where
    try:
        start = dt.date.fromisoformat(start_date)
        rows = _rows(csv_path)
        days = [_day(r, start) for r in rows]
        values = [float(r["value"]) for r in rows]
    except (OSError, KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        message = f"cannot read series CSV {csv_path} (columns {','.join(COLUMNS)}): {exc}"
        raise ScenarioError(file, line, key, message) from None
    return days, values
