"""SQL of the fan-out: one notification per member per cause, written set-based from the
identity projection (INSERT … SELECT), plus what notify keeps of meetings, publications and
study progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sotay_kit.db import Connection
from sotay_kit.projections.identity import ACTIVE_STATUSES

from ..hub import CHANNEL, payload_for
from ..texts import Content

# Writing a notification to an audience (a CTE ``audience`` of member ids): the members who do
# not have it yet each get the next number of their inbox stream. $1 cause_type, $2 cause_id,
# $3 kind, $4 title, $5 body, $6 link, $7 urgent, $8 created_at; the audience's own parameters
# from $9 on. Shared by the inline fan-out and the chunks of a fan-out job.
_INBOX_WRITES = """
fresh AS (
    SELECT a.member_id FROM audience a
    WHERE NOT EXISTS (
        SELECT 1 FROM notifications n
        WHERE n.cause_type = $1 AND n.cause_id = $2 AND n.kind = $3 AND n.member_id = a.member_id
    )
),
seqs AS (
    INSERT INTO inbox_streams AS s (member_id, last_seq)
    SELECT member_id, 1 FROM fresh ORDER BY member_id
    ON CONFLICT (member_id) DO UPDATE SET last_seq = s.last_seq + 1
    RETURNING s.member_id, s.last_seq
),
ins AS (
    INSERT INTO notifications
        (member_id, seq, cause_type, cause_id, kind, title, body, link, urgent, created_at)
    SELECT member_id, last_seq, $1, $2, $3, $4, $5, $6, $7, $8 FROM seqs
    ON CONFLICT DO NOTHING
    RETURNING id, member_id
)
"""

_FANOUT = (
    "WITH audience AS ({audience}),"
    + _INBOX_WRITES
    + """SELECT count(*) AS n,
       CASE WHEN count(*) <= {listed} THEN array_agg(member_id) END AS members
