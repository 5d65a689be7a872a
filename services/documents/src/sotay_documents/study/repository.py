"""Every SQL statement of study tracking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.projections.identity import ACTIVE_STATUSES

Row = asyncpg.Record


@dataclass(frozen=True, slots=True)
class Reading:
    """Whose reading of which version: the key of a ``reads`` row, and where the reader sits."""

    document_id: uuid.UUID
    version: int
    member_id: uuid.UUID
    cell_id: uuid.UUID
    org_path: str


async def start(
    conn: Connection, reading: Reading, *, progress: int, studied_at: datetime | None, at: datetime
) -> bool:
    """The first read of this version by this member; False when there was one already."""
    inserted = await conn.fetchval(
        "INSERT INTO reads (document_id, version, member_id, cell_id, org_path, first_opened_at, "
        "last_read_at, progress_percent, studied_at, last_event_progress) "
        "VALUES ($1, $2, $3, $4, $5, $8, $8, $6, $7, $6) "
        "ON CONFLICT (document_id, version, member_id) DO NOTHING RETURNING true",
        *_columns(reading),
        progress,
        studied_at,
        at,
    )
    return bool(inserted)


def _columns(reading: Reading) -> tuple[uuid.UUID, int, uuid.UUID, uuid.UUID, str]:
    r = reading
    return r.document_id, r.version, r.member_id, r.cell_id, r.org_path


async def lock(conn: Connection, reading: Reading) -> Row | None:
    return await conn.fetchrow(
        "SELECT * FROM reads WHERE document_id = $1 AND version = $2 AND member_id = $3 FOR UPDATE",
        reading.document_id,
        reading.version,
        reading.member_id,
    )


async def advance(
    conn: Connection,
    reading: Reading,
    *,
    progress: int,
    studied_at: datetime | None,
    last_event_progress: int,
    at: datetime,
) -> Row:
    row = await conn.fetchrow(
        "UPDATE reads SET last_read_at = $9, progress_percent = $6, studied_at = $7, "
        "last_event_progress = $8, cell_id = $4, org_path = $5 "
        "WHERE document_id = $1 AND version = $2 AND member_id = $3 RETURNING *",
        *_columns(reading),
        progress,
        studied_at,
        last_event_progress,
        at,
    )
    assert row is not None
    return row


async def addressing_publication(
    conn: Connection, document_id: uuid.UUID, version: int, ancestors: list[str]
) -> uuid.UUID | None:
    """The active publication of this version that reaches the member (study ones first)."""
    value: uuid.UUID | None = await conn.fetchval(
        "SELECT p.id FROM publications p JOIN publication_targets t "
        "ON t.publication_id = p.id AND t.active "
        "WHERE p.document_id = $1 AND p.version = $2 AND t.org_path = ANY($3::text[]) "
        "ORDER BY p.study_required DESC, p.published_at DESC LIMIT 1",
        document_id,
        version,
        ancestors,
    )
    return value


async def report_version(conn: Connection, document_id: uuid.UUID) -> int | None:
    """The newest version with an active publication."""
    value: int | None = await conn.fetchval(
        "SELECT max(version) FROM publications WHERE document_id = $1 AND retracted_at IS NULL",
        document_id,
    )
    return value


_MEMBERS = """
WITH s AS (
    SELECT m.member_id, m.cell_id, m.org_path,
           r.first_opened_at, r.last_read_at, coalesce(r.progress_percent, 0) AS progress_percent,
           r.studied_at,
           (SELECT min(p.study_deadline) FROM publications p
              JOIN publication_targets t ON t.publication_id = p.id AND t.active
             WHERE p.document_id = $2 AND p.version = $3 AND p.study_required
               AND (m.org_path = t.org_path OR m.org_path LIKE t.org_path || '.%'))
               AS study_deadline,
           r.member_id IS NOT NULL AS opened
      FROM idp_members m
      LEFT JOIN reads r ON r.document_id = $2 AND r.version = $3 AND r.member_id = m.member_id
     WHERE (m.org_path = $1 OR m.org_path LIKE $1 || '.%') AND m.status = ANY($4::text[])
), st AS (
    SELECT s.*, CASE WHEN studied_at IS NOT NULL THEN 'studied'
                     WHEN study_deadline < now() THEN 'overdue'
                     WHEN opened THEN 'opened'
                     ELSE 'not_opened' END AS status
      FROM s
)
"""


async def report_page(
    conn: Connection,
    *,
    org_path: str,
    document_id: uuid.UUID,
    version: int,
    status: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Row]:
    return await conn.fetch(
        _MEMBERS + "SELECT st.*, n.full_name, n.card_number FROM st "  # noqa: S608 - fixed SQL fragments
        "LEFT JOIN idp_member_names n USING (member_id) "
        "WHERE ($5::text IS NULL OR status = $5) "
        "AND ($6::uuid IS NULL OR member_id > $6) ORDER BY member_id LIMIT $7",
        org_path,
        document_id,
        version,
        list(ACTIVE_STATUSES),
        status,
        after,
        limit,
    )


async def report_totals(
    conn: Connection, *, org_path: str, document_id: uuid.UUID, version: int
) -> Row:
    row = await conn.fetchrow(
        _MEMBERS + "SELECT count(*) AS members, "  # noqa: S608 - fixed SQL fragments
        "count(*) FILTER (WHERE status = 'not_opened') AS not_opened, "
        "count(*) FILTER (WHERE status = 'opened') AS opened, "
        "count(*) FILTER (WHERE status = 'studied') AS studied, "
        "count(*) FILTER (WHERE status = 'overdue') AS overdue FROM st",
        org_path,
        document_id,
        version,
        list(ACTIVE_STATUSES),
    )
    assert row is not None
    return row
