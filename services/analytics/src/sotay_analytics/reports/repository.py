"""Every SQL statement the reports read. Org-level queries group by the child of the report's
node that contains each row (``child_key``), so one pass answers a whole drill-down level."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.projections.identity import ACTIVE_STATUSES, in_subtree

TZ = "Asia/Ho_Chi_Minh"


def child_key(col: str, root: str = "$1") -> str:
    """SQL: the path of ``root``'s child whose subtree holds ``col`` (``root`` itself when
    ``col`` is ``root``)."""
    return (
        f"(CASE WHEN {col} = {root} THEN {root} ELSE {root} || '.' || "
        f"split_part(substr({col}, length({root}) + 2), '.', 1) END)"
    )


def _month(col: str) -> str:
    return f"to_char({col} AT TIME ZONE '{TZ}', 'YYYY-MM')"


# -- org tree --------------------------------------------------------------------------------


async def org_by_id(conn: Connection, org_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT org_id, parent_id, path, kind, title, status FROM idp_orgs WHERE org_id = $1",
        org_id,
    )
    return row


async def org_by_path(conn: Connection, path: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT org_id, parent_id, path, kind, title, status FROM idp_orgs WHERE path = $1", path
    )
    return row


async def orgs_by_paths(conn: Connection, paths: Sequence[str]) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT org_id, parent_id, path, kind, title, status FROM idp_orgs "
        "WHERE path = ANY($1::text[])",
        list(set(paths)),
    )
    return {r["path"]: r for r in rows}


async def children(conn: Connection, org_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT org_id, parent_id, path, kind, title, status FROM idp_orgs "
            "WHERE parent_id = $1 AND status <> 'closed' ORDER BY path",
            org_id,
        )
    )


async def roots(conn: Connection) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT org_id, parent_id, path, kind, title, status FROM idp_orgs "
            "WHERE parent_id IS NULL AND status <> 'closed' ORDER BY path"
        )
    )


# -- document reach --------------------------------------------------------------------------

# Every publication's audience (publication_id, member_id, org_path): the rows of an_audience,
# except for a publication whose audience is still being written in the background
# (an_audience_jobs), which is read from the membership history instead — the same members
# the job writes (projection.repository.audience_chunk), so a large publication's numbers are
# whole from the moment it is projected, not only when its last chunk is written. One
# statement's snapshot sees a publication either with its job (derived) or without (written).
AUDIENCE = (
    "(SELECT a.publication_id, a.member_id, a.org_path FROM an_audience a "  # noqa: S608
    "WHERE NOT EXISTS (SELECT 1 FROM an_audience_jobs j "
    "WHERE j.publication_id = a.publication_id) "
    "UNION ALL "
    "SELECT j.publication_id, m.member_id, m.org_path FROM an_audience_jobs j "
    "JOIN an_publications jp USING (publication_id) "
    "CROSS JOIN LATERAL (SELECT DISTINCT ON (m.member_id) m.member_id, m.org_path "
    "FROM idp_memberships m WHERE m.started_at <= jp.published_at "
    "AND (m.ended_at IS NULL OR m.ended_at > jp.published_at) "
    "AND EXISTS (SELECT 1 FROM unnest(jp.audience_paths) AS t(p) "
    f"WHERE {in_subtree('m.org_path', 't.p')}) "
    "ORDER BY m.member_id, m.started_at DESC) m)"
)

_REACH_COLUMNS = (
    "count(DISTINCT a.publication_id) AS publications, count(*) AS audience, "  # noqa: S608
    # A broadcast (a large fan-out reported once by notify) reached every member of the
    # audience; otherwise a member is notified by their own delivery.
    "count(coalesce(n.delivered_at, b.delivered_at)) AS notified, count(r.member_id) AS opened, "
    "count(r.studied_at) AS studied, count(r.passed_at) AS passed, "
    "count(*) FILTER (WHERE p.study_required AND p.study_deadline < $2 "
    "AND r.studied_at IS NULL) AS overdue "
    f"FROM {AUDIENCE} a JOIN an_publications p USING (publication_id) "
    "LEFT JOIN an_broadcasts b ON b.cause_type = 'document_published' "
    "AND b.cause_id = p.publication_id "
    # One row at most each (their primary keys), looked up by the whole key: as plain joins the
    # planner, misled by the statistics of a partition a fan-out has just filled, joined on the
    # first columns and filtered the member — a province's publication in quadratic time.
    # LIMIT 1 keeps each lookup a subquery of its own.
    "LEFT JOIN LATERAL (SELECT r.member_id, r.studied_at, r.passed_at FROM an_reads r "
    "WHERE r.document_id = p.document_id AND r.version = p.version "
    "AND r.member_id = a.member_id LIMIT 1) r ON true "
    # A broadcast publication's members need no lookup (a one-time filter skips the probe).
    "LEFT JOIN LATERAL (SELECT n.delivered_at FROM an_notifications n "
    "WHERE b.delivered_at IS NULL AND n.cause_type = 'document_published' "
    "AND n.cause_id = a.publication_id AND n.member_id = a.member_id LIMIT 1) n ON true "
    "WHERE p.retracted_at IS NULL "
    "AND ($3::uuid IS NULL OR p.document_id = $3) "
    "AND ($4::uuid IS NULL OR p.publication_id = $4) "
    "AND ($5::timestamptz IS NULL OR p.published_at >= $5) "
    "AND ($6::timestamptz IS NULL OR p.published_at < $6) "
)


async def reach(
    conn: Connection,
    *,
    root: str | None,
    member_id: UUID | None,
    group: Literal["child", "member"],
    now: datetime,
    document_id: UUID | None,
    publication_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[list[asyncpg.Record], asyncpg.Record]:
    """Rows keyed by ``key`` (a child path of ``root``, or a member id) over the subtree of
    ``root`` or the one member ``member_id``, and their total — in one pass (grouping sets):
    the audience is read once, not once more for the total."""
    first: object
    if member_id is not None:
        scope, first = "a.member_id = $1", member_id
    else:
        scope, first = in_subtree("a.org_path", "$1"), root
    key = {"child": child_key("a.org_path"), "member": "a.member_id::text"}[group]
    rows = list(
        await conn.fetch(
            f"SELECT {key} AS key, GROUPING({key}) = 1 AS is_total, "
            f"min(a.org_path) AS org_path, {_REACH_COLUMNS} AND {scope} "
            f"GROUP BY GROUPING SETS (({key}), ()) ORDER BY is_total, key",
            first,
            now,
            document_id,
            publication_id,
            since,
            until,
        )
    )
    # Grouping set () yields its row even over no audience at all.
    return [r for r in rows if not r["is_total"]], next(r for r in rows if r["is_total"])


# -- attendance ------------------------------------------------------------------------------

_MEETING_TALLIES = (
    "count(*) AS meetings_held, "
    "count(*) FILTER (WHERE kind = 'regular') AS regular_held, "
    "count(*) FILTER (WHERE kind = 'regular' AND "
    f"{_month('starts_at')} = {_month('scheduled_starts_at')}) AS regular_on_schedule, "
    "coalesce(sum(invited), 0) AS invited, coalesce(sum(present), 0) AS present, "
    "coalesce(sum(late), 0) AS late, coalesce(sum(absent_excused), 0) AS absent_excused, "
    "coalesce(sum(absent_unexcused), 0) AS absent_unexcused, "
    "coalesce(sum(exempt), 0) AS exempt, "
    "count(*) FILTER (WHERE quorum_met) AS quorum_met "
)


async def attendance_by_org(
    conn: Connection, root: str, since: datetime, until: datetime
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {child_key('org_path')} AS key, {_month('starts_at')} AS month, "  # noqa: S608
            f"{_MEETING_TALLIES} FROM an_meetings WHERE status = 'closed' "
            f"AND {in_subtree('org_path', '$1')} AND starts_at >= $2 AND starts_at < $3 "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            root,
            since,
            until,
        )
    )


def attendance_by_member_sql(*, one_member: bool) -> str:
    """Per member and month over ``[$2, $3)``: for member ``$1`` or the subtree at ``$1``.
    Bounded by ``starts_at``, the partition key: it reads the asked months only."""
    scope = "f.member_id = $1" if one_member else in_subtree("f.org_path", "$1")
    return (
        f"SELECT f.member_id::text AS key, {_month('f.starts_at')} AS month, "  # noqa: S608
        "min(f.org_path) AS org_path, count(*) AS meetings_invited, "
        "count(*) FILTER (WHERE f.status = 'present') AS present, "
        "count(*) FILTER (WHERE f.status = 'late') AS late, "
        "count(*) FILTER (WHERE f.status = 'absent_excused') AS absent_excused, "
        "count(*) FILTER (WHERE f.status = 'absent_unexcused') AS absent_unexcused "
        f"FROM an_attendance_final f WHERE {scope} AND f.starts_at >= $2 "
        "AND f.starts_at < $3 GROUP BY 1, 2 ORDER BY 1, 2"
    )


async def attendance_by_member(
    conn: Connection,
    *,
    root: str | None,
    member_id: UUID | None,
    since: datetime,
    until: datetime,
) -> list[asyncpg.Record]:
    sql = attendance_by_member_sql(one_member=member_id is not None)
    first = member_id if member_id is not None else root
    return list(await conn.fetch(sql, first, since, until))


async def meetings(
    conn: Connection,
    *,
    root: str | None,
    member_id: UUID | None,
    since: datetime,
    until: datetime,
    limit: int | None,
) -> list[asyncpg.Record]:
    """At most ``limit`` meetings (None: all; the caller asks one more than it allows)."""
    first: object
    if member_id is not None:
        join = "JOIN an_attendance_final f ON f.meeting_id = m.meeting_id AND f.member_id = $1"
        scope, first, mine = "true", member_id, "f.status"
    else:
        join, scope, first, mine = "", in_subtree("m.org_path", "$1"), root, "NULL::text"
    return list(
        await conn.fetch(
            "SELECT m.meeting_id, m.org_id, m.org_path, o.title AS org_title, m.kind, "  # noqa: S608
            "m.starts_at, m.scheduled_starts_at, m.invited, m.present, m.late, m.absent_excused, "
            f"m.absent_unexcused, m.exempt, m.quorum_met, {mine} AS my_status "
            f"FROM an_meetings m {join} LEFT JOIN idp_orgs o ON o.org_id = m.org_id "
            f"WHERE m.status = 'closed' AND {scope} AND m.starts_at >= $2 AND m.starts_at < $3 "
            "ORDER BY m.starts_at, m.meeting_id LIMIT $4",
            first,
            since,
            until,
            limit,
        )
    )


# -- adoption --------------------------------------------------------------------------------


async def adoption_members(
    conn: Connection,
    *,
    root: str | None,
    member_id: UUID | None,
    by_member: bool,
    active_since: datetime,
) -> list[asyncpg.Record]:
    first: object
    if member_id is not None:
        key, scope, first = "m.member_id::text", "m.member_id = $1", member_id
    elif by_member:
        key, scope, first = "m.member_id::text", in_subtree("m.org_path", "$1"), root
    else:
        key, scope, first = child_key("m.org_path"), in_subtree("m.org_path", "$1"), root
    return list(
        await conn.fetch(
            f"SELECT {key} AS key, min(m.org_path) AS org_path, count(*) AS members, "  # noqa: S608
            "count(a.activated_at) AS activated, "
            "count(*) FILTER (WHERE a.last_active_at >= $2) AS active, "
            "min(a.activated_at) AS activated_at, max(a.last_active_at) AS last_active_at "
            "FROM idp_members m LEFT JOIN an_member_activity a USING (member_id) "
            f"WHERE {scope} AND m.status = ANY($3::text[]) GROUP BY 1 ORDER BY 1",
            first,
            active_since,
            list(ACTIVE_STATUSES),
        )
    )


async def adoption_orgs(
    conn: Connection, root: str, active_since: datetime
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {child_key('o.path')} AS key, count(*) AS orgs, "  # noqa: S608
            "count(*) FILTER (WHERE act.last_active_at >= $2) AS orgs_using "
            "FROM idp_orgs o LEFT JOIN an_org_activity act USING (org_id) "
            f"WHERE {in_subtree('o.path', '$1')} AND o.status <> 'closed' GROUP BY 1 ORDER BY 1",
            root,
            active_since,
        )
    )


# -- members lagging -------------------------------------------------------------------------


async def lagging(
    conn: Connection,
    *,
    root: str | None,
    member_id: UUID | None,
    since: datetime,
    until: datetime,
    now: datetime,
    min_unexcused: int,
    limit: int | None,
) -> list[asyncpg.Record]:
    """At most ``limit`` members (None: all; the caller asks one more than it allows)."""
    first: object
    if member_id is not None:
        scope, first, keep = "member_id = $1", member_id, "true"
    else:
        scope, first = in_subtree("org_path", "$1"), root
        keep = "coalesce(ab.unexcused, 0) >= $5 OR coalesce(od.overdue, 0) > 0"
    return list(
        await conn.fetch(
            "WITH ms AS (SELECT member_id, cell_id, org_path FROM idp_members "  # noqa: S608
            f"WHERE {scope} AND status = ANY($6::text[])), "
            "ab AS (SELECT f.member_id, count(*) AS meetings, "
            "count(*) FILTER (WHERE f.status = 'absent_unexcused') AS unexcused, "
            "count(*) FILTER (WHERE f.status = 'absent_excused') AS excused "
            "FROM an_attendance_final f JOIN ms USING (member_id) "
            "WHERE f.starts_at >= $2 AND f.starts_at < $3 GROUP BY f.member_id), "
            f"od AS (SELECT a.member_id, count(*) AS overdue FROM {AUDIENCE} a "
            "JOIN ms USING (member_id) JOIN an_publications p USING (publication_id) "
            # By the whole key, as in the reach report (_REACH_COLUMNS says why).
            "LEFT JOIN LATERAL (SELECT r.studied_at FROM an_reads r "
            "WHERE r.document_id = p.document_id AND r.version = p.version "
            "AND r.member_id = a.member_id LIMIT 1) r ON true "
            "WHERE p.retracted_at IS NULL AND p.study_required AND p.study_deadline < $4 "
            "AND r.studied_at IS NULL GROUP BY a.member_id) "
            "SELECT ms.member_id::text AS key, ms.cell_id, ms.org_path, "
            "coalesce(ab.meetings, 0) AS meetings_invited, "
            "coalesce(ab.unexcused, 0) AS absent_unexcused, "
            "coalesce(ab.excused, 0) AS absent_excused, coalesce(od.overdue, 0) AS overdue "
            "FROM ms LEFT JOIN ab USING (member_id) LEFT JOIN od USING (member_id) "
            f"WHERE ($5::int IS NOT NULL) AND ({keep}) "
            "ORDER BY absent_unexcused DESC, overdue DESC, key LIMIT $7",
            first,
            since,
            until,
            now,
            min_unexcused,
            list(ACTIVE_STATUSES),
            limit,
        )
    )


async def document_name(
    conn: Connection, document_id: UUID | None, publication_id: UUID | None
) -> asyncpg.Record | None:
    """Number, title and classification of the document (or of a publication's document),
    from documents' directory; None when unknown."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT d.number, d.title, d.classification FROM an_document_names d "
        "WHERE d.document_id = coalesce($1, (SELECT p.document_id FROM an_publications p "
        "WHERE p.publication_id = $2))",
        document_id,
        publication_id,
    )
    return row