FROM ins
"""
)

AUDIENCE_MEMBERS = (
    "SELECT DISTINCT m.member_id FROM idp_members m "
    "WHERE m.member_id = ANY($9::uuid[]) AND m.status = ANY($10::text[])"
)
AUDIENCE_SUBTREES = (
    "SELECT m.member_id FROM idp_members m WHERE "
    "m.status = ANY($10::text[]) AND EXISTS (SELECT 1 FROM unnest($9::text[]) AS t(p) "
    "WHERE m.org_path = t.p OR m.org_path LIKE t.p || '.%')"
)
# Study reminders: the audience minus those who studied this version (or a later one).
AUDIENCE_NOT_STUDIED = (
    AUDIENCE_SUBTREES  # noqa: S608 - fixed SQL fragments
    + " AND NOT EXISTS (SELECT 1 FROM studied s WHERE s.document_id = $11 "
    "AND s.member_id = m.member_id AND s.version >= $12)"
)
# Retractions: whoever was told of one of these publications.
AUDIENCE_NOTIFIED = (
    "SELECT DISTINCT n.member_id FROM notifications n JOIN idp_members m USING (member_id) "
    "WHERE n.cause_type = 'document_published' AND n.cause_id = ANY($9::uuid[]) "
    "AND m.status = ANY($10::text[])"
)


async def fan_out(
    conn: Connection, content: Content, audience: str, *params: Any, now: datetime
) -> int:
    """Write ``content`` to every member of ``audience`` who does not have it yet; wake the
    SSE streams and the dispatcher (at commit). Returns the number of notifications written."""
    sql = _FANOUT.format(audience=audience, listed=200)
    row = await conn.fetchrow(
        sql,
        content.cause_type.value,
        content.cause_id,
        content.kind,
        content.title,
        content.body,
        content.link,
        content.urgent,
        now,
        *params,
    )
    assert row is not None
    written: int = row["n"]
    if written:
        await conn.execute(
            "INSERT INTO dispatch_jobs (cause_type, cause_id, kind, created_at) "
            "VALUES ($1, $2, $3, $4)",
            content.cause_type.value,
            content.cause_id,
            content.kind,
            now,
        )
        members = row["members"]
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload_for(members))
    return written


# -- large fan-outs, chunk by chunk ------------------------------------------------------------


async def audience_over(conn: Connection, paths: Sequence[str], limit: int) -> bool:
    """Whether the active members of the subtrees are more than ``limit`` (counts at most
    ``limit + 1`` of them)."""
    n: int = await conn.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM idp_members m WHERE m.status = ANY($2::text[]) "
        "AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS t(p) "
        "WHERE m.org_path = t.p OR m.org_path LIKE t.p || '.%') LIMIT $3) x",
        list(paths),
        active_statuses(),
        limit + 1,
    )
    return n > limit


async def add_fanout_job(
    conn: Connection, content: Content, paths: Sequence[str], now: datetime
) -> bool:
    """Leave the fan-out of ``content`` to the audience subtrees to the worker and wake the
    workers and every live inbox stream (at commit); a second job for the same cause and kind
    is ignored (False)."""
    job_id = await conn.fetchval(
        "INSERT INTO fanout_jobs (cause_type, cause_id, kind, title, body, link, urgent, "
        "audience_paths, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (cause_type, cause_id, kind) DO NOTHING RETURNING id",
        content.cause_type.value,
        content.cause_id,
        content.kind,
        content.title,
        content.body,
        content.link,
        content.urgent,
        list(paths),
        now,
    )
    if job_id is None:
        return False
    # Every stream: a member in the audience gets the notification at their stream's next read.
    await conn.execute("SELECT pg_notify($1, '*')", CHANNEL)
    return True


async def claim_fanout_job(conn: Connection) -> Any:
    """An open fan-out job, locked for this transaction: one not started yet first (so a job
    that has just arrived gets its first chunk before the older ones continue), else the
    oldest."""
    return await conn.fetchrow(
        "SELECT * FROM fanout_jobs WHERE done_at IS NULL "
        "ORDER BY after_member IS NOT NULL, id LIMIT 1 FOR UPDATE SKIP LOCKED"
    )


# A chunk of a fan-out job: the next $12 members of the subtrees after member $11.
_FANOUT_CHUNK = (
    "WITH audience AS ("  # noqa: S608 - fixed SQL fragments
    + AUDIENCE_SUBTREES
    + " AND ($11::uuid IS NULL OR m.member_id > $11) ORDER BY m.member_id LIMIT $12),"
    + _INBOX_WRITES
    + """SELECT (SELECT count(*) FROM audience) AS seen,
       (SELECT member_id FROM audience ORDER BY member_id DESC LIMIT 1) AS last,
       coalesce((SELECT array_agg(member_id ORDER BY member_id) FROM ins), '{}') AS written,
       coalesce((SELECT array_agg(id ORDER BY member_id) FROM ins), '{}') AS ids
"""
)


def _job_writes(job: Any, now: datetime) -> tuple[Any, ...]:
    """A fan-out job's notification as the parameters $1–$8 of ``_INBOX_WRITES``."""
    return (
        job["cause_type"],
        job["cause_id"],
        job["kind"],
        job["title"],
        job["body"],
        job["link"],
        job["urgent"],
        now,
    )


async def fan_out_chunk(conn: Connection, job: Any, limit: int, now: datetime) -> Any:
    """Write the job's notification to the next ``limit`` members of its audience (in member
    order, after ``after_member``). Returns ``seen`` (members of the chunk), ``last`` (the
    chunk's last member, None when the audience is exhausted), ``written`` (the members
    who had not had it yet, in order) and ``ids`` (their notifications, in the same order)."""
    row = await conn.fetchrow(
        _FANOUT_CHUNK,
        *_job_writes(job, now),
        list(job["audience_paths"]),
        active_statuses(),
        job["after_member"],
        limit,
    )
    assert row is not None
    if row["written"]:
        written = list(row["written"])
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload_for(written))
    return row


# The open fan-out jobs whose audience holds member $1 (active, $2) and whose worker has not
# reached that member yet (it walks in member id order).
_PENDING_FOR_MEMBER = """
SELECT j.* FROM fanout_jobs j JOIN idp_members m ON m.member_id = $1
WHERE j.done_at IS NULL AND (j.after_member IS NULL OR j.after_member < $1)
  AND m.status = ANY($2::text[])
  AND EXISTS (SELECT 1 FROM unnest(j.audience_paths) AS t(p)
              WHERE m.org_path = t.p OR m.org_path LIKE t.p || '.%')
  AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.cause_type = j.cause_type
                  AND n.cause_id = j.cause_id AND n.kind = j.kind AND n.member_id = $1)
ORDER BY j.id
"""

