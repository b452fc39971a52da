"""Scenario YAML → plain data with a line for every key → `extends` resolved → validated pydantic model.

Every failure is one ScenarioError naming the file, the 1-based line and the dotted key
(`borrowers[0].ltv`); nothing here writes files. The model class is a parameter, so this module
knows nothing about the scenario schema itself.
"""

from __future__ import annotations

import codecs
import difflib
import math
import os
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Final, Literal, NamedTuple, TypeVar, Union, get_args, get_origin

import pydantic
import yaml

from usdai_sim.errors import NOT_GIVEN, ScenarioError
from usdai_sim.scenario.files import InputFileError, read_input_bytes

DataPath = tuple[Hashable, ...]
"""Where a value sits in the loaded data: mapping keys and list indices, e.g. ("borrowers", 0, "ltv")."""
LineMap = dict[DataPath, tuple[str, int]]
"""Data path → (file, 1-based line) of the mapping key or sequence item that supplied it; () is the root."""
BuiltinLookup = Callable[[str], Path | None]
"""Finds a built-in scenario file by bare name (e.g. "baseline"), or returns None."""
M = TypeVar("M", bound=pydantic.BaseModel)

EXTENDS: Final = "extends"
MAX_VALUES: Final = 1_000_000
"""Most values one document may expand to (guards against YAML alias bombs)."""
MAX_EXTENDS_DEPTH: Final = 16
"""Longest `extends` chain (assumption: the shipped scenarios use one level; 16 leaves room for layering)."""
_MAP_TAG: Final = "tag:yaml.org,2002:map"
_SEQ_TAG: Final = "tag:yaml.org,2002:seq"
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_MESSAGE_PREFIXES: Final = ("Value error, ", "Assertion failed, ")


def dotted_key(path: Sequence[Hashable]) -> str:
    """Render a data path as `borrowers[0].ltv`: list indices in brackets, keys joined by dots."""
    out = ""
    for seg in path:
        if isinstance(seg, int) and not isinstance(seg, bool):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else str(seg)
    return out


def locate(lines: LineMap, path: DataPath, default_file: str) -> tuple[str, int | None]:
    """(file, line) of `path`, or of its nearest ancestor that has one; (default_file, None) if none does."""
    for n in range(len(path), -1, -1):
        hit = lines.get(path[:n])
        if hit is not None:
            return hit
    return default_file, None


def _no_builtins(name: str) -> Path | None:
    """Default BuiltinLookup: there are no built-in scenarios."""
    return None


@dataclass(frozen=True)
class Provenance:
    """Where a validated scenario came from: the `extends` chain and the merged raw mapping."""

    files: tuple[str, ...]
    """Files read, the one asked for first, then its base, its base's base, ..."""
    merged: dict[Any, Any]
    """The merged mapping after `extends` resolution (no `extends` key), before validation."""
    lines: LineMap = field(default_factory=dict, repr=False, compare=False)
    """Line of every key in `merged`, pointing at the file that supplied it."""

    def locate(self, path: DataPath) -> tuple[str, int | None]:
        """(file, line) of a data path, for errors found after validation (e.g. the memory guard)."""
        return locate(self.lines, path, self.files[0])


class Resolved(NamedTuple):
    """A mapping with its `extends` chain merged in."""

    data: dict[Any, Any]
    lines: LineMap
    files: tuple[str, ...]


