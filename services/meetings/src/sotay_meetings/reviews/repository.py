"""Every SQL statement of the annual review (asyncpg, no ORM)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.orgs import CELL_KINDS

_PERIOD = (
    "p.id, p.org_id, p.org_path, p.year, p.self_deadline, p.excellent_share::float8 "
    "AS excellent_share, p.opened_at, o.title AS org_title"
)
_FROM_PERIOD = "FROM review_periods p LEFT JOIN idp_orgs o ON o.org_id = p.org_id"


async def org(conn: Connection, org_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT org_id, path, kind, title, status FROM idp_orgs WHERE org_id = $1", org_id
    )


async def org_by_path(conn: Connection, path: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT org_id, path, kind, title, status FROM idp_orgs WHERE path = $1 "
        "ORDER BY status = 'closed' LIMIT 1",
        path,
    )


async def member_path(conn: Connection, member_id: UUID) -> str | None:
    path: str | None = await conn.fetchval(
        "SELECT org_path FROM idp_members WHERE member_id = $1", member_id
    )
    return path


async def lock_year(conn: Connection, year: int) -> None:
    """Serialise the opening of periods of one year: two committees on one line of the tree
    checking for overlap at once would both find none."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('review_periods'), $1)", year)


async def overlapping(conn: Connection, org_path: str, year: int) -> bool:
    """A period of ``year`` on an ancestor, a descendant or the org itself."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM review_periods WHERE year = $2 AND (org_path = $1 "
        "OR $1 LIKE org_path || '.%' OR org_path LIKE $1 || '.%'))",
        org_path,
        year,
    )
    return found


async def insert_period(
    conn: Connection,
    *,
    period_id: UUID,
    org_id: UUID,
    org_path: str,
    year: int,
    self_deadline: datetime,
    excellent_share: float,
    opened_by: UUID,
    now: datetime,
) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO review_periods (id, org_id, org_path, year, self_deadline, excellent_share, "
        "opened_by, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (org_id, year) DO NOTHING RETURNING true",
        period_id,
        org_id,
        org_path,
        year,
        self_deadline,
        excellent_share,
        opened_by,
        now,
    )
    return bool(inserted)


async def period(conn: Connection, period_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_PERIOD} {_FROM_PERIOD} WHERE p.id = $1", period_id)


async def periods_over(conn: Connection, org_path: str) -> list[asyncpg.Record]:
    """Periods covering ``org_path`` (on it or an ancestor), newest year first."""
    return await conn.fetch(
        f"SELECT {_PERIOD} {_FROM_PERIOD} WHERE p.org_path = $1 OR $1 LIKE p.org_path || '.%' "
        "ORDER BY p.year DESC, p.opened_at DESC",
        org_path,
    )


async def periods_within(conn: Connection, roots: Sequence[str]) -> list[asyncpg.Record]:
    """Periods on or above or below any of ``roots`` (a staff member's subtrees)."""
    return await conn.fetch(
        f"SELECT {_PERIOD} {_FROM_PERIOD} WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) r "  # noqa: S608 - fixed fragments
        "WHERE p.org_path = r OR r LIKE p.org_path || '.%' OR p.org_path LIKE r || '.%') "
        "ORDER BY p.year DESC, p.org_path",
        list(roots),
    )


async def my_reviews(conn: Connection, member_id: UUID) -> dict[UUID, asyncpg.Record]:
    rows = await conn.fetch("SELECT * FROM member_reviews WHERE member_id = $1", member_id)
    return {r["period_id"]: r for r in rows}


async def review(
    conn: Connection, period_id: UUID, member_id: UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM member_reviews WHERE period_id = $1 AND member_id = $2"  # noqa: S608
        + (" FOR UPDATE" if lock else ""),
        period_id,
        member_id,
    )


async def ensure_review(
    conn: Connection, *, period_id: UUID, member_id: UUID, cell_id: UUID, cell_path: str
) -> None:
    """The member's review row, so that it can be locked before anything is decided on it."""
    await conn.execute(
        "INSERT INTO member_reviews (period_id, member_id, cell_id, cell_path) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        period_id,
        member_id,
        cell_id,
        cell_path,
    )


async def motion_status(conn: Connection, motion_id: UUID) -> str | None:
    status: str | None = await conn.fetchval("SELECT status FROM motions WHERE id = $1", motion_id)
    return status


async def save_self_assessment(
    conn: Connection,
    *,
    period_id: UUID,
    member_id: UUID,
    cell_id: UUID,
    cell_path: str,
    assessment: str,
    grade: str,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO member_reviews (period_id, member_id, cell_id, cell_path, self_assessment, "
        "self_grade, self_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (period_id, member_id) DO UPDATE SET self_assessment = excluded."
        "self_assessment, self_grade = excluded.self_grade, self_at = excluded.self_at, "
        "cell_id = excluded.cell_id, cell_path = excluded.cell_path",
        period_id,
        member_id,
        cell_id,
        cell_path,
        assessment,
        grade,
        now,
    )


async def cell_reviews(
    conn: Connection, period_id: UUID, cell_id: UUID, *, lock: bool = True
) -> list[asyncpg.Record]:
    """The cell's reviews; locked unless only read (a proposal or a decision reads them to
    write them)."""
    return await conn.fetch(
        "SELECT r.*, m.status AS motion_status FROM member_reviews r "  # noqa: S608 - fixed
        "LEFT JOIN motions m ON m.id = r.motion_id "
        "WHERE r.period_id = $1 AND r.cell_id = $2 ORDER BY r.member_id"
        + (" FOR UPDATE OF r" if lock else ""),
        period_id,
        cell_id,
    )


async def attach_motion(
    conn: Connection,
    *,
    period_id: UUID,
    member_id: UUID,
    motion_id: UUID,
) -> None:
    """The member's grading motion: a new vote replaces the result of an earlier one."""
    await conn.execute(
        "UPDATE member_reviews SET motion_id = $3, vote_totals = NULL, voted_grade = NULL "
        "WHERE period_id = $1 AND member_id = $2",
        period_id,
        member_id,
        motion_id,
    )


async def record_vote(
    conn: Connection, motion_id: UUID, totals: Sequence[int], voted_grade: str | None
) -> None:
    await conn.execute(
        "UPDATE member_reviews SET vote_totals = $2, voted_grade = $3 WHERE motion_id = $1",
        motion_id,
        list(totals),
        voted_grade,
    )


async def propose(
    conn: Connection, period_id: UUID, member_ids: Sequence[UUID], by: UUID, now: datetime
) -> None:
    await conn.execute(
        "UPDATE member_reviews SET proposed_grade = voted_grade, proposed_by = $3, "
        "proposed_at = $4 WHERE period_id = $1 AND member_id = ANY($2::uuid[])",
        period_id,
        list(member_ids),
        by,
        now,
    )


async def decide(
    conn: Connection,
    period_id: UUID,
    decisions: Sequence[tuple[UUID, str, str | None]],
    *,
    org_id: UUID,
    by: UUID,
    now: datetime,
) -> None:
    await conn.execute(
        "UPDATE member_reviews r SET final_grade = d.grade, final_reason = d.reason, "
        "decided_org_id = $5, decided_by = $6, decided_at = $7 "
        "FROM unnest($2::uuid[], $3::text[], $4::text[]) AS d(member_id, grade, reason) "
        "WHERE r.period_id = $1 AND r.member_id = d.member_id",
        period_id,
        [d[0] for d in decisions],
        [d[1] for d in decisions],
        [d[2] for d in decisions],
        org_id,
        by,
        now,
    )


async def progress(conn: Connection, period_id: UUID, root: str) -> list[asyncpg.Record]:
    """Per cell at or under ``root``: members on the roll and how far their reviews went."""
    return await conn.fetch(
        "SELECT o.org_id AS cell_id, o.title AS cell_title, o.path AS cell_path, "
        "(SELECT count(*) FROM idp_members m WHERE m.cell_id = o.org_id "
        " AND m.status = ANY('{active,exempt}'::text[])) AS members, "
        "count(r.self_at) AS submitted, count(r.voted_grade) AS voted, "
        "count(r.proposed_grade) AS proposed, count(r.final_grade) AS decided "
        "FROM idp_orgs o LEFT JOIN member_reviews r ON r.cell_id = o.org_id "
        "AND r.period_id = $1 "
        "WHERE (o.path = $2 OR o.path LIKE $2 || '.%') AND o.status <> 'closed' "
        "AND o.kind = ANY($3::text[]) GROUP BY o.org_id ORDER BY o.path",
        period_id,
        root,
        list(CELL_KINDS),
    )


async def grades_of(conn: Connection, member_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT r.period_id, p.year, r.final_grade, r.final_reason, r.decided_at "
        "FROM member_reviews r JOIN review_periods p ON p.id = r.period_id "
        "WHERE r.member_id = $1 AND r.final_grade IS NOT NULL ORDER BY p.year DESC",
        member_id,
    )
