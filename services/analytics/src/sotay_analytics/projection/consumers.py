"""Event handlers that fill the analytics projections, one durable ``analytics`` per stream
(NATS permissions), each event applied once (kit's inbox).

Refused events (never a crash):
- occurred more than :data:`FUTURE_TOLERANCE` in the future → dead-lettered (``RejectEvent``);
- about an org the identity projection does not know → :class:`UnknownOrg`, retried with
  backoff (identity may simply be behind) and dead-lettered when the retries are exhausted.
Both are counted in ``sotay_analytics_events_refused_total{reason}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from sotay_contracts.envelope import Event
from sotay_contracts.events import documents as dev
from sotay_contracts.events import identity as iev
from sotay_contracts.events import meetings as mev
from sotay_contracts.events import notify as nev
from sotay_kit.app import ConsumerBinding
from sotay_kit.clock import utc_now
from sotay_kit.consumer import Delivery, RejectEvent
from sotay_kit.db import Connection
from sotay_kit.messaging import ConsumerSpec
from sotay_kit.projections import identity as idp

from .. import metrics
from . import audiences
from . import repository as repo

SERVICE = "analytics"
FUTURE_TOLERANCE = timedelta(minutes=5)


class UnknownOrg(Exception):
    """An event about an org the identity projection does not (yet) know: retried, then
    dead-lettered by the consumer when its deliveries are exhausted."""


def _check_times(batch: Sequence[Delivery]) -> None:
    limit = utc_now() + FUTURE_TOLERANCE
    for d in batch:
        occurred = getattr(d.event, "occurred_at", None)
        if isinstance(occurred, datetime) and occurred > limit:
            if len(batch) == 1:  # a batch is retried one event at a time: count that one
                metrics.EVENTS_REFUSED.labels("future").inc()
            raise RejectEvent(f"occurred_at in the future ({d.cloud_event.nats_subject})")


async def _check_orgs(conn: Connection, org_ids: Sequence[UUID]) -> None:
    missing = await repo.unknown_orgs(conn, org_ids)
    if missing:
        if len(set(org_ids)) == 1:
            metrics.EVENTS_REFUSED.labels("unknown_org").inc()
        raise UnknownOrg(f"unknown org {missing[0]}")


E = TypeVar("E", bound=Event)


def _events(batch: Sequence[Delivery], model: type[E]) -> list[E]:
    return [d.event for d in batch if isinstance(d.event, model)]


# -- identity: kit's projection plus what analytics adds ------------------------------------

_IDP = idp.binding(SERVICE, rewrite_paths=repo.rewrite_paths, names=True)


def _after_members(
    inner: Callable[[Connection, Sequence[Delivery]], Awaitable[None]],
) -> Callable[[Connection, Sequence[Delivery]], Awaitable[None]]:
    """New members may complete the audience of a publication seen before them (when the
    identity consumer lags behind the documents one)."""

    async def handler(conn: Connection, batch: Sequence[Delivery]) -> None:
        await inner(conn, batch)
        if await repo.has_incomplete_audiences(conn):
            await repo.materialise_audiences(conn, None)

    return handler


def _single_after_members(
    inner: Callable[[Connection, Delivery], Awaitable[None]],
) -> Callable[[Connection, Delivery], Awaitable[None]]:
    async def handler(conn: Connection, d: Delivery) -> None:
        await inner(conn, d)
        if await repo.has_incomplete_audiences(conn):
            await repo.materialise_audiences(conn, None)

    return handler


async def _accounts_activated(conn: Connection, batch: Sequence[Delivery]) -> None:
    _check_times(batch)
    events = _events(batch, iev.AccountActivated)
    await repo.activate_members(
        conn, [e.member_id for e in events], [e.occurred_at for e in events]
    )


def _identity_binding() -> ConsumerBinding:
    handlers = dict(_IDP.handlers)
    handlers[iev.MemberTransferred.ce_type()] = _single_after_members(
        _IDP.handlers[iev.MemberTransferred.ce_type()]
    )
    batch = dict(_IDP.batch_handlers)
    batch[iev.MemberCreated.ce_type()] = _after_members(
        _IDP.batch_handlers[iev.MemberCreated.ce_type()]
    )
    batch[iev.AccountActivated.ce_type()] = _accounts_activated
    return ConsumerBinding(spec=_IDP.spec, handlers=handlers, batch_handlers=batch)


# -- documents -------------------------------------------------------------------------------


async def _reads(conn: Connection, batch: Sequence[Delivery]) -> None:
    _check_times(batch)
    events = _events(batch, dev.DocumentRead)
    await _check_orgs(conn, [e.cell_id for e in events])
    await repo.apply_reads(
        conn,
        [
            (
                e.document_id,
                e.version,
                e.member_id,
                e.cell_id,
                e.org_path,
                e.occurred_at,
                e.progress_percent,
                e.occurred_at if e.state is dev.ReadState.STUDIED else None,
            )
            for e in events
        ],
    )


async def _passes(conn: Connection, batch: Sequence[Delivery]) -> None:
    _check_times(batch)
    events = _events(batch, dev.QuizPassed)
    await _check_orgs(conn, [e.cell_id for e in events])
    await repo.apply_passes(
        conn,
        [
            (e.document_id, e.version, e.member_id, e.cell_id, e.org_path, e.occurred_at)
            for e in events
        ],
    )


async def _published(conn: Connection, d: Delivery) -> None:
    _check_times([d])
    e = d.event
    assert isinstance(e, dev.DocumentPublished)
    await _check_orgs(conn, [e.publisher_org_id, *e.audience_org_ids])
    await repo.insert_publication(
        conn,
        publication_id=e.publication_id,
        document_id=e.document_id,
        version=e.version,
        audience_org_ids=e.audience_org_ids,
        audience_paths=e.audience_org_paths,
        audience_size=e.audience_size,
        study_required=e.study_required,
        study_deadline=e.study_deadline,
        kind=e.kind.value,
        publisher_org_id=e.publisher_org_id,
        published_by=e.published_by,
        published_at=e.occurred_at,
    )
    if e.audience_size > audiences.INLINE_MAX:
        await repo.queue_audience(conn, e.publication_id, e.occurred_at)
    else:
        await repo.materialise_audiences(conn, [e.publication_id])
    await repo.touch_members(conn, [e.published_by], [e.occurred_at])
    await repo.touch_orgs(conn, [e.publisher_org_id], [e.occurred_at])


async def _retracted(conn: Connection, d: Delivery) -> None:
    _check_times([d])
    e = d.event
    assert isinstance(e, dev.DocumentRetracted)
    await repo.retract(conn, e.document_id, e.publication_id, e.occurred_at)


# -- meetings --------------------------------------------------------------------------------


def _plan_handler(status: str) -> Callable[[Connection, Delivery], Awaitable[None]]:
    async def handler(conn: Connection, d: Delivery) -> None:
        _check_times([d])
        e = d.event
        assert isinstance(e, mev.MeetingScheduled | mev.MeetingUpdated | mev.MeetingCancelled)
        await _check_orgs(conn, [e.org_id])
        await repo.upsert_plan(
            conn,
            meeting_id=e.meeting_id,
            org_id=e.org_id,
            org_path=e.org_path,
            kind=e.kind.value,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            invitees=e.invitee_member_ids,
            series_id=e.occurrence.series_id if e.occurrence else None,
            status=status,
            revision=e.revision,
        )
        actor = (
            e.scheduled_by
            if isinstance(e, mev.MeetingScheduled)
            else e.updated_by
            if isinstance(e, mev.MeetingUpdated)
            else e.cancelled_by
        )
        if actor is not None:
            await repo.touch_members(conn, [actor], [e.occurred_at])

    return handler


async def _closed(conn: Connection, d: Delivery) -> None:
    _check_times([d])
    e = d.event
    assert isinstance(e, mev.MeetingClosed)
    await _check_orgs(conn, [e.org_id])
    await repo.close_meeting(
        conn,
        meeting_id=e.meeting_id,
        org_id=e.org_id,
        org_path=e.org_path,
        kind=e.kind.value,
        starts_at=e.starts_at,
        tallies=(e.invited, e.present, e.late, e.absent_excused, e.absent_unexcused, e.exempt),
        quorum_met=e.quorum_met,
        closed_at=e.occurred_at,
    )
    await repo.touch_members(conn, [e.closed_by], [e.occurred_at])
    await repo.touch_orgs(conn, [e.org_id], [e.starts_at])


async def _graded(conn: Connection, d: Delivery) -> None:
    _check_times([d])
    e = d.event
    assert isinstance(e, mev.ReviewCellGraded)
    await _check_orgs(conn, [e.org_id])
    g = mev.ReviewGrade
    await repo.cell_graded(
        conn,
        period_id=e.period_id,
        org_id=e.org_id,
        org_path=e.org_path,
        year=e.year,
        counts=(
            e.counts[g.EXCELLENT],
            e.counts[g.GOOD],
            e.counts[g.COMPLETE],
            e.counts[g.INCOMPLETE],
        ),
        decided_at=e.occurred_at,
    )


async def _rsvp(conn: Connection, d: Delivery) -> None:
    _check_times([d])
    e = d.event
    assert isinstance(e, mev.RsvpRecorded)
    await repo.rsvp(
        conn,
        e.meeting_id,
        e.member_id,
        e.response.value,
        e.reason_code.value if e.reason_code else None,
        e.occurred_at,
    )
    await repo.touch_members(conn, [e.member_id], [e.occurred_at])


async def _attendance(conn: Connection, batch: Sequence[Delivery]) -> None:
    _check_times(batch)
    events = _events(batch, mev.AttendanceRecorded)
    await _check_orgs(conn, [e.org_id for e in events])
    await repo.attendance(
        conn,
        [
            (e.meeting_id, e.member_id, e.status.value, e.method.value, e.occurred_at)
            for e in events
        ],
    )
    # Whoever recorded it used the platform: the member on check-in, else the secretary.
    await repo.touch_members(conn, [e.recorded_by for e in events], [e.occurred_at for e in events])


async def _described(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, dev.DocumentDescribed)
    await repo.describe_document(
        conn, e.document_id, e.version, e.number, e.title, e.classification.value
    )


# -- notify ----------------------------------------------------------------------------------


async def _delivered(conn: Connection, batch: Sequence[Delivery]) -> None:
    _check_times(batch)
    events = _events(batch, nev.NotificationDelivered)
    await repo.notifications(
        conn,
        [(e.cause_type.value, e.cause_id, e.member_id, e.occurred_at) for e in events],
        delivered=True,
    )


async def _delivered_batches(conn: Connection, batch: Sequence[Delivery]) -> None:
    """In-app deliveries reported per batch of members: every event of the pull applied by one
    statement (one row per cause and member)."""
    _check_times(batch)
    events = _events(batch, nev.NotificationBatchDelivered)
    await repo.notifications(
        conn,
        [(e.cause_type.value, e.cause_id, m, e.occurred_at) for e in events for m in e.member_ids],
        delivered=True,
    )


async def _broadcasts(conn: Connection, batch: Sequence[Delivery]) -> None:
    """In-app notifications that reached a whole audience at once: one row per cause; the
    reach report counts every member of the publication's audience notified."""
    _check_times(batch)
    events = _events(batch, nev.NotificationBroadcastDelivered)
    await repo.broadcasts(conn, [(e.cause_type.value, e.cause_id, e.occurred_at) for e in events])


