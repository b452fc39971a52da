"""Observed driver series for ``type: series`` shocks: CSV ``date,value,source`` → days from the start date.

A row's ``date`` is ISO (``2022-06-01``), ``value`` a multiplier of the shock's target (1.0 = unchanged)
and ``source`` the citation of that row, required on every row; dates rise strictly. An optional fourth
column ``interpolated`` (``yes``/``no``) marks a row filled in between two observations, so that it is
never mistaken for one (the model interpolates linearly between rows either way). Lines starting with '#'
are comments; a bad row is reported at the CSV's ``file:line: column``.
A file is looked up next to the scenario first, then among the packaged replay data
(``usdai_sim/data/replays``).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from usdai_sim.errors import ScenarioError
from usdai_sim.scenario.files import InputFileError, read_input_bytes

COLUMNS = ("date", "value", "source")
OPTIONAL_COLUMN = "interpolated"
"""Optional fourth column: ``yes`` on a row filled in between two observed rows (its source names them),
``no`` (or empty) on an observation."""
FLAGS = {"yes": True, "no": False, "": False}


def packaged_dir() -> Path:
    """The folder of the shipped replay series (``usdai_sim/data/replays``)."""
    return Path(str(resources.files("usdai_sim") / "data" / "replays"))


def find_series_csv(name: str, scenario_dir: Path) -> Path:
    """``name`` next to the scenario if it exists there, else the packaged replay file of that name."""
    beside = scenario_dir / name
    packaged = packaged_dir() / name
    return packaged if not beside.exists() and packaged.is_file() else beside


@dataclass(frozen=True)
class SeriesRow:
    """One data row of a series CSV with its 1-based line number in the file."""

    line: int
    date: dt.date
    value: float
    source: str
    interpolated: bool


class RowError(ValueError):
    """A bad row: the CSV line and the column at fault."""

    def __init__(self, line: int | None, column: str, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def _numbered_rows(csv_path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, cells)]) with comment and blank lines skipped."""
    numbered = [
        (number, text) for number, text in enumerate(read_input_bytes(csv_path).decode("utf-8").splitlines(), 1)
        if text.strip() and not text.startswith("#")
    ]
    if not numbered:
        raise RowError(None, "", f"no header; columns must be {','.join(COLUMNS)}[,{OPTIONAL_COLUMN}]")
    parsed = list(csv.reader(text for _, text in numbered))
    header = [cell.strip() for cell in parsed[0]]
    if tuple(header) not in (COLUMNS, (*COLUMNS, OPTIONAL_COLUMN)):
        raise RowError(numbered[0][0], "", f"header must be {','.join(COLUMNS)} or "
                       f"{','.join(COLUMNS)},{OPTIONAL_COLUMN} (got {','.join(header)})")
    return header, [(number, cells) for (number, _), cells in zip(numbered[1:], parsed[1:], strict=True)]


def _row(line: int, header: list[str], cells: list[str]) -> SeriesRow:
    if len(cells) != len(header):
        raise RowError(line, "", f"{len(cells)} cells, the header has {len(header)}")
    cell = dict(zip(header, cells, strict=True))
    if not cell["source"].strip():
        raise RowError(line, "source", "row has no source")
    flag = cell.get(OPTIONAL_COLUMN, "").strip().lower()
    if flag not in FLAGS:
        raise RowError(line, OPTIONAL_COLUMN, f"must be yes or no (got {flag!r})")
    try:
        date = dt.date.fromisoformat(cell["date"].strip())
    except ValueError as exc:
        raise RowError(line, "date", str(exc)) from None
    try:
        value = float(cell["value"])
    except ValueError as exc:
        raise RowError(line, "value", str(exc)) from None
    return SeriesRow(line, date, value, cell["source"].strip(), FLAGS[flag])


def read_rows(csv_path: Path) -> list[SeriesRow]:
    """The rows of a series CSV in file order; dates must rise strictly and every row needs a source
    (RowError naming the line and column otherwise)."""
    header, numbered = _numbered_rows(csv_path)
    rows = [_row(line, header, cells) for line, cells in numbered]
    for before, row in zip(rows, rows[1:], strict=False):
        if row.date <= before.date:
            raise RowError(row.line, "date", f"dates must rise strictly ({row.date} after {before.date} on "
                           f"line {before.line})")
    return rows


def read_series_csv(
    csv_path: Path, start_date: str, where: tuple[str, int | None, str]
) -> tuple[list[float], list[float]]:
    """(days from ``start_date``, values) of a series CSV. A bad row is a ScenarioError at the CSV's
    ``file:line: column`` (the scenario's ``file:line key`` in the message); other problems at ``where``."""
    file, line, key = where
    try:
        start = dt.date.fromisoformat(start_date)
        rows = read_rows(csv_path)
    except RowError as exc:
        raise ScenarioError(str(csv_path), exc.line, exc.column, f"{exc} (series CSV of {file}:{line} {key})",
                            ) from None
    except (InputFileError, OSError, ValueError) as exc:
        message = f"cannot read series CSV {csv_path} (columns {','.join(COLUMNS)}): {exc}"
        raise ScenarioError(file, line, key, message) from None
    return [float((r.date - start).days) for r in rows], [r.value for r in rows]
