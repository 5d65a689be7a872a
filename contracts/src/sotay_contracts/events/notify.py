"""Events produced by the notify service: outcome of each delivery attempt per channel, and
the in-app deliveries of a fan-out reported per batch of members or, for an audience of whole
subtrees, once for all of them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from sotay_contracts.envelope import Event
from sotay_contracts.events._common import AwareDatetime, OrgPath

__all__ = [
    "Channel",
    "DeliveryError",
    "NotificationBatchDelivered",
    "NotificationBroadcastDelivered",
    "NotificationCause",
    "NotificationDelivered",
    "NotificationFailed",
]


class Channel(StrEnum):
    INAPP = "inapp"
    WEBPUSH = "webpush"
    EMAIL = "email"
    SMS = "sms"


class NotificationCause(StrEnum):
    """What made notify send the notification; ``cause_id`` is the id of that thing."""

    DOCUMENT_PUBLISHED = "document_published"  # cause_id = publication id
    DOCUMENT_RETRACTED = "document_retracted"  # cause_id = document id
    STUDY_DEADLINE_REMINDER = "study_deadline_reminder"  # cause_id = publication id
    MEETING_SCHEDULED = "meeting_scheduled"  # cause_id = meeting id
    MEETING_UPDATED = "meeting_updated"  # cause_id = meeting id
    MEETING_CANCELLED = "meeting_cancelled"  # cause_id = meeting id
    MEETING_REMINDER = "meeting_reminder"  # cause_id = meeting id
    MINUTES_SIGNED = "minutes_signed"  # cause_id = minutes id
    CONSULTATION_OPENED = "consultation_opened"  # cause_id = consultation id
    SYSTEM = "system"  # cause_id = announcement id


class DeliveryError(StrEnum):
    NO_SUBSCRIPTION = "no_subscription"  # no endpoint / address for this channel
    SUBSCRIPTION_GONE = "subscription_gone"  # push endpoint answered 404/410
    REJECTED = "rejected"  # provider refused the message (4xx)
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    PROVIDER_ERROR = "provider_error"  # provider 5xx or connection error
    OPTED_OUT = "opted_out"  # member's preferences or quiet hours forbid the channel


class NotificationDelivered(Event):
    """Fires when one channel of a notification was delivered to a member: stored in the inbox
    (``inapp``) or accepted by the push service / mail or SMS provider.
    """

    SUBJECT: ClassVar[str] = "notify.notification.delivered.v1"
    AGGREGATE: ClassVar[str] = "notification_id"

    notification_id: uuid.UUID
    member_id: uuid.UUID
    channel: Channel
    cause_type: NotificationCause
    cause_id: uuid.UUID
    attempt: int = Field(ge=1)
    occurred_at: AwareDatetime


class NotificationFailed(Event):
    """Fires when a delivery attempt on one channel fails. ``final`` is true when notify gives up
    on that channel (retries exhausted or a permanent error), false when it will retry.
    """

    SUBJECT: ClassVar[str] = "notify.notification.failed.v1"
    AGGREGATE: ClassVar[str] = "notification_id"

    notification_id: uuid.UUID
    member_id: uuid.UUID
    channel: Channel
    cause_type: NotificationCause
    cause_id: uuid.UUID
    attempt: int = Field(ge=1)
    error_code: DeliveryError
    final: bool
    occurred_at: AwareDatetime


MAX_BATCH_MEMBERS = 2000


class NotificationBatchDelivered(Event):
    """Fires when the notifications of one cause were stored in the in-app inboxes of a batch
    of members (at most 2,000 per event), in the transaction that wrote them. A fan-out to a
    province is reported by a few dozen of these instead of one ``delivered.v1`` per member,
    so its cost on the bus does not grow per member. Each member appears in one batch of a
    cause. Push, email and SMS deliveries keep their per-member ``delivered.v1`` /
    ``failed.v1`` events (attempts, errors and retries are per member there).
    """

    SUBJECT: ClassVar[str] = "notify.notification.delivered_batch.v1"
    AGGREGATE: ClassVar[str] = "cause_id"

    cause_type: NotificationCause
    cause_id: uuid.UUID
    channel: Channel = Field(
        default=Channel.INAPP, description="The channel of every delivery of the batch (inapp)."
    )
    member_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_BATCH_MEMBERS,
        description="The members whose inbox received the cause's notification.",
    )
    occurred_at: AwareDatetime


class NotificationBroadcastDelivered(Event):
    """Fires once when the notification of one cause became visible in the in-app inbox of
    every active member of the audience subtrees, in the transaction that queued its fan-out
    (a large audience, e.g. a publication to a province). From that moment a member who opens
    the inbox or holds its live stream gets it; notify writes the per-member rows in the
    background, or at that member's first read if it comes earlier. Such a cause has no
    ``delivered_batch.v1`` for ``inapp``: its cost on the bus is one event whatever the size
    of the audience. The audience is named by org paths only (no member ids). Push, email and
    SMS keep their per-member ``delivered.v1`` / ``failed.v1``.
    """

    SUBJECT: ClassVar[str] = "notify.notification.broadcast_delivered.v1"
    AGGREGATE: ClassVar[str] = "cause_id"

    cause_type: NotificationCause
    cause_id: uuid.UUID
    channel: Channel = Field(
        default=Channel.INAPP, description="The channel the broadcast reached (inapp)."
    )
    audience_org_paths: list[OrgPath] = Field(
        min_length=1,
        max_length=1000,
        description="The org subtrees whose active members the notification reached.",
    )
    occurred_at: AwareDatetime
