"""HTTP routes of the member's record: ``/api/v1/members/{id}/record`` (read),
``/api/v1/members/{id}/distinctions`` (enter a reward or discipline decision) and
``/api/v1/me/record``."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Forbidden, NotFound, Unprocessable, problem_responses

from ..deps import Now, SourceAddress
from . import service
from .schemas import DistinctionIn, MemberRecord

router = APIRouter(tags=["records"])
_NO_STORE = {"Cache-Control": "no-store"}


@router.get(
    "/api/v1/me/record",
    response_model=MemberRecord,
    responses=problem_responses(NotFound),
)
async def my_record(who: CurrentPrincipal, conn: DbConnection) -> MemberRecord:
    """Lý lịch đảng viên của tôi: quá trình sinh hoạt, khen thưởng, kỷ luật."""
    return await service.read(conn, who, who.member_id)


@router.get(
    "/api/v1/members/{member_id}/record",
    response_model=MemberRecord,
    responses=problem_responses(Forbidden, NotFound),
)
async def member_record(member_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> MemberRecord:
    return await service.read(conn, who, member_id)


@router.post(
    "/api/v1/members/{member_id}/distinctions",
    status_code=201,
    response_model=MemberRecord,
    responses=problem_responses(Forbidden, NotFound, Unprocessable),
)
async def record_distinction(
    member_id: UUID,
    body: DistinctionIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
) -> MemberRecord:
    """Ghi quyết định khen thưởng hoặc kỷ luật (cấp có thẩm quyền; được ghi nhật ký kiểm toán)."""
    return await service.record_distinction(conn, who, member_id, body, now=now, source=source)
