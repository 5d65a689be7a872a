"""HTTP routes of the inbox: ``/api/v1/inbox`` (list with unread count, mark read, mark all
read) and ``/api/v1/inbox/stream`` (Server-Sent Events).

The stream needs the access token like every other endpoint, in the ``Authorization``
header: browsers' ``EventSource`` cannot send headers, so web clients read the stream with
``fetch()`` (e.g. the ``@microsoft/fetch-event-source`` package) — tokens never go in URLs,
which end up in access logs. See docs/notify.md.
"""

from __future__ import annotations

import time
from typing import Annotated
from uuid import UUID

import jwt
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal, bearer_token
from sotay_kit.errors import BadRequest, problem_responses
from sotay_kit.pagination import Cursor, Limit

from ..deps import Now, Settings, State
from ..problems import NotificationNotFound
from . import service
from .schemas import InboxPage, NotificationOut, ReadAllOut

router = APIRouter(prefix="/api/v1/inbox", tags=["inbox"])

NO_STORE = {"Cache-Control": "no-store"}


@router.get("", response_model=InboxPage)
async def list_inbox(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    limit: Limit = 50,
    cursor: Cursor = None,
    unread: Annotated[bool, Query(description="Chỉ thông báo chưa đọc")] = False,
) -> InboxPage:
    """Thông báo của tôi, mới nhất trước, kèm số thông báo chưa đọc."""
    return await service.list_inbox(conn, who, unread=unread, limit=limit, cursor=cursor, now=now)


@router.post("/read-all", response_model=ReadAllOut)
async def read_all(who: CurrentPrincipal, conn: DbConnection, now: Now) -> ReadAllOut:
    """Đánh dấu tất cả thông báo của tôi là đã đọc."""
    return await service.mark_all_read(conn, who, now)


@router.post(
    "/{notification_id}/read",
    response_model=NotificationOut,
    responses=problem_responses(NotificationNotFound),
)
async def read_one(
    notification_id: UUID, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> NotificationOut:
    """Đánh dấu một thông báo là đã đọc (chỉ thông báo của chính mình)."""
    return await service.mark_read(conn, who, notification_id, now)


def _last_event_id(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit() or len(text) > 18:
        raise BadRequest("Last-Event-ID phải là số thứ tự thông báo")
    return int(text)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **problem_responses(BadRequest)},
)
async def stream(
    request: Request,
    who: CurrentPrincipal,
    state: State,
    settings: Settings,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> StreamingResponse:
    """Luồng thông báo trực tiếp (Server-Sent Events) của tôi. Gửi lại ``Last-Event-ID`` khi
    kết nối lại để nhận những thông báo đã lỡ. Mã truy cập gửi trong header Authorization."""
    after = _last_event_id(last_event_id)
    claims = jwt.decode(bearer_token(request), options={"verify_signature": False})
    expires_at = float(claims.get("exp", time.time() + 600))
    return StreamingResponse(
        service.stream(state.pool, state.hub, settings, who.member_id, after, expires_at),
        media_type="text/event-stream",
        headers={**NO_STORE, "X-Accel-Buffering": "no"},
    )
