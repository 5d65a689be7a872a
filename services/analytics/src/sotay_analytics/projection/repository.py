"""Every SQL statement that writes the analytics projections (batched where events come in
bulk). Each statement is idempotent under redelivery and order-insensitive where it can be:
times combine with LEAST/GREATEST, plans with revisions, attendance with "last occurred wins".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.projections.identity import in_subtree, rewrite_path_array, rewrite_path_column

# -- members and organisations: activity ---------------------------------------------------


async def touch_members(
    conn: Connection,
    member_ids: Sequence[UUID],
    times: Sequence[datetime],
    *,
    activated: bool = True,
) -> None:
    """Members who did something themselves at these times (which implies an activated
    account when ``activated``)."""
    if not member_ids:
        return
    await conn.execute(
        "INSERT INTO an_member_activity (member_id, activated_at, first_active_at, last_active_at) "
        "SELECT m, CASE WHEN $3 THEN min(t) END, min(t), max(t) "
        "FROM unnest($1::uuid[], $2::timestamptz[]) AS x(m, t) GROUP BY m "
        "ON CONFLICT (member_id) DO UPDATE SET "
        "activated_at = LEAST(an_member_activity.activated_at, excluded.activated_at), "
        "first_active_at = LEAST(an_member_activity.first_active_at, excluded.first_active_at), "
        "last_active_at = GREATEST(an_member_activity.last_active_at, excluded.last_active_at)",
        list(member_ids),
        list(times),
        activated,
    )


async def activate_members(
    conn: Connection, member_ids: Sequence[UUID], times: Sequence[datetime]
) -> None:
    """Accounts activated (identity.account.activated.v1): activated, not yet active."""
    await conn.execute(
        "INSERT INTO an_member_activity (member_id, activated_at) "
        "SELECT m, min(t) FROM unnest($1::uuid[], $2::timestamptz[]) AS x(m, t) GROUP BY m "
        "ON CONFLICT (member_id) DO UPDATE SET "
        "activated_at = LEAST(an_member_activity.activated_at, excluded.activated_at)",
        list(member_ids),
        list(times),
    )


async def touch_orgs(conn: Connection, org_ids: Sequence[UUID], times: Sequence[datetime]) -> None:
    if not org_ids:
        return
    await conn.execute(
        "INSERT INTO an_org_activity (org_id, last_active_at) "
        "SELECT o, max(t) FROM unnest($1::uuid[], $2::timestamptz[]) AS x(o, t) GROUP BY o "
        "ON CONFLICT (org_id) DO UPDATE SET "
        "last_active_at = GREATEST(an_org_activity.last_active_at, excluded.last_active_at)",
        list(org_ids),
        list(times),
    )


# Org ids seen in the identity projection. Orgs are closed, never deleted, so a known id
# stays known: the check costs a query only for ids not seen before.
_KNOWN_ORGS: set[UUID] = set()
_KNOWN_ORGS_MAX = 1_000_000


async def unknown_orgs(conn: Connection, org_ids: Sequence[UUID]) -> list[UUID]:
    todo = {o for o in org_ids if o not in _KNOWN_ORGS}
    if not todo:
        return []
    rows = await conn.fetch(
        "SELECT org_id FROM idp_orgs WHERE org_id = ANY($1::uuid[])", list(todo)
    )
    found = {r[0] for r in rows}
    if len(_KNOWN_ORGS) > _KNOWN_ORGS_MAX:
        _KNOWN_ORGS.clear()
    _KNOWN_ORGS.update(found)
    return sorted(todo - found)


# -- documents -------------------------------------------------------------------------------


# The member's and the cell's activity from a batch ``x`` (m: member, c: cell, t: time) — the
# tail of a statement that records what members did (reads, passes).
_ACTIVITY_OF_X = (
    "ma AS (INSERT INTO an_member_activity (member_id, activated_at, first_active_at, "
    "last_active_at) SELECT m, min(t), min(t), max(t) FROM x GROUP BY m "
    "ON CONFLICT (member_id) DO UPDATE SET "
    "activated_at = LEAST(an_member_activity.activated_at, excluded.activated_at), "
    "first_active_at = LEAST(an_member_activity.first_active_at, excluded.first_active_at), "
    "last_active_at = GREATEST(an_member_activity.last_active_at, excluded.last_active_at)) "
    "INSERT INTO an_org_activity (org_id, last_active_at) SELECT c, max(t) FROM x GROUP BY c "
    "ON CONFLICT (org_id) DO UPDATE SET "
    "last_active_at = GREATEST(an_org_activity.last_active_at, excluded.last_active_at)"
)


async def apply_reads(
    conn: Connection,
    rows: Sequence[tuple[UUID, int, UUID, UUID, str, datetime, int, datetime | None]],
) -> None:
    """(document, version, member, cell, org_path, occurred_at, progress, studied_at): the read
    state, the member's activity (a read implies an activated account) and the cell's activity,
    in one statement (one round trip per batch)."""
    await conn.execute(
        "WITH x AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::uuid[], "  # noqa: S608 - fixed fragments
        "$5::text[], $6::timestamptz[], $7::int[], $8::timestamptz[]) "
        "AS x(d, v, m, c, p, t, g, s)), "
        "r AS (INSERT INTO an_reads (document_id, version, member_id, cell_id, org_path, "
        "first_opened_at, progress, studied_at) "
        "SELECT d, v, m, (array_agg(c))[1], (array_agg(p))[1], min(t), "
        "max(g), min(s) FROM x GROUP BY d, v, m "
        "ON CONFLICT (document_id, version, member_id) DO UPDATE SET "
        "first_opened_at = LEAST(an_reads.first_opened_at, excluded.first_opened_at), "
        "progress = GREATEST(an_reads.progress, excluded.progress), "
        "studied_at = LEAST(an_reads.studied_at, excluded.studied_at)), " + _ACTIVITY_OF_X,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [r[5] for r in rows],
        [r[6] for r in rows],
        [r[7] for r in rows],
    )


async def apply_passes(
    conn: Connection, rows: Sequence[tuple[UUID, int, UUID, UUID, str, datetime]]
) -> None:
    """(document, version, member, cell, org_path, occurred_at): when the member first passed
    the version's quiz. A pass implies the version was opened (documents refuses an attempt
    before), so a pass seen before its read (another batch) opens the row; the earliest pass
    is kept. The member's and cell's activity move like a read's."""
    await conn.execute(
        "WITH x AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::uuid[], "  # noqa: S608 - fixed fragments
        "$5::text[], $6::timestamptz[]) AS x(d, v, m, c, p, t)), "
        "r AS (INSERT INTO an_reads (document_id, version, member_id, cell_id, org_path, "
        "first_opened_at, progress, studied_at, passed_at) "
        "SELECT d, v, m, (array_agg(c))[1], (array_agg(p))[1], min(t), 0, NULL, min(t) "
        "FROM x GROUP BY d, v, m "
        "ON CONFLICT (document_id, version, member_id) DO UPDATE SET "
        "passed_at = LEAST(an_reads.passed_at, excluded.passed_at)), " + _ACTIVITY_OF_X,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [r[5] for r in rows],
    )


