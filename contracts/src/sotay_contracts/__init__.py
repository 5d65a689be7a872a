"""Wire contracts shared by every service (DESIGN.md §6).

CloudEvents 1.0 envelope in binary mode on NATS, one pydantic model per event, the registry that
maps ``ce-type`` to its model, and the generated JSON Schemas / AsyncAPI document.
"""

from sotay_contracts import errors
from sotay_contracts.envelope import CloudEvent, Event, new_cloud_event
from sotay_contracts.errors import (
    ContractError,
    InvalidEnvelope,
    InvalidEventData,
    UnknownEventType,
)
from sotay_contracts.registry import (
    ALL_EVENTS,
    EVENT_TYPES,
    PUBLIC_SUBJECTS,
    model_for,
    parse_event,
)

__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "PUBLIC_SUBJECTS",
    "CloudEvent",
    "ContractError",
    "Event",
    "InvalidEnvelope",
    "InvalidEventData",
    "UnknownEventType",
    "errors",
    "model_for",
    "new_cloud_event",
    "parse_event",
]