_TO_ONE_MEMBER = (
    "WITH audience AS (SELECT $9::uuid AS member_id),"  # noqa: S608 - fixed SQL fragments
    + _INBOX_WRITES
    + "SELECT count(*) FROM ins"
)


async def write_pending_fanouts(conn: Connection, member_id: UUID, now: datetime) -> dict[str, int]:
    """Write this member's notifications of the fan-outs still in flight that the worker has
    not reached yet, each with the member's next stream number (the worker skips them later:
    the unique key), so what a queued fan-out announced is in the inbox at the member's first
    read. Cheap when no fan-out is open (the partial index of open jobs is empty). Returns the
    notifications written per cause type."""
    written: dict[str, int] = {}
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM fanout_jobs WHERE done_at IS NULL)"):
        return written
    for job in await conn.fetch(_PENDING_FOR_MEMBER, member_id, active_statuses()):
        n: int = await conn.fetchval(_TO_ONE_MEMBER, *_job_writes(job, now), member_id)
        written[job["cause_type"]] = written.get(job["cause_type"], 0) + n
    return written


async def advance_fanout_job(
    conn: Connection, job_id: int, last: UUID | None, written: int, done: datetime | None
) -> None:
    await conn.execute(
        "UPDATE fanout_jobs SET after_member = coalesce($2, after_member), "
        "written = written + $3, done_at = $4 WHERE id = $1",
        job_id,
        last,
        written,
        done,
    )


async def stop_fanouts(conn: Connection, cause_type: str, cause_ids: Sequence[UUID]) -> None:
    await conn.execute(
        "UPDATE fanout_jobs SET done_at = now() "
        "WHERE cause_type = $1 AND cause_id = ANY($2::uuid[]) AND done_at IS NULL",
        cause_type,
        list(cause_ids),
    )


def active_statuses() -> list[str]:
    return list(ACTIVE_STATUSES)


async def known_members(conn: Connection, member_ids: Sequence[UUID]) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM idp_members WHERE member_id = ANY($1::uuid[]) "
        "AND status = ANY($2::text[])",
        list(member_ids),
        active_statuses(),
    )
    return n


async def org_title(conn: Connection, org_id: UUID) -> str | None:
    title: str | None = await conn.fetchval("SELECT title FROM idp_orgs WHERE org_id = $1", org_id)
    return title


async def org_title_by_path(conn: Connection, path: str) -> str | None:
    title: str | None = await conn.fetchval("SELECT title FROM idp_orgs WHERE path = $1", path)
    return title


