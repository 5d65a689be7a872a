"""Use cases of the handbook (nghiệp vụ công tác Đảng): search and read. Every signed-in member
may read the whole handbook."""

from __future__ import annotations

import re
from typing import Any

from sotay_kit.auth import Principal
from sotay_kit.db import Connection
from sotay_kit.errors import NotFound
from sotay_kit.pagination import Page, decode_keyset, encode_cursor, key_number

from .. import search
from . import repository as repo
from .schemas import ArticleOut, ArticleSummary, CategoryOut

_MARKUP = re.compile(r"[#>*_`\[\]|]+")


def excerpt(markdown: str, size: int = 240) -> str:
    text = " ".join(_MARKUP.sub(" ", markdown).split())
    return text if len(text) <= size else text[: size - 1].rsplit(" ", 1)[0] + "…"


def _after(raw: Any) -> tuple[float | None, str]:
    """(rank or None when not searching, slug)."""
    rank, slug = raw
    if not isinstance(raw, list) or not isinstance(slug, str):
        raise TypeError(raw)
    return (None if rank is None else key_number(rank)), slug


async def list_articles(
    conn: Connection,
    who: Principal,
    *,
    q: str | None,
    category: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ArticleSummary]:
    tsq = search.tsquery(q)
    after = decode_keyset(cursor, _after)
    rows = await repo.search(conn, tsquery=tsq, category=category, after=after, limit=limit + 1)
    items = [
        ArticleSummary(
            slug=r["slug"],
            title=r["title"],
            category=r["category"],
            excerpt=excerpt(r["head"]),
            updated_at=r["updated_at"],
            rank=r["sort_key"],
        )
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last["sort_key"], last["slug"]])
    return Page(items=items, next_cursor=next_cursor)


async def get_article(conn: Connection, who: Principal, slug: str) -> ArticleOut:
    row = await repo.get(conn, slug)
    if row is None:
        raise NotFound("Không tìm thấy bài viết")
    return ArticleOut(**dict(row))


async def categories(conn: Connection, who: Principal) -> list[CategoryOut]:
    return [CategoryOut(**dict(r)) for r in await repo.categories(conn)]
