"""Every SQL statement of study tracking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.projections.identity import ACTIVE_STATUSES

from ..access import visible_sql

Row = asyncpg.Record


@dataclass(frozen=True, slots=True)
class Reading:
    """Whose reading of which version: the key of a ``reads`` row, and where the reader sits."""

    document_id: uuid.UUID
    version: int
    member_id: uuid.UUID
    cell_id: uuid.UUID
    org_path: str


async def reading_target(
    conn: Connection,
    document_id: uuid.UUID,
    version: int | None,
    ancestors: list[str],
    publisher_roots: list[str],
) -> Row | None:
    """For a progress post, in one round trip: None when the document is not visible to the
    caller; else the version read (``version`` or the current one; NULL when it does not
    exist) and the active publication of it that reaches the caller (study ones first)."""
    return await conn.fetchrow(
        "SELECT v.version, (SELECT p.id FROM publications p JOIN publication_targets t "  # noqa: S608
        "ON t.publication_id = p.id AND t.active WHERE p.document_id = d.id "
        "AND p.version = v.version AND t.org_path = ANY($2::text[]) "
        "ORDER BY p.study_required DESC, p.published_at DESC LIMIT 1) AS publication_id "
        "FROM documents d LEFT JOIN document_versions v ON v.document_id = d.id "
        "AND v.version = coalesce($4::int, d.current_version) "
        f"WHERE d.id = $1 AND {visible_sql('d', '$2', '$3')}",
        document_id,
        ancestors,
        publisher_roots,
        version,
    )


# The UPDATE reads the row it moves forward from a FOR UPDATE subquery (o: the row before,
# locked first, re-read after a concurrent post commits) and returns both; only when there is
# no row does the INSERT run (a concurrent first read may win it: then nothing is returned and
# the statement is run again, finding that row to update).
RECORD_PROGRESS = """
WITH moved AS (
    UPDATE reads r SET
        last_read_at = $8,
        progress_percent = greatest(o.progress_percent, $6),
        studied_at = coalesce(o.studied_at, $7),
        last_event_progress = CASE
            WHEN o.studied_at IS NULL AND $7::timestamptz IS NOT NULL
              OR greatest(o.progress_percent, $6) / $9 > o.last_event_progress / $9
            THEN greatest(o.progress_percent, $6)
            ELSE o.last_event_progress END,
        cell_id = $4, org_path = $5
    FROM (SELECT progress_percent, studied_at, last_event_progress FROM reads
           WHERE document_id = $1 AND version = $2 AND member_id = $3 FOR UPDATE) o
    WHERE r.document_id = $1 AND r.version = $2 AND r.member_id = $3
    RETURNING r.first_opened_at, r.last_read_at, r.progress_percent, r.studied_at,
              false AS inserted, o.progress_percent AS old_progress,
              o.studied_at AS old_studied_at, o.last_event_progress AS old_last_event
), started AS (
    INSERT INTO reads (document_id, version, member_id, cell_id, org_path, first_opened_at,
                       last_read_at, progress_percent, studied_at, last_event_progress)
    SELECT $1, $2, $3, $4, $5, $8, $8, $6, $7, $6 WHERE NOT EXISTS (SELECT FROM moved)
    ON CONFLICT (document_id, version, member_id) DO NOTHING
    RETURNING first_opened_at, last_read_at, progress_percent, studied_at, true AS inserted,
              NULL::smallint AS old_progress, NULL::timestamptz AS old_studied_at,
              NULL::smallint AS old_last_event
)
SELECT * FROM moved UNION ALL SELECT * FROM started
"""


async def record(
    conn: Connection,
    reading: Reading,
    *,
    progress: int,
    studied_at: datetime | None,
    at: datetime,
    step: int,
) -> Row:
    """Record a progress post in one statement (two when a concurrent first read of the same
    member wins the insert): the first read inserted (``inserted``), or the row locked and
    moved forward — progress only grows, ``studied_at`` is kept once set, and
    ``last_event_progress`` follows the progress when a DocumentRead is due (studied now, or a
    ``step`` crossed). Returns the row after and the row before (``old_*``)."""
    args = (*_columns(reading), progress, studied_at, at, step)
    row = await conn.fetchrow(RECORD_PROGRESS, *args)
    if row is None:
        row = await conn.fetchrow(RECORD_PROGRESS, *args)
    assert row is not None
    return row


def _columns(reading: Reading) -> tuple[uuid.UUID, int, uuid.UUID, uuid.UUID, str]:
    r = reading
    return r.document_id, r.version, r.member_id, r.cell_id, r.org_path


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
           r.member_id IS NOT NULL AS opened,
           q.best_score AS quiz_best_score, coalesce(q.attempts, 0) AS quiz_attempts,
           q.passed_at AS quiz_passed_at
      FROM idp_members m
      LEFT JOIN reads r ON r.document_id = $2 AND r.version = $3 AND r.member_id = m.member_id
      LEFT JOIN quiz_results q
        ON q.document_id = $2 AND q.version = $3 AND q.member_id = m.member_id
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
        "count(*) FILTER (WHERE status = 'overdue') AS overdue, "
        "count(*) FILTER (WHERE quiz_passed_at IS NOT NULL) AS passed, "
        "EXISTS (SELECT FROM quizzes WHERE document_id = $2 AND version = $3) AS quiz FROM st",
        org_path,
        document_id,
        version,
        list(ACTIVE_STATUSES),
    )
    assert row is not None
    return row
