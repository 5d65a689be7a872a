"""SQL of the inbox: always scoped to one member."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sotay_kit.db import Connection

_COLUMNS = "id, seq, cause_type, cause_id, title, body, link, urgent, created_at, read_at"


async def page(
    conn: Connection, member_id: UUID, *, before: int | None, unread: bool, limit: int
) -> list[Any]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM notifications WHERE member_id = $1 "  # noqa: S608 - fixed
        "AND ($2::bigint IS NULL OR seq < $2) AND (NOT $3 OR read_at IS NULL) "
        "ORDER BY seq DESC LIMIT $4",
        member_id,
        before,
        unread,
        limit,
    )


async def unread_count(conn: Connection, member_id: UUID) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE member_id = $1 AND read_at IS NULL", member_id
    )
    return n


async def mark_read(conn: Connection, member_id: UUID, notification_id: UUID, now: datetime) -> Any:
    return await conn.fetchrow(
        "UPDATE notifications SET read_at = coalesce(read_at, $3) "  # noqa: S608 - fixed
        f"WHERE id = $1 AND member_id = $2 RETURNING {_COLUMNS}",
        notification_id,
        member_id,
        now,
    )


async def mark_all_read(conn: Connection, member_id: UUID, now: datetime) -> int:
    status = await conn.execute(
        "UPDATE notifications SET read_at = $2 WHERE member_id = $1 AND read_at IS NULL",
        member_id,
        now,
    )
    return int(status.rsplit(" ", 1)[-1])


async def after(conn: Connection, member_id: UUID, seq: int, limit: int) -> list[Any]:
    """The member's notifications after ``seq``, oldest first (SSE replay and live)."""
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM notifications WHERE member_id = $1 AND seq > $2 "  # noqa: S608
        "ORDER BY seq LIMIT $3",
        member_id,
        seq,
        limit,
    )


async def last_seq(conn: Connection, member_id: UUID) -> int:
    seq: int | None = await conn.fetchval(
        "SELECT last_seq FROM inbox_streams WHERE member_id = $1", member_id
    )
    return seq or 0
