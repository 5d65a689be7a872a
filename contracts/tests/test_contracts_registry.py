"""The registry knows every event model, and parse_event validates data."""

from __future__ import annotations

import inspect
import json
import re
import uuid
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError
from sotay_contracts import (
    ALL_EVENTS,
    EVENT_TYPES,
    PUBLIC_SUBJECTS,
    CloudEvent,
    Event,
    InvalidEventData,
    UnknownEventType,
    errors,
    model_for,
    new_cloud_event,
    parse_event,
)
from sotay_contracts.events import documents, identity, meetings, notify

EVENT_MODULES: tuple[ModuleType, ...] = (identity, documents, meetings, notify)
SUBJECT_RE = re.compile(r"^(identity|documents|meetings|notify)\.[a-z_]+\.[a-z_]+\.v[1-9][0-9]*$")

NOW = datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
LATER = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


def _id() -> uuid.UUID:
    return uuid.uuid4()


def _plan() -> dict[str, Any]:
    return {
        "meeting_id": _id(),
        "org_id": _id(),
        "org_path": "1.12.305",
        "kind": "regular",
        "starts_at": NOW,
        "ends_at": LATER,
        "invitee_member_ids": [_id(), _id()],
        "occurrence": {"series_id": _id(), "index": 3, "rule": "monthly"},
        "revision": 1,
        "occurred_at": NOW,
    }