async def _failed(conn: Connection, batch: Sequence[Delivery]) -> None:
    _check_times(batch)
    events = [e for e in _events(batch, nev.NotificationFailed) if e.final]
    if events:
        await repo.notifications(
            conn,
            [(e.cause_type.value, e.cause_id, e.member_id, e.occurred_at) for e in events],
            delivered=False,
        )


def _spec(stream: str, subjects: tuple[str, ...], what: str) -> ConsumerSpec:
    return ConsumerSpec(
        name=SERVICE,
        stream=stream,
        filter_subjects=subjects,
        description=f"analytics: {what}",
        max_ack_pending=20_000,
    )


BINDINGS: tuple[ConsumerBinding, ...] = (
    _identity_binding(),
    ConsumerBinding(
        spec=_spec(
            "DOCUMENTS",
            (
                dev.DocumentPublished.SUBJECT,
                dev.DocumentRead.SUBJECT,
                dev.DocumentRetracted.SUBJECT,
                dev.DocumentDescribed.SUBJECT,
                dev.QuizPassed.SUBJECT,
            ),
            "publications with their audience, read state and quiz passes, documents' numbers "
            "and titles",
        ),
        handlers={
            dev.DocumentDescribed.ce_type(): _described,
            dev.DocumentPublished.ce_type(): _published,
            dev.DocumentRetracted.ce_type(): _retracted,
        },
        batch_handlers={
            dev.DocumentRead.ce_type(): _reads,
            dev.QuizPassed.ce_type(): _passes,
        },
    ),
    ConsumerBinding(
        spec=_spec(
            "MEETINGS",
            (
                mev.MeetingScheduled.SUBJECT,
                mev.MeetingUpdated.SUBJECT,
                mev.MeetingCancelled.SUBJECT,
                mev.MeetingClosed.SUBJECT,
                mev.RsvpRecorded.SUBJECT,
                mev.AttendanceRecorded.SUBJECT,
                mev.ReviewCellGraded.SUBJECT,
            ),
            "meetings with invitees and final attendance, the annual review's grades",
        ),
        handlers={
            mev.MeetingScheduled.ce_type(): _plan_handler("scheduled"),
            mev.MeetingUpdated.ce_type(): _plan_handler("scheduled"),
            mev.MeetingCancelled.ce_type(): _plan_handler("cancelled"),
            mev.MeetingClosed.ce_type(): _closed,
            mev.RsvpRecorded.ce_type(): _rsvp,
            mev.ReviewCellGraded.ce_type(): _graded,
        },
        batch_handlers={mev.AttendanceRecorded.ce_type(): _attendance},
    ),
    ConsumerBinding(
        spec=_spec(
            "NOTIFY",
            (
                nev.NotificationDelivered.SUBJECT,
                nev.NotificationBatchDelivered.SUBJECT,
                nev.NotificationBroadcastDelivered.SUBJECT,
                nev.NotificationFailed.SUBJECT,
            ),
            "notification outcomes",
        ),
        batch_handlers={
            nev.NotificationDelivered.ce_type(): _delivered,
            nev.NotificationBatchDelivered.ce_type(): _delivered_batches,
            nev.NotificationBroadcastDelivered.ce_type(): _broadcasts,
            nev.NotificationFailed.ce_type(): _failed,
        },
    ),
)
