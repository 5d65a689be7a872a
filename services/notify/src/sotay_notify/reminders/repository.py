"""SQL of the reminder schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sotay_kit.db import Connection


async def plan(
    conn: Connection, kind: str, cause_id: UUID, label: str, due_at: datetime, target_at: datetime
) -> None:
    """Schedule (or move) a reminder. One that already fired for the same target stays fired;
    a moved target makes it pending again (the meeting was rescheduled)."""
    await conn.execute(
        "INSERT INTO reminders (kind, cause_id, label, due_at, target_at) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (kind, cause_id, label) DO UPDATE SET due_at = excluded.due_at, "
        "target_at = excluded.target_at, state = 'pending', fired_at = NULL, recipients = NULL "
        "WHERE reminders.target_at <> excluded.target_at OR reminders.state = 'cancelled'",
        kind,
        cause_id,
        label,
        due_at,
        target_at,
    )


async def cancel(
    conn: Connection, kind: str, cause_id: UUID, keep: list[str] | None = None
) -> None:
    """Cancel the cause's pending reminders (all, or all but the labels in ``keep``)."""
    await conn.execute(
        "UPDATE reminders SET state = 'cancelled' WHERE kind = $1 AND cause_id = $2 "
        "AND state = 'pending' AND NOT (label = ANY($3::text[]))",
        kind,
        cause_id,
        keep or [],
    )


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[Any]:
    """Due reminders, locked for this transaction (other schedulers skip them)."""
    return await conn.fetch(
        "SELECT id, kind, cause_id, label, due_at, target_at FROM reminders "
        "WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT $2 "
        "FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )


async def finish(
    conn: Connection, reminder_id: int, state: str, recipients: int, now: datetime
) -> None:
    await conn.execute(
        "UPDATE reminders SET state = $2, recipients = $3, fired_at = $4 WHERE id = $1",
        reminder_id,
        state,
        recipients,
        now,
    )


async def pending_later(
    conn: Connection, kind: str, cause_id: UUID, due_at: datetime, now: datetime
) -> bool:
    """Another reminder of the same cause is also due now, with a later due time (the
    scheduler was down): only the most recent one is worth sending."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM reminders WHERE kind = $1 AND cause_id = $2 "
        "AND state = 'pending' AND due_at > $3 AND due_at <= $4)",
        kind,
        cause_id,
        due_at,
        now,
    )
    return found