def sample(model: type[Event]) -> Event:
    """One valid instance of every event model."""
    org = {"org_id": _id(), "path": "1.12", "kind": "district", "title": "Đảng bộ huyện A"}
    state = {"status": "active", "valid_from": date(2020, 1, 1), "revision": 2, "occurred_at": NOW}
    member = {"member_id": _id(), "cell_id": _id(), "org_path": "1.12.305.7", "revision": 1}
    grant = {"grant_id": _id(), "member_id": _id(), "role": "org_admin", "org_id": _id()}
    delivery = {
        "notification_id": _id(),
        "member_id": _id(),
        "channel": "webpush",
        "cause_type": "meeting_scheduled",
        "cause_id": _id(),
        "attempt": 1,
        "occurred_at": NOW,
    }
    data: dict[type[Event], dict[str, Any]] = {
        identity.OrgCreated: org | state | {"parent_id": _id()},
        identity.OrgUpdated: org | state | {"changed_fields": ["title"]},
        identity.OrgMoved: {
            "org_id": _id(),
            "old_parent_id": _id(),
            "new_parent_id": _id(),
            "old_path": "1.12.305",
            "new_path": "1.13.305",
            "revision": 4,
            "occurred_at": NOW,
        },
        identity.OrgClosed: {
            "org_id": _id(),
            "path": "1.12.305",
            "closed_on": date(2025, 3, 1),
            "revision": 5,
            "occurred_at": NOW,
        },
        identity.MemberCreated: member
        | {"membership": "official", "status": "active", "occurred_at": NOW},
        identity.MemberUpdated: member
        | {
            "membership": "official",
            "status": "active",
            "changed_fields": ["membership"],
            "occurred_at": NOW,
        },
        identity.MemberTransferred: {
            "member_id": _id(),
            "from_cell_id": _id(),
            "from_org_path": "1.12.305.7",
            "to_cell_id": _id(),
            "to_org_path": "1.12.305.8",
            "effective_on": date(2025, 3, 1),
            "revision": 2,
            "occurred_at": NOW,
        },
        identity.MemberDeactivated: member
        | {"reason_code": "transferred_out", "effective_on": date(2025, 3, 1), "occurred_at": NOW},
        identity.AccountActivated: {
            "member_id": _id(),
            "cell_id": _id(),
            "org_path": "1.12.305.7",
            "occurred_at": NOW,
        },
        identity.MemberDescribed: {
            "member_id": _id(),
            "full_name": "Nguyễn Thị Hoa",
            "card_number": "93.012345",
            "cell_id": _id(),
            "org_path": "1.12.305.7",
            "revision": 3,
            "occurred_at": NOW,
        },
        identity.MemberErased: {"member_id": _id(), "revision": 4, "occurred_at": NOW},
        identity.RoleGranted: grant | {"org_path": "1.12", "granted_by": _id(), "occurred_at": NOW},
        identity.RoleRevoked: grant | {"org_path": "1.12", "revoked_by": None, "occurred_at": NOW},
        documents.DocumentPublished: {
            "document_id": _id(),
            "version": 1,
            "publication_id": _id(),
            "audience_org_ids": [_id(), _id()],
            "audience_org_paths": ["1.12", "1.13"],
            "audience_size": 12000,
            "study_required": True,
            "study_deadline": LATER,
            "classification": "internal",
            "kind": "resolution",
            "published_by": _id(),
            "publisher_org_id": _id(),
            "occurred_at": NOW,
        },
        documents.DocumentRead: {
            "document_id": _id(),
            "version": 2,
            "member_id": _id(),
            "cell_id": _id(),
            "org_path": "1.12.305.7",
            "state": "progress",
            "progress_percent": 40,
            "occurred_at": NOW,
        },
        documents.DocumentRetracted: {
            "document_id": _id(),
            "reason_code": "superseded",
            "retracted_by": _id(),
            "occurred_at": NOW,
        },
        documents.DocumentDescribed: {
            "document_id": _id(),
            "version": 1,
            "number": "05-NQ/HU",
            "title": "Nghị quyết về phát triển kinh tế - xã hội năm 2026",
            "kind": "resolution",
            "classification": "internal",
            "issuer": "Ban Chấp hành Đảng bộ huyện",
            "issued_on": date(2025, 3, 10),
            "owner_org_id": _id(),
            "occurred_at": NOW,
        },
        documents.StudyReminderRequested: {
            "document_id": _id(),
            "version": 1,
            "publication_id": _id(),
            "org_id": _id(),
            "org_path": "1.12.305.7",
            "day": date(2026, 12, 3),
            "requested_by": _id(),
            "occurred_at": NOW,
        },
        documents.QuizPassed: {
            "document_id": _id(),
            "version": 1,
            "publication_id": _id(),
            "member_id": _id(),
            "cell_id": _id(),
            "org_path": "1.12.305.7",
            "occurred_at": NOW,
        },
        meetings.MeetingScheduled: _plan() | {"scheduled_by": None},
        meetings.MeetingUpdated: _plan()
        | {"changed_fields": ["starts_at", "ends_at"], "updated_by": _id(), "revision": 2},
        meetings.MeetingCancelled: _plan()
        | {"reason_code": "rescheduled", "cancelled_by": _id(), "revision": 3},
        meetings.MeetingClosed: {
            "meeting_id": _id(),
            "org_id": _id(),
            "org_path": "1.12.305.7",
            "kind": "thematic",
            "starts_at": NOW,
            "invited": 27,
            "present": 20,
            "late": 3,
            "absent_excused": 2,
            "absent_unexcused": 1,
            "exempt": 1,
            "quorum_required": 0.6667,
            "quorum_met": True,
            "closed_by": _id(),
            "occurred_at": LATER,
        },
        meetings.RsvpRecorded: {
            "meeting_id": _id(),
            "member_id": _id(),
            "response": "absent",
            "reason_code": "business_trip",
            "occurred_at": NOW,
        },
        meetings.AttendanceRecorded: {
            "meeting_id": _id(),
            "member_id": _id(),
            "org_id": _id(),
            "org_path": "1.12.305.7",
            "meeting_kind": "regular",
            "meeting_starts_at": NOW,
            "status": "late",
            "method": "code",
            "recorded_by": _id(),
            "occurred_at": NOW,
        },
        meetings.MinutesSigned: {
            "meeting_id": _id(),
            "minutes_id": _id(),
            "org_id": _id(),
            "org_path": "1.12.305.7",
            "content_sha256": "ab" * 32,
            "signed_by": _id(),
            "occurred_at": LATER,
        },
        meetings.MotionClosed: {
            "meeting_id": _id(),
            "motion_id": _id(),
            "org_id": _id(),
            "org_path": "1.12.305.7",
            "secret": True,
            "votes": [9, 1, 0],
            "hands": [2, 0, 1],
            "present": 14,
            "closed_by": _id(),
            "occurred_at": LATER,
        },
        meetings.ReviewCellGraded: {
            "period_id": _id(),
            "year": 2026,
            "org_id": _id(),
            "org_path": "1.12.305.7",
            "counts": {"xuat_sac": 1, "tot": 9, "hoan_thanh": 3, "khong_hoan_thanh": 0},
            "decided_by_org_id": _id(),
            "decided_by": _id(),
            "occurred_at": LATER,
        },
        documents.ConsultationOpened: {
            "consultation_id": _id(),
            "document_id": _id(),
            "version": 2,
            "org_id": _id(),
            "org_path": "1.12",
            "committee_org_path": "1.12",
            "deadline": LATER,
            "section_count": 5,
            "audience_size": 812,
            "opened_by": _id(),
            "occurred_at": NOW,
        },
        documents.ConsultationClosed: {
            "consultation_id": _id(),
            "document_id": _id(),
            "org_path": "1.12",
            "contributions": 14,
            "contributors": 9,
            "cells": 3,
            "accepted": 6,
            "rejected": 2,
            "pending": 6,
            "closed_by": _id(),
            "occurred_at": LATER,
        },
        notify.NotificationDelivered: delivery,
        notify.NotificationFailed: delivery | {"error_code": "subscription_gone", "final": True},
        notify.NotificationBatchDelivered: {
            "cause_type": "document_published",
            "cause_id": _id(),
            "channel": "inapp",
            "member_ids": [_id(), _id()],
            "occurred_at": NOW,
        },
        notify.NotificationBroadcastDelivered: {
            "cause_type": "document_published",
            "cause_id": _id(),
            "channel": "inapp",
            "audience_org_paths": ["1.12", "1.13.305"],
            "occurred_at": NOW,
        },
    }
    return model.model_validate(data[model])


