"""Command-line overrides ``--set dotted.path=value`` laid onto a resolved scenario mapping before validation.

A path is keys joined by dots, list items as ``[i]`` or ``.i`` (``shocks[0].change``, ``borrowers.cohorts.0.apr``);
a value is one YAML scalar or flow collection (``0.75``, ``true``, ``{low: 0.6, high: 0.8}``). Every key an
override writes is given the location ``--set PATH`` in the line map, so a validation error it causes reads
``--set protocol.allocation.max_loan_share: ... (got X)``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any, Final

import yaml

from usdai_sim.errors import ScenarioError
from usdai_sim.scenario.load import DataPath, LineMap

SET_FLAG: Final = "--set"
_SEGMENT = re.compile(r"[^.\[\]]+|\[\d+\]")
_PATH_SHAPE = re.compile(r"^[^.\[\]=\s]+(\.[^.\[\]=\s]+|\[\d+\])*$")


def origin(path_text: str) -> str:
    """The file part of an error caused by an override: ``--set PATH``."""
    return f"{SET_FLAG} {path_text}"


def parse_path(text: str) -> DataPath:
    """``shocks[0].change`` → ("shocks", 0, "change"); numeric segments are list indices."""
    if not _PATH_SHAPE.match(text):
        raise ScenarioError(origin(text), None, "", "not a dotted path such as protocol.grace_days")
    out: list[Hashable] = []
    for seg in _SEGMENT.findall(text):
        out.append(int(seg.strip("[]")) if seg.startswith("[") or seg.isdigit() else seg)
    return tuple(out)


def parse_value(path_text: str, text: str) -> Any:
    """One YAML scalar or flow collection; anything else is an error at ``--set PATH``."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ScenarioError(origin(path_text), None, "", "value is not valid YAML", got=text) from None
    if text.strip() == "":
        raise ScenarioError(origin(path_text), None, "", "value is empty", got=text)
    return value


def parse_override(text: str) -> tuple[str, DataPath, Any]:
    """``path=value`` → (path text, data path, value)."""
    if "=" not in text:
        raise ScenarioError(SET_FLAG, None, "", "expected dotted.path=value", got=text)
    path_text, value_text = (part.strip() for part in text.split("=", 1))
    return path_text, parse_path(path_text), parse_value(path_text, value_text)


def _child(node: Any, seg: Hashable, path_text: str, next_seg: Hashable = None) -> Any:
    """The container under ``node[seg]``, creating a mapping where a key is absent (not a list: its items
    must exist)."""
    if isinstance(node, list):
        if not isinstance(seg, int) or not 0 <= seg < len(node):
            raise ScenarioError(origin(path_text), None, "", f"no list item {seg!r} (the list has {len(node)})")
        return node[seg]
    if not isinstance(node, dict):
        raise ScenarioError(origin(path_text), None, "", "path goes through a value that is not a mapping or list")
    if not isinstance(node.get(seg), dict | list):
        if isinstance(next_seg, int):
            raise ScenarioError(origin(path_text), None, "", f"no list item {next_seg} (the list is empty)")
        node[seg] = {}
    return node[seg]


def _assign(data: dict[Any, Any], path: DataPath, value: Any, path_text: str) -> None:
    node: Any = data
    for seg, next_seg in zip(path[:-1], path[1:], strict=True):
        node = _child(node, seg, path_text, next_seg)
    last = path[-1]
    if isinstance(node, list):
        _child(node, last, path_text)
        node[int(last)] = value  # type: ignore[call-overload]
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError(origin(path_text), None, "", "path goes through a value that is not a mapping or list")


def _mark_lines(lines: LineMap, path: DataPath, path_text: str) -> None:
    """Point the overridden key, its new parents and everything below it at ``--set PATH``."""
    n = len(path)
    for stale in [p for p in lines if p[:n] == path]:
        del lines[stale]
    for k in range(1, n + 1):
        if k == n or path[:k] not in lines:
            lines[path[:k]] = (origin(path_text), None)  # type: ignore[assignment]  # no line: a flag


def apply_overrides(data: dict[Any, Any], lines: LineMap, overrides: Sequence[str]) -> None:
    """Lay ``path=value`` overrides onto the resolved mapping ``data`` (in place), in order."""
    for text in overrides:
        path_text, path, value = parse_override(text)
        _assign(data, path, value, path_text)
        _mark_lines(lines, path, path_text)


def relocate(error: ScenarioError) -> ScenarioError:
    """An error located at an override, rendered ``--set PATH: [other.key: ]message (got X)``."""
    if not error.file.startswith(f"{SET_FLAG} "):
        return error
    set_path = error.file.removeprefix(f"{SET_FLAG} ")
    same = _canonical(error.key) == _canonical(set_path)
    return ScenarioError(error.file, None, "" if same else error.key, error.message, error.got)


def _canonical(path_text: str) -> str:
    return path_text.replace("[", ".").replace("]", "")
