"""SQL of role grants. A grant names an org node; its path is read from ``org_units`` so it
follows the node when a subtree moves."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from sotay_kit.db import Connection

_SELECT = """
SELECT g.id, g.member_id, g.role, g.org_id, o.path AS org_path, g.granted_by, g.granted_at,
       g.revoked_by, g.revoked_at, m.full_name
FROM role_grants g JOIN org_units o ON o.id = g.org_id JOIN members m ON m.id = g.member_id
"""


async def get(conn: Connection, grant_id: UUID, *, lock: bool = False) -> asyncpg.Record | None:
    sql = _SELECT + " WHERE g.id = $1" + (" FOR UPDATE OF g" if lock else "")
    return await conn.fetchrow(sql, grant_id)


async def insert(
    conn: Connection,
    grant_id: UUID,
    member_id: UUID,
    role: str,
    org_id: UUID,
    granted_by: UUID | None,
) -> asyncpg.Record | None:
    """The new grant, or None when the member already holds this role on this node.
    ``granted_by`` is None for a grant nobody made through the API (the demo province's)."""
    inserted = await conn.fetchval(
        "INSERT INTO role_grants (id, member_id, role, org_id, granted_by) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (member_id, role, org_id) "
        "WHERE revoked_at IS NULL DO NOTHING RETURNING id",
        grant_id,
        member_id,
        role,
        org_id,
        granted_by,
    )
    if inserted is None:
        return None
    return await get(conn, grant_id)


async def revoke(
    conn: Connection, grant_ids: list[UUID], revoked_by: UUID | None
) -> list[asyncpg.Record]:
    """Revoke the still-active grants among ``grant_ids``; returns those revoked."""
    if not grant_ids:
        return []
    revoked = await conn.fetch(
        "UPDATE role_grants SET revoked_at = now(), revoked_by = $2 "
        "WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL RETURNING id",
        grant_ids,
        revoked_by,
    )
    if not revoked:
        return []
    return await conn.fetch(
        _SELECT + " WHERE g.id = ANY($1::uuid[]) ORDER BY g.id", [r["id"] for r in revoked]
    )


async def active_for_member(conn: Connection, member_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        _SELECT + " WHERE g.member_id = $1 AND g.revoked_at IS NULL ORDER BY g.id", member_id
    )


async def active_on_org(conn: Connection, org_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        _SELECT + " WHERE g.org_id = $1 AND g.revoked_at IS NULL ORDER BY g.id", org_id
    )


async def active_in_subtree(
    conn: Connection,
    path: str,
    *,
    role: str | None,
    member_id: UUID | None,
    after: UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        _SELECT
        + """
        WHERE g.revoked_at IS NULL AND (o.path = $1 OR o.path LIKE $1 || '.%')
          AND ($2::text IS NULL OR g.role = $2)
          AND ($3::uuid IS NULL OR g.member_id = $3)
          AND ($4::uuid IS NULL OR g.id > $4)
        ORDER BY g.id LIMIT $5
        """,
        path,
        role,
        member_id,
        after,
        limit,
    )


async def cell_officers(conn: Connection, org_id: UUID) -> list[asyncpg.Record]:
    """The active secretaries and deputies of a cell: found by role, not by a member flag."""
    return await conn.fetch(
        _SELECT + " WHERE g.org_id = $1 AND g.revoked_at IS NULL "
        "AND g.role IN ('cell_secretary', 'cell_deputy') ORDER BY g.role DESC, m.full_name, g.id",
        org_id,
    )