def _declared_events(module: ModuleType) -> set[type[Event]]:
    return {
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Event) and obj.__module__ == module.__name__ and "SUBJECT" in vars(obj)
    }


def test_registry_lists_every_event_class_of_every_module() -> None:
    declared = set().union(*(_declared_events(module) for module in EVENT_MODULES))
    assert declared == set(ALL_EVENTS)
    assert len(ALL_EVENTS) == len(set(ALL_EVENTS)) == len(EVENT_TYPES) == 34
    assert {model.ce_type(): model for model in ALL_EVENTS} == dict(EVENT_TYPES)


def test_every_event_module_class_is_abstract_or_registered() -> None:
    # An Event subclass without SUBJECT is only allowed as a private base class.
    for module in EVENT_MODULES:
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Event) and obj.__module__ == module.__name__:
                assert "SUBJECT" in vars(obj) or name.startswith("_"), name


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.SUBJECT)
def test_event_model_declares_subject_aggregate_and_docstring(model: type[Event]) -> None:
    assert SUBJECT_RE.match(model.SUBJECT), model.SUBJECT
    service = model.SUBJECT.split(".")[0]
    assert model.__module__ == f"sotay_contracts.events.{service}"
    assert model.ce_type() == "vn.sotay." + model.SUBJECT
    assert model.source() == f"/services/{service}"
    assert model.dataschema() == f"https://schemas.sotay.vn/events/{model.SUBJECT}.json"
    assert model.AGGREGATE in model.model_fields
    assert model.model_fields[model.AGGREGATE].annotation is uuid.UUID
    assert model.__doc__
    assert "fires" in model.__doc__.lower()
    assert model.model_config.get("extra") == "ignore"
    assert model.model_config.get("frozen") is True


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.SUBJECT)
def test_every_event_round_trips_through_nats(model: type[Event]) -> None:
    event = sample(model)
    ce = new_cloud_event(event)
    assert ce.subject == str(getattr(event, model.AGGREGATE)) == event.aggregate_id()
    received = CloudEvent.from_nats(ce.to_nats_headers(), ce.data)
    parsed = parse_event(received)
    assert type(parsed) is model
    assert parsed == event


def test_public_subjects_are_the_four_of_the_design() -> None:
    assert {
        "documents.document.read.v1",
        "documents.document.published.v1",
        "meetings.attendance.recorded.v1",
        "meetings.meeting.closed.v1",
    } == PUBLIC_SUBJECTS
    assert {model.SUBJECT for model in ALL_EVENTS} >= PUBLIC_SUBJECTS


