"""Breaking-change guard: v1 schemas may only grow optional fields."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sotay_contracts import ALL_EVENTS
from sotay_contracts.compat import breaking_changes
from sotay_contracts.generate import BASELINE_DIR, CONTRACTS_DIR, SCHEMAS_DIR

BASE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "meeting_id": {"type": "string", "format": "uuid"},
        "present": {"type": "integer", "minimum": 0},
        "kind": {"$ref": "#/$defs/Kind"},
        "note_code": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "tags": {"type": "array", "items": {"type": "string"}},
        "occurrence": {
            "anyOf": [{"$ref": "#/$defs/Occurrence"}, {"type": "null"}],
            "default": None,
        },
    },
    "required": ["meeting_id", "present", "kind", "tags"],
    "$defs": {
        "Kind": {"type": "string", "enum": ["regular", "thematic"]},
        "Occurrence": {
            "type": "object",
            "properties": {"index": {"type": "integer"}, "series_id": {"type": "string"}},
            "required": ["index"],
        },
    },
}


def _changed(**edits: Any) -> dict[str, Any]:
    schema = copy.deepcopy(BASE)
    for dotted, value in edits.items():
        target = schema
        *parents, leaf = dotted.split("__")
        for part in parents:
            target = target[part]
        if value is _DELETE:
            del target[leaf]
        else:
            target[leaf] = value
    return schema


_DELETE = object()


def test_identical_schema_has_no_breaking_change() -> None:
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []


def test_added_optional_field_is_compatible() -> None:
    new = _changed(properties__study_minutes={"type": "integer", "default": 0})
    assert breaking_changes(BASE, new) == []


def test_added_enum_value_and_relaxed_requirement_are_compatible() -> None:
    new = _changed(
        **{"$defs__Kind": {"type": "string", "enum": ["regular", "thematic", "committee"]}},
        required=["meeting_id", "present", "kind"],
    )
    assert breaking_changes(BASE, new) == []


def test_removed_field_is_breaking() -> None:
    problems = breaking_changes(BASE, _changed(properties__present=_DELETE))
    assert problems == ["present: field removed"]


def test_retyped_field_is_breaking() -> None:
    problems = breaking_changes(BASE, _changed(properties__present={"type": "string"}))
    assert problems == ["present: type changed from ['integer'] to ['string']"]


def test_changed_format_is_breaking() -> None:
    new = _changed(properties__meeting_id={"type": "string", "format": "date-time"})
    assert breaking_changes(BASE, new) == ["meeting_id: format changed from 'uuid' to 'date-time'"]


def test_optional_field_becoming_nullable_only_is_retyped() -> None:
    new = _changed(properties__present={"anyOf": [{"type": "integer"}, {"type": "null"}]})
    assert breaking_changes(BASE, new) == [
        "present: type changed from ['integer'] to ['integer', 'null']"
    ]


def test_new_required_field_is_breaking() -> None:
    new = _changed(
        properties__cell_id={"type": "string"},
        required=[*BASE["required"], "cell_id"],
    )
    assert breaking_changes(BASE, new) == ["cell_id: new field is required"]


def test_optional_field_becoming_required_is_breaking() -> None:
    new = _changed(required=[*BASE["required"], "note_code"])
    assert breaking_changes(BASE, new) == ["note_code: optional field became required"]


def test_removed_enum_value_is_breaking() -> None:
    new = _changed(**{"$defs__Kind": {"type": "string", "enum": ["regular"]}})
    assert breaking_changes(BASE, new) == ["kind: enum values removed: 'thematic'"]


def test_changes_inside_nested_objects_and_arrays_are_found() -> None:
    new = copy.deepcopy(BASE)
    new["$defs"]["Occurrence"]["properties"]["index"] = {"type": "string"}
    del new["$defs"]["Occurrence"]["properties"]["series_id"]
    new["properties"]["tags"]["items"] = {"type": "integer"}
    assert breaking_changes(BASE, new) == [
        "occurrence.index: type changed from ['integer'] to ['string']",
        "occurrence.series_id: field removed",
        "tags[]: type changed from ['string'] to ['integer']",
    ]


def test_inlined_ref_is_not_a_change() -> None:
    new = copy.deepcopy(BASE)
    new["properties"]["kind"] = copy.deepcopy(BASE["$defs"]["Kind"])
    assert breaking_changes(BASE, new) == []


# ------------------------------------------------------- the committed schemas themselves


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


BASELINES = sorted((CONTRACTS_DIR / BASELINE_DIR).glob("*.v1.json"))


def test_baseline_covers_every_v1_subject() -> None:
    baselined = {path.name.removesuffix(".json") for path in BASELINES}
    v1 = {model.SUBJECT for model in ALL_EVENTS if model.SUBJECT.endswith(".v1")}
    missing = sorted(v1 - baselined)
    assert not missing, f"freeze with `python -m sotay_contracts.generate --baseline`: {missing}"
    assert len(BASELINES) >= 22


@pytest.mark.parametrize("baseline", BASELINES, ids=lambda path: path.name)
def test_current_v1_schema_is_compatible_with_baseline(baseline: Path) -> None:
    current = CONTRACTS_DIR / SCHEMAS_DIR / baseline.name
    assert current.is_file(), f"released v1 subject {baseline.stem} has no schema any more"
    old, new = _load(baseline), _load(current)
    assert old["$id"] == new["$id"]
    assert breaking_changes(old, new) == []


def test_guard_catches_a_breaking_edit_of_a_real_schema() -> None:
    baseline = _load(CONTRACTS_DIR / BASELINE_DIR / "meetings.attendance.recorded.v1.json")
    edited = copy.deepcopy(baseline)
    del edited["properties"]["org_path"]
    edited["properties"]["status"] = {"type": "integer"}
    assert breaking_changes(baseline, edited) == [
        "org_path: field removed",
        "status: type changed from ['string'] to ['integer']",
    ]
