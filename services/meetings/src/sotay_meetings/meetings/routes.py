"""HTTP routes of meetings: ``/api/v1/meetings`` (schedule, list, get, update, cancel, rsvp,
checkin-code, checkin, attendance, close, roster-labels)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Forbidden, Unprocessable, problem_responses
from sotay_kit.pagination import Cursor, Limit, Page

from ..deps import Now, Settings
from ..problems import (
    OPEN_MEETING,
    CodeExpired,
    CodeInvalid,
    InvalidPlan,
    MeetingNotFound,
    MeetingNotStarted,
    MemberExempt,
    NotInvited,
    OrgNotFound,
    OutsideWindow,
    RsvpClosed,
)
from . import service
from .schemas import (
    AttendanceMark,
    AttendanceOut,
    CheckinCodeOut,
    CheckinIn,
    MeetingCancel,
    MeetingCreate,
    MeetingOut,
    MeetingPatch,
    MeetingSummary,
    RosterLabels,
    RosterLabelsOut,
    RsvpIn,
    RsvpOut,
    ScheduledOut,
)

router = APIRouter(prefix="/api/v1/meetings", tags=["meetings"])

NO_STORE = {"Cache-Control": "no-store"}
Month = Annotated[str | None, Query(pattern=r"^(20\d\d|2100)-(0[1-9]|1[0-2])$")]


@router.post(
    "",
    response_model=ScheduledOut,
    status_code=201,
    responses=problem_responses(OrgNotFound, InvalidPlan),
)
async def schedule(
    body: MeetingCreate, who: CurrentPrincipal, conn: DbConnection, now: Now, settings: Settings
) -> ScheduledOut:
    """Lên lịch một cuộc họp, hoặc một chuỗi họp hằng tháng (``recurrence``): mỗi buổi là một
    cuộc họp riêng, cùng ``series_id``."""
    meetings = await service.schedule(conn, who, body, now=now, settings=settings)
    return ScheduledOut(meetings=meetings)


@router.get("", response_model=Page[MeetingSummary], responses=problem_responses(OrgNotFound))
async def list_meetings(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    limit: Limit = 50,
    cursor: Cursor = None,
    scope: Annotated[Literal["mine"] | None, Query()] = None,
    when: Annotated[Literal["upcoming", "past"], Query()] = "upcoming",
    org_id: Annotated[UUID | None, Query()] = None,
    month: Month = None,
) -> Page[MeetingSummary]:
    """``?scope=mine&when=upcoming|past``: các cuộc họp của tôi, kèm trả lời và điểm danh;
    ``?org_id=…&month=YYYY-MM``: các cuộc họp trong cây tổ chức theo tháng, kèm số liệu."""
    if scope == "mine" and org_id is None:
        return await service.list_mine(
            conn, who, upcoming=when == "upcoming", now=now, limit=limit, cursor=cursor
        )
    if scope is None and org_id is not None and month is not None:
        return await service.list_by_org(conn, who, org_id, month, limit=limit, cursor=cursor)
    raise Unprocessable("Cần scope=mine, hoặc org_id và month=YYYY-MM")


@router.get(
    "/{meeting_id}",
    response_model=MeetingOut,
    responses={
        304: {"description": "Không đổi từ lần trước (If-None-Match khớp ETag)"},
        **problem_responses(MeetingNotFound),
    },
)
async def get_meeting(
    meeting_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> MeetingOut | Response:
    """Một cuộc họp. Trả ``ETag``; hỏi lại với ``If-None-Match`` khi chưa có gì đổi thì nhận
    ``304`` không kèm nội dung (màn hình điều hành cuộc họp hỏi mỗi vài giây)."""
    etag = await service.tag(conn, who, meeting_id)
    headers = {"ETag": etag, "Cache-Control": "no-store"}
    if service.matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return await service.get(conn, who, meeting_id)


@router.patch(
    "/{meeting_id}",
    response_model=MeetingOut,
    responses=problem_responses(*OPEN_MEETING, Forbidden, InvalidPlan),
)
async def update_meeting(
    meeting_id: UUID, body: MeetingPatch, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> MeetingOut:
    """Sửa một cuộc họp (một buổi của chuỗi: các buổi khác giữ nguyên)."""
    return await service.update(conn, who, meeting_id, body, now=now)


@router.post(
    "/{meeting_id}/cancel",
    response_model=MeetingOut,
    responses=problem_responses(*OPEN_MEETING, Forbidden),
)
async def cancel_meeting(
    meeting_id: UUID, body: MeetingCancel, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> MeetingOut:
    return await service.cancel(conn, who, meeting_id, body, now=now)


@router.post(
    "/{meeting_id}/rsvp",
    response_model=RsvpOut,
    responses=problem_responses(*OPEN_MEETING, NotInvited, RsvpClosed),
)
async def rsvp(
    meeting_id: UUID, body: RsvpIn, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> RsvpOut:
    return await service.rsvp(conn, who, meeting_id, body, now=now)


@router.get(
    "/{meeting_id}/checkin-code",
    response_model=CheckinCodeOut,
    responses=problem_responses(*OPEN_MEETING, Forbidden, OutsideWindow),
)
async def checkin_code(
    meeting_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
    response: Response,
    svg: Annotated[
        bool, Query(description="Kèm ảnh QR (SVG); false khi ứng dụng tự vẽ QR từ qr_payload")
    ] = True,
) -> CheckinCodeOut:
    """Mã điểm danh hiện tại (đổi sau mỗi ``step_seconds`` giây) và ảnh QR (SVG)."""
    response.headers.update(NO_STORE)
    return await service.checkin_code(conn, who, meeting_id, now=now, settings=settings, svg=svg)


@router.post(
    "/{meeting_id}/checkin",
    response_model=AttendanceOut,
    responses=problem_responses(
        *OPEN_MEETING, NotInvited, OutsideWindow, CodeExpired, CodeInvalid, MemberExempt
    ),
)
async def checkin(
    meeting_id: UUID,
    body: CheckinIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
) -> AttendanceOut:
    return await service.check_in(conn, who, meeting_id, body, now=now, settings=settings)


@router.post(
    "/{meeting_id}/attendance/{member_id}",
    response_model=AttendanceOut,
    responses=problem_responses(*OPEN_MEETING, Forbidden, NotInvited, MemberExempt, OutsideWindow),
)
async def mark_attendance(
    meeting_id: UUID,
    member_id: UUID,
    body: AttendanceMark,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
) -> AttendanceOut:
    return await service.mark(conn, who, meeting_id, member_id, body, now=now, settings=settings)


@router.post(
    "/{meeting_id}/close",
    response_model=MeetingOut,
    responses=problem_responses(*OPEN_MEETING, Forbidden, MeetingNotStarted),
)
async def close_meeting(
    meeting_id: UUID, who: CurrentPrincipal, conn: DbConnection, now: Now, settings: Settings
) -> MeetingOut:
    """Kết thúc cuộc họp: chốt điểm danh của từng người và tính số lượng cần thiết."""
    return await service.close(conn, who, meeting_id, now=now, settings=settings)


@router.put(
    "/{meeting_id}/roster-labels",
    response_model=RosterLabelsOut,
    responses=problem_responses(MeetingNotFound, Forbidden, InvalidPlan),
    deprecated=True,  # identity's directory names members now; a label is only a fallback
)
async def label_roster(
    meeting_id: UUID, body: RosterLabels, who: CurrentPrincipal, conn: DbConnection
) -> RosterLabelsOut:
    """Tên hiển thị của những người trong danh sách, dùng cho biên bản (chỉ lưu ở dịch vụ
    này, không bao giờ đi vào sự kiện)."""
    return await service.label_roster(conn, who, meeting_id, body)