def test_model_for_unknown_type() -> None:
    assert model_for("vn.sotay.meetings.meeting.closed.v1") is meetings.MeetingClosed
    with pytest.raises(UnknownEventType, match=r"meetings\.meeting\.closed\.v9") as info:
        model_for("vn.sotay.meetings.meeting.closed.v9")
    assert isinstance(info.value, errors.ContractError)


def test_parse_event_unknown_type() -> None:
    ce = new_cloud_event(sample(meetings.MeetingClosed))
    ce = CloudEvent.from_nats(ce.to_nats_headers() | {"ce-type": "vn.sotay.x.y.z.v1"}, ce.data)
    with pytest.raises(UnknownEventType):
        parse_event(ce)


def _with_data(model: type[Event], data: bytes) -> CloudEvent:
    ce = new_cloud_event(sample(model))
    return CloudEvent.from_nats(ce.to_nats_headers(), data)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not json", "Invalid JSON"),
        (b"[]", "<body>: Input should be an object"),
        (b'{"meeting_id": "nope"}', "meeting_id"),
    ],
)
def test_parse_event_bad_data(body: bytes, expected: str) -> None:
    with pytest.raises(InvalidEventData) as info:
        parse_event(_with_data(meetings.AttendanceRecorded, body))
    assert expected in info.value.reason
    assert info.value.reason.startswith("vn.sotay.meetings.attendance.recorded.v1: ")


def test_parse_event_bad_data_reason_names_fields_not_values() -> None:
    good = sample(documents.DocumentRead).model_dump(mode="json")
    bad = good | {"progress_percent": 140, "occurred_at": "2025-03-01T09:00:00"}
    with pytest.raises(InvalidEventData) as info:
        parse_event(_with_data(documents.DocumentRead, _json_bytes(bad)))
    reason = info.value.reason
    assert "progress_percent" in reason
    assert "occurred_at" in reason
    assert "timezone" in reason
    assert "140" not in reason  # the offending value is not echoed into logs / DLQ records


def _json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def test_consumers_ignore_additive_fields() -> None:
    event = sample(documents.DocumentRead)
    body = event.model_dump(mode="json") | {"added_in_a_later_minor": 1}
    assert parse_event(_with_data(documents.DocumentRead, _json_bytes(body))) == event


def test_models_are_frozen() -> None:
    event = sample(meetings.MeetingClosed)
    with pytest.raises(ValidationError):
        event.present = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("model", "change", "message"),
    [
        (meetings.MeetingClosed, {"present": 0}, "must = invited"),
        (meetings.RsvpRecorded, {"reason_code": None}, "reason_code is required"),
        (meetings.MeetingScheduled, {"ends_at": NOW}, "ends_at must be after starts_at"),
        (documents.DocumentPublished, {"audience_org_paths": ["1.12"]}, "same length"),
        (documents.DocumentRead, {"progress_percent": -1}, "greater than or equal to 0"),
        (identity.MemberCreated, {"org_path": "1..2"}, "pattern"),
        (identity.MemberTransferred, {"to_org_path": "1.12.305.7 "}, "pattern"),
        (meetings.MinutesSigned, {"content_sha256": "AB" * 32}, "pattern"),
        (meetings.MotionClosed, {"present": 12}, "more ballots than members present"),
        (meetings.MotionClosed, {"hands": [0, 0]}, "one count per option"),
        (meetings.MotionClosed, {"votes": [9, -1, 0]}, "must not be negative"),
        (documents.ConsultationClosed, {"accepted": 7}, "dispositions must add up"),
        (notify.NotificationFailed, {"attempt": 0}, "greater than or equal to 1"),
    ],
)
def test_models_enforce_invariants(
    model: type[Event], change: dict[str, Any], message: str
) -> None:
    data = sample(model).model_dump() | change
    with pytest.raises(ValidationError, match=message):
        model.model_validate(data)


def test_times_must_be_timezone_aware() -> None:
    data = sample(meetings.AttendanceRecorded).model_dump() | {"occurred_at": datetime(2025, 1, 1)}
    with pytest.raises(ValidationError, match="timezone"):
        meetings.AttendanceRecorded.model_validate(data)
