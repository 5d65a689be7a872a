"""The reminder scheduler: claims due reminders (``FOR UPDATE SKIP LOCKED``, so replicas
share the work) and fires each once — the notifications and the state change commit
together. Cancelled meetings, past targets and already-studied documents are skipped.
The clock is a parameter: tests call :func:`tick` with the time they want."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sotay_kit.db import Connection, Pool

from .. import metrics, texts
from ..events import repository as events_repo
from . import repository as repo

log = logging.getLogger("sotay.notify.reminders")

BATCH = 20


async def tick(pool: Pool, now: datetime) -> int:
    """Fire every reminder due at ``now``. Returns the number of reminders handled."""
    handled = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            due = await repo.claim_due(conn, now, BATCH)
            for reminder in due:
                await _fire(conn, reminder, now)
        handled += len(due)
        if len(due) < BATCH:
            return handled


async def _fire(conn: Connection, reminder: Any, now: datetime) -> None:
    kind = reminder["kind"]
    if await repo.pending_later(conn, kind, reminder["cause_id"], reminder["due_at"], now):
        await _skip(conn, reminder, now, "superseded")
        return
    if reminder["target_at"] <= now:
        await _skip(conn, reminder, now, "too_late")
        return
    minutes = int(reminder["label"].rstrip("m"))
    if kind == "meeting":
        meeting = await events_repo.meeting(conn, reminder["cause_id"])
        if meeting is None or meeting["status"] != "scheduled":
            await _skip(conn, reminder, now, "cancelled")
            return
        if meeting["starts_at"] != reminder["target_at"]:
            await _skip(conn, reminder, now, "moved")
            return
        title = await events_repo.org_title(conn, meeting["org_id"])
        content = texts.meeting_reminder(
            meeting["meeting_id"],
            meeting["kind"],
            title,
            meeting["starts_at"],
            minutes,
            meeting_title=meeting["title"],
            location=meeting["location"],
        )
        written = await events_repo.fan_out(
            conn,
            content,
            events_repo.AUDIENCE_MEMBERS,
            list(meeting["invitee_ids"]),
            events_repo.active_statuses(),
            now=now,
        )
    else:
        pub = await events_repo.publication(conn, reminder["cause_id"])
        if pub is None or pub["retracted_at"] is not None:
            await _skip(conn, reminder, now, "retracted")
            return
        content = texts.study_reminder(
            pub["publication_id"],
            pub["document_id"],
            pub["kind"],
            pub["study_deadline"],
            minutes,
            title=pub["title"],
            number=pub["number"],
        )
        # Only those who have not studied it yet.
        written = await events_repo.fan_out(
            conn,
            content,
            events_repo.AUDIENCE_NOT_STUDIED,
            list(pub["audience_paths"]),
            events_repo.active_statuses(),
            pub["document_id"],
            pub["version"],
            now=now,
        )
    await repo.finish(conn, reminder["id"], "fired", written, now)
    metrics.REMINDERS.labels(kind, "fired").inc()
    metrics.NOTIFICATIONS_CREATED.labels(content.cause_type.value).inc(written)
    log.info(
        "reminder fired",
        extra={"reminder_id": reminder["id"], "kind": kind, "notifications": written},
    )


async def _skip(conn: Connection, reminder: Any, now: datetime, why: str) -> None:
    await repo.finish(conn, reminder["id"], "skipped", 0, now)
    metrics.REMINDERS.labels(reminder["kind"], "skipped").inc()
    log.info(
        "reminder skipped",
        extra={"reminder_id": reminder["id"], "kind": reminder["kind"], "why": why},
    )
