"""The scenario schema explains itself: every key has a description and a unit, every default a source."""

from __future__ import annotations

import json
import subprocess
import sys

from usdai_sim.readme import schema_file, schema_text
from usdai_sim.scenario.field_docs import FIELD_DOCS, documented_json_schema, scenario_models, undocumented
from usdai_sim.scenario.library import builtin_names, builtin_path


def _properties(document: dict) -> list[tuple[str, dict]]:
    tops = [("Scenario", document["properties"])]
    tops += [(name, d.get("properties", {})) for name, d in document["$defs"].items()]
    return [(f"{model}.{key}", prop) for model, props in tops for key, prop in props.items()]


def test_every_field_has_description_unit_and_source() -> None:
    """New schema fields must be added to usdai_sim/scenario/field_docs.py (this test names them)."""
    assert undocumented() == []


def test_field_docs_name_only_existing_fields() -> None:
    """No stale entries: every documented field exists on its model (or, for a base class, on a subclass)."""
    present = {(base.__name__, key) for model in scenario_models() for base in model.__mro__
               for key in model.model_fields}
    stale = [f"{cls}.{key}" for cls, fields in FIELD_DOCS.items() for key in fields if (cls, key) not in present]
    assert stale == []


def test_exported_schema_has_100_percent_descriptions_and_units() -> None:
    properties = _properties(documented_json_schema())
    assert len(properties) > 200
    missing = [name for name, prop in properties if not prop.get("description") or not prop.get("unit")]
    assert missing == []


def test_exported_schema_carries_sources_of_defaults() -> None:
    document = documented_json_schema()
    apr = document["$defs"]["Cohort"]["properties"]["apr"]
    assert apr["unit"] == "annual decimal" and "DOMAIN.md" in apr["source"]
    behaviour = document["$defs"]["Depositors"]["properties"]["redeem_base_rate_per_year"]
    assert behaviour["source"].startswith("assumption")


def test_cli_schema_prints_the_documented_schema() -> None:
    out = subprocess.run([sys.executable, "-m", "usdai_sim", "schema"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == documented_json_schema()


def test_shipped_schema_file_is_current_and_named_by_every_builtin() -> None:
    assert schema_file().read_text(encoding="utf-8") == schema_text(), "run `make docs`"
    for name in builtin_names():
        path = builtin_path(name)
        assert path is not None
        second = path.read_text().splitlines()[1]  # the first line is the scenario's own heading
        assert second == f"# yaml-language-server: $schema={schema_file().name}", name