class LineLoader(yaml.SafeLoader):
    """SafeLoader that builds plain dicts and lists and a LineMap of every mapping key and list item."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file = file
        self.lines: LineMap = {}
        self._open: set[int] = set()
        self._checked: set[int] = set()
        self._budget = MAX_VALUES

    def load_tracked(self) -> tuple[Any, LineMap] | None:
        """Parse the single document into (data, lines); None if the stream holds no document."""
        node = self.get_single_node()
        if node is None:
            return None
        self.lines[()] = (self.file, node.start_mark.line + 1)
        return self.build(node, ()), self.lines

    def build(self, node: yaml.Node, path: DataPath) -> Any:
        """Construct `node`, found at `path`, recording the lines of everything inside it."""
        self._budget -= 1
        if self._budget < 0:
            raise self.error(node, path, f"document expands to more than {MAX_VALUES} values")
        if id(node) in self._open:
            raise self.error(node, path, "YAML alias refers to itself")
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
                return self._build_mapping(node, path)
            if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
                return [self._build_item(item, (*path, i)) for i, item in enumerate(node.value)]
            return self.construct_object(node, deep=True)
        finally:
            self._open.discard(id(node))

    def error(self, node: yaml.Node, path: DataPath, message: str, got: object = NOT_GIVEN) -> ScenarioError:
        """A ScenarioError at `node`'s line in this file."""
        return ScenarioError(self.file, node.start_mark.line + 1, dotted_key(path), message, got)

    def _build_item(self, node: yaml.Node, path: DataPath) -> Any:
        """Record a list item's line, then build it."""
        self.lines[path] = (self.file, node.start_mark.line + 1)
        return self.build(node, path)

    def _build_mapping(self, node: yaml.MappingNode, path: DataPath) -> dict[Any, Any]:
        """A plain dict of `node`, recording each key's line; duplicates are an error."""
        if id(node) not in self._checked:  # an aliased mapping is visited again, already flattened
            self._check_duplicates(node, path)
            self._checked.add(id(node))
            self.flatten_mapping(node)  # applies `<<` merge keys; later keys win
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            self.lines[(*path, key)] = (self.file, key_node.start_mark.line + 1)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _check_duplicates(self, node: yaml.MappingNode, path: DataPath) -> None:
        """Raise at the second occurrence of a key written twice in one mapping (`<<` merges exempt)."""
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node, path)
            line = key_node.start_mark.line + 1
            if key in first_line:
                msg = f"duplicate key (first at line {first_line[key]})"
                raise ScenarioError(self.file, line, dotted_key((*path, key)), msg)
            first_line[key] = line

    def _key(self, node: yaml.Node, path: DataPath) -> Hashable:
        """Construct a mapping key; keys that are lists or mappings are an error."""
        key = self.construct_object(node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise self.error(node, path, "mapping keys must be plain scalars", got=key) from None
        return key


def _read_text(path: Path, file: str) -> str:
    """The file's text; missing, non-regular, oversized, unreadable or non-UTF-8 files are ScenarioErrors."""
    if path.is_dir():
        raise ScenarioError(file, None, "", "is a directory, not a YAML file")
    try:
        raw = read_input_bytes(path)
    except InputFileError as exc:
        raise ScenarioError(file, None, "", str(exc)) from None
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(file, line, "", "file is not UTF-8 text", got=raw[exc.start : exc.end]) from None


def _yaml_error(exc: yaml.MarkedYAMLError, file: str) -> ScenarioError:
    """A ScenarioError at the line PyYAML reports for a syntax or construction error."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    what = exc.problem or exc.context or "syntax error"
    if exc.context and what.startswith("but "):  # e.g. "expected a single document ..., but found another"
        what = f"{exc.context}, {what}"
    return ScenarioError(file, line, "", f"invalid YAML: {what}")


def _make_loader(text: str, file: str) -> LineLoader:
    """A LineLoader over `text`; characters YAML forbids are a ScenarioError at their line."""
    try:
        return LineLoader(text, file)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        got = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise ScenarioError(file, line, "", "invalid YAML: character not allowed", got=got) from None


def _parse(text: str, file: str) -> tuple[Any, LineMap]:
    """Parse one YAML document into (data, lines); empty or invalid YAML is a ScenarioError."""
    loader = _make_loader(text, file)
    try:
        loaded = loader.load_tracked()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, file) from None
    except RecursionError:
        raise ScenarioError(file, None, "", "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    if loaded is None:
        raise ScenarioError(file, None, "", "file is empty; expected a mapping of scenario keys")
    return loaded


def load_mapping(path: str | os.PathLike[str]) -> tuple[dict[Any, Any], LineMap]:
    """Read one YAML file whose top level is a mapping; return it with the line of every key and item."""
    file = os.fspath(path)
    data, lines = _parse(_read_text(Path(file), file), file)
    if not isinstance(data, dict):
        raise ScenarioError(file, lines[()][1], "", "top level must be a mapping of keys to values", got=data)
    return data, lines


def _is_bare_name(ref: str) -> bool:
    """True for `baseline`; False for anything with a path separator or a suffix (`base.yaml`)."""
    return "/" not in ref and "\\" not in ref and not Path(ref).suffix


def _base_path(ref: object, child: Path, lookup: BuiltinLookup, line: int) -> Path:
    """The file `extends: ref` in `child` names: a path relative to `child`, or a scenario name."""
    file = str(child)
    if not isinstance(ref, str) or not ref.strip():
        raise ScenarioError(file, line, EXTENDS, "must be a scenario name or a path to a YAML file", got=ref)
    if not _is_bare_name(ref):
        base = child.parent / ref
        if not base.exists():
            raise ScenarioError(file, line, EXTENDS, f"no such file {str(base)!r}")
        return base
    found = lookup(ref)
    sibling = child.parent / f"{ref}.yaml"
    if found is None and sibling.is_file():
        found = sibling
    if found is None:
        raise ScenarioError(file, line, EXTENDS, f"no scenario named {ref!r}")
    return found


def _replace_subtree(lines: LineMap, source: LineMap, prefix: DataPath) -> None:
    """Make `lines` under `prefix` (inclusive) exactly what `source` has there."""
    n = len(prefix)
    for stale in [p for p in lines if p[:n] == prefix]:
        del lines[stale]
    lines.update({p: where for p, where in source.items() if p[:n] == prefix})


def _merge_level(
    base: dict[Any, Any], child: dict[Any, Any], path: DataPath, lines: LineMap, child_lines: LineMap
) -> dict[Any, Any]:
    """Child over base at one level: mappings merge key by key, anything else in the child replaces."""
    out = dict(base)
    for key, value in child.items():
        sub = (*path, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_level(out[key], value, sub, lines, child_lines)
            lines[sub] = child_lines[sub]
        else:
            out[key] = value
            _replace_subtree(lines, child_lines, sub)
    return out


def _merge(base: Resolved, child: dict[Any, Any], child_lines: LineMap) -> tuple[dict[Any, Any], LineMap]:
    """Deep-merge `child` over `base`; the merged lines point at whichever file supplied each value."""
    lines = dict(base.lines)
    lines[()] = child_lines[()]
    return _merge_level(base.data, child, (), lines, child_lines), lines


def _resolve(path: Path, lookup: BuiltinLookup, chain: tuple[tuple[Path, str], ...]) -> Resolved:
    """Load `path` and, recursively, what it extends; `chain` holds the files being loaded above it."""
    file = str(path)
    data, lines = load_mapping(path)
    if EXTENDS not in data:
        return Resolved(data, lines, (file,))
    line = lines[(EXTENDS,)][1]
    base_path = _base_path(data[EXTENDS], path, lookup, line)
    chain = (*chain, (path.resolve(), file))
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(file, line, EXTENDS, f"extends chain deeper than {MAX_EXTENDS_DEPTH} files")
    if base_path.resolve() in {real for real, _ in chain}:
        names = " -> ".join([shown for _, shown in chain] + [str(base_path)])
        raise ScenarioError(file, line, EXTENDS, f"extends cycle: {names}")
    base = _resolve(base_path, lookup, chain)
    child = {k: v for k, v in data.items() if k != EXTENDS}
    merged, merged_lines = _merge(base, child, lines)
    return Resolved(merged, merged_lines, (file, *base.files))


def resolve_extends(path: str | os.PathLike[str], builtin_lookup: BuiltinLookup = _no_builtins) -> Resolved:
    """Load `path` with its `extends` chain deep-merged in (child over base), `extends` keys removed.

    `extends: NAME_OR_PATH` is a path relative to the extending file, or a bare name (no suffix,
    no separator) found by `builtin_lookup(name)`, else as NAME.yaml beside the extending file.
    Returns (data, lines, files), files being the chain read, the requested file first.
    """
    return _resolve(Path(os.fspath(path)), builtin_lookup, ())


def _step(node: Any, seg: Hashable) -> tuple[bool, Any]:
    """(True, node[seg]) if `seg` is a key or index present in `node`, else (False, None)."""
    if isinstance(node, dict) and seg in node:
        return True, node[seg]
    if isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
        return True, node[seg]
    return False, None


def _leaves(obj: Any, path: DataPath) -> Iterator[tuple[DataPath, Any]]:
    """Every non-container value under `obj` (plain data or a pydantic model) with its data path."""
    if isinstance(obj, pydantic.BaseModel):
        for name, info in type(obj).model_fields.items():
            yield from _leaves(getattr(obj, name), (*path, info.alias or name))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield from _leaves(value, (*path, i))
    else:
        yield path, obj


def _in_data(data: Any, path: DataPath) -> bool:
    """True if `path` leads to a value the input actually contains."""
    for seg in path:
        found, data = _step(data, seg)
        if not found:
            return False
    return True


def _reject_non_finite(obj: Any, data: Any, lines: LineMap, default_file: str) -> None:
    """Raise at the first NaN or infinite float in `obj` that the input `data` supplied."""
    for path, value in _leaves(obj, ()):
        if isinstance(value, float) and not math.isfinite(value) and _in_data(data, path):
            file, line = locate(lines, path, default_file)
            raise ScenarioError(file, line, dotted_key(path), "must be a finite number", got=value)


def _data_path(loc: tuple[int | str, ...], data: Any, err_type: str) -> DataPath:
    """Drop from a pydantic `loc` the union-member tags it adds, which are not keys of the data."""
    path: list[Hashable] = []
    for i, seg in enumerate(loc):
        found, child = _step(data, seg)
        if found:
            path.append(seg)
            data = child
        elif i == len(loc) - 1 and err_type == "missing":
            path.append(seg)
    return tuple(path)


def _is_model(tp: Any) -> bool:
    """True if `tp` is a pydantic model class."""
    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _field(model: type[pydantic.BaseModel], key: Hashable) -> Any:
    """The FieldInfo of `model` written as `key` (its name or alias), or None."""
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _is_tag_of(member: Any, seg: Hashable) -> bool:
    """True if `seg` is the loc segment pydantic uses for union member `member` (class name or tag)."""
    if not _is_model(member):
        return False
    literals = [
        get_args(info.annotation)
        for info in member.model_fields.values()
        if get_origin(info.annotation) is Literal
    ]
    return seg == member.__name__ or any(seg in values for values in literals)


def _union_model_at(members: tuple[Any, ...], loc: tuple[Any, ...]) -> type[pydantic.BaseModel] | None:
    """The model at `loc` inside a union: via the member `loc[0]` tags, else the first member that fits."""
    members = tuple(m for m in members if m is not NoneType)
    for member in members:
        if loc and _is_tag_of(member, loc[0]):
            return _model_at(member, loc[1:])
    for member in members:
        found = _model_at(member, loc)
        if found is not None:
            return found
    return None


def _model_at(tp: Any, loc: tuple[Any, ...]) -> type[pydantic.BaseModel] | None:
    """The pydantic model class found at pydantic location `loc` below type `tp`, if there is one."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, UnionType):
        return _union_model_at(args, loc)
    if not loc:
        return tp if _is_model(tp) else None
    head, rest = loc[0], loc[1:]
    if _is_model(tp):
        info = _field(tp, head)
        return None if info is None else _model_at(info.annotation, rest)
    if origin in (dict, Mapping) and len(args) == 2:
        return _model_at(args[1], rest)
    if origin is tuple and args and args[-1] is not Ellipsis and isinstance(head, int) and head < len(args):
        return _model_at(args[head], rest)
    if origin in (list, tuple, Sequence) and args and isinstance(head, int):
        return _model_at(args[0], rest)
    return None


def _unknown_key_message(model_cls: type[pydantic.BaseModel], loc: tuple[Any, ...]) -> str:
    """The message for an unknown key: a "did you mean" from the allowed keys at its level, if close."""
    model = _model_at(model_cls, loc[:-1])
    names = [info.alias or name for name, info in model.model_fields.items()] if model else []
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    return f"unknown key; did you mean {close[0]!r}?" if close else "unknown key"


def _discriminator(err: Mapping[str, Any]) -> str | None:
    """The discriminator key name of a union-tag error, when it is a plain field name."""
    text = str(err.get("ctx", {}).get("discriminator", ""))
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else None


def _explain(
    err: Mapping[str, Any], model_cls: type[pydantic.BaseModel], path: DataPath
) -> tuple[DataPath, str, object]:
    """(path, message, got) for one pydantic error, its path already mapped onto the data."""
    kind, disc = err["type"], _discriminator(err)
    if kind == "missing":
        return path, "required key is missing", NOT_GIVEN
    if kind == "extra_forbidden":
        return path, _unknown_key_message(model_cls, tuple(err["loc"])), err["input"]
    if kind == "union_tag_invalid" and disc:
        return (*path, disc), f"should be one of {err['ctx']['expected_tags']}", err["ctx"]["tag"]
    if kind == "union_tag_not_found" and disc and isinstance(err["input"], dict):
        return (*path, disc), "required key is missing", NOT_GIVEN
    message = str(err["msg"])
    for prefix in _MESSAGE_PREFIXES:
        message = message.removeprefix(prefix)
    return path, message, err["input"]


def _first_error(errors: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """pydantic's first error, except that an unknown key beats a missing one beside it (likely a typo)."""
    first = errors[0]
    if first["type"] == "missing":
        for err in errors:
            if err["type"] == "extra_forbidden" and err["loc"][:-1] == first["loc"][:-1]:
                return err
    return first


def validate(model_cls: type[M], data: Mapping[Any, Any], linemap: LineMap, default_file: str) -> M:
    """`model_cls.model_validate(data)`, with NaN/inf and the first validation error as ScenarioErrors.

    Errors are located through `linemap` (nearest ancestor if the exact key has no line, e.g. a
    missing key); `default_file` is used when no line is known at all.
    """
    _reject_non_finite(data, data, linemap, default_file)
    try:
        model = model_cls.model_validate(data)
    except pydantic.ValidationError as exc:
        err = _first_error(exc.errors(include_url=False))
        path = _data_path(tuple(err["loc"]), data, err["type"])
        path, message, got = _explain(err, model_cls, path)
        file, line = locate(linemap, path, default_file)
        raise ScenarioError(file, line, dotted_key(path), message, got) from None
    _reject_non_finite(model, data, linemap, default_file)  # e.g. the string "nan" parsed as a float
    return model


def load_model(
    path: str | os.PathLike[str], model_cls: type[M], builtin_lookup: BuiltinLookup = _no_builtins
) -> tuple[M, Provenance]:
    """Read, resolve `extends`, and validate one scenario file; any bad input is one ScenarioError."""
    resolved = resolve_extends(path, builtin_lookup)
    model = validate(model_cls, resolved.data, resolved.lines, os.fspath(path))
    return model, Provenance(files=resolved.files, merged=resolved.data, lines=resolved.lines)
