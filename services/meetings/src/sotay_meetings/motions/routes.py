"""HTTP routes of motions: ``/api/v1/meetings/{id}/motions`` (list, open, vote, record the
show of hands, close)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Forbidden, problem_responses

from ..deps import Now, Settings
from ..problems import (
    OPEN_MEETING,
    AlreadyVoted,
    InvalidChoice,
    MeetingCancelled,
    MeetingNotFound,
    MeetingNotStarted,
    MotionClosed,
    MotionNotFound,
    TooManyBallots,
)
from . import service
from .schemas import HandsIn, MotionCreate, MotionOut, VoteIn

router = APIRouter(prefix="/api/v1/meetings/{meeting_id}/motions", tags=["motions"])

_MOTION = (MeetingNotFound, MotionNotFound, MotionClosed, Forbidden)


@router.get("", response_model=list[MotionOut], responses=problem_responses(MeetingNotFound))
async def list_motions(
    meeting_id: UUID, who: CurrentPrincipal, conn: DbConnection
) -> list[MotionOut]:
    """Các nội dung biểu quyết của cuộc họp. Bỏ phiếu kín: kết quả chỉ hiện khi đã kết thúc."""
    return await service.list_motions(conn, who, meeting_id)


@router.post(
    "",
    status_code=201,
    response_model=MotionOut,
    responses=problem_responses(*OPEN_MEETING, Forbidden, MeetingNotStarted),
)
async def open_motion(
    meeting_id: UUID,
    body: MotionCreate,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
) -> MotionOut:
    """Chủ trì đưa một nội dung ra biểu quyết (công khai hoặc bỏ phiếu kín)."""
    return await service.open_motion(conn, who, meeting_id, body, now=now, settings=settings)


@router.post(
    "/{motion_id}/votes",
    response_model=MotionOut,
    responses=problem_responses(*_MOTION, MeetingCancelled, AlreadyVoted, InvalidChoice),
)
async def vote(
    meeting_id: UUID, motion_id: UUID, body: VoteIn, who: CurrentPrincipal, conn: DbConnection
) -> MotionOut:
    """Biểu quyết một lần, chỉ khi đã điểm danh có mặt."""
    return await service.vote(conn, who, meeting_id, motion_id, body)


@router.put(
    "/{motion_id}/hands",
    response_model=MotionOut,
    responses=problem_responses(*_MOTION, InvalidChoice, TooManyBallots),
)
async def record_hands(
    meeting_id: UUID, motion_id: UUID, body: HandsIn, who: CurrentPrincipal, conn: DbConnection
) -> MotionOut:
    """Chủ trì ghi số giơ tay của từng phương án (đảng viên không dùng điện thoại)."""
    return await service.record_hands(conn, who, meeting_id, motion_id, body)


@router.post("/{motion_id}/close", response_model=MotionOut, responses=problem_responses(*_MOTION))
async def close_motion(
    meeting_id: UUID, motion_id: UUID, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> MotionOut:
    """Kết thúc biểu quyết: chốt kết quả (gửi sự kiện chỉ gồm các con số)."""
    return await service.close(conn, who, meeting_id, motion_id, now=now)
