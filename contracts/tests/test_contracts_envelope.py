"""CloudEvents binary mode on NATS: headers out, headers in."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sotay_contracts import CloudEvent, InvalidEnvelope, new_cloud_event, parse_event
from sotay_contracts.events.identity import MemberTransferred

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _transfer() -> MemberTransferred:
    return MemberTransferred(
        member_id=uuid.uuid4(),
        from_cell_id=uuid.uuid4(),
        from_org_path="1.12.305",
        to_cell_id=uuid.uuid4(),
        to_org_path="1.12.306",
        effective_on=datetime(2025, 3, 1, tzinfo=UTC).date(),
        revision=3,
        occurred_at=datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
    )


def _headers() -> dict[str, str]:
    return new_cloud_event(_transfer()).to_nats_headers()


def test_new_cloud_event_sets_attributes_from_the_model() -> None:
    event = _transfer()
    ce = new_cloud_event(event, traceparent=TRACEPARENT)
    assert ce.type == "vn.sotay.identity.member.transferred.v1"
    assert ce.nats_subject == "identity.member.transferred.v1"
    assert ce.source == "/services/identity"
    assert ce.subject == str(event.member_id)
    assert ce.dataschema == "https://schemas.sotay.vn/events/identity.member.transferred.v1.json"
    assert ce.datacontenttype == "application/json"
    assert ce.time.tzinfo is not None
    assert abs(datetime.now(UTC) - ce.time) < timedelta(minutes=1)
    assert json.loads(ce.data)["to_org_path"] == "1.12.306"


def test_round_trip_through_nats_headers() -> None:
    event = _transfer()
    sent = new_cloud_event(
        event,
        time=datetime(2025, 3, 1, 16, 0, 0, 123456, tzinfo=timezone(timedelta(hours=7))),
        traceparent=TRACEPARENT,
        tracestate="sotay=1",
    )
    headers = sent.to_nats_headers()
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-time"] == "2025-03-01T09:00:00.123456Z"
    assert headers["traceparent"] == TRACEPARENT
    assert headers["tracestate"] == "sotay=1"

    received = CloudEvent.from_nats(headers, sent.data)
    assert received == sent
    assert received.time == datetime(2025, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
    assert parse_event(received) == event


def test_headers_omit_trace_context_when_unset() -> None:
    headers = _headers()
    assert "traceparent" not in headers
    assert "tracestate" not in headers
    assert CloudEvent.from_nats(headers, b"{}").traceparent is None


def test_nats_msg_id_equals_ce_id() -> None:
    headers = _headers()
    assert headers["Nats-Msg-Id"] == headers["ce-id"]


def test_ids_are_fresh_uuid7() -> None:
    ids = [new_cloud_event(_transfer()).id for _ in range(50)]
    assert len(set(ids)) == 50
    parsed = [uuid.UUID(value) for value in ids]
    assert all(value.version == 7 for value in parsed)
    # UUIDv7 starts with a millisecond timestamp: ids are time-ordered.
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    assert all(abs((value.int >> 80) - now_ms) < 60_000 for value in parsed)


def test_explicit_id_and_time_are_kept() -> None:
    fixed_id = "0195947a-0000-7000-8000-000000000001"
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    ce = new_cloud_event(_transfer(), id=fixed_id, time=when)
    assert ce.id == fixed_id
    assert ce.to_nats_headers()["ce-time"] == "2025-01-02T03:04:05.000000Z"


def test_header_names_are_matched_case_insensitively() -> None:
    headers = {key.upper(): value for key, value in _headers().items()}
    assert CloudEvent.from_nats(headers, b"{}").id == headers["CE-ID"]


@pytest.mark.parametrize(
    "header",
    [
        "ce-id",
        "ce-specversion",
        "ce-source",
        "ce-type",
        "ce-subject",
        "ce-time",
        "ce-datacontenttype",
        "ce-dataschema",
    ],
)
def test_from_nats_rejects_missing_required_header(header: str) -> None:
    headers = _headers()
    del headers[header]
    with pytest.raises(InvalidEnvelope, match=header) as info:
        CloudEvent.from_nats(headers, b"{}")
    assert header in info.value.reason


def test_from_nats_rejects_empty_ce_id() -> None:
    headers = _headers() | {"ce-id": "  "}
    with pytest.raises(InvalidEnvelope, match="ce-id"):
        CloudEvent.from_nats(headers, b"{}")


@pytest.mark.parametrize("value", ["not-a-uuid", str(uuid.uuid4())])
def test_from_nats_rejects_ce_id_that_is_not_uuid7(value: str) -> None:
    with pytest.raises(InvalidEnvelope, match="UUIDv7"):
        CloudEvent.from_nats(_headers() | {"ce-id": value}, b"{}")


@pytest.mark.parametrize("value", ["0.3", "2.0", "1"])
def test_from_nats_rejects_bad_specversion(value: str) -> None:
    with pytest.raises(InvalidEnvelope, match="specversion"):
        CloudEvent.from_nats(_headers() | {"ce-specversion": value}, b"{}")


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2025-03-01",  # date only
        "2025-03-01T09:00:00",  # no offset
        "2025-13-01T09:00:00Z",  # month 13
        "2025-02-30T09:00:00Z",  # 30 February
        "20250301T090000Z",  # ISO basic format, not RFC 3339
    ],
)
def test_from_nats_rejects_bad_time(value: str) -> None:
    with pytest.raises(InvalidEnvelope, match="ce-time"):
        CloudEvent.from_nats(_headers() | {"ce-time": value}, b"{}")


def test_from_nats_accepts_offsets_and_long_fractions() -> None:
    headers = _headers() | {"ce-time": "2025-03-01T16:00:00.123456789+07:00"}
    ce = CloudEvent.from_nats(headers, b"{}")
    assert ce.time == datetime(2025, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize("value", ["text/plain", "application/xml", "application/octet-stream"])
def test_from_nats_rejects_non_json_content(value: str) -> None:
    with pytest.raises(InvalidEnvelope, match="not JSON"):
        CloudEvent.from_nats(_headers() | {"ce-datacontenttype": value}, b"{}")


def test_from_nats_accepts_json_with_charset() -> None:
    headers = _headers() | {"ce-datacontenttype": "application/json; charset=utf-8"}
    assert CloudEvent.from_nats(headers, b"{}").datacontenttype == "application/json; charset=utf-8"


def test_from_nats_rejects_foreign_type_and_no_headers() -> None:
    with pytest.raises(InvalidEnvelope, match="ce-type"):
        CloudEvent.from_nats(_headers() | {"ce-type": "com.example.thing"}, b"{}")
    with pytest.raises(InvalidEnvelope, match="no headers"):
        CloudEvent.from_nats(None, b"{}")
    with pytest.raises(InvalidEnvelope, match="no headers"):
        CloudEvent.from_nats({}, b"{}")


def test_cloud_event_requires_aware_time() -> None:
    ce = new_cloud_event(_transfer())
    with pytest.raises(InvalidEnvelope, match="timezone-aware"):
        CloudEvent(
            id=ce.id,
            source=ce.source,
            type=ce.type,
            subject=ce.subject,
            time=datetime(2025, 1, 1),
            dataschema=ce.dataschema,
            data=ce.data,
        )
