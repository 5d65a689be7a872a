"""Every SQL statement of news."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.ids import new_id

Row = asyncpg.Record

_REACHES = (
    "(n.org_paths && $1::text[] OR EXISTS (SELECT 1 FROM unnest(n.org_paths) AS a(p), "
    "unnest($2::text[]) AS r(p) WHERE a.p = r.p OR a.p LIKE r.p || '.%'))"
)


async def insert(
    conn: Connection,
    *,
    title: str,
    body: str,
    org_ids: list[uuid.UUID],
    org_paths: list[str],
    published_by: uuid.UUID,
    publisher_org_path: str,
    at: datetime,
) -> Row:
    """The news item as stored (a new id)."""
    row = await conn.fetchrow(
        "INSERT INTO news (id, title, body, org_ids, org_paths, published_by, "
        "publisher_org_path, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "RETURNING id, title, body, org_ids, published_at",
        new_id(),
        title,
        body,
        org_ids,
        org_paths,
        published_by,
        publisher_org_path,
        at,
    )
    assert row is not None  # an INSERT … RETURNING returns its row
    return row


async def visible(
    conn: Connection,
    ancestors: list[str],
    roots: list[str],
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM news n WHERE n.retracted_at IS NULL AND "  # noqa: S608
        f"{_REACHES} AND ($3::timestamptz IS NULL OR (n.published_at, n.id) < ($3, $4::uuid)) "
        "ORDER BY n.published_at DESC, n.id DESC LIMIT $5",
        ancestors,
        roots,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def get_visible(
    conn: Connection, news_id: uuid.UUID, ancestors: list[str], roots: list[str]
) -> Row | None:
    return await conn.fetchrow(
        f"SELECT * FROM news n WHERE n.id = $3 AND n.retracted_at IS NULL AND {_REACHES}",  # noqa: S608
        ancestors,
        roots,
        news_id,
    )


async def retract(conn: Connection, news_id: uuid.UUID) -> None:
    await conn.execute("UPDATE news SET retracted_at = now() WHERE id = $1", news_id)