async def grades_by_org(conn: Connection, root: str, year: int) -> list[asyncpg.Record]:
    """Graded members per grade in ``year``, per child of ``root`` (the cell itself at a cell)."""
    return list(
        await conn.fetch(
            f"SELECT {child_key('org_path')} AS key, count(*) AS cells, "  # noqa: S608
            "sum(excellent) AS excellent, sum(good) AS good, sum(complete) AS complete, "
            "sum(incomplete) AS incomplete FROM an_grades "
            f"WHERE {in_subtree('org_path', '$1')} AND year = $2 GROUP BY 1 ORDER BY 1",
            root,
            year,
        )
    )


async def projecting(
    conn: Connection,
    *,
    path: str | None,
    document_id: UUID | None,
    publication_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
) -> int:
    """Publications a reach report covers whose audience is partial: the identity
    projection does not hold all of its members yet. (One whose audience is being written in
    the background is read whole from the membership history meanwhile: see AUDIENCE.)"""
    n: int = await conn.fetchval(
        "SELECT count(*) FROM an_publications p WHERE NOT p.audience_complete "
        "AND NOT EXISTS (SELECT 1 FROM an_audience_jobs j "
        "WHERE j.publication_id = p.publication_id) "
        "AND p.retracted_at IS NULL "
        "AND ($2::uuid IS NULL OR p.document_id = $2) "
        "AND ($3::uuid IS NULL OR p.publication_id = $3) "
        "AND ($4::timestamptz IS NULL OR p.published_at >= $4) "
        "AND ($5::timestamptz IS NULL OR p.published_at < $5) "
        "AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM unnest(p.audience_paths) AS a "
        "WHERE a = $1 OR $1 LIKE a || '.%' OR a LIKE $1 || '.%'))",
        path,
        document_id,
        publication_id,
        since,
        until,
    )
    return n
