"""Every SQL statement of the minutes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection


async def get(conn: Connection, meeting_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM meeting_minutes WHERE meeting_id = $1", meeting_id)


async def save(
    conn: Connection, minutes_id: UUID, meeting_id: UUID, content: str, by: UUID, at: datetime
) -> asyncpg.Record:
    """Insert or overwrite the unsigned content (the trigger refuses signed rows)."""
    row = await conn.fetchrow(
        "INSERT INTO meeting_minutes (id, meeting_id, content, updated_by, updated_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (meeting_id) DO UPDATE SET "
        "content = excluded.content, updated_by = excluded.updated_by, "
        "updated_at = excluded.updated_at, revision = meeting_minutes.revision + 1 "
        "WHERE meeting_minutes.signed_at IS NULL RETURNING *",
        minutes_id,
        meeting_id,
        content,
        by,
        at,
    )
    assert row is not None
    return row


async def sign(
    conn: Connection, meeting_id: UUID, sha256: str, by: UUID, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE meeting_minutes SET content_sha256 = $2, signed_by = $3, signed_at = $4 "
        "WHERE meeting_id = $1 AND signed_at IS NULL RETURNING *",
        meeting_id,
        sha256,
        by,
        at,
    )
    assert row is not None
    return row