async def insert_publication(
    conn: Connection,
    *,
    publication_id: UUID,
    document_id: UUID,
    version: int,
    audience_org_ids: Sequence[UUID],
    audience_paths: Sequence[str],
    audience_size: int,
    study_required: bool,
    study_deadline: datetime | None,
    kind: str,
    publisher_org_id: UUID,
    published_by: UUID,
    published_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO an_publications (publication_id, document_id, version, audience_org_ids, "
        "audience_paths, audience_size, audience_complete, study_required, study_deadline, kind, "
        "publisher_org_id, published_by, published_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, false, $7, $8, $9, $10, $11, $12) "
        "ON CONFLICT (publication_id) DO NOTHING",
        publication_id,
        document_id,
        version,
        list(audience_org_ids),
        list(audience_paths),
        audience_size,
        study_required,
        study_deadline,
        kind,
        publisher_org_id,
        published_by,
        published_at,
    )


# A publication queued in an_audience_jobs is the background job's, not the inline path's.
_NOT_QUEUED = (
    "NOT EXISTS (SELECT 1 FROM an_audience_jobs j WHERE j.publication_id = p.publication_id)"
)


async def materialise_audiences(conn: Connection, publication_ids: Sequence[UUID] | None) -> None:
    """Fill the audience of publications (``None``: every one still incomplete that no
    background job holds) from the membership history: who belonged to a cell inside a target
    subtree when it was published."""
    where = (
        f"NOT p.audience_complete AND {_NOT_QUEUED}"
        if publication_ids is None
        else "p.publication_id = ANY($1)"
    )
    args: list[object] = [] if publication_ids is None else [list(publication_ids)]
    await conn.execute(
        "INSERT INTO an_audience (publication_id, member_id, cell_id, org_path) "  # noqa: S608
        "SELECT DISTINCT ON (p.publication_id, m.member_id) p.publication_id, m.member_id, "
        "m.cell_id, m.org_path FROM an_publications p "
        "JOIN idp_memberships m ON m.started_at <= p.published_at "
        "AND (m.ended_at IS NULL OR m.ended_at > p.published_at) "
        "AND EXISTS (SELECT 1 FROM unnest(p.audience_paths) AS a "
        f"WHERE {in_subtree('m.org_path', 'a')}) "
        f"WHERE {where} "
        "ORDER BY p.publication_id, m.member_id, m.started_at DESC "
        "ON CONFLICT DO NOTHING",
        *args,
    )
    await _mark_complete(conn, where, args)


async def _mark_complete(conn: Connection, where: str, args: Sequence[object]) -> None:
    await conn.execute(
        "UPDATE an_publications p SET audience_complete = "  # noqa: S608
        "(SELECT count(*) FROM an_audience a WHERE a.publication_id = p.publication_id) "
        f">= p.audience_size WHERE {where}",
        *args,
    )


async def has_incomplete_audiences(conn: Connection) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM an_publications p "  # noqa: S608
        f"WHERE NOT p.audience_complete AND {_NOT_QUEUED})"
    )
    return found


