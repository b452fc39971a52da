"""Scenario loading: every bad input is one `FILE:LINE: key: what (got X)` line; `extends` merges."""

from __future__ import annotations

import math
import pickle
import tempfile
import textwrap
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from usdai_sim.errors import NOT_GIVEN, RunTooLargeError, ScenarioError
from usdai_sim.scenario.load import (
    Provenance,
    dotted_key,
    load_mapping,
    load_model,
    resolve_extends,
    validate,
)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Market(_Strict):
    rate_apr: float = 0.05
    gpu_price_usd_per_hour: float = 2.0


class Borrower(_Strict):
    name: str
    ltv: float = Field(gt=0, le=1)
    principal_usd: float = Field(default=1.0, ge=0)


class RateShock(_Strict):
    kind: Literal["rate"]
    size_bps: float


class PriceShock(_Strict):
    kind: Literal["price"]
    drop_pct: float


class Scenario(_Strict):
    name: str
    count: int = Field(ge=0)
    market: Market = Market()
    borrowers: tuple[Borrower, ...] = ()
    shocks: tuple[Annotated[RateShock | PriceShock, Field(discriminator="kind")], ...] = ()
    note: str = ""


def write(directory: Path, name: str, text: str) -> Path:
    """Write dedented `text` to directory/name and return the path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_line(path: Path, **kwargs: Any) -> str:
    """The one-line message load_model raises for `path`."""
    with pytest.raises(ScenarioError) as info:
        load_model(path, Scenario, **kwargs)
    text = str(info.value)
    assert "\n" not in text and "Traceback" not in text
    return text


GOOD = """
name: base case
count: 3
market:
  rate_apr: 0.04
borrowers:
  - name: alpha
    ltv: 0.5
  - name: beta
    ltv: 0.7
