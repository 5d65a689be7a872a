"""Use cases of news: publish down the tree (inside the publisher's subtrees), read what
reaches me, retract (only the publishing committee: a publisher of the narrowest org whose
grant covered every target, as for documents — a cell secretary cannot retract province news
sent to their cell)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sotay_kit.auth import Principal
from sotay_kit.db import Connection
from sotay_kit.errors import Forbidden, NotFound
from sotay_kit.pagination import Page, decode_keyset, encode_cursor, key_time, key_uuid

from ..access import PUBLISHER_ROLES, Scope
from ..library.service import addressees
from . import repository as repo
from .schemas import NewsIn, NewsOut

NEWS_NOT_FOUND = "Không tìm thấy tin"


def _out(r: Any) -> NewsOut:
    return NewsOut.model_validate(dict(r))


async def publish(conn: Connection, who: Principal, body: NewsIn, *, now: datetime) -> NewsOut:
    if not Scope.of(who).is_publisher:
        raise Forbidden("Bạn không có quyền đăng tin")
    to = await addressees(conn, who, body.org_ids, separately="hãy đăng riêng")
    row = await repo.insert(
        conn,
        title=body.title,
        body=body.body,
        org_ids=to.org_ids,
        org_paths=to.paths,
        published_by=who.member_id,
        publisher_org_path=to.publisher_path,
        at=now,
    )
    return _out(row)


async def list_news(
    conn: Connection, who: Principal, *, limit: int, cursor: str | None
) -> Page[NewsOut]:
    scope = Scope.of(who)
    after = decode_keyset(cursor, lambda raw: (key_time(raw[0]), key_uuid(raw[1])))
    rows = await repo.visible(
        conn, scope.ancestors, scope.publisher_roots, after=after, limit=limit + 1
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last["published_at"].isoformat(), str(last["id"])])
    return Page(items=[_out(r) for r in rows[:limit]], next_cursor=next_cursor)


async def get_news(conn: Connection, who: Principal, news_id: uuid.UUID) -> NewsOut:
    scope = Scope.of(who)
    row = await repo.get_visible(conn, news_id, scope.ancestors, scope.publisher_roots)
    if row is None:
        raise NotFound(NEWS_NOT_FOUND)
    return _out(row)


async def retract(conn: Connection, who: Principal, news_id: uuid.UUID) -> None:
    scope = Scope.of(who)
    row = await repo.get_visible(conn, news_id, scope.ancestors, scope.publisher_roots)
    if row is None:
        raise NotFound(NEWS_NOT_FOUND)
    if not who.can(PUBLISHER_ROLES, row["publisher_org_path"]):
        raise Forbidden("Chỉ cấp đã đăng tin mới được thu hồi tin này")
    await repo.retract(conn, news_id)