async def queue_audience(conn: Connection, publication_id: UUID, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO an_audience_jobs (publication_id, queued_at) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING",
        publication_id,
        at,
    )


async def claim_audience_job(conn: Connection) -> asyncpg.Record | None:
    """The next queued audience no one else is writing, locked for the caller's transaction:
    the oldest of those that failed least (a job that keeps failing does not hold the others)."""
    return await conn.fetchrow(
        "SELECT j.publication_id, j.after_member, p.published_at, p.audience_paths "
        "FROM an_audience_jobs j JOIN an_publications p USING (publication_id) "
        "ORDER BY j.failures, j.queued_at, j.publication_id LIMIT 1 FOR UPDATE OF j SKIP LOCKED"
    )


async def audience_chunk(conn: Connection, job: asyncpg.Record, size: int) -> None:
    """Write the job's next ``size`` members and move its cursor; the job ends, and the
    publication's completeness is set, when a chunk comes back short."""
    # Members in id order from the cursor (idp_memberships_member), each with the membership
    # that was open when the document was published; the index walk stops at the chunk's end.
    done = await conn.fetchrow(
        "WITH chunk AS (SELECT DISTINCT ON (m.member_id) m.member_id, m.cell_id, m.org_path "  # noqa: S608
        "FROM idp_memberships m WHERE ($2::uuid IS NULL OR m.member_id > $2) "
        "AND m.started_at <= $3 AND (m.ended_at IS NULL OR m.ended_at > $3) "
        f"AND EXISTS (SELECT 1 FROM unnest($4::text[]) AS a WHERE {in_subtree('m.org_path', 'a')}) "
        "ORDER BY m.member_id, m.started_at DESC LIMIT $5), "
        "ins AS (INSERT INTO an_audience (publication_id, member_id, cell_id, org_path) "
        "SELECT $1, member_id, cell_id, org_path FROM chunk ON CONFLICT DO NOTHING) "
        "SELECT count(*) AS n, (SELECT member_id FROM chunk ORDER BY member_id DESC LIMIT 1) "
        "AS last FROM chunk",
        job["publication_id"],
        job["after_member"],
        job["published_at"],
        list(job["audience_paths"]),
        size,
    )
    assert done is not None
    if done["n"] < size:
        await conn.execute(
            "DELETE FROM an_audience_jobs WHERE publication_id = $1", job["publication_id"]
        )
        await _mark_complete(conn, "p.publication_id = $1", [job["publication_id"]])
    else:
        await conn.execute(
            "UPDATE an_audience_jobs SET after_member = $2 WHERE publication_id = $1",
            job["publication_id"],
            done["last"],
        )


async def audience_job_failed(conn: Connection, publication_id: UUID) -> int:
    failures: int = await conn.fetchval(
        "UPDATE an_audience_jobs SET failures = failures + 1 WHERE publication_id = $1 "
        "RETURNING failures",
        publication_id,
    )
    return failures


async def incomplete_publications(conn: Connection, publication_ids: Sequence[UUID]) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM an_publications WHERE publication_id = ANY($1::uuid[]) "
        "AND NOT audience_complete",
        list(publication_ids),
    )
    return n


