"""Every event model, keyed by ``ce-type``; parsing of a received CloudEvent into its model."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import ValidationError

from sotay_contracts.envelope import CloudEvent, Event
from sotay_contracts.errors import InvalidEventData, UnknownEventType
from sotay_contracts.events import documents, identity, meetings, notify

__all__ = ["ALL_EVENTS", "EVENT_TYPES", "PUBLIC_SUBJECTS", "model_for", "parse_event"]

# The explicit list. Adding an event = add its class here (a test checks nothing is missing).
ALL_EVENTS: tuple[type[Event], ...] = (
    identity.OrgCreated,
    identity.OrgUpdated,
    identity.OrgMoved,
    identity.OrgClosed,
    identity.MemberCreated,
    identity.MemberUpdated,
    identity.MemberTransferred,
    identity.MemberDeactivated,
    identity.AccountActivated,
    identity.MemberDescribed,
    identity.MemberErased,
    identity.RoleGranted,
    identity.RoleRevoked,
    documents.DocumentPublished,
    documents.DocumentRead,
    documents.DocumentRetracted,
    documents.DocumentDescribed,
    documents.StudyReminderRequested,
    documents.ConsultationOpened,
    documents.ConsultationClosed,
    documents.QuizPassed,
    meetings.MeetingScheduled,
    meetings.MeetingUpdated,
    meetings.MeetingCancelled,
    meetings.MeetingClosed,
    meetings.RsvpRecorded,
    meetings.AttendanceRecorded,
    meetings.MinutesSigned,
    meetings.MotionClosed,
    meetings.ReviewCellGraded,
    notify.NotificationDelivered,
    notify.NotificationFailed,
    notify.NotificationBatchDelivered,
    notify.NotificationBroadcastDelivered,
)

# Subjects external analytics consumers may read (sourced into the PUBLIC stream, DESIGN.md §6).
PUBLIC_SUBJECTS: frozenset[str] = frozenset(
    {
        documents.DocumentRead.SUBJECT,
        documents.DocumentPublished.SUBJECT,
        meetings.AttendanceRecorded.SUBJECT,
        meetings.MeetingClosed.SUBJECT,
    }
)


def _index(models: tuple[type[Event], ...]) -> Mapping[str, type[Event]]:
    index: dict[str, type[Event]] = {}
    for model in models:
        if model.ce_type() in index:
            raise RuntimeError(f"duplicate event type {model.ce_type()}")
        index[model.ce_type()] = model
    return MappingProxyType(index)


EVENT_TYPES: Mapping[str, type[Event]] = _index(ALL_EVENTS)


def model_for(ce_type: str) -> type[Event]:
    """The model of a ``ce-type``; ``UnknownEventType`` when this contracts version lacks it."""
    try:
        return EVENT_TYPES[ce_type]
    except KeyError:
        raise UnknownEventType(f"unknown event type {ce_type[:200]!r}") from None


def _summarise(exc: ValidationError, limit: int = 5) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:limit]:
        location = ".".join(str(part) for part in error["loc"]) or "<body>"
        parts.append(f"{location}: {error['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


def parse_event(ce: CloudEvent) -> Event:
    """Validate a CloudEvent's data against the model of its type.

    Raises ``UnknownEventType`` for an unknown ``ce-type`` and ``InvalidEventData`` (reason =
    summary of the validation errors, without the offending values) for data that does not fit.
    """
    model = model_for(ce.type)
    try:
        return model.model_validate_json(ce.data)
    except ValidationError as exc:
        raise InvalidEventData(f"{ce.type}: {_summarise(exc)}") from None
