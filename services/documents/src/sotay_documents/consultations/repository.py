"""Every SQL statement of consultations (asyncpg, no ORM)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg
from sotay_kit.db import Connection

Row = asyncpg.Record

_C = (
    "SELECT c.*, d.title AS document_title, d.number AS document_number, "
    "d.classification, o.title AS org_title FROM consultations c "
    "JOIN documents d ON d.id = c.document_id LEFT JOIN idp_orgs o ON o.org_id = c.org_id "
)


async def insert(
    conn: Connection,
    *,
    consultation_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
    title: str,
    purpose: str | None,
    org_id: uuid.UUID,
    org_path: str,
    committee_org_path: str,
    sections: list[dict[str, str]],
    deadline: datetime,
    opened_by: uuid.UUID,
    opened_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO consultations (id, document_id, version, title, purpose, org_id, org_path, "
        "committee_org_path, sections, deadline, opened_by, opened_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)",
        consultation_id,
        document_id,
        version,
        title,
        purpose,
        org_id,
        org_path,
        committee_org_path,
        sections,
        deadline,
        opened_by,
        opened_at,
    )


Lock = Literal["update", "share"] | None


async def get(conn: Connection, consultation_id: uuid.UUID, *, lock: Lock = None) -> Row | None:
    """``lock="update"`` to close it; ``lock="share"`` for a comment operation, which only needs
    the consultation not to close under it (comments on one consultation do not wait for each
    other)."""
    if lock == "update":
        await conn.execute("SELECT 1 FROM consultations WHERE id = $1 FOR UPDATE", consultation_id)
    elif lock == "share":
        await conn.execute("SELECT 1 FROM consultations WHERE id = $1 FOR SHARE", consultation_id)
    return await conn.fetchrow(_C + "WHERE c.id = $1", consultation_id)


async def visible(
    conn: Connection, ancestors: list[str], manager_roots: list[str], limit: int
) -> list[Row]:
    """Consultations addressed to a node on the caller's path, or run by a committee inside
    the caller's publishing subtrees; open ones first, by deadline."""
    return await conn.fetch(
        _C  # noqa: S608 - fixed SQL fragments
        + "WHERE c.org_path = ANY($1::text[]) OR EXISTS (SELECT 1 FROM unnest($2::text[]) "
        "AS r(p) WHERE c.committee_org_path = r.p OR c.committee_org_path LIKE r.p || '.%') "
        "ORDER BY (c.closed_at IS NULL) DESC, c.deadline DESC, c.id LIMIT $3",
        ancestors,
        manager_roots,
        limit,
    )


async def close(
    conn: Connection, consultation_id: uuid.UUID, closed_by: uuid.UUID, at: datetime
) -> None:
    await conn.execute(
        "UPDATE consultations SET closed_by = $2, closed_at = $3 WHERE id = $1",
        consultation_id,
        closed_by,
        at,
    )


async def audience_size(conn: Connection, path: str, statuses: tuple[str, ...]) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM idp_members WHERE status = ANY($2::text[]) "
        "AND (org_path = $1 OR org_path LIKE $1 || '.%')",
        path,
        list(statuses),
    )
    return n


async def member(conn: Connection, member_id: uuid.UUID) -> Row | None:
    return await conn.fetchrow(
        "SELECT member_id, cell_id, org_path, status FROM idp_members WHERE member_id = $1",
        member_id,
    )


_COMMENT = "SELECT * FROM consultation_comments WHERE consultation_id = $1 AND id = $2"
_COMMENT_LOCKED = _COMMENT + " FOR UPDATE"

# -- comments ------------------------------------------------------------------------------


async def insert_comment(
    conn: Connection,
    *,
    comment_id: uuid.UUID,
    consultation_id: uuid.UUID,
    member_id: uuid.UUID,
    cell_id: uuid.UUID,
    cell_path: str,
    section: str | None,
    body: str,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO consultation_comments (id, consultation_id, member_id, cell_id, cell_path, "
        "section, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        comment_id,
        consultation_id,
        member_id,
        cell_id,
        cell_path,
        section,
        body,
        at,
    )


async def comment(
    conn: Connection, consultation_id: uuid.UUID, comment_id: uuid.UUID, *, lock: bool = False
) -> Row | None:
    return await conn.fetchrow(
        _COMMENT_LOCKED if lock else _COMMENT,
        consultation_id,
        comment_id,
    )


async def my_comments(
    conn: Connection, consultation_id: uuid.UUID, member_id: uuid.UUID
) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM consultation_comments WHERE consultation_id = $1 AND member_id = $2 "
        "ORDER BY created_at, id",
        consultation_id,
        member_id,
    )


