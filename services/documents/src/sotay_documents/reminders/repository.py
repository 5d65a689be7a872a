"""SQL of the study reminders."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg
from sotay_kit.db import Connection

Row = asyncpg.Record


async def publication(
    conn: Connection, document_id: uuid.UUID, publication_id: uuid.UUID
) -> Row | None:
    return await conn.fetchrow(
        "SELECT * FROM publications WHERE id = $1 AND document_id = $2",
        publication_id,
        document_id,
    )


async def record(
    conn: Connection,
    *,
    publication_id: uuid.UUID,
    org_id: uuid.UUID,
    day: date,
    requested_by: uuid.UUID,
    requested_at: datetime,
    pending: int,
) -> bool:
    """Record today's reminder; False when the org already had one today."""
    inserted = await conn.fetchval(
        "INSERT INTO study_reminders "
        "(publication_id, org_id, day, requested_by, requested_at, pending) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        publication_id,
        org_id,
        day,
        requested_by,
        requested_at,
        pending,
    )
    return bool(inserted)


async def existing(
    conn: Connection, publication_id: uuid.UUID, org_id: uuid.UUID, day: date
) -> Row | None:
    return await conn.fetchrow(
        "SELECT * FROM study_reminders WHERE publication_id = $1 AND org_id = $2 AND day = $3",
        publication_id,
        org_id,
        day,
    )
