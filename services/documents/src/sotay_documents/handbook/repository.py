"""Every SQL statement of the handbook."""

from __future__ import annotations

import asyncpg
from sotay_kit.db import Connection

from ..search import search_text

Row = asyncpg.Record


async def upsert(
    conn: Connection, *, slug: str, title: str, category: str, body: str, content_hash: str
) -> int:
    status = await conn.execute(
        "INSERT INTO handbook_articles (slug, title, category, body, content_hash, search_title, "
        "search_text) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (slug) DO UPDATE SET title = excluded.title, category = excluded.category, "
        "body = excluded.body, content_hash = excluded.content_hash, "
        "search_title = excluded.search_title, search_text = excluded.search_text, "
        "updated_at = now() WHERE handbook_articles.content_hash <> excluded.content_hash",
        slug,
        title,
        category,
        body,
        content_hash,
        search_text(title),
        search_text(title, category, body),
    )
    return 0 if status.endswith(" 0") else 1


async def search(
    conn: Connection,
    *,
    tsquery: str | None,
    category: str | None,
    after: tuple[float | None, str] | None,
    limit: int,
) -> list[Row]:
    if tsquery is not None:
        sort = "ts_rank_cd(search_tsv, to_tsquery('simple', $1), 1)::float8"
        match = "search_tsv @@ to_tsquery('simple', $1)"
        order = "sort_key DESC, slug"
        page = (
            "($4::float8 IS NULL OR sort_key < $4::float8 "
            "OR (sort_key = $4::float8 AND slug > $5::text))"
        )
    else:
        sort = "NULL::float8"
        match = "($1::text IS NULL)"
        order = "category, title, slug"
        page = (
            "$4::float8 IS NULL AND ($5::text IS NULL OR (category, title, slug) > "
            "(SELECT category, title, slug FROM handbook_articles WHERE slug = $5))"
        )
    return await conn.fetch(
        f"SELECT * FROM (SELECT slug, title, category, left(body, 400) AS head, updated_at, "  # noqa: S608
        f"{sort} AS sort_key FROM handbook_articles WHERE {match} "
        "AND ($2::text IS NULL OR category = $2)) s "
        f"WHERE {page} ORDER BY {order} LIMIT $3",
        tsquery,
        category,
        limit,
        after[0] if after and tsquery is not None else None,
        after[1] if after else None,
    )


async def get(conn: Connection, slug: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT slug, title, category, body, updated_at FROM handbook_articles WHERE slug = $1",
        slug,
    )


async def categories(conn: Connection) -> list[Row]:
    return await conn.fetch(
        "SELECT category, count(*) AS articles FROM handbook_articles GROUP BY category "
        "ORDER BY category"
    )
