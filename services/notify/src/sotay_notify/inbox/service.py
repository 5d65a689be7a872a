"""Inbox use cases. A member reaches only their own notifications: every query is scoped to
the caller's member id, so another member's notification is simply not found (404)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

from sotay_kit.auth import Principal
from sotay_kit.clock import utc_now
from sotay_kit.db import Connection, Pool
from sotay_kit.pagination import decode_keyset, encode_cursor, key_int

from .. import metrics
from ..events import repository as fanouts
from ..hub import Hub
from ..problems import NotificationNotFound
from ..settings import NotifySettings
from . import repository as repo
from .schemas import InboxPage, NotificationOut, ReadAllOut

log = logging.getLogger("sotay.notify.inbox")

REPLAY_BATCH = 200
MAX_SEQ = 2**63 - 1  # seq is a bigint


def _seq(value: Any) -> int:
    seq = key_int(value)
    if not 0 <= seq <= MAX_SEQ:
        raise ValueError(seq)
    return seq


def _cursor(cursor: str | None) -> int | None:
    return decode_keyset(cursor, _seq)


async def _catch_up(conn: Connection, member_id: UUID, now: datetime) -> None:
    """Before reading a member's inbox: their notifications of the fan-outs in flight that
    the worker has not reached yet (docs/notify.md, "Large audiences")."""
    for cause_type, n in (await fanouts.write_pending_fanouts(conn, member_id, now)).items():
        metrics.NOTIFICATIONS_CREATED.labels(cause_type).inc(n)


async def list_inbox(
    conn: Connection,
    who: Principal,
    *,
    unread: bool,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> InboxPage:
    await _catch_up(conn, who.member_id, now)
    rows = await repo.page(
        conn, who.member_id, before=_cursor(cursor), unread=unread, limit=limit + 1
    )
    items = [NotificationOut.model_validate(dict(r)) for r in rows[:limit]]
    next_cursor = encode_cursor(items[-1].seq) if len(rows) > limit else None
    return InboxPage(
        items=items,
        next_cursor=next_cursor,
        unread_count=await repo.unread_count(conn, who.member_id),
    )


async def mark_read(
    conn: Connection, who: Principal, notification_id: UUID, now: datetime
) -> NotificationOut:
    row = await repo.mark_read(conn, who.member_id, notification_id, now)
    if row is None:
        raise NotificationNotFound("Không tìm thấy thông báo")
    return NotificationOut.model_validate(dict(row))


async def mark_all_read(conn: Connection, who: Principal, now: datetime) -> ReadAllOut:
    await _catch_up(conn, who.member_id, now)
    marked = await repo.mark_all_read(conn, who.member_id, now)
    return ReadAllOut(marked=marked, unread_count=0)


def _event(n: NotificationOut) -> str:
    data = json.dumps(n.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
    return f"id: {n.seq}\nevent: notification\ndata: {data}\n\n"


async def stream(
    pool: Pool,
    hub: Hub,
    settings: NotifySettings,
    member_id: UUID,
    last_event_id: int | None,
    expires_at: float,
) -> AsyncIterator[str]:
    """Server-Sent Events of one member: what came after ``last_event_id`` (or, without one,
    only what comes from now on), then live notifications as they commit; a comment every
    ``sse_heartbeat_seconds``; ends when the access token expires (the client reconnects with
    a fresh token and its Last-Event-ID)."""
    metrics.SSE_STREAMS.inc()
    try:
        with hub.subscribe(member_id) as wake:
            async with pool.acquire() as conn, conn.transaction():
                await _catch_up(conn, member_id, utc_now())
                cursor = (
                    last_event_id
                    if last_event_id is not None
                    else await repo.last_seq(conn, member_id)
                )
                unread = await repo.unread_count(conn, member_id)
            yield f"retry: {settings.sse_retry_ms}\n\n"
            ready = json.dumps({"seq": cursor, "unread_count": unread})
            yield f"event: ready\ndata: {ready}\n\n"
            while True:
                wake.clear()
                async with pool.acquire() as conn, conn.transaction():
                    await _catch_up(conn, member_id, utc_now())
                while True:
                    async with pool.acquire() as conn:
                        rows = await repo.after(conn, member_id, cursor, REPLAY_BATCH)
                    for r in rows:
                        n = NotificationOut.model_validate(dict(r))
                        cursor = n.seq
                        yield _event(n)
                    if len(rows) < REPLAY_BATCH:
                        break
                remaining = expires_at - time.time()
                if remaining <= 0:
                    yield "event: reauth\ndata: {}\n\n"
                    return
                try:
                    await asyncio.wait_for(
                        wake.wait(), timeout=min(settings.sse_heartbeat_seconds, remaining)
                    )
                except TimeoutError:
                    yield ": ping\n\n"
    finally:
        metrics.SSE_STREAMS.dec()
