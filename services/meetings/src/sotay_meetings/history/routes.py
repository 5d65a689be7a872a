"""HTTP route of the attendance history: ``GET /api/v1/meetings/attendance-history``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Unprocessable, problem_responses
from sotay_kit.pagination import Cursor, Limit

from ..deps import Now
from ..problems import OrgNotFound
from . import service
from .schemas import AttendanceHistory

router = APIRouter(prefix="/api/v1/meetings", tags=["meetings"])


@router.get(
    "/attendance-history",
    response_model=AttendanceHistory,
    responses=problem_responses(OrgNotFound, Unprocessable),
)
async def attendance_history(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    org_id: Annotated[UUID, Query(description="Chi bộ (trong phạm vi quản lý của bạn)")],
    months: Annotated[int, Query(ge=1, le=24, description="Số tháng gần nhất")] = 12,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> AttendanceHistory:
    """Từng đảng viên của chi bộ (hiện nay, hoặc có tên trong các cuộc họp đã kết thúc): số
    buổi có mặt, đến muộn, vắng có lý do, vắng không lý do trong ``months`` tháng gần nhất."""
    return await service.history(
        conn, who, org_id, months=months, now=now, limit=limit, cursor=cursor
    )