async def known_paths(conn: Connection, paths: Sequence[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT path FROM idp_orgs WHERE path = ANY($1::text[])", list(dict.fromkeys(paths))
    )
    return {r["path"] for r in rows}


# -- meetings ------------------------------------------------------------------------------


async def upsert_meeting(
    conn: Connection,
    *,
    meeting_id: UUID,
    org_id: UUID,
    org_path: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    invitee_ids: list[UUID],
    status: str,
    revision: int,
    title: str | None = None,
    location: str | None = None,
) -> tuple[bool, list[UUID]]:
    """Store the meeting's plan unless a newer revision is known. Returns (applied, the
    invitees before this change)."""
    before = await conn.fetchrow(
        "SELECT revision, invitee_ids FROM meetings WHERE meeting_id = $1 FOR UPDATE", meeting_id
    )
    if before is not None and before["revision"] >= revision:
        return False, list(before["invitee_ids"])
    await conn.execute(
        "INSERT INTO meetings (meeting_id, org_id, org_path, kind, starts_at, ends_at, "
        "invitee_ids, status, revision, title, location) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (meeting_id) DO UPDATE SET org_id = excluded.org_id, "
        "org_path = excluded.org_path, kind = excluded.kind, starts_at = excluded.starts_at, "
        "ends_at = excluded.ends_at, invitee_ids = excluded.invitee_ids, "
        "status = excluded.status, revision = excluded.revision, title = excluded.title, "
        "location = excluded.location",
        meeting_id,
        org_id,
        org_path,
        kind,
        starts_at,
        ends_at,
        invitee_ids,
        status,
        revision,
        title,
        location,
    )
    return True, list(before["invitee_ids"]) if before is not None else []


async def meeting(conn: Connection, meeting_id: UUID) -> Any:
    return await conn.fetchrow("SELECT * FROM meetings WHERE meeting_id = $1", meeting_id)


# -- documents -----------------------------------------------------------------------------


async def describe_document(
    conn: Connection,
    *,
    document_id: UUID,
    version: int,
    number: str | None,
    title: str,
    described_at: datetime,
) -> None:
    """Keep a document's number and title; a later description replaces an earlier one."""
    await conn.execute(
        "INSERT INTO documents (document_id, version, number, title, described_at) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (document_id) DO UPDATE SET version = excluded.version, "
        "number = excluded.number, title = excluded.title, described_at = excluded.described_at "
        "WHERE documents.described_at <= excluded.described_at",
        document_id,
        version,
        number,
        title,
        described_at,
    )


async def document_names(conn: Connection, document_id: UUID) -> Any:
    """The document's number and title, None before its description arrived."""
    return await conn.fetchrow(
        "SELECT number, title FROM documents WHERE document_id = $1", document_id
    )


async def insert_publication(
    conn: Connection,
    *,
    publication_id: UUID,
    document_id: UUID,
    version: int,
    kind: str,
    audience_paths: list[str],
    publisher_org_id: UUID,
    study_deadline: datetime | None,
) -> None:
    await conn.execute(
        "INSERT INTO publications (publication_id, document_id, version, kind, audience_paths, "
        "publisher_org_id, study_deadline) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (publication_id) DO NOTHING",
        publication_id,
        document_id,
        version,
        kind,
        audience_paths,
        publisher_org_id,
        study_deadline,
    )


async def publication(conn: Connection, publication_id: UUID) -> Any:
    """The publication with its document's number and title (None when not described)."""
    return await conn.fetchrow(
        "SELECT p.*, d.number, d.title FROM publications p "
        "LEFT JOIN documents d USING (document_id) WHERE p.publication_id = $1",
        publication_id,
    )


async def retract(
    conn: Connection, document_id: UUID, publication_id: UUID | None, at: datetime
) -> list[Any]:
    """Mark the publication (or all of the document's) retracted; returns the rows retracted,
    with the document's number and title."""
    return await conn.fetch(
        "WITH retracted AS (UPDATE publications SET retracted_at = $3 WHERE document_id = $1 "
        "AND ($2::uuid IS NULL OR publication_id = $2) AND retracted_at IS NULL "
        "RETURNING publication_id, document_id, kind) "
        "SELECT r.publication_id, r.kind, d.number, d.title FROM retracted r "
        "LEFT JOIN documents d USING (document_id)",
        document_id,
        publication_id,
        at,
    )


async def record_studied(
    conn: Connection,
    document_ids: list[UUID],
    member_ids: list[UUID],
    versions: list[int],
    at: list[datetime],
) -> None:
    await conn.execute(
        "INSERT INTO studied (document_id, member_id, version, studied_at) "
        "SELECT DISTINCT ON (d, m) d, m, v, t "
        "FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::timestamptz[]) AS x(d, m, v, t) "
        "ORDER BY d, m, v DESC "
        "ON CONFLICT (document_id, member_id) DO UPDATE SET version = excluded.version, "
        "studied_at = excluded.studied_at WHERE studied.version < excluded.version",
        document_ids,
        member_ids,
        versions,
        at,
    )


# -- identity-derived ----------------------------------------------------------------------


async def forget_member_channels(conn: Connection, member_id: UUID) -> None:
    """A member who left the rolls: no more pushes, emails or SMS (contacts erased)."""
    await conn.execute("DELETE FROM push_subscriptions WHERE member_id = $1", member_id)
    await conn.execute(
        "UPDATE preferences SET email = false, sms = false, email_address = NULL, phone = NULL "
        "WHERE member_id = $1",
        member_id,
    )
    await conn.execute(
        "UPDATE deliveries SET state = 'cancelled', last_error = 'opted_out', lease_until = NULL "
        "WHERE member_id = $1 AND state = 'pending'",
        member_id,
    )