"""


# --- file-level input errors ---------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert error_line(path) == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert error_line(tmp_path) == f"{tmp_path}: is a directory, not a YAML file"


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "empty.yaml", text)
    assert error_line(path) == f"{path}: file is empty; expected a mapping of scenario keys"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\ncount: 1\n")
    assert error_line(path) == f"{path}:1: file is not UTF-8 text (got b'\\xe9')"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: a\ncount: 1\n")
    assert load_model(path, Scenario)[0].count == 1


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("just some prose, not a scenario\n", "'just some prose, not a scenario'"),
        ("- name: a\n- name: b\n", "[{'name': 'a'}, {'name': 'b'}]"),
        ("~\n", "None"),
    ],
)
def test_top_level_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    path = write(tmp_path, "flat.yaml", text)
    assert error_line(path) == f"{path}:1: top level must be a mapping of keys to values (got {got})"


def test_yaml_syntax_error_uses_yaml_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "name: a\ncount: 1\nmarket:\n  rate_apr: 0.1\n    oops: 2\n")
    assert error_line(path) == f"{path}:5: invalid YAML: mapping values are not allowed here"


def test_yaml_tab_indent(tmp_path: Path) -> None:
    path = write(tmp_path, "tab.yaml", "name: a\n\tcount: 1\n")
    assert error_line(path) == f"{path}:2: invalid YAML: found character '\\t' that cannot start any token"


def test_yaml_control_character(tmp_path: Path) -> None:
    path = write(tmp_path, "ctrl.yaml", "name: a\ncount: 1\x07\n")
    assert error_line(path) == f"{path}:2: invalid YAML: character not allowed (got '\\x07')"


def test_yaml_two_documents(tmp_path: Path) -> None:
    path = write(tmp_path, "two.yaml", "name: a\n---\nname: b\n")
    assert error_line(path).startswith(f"{path}:2: invalid YAML: expected a single document")


def test_yaml_unknown_tag(tmp_path: Path) -> None:
    path = write(tmp_path, "tag.yaml", "name: a\ncount: !!python/int 3\n")
    assert error_line(path).startswith(f"{path}:2: invalid YAML: could not determine a constructor")


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "name: a\ncount: 1\nmarket:\n  rate_apr: 0.1\n  rate_apr: 0.2\n")
    assert error_line(path) == f"{path}:5: market.rate_apr: duplicate key (first at line 4)"


def test_self_referencing_alias(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.yaml", "name: &a [1, *a]\ncount: 1\n")
    assert error_line(path) == f"{path}:1: name[1]: YAML alias refers to itself"


def test_anchors_and_merge_keys_are_plain_data(tmp_path: Path) -> None:
    text = "name: &n a\ncount: 1\nnote: *n\nmarket:\n  <<: {rate_apr: 0.1, gpu_price_usd_per_hour: 3}\n"
    path = write(tmp_path, "anchors.yaml", text + "  rate_apr: 0.2\n")
    scenario, _ = load_model(path, Scenario)
    assert scenario.note == "a"
    assert scenario.market == Market(rate_apr=0.2, gpu_price_usd_per_hour=3)


# --- validation errors ---------------------------------------------------------------------------


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncount: many\n")
    expected = f"{path}:2: count: Input should be a valid integer, unable to parse string as an integer"
    assert error_line(path) == f"{expected} (got 'many')"


def test_negative_count(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncount: -3\n")
    assert error_line(path) == f"{path}:2: count: Input should be greater than or equal to 0 (got -3)"


def test_ltv_above_one_in_list(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", GOOD.replace("ltv: 0.7", "ltv: 1.5"))
    assert (
        error_line(path) == f"{path}:9: borrowers[1].ltv: Input should be less than or equal to 1 (got 1.5)"
    )


def test_missing_key_points_at_parent(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncount: 1\nborrowers:\n  - name: x\n")
    assert error_line(path) == f"{path}:4: borrowers[0].ltv: required key is missing"


def test_missing_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "# header\nname: a\n")
    assert error_line(path) == f"{path}:2: count: required key is missing"


@pytest.mark.parametrize(
    ("value", "got"), [(".nan", "nan"), (".inf", "inf"), ("-.inf", "-inf"), ("nan", "nan")]
)
def test_non_finite_numbers(tmp_path: Path, value: str, got: str) -> None:
    path = write(tmp_path, "s.yaml", f"name: a\ncount: 1\nmarket:\n  rate_apr: {value}\n")
    assert error_line(path) == f"{path}:4: market.rate_apr: must be a finite number (got {got})"


def test_non_finite_inside_list(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", GOOD.replace("ltv: 0.5", "ltv: .nan"))
    assert error_line(path) == f"{path}:7: borrowers[0].ltv: must be a finite number (got nan)"


def test_infinite_model_default_is_not_an_input_error() -> None:
    class Capped(_Strict):
        cap: float = math.inf
        x: float = 0.0

    assert validate(Capped, {"x": 1.0}, {}, "f.yaml").cap == math.inf


def test_unknown_top_level_key_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncont: 1\n")
    assert error_line(path) == f"{path}:2: cont: unknown key; did you mean 'count'? (got 1)"


def test_unknown_nested_key_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncount: 1\nmarket:\n  rate_aprr: 0.1\n")
    assert error_line(path) == f"{path}:4: market.rate_aprr: unknown key; did you mean 'rate_apr'? (got 0.1)"


def test_unknown_key_in_list_item_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", GOOD.replace("ltv: 0.7", "ltv: 0.7\n    principal: 5"))
    expected = f"{path}:10: borrowers[1].principal: unknown key; did you mean 'principal_usd'? (got 5)"
    assert error_line(path) == expected


def test_unknown_key_in_discriminated_union_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncount: 1\nshocks:\n  - kind: price\n    drop_pc: 0.3\n")
    expected = f"{path}:5: shocks[0].drop_pc: unknown key; did you mean 'drop_pct'? (got 0.3)"
    assert error_line(path) == expected


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncount: 1\nzzz: true\n")
    assert error_line(path) == f"{path}:3: zzz: unknown key (got True)"


def test_bad_union_tag(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncount: 1\nshocks:\n  - kind: rates\n    size_bps: 5\n")
    assert error_line(path) == f"{path}:4: shocks[0].kind: should be one of 'rate', 'price' (got 'rates')"


def test_missing_union_tag(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: a\ncount: 1\nshocks:\n  - size_bps: 5\n")
    assert error_line(path) == f"{path}:4: shocks[0].kind: required key is missing"


def test_validate_without_lines_uses_default_file() -> None:
    with pytest.raises(ScenarioError) as info:
        validate(Scenario, {"name": "a", "count": -1}, {}, "given.yaml")
    assert str(info.value) == "given.yaml: count: Input should be greater than or equal to 0 (got -1)"


# --- extends -------------------------------------------------------------------------------------


def test_extends_overrides_nested_key_and_replaces_lists(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", GOOD)
    child = write(
        tmp_path,
        "child.yaml",
        "extends: base.yaml\nmarket:\n  gpu_price_usd_per_hour: 1.5\n"
        "borrowers:\n  - name: gamma\n    ltv: 0.2\n",
    )
    scenario, prov = load_model(child, Scenario)
    assert scenario.market == Market(rate_apr=0.04, gpu_price_usd_per_hour=1.5)
    assert scenario.borrowers == (Borrower(name="gamma", ltv=0.2),)
    assert (scenario.name, scenario.count) == ("base case", 3)
    assert prov.files == (str(child), str(tmp_path / "base.yaml"))
    assert "extends" not in prov.merged
    assert prov.locate(("market", "rate_apr")) == (str(tmp_path / "base.yaml"), 4)
    assert prov.locate(("market", "gpu_price_usd_per_hour")) == (str(child), 3)


def test_extends_relative_to_extending_file(tmp_path: Path) -> None:
    write(tmp_path, "shared/base.yaml", GOOD)
    child = write(tmp_path, "runs/child.yaml", "extends: ../shared/base.yaml\ncount: 9\n")
    scenario, prov = load_model(child, Scenario)
    assert scenario.count == 9
    assert prov.files == (str(child), str(tmp_path / "runs" / "../shared/base.yaml"))


def test_extends_builtin_lookup(tmp_path: Path) -> None:
    builtin = write(tmp_path, "library/baseline.yaml", GOOD)
    child = write(tmp_path, "runs/child.yaml", "extends: baseline\nnote: shocked\n")
    lookup = {"baseline": builtin}.get
    scenario, prov = load_model(child, Scenario, builtin_lookup=lookup)
    assert (scenario.note, scenario.count) == ("shocked", 3)
    assert prov.files[-1] == str(builtin)


def test_extends_bare_name_falls_back_to_sibling(tmp_path: Path) -> None:
    write(tmp_path, "baseline.yaml", GOOD)
    child = write(tmp_path, "child.yaml", "extends: baseline\ncount: 0\n")
    assert load_model(child, Scenario)[0].count == 0


def test_extends_unknown_name(tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", "name: a\nextends: basline\n")
    assert error_line(child) == f"{child}:2: extends: no scenario named 'basline'"


def test_extends_missing_path(tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", "extends: other.yaml\n")
    assert error_line(child) == f"{child}:1: extends: no such file '{tmp_path / 'other.yaml'}'"


def test_extends_not_a_string(tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", "extends: [a, b]\n")
    expected = f"{child}:1: extends: must be a scenario name or a path to a YAML file (got ['a', 'b'])"
    assert error_line(child) == expected


def test_extends_error_in_base_reports_base_file_and_line(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", GOOD.replace("ltv: 0.7", "ltv: 1.5"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\ncount: 4\n")
    assert (
        error_line(child) == f"{base}:9: borrowers[1].ltv: Input should be less than or equal to 1 (got 1.5)"
    )


def test_extends_yaml_error_in_base_reports_base_file(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "name: a\ncount: [1\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    assert error_line(child).startswith(f"{base}:3: invalid YAML: ")


def test_extends_three_file_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    b = write(tmp_path, "b.yaml", "name: b\nextends: c.yaml\n")
    c = write(tmp_path, "c.yaml", "extends: a.yaml\n")
    assert error_line(a) == f"{c}:1: extends: extends cycle: {a} -> {b} -> {c} -> {a}"


def test_extends_self_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: ./a.yaml\n")
    assert error_line(a) == f"{a}:1: extends: extends cycle: {a} -> {a}"


def test_resolve_extends_returns_chain(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\ncount: 1\nmarket: {rate_apr: 0.1}\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nmarket: {gpu_price_usd_per_hour: 5}\n")
    c = write(tmp_path, "c.yaml", "extends: b.yaml\nmarket: 7\n")
    data, lines, files = resolve_extends(c)
    assert data == {"name": "a", "count": 1, "market": 7}
    assert [Path(f).name for f in files] == ["c.yaml", "b.yaml", "a.yaml"]
    assert lines[("market",)] == (str(c), 2)
    assert ("market", "rate_apr") not in lines


# --- errors and helpers --------------------------------------------------------------------------


def test_scenario_error_rendering() -> None:
    assert str(ScenarioError("f.yaml", 3, "a.b", "bad", got=1)) == "f.yaml:3: a.b: bad (got 1)"
    assert str(ScenarioError("f.yaml", None, "", "bad")) == "f.yaml: bad"
    assert str(ScenarioError("f.yaml", 2, "", "bad", got=None)) == "f.yaml:2: bad (got None)"
    long = str(ScenarioError("f.yaml", 1, "k", "bad", got="x" * 200))
    assert long.endswith("...)") and len(long.split("(got ")[1]) == 61


def test_errors_pickle_and_keep_attributes() -> None:
    err = pickle.loads(pickle.dumps(ScenarioError("f.yaml", 3, "k", "bad", got=[1])))
    assert (err.file, err.line, err.key, err.message, err.got) == ("f.yaml", 3, "k", "bad", [1])
    assert pickle.loads(pickle.dumps(ScenarioError("f", 1, "k", "m"))).got is NOT_GIVEN
    big = RunTooLargeError("needs 40.0 GiB, limit 8.0 GiB", "s.yaml", 4, "n_paths", got=100000)
    assert str(big) == "s.yaml:4: n_paths: needs 40.0 GiB, limit 8.0 GiB (got 100000)"
    assert str(pickle.loads(pickle.dumps(big))) == str(big)


def test_dotted_key() -> None:
    assert dotted_key(("borrowers", 0, "ltv")) == "borrowers[0].ltv"
    assert dotted_key(()) == ""


def test_provenance_is_frozen(tmp_path: Path) -> None:
    _, prov = load_model(write(tmp_path, "s.yaml", GOOD), Scenario)
    assert isinstance(prov, Provenance)
    with pytest.raises(AttributeError):
        prov.files = ()  # type: ignore[misc]


# --- property ------------------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
_values = st.recursive(
    _scalars | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/item path in plain nested data."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in [(*path, k), *_paths(v, (*path, k))]]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in [(*path, i), *_paths(v, (*path, i))]]
    return []


@given(st.dictionaries(st.text(), _values, max_size=8))
def test_safe_dump_round_trips(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        loaded, lines = load_mapping(path)
    assert loaded == data
    assert all(lines[p][0] == str(path) and lines[p][1] >= 1 for p in _paths(data))
