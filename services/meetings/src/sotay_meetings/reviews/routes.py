"""HTTP routes of the annual review: ``/api/v1/reviews`` (periods, cells, grading motions, the
cell's proposal, the committee's decision), ``/api/v1/reviews/mine`` and
``…/{period}/self-assessment`` (the member's own) and the grades on a member's record
(``/api/v1/reviews/grades``). All under ``/api/v1/reviews``: the gateway routes by prefix."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sotay_kit.app import DbConnection, SourceAddress
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Forbidden, Unprocessable, problem_responses

from ..deps import Now, Settings
from ..motions.schemas import MotionOut
from ..problems import (
    OPEN_MEETING,
    GradeQuotaExceeded,
    MeetingNotStarted,
    MemberNotFound,
    NotAllVoted,
    NothingToPropose,
    OrgNotFound,
    ReviewClosed,
    ReviewPeriodExists,
    ReviewPeriodNotFound,
)
from . import service
from .schemas import (
    CellProgress,
    CellReview,
    DecisionIn,
    GradeOut,
    GradingMotionIn,
    MyReview,
    PeriodCreate,
    PeriodOut,
    SelfAssessmentIn,
)

router = APIRouter(tags=["reviews"])
_CELL = (ReviewPeriodNotFound, OrgNotFound)


@router.post(
    "/api/v1/reviews",
    status_code=201,
    response_model=PeriodOut,
    responses=problem_responses(OrgNotFound, ReviewPeriodExists, Unprocessable),
)
async def open_period(
    body: PeriodCreate, who: CurrentPrincipal, conn: DbConnection, now: Now, source: SourceAddress
) -> PeriodOut:
    """Mở đợt kiểm điểm, đánh giá, xếp loại đảng viên năm cho tổ chức và cấp dưới."""
    return await service.open_period(conn, who, body, now=now, source=source)


@router.get("/api/v1/reviews", response_model=list[PeriodOut])
async def list_periods(who: CurrentPrincipal, conn: DbConnection) -> list[PeriodOut]:
    """Các đợt kiểm điểm trong phạm vi của tôi (cấp ủy, bí thư chi bộ)."""
    return await service.periods(conn, who)


@router.get(
    "/api/v1/reviews/{period_id}/cells",
    response_model=list[CellProgress],
    responses=problem_responses(ReviewPeriodNotFound),
)
async def progress(
    period_id: UUID, who: CurrentPrincipal, conn: DbConnection
) -> list[CellProgress]:
    """Tiến độ từng chi bộ: tự kiểm điểm, đã biểu quyết, đã đề nghị, đã quyết định."""
    return await service.progress(conn, who, period_id)


@router.get(
    "/api/v1/reviews/{period_id}/cells/{cell_id}",
    response_model=CellReview,
    responses=problem_responses(*_CELL),
)
async def cell_review(
    period_id: UUID, cell_id: UUID, who: CurrentPrincipal, conn: DbConnection
) -> CellReview:
    """Kiểm điểm của chi bộ: bản tự kiểm điểm, kết quả biểu quyết, đề nghị, quyết định."""
    return await service.cell_review(conn, who, period_id, cell_id)


@router.post(
    "/api/v1/reviews/{period_id}/cells/{cell_id}/motions",
    status_code=201,
    response_model=MotionOut,
    responses=problem_responses(
        *_CELL, *OPEN_MEETING, MeetingNotStarted, ReviewClosed, Forbidden, Unprocessable
    ),
)
async def open_grading_motion(
    period_id: UUID,
    cell_id: UUID,
    body: GradingMotionIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
    source: SourceAddress,
) -> MotionOut:
    """Biểu quyết (bỏ phiếu kín) mức xếp loại một đảng viên trong cuộc họp kiểm điểm."""
    return await service.open_grading_motion(
        conn, who, period_id, cell_id, body, now=now, settings=settings, source=source
    )


@router.post(
    "/api/v1/reviews/{period_id}/cells/{cell_id}/proposal",
    response_model=CellReview,
    responses=problem_responses(
        *_CELL, Forbidden, NothingToPropose, NotAllVoted, GradeQuotaExceeded
    ),
)
async def propose(
    period_id: UUID,
    cell_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
) -> CellReview:
    """Chi bộ gửi đề nghị xếp loại theo kết quả biểu quyết lên cấp ủy cấp trên."""
    return await service.propose(conn, who, period_id, cell_id, now=now, source=source)


@router.post(
    "/api/v1/reviews/{period_id}/cells/{cell_id}/decision",
    response_model=CellReview,
    responses=problem_responses(
        *_CELL, Forbidden, NothingToPropose, GradeQuotaExceeded, Unprocessable
    ),
)
async def decide(
    period_id: UUID,
    cell_id: UUID,
    body: DecisionIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
) -> CellReview:
    """Cấp ủy cấp trên quyết định xếp loại: duyệt đề nghị, hoặc đổi mức kèm lý do."""
    return await service.decide(conn, who, period_id, cell_id, body, now=now, source=source)


@router.get("/api/v1/reviews/mine", response_model=list[MyReview])
async def my_reviews(who: CurrentPrincipal, conn: DbConnection, now: Now) -> list[MyReview]:
    """Các đợt kiểm điểm của tôi và bản tự kiểm điểm đã nộp."""
    return await service.my_reviews(conn, who, now=now)


@router.put(
    "/api/v1/reviews/{period_id}/self-assessment",
    response_model=MyReview,
    responses=problem_responses(ReviewPeriodNotFound, ReviewClosed),
)
async def submit_self_assessment(
    period_id: UUID, body: SelfAssessmentIn, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> MyReview:
    """Nộp (hoặc sửa, trước hạn) bản tự kiểm điểm và mức tự xếp loại."""
    return await service.submit_self_assessment(conn, who, period_id, body, now=now)


@router.get(
    "/api/v1/reviews/grades",
    response_model=list[GradeOut],
    responses=problem_responses(MemberNotFound),
)
async def grades(
    who: CurrentPrincipal,
    conn: DbConnection,
    member_id: Annotated[
        UUID | None, Query(description="A member in your reach; by default yourself.")
    ] = None,
) -> list[GradeOut]:
    """Kết quả xếp loại chất lượng các năm (của tôi, hoặc của đảng viên trong phạm vi)."""
    if member_id is None or member_id == who.member_id:
        return await service.my_grades(conn, who)
    return await service.member_grades(conn, who, member_id)
