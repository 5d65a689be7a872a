"""Events leave the services for external consumers: no personal data in any field."""

from __future__ import annotations

from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel
from sotay_contracts import ALL_EVENTS

# Field-name tokens that betray personal data (DESIGN.md §6: ids, org paths and facts only).
FORBIDDEN_TOKENS = {
    "name", "phone", "mobile", "email", "mail", "birth", "birthday", "dob", "address",
    "citizen", "cccd", "cmnd", "passport", "gender", "sex", "ethnicity", "religion",
    "hometown", "avatar", "photo", "ip", "password", "otp", "card", "text", "comment",
    "note", "notes", "message", "body",
}  # fmt: skip
FORBIDDEN_NAMES = {"full_name", "reason_text", "id_number", "national_id", "party_card_number"}


def _field_names(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    """Field names of the model and of every model nested in it."""
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        pending: list[Any] = [field.annotation]
        while pending:
            annotation = pending.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names |= _field_names(annotation, seen)
            elif get_origin(annotation) is not None:
                pending.extend(get_args(annotation))
    return names


def _suspicious(name: str) -> bool:
    return name in FORBIDDEN_NAMES or bool(FORBIDDEN_TOKENS & set(name.split("_")))


def test_detector_flags_personal_data_names() -> None:
    for name in ["full_name", "name", "phone_number", "email", "date_of_birth", "home_address",
                 "citizen_id", "reason_text", "first_name"]:  # fmt: skip
        assert _suspicious(name), name
    for name in ["member_id", "org_path", "reason_code", "cell_id", "title", "occurred_at"]:
        assert not _suspicious(name), name


def test_nested_models_are_inspected() -> None:
    from sotay_contracts.events.meetings import MeetingScheduled

    assert {"series_id", "index", "rule"} <= _field_names(MeetingScheduled, set())


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.SUBJECT)
def test_no_event_field_suggests_personal_data(model: type[BaseModel]) -> None:
    names = _field_names(model, set())
    assert names
    assert sorted(name for name in names if _suspicious(name)) == []


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.SUBJECT)
def test_reasons_are_codes_not_free_text(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    for name, prop in schema["properties"].items():
        if "reason" in name or "error" in name:
            assert name.endswith("_code"), name
            options = prop.get("anyOf", [prop])
            targets = [schema["$defs"][o["$ref"].rsplit("/", 1)[1]] if "$ref" in o else o
                       for o in options]  # fmt: skip
            assert any("enum" in target for target in targets), name
            assert all("enum" in target or target.get("type") == "null" for target in targets)