async def retract(
    conn: Connection, document_id: UUID, publication_id: UUID | None, at: datetime
) -> None:
    await conn.execute(
        "UPDATE an_publications SET retracted_at = LEAST(retracted_at, $3) "
        "WHERE document_id = $1 AND ($2::uuid IS NULL OR publication_id = $2) "
        "AND published_at <= $3",
        document_id,
        publication_id,
        at,
    )


# -- notifications ---------------------------------------------------------------------------


async def notifications(
    conn: Connection,
    rows: Sequence[tuple[str, UUID, UUID, datetime]],
    *,
    delivered: bool,
) -> None:
    column = "delivered_at" if delivered else "failed_at"
    await conn.execute(
        f"INSERT INTO an_notifications (cause_type, cause_id, member_id, {column}) "  # noqa: S608
        "SELECT k, c, m, min(t) FROM unnest($1::text[], $2::uuid[], $3::uuid[], "
        "$4::timestamptz[]) AS x(k, c, m, t) GROUP BY k, c, m "
        "ON CONFLICT (cause_type, cause_id, member_id) DO UPDATE SET "
        f"{column} = LEAST(an_notifications.{column}, excluded.{column})",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )


async def broadcasts(conn: Connection, rows: Sequence[tuple[str, UUID, datetime]]) -> None:
    """Causes whose in-app notification reached their whole audience at once (the earliest
    report wins, as for a member's delivery)."""
    await conn.execute(
        "INSERT INTO an_broadcasts (cause_type, cause_id, delivered_at) "
        "SELECT k, c, min(t) FROM unnest($1::text[], $2::uuid[], $3::timestamptz[]) "
        "AS x(k, c, t) GROUP BY k, c "
        "ON CONFLICT (cause_type, cause_id) DO UPDATE SET "
        "delivered_at = LEAST(an_broadcasts.delivered_at, excluded.delivered_at)",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
    )


# -- meetings ----------------------------------------------------------------------------------


async def upsert_plan(
    conn: Connection,
    *,
    meeting_id: UUID,
    org_id: UUID,
    org_path: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    invitees: Sequence[UUID],
    series_id: UUID | None,
    status: str,
    revision: int,
) -> None:
    await conn.execute(
        "INSERT INTO an_meetings (meeting_id, org_id, org_path, kind, scheduled_starts_at, "
        "starts_at, ends_at, invitees, series_id, status, revision) "
        "VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (meeting_id) DO UPDATE SET org_id = excluded.org_id, "
        "org_path = excluded.org_path, kind = excluded.kind, starts_at = excluded.starts_at, "
        "ends_at = excluded.ends_at, invitees = excluded.invitees, "
        "series_id = excluded.series_id, revision = excluded.revision, "
        "status = CASE WHEN an_meetings.status = 'closed' THEN 'closed' ELSE excluded.status END "
        "WHERE an_meetings.revision < excluded.revision",
        meeting_id,
        org_id,
        org_path,
        kind,
        starts_at,
        ends_at,
        list(invitees),
        series_id,
        status,
        revision,
    )


async def close_meeting(
    conn: Connection,
    *,
    meeting_id: UUID,
    org_id: UUID,
    org_path: str,
    kind: str,
    starts_at: datetime,
    tallies: tuple[int, int, int, int, int, int],
    quorum_met: bool,
    closed_at: datetime,
) -> None:
    invited, present, late, excused, unexcused, exempt = tallies
    await conn.execute(
        "INSERT INTO an_meetings (meeting_id, org_id, org_path, kind, scheduled_starts_at, "
        "starts_at, status, revision, invited, present, late, absent_excused, absent_unexcused, "
        "exempt, quorum_met, closed_at) "
        "VALUES ($1, $2, $3, $4, $5, $5, 'closed', 0, $6, $7, $8, $9, $10, $11, $12, $13) "
        "ON CONFLICT (meeting_id) DO UPDATE SET status = 'closed', starts_at = excluded.starts_at, "
        "invited = excluded.invited, present = excluded.present, late = excluded.late, "
        "absent_excused = excluded.absent_excused, absent_unexcused = excluded.absent_unexcused, "
        "exempt = excluded.exempt, quorum_met = excluded.quorum_met, "
        "closed_at = excluded.closed_at",
        meeting_id,
        org_id,
        org_path,
        kind,
        starts_at,
        invited,
        present,
        late,
        excused,
        unexcused,
        exempt,
        quorum_met,
        closed_at,
    )
    # Final status per invitee, as the meetings service decides it when closing: a check-in or
    # mark; else a reply "absent" (always with a reason) → excused; else unexcused. Exempt
    # members are left out (their status is "exempt" whatever happened).
    await conn.execute(
        "INSERT INTO an_attendance_final (meeting_id, member_id, org_path, kind, starts_at, "
        "status) SELECT mt.meeting_id, inv, mt.org_path, mt.kind, mt.starts_at, "
        "COALESCE(a.status, CASE WHEN r.response = 'absent' THEN 'absent_excused' END, "
        "'absent_unexcused') "
        "FROM an_meetings mt CROSS JOIN LATERAL unnest(mt.invitees) AS inv "
        "LEFT JOIN an_attendance a ON a.meeting_id = mt.meeting_id AND a.member_id = inv "
        "AND a.status <> 'exempt' "
        "LEFT JOIN an_rsvps r ON r.meeting_id = mt.meeting_id AND r.member_id = inv "
        "LEFT JOIN idp_members im ON im.member_id = inv "
        "WHERE mt.meeting_id = $1 AND COALESCE(im.status, 'active') <> 'exempt' "
        "ON CONFLICT DO NOTHING",
        meeting_id,
    )