async def count_mine(
    conn: Connection, consultation_ids: list[uuid.UUID], member_id: uuid.UUID
) -> dict[uuid.UUID, int]:
    rows = await conn.fetch(
        "SELECT consultation_id, count(*) AS n FROM consultation_comments "
        "WHERE consultation_id = ANY($1::uuid[]) AND member_id = $2 GROUP BY consultation_id",
        consultation_ids,
        member_id,
    )
    return {r["consultation_id"]: r["n"] for r in rows}


async def count_all(conn: Connection, consultation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await conn.fetch(
        "SELECT consultation_id, count(*) AS n FROM consultation_comments "
        "WHERE consultation_id = ANY($1::uuid[]) GROUP BY consultation_id",
        consultation_ids,
    )
    return {r["consultation_id"]: r["n"] for r in rows}


async def edit_comment(conn: Connection, comment_id: uuid.UUID, body: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE consultation_comments SET body = $2, updated_at = $3 WHERE id = $1",
        comment_id,
        body,
        at,
    )


async def delete_comment(conn: Connection, comment_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM consultation_comments WHERE id = $1", comment_id)


async def respond(
    conn: Connection,
    comment_id: uuid.UUID,
    *,
    reply: str | None,
    disposition: str,
    reason: str | None,
    by: uuid.UUID,
    at: datetime,
) -> None:
    await conn.execute(
        "UPDATE consultation_comments SET reply = $2, disposition = $3, disposition_reason = $4, "
        "replied_by = $5, "
        "replied_at = CASE WHEN $2::text IS NULL THEN NULL ELSE $6::timestamptz END "
        "WHERE id = $1",
        comment_id,
        reply,
        disposition,
        reason,
        by,
        at,
    )


async def all_comments(
    conn: Connection,
    consultation_id: uuid.UUID,
    *,
    section: str | None = None,
    whole: bool = False,
    cell_id: uuid.UUID | None = None,
    comment_id: uuid.UUID | None = None,
) -> list[Row]:
    """Every comment (or the one ``comment_id``) with its author's display name and cell title
    (the committee's view)."""
    return await conn.fetch(
        "SELECT k.*, n.full_name, n.card_number, o.title AS cell_title "
        "FROM consultation_comments k LEFT JOIN idp_member_names n ON n.member_id = k.member_id "
        "LEFT JOIN idp_orgs o ON o.org_id = k.cell_id WHERE k.consultation_id = $1 "
        "AND ($2::text IS NULL OR k.section = $2) AND (NOT $3 OR k.section IS NULL) "
        "AND ($4::uuid IS NULL OR k.cell_id = $4) AND ($5::uuid IS NULL OR k.id = $5) "
        "ORDER BY k.created_at, k.id",
        consultation_id,
        section,
        whole,
        cell_id,
        comment_id,
    )


async def stats(conn: Connection, consultation_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        "SELECT count(*) AS total, count(DISTINCT member_id) AS members, "
        "count(DISTINCT cell_id) AS cells, "
        "count(*) FILTER (WHERE disposition = 'accepted') AS accepted, "
        "count(*) FILTER (WHERE disposition = 'rejected') AS rejected, "
        "count(*) FILTER (WHERE disposition = 'pending') AS pending "
        "FROM consultation_comments WHERE consultation_id = $1",
        consultation_id,
    )


async def by_section(conn: Connection, consultation_id: uuid.UUID) -> dict[str | None, int]:
    rows = await conn.fetch(
        "SELECT section, count(*) AS n FROM consultation_comments WHERE consultation_id = $1 "
        "GROUP BY section",
        consultation_id,
    )
    return {r["section"]: r["n"] for r in rows}


async def by_org(conn: Connection, consultation_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT k.cell_id, o.title AS cell_title, count(*) AS comments, "
        "count(DISTINCT k.member_id) AS members FROM consultation_comments k "
        "LEFT JOIN idp_orgs o ON o.org_id = k.cell_id WHERE k.consultation_id = $1 "
        "GROUP BY k.cell_id, o.title ORDER BY o.title NULLS LAST, k.cell_id",
        consultation_id,
    )


async def document_version(conn: Connection, document_id: uuid.UUID, version: int) -> Row | None:
    return await conn.fetchrow(
        "SELECT * FROM document_versions WHERE document_id = $1 AND version = $2",
        document_id,
        version,
    )
