"""HTTP routes of study tracking (under ``/api/v1/documents``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import NotFound, problem_responses
from sotay_kit.pagination import Cursor, Limit, Page

from ..deps import Now
from . import service
from .schemas import ProgressIn, ProgressOut, Status, StudyReport, ToStudyItem

router = APIRouter(prefix="/api/v1/documents", tags=["study"])


@router.get("/to-study", response_model=Page[ToStudyItem])
async def to_study(
    who: CurrentPrincipal, conn: DbConnection, now: Now, limit: Limit = 50, cursor: Cursor = None
) -> Page[ToStudyItem]:
    """Văn bản tôi phải học tập mà chưa học xong, hạn gần nhất trước (không có hạn ở cuối)."""
    return await service.to_study(conn, who, limit=limit, cursor=cursor, now=now)


@router.post(
    "/{document_id}/reads", response_model=ProgressOut, responses=problem_responses(NotFound)
)
async def post_progress(
    document_id: UUID, body: ProgressIn, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> ProgressOut:
    """Ghi nhận tiến độ đọc / đã học của chính tôi."""
    return await service.post_progress(conn, who, document_id, body, now=now)


@router.get(
    "/{document_id}/reads", response_model=StudyReport, responses=problem_responses(NotFound)
)
async def study_report(
    document_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    org_id: Annotated[UUID, Query(description="Tổ chức (trong phạm vi của bạn) cần xem")],
    version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    status: Status | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> StudyReport:
    """Từng đảng viên của tổ chức: chưa mở / đã mở / đã học / quá hạn."""
    return await service.report(
        conn, who, document_id, org_id, version=version, status=status, limit=limit, cursor=cursor
    )
