"""The README's generated sections (scenario list, keys, phases, metrics) match the code."""

from __future__ import annotations

from pathlib import Path

from usdai_sim.model import PHASES
from usdai_sim.readme import render

README = Path(__file__).resolve().parents[2] / "README.md"


def test_generated_sections_are_current() -> None:
    """`make docs` has been run since the schema, phases, scenarios or metric docs last changed."""
    text = README.read_text()
    assert render(text) == text, "README.md is stale: run `make docs`"


def test_readme_starts_with_the_two_setup_commands() -> None:
    """The first code block is `make run` then `make test`."""
    block = README.read_text().split("```")[1]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands[:2] == ["make run", "make test"]


def test_every_phase_is_documented_in_order() -> None:
    """The phase table lists PHASES in model order."""
    text = README.read_text().split("<!-- BEGIN PHASES -->")[1].split("<!-- END PHASES -->")[0]
    positions = [text.index(f"| `{phase.name}` |") for phase in PHASES]
    assert positions == sorted(positions)