async def rsvp(
    conn: Connection,
    meeting_id: UUID,
    member_id: UUID,
    response: str,
    reason: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO an_rsvps (meeting_id, member_id, response, reason_code, answered_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (meeting_id, member_id) DO UPDATE SET "
        "response = excluded.response, reason_code = excluded.reason_code, "
        "answered_at = excluded.answered_at WHERE an_rsvps.answered_at <= excluded.answered_at",
        meeting_id,
        member_id,
        response,
        reason,
        at,
    )


async def attendance(
    conn: Connection,
    rows: Sequence[tuple[UUID, UUID, str, str, datetime]],
) -> None:
    """(meeting, member, status, method, occurred_at); the last one occurred wins."""
    await conn.execute(
        "INSERT INTO an_attendance (meeting_id, member_id, status, method, recorded_at) "
        "SELECT DISTINCT ON (mt, m) mt, m, s, k, t FROM unnest($1::uuid[], $2::uuid[], "
        "$3::text[], $4::text[], $5::timestamptz[]) AS x(mt, m, s, k, t) "
        "ORDER BY mt, m, t DESC "
        "ON CONFLICT (meeting_id, member_id) DO UPDATE SET status = excluded.status, "
        "method = excluded.method, recorded_at = excluded.recorded_at "
        "WHERE an_attendance.recorded_at <= excluded.recorded_at",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
    )


# -- org moves -------------------------------------------------------------------------------


async def rewrite_paths(conn: Connection, old_path: str, new_path: str) -> None:
    """An org moved with its subtree: the paths this projection stores follow it."""
    for table in ("an_audience", "an_reads", "an_meetings", "an_attendance_final", "an_grades"):
        await rewrite_path_column(conn, table, "org_path", old_path, new_path)
    await rewrite_path_array(conn, "an_publications", "audience_paths", old_path, new_path)


async def describe_document(
    conn: Connection,
    document_id: UUID,
    version: int,
    number: str | None,
    title: str,
    classification: str,
) -> None:
    """A document's number and title (documents' directory): the newest version's win."""
    await conn.execute(
        "INSERT INTO an_document_names (document_id, version, number, title, classification) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (document_id) DO UPDATE SET "
        "version = excluded.version, number = excluded.number, title = excluded.title, "
        "classification = excluded.classification "
        "WHERE an_document_names.version <= excluded.version",
        document_id,
        version,
        number,
        title,
        classification,
    )


# -- annual review ---------------------------------------------------------------------------


async def cell_graded(
    conn: Connection,
    *,
    period_id: UUID,
    org_id: UUID,
    org_path: str,
    year: int,
    counts: tuple[int, int, int, int],
    decided_at: datetime,
) -> None:
    """The cell's graded members per grade in a period: the latest decision's counts win."""
    await conn.execute(
        "INSERT INTO an_grades (period_id, org_id, org_path, year, excellent, good, complete, "
        "incomplete, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (period_id, org_id) DO UPDATE SET org_path = excluded.org_path, "
        "excellent = excluded.excellent, good = excluded.good, complete = excluded.complete, "
        "incomplete = excluded.incomplete, decided_at = excluded.decided_at "
        "WHERE an_grades.decided_at <= excluded.decided_at",
        period_id,
        org_id,
        org_path,
        year,
        *counts,
        decided_at,
    )
