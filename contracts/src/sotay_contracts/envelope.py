"""CloudEvents 1.0 envelope, binary content mode on NATS (DESIGN.md §6).

Attributes travel in ``ce-*`` NATS headers, the body is the event data as JSON. ``Nats-Msg-Id``
equals ``ce-id`` so JetStream de-duplicates re-published outbox rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import uuid_utils
from pydantic import BaseModel, ConfigDict

from sotay_contracts.errors import InvalidEnvelope

__all__ = [
    "SPECVERSION",
    "TYPE_PREFIX",
    "CloudEvent",
    "Event",
    "format_time",
    "new_cloud_event",
    "parse_time",
]

SPECVERSION = "1.0"
TYPE_PREFIX = "vn.sotay."
SCHEMA_BASE_URL = "https://schemas.sotay.vn/events/"
JSON_CONTENT_TYPE = "application/json"

SUBJECT_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$")
_RFC3339_RE = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:\d{2})$"
)
_JSON_MEDIA_RE = re.compile(r"^application/(?:[\w.+-]+\+)?json$")


class Event(BaseModel):
    """Base of every event data model.

    Subclasses set ``SUBJECT`` (``<service>.<aggregate>.<verb>.v<major>``) and ``AGGREGATE`` (the
    name of the field holding the aggregate id, which goes to ``ce-subject``). Unknown fields are
    ignored so that consumers tolerate additive changes.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    SUBJECT: ClassVar[str]
    AGGREGATE: ClassVar[str]
    # Fields a released schema keeps (a v1 schema never loses a field) but producers must
    # leave empty: ``new_cloud_event`` refuses an event that fills one.
    WITHHELD: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def ce_type(cls) -> str:
        """``ce-type`` of this event: ``vn.sotay.<subject>``."""
        return TYPE_PREFIX + cls.SUBJECT

    @classmethod
    def source(cls) -> str:
        """``ce-source``: ``/services/<producing service>``."""
        return "/services/" + cls.SUBJECT.split(".", 1)[0]

    @classmethod
    def dataschema(cls) -> str:
        """``ce-dataschema``: URL (and ``$id``) of the JSON Schema of the data."""
        return f"{SCHEMA_BASE_URL}{cls.SUBJECT}.json"

    def aggregate_id(self) -> str:
        """Value of ``ce-subject``: the id of the aggregate the event is about."""
        return str(getattr(self, self.AGGREGATE))


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z`` suffix."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEnvelope("time must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (offset required) into an aware UTC datetime."""
    match = _RFC3339_RE.match(text)
    if match is None:
        raise InvalidEnvelope(f"ce-time is not an RFC 3339 timestamp with offset: {text[:64]!r}")
    if match.group("frac") is None or len(match.group("frac")) <= 6:
        try:  # the common case (what format_time writes): parse as is
            return datetime.fromisoformat(text.upper()).astimezone(UTC)
        except ValueError:
            pass
    frac = (match.group("frac") or "")[:6].ljust(6, "0")
    tz = match.group("tz").upper()
    tz = "+00:00" if tz == "Z" else tz
    try:
        parsed = datetime.fromisoformat(f"{match.group('base').upper()}.{frac}{tz}")
    except ValueError as exc:
        raise InvalidEnvelope(f"ce-time is not a valid timestamp: {exc}") from None
    return parsed.astimezone(UTC)


# Canonical text form, version 7, RFC 9562 variant. A regex: consumers run this for every
# message, and building a uuid.UUID costs several times more.
_UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _is_uuid7(value: str) -> bool:
    return _UUID7_RE.match(value.lower()) is not None


@dataclass(frozen=True)
class CloudEvent:
    """One CloudEvent as it travels on NATS (binary mode): attributes + JSON ``data`` bytes."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    dataschema: str
    data: bytes
    datacontenttype: str = JSON_CONTENT_TYPE
    traceparent: str | None = None
    tracestate: str | None = None

    def __post_init__(self) -> None:
        if not self.type.startswith(TYPE_PREFIX):
            raise InvalidEnvelope(f"ce-type must start with {TYPE_PREFIX!r}: {self.type[:100]!r}")
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise InvalidEnvelope("ce-time must be timezone-aware")
        object.__setattr__(self, "time", self.time.astimezone(UTC))

    @property
    def nats_subject(self) -> str:
        """The NATS subject the event is published on (``ce-type`` without ``vn.sotay.``)."""
        return self.type.removeprefix(TYPE_PREFIX)

    def to_nats_headers(self) -> dict[str, str]:
        """CloudEvents binary-mode headers plus W3C trace context and ``Nats-Msg-Id``."""
        headers = {
            "ce-specversion": SPECVERSION,
            "ce-id": self.id,
            "ce-source": self.source,
            "ce-type": self.type,
            "ce-subject": self.subject,
            "ce-time": format_time(self.time),
            "ce-datacontenttype": self.datacontenttype,
            "ce-dataschema": self.dataschema,
            "Nats-Msg-Id": self.id,
        }
        if self.traceparent is not None:
            headers["traceparent"] = self.traceparent
        if self.tracestate is not None:
            headers["tracestate"] = self.tracestate
        return headers

    @classmethod
    def from_nats(cls, headers: Mapping[str, str] | None, body: bytes) -> CloudEvent:
        """Read a binary-mode CloudEvent from NATS headers and body.

        Raises ``InvalidEnvelope`` when a required attribute is missing or invalid, the spec
        version is not 1.0, the content type is not JSON or ``ce-time`` is not RFC 3339.
        """
        if not headers:
            raise InvalidEnvelope("message has no headers (CloudEvents binary mode expected)")
        lowered = {key.lower(): value for key, value in headers.items()}

        def required(name: str) -> str:
            value = lowered.get(name)
            if value is None or not value.strip():
                raise InvalidEnvelope(f"missing required header {name}")
            return value.strip()

        specversion = required("ce-specversion")
        if specversion != SPECVERSION:
            raise InvalidEnvelope(f"unsupported ce-specversion {specversion[:20]!r}, expected 1.0")
        event_id = required("ce-id")
        if not _is_uuid7(event_id):
            raise InvalidEnvelope(f"ce-id is not a UUIDv7: {event_id[:64]!r}")
        event_type = required("ce-type")
        if not event_type.startswith(TYPE_PREFIX):
            raise InvalidEnvelope(f"ce-type must start with {TYPE_PREFIX!r}: {event_type[:100]!r}")
        content_type = required("ce-datacontenttype")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if not _JSON_MEDIA_RE.match(media_type):
            raise InvalidEnvelope(f"ce-datacontenttype is not JSON: {content_type[:100]!r}")
        return cls(
            id=event_id,
            source=required("ce-source"),
            type=event_type,
            subject=required("ce-subject"),
            time=parse_time(required("ce-time")),
            dataschema=required("ce-dataschema"),
            data=bytes(body),
            datacontenttype=content_type,
            traceparent=lowered.get("traceparent") or None,
            tracestate=lowered.get("tracestate") or None,
        )


def new_cloud_event(
    event: Event,
    *,
    id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> CloudEvent:
    """Wrap an event's data in a CloudEvent; ``id`` defaults to a fresh UUIDv7, ``time`` to now.

    Raises ``ValueError`` when the event fills a withheld field (``Event.WITHHELD``)."""
    filled = sorted(name for name in event.WITHHELD if getattr(event, name) is not None)
    if filled:
        raise ValueError(f"{event.SUBJECT}: withheld fields must stay empty: {filled}")
    return CloudEvent(
        id=id if id is not None else str(uuid_utils.uuid7()),
        source=event.source(),
        type=event.ce_type(),
        subject=event.aggregate_id(),
        time=time if time is not None else datetime.now(UTC),
        dataschema=event.dataschema(),
        data=event.model_dump_json().encode(),
        traceparent=traceparent,
        tracestate=tracestate,
    )
