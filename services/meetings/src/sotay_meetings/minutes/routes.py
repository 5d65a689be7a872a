"""HTTP routes of the minutes: ``/api/v1/meetings/{id}/minutes`` (read, edit, sign,
download)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sotay_kit.app import DbConnection, SourceAddress
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Forbidden, problem_responses

from ..deps import Now
from ..problems import (
    MeetingCancelled,
    MeetingNotClosed,
    MeetingNotFound,
    MinutesChanged,
    MinutesNotFound,
    MinutesSigned,
)
from . import service
from .schemas import MinutesIn, MinutesOut, MinutesSignIn

router = APIRouter(prefix="/api/v1/meetings/{meeting_id}/minutes", tags=["minutes"])


@router.get(
    "",
    response_model=MinutesOut,
    responses=problem_responses(MeetingNotFound, MeetingCancelled, MinutesNotFound),
)
async def read_minutes(meeting_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> MinutesOut:
    """Biên bản đã lưu, hoặc bản nháp sinh từ cuộc họp (Markdown) khi chưa ai sửa."""
    return await service.read(conn, who, meeting_id)


@router.put(
    "",
    response_model=MinutesOut,
    responses=problem_responses(MeetingNotFound, MeetingCancelled, Forbidden, MinutesSigned),
)
async def edit_minutes(
    meeting_id: UUID, body: MinutesIn, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> MinutesOut:
    return await service.edit(conn, who, meeting_id, body, now=now)


@router.post(
    "/sign",
    response_model=MinutesOut,
    responses=problem_responses(
        MeetingNotFound,
        MeetingCancelled,
        Forbidden,
        MeetingNotClosed,
        MinutesSigned,
        MinutesChanged,
    ),
)
async def sign_minutes(
    meeting_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
    body: MinutesSignIn | None = None,
) -> MinutesOut:
    """Ký biên bản: nội dung được khóa (lưu SHA-256), mọi thay đổi sau đó bị từ chối."""
    return await service.sign(
        conn, who, meeting_id, body or MinutesSignIn(), now=now, source=source
    )


@router.get(
    "/download", responses=problem_responses(MeetingNotFound, MeetingCancelled, MinutesNotFound)
)
async def download_minutes(
    meeting_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    format: Annotated[Literal["docx", "pdf", "md"], Query()] = "docx",
) -> Response:
    body, media, filename = await service.download(conn, who, meeting_id, format)
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
