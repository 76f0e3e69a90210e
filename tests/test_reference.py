"""The checked-in scenario reference is exactly what the schema generates."""

from pathlib import Path

from harness.scenario.reference import scenario_reference_markdown
from harness.scenario import Scenario

REPO = Path(__file__).resolve().parents[1]


def test_docs_scenario_reference_matches_the_schema():
    generated = scenario_reference_markdown()
    checked_in = (REPO / "docs" / "scenario-reference.md").read_text()
    assert checked_in == generated, "regenerate: python -m harness reference > docs/scenario-reference.md"


def test_every_schema_key_appears_in_the_reference():
    import dataclasses
    import typing

    text = scenario_reference_markdown()
    hints = typing.get_type_hints(Scenario)
    for f in dataclasses.fields(Scenario):
        if f.metadata.get("internal"):
            continue
        section = hints[f.name]
        if dataclasses.is_dataclass(section):
            for g in dataclasses.fields(section):
                assert f"`{f.name}.{g.name}`" in text
        else:
            assert f"`{f.name}`" in text
