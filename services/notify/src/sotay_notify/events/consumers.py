"""Notify's durable consumers, one per source stream, each named ``notify`` (NATS
permissions) and each its own task, so a province-wide fan-out on DOCUMENTS never holds up
meetings or identity:

- ``MEETINGS``: scheduled, updated, cancelled, minutes signed;
- ``DOCUMENTS``: described (the documents' numbers and titles, from the internal directory
  subject), published (fan-out to the audience subtrees), read (study state), retracted,
  secretaries' study reminders (to the members of a cell who have not studied), consultations
  opened (the consulted subtree asked for comments);
- ``IDENTITY``: kit's identity projection, with notify's own step composed onto
  ``member.deactivated`` (the member's push subscriptions and contact points are erased).
"""

from __future__ import annotations

from collections.abc import Sequence

from sotay_contracts.events import documents as dev
from sotay_contracts.events import identity as iev
from sotay_contracts.events import meetings as mev
from sotay_kit.app import ConsumerBinding
from sotay_kit.consumer import Delivery, Handler
from sotay_kit.db import Connection
from sotay_kit.messaging import ConsumerSpec
from sotay_kit.projections import identity as identity_projection

from . import repository as repo
from . import service
from .service import Policy

NAME = "notify"  # the durable's name on every stream: NATS allows the service exactly this


def _identity_binding() -> ConsumerBinding:
    base = identity_projection.binding(NAME)
    project_deactivation: Handler = base.handlers[iev.MemberDeactivated.ce_type()]

    async def member_deactivated(conn: Connection, d: Delivery) -> None:
        await project_deactivation(conn, d)
        assert isinstance(d.event, iev.MemberDeactivated)
        await repo.forget_member_channels(conn, d.event.member_id)

    handlers = dict(base.handlers)
    handlers[iev.MemberDeactivated.ce_type()] = member_deactivated
    return ConsumerBinding(base.spec, handlers, dict(base.batch_handlers))


def bindings(policy: Policy) -> tuple[ConsumerBinding, ...]:
    async def scheduled(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, mev.MeetingScheduled)
        await service.meeting_scheduled(conn, policy, d.event)

    async def updated(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, mev.MeetingUpdated)
        await service.meeting_updated(conn, policy, d.event)

    async def cancelled(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, mev.MeetingCancelled)
        await service.meeting_cancelled(conn, d.event)

    async def signed(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, mev.MinutesSigned)
        await service.minutes_signed(conn, d.event)

    async def described(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, dev.DocumentDescribed)
        await service.document_described(conn, d.event)

    async def published(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, dev.DocumentPublished)
        await service.document_published(conn, policy, d.event)

    async def retracted(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, dev.DocumentRetracted)
        await service.document_retracted(conn, d.event)

    async def reminder_requested(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, dev.StudyReminderRequested)
        await service.study_reminder_requested(conn, d.event)

    async def consultation(conn: Connection, d: Delivery) -> None:
        assert isinstance(d.event, dev.ConsultationOpened)
        await service.consultation_opened(conn, policy, d.event)

    async def reads(conn: Connection, batch: Sequence[Delivery]) -> None:
        await service.documents_read(
            conn, [d.event for d in batch if isinstance(d.event, dev.DocumentRead)]
        )

    meetings = ConsumerBinding(
        ConsumerSpec(
            name=NAME,
            stream="MEETINGS",
            filter_subjects=(
                mev.MeetingScheduled.SUBJECT,
                mev.MeetingUpdated.SUBJECT,
                mev.MeetingCancelled.SUBJECT,
                mev.MinutesSigned.SUBJECT,
            ),
            description="notify: meetings scheduled, changed, cancelled; minutes signed",
        ),
        handlers={
            mev.MeetingScheduled.ce_type(): scheduled,
            mev.MeetingUpdated.ce_type(): updated,
            mev.MeetingCancelled.ce_type(): cancelled,
            mev.MinutesSigned.ce_type(): signed,
        },
    )
    documents = ConsumerBinding(
        ConsumerSpec(
            name=NAME,
            stream="DOCUMENTS",
            filter_subjects=(
                dev.DocumentDescribed.SUBJECT,
                dev.DocumentPublished.SUBJECT,
                dev.DocumentRead.SUBJECT,
                dev.DocumentRetracted.SUBJECT,
                dev.StudyReminderRequested.SUBJECT,
                dev.ConsultationOpened.SUBJECT,
            ),
            description="notify: documents' names, publications (fan-out), study progress, "
            "retractions, secretaries' study reminders",
        ),
        handlers={
            dev.DocumentDescribed.ce_type(): described,
            dev.DocumentPublished.ce_type(): published,
            dev.DocumentRetracted.ce_type(): retracted,
            dev.StudyReminderRequested.ce_type(): reminder_requested,
            dev.ConsultationOpened.ce_type(): consultation,
        },
        batch_handlers={dev.DocumentRead.ce_type(): reads},
    )
    return (_identity_binding(), meetings, documents)
