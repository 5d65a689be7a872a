"""Events leave the services for external consumers: no personal data in any field — except a
member's display name and card number on identity's internal directory subjects (DESIGN.md §6),
which are never public."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel
from sotay_contracts import (
    ALL_EVENTS,
    PUBLIC_SUBJECTS,
    CloudEvent,
    Event,
    new_cloud_event,
    parse_event,
)
from sotay_contracts.events.documents import Classification, DocumentKind, DocumentPublished

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


# The one exception (DESIGN.md §6): identity's directory shows members by name and card number
# to secretaries and committees. Those two fields, on those subjects, and nothing else personal.
DIRECTORY_FIELDS = {"full_name", "card_number"}


def _directory(model: type[Event]) -> bool:
    return model.SUBJECT.split(".")[1] == "directory"


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.SUBJECT)
def test_no_event_field_suggests_personal_data(model: type[Event]) -> None:
    names = _field_names(model, set())
    assert names
    allowed = DIRECTORY_FIELDS if model.SUBJECT.startswith("identity.directory.") else set()
    assert sorted(name for name in names if _suspicious(name) and name not in allowed) == []


def test_only_identity_directory_names_members() -> None:
    """Names and card numbers travel on ``identity.directory.*`` only, and that directory is
    internal: no public subject, no other service's subject carries a member's name."""
    naming = {m.SUBJECT for m in ALL_EVENTS if DIRECTORY_FIELDS & _field_names(m, set())}
    assert naming == {"identity.directory.described.v1"}
    assert all(_directory(m) for m in ALL_EVENTS if m.SUBJECT in naming)
    assert not naming & PUBLIC_SUBJECTS


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


# What names a document or a meeting: shown to its audience, never to external consumers
# (the titles and numbers of internal and restricted documents stay on the platform).
DISPLAY_TOKENS = {"title", "number", "location", "place", "issuer", "summary", "agenda"}


def _public_models() -> list[type[Event]]:
    return [model for model in ALL_EVENTS if model.SUBJECT in PUBLIC_SUBJECTS]


def test_public_subjects_are_known_events_and_no_directory() -> None:
    assert {model.SUBJECT for model in _public_models()} == PUBLIC_SUBJECTS
    assert not [s for s in PUBLIC_SUBJECTS if s.split(".")[1] == "directory"]


@pytest.mark.parametrize("model", _public_models(), ids=lambda m: m.SUBJECT)
def test_public_events_carry_no_display_data(model: type[Event]) -> None:
    """A field that would name the document or meeting on a public subject is withheld:
    kept in the schema (v1 never loses a field), deprecated, and refused when filled."""
    display = {name for name in _field_names(model, set()) if DISPLAY_TOKENS & set(name.split("_"))}
    assert display <= model.WITHHELD
    schema = model.model_json_schema()
    for name in model.WITHHELD:
        assert model.model_fields[name].default is None, name
        assert schema["properties"][name].get("deprecated") is True, name
        assert "deprecated" in schema["properties"][name]["description"].lower(), name


def test_a_filled_withheld_field_is_refused_when_produced_but_read_when_received() -> None:
    published = DocumentPublished(
        document_id=uuid.uuid4(), version=1, publication_id=uuid.uuid4(),
        audience_org_ids=[uuid.uuid4()], audience_org_paths=["1.2"], audience_size=3,
        study_required=False, classification=Classification.RESTRICTED,
        kind=DocumentKind.RESOLUTION, published_by=uuid.uuid4(), publisher_org_id=uuid.uuid4(),
        occurred_at=datetime(2026, 12, 2, 8, tzinfo=UTC),
    )  # fmt: skip
    clean = new_cloud_event(published)
    assert json.loads(clean.data)["title"] is None and json.loads(clean.data)["number"] is None
    leaking = published.model_copy(update={"title": "Nghị quyết mật", "number": "01-NQ/TU"})
    with pytest.raises(ValueError, match=r"withheld fields must stay empty: \['number', 'title'\]"):
        new_cloud_event(leaking)
    # An event produced before the fields were withheld is still read (consumers tolerate it).
    old = CloudEvent(
        id=clean.id, source=clean.source, type=clean.type, subject=clean.subject,
        time=clean.time, dataschema=clean.dataschema,
        data=leaking.model_dump_json().encode(),
    )  # fmt: skip
    parsed = parse_event(old)
    assert isinstance(parsed, DocumentPublished) and parsed.title == "Nghị quyết mật"
