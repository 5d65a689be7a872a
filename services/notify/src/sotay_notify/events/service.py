"""From events to notifications: who is concerned, what they are told, which reminders are
planned. Every function runs inside the consumer's transaction (inbox row included), so a
redelivered event changes nothing, and the unique key (cause, kind, member) makes a second
event for the same cause harmless too."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sotay_contracts.events import documents as dev
from sotay_contracts.events import meetings as mev
from sotay_contracts.events.notify import Channel, NotificationBroadcastDelivered
from sotay_kit import outbox
from sotay_kit.clock import utc_now
from sotay_kit.consumer import RejectEvent
from sotay_kit.db import Connection

from .. import metrics, texts
from ..reminders import repository as reminders
from . import repository as repo

log = logging.getLogger("sotay.notify.events")

CANCEL_URGENT_WITHIN = timedelta(hours=48)
# How long an event naming orgs the projection does not know yet is retried (identity's
# stream is consumed in parallel and may lag) before it is dead-lettered.
PROJECTION_GRACE = timedelta(minutes=5)


class ProjectionBehind(OSError):
    """The identity projection does not know an org yet: retried with backoff (kit treats
    ``OSError`` as transient) until :data:`PROJECTION_GRACE` has passed."""


@dataclass(frozen=True, slots=True)
class Policy:
    meeting_reminder_minutes: tuple[int, ...] = (24 * 60, 60)
    study_reminder_minutes: tuple[int, ...] = (3 * 24 * 60, 24 * 60)
    # A publication to more members than this is fanned out by the worker, chunk by chunk
    # (a fan-out job), so the DOCUMENTS consumer returns at once (NOTIFY_FANOUT_INLINE_MAX).
    fanout_inline_max: int = 2000
    # Report a queued fan-out on the bus as one notify.notification.broadcast_delivered.v1
    # (NOTIFY_EMIT_INAPP_EVENTS).
    broadcast_events: bool = True


async def _to_members(conn: Connection, content: texts.Content, member_ids: list[UUID]) -> int:
    known = await repo.known_members(conn, member_ids)
    unknown = len(set(member_ids)) - known
    if unknown:
        metrics.RECIPIENTS_SKIPPED.labels("unknown_member").inc(unknown)
        log.warning(
            "recipients unknown to the identity projection skipped",
            extra={"cause_id": str(content.cause_id), "count": unknown},
        )
    written = await repo.fan_out(
        conn, content, repo.AUDIENCE_MEMBERS, member_ids, repo.active_statuses(), now=utc_now()
    )
    metrics.NOTIFICATIONS_CREATED.labels(content.cause_type.value).inc(written)
    return written


async def _plan_meeting_reminders(
    conn: Connection, policy: Policy, meeting_id: UUID, starts_at: datetime, now: datetime
) -> None:
    labels = []
    for minutes in policy.meeting_reminder_minutes:
        due = starts_at - timedelta(minutes=minutes)
        if due > now:
            label = f"{minutes}m"
            labels.append(label)
            await reminders.plan(conn, "meeting", meeting_id, label, due, starts_at)
    await reminders.cancel(conn, "meeting", meeting_id, keep=labels)


async def _store_plan(
    conn: Connection,
    e: mev.MeetingScheduled | mev.MeetingUpdated | mev.MeetingCancelled,
    status: str,
) -> tuple[bool, list[UUID]]:
    """Keep the meeting's plan as the event states it (unless a newer revision is known):
    whether it applied, and the invitees before."""
    return await repo.upsert_meeting(
        conn,
        meeting_id=e.meeting_id,
        org_id=e.org_id,
        org_path=e.org_path,
        kind=e.kind.value,
        starts_at=e.starts_at,
        ends_at=e.ends_at,
        invitee_ids=e.invitee_member_ids,
        status=status,
        revision=e.revision,
        title=e.title,
        location=e.location,
    )


async def meeting_scheduled(conn: Connection, policy: Policy, e: mev.MeetingScheduled) -> None:
    applied, _ = await _store_plan(conn, e, "scheduled")
    if not applied:
        return
    await _plan_meeting_reminders(conn, policy, e.meeting_id, e.starts_at, e.occurred_at)
    # A monthly series announces itself once (its first occurrence); the later occurrences
    # only get their reminders.
    if e.occurrence is not None and e.occurrence.index > 1:
        return
    title = await repo.org_title(conn, e.org_id)
    content = texts.meeting_scheduled(
        e.meeting_id,
        e.kind.value,
        title,
        e.starts_at,
        series=e.occurrence is not None,
        meeting_title=e.title,
        location=e.location,
    )
    await _to_members(conn, content, e.invitee_member_ids)


async def meeting_updated(conn: Connection, policy: Policy, e: mev.MeetingUpdated) -> None:
    applied, before = await _store_plan(conn, e, "scheduled")
    if not applied:
        return
    await _plan_meeting_reminders(conn, policy, e.meeting_id, e.starts_at, e.occurred_at)
    title = await repo.org_title(conn, e.org_id)
    previous = set(before)
    added = [m for m in e.invitee_member_ids if m not in previous] if before else []
    staying = [m for m in e.invitee_member_ids if m in previous] if before else []
    if not before:  # notify had not seen it scheduled: everyone hears of the plan
        staying = list(e.invitee_member_ids)
    if added:
        await _to_members(
            conn,
            texts.meeting_scheduled(
                e.meeting_id,
                e.kind.value,
                title,
                e.starts_at,
                series=False,
                meeting_title=e.title,
                location=e.location,
            ),
            added,
        )
    changed = [c for c in e.changed_fields if c != "invitees"]
    if changed and staying:
        content = texts.meeting_updated(
            e.meeting_id,
            e.kind.value,
            title,
            e.starts_at,
            e.revision,
            changed,
            meeting_title=e.title,
            location=e.location,
        )
        await _to_members(conn, content, staying)


async def meeting_cancelled(conn: Connection, e: mev.MeetingCancelled) -> None:
    applied, _ = await _store_plan(conn, e, "cancelled")
    if not applied:
        return
    await reminders.cancel(conn, "meeting", e.meeting_id)
    if e.starts_at <= e.occurred_at:
        return
    title = await repo.org_title(conn, e.org_id)
    soon = e.starts_at - e.occurred_at <= CANCEL_URGENT_WITHIN
    content = texts.meeting_cancelled(
        e.meeting_id,
        e.kind.value,
        title,
        e.starts_at,
        soon=soon,
        meeting_title=e.title,
        location=e.location,
    )
    await _to_members(conn, content, e.invitee_member_ids)


async def minutes_signed(conn: Connection, e: mev.MinutesSigned) -> None:
    meeting = await repo.meeting(conn, e.meeting_id)
    if meeting is None:
        metrics.RECIPIENTS_SKIPPED.labels("unknown_meeting").inc()
        log.warning(
            "minutes of a meeting notify never saw", extra={"meeting_id": str(e.meeting_id)}
        )
        return
    title = await repo.org_title(conn, e.org_id)
    content = texts.minutes_signed(
        e.minutes_id,
        e.meeting_id,
        meeting["kind"],
        title,
        meeting["starts_at"],
        meeting_title=meeting["title"],
    )
    await _to_members(conn, content, list(meeting["invitee_ids"]))


async def _check_paths(conn: Connection, paths: list[str], occurred_at: datetime) -> None:
    known = await repo.known_paths(conn, paths)
    missing = [p for p in paths if p not in known]
    if not missing:
        return
    metrics.RECIPIENTS_SKIPPED.labels("unknown_org").inc()
    if utc_now() - occurred_at < PROJECTION_GRACE:
        raise ProjectionBehind(f"unknown org paths {missing[:5]}")
    raise RejectEvent(f"unknown_org: {len(missing)} audience org path(s) unknown")


async def document_described(conn: Connection, e: dev.DocumentDescribed) -> None:
    await repo.describe_document(
        conn,
        document_id=e.document_id,
        version=e.version,
        number=e.number,
        title=e.title,
        described_at=e.occurred_at,
    )


async def document_published(conn: Connection, policy: Policy, e: dev.DocumentPublished) -> None:
    paths = list(dict.fromkeys(e.audience_org_paths))
    await _check_paths(conn, paths, e.occurred_at)
    await repo.insert_publication(
        conn,
        publication_id=e.publication_id,
        document_id=e.document_id,
        version=e.version,
        kind=e.kind.value,
        audience_paths=paths,
        publisher_org_id=e.publisher_org_id,
        study_deadline=e.study_deadline,
    )
    if e.study_deadline is not None:
        for minutes in policy.study_reminder_minutes:
            due = e.study_deadline - timedelta(minutes=minutes)
            if due > e.occurred_at:
                await reminders.plan(
                    conn, "study", e.publication_id, f"{minutes}m", due, e.study_deadline
                )
    title = await repo.org_title(conn, e.publisher_org_id)
    # Its number and title come from documents' directory subject, relayed just before the
    # publication (this public event names no document); without them the text names the kind.
    names = await repo.document_names(conn, e.document_id)
    content = texts.document_published(
        e.publication_id,
        e.document_id,
        e.kind.value,
        title,
        e.study_deadline,
        e.study_required,
        title=names["title"] if names else None,
        number=names["number"] if names else None,
    )
    await _to_subtrees(conn, policy, content, paths)


async def _to_subtrees(
    conn: Connection, policy: Policy, content: texts.Content, paths: list[str]
) -> None:
    """Every active member of the org subtrees: written here for a small audience, queued as
    a fan-out job (and reported delivered at once) for a large one."""
    now = utc_now()
    if await repo.audience_over(conn, paths, policy.fanout_inline_max):
        # A large audience: the worker writes it chunk by chunk, interleaved with the other
        # work, and this consumer moves on to the next event at once. The notification is in
        # every member's inbox from this commit on (a member who reads before the worker
        # reaches them gets their row written then, inbox.service), so it is reported
        # delivered now, once for the whole audience.
        queued = await repo.add_fanout_job(conn, content, paths, now)
        if queued and policy.broadcast_events:
            await outbox.enqueue(
                conn,
                NotificationBroadcastDelivered(
                    cause_type=content.cause_type,
                    cause_id=content.cause_id,
                    channel=Channel.INAPP,
                    audience_org_paths=paths,
                    occurred_at=now,
                ),
            )
        log.info(
            "fan-out queued",
            extra={"cause_type": content.cause_type.value, "cause_id": str(content.cause_id)},
        )
        return
    written = await repo.fan_out(
        conn, content, repo.AUDIENCE_SUBTREES, paths, repo.active_statuses(), now=now
    )
    metrics.NOTIFICATIONS_CREATED.labels(content.cause_type.value).inc(written)
    log.info(
        "fanned out",
        extra={
            "cause_type": content.cause_type.value,
            "cause_id": str(content.cause_id),
            "notifications": written,
        },
    )


async def consultation_opened(conn: Connection, policy: Policy, e: dev.ConsultationOpened) -> None:
    """The members of the consulted subtree are asked for their comments (a consultation
    whose deadline has passed by the time it arrives — a replay — tells no one)."""
    if e.deadline <= utc_now():
        return
    await _check_paths(conn, [e.org_path], e.occurred_at)
    committee = await repo.org_title_by_path(conn, e.committee_org_path)
    content = texts.consultation_opened(e.consultation_id, committee, e.deadline, e.title)
    await _to_subtrees(conn, policy, content, [e.org_path])


async def document_retracted(conn: Connection, e: dev.DocumentRetracted) -> None:
    rows = await repo.retract(conn, e.document_id, e.publication_id, e.occurred_at)
    if not rows:
        return
    for r in rows:
        await reminders.cancel(conn, "study", r["publication_id"])
    # A fan-out still in flight stops: those not told yet are not told of it at all.
    await repo.stop_fanouts(conn, "document_published", [r["publication_id"] for r in rows])
    first = rows[0]
    content = texts.document_retracted(
        e.document_id, e.publication_id, first["kind"], title=first["title"], number=first["number"]
    )
    written = await repo.fan_out(
        conn,
        content,
        repo.AUDIENCE_NOTIFIED,
        [r["publication_id"] for r in rows],
        repo.active_statuses(),
        now=utc_now(),
    )
    metrics.NOTIFICATIONS_CREATED.labels(content.cause_type.value).inc(written)


async def study_reminder_requested(conn: Connection, e: dev.StudyReminderRequested) -> None:
    """A secretary's reminder: to the members of the org (inside the publication's audience)
    who have not studied the publication's version; once per org and day."""
    pub = await repo.publication(conn, e.publication_id)
    if pub is None or pub["retracted_at"] is not None:
        return
    content = texts.study_nudge(
        pub["publication_id"],
        pub["document_id"],
        pub["kind"],
        pub["study_deadline"],
        e.org_id,
        e.day.isoformat(),
        title=pub["title"],
        number=pub["number"],
    )
    written = await repo.fan_out(
        conn,
        content,
        repo.AUDIENCE_NOT_STUDIED,
        [e.org_path],
        repo.active_statuses(),
        pub["document_id"],
        pub["version"],
        now=utc_now(),
    )
    metrics.NOTIFICATIONS_CREATED.labels(content.cause_type.value).inc(written)
    log.info(
        "study reminder fanned out",
        extra={"publication_id": str(e.publication_id), "notifications": written},
    )


async def documents_read(conn: Connection, events: list[dev.DocumentRead]) -> None:
    studied = [e for e in events if e.state is dev.ReadState.STUDIED]
    if not studied:
        return
    await repo.record_studied(
        conn,
        [e.document_id for e in studied],
        [e.member_id for e in studied],
        [e.version for e in studied],
        [e.occurred_at for e in studied],
    )
